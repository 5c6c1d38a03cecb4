import { Stack, StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { CustomerAmiPipeline } from '../ami-pipeline/customer-ami-pipeline';
import { checkCustomer } from '../config/loader';
import { CustomerConfig, RebuildWindowConfig } from '../config/types';
import { SoftwareDeliveryPipeline } from '../delivery-pipeline/software-delivery-pipeline';
import { PlatformReference } from '../platform/platform-reference';
import { CustomerWebTier } from '../web-tier/customer-web-tier';
import { EnvironmentHealth } from '../web-tier/environment-health';

/** Props of CustomerEnvironment. */
export interface CustomerEnvironmentProps extends StackProps {
  /** The customer environment's config (a `customers/<customer>-<environment>.yaml`). */
  readonly config: CustomerConfig;
  /**
   * How to reach the platform the environment runs on: `PlatformReference.fromConfig(platformConfig)` for a platform
   * this library deployed (in this app or elsewhere), `sharedPlatform.reference` for one in this app (which adds a
   * stack dependency), or `PlatformReference.fromAttributes` for one deployed some other way. The stack reads the
   * platform's published contract: it holds no cross-stack reference.
   */
  readonly platform: PlatformReference;
  /**
   * Which of the platform's shared load balancers serves the environment when it is on shared ingress, from 1
   * (VendingFleet takes it from the fleet's placement).
   * @default 1
   */
  readonly sharedLoadBalancer?: number;
  /**
   * The platform file's `rebuildWindow`, in which the environment's default weekly rebuild starts (VendingFleet
   * passes its platform's).
   * @default - Sundays from 02:00 to 06:00 UTC
   */
  readonly rebuildWindow?: RebuildWindowConfig;
}

/**
 * One customer environment in a stack of its own: its web tier, AMI pipeline, software delivery pipeline and health,
 * wired together from one config on a platform. It adds nothing the three constructs lack: the stack name
 * is `<customer>-<environment>` unless given, the description names the customer, environment and host, and a
 * production stack has termination protection. The stack is in the platform's account and region, and holds no
 * Lambda function: the platform's allocator serves its listener rule. It reads the platform through a
 * PlatformReference (the platform's published SSM contract), never through another stack's exports, so it can be
 * deployed, and synthesized, on its own.
 *
 * @example
 * declare const acmeProduction: CustomerConfig;
 *
 * new CustomerEnvironment(app, 'acme-production', {
 *   config: acmeProduction,
 *   platform: PlatformReference.fromConfig(platformConfig),
 * });
 */
export class CustomerEnvironment extends Stack {
  /** The customer. */
  public readonly customer: string;
  /** The environment name, such as production (`environment` is the stack's aws://account/region). */
  public readonly environmentName: string;
  /** Whether the production safeguards are on. */
  public readonly production: boolean;
  /** Data bucket, instances, target group, ingress and database. */
  public readonly webTier: CustomerWebTier;
  /** The AMI pipeline, writing the web tier's AMI parameter and refreshing its instances. */
  public readonly amiPipeline: CustomerAmiPipeline;
  /** The software pipeline, deploying to the web tier's instances with CodeDeploy. */
  public readonly deliveryPipeline: SoftwareDeliveryPipeline;
  /** The environment's dashboard, alarms, health and alert topic (the file's `health`). */
  public readonly health: EnvironmentHealth;

  constructor(scope: Construct, id: string, props: CustomerEnvironmentProps) {
    const { config, platform: reference, sharedLoadBalancer, rebuildWindow, ...stackProps } = props;
    const resolved = checkCustomer(config, undefined, `CustomerEnvironment ${id}`, reference);
    const label = `${resolved.customer}-${resolved.environment}`;
    // The host people use: the customer's own domain when it has one.
    const host =
      resolved.customDomain?.name ?? resolved.hostname ?? (reference.domain && `${label}.${reference.domain}`);
    super(scope, id, {
      stackName: label,
      description: `cdk-paas-vending: ${resolved.customer} ${resolved.environment}${host ? ` (${host})` : ''}: web tier, AMI pipeline and software pipeline`,
      terminationProtection: resolved.production,
      env: { account: reference.account, region: reference.region },
      ...stackProps,
    });
    this.customer = resolved.customer;
    this.environmentName = resolved.environment;
    this.production = resolved.production;
    const platform = reference.bind(this);
    this.webTier = CustomerWebTier.fromConfig(this, 'Web', config, platform, { sharedLoadBalancer });
    this.deliveryPipeline = SoftwareDeliveryPipeline.fromConfig(this, 'Delivery', config, platform, this.webTier);
    // The rollout of a new image waits until no software deployment is in progress on the same instances, and holds
    // the software pipeline's Deploy stage while it runs.
    this.amiPipeline = CustomerAmiPipeline.fromConfig(this, 'Ami', config, platform, this.webTier, {
      deploymentGroup: this.deliveryPipeline.deploymentGroup,
      rebuildWindow,
      softwarePipeline: this.deliveryPipeline.pipeline,
    });
    this.health = EnvironmentHealth.fromConfig(this, 'Health', config, platform, this.webTier);
  }
}
