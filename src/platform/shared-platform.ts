import { Duration, Stack, Tags, Token } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { validateProps } from './checks';
import { PlatformContract } from './contract';
import { EnvironmentResources } from './environment-resources';
import { createArtifactsBucket, createLogsBucket, createPlatformKey } from './key-and-buckets';
import { S3_ACCESS_LOGS_PREFIX } from './log-delivery';
import { createVpc } from './network';
import {
  allocatorParameterName,
  listenerParameterName,
  loadBalancerSecurityGroupParameterName,
} from './older-parameters';
import {
  ISharedPlatform,
  PlatformReference,
  PlatformServiceRoles,
  SharedListenerCertificates,
  SharedLoadBalancer,
} from './platform-reference';
import { publishContract } from './publish-contract';
import { createServiceRoles } from './service-roles';
import { createSharedLoadBalancers } from './shared-load-balancers';
import { leaveOutCreationStackTraces } from '../config/creation-traces';
import { checkPlatform } from '../config/loader';
import { EnvironmentConfig, PlatformConfig } from '../config/types';
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
  /**
   * Certificates of customers' custom domains on shared ingress, per shared load balancer: each is added once to its
   * HTTPS listener, owned by the platform (VendingFleet sets them from the fleet's files and placement).
   * @default - none
   */
  readonly listenerCertificates?: SharedListenerCertificates[];
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
   * The environments the platform offers its customers, and which are production: customer configs are checked
   * against them and get their production safeguards from them.
   * @default - production (production: true), staging and development
   */
  readonly environments?: EnvironmentConfig[];
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
   * NAT instances (cheaper, yours to patch) instead of NAT gateways (managed, more throughput) in the new VPC. NAT
   * instances need `natInstanceImage`; they get termination protection and a recovery alarm. Switching a running
   * platform from one to the other replaces its NAT (egress of the private subnets stops during the update).
   * @default false
   */
  readonly natInstances?: boolean;
  /**
   * The image of the NAT instances, pinned: an AMI id known at synth time (`ec2.MachineImage.genericLinux`), never
   * one resolved at deploy time from an SSM parameter, which would replace every NAT instance at the first deploy
   * after each new release. Required with `natInstances`; an arm64 image for the default t4g.nano.
   * @default - none: NAT gateways need no image
   */
  readonly natInstanceImage?: ec2.IMachineImage;
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
  /**
   * Certificates of customers' custom domains on shared ingress, per shared load balancer: each is added once to its
   * HTTPS listener, owned by the platform (VendingFleet sets them from the fleet's files and placement).
   * @default - none
   */
  readonly listenerCertificates?: SharedListenerCertificates[];
}

export { MAX_SHARED_LOAD_BALANCERS } from './checks';

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
      environments: resolved.environments,
      certificate: acm.Certificate.fromCertificateArn(scope, `${id}Certificate`, resolved.certificateArn),
      ...(options.vpc
        ? { vpc: options.vpc }
        : {
            vpcCidr: resolved.vpc.cidr,
            ...(resolved.vpc.availabilityZones
              ? { availabilityZones: resolved.vpc.availabilityZones }
              : { maxAzs: resolved.vpc.maxAzs }),
            natInstances: resolved.vpc.natInstances,
            ...(resolved.vpc.natInstanceImageId
              ? {
                  natInstanceImage: ec2.MachineImage.genericLinux({
                    [resolved.region]: resolved.vpc.natInstanceImageId,
                  }),
                }
              : {}),
            natInstanceType: options.natInstanceType,
          }),
      deletionProtection: options.deletionProtection,
      sslPolicy: options.sslPolicy,
      logRetention: options.logRetention,
      publishParameters: options.publishParameters,
      sharedLoadBalancers: options.sharedLoadBalancers,
      listenerCertificates: options.listenerCertificates,
    });
  }

  /** SSM parameter that holds the allocator's ARN (`PriorityAllocator.fromParameter` reads it). */
  public static allocatorParameterName(platformName: string): string {
    return allocatorParameterName(platformName);
  }

  /**
   * SSM parameter that holds a shared HTTPS listener's ARN.
   * @param loadBalancerNumber which shared load balancer, from 1
   */
  public static listenerParameterName(platformName: string, loadBalancerNumber: number = 1): string {
    return listenerParameterName(platformName, loadBalancerNumber);
  }

  /**
   * SSM parameter that holds a shared load balancer's security group id.
   * @param loadBalancerNumber which shared load balancer, from 1
   */
  public static loadBalancerSecurityGroupParameterName(platformName: string, loadBalancerNumber: number = 1): string {
    return loadBalancerSecurityGroupParameterName(platformName, loadBalancerNumber);
  }

  public readonly platformName: string;
  public readonly production: boolean;
  /** Domain of the customers' default host names, when given. */
  public readonly domain?: string;
  /** The environments the platform offers, and which are production, when given. */
  public readonly environments?: EnvironmentConfig[];
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
  /** The roles AWS services assume for every environment of the platform (RDS monitoring, CodeDeploy, EventBridge). */
  public readonly serviceRoles?: PlatformServiceRoles;
  /**
   * ARN of the function that serves customer environments' other custom resources (each web tier's image parameter):
   * a fixed name, so that it never changes for the resources that use it. Always set on a SharedPlatform (optional
   * only because `ISharedPlatform`, which other platforms implement, declares it so).
   */
  public readonly environmentResourcesServiceToken?: string;
  /**
   * How customer environments in other stacks or apps reach this platform: through its published contract, with a
   * dependency on this platform's stack when they are in the same app.
   */
  public readonly reference: PlatformReference;

  public constructor(scope: Construct, id: string, props: SharedPlatformProps) {
    super(scope, id);
    leaveOutCreationStackTraces(this);
    validateProps(`SharedPlatform ${this.node.path}`, props, Stack.of(this));
    this.platformName = props.platformName;
    this.production = props.production ?? false;
    this.domain = props.domain;
    this.environments = props.environments;
    Tags.of(this).add('vending:platform', props.platformName);

    // The steps in the order of their constructs, which is the order of the resources in the template.
    const key = createPlatformKey(this, props.platformName);
    this.key = key;
    const logs = createLogsBucket(this, props.platformName, props.logRetention ?? Duration.days(365));
    this.logsBucket = logs.byName;
    const artifacts = createArtifactsBucket(this, props.platformName, key, logs.bucket);
    this.artifactsBucket = artifacts.byName;
    this.vpc = props.vpc ?? createVpc(this, props, this.production, logs.bucket);

    const publish = props.publishParameters ?? true;
    const front = createSharedLoadBalancers(this, {
      platformName: props.platformName,
      count: props.sharedLoadBalancers ?? 1,
      vpc: this.vpc,
      certificate: props.certificate,
      sslPolicy: props.sslPolicy,
      deletionProtection: props.deletionProtection,
      logsBucket: logs.bucket,
      logsBucketByName: this.logsBucket,
      publishParameters: publish,
      listenerCertificates: props.listenerCertificates,
    });
    this.sharedLoadBalancers = front.sharedLoadBalancers;
    const first = this.sharedLoadBalancers[0];
    this.loadBalancer = first.loadBalancer;
    this.loadBalancerSecurityGroup = first.securityGroup;
    this.httpListener = front.firstHttpListener;
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
    const serviceRoles = createServiceRoles(this);
    // What an environment sees: no grant of a customer stack adds a statement to a role of the whole platform (a
    // grant would also make the platform's stack depend on the customer's).
    this.serviceRoles = {
      databaseMonitoringRole: serviceRoles.databaseMonitoringRole.withoutPolicyUpdates(),
      deploymentRole: serviceRoles.deploymentRole.withoutPolicyUpdates(),
      pipelineEventsRole: serviceRoles.pipelineEventsRole.withoutPolicyUpdates(),
    };
    const environmentResources = new EnvironmentResources(this, 'EnvironmentResources', {
      vpc: this.vpc,
      encryptionKey: key,
      functionName: PlatformContract.environmentResourcesFunctionName(props.platformName),
      retainLogs: this.production,
    });
    this.environmentResourcesServiceToken = environmentResources.serviceToken;
    if (publish) {
      publishContract(this, {
        serviceRoles,
        platformName: this.platformName,
        vpc: this.vpc,
        key: this.key,
        logsBucketName: logs.name,
        artifactsBucketName: artifacts.name,
        allocatorFunction: this.allocator.function,
        environmentResourcesFunction: environmentResources.function,
        sharedLoadBalancers: this.sharedLoadBalancers,
      });
    }
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
}
