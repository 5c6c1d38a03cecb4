import { ArnFormat, Duration, RemovalPolicy, Stack, Tags, Token } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { allocatorServiceToken, CONTRACT_TIERS, pascalCase, PlatformContract } from './contract';
import { ALB_ACCESS_LOGS_PREFIX, createDataBucket, notifyEventBridge, S3_ACCESS_LOGS_PREFIX } from './log-delivery';
import { ISharedPlatform, PlatformReference, SharedLoadBalancer } from './platform-reference';
import { createPublicLoadBalancer } from './public-load-balancer';
import { checkPlatform } from '../config/loader';
import { PlatformConfig } from '../config/types';
import { IPriorityAllocator, PriorityAllocator } from '../shared-alb-rule/priority-allocator';

/** What a platform config does not say, for `SharedPlatform.fromConfig`. */
export interface SharedPlatformConfigOptions {
  /**
   * An existing VPC instead of the config's network.
   * @default - a new VPC from the config
   */
  readonly vpc?: ec2.IVpc;
  /**
   * Instance type of NAT instances.
   * @default t4g.nano
   */
  readonly natInstanceType?: ec2.InstanceType;
  /**
   * Deletion protection of the shared load balancer.
   * @default true
   */
  readonly deletionProtection?: boolean;
  /**
   * TLS policy of the HTTPS listener.
   * @default elbv2.SslPolicy.RECOMMENDED_TLS
   */
  readonly sslPolicy?: elbv2.SslPolicy;
  /**
   * How long logs are kept in the logs bucket.
   * @default Duration.days(365)
   */
  readonly logRetention?: Duration;
  /**
   * Publish the allocator's and the listener's ARNs in SSM parameters.
   * @default true
   */
  readonly publishParameters?: boolean;
  /**
   * How many shared load balancers to create (VendingFleet sets it from the fleet's placement).
   * @default 1
   */
  readonly sharedLoadBalancers?: number;
}

/** Props of SharedPlatform. */
export interface SharedPlatformProps {
  /**
   * Platform name: prefix of names, the `vending:platform` tag and the SSM parameter paths.
   * 3 to 32 lower-case letters, digits or hyphens, starting with a letter.
   */
  readonly platformName: string;
  /**
   * A production platform: the allocator's state is kept and protected, a NAT per Availability Zone, and
   * at least two Availability Zones.
   * @default false
   */
  readonly production?: boolean;
  /** The shared load balancer's default certificate, normally a wildcard for `*.<domain>`. */
  readonly certificate: acm.ICertificate;
  /**
   * Domain under which customers get their default host name (informational; see `domain`).
   * @default - none
   */
  readonly domain?: string;
  /**
   * An existing VPC with public subnets (load balancer), private subnets with egress (instances) and
   * isolated subnets (databases). `vpcCidr`, `maxAzs` and `natInstances` do not apply to it.
   * @default - a new VPC
   */
  readonly vpc?: ec2.IVpc;
  /**
   * IPv4 range of the new VPC, /16 to /20.
   * @default "10.10.0.0/16"
   */
  readonly vpcCidr?: string;
  /**
   * Availability Zones of the new VPC (2 to 6).
   * @default 3
   */
  readonly maxAzs?: number;
  /**
   * The new VPC's Availability Zones by name (2 to 6, in the stack's region), instead of `maxAzs`: the VPC then
   * needs no lookup in the account at synth time.
   * @default - the first `maxAzs` zones of the account, looked up by the AWS CDK CLI
   */
  readonly availabilityZones?: string[];
  /**
   * NAT instances (cheaper) instead of NAT gateways (managed, more throughput) in the new VPC.
   * @default true
   */
  readonly natInstances?: boolean;
  /**
   * Instance type of NAT instances.
   * @default t4g.nano
   */
  readonly natInstanceType?: ec2.InstanceType;
  /**
   * Deletion protection of the shared load balancer. On in every environment by default, as the AWS Control
   * Tower control CT.ELASTICLOADBALANCING.PR.5 asks: the load balancer carries every customer of the
   * platform. Turn it off for a platform meant to be thrown away.
   * @default true
   */
  readonly deletionProtection?: boolean;
  /**
   * TLS policy of the HTTPS listener.
   * @default elbv2.SslPolicy.RECOMMENDED_TLS (TLS 1.3 and 1.2)
   */
  readonly sslPolicy?: elbv2.SslPolicy;
  /**
   * How long logs (load balancer access logs, S3 access logs, VPC flow logs) are kept in the logs bucket.
   * @default Duration.days(365)
   */
  readonly logRetention?: Duration;
  /**
   * Publish the platform contract: the SSM parameters under `/vending/<platformName>/v1/` that customer environments
   * read through a `PlatformReference` (README, "The platform contract"), and the older allocator and listener
   * parameters under `/vending/<platformName>/`. Without it, only stacks that hold the SharedPlatform itself can use it.
   * @default true
   */
  readonly publishParameters?: boolean;
  /**
   * How many shared load balancers: each holds at most 100 customer environments (100 target groups is a hard
   * AWS limit, and the allocator keeps each listener at 100 rules). All have the same certificate, TLS policy,
   * access logs and deletion protection, and one allocator serves them all. Lowering the number deletes the
   * last ones, which deletion protection refuses while it is on.
   * @default 1
   */
  readonly sharedLoadBalancers?: number;
}

/** The most shared load balancers of one platform (an account has 50 load balancers per region by default). */
export const MAX_SHARED_LOAD_BALANCERS = 20;

/** Where VPC flow logs go in the logs bucket. */
const FLOW_LOGS_PREFIX = 'vpc-flow-logs/';
const PLATFORM_NAME = /^(?!.*--)[a-z][a-z0-9-]{1,30}[a-z0-9]$/;
const CIDR = /^((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\/(1[6-9]|20)$/;

/**
 * The services that all customer environments of one platform share (one per platform and
 * environment): the VPC, the platform's KMS key, the artifacts bucket and the logs bucket, the shared
 * internet-facing load balancer, and the ALB rule priority allocator.
 *
 * @example
 * const platform = new SharedPlatform(this, 'Platform', {
 *   platformName: 'acme-hosting',
 *   production: true,
 *   certificate: acm.Certificate.fromCertificateArn(this, 'Wildcard',
 *     'arn:aws:acm:eu-west-1:123456789012:certificate/11111111-2222-3333-4444-555555555555'),
 * });
 */
export class SharedPlatform extends Construct implements ISharedPlatform {
  /** Prefix under which S3 server access logs of any bucket of the account may be written to the logs bucket. */
  public static readonly S3_ACCESS_LOGS_PREFIX = S3_ACCESS_LOGS_PREFIX;

  /**
   * A SharedPlatform from a platform config (as in `platform.yaml`). The config is validated first;
   * the stack's region and account, when known, must be the config's.
   * @param options what the config does not say (an existing VPC, TLS policy, ...)
   */
  public static fromConfig(
    scope: Construct,
    id: string,
    config: PlatformConfig,
    options: SharedPlatformConfigOptions = {},
  ): SharedPlatform {
    const resolved = checkPlatform(config, `SharedPlatform.fromConfig ${scope.node.path}/${id}`);
    const stack = Stack.of(scope);
    for (const [what, actual, expected] of [
      ['region', stack.region, resolved.region],
      ['account', stack.account, resolved.account],
    ] as const) {
      if (!Token.isUnresolved(actual) && actual !== expected) {
        throw new Error(
          `SharedPlatform.fromConfig ${scope.node.path}/${id}: ${what}: the stack is in ${actual} but the platform ` +
            `config says ${expected}; expected the stack's ${what} to be the platform's`,
        );
      }
    }
    return new SharedPlatform(scope, id, {
      platformName: resolved.name,
      production: resolved.production,
      domain: resolved.domain,
      certificate: acm.Certificate.fromCertificateArn(scope, `${id}Certificate`, resolved.certificateArn),
      ...(options.vpc
        ? { vpc: options.vpc }
        : {
            vpcCidr: resolved.vpc.cidr,
            ...(resolved.vpc.availabilityZones
              ? { availabilityZones: resolved.vpc.availabilityZones }
              : { maxAzs: resolved.vpc.maxAzs }),
            natInstances: resolved.vpc.natInstances,
            natInstanceType: options.natInstanceType,
          }),
      deletionProtection: options.deletionProtection,
      sslPolicy: options.sslPolicy,
      logRetention: options.logRetention,
      publishParameters: options.publishParameters,
      sharedLoadBalancers: options.sharedLoadBalancers,
    });
  }

  /** SSM parameter that holds the allocator's ARN (`PriorityAllocator.fromParameter` reads it). */
  public static allocatorParameterName(platformName: string): string {
    return `/vending/${platformName}/priority-allocator-arn`;
  }

  /**
   * SSM parameter that holds a shared HTTPS listener's ARN.
   * @param loadBalancerNumber which shared load balancer, from 1
   */
  public static listenerParameterName(platformName: string, loadBalancerNumber: number = 1): string {
    return `/vending/${platformName}/https-listener-arn${numberSuffix(loadBalancerNumber)}`;
  }

  /**
   * SSM parameter that holds a shared load balancer's security group id.
   * @param loadBalancerNumber which shared load balancer, from 1
   */
  public static loadBalancerSecurityGroupParameterName(platformName: string, loadBalancerNumber: number = 1): string {
    return `/vending/${platformName}/load-balancer-security-group-id${numberSuffix(loadBalancerNumber)}`;
  }

  public readonly platformName: string;
  public readonly production: boolean;
  /** Domain of the customers' default host names, when given. */
  public readonly domain?: string;
  public readonly vpc: ec2.IVpc;
  /** Key of the platform's buckets, state and logs; customer constructs may use it too. */
  public readonly key: kms.IKey;
  /**
   * Pipeline artifacts and other platform files: KMS-encrypted with `key`, versioned. Named
   * `<platform>-artifacts-<account>-<region>`, so other stacks use it by name (with its key), without an export.
   */
  public readonly artifactsBucket: s3.IBucket;
  /**
   * Load balancer access logs, S3 server access logs (under `S3_ACCESS_LOGS_PREFIX`) and VPC flow logs.
   * Encrypted with S3-managed keys, the only encryption ALB and S3 log delivery accept.
   */
  public readonly logsBucket: s3.IBucket;
  /** The first shared load balancer (`sharedLoadBalancers[0]`). */
  public readonly loadBalancer: elbv2.IApplicationLoadBalancer;
  /** Security group of the first shared load balancer. */
  public readonly loadBalancerSecurityGroup: ec2.ISecurityGroup;
  /** Port 443 of the first shared load balancer: customers' rules go here. */
  public readonly httpsListener: elbv2.IApplicationListener;
  /** Port 80 of the first shared load balancer: redirects to HTTPS. */
  public readonly httpListener: elbv2.IApplicationListener;
  /** All shared load balancers, the first one first. */
  public readonly sharedLoadBalancers: SharedLoadBalancer[];
  /** Serves SharedAlbRule custom resources of any stack. */
  public readonly allocator: PriorityAllocator;
  /**
   * How customer environments in other stacks or apps reach this platform: through its published contract, with a
   * dependency on this platform's stack when they are in the same app.
   */
  public readonly reference: PlatformReference;

  public constructor(scope: Construct, id: string, props: SharedPlatformProps) {
    super(scope, id);
    const where = `SharedPlatform ${this.node.path}`;
    const stack = Stack.of(this);
    validateProps(where, props, stack);
    this.platformName = props.platformName;
    this.production = props.production ?? false;
    this.domain = props.domain;
    Tags.of(this).add('vending:platform', props.platformName);

    const key = new kms.Key(this, 'Key', {
      description: `cdk-paas-vending platform ${props.platformName}: buckets, state and logs`,
      enableKeyRotation: true,
      // Data encrypted with it outlives the stack (retained buckets): never schedule its deletion.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchLogsOfThisAccount',
        principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        resources: ['*'],
        conditions: {
          ArnLike: {
            'kms:EncryptionContext:aws:logs:arn': stack.formatArn({
              service: 'logs',
              resource: 'log-group',
              resourceName: '*',
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          },
        },
      }),
    );
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'GrantsOnlyForAwsResources',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['kms:CreateGrant'],
        resources: ['*'],
        conditions: {
          BoolIfExists: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' },
        },
      }),
    );
    this.key = key;

    const logRetention = props.logRetention ?? Duration.days(365);
    const logsBucketName = PlatformContract.bucketName(props.platformName, 'logs', stack.account, stack.region);
    const logsBucket = new s3.Bucket(this, 'LogsBucket', {
      // A name known at synth time: customer stacks point their access logs at it without an import, which
      // Control Tower's proactive controls can then check (CT.S3.PR.2, CT.ELASTICLOADBALANCING.PR.6).
      bucketName: logsBucketName,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      lifecycleRules: [
        {
          id: 'expire-logs',
          // S3 wants expiration after the move to Infrequent Access (itself 30 days at the earliest).
          transitions:
            logRetention.toDays() > 30
              ? [{ storageClass: s3.StorageClass.INFREQUENT_ACCESS, transitionAfter: Duration.days(30) }]
              : [],
          expiration: logRetention,
          noncurrentVersionExpiration: Duration.days(7),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    notifyEventBridge(logsBucket);
    logsBucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'S3ServerAccessLogsOfThisAccount',
        principals: [new iam.ServicePrincipal('logging.s3.amazonaws.com')],
        actions: ['s3:PutObject'],
        resources: [logsBucket.arnForObjects(`${SharedPlatform.S3_ACCESS_LOGS_PREFIX}*`)],
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
    );
    // VPC flow logs: written explicitly (aws-cdk-lib adds it only under an app feature flag; without it AWS adds
    // the statement at delivery and the next policy update from this stack removes it).
    logsBucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'VpcFlowLogsOfThisAccount',
        principals: [new iam.ServicePrincipal('delivery.logs.amazonaws.com')],
        actions: ['s3:PutObject'],
        resources: [logsBucket.arnForObjects(`${FLOW_LOGS_PREFIX}AWSLogs/${stack.account}/*`)],
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
    );
    logsBucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'VpcFlowLogsBucketCheck',
        principals: [new iam.ServicePrincipal('delivery.logs.amazonaws.com')],
        actions: ['s3:GetBucketAcl', 's3:ListBucket'],
        resources: [logsBucket.bucketArn],
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
    );
    // Other stacks see the bucket by its name (no cross-stack export); this stack creates it first.
    const logsBucketByName = s3.Bucket.fromBucketName(this, 'LogsBucketByName', logsBucketName);
    logsBucketByName.node.addDependency(logsBucket);
    this.logsBucket = logsBucketByName;

    const artifactsBucketName = PlatformContract.bucketName(
      props.platformName,
      'artifacts',
      stack.account,
      stack.region,
    );
    const artifactsBucket = createDataBucket(this, 'ArtifactsBucket', {
      bucketName: artifactsBucketName,
      encryptionKey: key,
      logsBucket,
      logName: 'artifacts',
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // Pipelines in customer stacks see the bucket by its name too, with the key that encrypts it.
    const artifactsBucketByName = s3.Bucket.fromBucketAttributes(this, 'ArtifactsBucketByName', {
      bucketName: artifactsBucketName,
      encryptionKey: key,
    });
    artifactsBucketByName.node.addDependency(artifactsBucket);
    this.artifactsBucket = artifactsBucketByName;

    this.vpc = props.vpc ?? this.createVpc(props, logsBucket);

    const publish = props.publishParameters ?? true;
    this.sharedLoadBalancers = [];
    let firstHttpListener: elbv2.IApplicationListener | undefined;
    for (let number = 1; number <= (props.sharedLoadBalancers ?? 1); number++) {
      // The first keeps the ids it had before there could be several, so that no existing load balancer is replaced.
      const parent = number === 1 ? this : new Construct(this, `SharedLoadBalancer${number}`);
      const which = number === 1 ? '' : ` ${number}`;
      const front = createPublicLoadBalancer(parent, {
        vpc: this.vpc,
        owner: `Shared load balancer${which} of platform ${props.platformName}`,
        certificate: props.certificate,
        sslPolicy: props.sslPolicy,
        deletionProtection: props.deletionProtection,
        logsBucket: this.logsBucket,
        sharedByOtherStacks: true,
      });
      if (number === 1) {
        // Lets every shared load balancer, and customers' dedicated ones, deliver access logs (same prefix).
        front.loadBalancer.logAccessLogs(logsBucket, ALB_ACCESS_LOGS_PREFIX);
      } else {
        // A load balancer checks at creation that it may write its access logs: after the policy that allows it.
        front.loadBalancer.node.addDependency(logsBucket.policy!);
      }
      this.sharedLoadBalancers.push({ number, ...front });
      firstHttpListener ??= front.httpListener;
      if (publish) {
        new ssm.StringParameter(parent, 'ListenerParameter', {
          parameterName: SharedPlatform.listenerParameterName(props.platformName, number),
          stringValue: front.httpsListener.listenerArn,
          description: `Shared HTTPS listener${which} of platform ${props.platformName}`,
        });
        new ssm.StringParameter(parent, 'SecurityGroupParameter', {
          parameterName: SharedPlatform.loadBalancerSecurityGroupParameterName(props.platformName, number),
          stringValue: front.securityGroup.securityGroupId,
          description: `Security group of the shared load balancer${which} of platform ${props.platformName}`,
        });
      }
    }
    const first = this.sharedLoadBalancers[0];
    this.loadBalancer = first.loadBalancer;
    this.loadBalancerSecurityGroup = first.securityGroup;
    this.httpListener = firstHttpListener!;
    this.httpsListener = first.httpsListener;

    this.allocator = new PriorityAllocator(this, 'PriorityAllocator', {
      loadBalancers: this.sharedLoadBalancers.map((shared) => shared.loadBalancer),
      vpc: this.vpc,
      encryptionKey: key,
      retainState: this.production,
      parameterName: publish ? SharedPlatform.allocatorParameterName(props.platformName) : undefined,
      // A fixed name: the ARN is every customer rule's ServiceToken, which no stack update may change.
      functionName: PlatformContract.allocatorFunctionName(props.platformName),
    });
    if (publish) this.publishContract(logsBucketName, artifactsBucketName);
    this.reference = PlatformReference._ofSharedPlatform(this, this.vpc.availabilityZones.length, publish);
  }

  /** The allocator, as the constructs of a customer environment see it (`ISharedPlatform`). */
  public get priorityAllocator(): IPriorityAllocator {
    return this.allocator;
  }

  /**
   * A shared load balancer by its number, from 1 (as in `placement.yaml`).
   * @param loadBalancerNumber 1 to `sharedLoadBalancers.length`
   */
  public sharedLoadBalancer(loadBalancerNumber: number): SharedLoadBalancer {
    const found = this.sharedLoadBalancers.find((shared) => shared.number === loadBalancerNumber);
    if (!found) {
      throw new Error(
        `SharedPlatform ${this.node.path}: shared load balancer: received ${loadBalancerNumber}; expected a number ` +
          `from 1 to ${this.sharedLoadBalancers.length} (the platform's sharedLoadBalancers)`,
      );
    }
    return found;
  }

  /** The SSM parameters of the platform contract, under `/vending/<platform>/v1/`. */
  private publishContract(logsBucketName: string, artifactsBucketName: string): void {
    const name = this.platformName;
    const contract = new Construct(this, 'Contract');
    const publish = (id: string, parameterName: string, value: string | string[], what: string) => {
      const description = `Platform contract of ${name} (cdk-paas-vending): ${what}`;
      if (Array.isArray(value)) {
        new ssm.StringListParameter(contract, id, { parameterName, stringListValue: value, description });
      } else {
        new ssm.StringParameter(contract, id, { parameterName, stringValue: value, description });
      }
    };
    const tiers = {
      public: this.vpc.publicSubnets,
      private: this.vpc.privateSubnets,
      isolated: this.vpc.isolatedSubnets,
    };
    publish('VpcId', PlatformContract.vpcIdParameter(name), this.vpc.vpcId, 'VPC id');
    // The zones as the subnets report them: the same order as each tier's subnet ids.
    publish(
      'AvailabilityZones',
      PlatformContract.availabilityZonesParameter(name),
      tiers.private.map(zoneOf),
      'Availability Zones of the VPC, in the order of the subnet lists',
    );
    for (const tier of CONTRACT_TIERS) {
      // An existing VPC may lack a tier: nothing is published for it (and what needs it fails at deploy, by name).
      if (tiers[tier].length === 0) continue;
      publish(
        `${pascalCase(tier)}SubnetIds`,
        PlatformContract.subnetIdsParameter(name, tier),
        tiers[tier].map((subnet) => subnet.subnetId),
        `${tier} subnet ids, one per Availability Zone`,
      );
    }
    publish('KeyArn', PlatformContract.keyArnParameter(name), this.key.keyArn, 'platform key ARN');
    publish(
      'ArtifactsBucket',
      PlatformContract.artifactsBucketParameter(name),
      artifactsBucketName,
      'artifacts bucket',
    );
    publish('LogsBucket', PlatformContract.logsBucketParameter(name), logsBucketName, 'logs bucket');
    const stack = Stack.of(this);
    const token = allocatorServiceToken(stack, name, stack.account, stack.region);
    const allocator = new ssm.StringParameter(contract, 'AllocatorServiceToken', {
      parameterName: PlatformContract.allocatorServiceTokenParameter(name),
      stringValue: token,
      description: `Platform contract of ${name} (cdk-paas-vending): ServiceToken of the rule priority allocator`,
    });
    allocator.node.addDependency(this.allocator.function);
    for (const shared of this.sharedLoadBalancers) {
      const n = shared.number;
      const attributes: [string, string, string][] = [
        ['arn', shared.loadBalancer.loadBalancerArn, 'ARN'],
        ['dns-name', shared.loadBalancer.loadBalancerDnsName, 'DNS name'],
        ['canonical-hosted-zone-id', shared.loadBalancer.loadBalancerCanonicalHostedZoneId, 'canonical hosted zone id'],
        ['security-group-id', shared.securityGroup.securityGroupId, 'security group id'],
        ['https-listener-arn', shared.httpsListener.listenerArn, 'HTTPS listener ARN'],
      ];
      for (const [attribute, value, what] of attributes) {
        publish(
          `LoadBalancer${n}${pascalCase(attribute)}`,
          PlatformContract.sharedLoadBalancerParameter(name, n, attribute),
          value,
          `${what} of shared load balancer ${n}`,
        );
      }
    }
  }

  private createVpc(props: SharedPlatformProps, logsBucket: s3.IBucket): ec2.Vpc {
    const cidr = props.vpcCidr ?? '10.10.0.0/16';
    const prefix = Number(cidr.split('/')[1]);
    const maxAzs = props.availabilityZones?.length ?? props.maxAzs ?? 3;
    const natInstances = props.natInstances ?? true;
    const natInstanceType = props.natInstanceType ?? ec2.InstanceType.of(ec2.InstanceClass.T4G, ec2.InstanceSize.NANO);
    const natProvider = natInstances
      ? ec2.NatProvider.instanceV2({
          instanceType: natInstanceType,
          defaultAllowedTraffic: ec2.NatTrafficDirection.OUTBOUND_ONLY,
          associatePublicIpAddress: true,
        })
      : ec2.NatProvider.gateway();
    const vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr(cidr),
      ...(props.availabilityZones ? { availabilityZones: props.availabilityZones } : { maxAzs }),
      natGatewayProvider: natProvider,
      // One NAT per AZ keeps production's egress up when an AZ fails; one is enough elsewhere.
      natGateways: this.production ? maxAzs : 1,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: prefix + 6, mapPublicIpOnLaunch: false },
        { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: prefix + 3 },
        { name: 'isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: prefix + 6 },
      ],
      // Restricting the default security group needs a custom-resource Lambda; nothing here uses it.
      restrictDefaultSecurityGroup: false,
      flowLogs: {
        all: {
          destination: ec2.FlowLogDestination.toS3(logsBucket, FLOW_LOGS_PREFIX),
          trafficType: ec2.FlowLogTrafficType.ALL,
        },
      },
    });
    if (natProvider instanceof ec2.NatInstanceProviderV2) {
      natProvider.connections.allowFrom(ec2.Peer.ipv4(cidr), ec2.Port.allTraffic(), 'From the VPC');
      natProvider.gatewayInstances.forEach(hardenNatInstance);
    }
    // Free gateway endpoints: S3 and DynamoDB traffic stays off the NAT.
    vpc.addGatewayEndpoint('S3Endpoint', { service: ec2.GatewayVpcEndpointAwsService.S3 });
    vpc.addGatewayEndpoint('DynamoDbEndpoint', { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB });
    return vpc;
  }
}

/** Parameter names of the first shared load balancer have no number, as before there could be several. */
function numberSuffix(loadBalancerNumber: number): string {
  return loadBalancerNumber === 1 ? '' : `-${loadBalancerNumber}`;
}

/** A subnet's zone, from the subnet resource when it is one of this app (no zone name written into a template). */
function zoneOf(subnet: ec2.ISubnet): string {
  const cfn = subnet.node.defaultChild;
  return cfn instanceof ec2.CfnSubnet ? cfn.attrAvailabilityZone : subnet.availabilityZone;
}

/** Encrypted root volume, IMDSv2 only, detailed monitoring: what the NAT provider leaves out. */
function hardenNatInstance(instance: ec2.Instance): void {
  const cfn = instance.instance;
  cfn.monitoring = true;
  cfn.blockDeviceMappings = [
    { deviceName: '/dev/xvda', ebs: { encrypted: true, volumeType: 'gp3', deleteOnTermination: true } },
  ];
  cfn.addPropertyOverride('MetadataOptions', {
    HttpTokens: 'required',
    HttpPutResponseHopLimit: 1,
    HttpEndpoint: 'enabled',
  });
}

function validateProps(where: string, props: SharedPlatformProps, stack: Stack): void {
  if (!Token.isUnresolved(props.platformName) && !PLATFORM_NAME.test(props.platformName)) {
    throw new Error(
      `${where}: platformName: received ${JSON.stringify(props.platformName)}; expected 3 to 32 lower-case ` +
        'letters, digits or hyphens, starting with a letter, without -- and not ending with -',
    );
  }
  if (Token.isUnresolved(stack.region)) {
    throw new Error(
      `${where}: the stack ${stack.node.path} has no region; expected a stack with an explicit env ` +
        "({ account, region }): load balancer access logs are delivered by the region's log service",
    );
  }
  const count = props.sharedLoadBalancers ?? 1;
  if (!Number.isInteger(count) || count < 1 || count > MAX_SHARED_LOAD_BALANCERS) {
    throw new Error(
      `${where}: sharedLoadBalancers: received ${count}; expected a whole number from 1 to ${MAX_SHARED_LOAD_BALANCERS}`,
    );
  }
  if (props.vpc) {
    const given = (['vpcCidr', 'maxAzs', 'availabilityZones', 'natInstances', 'natInstanceType'] as const).filter(
      (k) => props[k] !== undefined,
    );
    if (given.length > 0) {
      throw new Error(
        `${where}: ${given.join(', ')} apply to a new VPC only; expected either vpc or ${given.join(', ')}, not both`,
      );
    }
    return;
  }
  if (props.vpcCidr !== undefined && !CIDR.test(props.vpcCidr)) {
    throw new Error(
      `${where}: vpcCidr: received ${JSON.stringify(props.vpcCidr)}; expected an IPv4 CIDR from /16 to /20 such as 10.10.0.0/16`,
    );
  }
  if (props.availabilityZones !== undefined) {
    checkZones(where, props.availabilityZones, props.maxAzs, stack);
    return;
  }
  const maxAzs = props.maxAzs ?? 3;
  if (!Number.isInteger(maxAzs) || maxAzs < 1 || maxAzs > 6) {
    throw new Error(`${where}: maxAzs: received ${maxAzs}; expected a whole number from 1 to 6`);
  }
  if (maxAzs < 2) {
    throw new Error(
      `${where}: maxAzs: received ${maxAzs}; expected at least 2: a load balancer and a database need two Availability Zones`,
    );
  }
}

function checkZones(where: string, zones: string[], maxAzs: number | undefined, stack: Stack): void {
  if (maxAzs !== undefined) {
    throw new Error(
      `${where}: maxAzs applies without availabilityZones only; expected either maxAzs or availabilityZones, not both`,
    );
  }
  const expected = Token.isUnresolved(stack.region)
    ? 'an Availability Zone name'
    : `an Availability Zone of ${stack.region}`;
  for (const zone of zones) {
    const region = zone.slice(0, -1);
    if (!/^[a-z]{2}(-[a-z]+)+-\d[a-z]$/.test(zone) || (!Token.isUnresolved(stack.region) && region !== stack.region)) {
      throw new Error(
        `${where}: availabilityZones: received ${JSON.stringify(zone)}; expected ${expected}, such as ${Token.isUnresolved(stack.region) ? 'eu-west-1' : stack.region}a`,
      );
    }
  }
  if (zones.length < 2 || zones.length > 6 || new Set(zones).size !== zones.length) {
    throw new Error(
      `${where}: availabilityZones: received ${JSON.stringify(zones)}; expected 2 to 6 different zones: a load balancer ` +
        'and a database need two',
    );
  }
}
