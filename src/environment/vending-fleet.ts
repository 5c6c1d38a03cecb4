import { join } from 'path';
import { ContextProvider, Stack } from 'aws-cdk-lib';
import * as cxschema from 'aws-cdk-lib/cloud-assembly-schema';
import { Construct } from 'constructs';
import { CustomerEnvironment } from './customer-environment';
import {
  FleetPlacement,
  PLACEMENT_FILE,
  placeEnvironments,
  PlacementResult,
  platformSourceOf,
  readPlacementFile,
  writePlacementFile,
} from './placement';
import { ingressOf, resolveCustomer, resolvePlatform } from '../config/defaults';
import { ConfigError } from '../config/errors';
import { ConfigLoader, displayPath } from '../config/loader';
import { FleetConfig } from '../config/types';
import { SharedPlatform, SharedPlatformConfigOptions } from '../platform/shared-platform';

/** The placement file that fromDirectory read, named in errors instead of the option. */
const PLACEMENT_SOURCE = new WeakMap<VendingFleetOptions, string>();

/** A shared load balancer holds at most 100 rules and 100 target groups (the latter a hard AWS limit). */
export const SHARED_LOAD_BALANCER_CAPACITY = 100;

/** Options of a VendingFleet. */
export interface VendingFleetOptions {
  /**
   * What the platform config does not say (an existing VPC, TLS policy, ...). Its `sharedLoadBalancers` is set by
   * the placement.
   * @default - none
   */
  readonly platformOptions?: SharedPlatformConfigOptions;
  /**
   * Which shared load balancer serves each environment so far. `fromDirectory` reads it from the fleet's
   * `placement.yaml`; give it here only to the constructor.
   * @default - none: a new fleet
   */
  readonly placement?: FleetPlacement;
  /**
   * Fail instead of changing the placement: when an environment on shared ingress is added or removed, or
   * another load balancer is needed. For CI, where a changed `placement.yaml` would not be committed.
   * @default false
   */
  readonly frozenPlacement?: boolean;
  /**
   * Environments per shared load balancer, 1 to 100 (100 target groups is a hard AWS limit). Lower it to keep room
   * for rules of your own on the listeners.
   * @default 100
   */
  readonly environmentsPerLoadBalancer?: number;
}

/**
 * A whole fleet in a CDK app: one stack for the platform (`<platform>-platform`) and one CustomerEnvironment
 * stack per customer file (`<customer>-<environment>`), each a top-level stack, so that `cdk deploy
 * acme-production` works as CDK users expect.
 *
 * Environments on shared ingress are spread over as many shared load balancers as they need, 100 on each, up to the
 * platform's `maxSharedLoadBalancers`. The placement is deterministic and kept: an environment never moves, a new
 * one goes to the first load balancer with room. `fromDirectory` reads it from `placement.yaml` beside
 * `platform.yaml` and writes that file when it changes (commit it with the fleet).
 *
 * @example
 * VendingFleet.fromDirectory(app, fleetDirectory);
 */
export class VendingFleet {
  /** The placement file of a fleet directory. */
  public static readonly PLACEMENT_FILE = PLACEMENT_FILE;

  /**
   * The fleet of a directory holding `platform.yaml`, `customers/*.yaml` and, once written, `placement.yaml`; the
   * configs are validated first. Writes `placement.yaml` when the placement changes, unless `frozenPlacement`.
   */
  public static fromDirectory(app: Construct, directory: string, options: VendingFleetOptions = {}): VendingFleet {
    const fleet = ConfigLoader.loadFleet(directory);
    if (options.placement) {
      throw new Error(
        `VendingFleet.fromDirectory ${directory}: placement: received a placement; expected none: the directory's ` +
          `${PLACEMENT_FILE} holds it (or use new VendingFleet with ConfigLoader.loadFleet)`,
      );
    }
    const file = join(directory, PLACEMENT_FILE);
    const capacity = capacityOf(options, `VendingFleet.fromDirectory ${directory}`);
    const placement = readPlacementFile(file, displayPath(file), capacity);
    const withPlacement: VendingFleetOptions = { ...options, placement };
    PLACEMENT_SOURCE.set(withPlacement, displayPath(file));
    const vending = new VendingFleet(app, fleet, withPlacement);
    if (!options.frozenPlacement) writePlacementFile(file, vending.placementResult);
    return vending;
  }

  /** The platform's stack. */
  public readonly platformStack: Stack;
  /** The platform. */
  public readonly platform: SharedPlatform;
  /** The customer environments, in the order of the fleet's customers. */
  public readonly environments: CustomerEnvironment[];
  /** Which shared load balancer serves each environment on shared ingress. */
  public readonly placement: FleetPlacement;
  /** What changed from the placement given (or read), one line each, such as `globex-staging: placed on shared load balancer 2`. */
  public readonly placementChanges: string[];
  private readonly placementResult: PlacementResult;

  /**
   * @param app the CDK app (or any construct) the stacks are added to
   * @param fleet a validated fleet, as `ConfigLoader.loadFleet` returns it
   */
  constructor(app: Construct, fleet: FleetConfig, options: VendingFleetOptions = {}) {
    const where = `VendingFleet ${fleet.directory}`;
    const platformConfig = ConfigLoader.validatePlatform(fleet.platform);
    const resolvedPlatform = resolvePlatform(platformConfig);
    const shared = fleet.customers
      .filter((c) => ingressOf(resolveCustomer(c, platformConfig)) === 'shared')
      .map((c) => `${c.customer}-${c.environment}`);
    const source = PLACEMENT_SOURCE.get(options) ?? `${where}: placement`;
    this.placementResult = placeEnvironments({
      source,
      previous: options.placement,
      environments: shared,
      capacity: capacityOf(options, where),
      maximum: resolvedPlatform.maxSharedLoadBalancers,
      platformSource: platformSourceOf(fleet.directory),
    });
    if (options.frozenPlacement && this.placementResult.changes.length > 0) {
      throw new ConfigError(
        this.placementResult.changes.map((change) => ({
          file: source,
          path: '',
          message:
            `must change (${change}) but the placement is frozen; expected the placement to be committed: ` +
            'synthesize without frozenPlacement (--frozen-placement) and commit it',
        })),
      );
    }
    this.placement = this.placementResult.placement;
    this.placementChanges = this.placementResult.changes;

    const env = { account: platformConfig.account, region: platformConfig.region };
    this.platformStack = new Stack(app, `${platformConfig.name}-platform`, {
      env,
      stackName: `${platformConfig.name}-platform`,
      description: `cdk-paas-vending: platform ${platformConfig.name} (${platformConfig.environment}): VPC, key, buckets, shared load balancer${this.placement.loadBalancers > 1 ? 's' : ''}`,
      terminationProtection: platformConfig.environment === 'production',
    });
    const zones = platformConfig.vpc?.availabilityZones;
    if (zones && !options.platformOptions?.vpc) {
      // The zones are named: the VPC then needs no lookup in the account (and leaves no placeholder).
      const { key } = ContextProvider.getKey(this.platformStack, {
        provider: cxschema.ContextProvider.AVAILABILITY_ZONE_PROVIDER,
      });
      this.platformStack.node.setContext(key, zones);
    }
    this.platform = SharedPlatform.fromConfig(this.platformStack, 'Platform', platformConfig, {
      ...options.platformOptions,
      sharedLoadBalancers: this.placement.loadBalancers,
    });
    this.environments = fleet.customers.map((config) => {
      const label = `${config.customer}-${config.environment}`;
      return new CustomerEnvironment(app, label, {
        config: ConfigLoader.validateCustomer(config, { platform: platformConfig }),
        platform: this.platform,
        sharedLoadBalancer: this.placement.environments[label],
      });
    });
  }
}

function capacityOf(options: VendingFleetOptions, where: string): number {
  const capacity = options.environmentsPerLoadBalancer ?? SHARED_LOAD_BALANCER_CAPACITY;
  if (!Number.isInteger(capacity) || capacity < 1 || capacity > SHARED_LOAD_BALANCER_CAPACITY) {
    throw new Error(
      `${where}: environmentsPerLoadBalancer: received ${capacity}; expected a whole number from 1 to ` +
        `${SHARED_LOAD_BALANCER_CAPACITY} (a load balancer holds 100 target groups)`,
    );
  }
  return capacity;
}
