import { Stack } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { CustomerEnvironment } from './customer-environment';
import { ingressOf, resolveCustomer } from '../config/defaults';
import { ConfigLoader } from '../config/loader';
import { FleetConfig } from '../config/types';
import { SharedPlatform, SharedPlatformConfigOptions } from '../platform/shared-platform';

/** A shared load balancer holds at most 100 rules and 100 target groups (the latter a hard AWS limit). */
export const SHARED_LOAD_BALANCER_CAPACITY = 100;

/** Options of a VendingFleet. */
export interface VendingFleetOptions {
  /**
   * What the platform config does not say (an existing VPC, TLS policy, ...).
   * @default - none
   */
  readonly platformOptions?: SharedPlatformConfigOptions;
}

/**
 * A whole fleet in a CDK app: one stack for the platform (`<platform>-platform`) and one CustomerEnvironment
 * stack per customer file (`<customer>-<environment>`), each a top-level stack, so that `cdk deploy
 * acme-production` works as CDK users expect.
 *
 * @example
 * VendingFleet.fromDirectory(app, fleetDirectory);
 */
export class VendingFleet {
  /** The fleet of a directory holding `platform.yaml` and `customers/*.yaml`, validated first. */
  public static fromDirectory(app: Construct, directory: string, options: VendingFleetOptions = {}): VendingFleet {
    return new VendingFleet(app, ConfigLoader.loadFleet(directory), options);
  }

  /** The platform's stack. */
  public readonly platformStack: Stack;
  /** The platform. */
  public readonly platform: SharedPlatform;
  /** The customer environments, in the order of the fleet's customers. */
  public readonly environments: CustomerEnvironment[];

  /**
   * @param app the CDK app (or any construct) the stacks are added to
   * @param fleet a validated fleet, as `ConfigLoader.loadFleet` returns it
   */
  constructor(app: Construct, fleet: FleetConfig, options: VendingFleetOptions = {}) {
    const platformConfig = ConfigLoader.validatePlatform(fleet.platform);
    const shared = fleet.customers.filter((c) => ingressOf(resolveCustomer(c, platformConfig)) === 'shared');
    if (shared.length > SHARED_LOAD_BALANCER_CAPACITY) {
      throw new Error(
        `VendingFleet ${fleet.directory}: customers: received ${shared.length} environments on the shared load balancer; ` +
          `expected at most ${SHARED_LOAD_BALANCER_CAPACITY} (a load balancer holds 100 target groups): split the fleet ` +
          'into several platforms, each with its own platform.yaml',
      );
    }
    const env = { account: platformConfig.account, region: platformConfig.region };
    this.platformStack = new Stack(app, `${platformConfig.name}-platform`, {
      env,
      stackName: `${platformConfig.name}-platform`,
      description: `cdk-paas-vending: platform ${platformConfig.name} (${platformConfig.environment}): VPC, key, buckets, shared load balancer`,
      terminationProtection: platformConfig.environment === 'production',
    });
    this.platform = SharedPlatform.fromConfig(this.platformStack, 'Platform', platformConfig, options.platformOptions);
    this.environments = fleet.customers.map(
      (config) =>
        new CustomerEnvironment(app, `${config.customer}-${config.environment}`, {
          config: ConfigLoader.validateCustomer(config, { platform: platformConfig }),
          platform: this.platform,
        }),
    );
  }
}
