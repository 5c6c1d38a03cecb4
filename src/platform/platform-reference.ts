import { Stack, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct, IConstruct } from 'constructs';
import { CONTRACT_TIERS } from './contract';
import { ReferenceData, ReferencedPlatform } from './referenced-platform';
import { checkPlatform } from '../config/loader';
import { EnvironmentConfig, PlatformConfig } from '../config/types';
import { IPriorityAllocator } from '../shared-alb-rule/priority-allocator';

/** One of a platform's shared internet-facing load balancers, with its listeners. */
export interface SharedLoadBalancer {
  /** Its number, from 1: what `placement.yaml` and `ISharedPlatform.sharedLoadBalancer(n)` call it. */
  readonly number: number;
  readonly loadBalancer: elbv2.IApplicationLoadBalancer;
  /** Its security group: customers' instances allow traffic from it. */
  readonly securityGroup: ec2.ISecurityGroup;
  /** Port 443: customers' rules go here. */
  readonly httpsListener: elbv2.IApplicationListener;
  /**
   * Port 80, which redirects to HTTPS.
   * @default - unknown: a platform reached through its contract publishes only what customers use
   */
  readonly httpListener?: elbv2.IApplicationListener;
}

/**
 * Roles that AWS services assume on behalf of every customer environment of a platform, the same for all of them:
 * owned once by the platform (IAM roles are an account quota, 1,000 by default) and published in its contract.
 * An environment built without them (a platform reached by attributes that do not name them) makes its own.
 */
export interface PlatformServiceRoles {
  /**
   * The role RDS enhanced monitoring assumes (AmazonRDSEnhancedMonitoringRole).
   * @default - each database gets a monitoring role of its own
   */
  readonly databaseMonitoringRole?: iam.IRole;
  /**
   * CodeDeploy's service role (AWSCodeDeployRole, and launching instances only from the launch templates of the
   * platform's environments, passing only their instances' roles, to EC2).
   * @default - each deployment group gets a service role of its own
   */
  readonly deploymentRole?: iam.IRole;
  /**
   * The role EventBridge rules start pipelines with: only pipelines of the platform's environments.
   * @default - each rule that starts a pipeline gets a role of its own
   */
  readonly pipelineEventsRole?: iam.IRole;
}

/**
 * What a customer environment's constructs (`CustomerWebTier`, `CustomerAmiPipeline`, `SoftwareDeliveryPipeline`)
 * use of a platform. `SharedPlatform` is one, for the stack it is in; `PlatformReference.bind()` gives one in any
 * other stack, read from the platform's published contract or from explicit attributes.
 */
export interface ISharedPlatform extends IConstruct {
  /** The platform's name. */
  readonly platformName: string;
  /**
   * Domain under which customers get their default host name.
   * @default - none
   */
  readonly domain?: string;
  /**
   * The environments the platform offers its customers, and which are production: customer configs are checked
   * against them and get their production safeguards from them.
   * @default - production (production: true), staging and development
   */
  readonly environments?: EnvironmentConfig[];
  /** VPC with public, private (with egress) and isolated subnets. */
  readonly vpc: ec2.IVpc;
  /** The platform key: encrypts the artifacts bucket, data buckets and logs. */
  readonly key: kms.IKey;
  /** Pipeline artifacts, encrypted with `key`. */
  readonly artifactsBucket: s3.IBucket;
  /** Access logs of load balancers and buckets. */
  readonly logsBucket: s3.IBucket;
  /** The listener rule priority allocator: SharedAlbRule's service token. */
  readonly priorityAllocator: IPriorityAllocator;
  /**
   * The roles AWS services assume for every environment of the platform: an environment's database, deployment
   * group and pipeline-starting rules use them instead of roles of their own.
   * @default - none: each environment makes its own
   */
  readonly serviceRoles?: PlatformServiceRoles;
  /**
   * The service token of the platform's environment-resources function, which creates each web tier's image
   * parameter once and never writes its value again (README, "The baked image across updates").
   * @default - none: a web tier's image parameter is a plain AWS::SSM::Parameter, which a stack update may write
   */
  readonly environmentResourcesServiceToken?: string;
  /**
   * A shared load balancer by its number, from 1 (as in `placement.yaml`).
   * @param loadBalancerNumber from 1
   */
  sharedLoadBalancer(loadBalancerNumber: number): SharedLoadBalancer;
}

/** The certificates of customers' custom domains that one shared load balancer serves (SNI). */
export interface SharedListenerCertificates {
  /** The shared load balancer, from 1 (as in `placement.yaml`). */
  readonly loadBalancer: number;
  /** ACM certificate ARNs, each once. */
  readonly certificateArns: string[];
}

/** A platform's shared load balancer, by the ids another deployment gave it (`PlatformAttributes`). */
export interface SharedLoadBalancerAttributes {
  /** The load balancer's ARN. */
  readonly loadBalancerArn: string;
  /** Its DNS name: the target of customers' host names. */
  readonly dnsName: string;
  /** Its canonical hosted zone id, for alias records. */
  readonly canonicalHostedZoneId: string;
  /** Its security group's id. */
  readonly securityGroupId: string;
  /** Its HTTPS listener's ARN: customers' rules go there. */
  readonly httpsListenerArn: string;
}

/** A platform that was not deployed by this library (or whose ids are known), for `PlatformReference.fromAttributes`. */
export interface PlatformAttributes {
  /** The platform's name: used in names and tags. */
  readonly platformName: string;
  /** The platform's account. */
  readonly account: string;
  /** The platform's region. */
  readonly region: string;
  /**
   * Domain under which customers get their default host name.
   * @default - none: every customer config needs a hostname
   */
  readonly domain?: string;
  /**
   * The environments the platform offers its customers, and which are production: customer configs are checked
   * against them and get their production safeguards from them.
   * @default - production (production: true), staging and development
   */
  readonly environments?: EnvironmentConfig[];
  /** The VPC's id. */
  readonly vpcId: string;
  /** The VPC's Availability Zones, in the order of the subnet lists. */
  readonly availabilityZones: string[];
  /** Public subnets (dedicated load balancers), one per zone. */
  readonly publicSubnetIds: string[];
  /** Private subnets with egress (instances, builds), one per zone. */
  readonly privateSubnetIds: string[];
  /** Isolated subnets (databases), one per zone. */
  readonly isolatedSubnetIds: string[];
  /** ARN of the KMS key customers' data and pipelines are encrypted with. */
  readonly keyArn: string;
  /** The bucket of pipeline artifacts, encrypted with that key. */
  readonly artifactsBucketName: string;
  /** The bucket of access logs (S3-managed encryption, as log delivery requires). */
  readonly logsBucketName: string;
  /**
   * The rule priority allocator's service token (a Lambda function ARN that never changes).
   * @default - none: environments on shared ingress cannot be built
   */
  readonly allocatorServiceToken?: string;
  /**
   * The service token of the platform's environment-resources function (a Lambda function ARN that never changes).
   * @default - none: web tiers' image parameters are plain AWS::SSM::Parameter resources
   */
  readonly environmentResourcesServiceToken?: string;
  /**
   * The shared load balancers, the first one first.
   * @default - none: environments on shared ingress cannot be built
   */
  readonly sharedLoadBalancers?: SharedLoadBalancerAttributes[];
  /**
   * ARN of the platform's RDS enhanced monitoring role (`PlatformServiceRoles.databaseMonitoringRole`).
   * @default - each database gets a monitoring role of its own
   */
  readonly databaseMonitoringRoleArn?: string;
  /**
   * ARN of the platform's CodeDeploy service role (`PlatformServiceRoles.deploymentRole`).
   * @default - each deployment group gets a service role of its own
   */
  readonly deploymentRoleArn?: string;
  /**
   * ARN of the role EventBridge starts the environments' pipelines with (`PlatformServiceRoles.pipelineEventsRole`).
   * @default - each rule that starts a pipeline gets a role of its own
   */
  readonly pipelineEventsRoleArn?: string;
}

/** Options of `PlatformReference.fromConfig`. */
export interface PlatformReferenceConfigOptions {
  /**
   * How many Availability Zones the platform's VPC has, when it differs from the config (a platform built on an
   * existing VPC): the contract's subnet lists hold one subnet per zone.
   * @default - the config's `vpc.availabilityZones` or `vpc.maxAzs`
   */
  readonly availabilityZoneCount?: number;
}

/** The platforms bound in each stack, by the key of their reference. */
const BOUND = new WeakMap<Stack, Map<unknown, ISharedPlatform>>();

/**
 * How to reach a platform from a customer environment's stack, without a cross-stack reference. A reference is
 * data, not a construct: each consumer binds it in its own scope.
 *
 * - `PlatformReference.fromConfig(platformConfig)`: a platform this library deployed. Its ids are read from the
 *   SSM parameters it publishes under `/vending/<platform>/v1/` (README, "The platform contract"), resolved by
 *   CloudFormation at deploy time: synthesizing needs no credentials and no lookups.
 * - `PlatformReference.fromAttributes({...})`: a platform deployed some other way, from explicit ids.
 * - `sharedPlatform.reference`: a platform of the same app, through the same contract, with a stack dependency.
 *
 * @example
 * declare const acmeProduction: CustomerConfig;
 *
 * const platform = PlatformReference.fromConfig(platformConfig);
 * new CustomerEnvironment(app, 'acme-production', { config: acmeProduction, platform });
 */
export class PlatformReference {
  /**
   * A platform this library deployed from this platform config, reached through its published contract.
   * The config is validated first.
   */
  public static fromConfig(config: PlatformConfig, options: PlatformReferenceConfigOptions = {}): PlatformReference {
    const resolved = checkPlatform(config, 'PlatformReference.fromConfig');
    const zones = options.availabilityZoneCount ?? resolved.vpc.maxAzs;
    if (!Number.isInteger(zones) || zones < 2 || zones > 6) {
      throw new Error(
        `PlatformReference.fromConfig: availabilityZoneCount: received ${zones}; expected a whole number from 2 to 6`,
      );
    }
    return new PlatformReference({
      platformName: resolved.name,
      account: resolved.account,
      region: resolved.region,
      domain: resolved.domain,
      environments: resolved.environments,
      availabilityZoneCount: zones,
    });
  }

  /** A platform deployed some other way, from explicit ids. */
  public static fromAttributes(attributes: PlatformAttributes): PlatformReference {
    checkAttributes(attributes);
    return new PlatformReference({
      platformName: attributes.platformName,
      account: attributes.account,
      region: attributes.region,
      domain: attributes.domain,
      environments: attributes.environments,
      availabilityZoneCount: attributes.availabilityZones.length,
      attributes,
    });
  }

  /**
   * Internal: `SharedPlatform.reference`.
   * @internal
   */
  public static _ofSharedPlatform(
    platform: ISharedPlatform,
    availabilityZoneCount: number,
    published: boolean,
  ): PlatformReference {
    const stack = Stack.of(platform);
    return new PlatformReference({
      platformName: platform.platformName,
      account: stack.account,
      region: stack.region,
      domain: platform.domain,
      environments: platform.environments,
      availabilityZoneCount,
      platform,
      unpublished: !published,
    });
  }

  /** The platform's name. */
  public readonly platformName: string;
  /** The platform's account: customer environments are deployed there. */
  public readonly account: string;
  /** The platform's region: customer environments are deployed there. */
  public readonly region: string;
  /**
   * Domain under which customers get their default host name.
   * @default - none
   */
  public readonly domain?: string;
  /**
   * The environments the platform offers, and which are production.
   * @default - production (production: true), staging and development
   */
  public readonly environments?: EnvironmentConfig[];

  private constructor(private readonly data: ReferenceData) {
    this.platformName = data.platformName;
    this.account = data.account;
    this.region = data.region;
    this.domain = data.domain;
    this.environments = data.environments;
  }

  /**
   * The platform as seen from the stack of `scope`: the same object for every consumer of that stack. In the
   * platform's own stack it is the SharedPlatform; elsewhere it reads the contract (or the attributes) and holds no
   * reference to another stack. A platform of the same app becomes a dependency of the stack.
   */
  public bind(scope: Construct): ISharedPlatform {
    const stack = Stack.of(scope);
    const { platform } = this.data;
    if (platform && Stack.of(platform) === stack) return platform;
    if (this.data.unpublished) {
      throw new Error(
        `PlatformReference ${this.platformName}: bound in ${stack.node.path}, another stack than the platform's, but ` +
          'the platform publishes no contract (publishParameters: false); expected a platform that publishes its ' +
          'parameters, or PlatformReference.fromAttributes',
      );
    }
    if (platform && platform.node.root === stack.node.root) dependOn(stack, Stack.of(platform));
    let bound = BOUND.get(stack);
    if (!bound) {
      bound = new Map();
      BOUND.set(stack, bound);
    }
    // One view of a platform per stack: references of the same contract share it.
    const key: unknown = this.data.attributes ? this : `contract:${this.platformName}`;
    const found = bound.get(key);
    if (found) return found;
    const n = bound.size === 0 ? '' : String(bound.size + 1);
    const made = new ReferencedPlatform(stack, `VendingPlatform${n}`, this.data, `Platform${n}`);
    bound.set(key, made);
    return made;
  }
}

/** A stack dependency: cdk deploy --all deploys the platform first. */
function dependOn(stack: Stack, platformStack: Stack): void {
  const reason = 'the platform publishes the contract this stack reads';
  // addStackDependency replaces addDependency in newer aws-cdk-lib releases; the library's floor has only the latter.
  const newer = stack as Stack & { addStackDependency?: (target: Stack, reason?: string) => void };
  if (typeof newer.addStackDependency === 'function') newer.addStackDependency(platformStack, reason);
  else stack.addDependency(platformStack, reason);
}

function checkAttributes(a: PlatformAttributes): void {
  const where = `PlatformReference.fromAttributes ${a.platformName}`;
  const zones = a.availabilityZones.length;
  if (zones < 2 || zones > 6) {
    throw new Error(`${where}: availabilityZones: received ${zones} zones; expected 2 to 6`);
  }
  for (const tier of CONTRACT_TIERS) {
    const ids = a[`${tier}SubnetIds`];
    if (!Token.isUnresolved(ids) && ids.length !== zones) {
      throw new Error(
        `${where}: ${tier}SubnetIds: received ${ids.length} subnet ids; expected ${zones}, one per Availability Zone ` +
          'in the order of availabilityZones',
      );
    }
  }
  for (const [what, value] of [
    ['account', a.account],
    ['region', a.region],
  ] as const) {
    if (Token.isUnresolved(value)) {
      throw new Error(`${where}: ${what}: received a token; expected the platform's ${what}, known at synth time`);
    }
  }
}
