import { CfnOutput, Duration, RemovalPolicy, Stack, Tags } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { installCodeDeployAgent } from './codedeploy-agent';
import { createDatabase } from './database';
import { WebTierIngress } from './ingress';
import {
  DEFAULT_BASE_IMAGE_PARAMETER,
  ingressOf,
  isProduction,
  resolveCompute,
  resolveHealthCheck,
} from '../config/defaults';
import { checkCustomer } from '../config/loader';
import { ComputeConfig, CustomerConfig, DatabaseConfig, HealthCheckConfig } from '../config/types';
import { ValueRuleName, valueProblem } from '../config/values';
import { createDataBucket } from '../platform/log-delivery';
import { ISharedPlatform } from '../platform/platform-reference';
import { SharedAlbRule } from '../shared-alb-rule/shared-alb-rule';

/** What a customer config does not say, for `CustomerWebTier.fromConfig`. */
export interface CustomerWebTierConfigOptions {
  /**
   * Which of the platform's shared load balancers serves an environment on shared ingress, from 1 (VendingFleet
   * takes it from the fleet's `placement.yaml`). Ignored for a dedicated load balancer.
   * @default 1
   */
  readonly sharedLoadBalancer?: number;
}

/** Props of CustomerWebTier. */
export interface CustomerWebTierProps {
  /** Customer name (lower-case letters, digits, hyphens), used in names, tags and the AMI parameter. */
  readonly customer: string;
  /** Environment name, such as `production` or `staging`. */
  readonly environment: string;
  /**
   * Turns on the production safeguards: at least 2 instances, data bucket kept when the stack is deleted.
   * @default - true when `environment` is "production"
   */
  readonly production?: boolean;
  /** VPC with private subnets with egress (instances), e.g. `SharedPlatform.vpc`. */
  readonly vpc: ec2.IVpc;
  /** Key that encrypts the data bucket, e.g. `SharedPlatform.key`. */
  readonly encryptionKey: kms.IKey;
  /**
   * Bucket that receives the data bucket's S3 access logs (under `s3-access-logs/`) and a dedicated load
   * balancer's access logs (under `alb/`), e.g. `SharedPlatform.logsBucket`.
   */
  readonly logsBucket: s3.IBucket;
  /** A rule on the shared load balancer, or a load balancer of the environment's own. */
  readonly ingress: WebTierIngress;
  /**
   * Instances and scaling.
   * @default - t3.small, 2 to 4 instances in production, 1 to 4 elsewhere, 60% CPU, 20 GiB
   */
  readonly compute?: ComputeConfig;
  /**
   * The load balancer's health check of the instances.
   * @default - GET / every 30 s, 200-399 healthy, 5 s timeout, 2 up and 3 down
   */
  readonly healthCheck?: HealthCheckConfig;
  /**
   * The environment's database: RDS or Aurora in the isolated subnets, reachable from the instances only.
   * @default - no database
   */
  readonly database?: DatabaseConfig;
  /**
   * AMI the instances start on before the AMI pipeline's first bake, written when the stack creates the AMI
   * parameter. The pipeline owns the value afterwards: stack updates leave it alone, unless this prop itself
   * changes.
   * @default - the latest Amazon Linux 2023 (x86_64), from its public SSM parameter
   */
  readonly initialImageId?: string;
  /**
   * Tags of every resource, besides `vending:customer` and `vending:environment`.
   * @default - none
   */
  readonly tags?: { [key: string]: string };
}

/** Amazon Linux 2023 for Graviton instance types. */
const ARM64_BASE_IMAGE_PARAMETER = '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64';

/**
 * A customer environment's web hosting: its data bucket, instances on a launch template in an Auto Scaling
 * group, a target group, and the way in (a rule on the shared load balancer, or a dedicated one).
 *
 * @example
 * declare const platform: SharedPlatform;
 * const web = new CustomerWebTier(this, 'Web', {
 *   customer: 'acme',
 *   environment: 'staging',
 *   vpc: platform.vpc,
 *   encryptionKey: platform.key,
 *   logsBucket: platform.logsBucket,
 *   ingress: WebTierIngress.sharedRule({
 *     listener: platform.httpsListener,
 *     allocator: platform.priorityAllocator,
 *     hostnames: ['acme-staging.apps.example.com'],
 *   }),
 *   compute: { instanceType: 't3.small', maxCapacity: 3 },
 * });
 */
export class CustomerWebTier extends Construct {
  /** The SSM parameter holding the instances' AMI id; the AMI pipeline writes it. */
  public static amiParameterName(customer: string, environment: string): string {
    return `/vending/${customer}/${environment}/ami-id`;
  }

  /**
   * A web tier from a customer config on a platform (a SharedPlatform of the same stack, or a PlatformReference bound in this one): a rule on the shared load balancer, or, for a
   * custom domain in production, a load balancer of its own. The config is validated first.
   * @param options which of the platform's shared load balancers serves it
   */
  public static fromConfig(
    scope: Construct,
    id: string,
    config: CustomerConfig,
    platform: ISharedPlatform,
    options: CustomerWebTierConfigOptions = {},
  ): CustomerWebTier {
    const resolved = checkCustomer(config, undefined, `CustomerWebTier.fromConfig ${scope.node.path}/${id}`);
    const hostname =
      resolved.hostname ??
      (platform.domain ? `${resolved.customer}-${resolved.environment}.${platform.domain}` : undefined);
    const certificate =
      resolved.customDomain &&
      acm.Certificate.fromCertificateArn(scope, `${id}CustomDomainCertificate`, resolved.customDomain.certificateArn);
    let ingress: WebTierIngress;
    if (ingressOf(resolved) === 'dedicated') {
      ingress = WebTierIngress.dedicatedLoadBalancer({
        domainName: resolved.customDomain!.name,
        certificate: certificate!,
      });
    } else {
      if (hostname === undefined) {
        throw new Error(
          `CustomerWebTier.fromConfig ${scope.node.path}/${id}: hostname: received nothing, and the platform has no ` +
            'domain; expected a hostname in the config or a SharedPlatform with a domain',
        );
      }
      const shared = platform.sharedLoadBalancer(options.sharedLoadBalancer ?? 1);
      ingress = WebTierIngress.sharedRule({
        listener: shared.httpsListener,
        allocator: platform.priorityAllocator,
        loadBalancer: shared.loadBalancer,
        hostnames: resolved.customDomain ? [hostname, resolved.customDomain.name] : [hostname],
        certificates: certificate ? [certificate] : undefined,
      });
    }
    return new CustomerWebTier(scope, id, {
      customer: resolved.customer,
      environment: resolved.environment,
      production: resolved.production,
      vpc: platform.vpc,
      encryptionKey: platform.key,
      logsBucket: platform.logsBucket,
      ingress,
      compute: resolved.compute,
      healthCheck: resolved.healthCheck,
      database: resolved.database,
      initialImageId: resolved.ami.initialImageId,
      tags: resolved.tags,
    });
  }

  public readonly customer: string;
  public readonly environment: string;
  public readonly production: boolean;
  /** The customer's data and software: KMS-encrypted, versioned, access-logged. */
  public readonly dataBucket: s3.IBucket;
  /** The instances. */
  public readonly autoScalingGroup: autoscaling.AutoScalingGroup;
  /** The instances' launch template. */
  public readonly launchTemplate: ec2.LaunchTemplate;
  /** The instances' role. */
  public readonly instanceRole: iam.IRole;
  /** The instances' security group. */
  public readonly securityGroup: ec2.ISecurityGroup;
  /** Where the load balancer sends visitors. */
  public readonly targetGroup: elbv2.ApplicationTargetGroup;
  /** The AMI id parameter the launch template resolves at each launch. */
  public readonly amiParameter: ssm.IStringParameter;
  /** Scaling events. */
  public readonly notificationTopic: sns.ITopic;
  /** The load balancer in front: the environment's own, or the shared one when the ingress names it. */
  public readonly loadBalancer?: elbv2.IApplicationLoadBalancer;
  /** The shared load balancer rule, for a shared ingress. */
  public readonly sharedRule?: SharedAlbRule;
  /** The environment's HTTPS URL. */
  public readonly url: string;
  /** The database, when it is an RDS instance (PostgreSQL, MySQL, MariaDB). */
  public readonly databaseInstance?: rds.DatabaseInstance;
  /** The database, when it is an Aurora cluster. */
  public readonly databaseCluster?: rds.DatabaseCluster;
  /** The database's endpoint address (an Aurora cluster's writer endpoint). */
  public readonly databaseEndpoint?: string;
  /** ARN of the Secrets Manager secret, managed by RDS, with the master credentials. */
  public readonly databaseSecretArn?: string;
  /** The database's security group: the instances' group on the engine port, nothing else. */
  public readonly databaseSecurityGroup?: ec2.ISecurityGroup;

  public constructor(scope: Construct, id: string, props: CustomerWebTierProps) {
    super(scope, id);
    const where = `CustomerWebTier ${this.node.path}`;
    const production = props.production ?? isProduction(props.environment);
    const compute = checkedCompute(where, props.compute, production);
    const healthCheck = checkedHealthCheck(where, props.healthCheck);
    validateNames(where, props);
    this.customer = props.customer;
    this.environment = props.environment;
    this.production = production;
    const label = `${props.customer}-${props.environment}`;
    Tags.of(this).add('vending:customer', props.customer);
    Tags.of(this).add('vending:environment', props.environment);
    for (const [key, value] of Object.entries(props.tags ?? {})) Tags.of(this).add(key, value);

    // Data bucket
    const dataBucket = createDataBucket(this, 'DataBucket', {
      encryptionKey: props.encryptionKey,
      logsBucket: props.logsBucket,
      logName: label,
      removalPolicy: production ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    this.dataBucket = dataBucket;

    // The image: an SSM parameter that the AMI pipeline owns after its first bake. The default image matches the
    // instance type's architecture (Graviton types need arm64).
    const instanceType = new ec2.InstanceType(compute.instanceType);
    const amiParameter = new ssm.CfnParameter(this, 'AmiParameter', {
      name: CustomerWebTier.amiParameterName(props.customer, props.environment),
      type: 'String',
      dataType: 'aws:ec2:image',
      value:
        props.initialImageId ??
        `{{resolve:ssm:${instanceType.architecture === ec2.InstanceArchitecture.ARM_64 ? ARM64_BASE_IMAGE_PARAMETER : DEFAULT_BASE_IMAGE_PARAMETER}}}`,
      description: `AMI of ${label}'s instances; written by its AMI pipeline`,
    });
    // Any change to this resource makes CloudFormation write `value` again, over the pipeline's image: keep
    // it free of tags (whoever adds them, e.g. Tags.of(app)) and of anything else that changes with the stack.
    amiParameter.addPropertyDeletionOverride('Tags');
    this.amiParameter = ssm.StringParameter.fromStringParameterName(this, 'AmiParameterRef', amiParameter.name!);

    // Instances
    const securityGroup = new ec2.SecurityGroup(this, 'InstanceSecurityGroup', {
      vpc: props.vpc,
      description: `Web instances of ${label}: from their load balancer only`,
      allowAllOutbound: true,
    });
    this.securityGroup = securityGroup;
    const role = new iam.Role(this, 'InstanceRole', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: `Web instances of ${label}`,
    });
    // Session Manager instead of SSH (the AWS managed policy is the supported set of SSM agent actions).
    role.addManagedPolicy(iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonSSMManagedInstanceCore'));
    // Read its own data bucket: objects (any version) and the listing, decrypted through S3 only.
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject', 's3:GetObjectVersion'],
        resources: [dataBucket.arnForObjects('*')],
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['s3:ListBucket', 's3:GetBucketLocation'],
        resources: [dataBucket.bucketArn],
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['kms:Decrypt'],
        resources: [props.encryptionKey.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `s3.${Stack.of(this).region}.amazonaws.com` } },
      }),
    );
    this.instanceRole = role;

    const userData = ec2.UserData.forLinux();
    userData.addCommands('set -euo pipefail', `echo "vending: ${label} instance starting"`);
    installCodeDeployAgent(userData, Stack.of(this));
    const launchTemplate = new ec2.LaunchTemplate(this, 'LaunchTemplate', {
      machineImage: ec2.MachineImage.resolveSsmParameterAtLaunch(amiParameter.name!),
      instanceType,
      securityGroup,
      role,
      userData,
      requireImdsv2: true,
      httpPutResponseHopLimit: 1,
      detailedMonitoring: true,
      blockDevices: [
        {
          deviceName: '/dev/xvda',
          // The account's default EBS key: the Auto Scaling service-linked role may always use it.
          volume: ec2.BlockDeviceVolume.ebs(compute.rootVolumeGib, {
            encrypted: true,
            volumeType: ec2.EbsDeviceVolumeType.GP3,
            deleteOnTermination: true,
          }),
        },
      ],
    });
    launchTemplate.node.addDependency(amiParameter);
    this.launchTemplate = launchTemplate;

    const topic = new sns.Topic(this, 'ScalingEvents', {
      displayName: `Scaling events of ${label}`,
      // The AWS managed key: the Auto Scaling service-linked role of the account may publish with it.
      masterKey: kms.Alias.fromAliasName(this, 'SnsKey', 'alias/aws/sns'),
      enforceSSL: true,
    });
    this.notificationTopic = topic;

    const asg = new autoscaling.AutoScalingGroup(this, 'Instances', {
      vpc: props.vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      launchTemplate,
      minCapacity: compute.minCapacity,
      maxCapacity: compute.maxCapacity,
      healthChecks: autoscaling.HealthChecks.withAdditionalChecks({
        additionalTypes: [autoscaling.AdditionalHealthCheckType.ELB],
        gracePeriod: Duration.minutes(5),
      }),
      notifications: [{ topic }],
      groupMetrics: [autoscaling.GroupMetrics.all()],
    });
    // The Availability Zones of its subnets, spelled out as well (AWS Control Tower CT.AUTOSCALING.PR.1): read from
    // the subnets where they are resources of this app, so that no zone name is written into the customer's template
    // (which the template checks flag, W3010) and the list always matches the subnets.
    const zones = props.vpc.selectSubnets({ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }).subnets.map((subnet) => {
      const cfn = subnet.node.defaultChild;
      return cfn instanceof ec2.CfnSubnet ? cfn.attrAvailabilityZone : subnet.availabilityZone;
    });
    (asg.node.defaultChild as autoscaling.CfnAutoScalingGroup).availabilityZones = zones;
    this.autoScalingGroup = asg;

    const targetGroup = new elbv2.ApplicationTargetGroup(this, 'TargetGroup', {
      vpc: props.vpc,
      port: 80,
      protocol: elbv2.ApplicationProtocol.HTTP,
      targetType: elbv2.TargetType.INSTANCE,
      // CodeDeploy takes instances out one at a time: a short drain keeps rolling deploys quick.
      deregistrationDelay: Duration.seconds(30),
      healthCheck: {
        path: healthCheck.path,
        healthyHttpCodes: healthCheck.healthyHttpCodes,
        interval: Duration.seconds(healthCheck.intervalSeconds),
        timeout: Duration.seconds(healthCheck.timeoutSeconds),
        healthyThresholdCount: healthCheck.healthyThreshold,
        unhealthyThresholdCount: healthCheck.unhealthyThreshold,
      },
    });
    this.targetGroup = targetGroup;

    // Ingress: the shared listener's rule or a load balancer of the environment's own, built by the ingress.
    const ingress = props.ingress._bind(this, {
      where,
      label,
      customer: props.customer,
      environment: props.environment,
      vpc: props.vpc,
      logsBucket: props.logsBucket,
      targetGroup,
    });
    this.sharedRule = ingress.sharedRule;
    this.loadBalancer = ingress.loadBalancer;
    this.url = ingress.url;
    asg.attachToApplicationTargetGroup(targetGroup);

    asg.scaleOnCpuUtilization('CpuScaling', { targetUtilizationPercent: compute.targetCpuPercent });
    if (compute.targetRequestsPerInstance !== undefined) {
      asg.scaleOnRequestCount('RequestScaling', { targetRequestsPerMinute: compute.targetRequestsPerInstance });
    }

    new CfnOutput(this, 'Url', { value: this.url, description: `URL of ${label}` });
    if (this.loadBalancer) {
      // Where the host names' DNS records must point: with several shared load balancers, not the same for all.
      new CfnOutput(this, 'LoadBalancerDnsName', {
        value: this.loadBalancer.loadBalancerDnsName,
        description: `Load balancer of ${label}: the target of its host names' DNS records (alias or CNAME)`,
      });
    }

    if (props.database) {
      const database = createDatabase(this, {
        where,
        config: props.database,
        label,
        production,
        vpc: props.vpc,
        encryptionKey: props.encryptionKey,
        clients: securityGroup,
        clientRole: role,
      });
      this.databaseInstance = database.instance;
      this.databaseCluster = database.cluster;
      this.databaseEndpoint = database.endpoint;
      this.databaseSecretArn = database.secretArn;
      this.databaseSecurityGroup = database.securityGroup;
      new CfnOutput(this, 'DatabaseEndpoint', { value: database.endpoint, description: `Database of ${label}` });
      new CfnOutput(this, 'DatabaseSecretArn', {
        value: database.secretArn,
        description: `Master credentials of the database of ${label}`,
      });
    }
  }
}

function validateNames(where: string, props: CustomerWebTierProps): void {
  const checks: [string, ValueRuleName, unknown][] = [
    ['customer', 'customer', props.customer],
    ['environment', 'environment', props.environment],
  ];
  if (props.initialImageId !== undefined) checks.push(['initialImageId', 'imageId', props.initialImageId]);
  for (const [field, rule, value] of checks) {
    const problem = valueProblem(rule, value);
    if (problem) throw new Error(`${where}: ${field}: ${problem}`);
  }
}

function checkedCompute(where: string, compute: ComputeConfig | undefined, production: boolean) {
  const resolved = resolveCompute(compute, production);
  if (resolved.minCapacity > resolved.maxCapacity) {
    throw new Error(
      `${where}: compute.minCapacity: received ${resolved.minCapacity} with maxCapacity ${resolved.maxCapacity}; ` +
        'expected minCapacity <= maxCapacity',
    );
  }
  if (production && resolved.minCapacity < 2) {
    throw new Error(
      `${where}: compute.minCapacity: received ${resolved.minCapacity} for a production environment; expected at ` +
        'least 2, so that the instances span two Availability Zones',
    );
  }
  const instanceType = valueProblem('instanceType', resolved.instanceType);
  if (instanceType) throw new Error(`${where}: compute.instanceType: ${instanceType}`);
  return resolved;
}

function checkedHealthCheck(where: string, healthCheck: HealthCheckConfig | undefined) {
  const resolved = resolveHealthCheck(healthCheck);
  if (resolved.timeoutSeconds >= resolved.intervalSeconds) {
    throw new Error(
      `${where}: healthCheck.timeoutSeconds: received ${resolved.timeoutSeconds} with intervalSeconds ` +
        `${resolved.intervalSeconds}; expected a timeout shorter than the interval`,
    );
  }
  return resolved;
}
