import { RemovalPolicy, Size, Tags } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { checkedCompute, checkedHealthCheck, validateNames } from './checks';
import { addDataBucketCleanup } from './data-bucket-cleanup';
import { createDatabase } from './database';
import { CustomerDatabaseOptions } from './database-options';
import { WebTierIngress } from './ingress';
import {
  attachAndScale,
  createImageParameter,
  createInstances,
  createStandbyGroup,
  createTargetGroup,
} from './instances';
import { checkedLogsAndSettings, createLogsAndSettings, grantLogsAndSettings } from './logs-and-settings';
import { addDatabaseOutputs, addIngressOutputs } from './outputs';
import { webTierPropsOf } from './props-of-config';
import { leaveOutCreationStackTraces } from '../config/creation-traces';
import { ingressOf, isProduction, usesStandbyGroup } from '../config/defaults';
import { checkCustomer } from '../config/loader';
import { CustomerConfig } from '../config/types';
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
   * EC2 instance type of the web servers. A Graviton type starts them on the arm64 image.
   * @default - t3.small
   */
  readonly instanceType?: ec2.InstanceType;
  /**
   * Fewest instances in service, 0 to 100. A production environment needs at least 2, which span two Availability
   * Zones.
   * @default - 2 in production, 1 elsewhere
   */
  readonly minCapacity?: number;
  /**
   * Most instances in service, 1 to 100.
   * @default - the larger of minCapacity and 4
   */
  readonly maxCapacity?: number;
  /**
   * Average CPU utilization the scaling policy keeps the instances at, in percent (10 to 90).
   * @default 60
   */
  readonly targetCpuUtilizationPercent?: number;
  /**
   * Also scale on the load balancer's requests per instance per minute (1 to 1,000,000).
   * @default - no request-based scaling
   */
  readonly targetRequestsPerMinute?: number;
  /**
   * Size of each instance's encrypted gp3 root volume: whole GiB from 8 to 16,384.
   * @default Size.gibibytes(20)
   */
  readonly rootVolumeSize?: Size;
  /**
   * The load balancer's health check of the instances, over the defaults: path, healthy HTTP codes, interval (5 to
   * 300 whole seconds), timeout (2 to 120, shorter than the interval), healthy and unhealthy threshold counts (2 to
   * 10); port and protocol as given. It cannot be disabled, nor take gRPC codes.
   * @default - GET / every 30 s, 200-399 healthy, 5 s timeout, 2 up and 3 down
   */
  readonly healthCheck?: elbv2.HealthCheck;
  /**
   * The environment's database: RDS or Aurora in the isolated subnets, reachable from the instances only.
   * @default - no database
   */
  readonly database?: CustomerDatabaseOptions;
  /**
   * AMI the instances start on before the AMI pipeline's first bake, written when the AMI parameter is created.
   * With `amiParameterServiceToken`, the pipeline owns the value afterwards and no stack update writes it.
   * @default - the latest Amazon Linux 2023 for the instance type's architecture, from its public SSM parameter
   */
  readonly initialImageId?: string;
  /**
   * The service token of the platform's environment-resources function (`SharedPlatform.environmentResourcesServiceToken`,
   * `ISharedPlatform.environmentResourcesServiceToken`): the AMI parameter is then a `Custom::WebAmiParameter` that
   * the function creates once, or adopts when it exists, and whose value no stack update writes again (README, "The
   * baked image across updates"). Outside production, the function also empties the data bucket when the stack is
   * deleted, so that the stack can be deleted (README, "Deleting a non-production environment"). `fromConfig` passes
   * the platform's.
   * @default - a plain AWS::SSM::Parameter: an update of its properties (architecture, initialImageId) writes the stock image over the baked one
   */
  readonly amiParameterServiceToken?: string;
  /**
   * With `amiParameterServiceToken`: keep the `AWS::SSM::Parameter` (id `AmiParameter`) of earlier releases in the
   * template, with a RETAIN policy and its properties unchanged, beside the `Custom::WebAmiParameter` that adopts the
   * parameter. Deploy every existing stack once with it, then set it to `false`: the earlier resource leaves the
   * template and CloudFormation, honouring the RETAIN policy, leaves the parameter and its baked image in place (README,
   * "The baked image across updates"). While it is kept, a change of the architecture or of `initialImageId` still
   * writes the stock image through it. A stack created by this release may set it to `false` from the start.
   * @default true
   */
  readonly keepEarlierAmiParameter?: boolean;
  /**
   * Tags of every resource, besides `vending:customer` and `vending:environment`.
   * @default - none
   */
  readonly tags?: { [key: string]: string };
  /**
   * A standby Auto Scaling group on the same launch template, at zero, not attached to the target group (an immutable
   * deployment's new instances: CodeDeploy registers them in the target group once the release is installed, see
   * `SoftwareDeliveryPipelineProps.standbyAutoScalingGroup`).
   * @default false
   */
  readonly standbyGroup?: boolean;
  /**
   * How long CloudWatch Logs keeps the instances' logs (log groups `/vending/<customer>/<environment>/system`,
   * `/web` and `/codedeploy`, encrypted with `encryptionKey`, kept in production when the stack is deleted).
   * @default RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * The application's settings, name to value: String parameters under
   * `/vending/<customer>/<environment>/settings/<NAME>` that `vending-app-env` writes to the instances' env file
   * (README, "Logs and settings"). Names of letters, digits and underscores; values 1 to 4096 characters; up to 50.
   * @default - no settings
   */
  readonly settings?: { [name: string]: string };
  /**
   * Names of the application's secrets: SecureString parameters under
   * `/vending/<customer>/<environment>/secrets/<NAME>`, encrypted with `encryptionKey`, put by the platform team; the
   * instances may read and decrypt these and no others. Up to 20, none also a setting.
   * @default - no secrets
   */
  readonly secrets?: string[];
}

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
 *   instanceType: ec2.InstanceType.of(ec2.InstanceClass.T3, ec2.InstanceSize.SMALL),
 *   maxCapacity: 3,
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
    const resolved = checkCustomer(config, undefined, `CustomerWebTier.fromConfig ${scope.node.path}/${id}`, platform);
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
    const props = webTierPropsOf(scope, id, resolved);
    const monitoringRole = platform.serviceRoles?.databaseMonitoringRole;
    return new CustomerWebTier(scope, id, {
      customer: resolved.customer,
      environment: resolved.environment,
      production: resolved.production,
      vpc: platform.vpc,
      encryptionKey: platform.key,
      logsBucket: platform.logsBucket,
      ingress,
      ...props,
      // The platform's monitoring role, the same for every database: one role fewer per environment.
      database: props.database && monitoringRole ? { ...props.database, monitoringRole } : props.database,
      initialImageId: resolved.ami.initialImageId,
      amiParameterServiceToken: platform.environmentResourcesServiceToken,
      tags: resolved.tags,
      standbyGroup: usesStandbyGroup(resolved.softwareDelivery.deployment),
    });
  }

  public readonly customer: string;
  public readonly environment: string;
  public readonly production: boolean;
  /** The customer's data and software: KMS-encrypted, versioned, access-logged. */
  public readonly dataBucket: s3.IBucket;
  /** The instances. */
  public readonly autoScalingGroup: autoscaling.AutoScalingGroup;
  /** The standby group of an immutable deployment's new instances (`standbyGroup`). */
  public readonly standbyAutoScalingGroup?: autoscaling.AutoScalingGroup;
  /** The instances' launch template. */
  public readonly launchTemplate: ec2.LaunchTemplate;
  /** The instances' log groups in CloudWatch Logs: system, web server, CodeDeploy agent. */
  public readonly logGroups: logs.ILogGroup[];
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
    leaveOutCreationStackTraces(this);
    const where = `CustomerWebTier ${this.node.path}`;
    const production = props.production ?? isProduction(props.environment);
    const compute = checkedCompute(where, props, production);
    const healthCheck = checkedHealthCheck(where, props.healthCheck);
    validateNames(where, props);
    this.customer = props.customer;
    this.environment = props.environment;
    this.production = production;
    const label = `${props.customer}-${props.environment}`;
    this.addTags(props);

    const dataBucket = createDataBucket(this, 'DataBucket', {
      encryptionKey: props.encryptionKey,
      logsBucket: props.logsBucket,
      logName: label,
      removalPolicy: production ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    this.dataBucket = dataBucket;
    const instanceType = props.instanceType ?? new ec2.InstanceType(compute.instanceType);
    const image = createImageParameter(this, {
      name: CustomerWebTier.amiParameterName(props.customer, props.environment),
      label,
      instanceType,
      initialImageId: props.initialImageId,
      serviceToken: props.amiParameterServiceToken,
      keepEarlier: props.keepEarlierAmiParameter ?? true,
      production,
      tags: {
        'vending:customer': props.customer,
        'vending:environment': props.environment,
        ...(props.tags ?? {}),
      },
    });
    this.amiParameter = image.reference;
    const runtime = checkedLogsAndSettings(where, props, production);
    const logsAndSettings = createLogsAndSettings(this, runtime);
    this.logGroups = Object.values(logsAndSettings.logGroups);
    const instances = createInstances(this, {
      label,
      vpc: props.vpc,
      encryptionKey: props.encryptionKey,
      dataBucket: this.dataBucket,
      compute,
      instanceType,
      amiParameter: image.resource,
      amiParameterName: CustomerWebTier.amiParameterName(props.customer, props.environment),
      runtimeCommands: logsAndSettings.commands,
    });
    grantLogsAndSettings(instances.role, runtime, logsAndSettings.logGroups);
    if (!production && props.amiParameterServiceToken !== undefined) {
      addDataBucketCleanup(this, dataBucket, props.amiParameterServiceToken, [
        instances.role,
        instances.autoScalingGroup,
      ]);
    }
    this.securityGroup = instances.securityGroup;
    this.instanceRole = instances.role;
    this.launchTemplate = instances.launchTemplate;
    this.notificationTopic = instances.topic;
    this.autoScalingGroup = instances.autoScalingGroup;
    // Its id follows the kind of ingress (see WebTierIngress._targetGroupId): switching kinds replaces it.
    this.targetGroup = createTargetGroup(this, props.ingress._targetGroupId, props.vpc, healthCheck);

    // Ingress: the shared listener's rule or a load balancer of the environment's own, built by the ingress.
    const ingress = props.ingress._bind(this, {
      where,
      label,
      customer: props.customer,
      environment: props.environment,
      vpc: props.vpc,
      logsBucket: props.logsBucket,
      targetGroup: this.targetGroup,
    });
    this.sharedRule = ingress.sharedRule;
    this.loadBalancer = ingress.loadBalancer;
    this.url = ingress.url;
    attachAndScale(this.autoScalingGroup, this.targetGroup, compute);
    if (props.standbyGroup) {
      this.standbyAutoScalingGroup = createStandbyGroup(this, props.vpc, compute, this.launchTemplate, instances.topic);
    }
    addIngressOutputs(this, label, this.url, this.loadBalancer);

    if (props.database) {
      const database = createDatabase(this, {
        where,
        database: props.database,
        label,
        production,
        vpc: props.vpc,
        encryptionKey: props.encryptionKey,
        clients: instances.securityGroup,
        clientRole: instances.role,
      });
      this.databaseInstance = database.instance;
      this.databaseCluster = database.cluster;
      this.databaseEndpoint = database.endpoint;
      this.databaseSecretArn = database.secretArn;
      this.databaseSecurityGroup = database.securityGroup;
      addDatabaseOutputs(this, label, database);
    }
  }

  /** Tags of every resource: the customer, the environment and the props' own. */
  private addTags(props: CustomerWebTierProps): void {
    Tags.of(this).add('vending:customer', props.customer);
    Tags.of(this).add('vending:environment', props.environment);
    for (const [key, value] of Object.entries(props.tags ?? {})) Tags.of(this).add(key, value);
  }
}
