import { join } from 'path';
import { ContextProvider, Stack } from 'aws-cdk-lib';
import * as cxschema from 'aws-cdk-lib/cloud-assembly-schema';
import { Construct } from 'constructs';
import { CustomerEnvironment } from './customer-environment';
import {
  FleetPlacement,
  PLACEMENT_FILE,
  placeEnvironments,
  listenerCertificatesOf,
  sharedCertificatesOf,
  PlacementResult,
  platformSourceOf,
  readPlacementFile,
  writePlacementFile,
} from './placement';
import { fleetQuotaUse, quotaProblems, sharedEnvironmentUses } from './quotas';
import { ingressOf, publicCustomer, resolveCustomer, resolvePlatform } from '../config/defaults';
import { ConfigError, formatProblem } from '../config/errors';
import { ConfigLoader, displayPath } from '../config/loader';
import {
  OFFBOARDED_FILE,
  OffboardedEnvironment,
  readOffboardedEnvironments,
  readOffboardingRecord,
} from '../config/offboarding';
import { FleetConfig, PlatformConfig } from '../config/types';
import { FleetPipeline } from '../fleet-pipeline/fleet-pipeline';
import { PlatformHealth } from '../platform/platform-health';
import { PlatformReference } from '../platform/platform-reference';
import { SharedPlatform, SharedPlatformConfigOptions } from '../platform/shared-platform';
import { EnvironmentHealth } from '../web-tier/environment-health';

/** The placement file that fromDirectory read, named in errors instead of the option. */
const PLACEMENT_SOURCE = new WeakMap<VendingFleetOptions, string>();
/** The offboarded environments that fromDirectory read, to be built as stacks of their own (includeOffboarded). */
const OFFBOARDED = new WeakMap<VendingFleetOptions, OffboardedEnvironment[]>();

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
  /**
   * Build only these stacks, by stack name (`<platform>-platform`, `<customer>-<environment>`): what one deploy of one
   * environment needs. The whole fleet is still validated and placed (host names must be unique across it, and
   * placement depends on every environment), and each stack's template is the one the whole fleet would have.
   * @default - the context key `vending:stacks` (names separated by commas, as in
   *   `cdk deploy -c vending:stacks=acme-production acme-production`), else every stack
   */
  readonly stacks?: string[];
  /**
   * Also build a stack for each environment of the fleet directory's offboarding record (`offboarded.yaml`, written
   * by `paas-vending offboard`), from its last customer file, on the shared load balancer that served it: so that
   * `cdk destroy <customer>-<environment>` can still name it. They take no place in the placement and add no
   * certificate to the platform. Only `fromDirectory` reads the record: the constructor refuses the option.
   * @default - the context key `vending:include-offboarded` (`true` includes them, as in
   *   `cdk destroy -c vending:include-offboarded=true acme-staging`), else false
   */
  readonly includeOffboarded?: boolean;
}

/** The name of the fleet pipeline's stack, `<platform>-fleet-pipeline`, when the platform file has `fleetPipeline:`. */
export function fleetPipelineStackName(platform: PlatformConfig): string | undefined {
  return platform.fleetPipeline ? `${platform.name}-fleet-pipeline` : undefined;
}

/**
 * The stacks of a fleet's files, in the order a VendingFleet builds them: the platform's, each environment's
 * (`<customer>-<environment>`, in the fleet's order), then the fleet pipeline's when the platform file has one.
 */
export function fleetStackNames(
  platform: PlatformConfig,
  customers: readonly { readonly customer: string; readonly environment: string }[],
): string[] {
  const pipeline = fleetPipelineStackName(platform);
  return [
    `${platform.name}-platform`,
    ...customers.map((c) => `${c.customer}-${c.environment}`),
    ...(pipeline !== undefined ? [pipeline] : []),
  ];
}

/** The context key that selects the stacks a VendingFleet builds (names separated by commas). */
export const STACKS_CONTEXT_KEY = 'vending:stacks';
/** The context key that builds the offboarded environments' stacks too (`true`). */
export const INCLUDE_OFFBOARDED_CONTEXT_KEY = 'vending:include-offboarded';

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

  /** The context key that selects the stacks a fleet builds: `vending:stacks`. */
  public static readonly STACKS_CONTEXT_KEY = STACKS_CONTEXT_KEY;

  /** The context key that builds the stacks of offboarded environments too: `vending:include-offboarded`. */
  public static readonly INCLUDE_OFFBOARDED_CONTEXT_KEY = INCLUDE_OFFBOARDED_CONTEXT_KEY;

  /**
   * The fleet of a directory holding `platform.yaml`, `customers/*.yaml` and, once written, `placement.yaml`; the
   * configs are validated first. Writes `placement.yaml` when the placement changes, unless `frozenPlacement`.
   */
  public static fromDirectory(app: Construct, directory: string, options: VendingFleetOptions = {}): VendingFleet {
    return VendingFleet._fromReadDirectory(app, ConfigLoader.loadFleet(directory), options);
  }

  /**
   * `fromDirectory` for a fleet already read from its directory (the command reads it once, for its own checks and
   * for the build).
   * @internal
   */
  public static _fromReadDirectory(
    app: Construct,
    fleet: FleetConfig,
    options: VendingFleetOptions = {},
  ): VendingFleet {
    const directory = fleet.directory;
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
    if (includeOffboardedOf(app, options, `VendingFleet.fromDirectory ${directory}`)) {
      const record = readOffboardingRecord(directory);
      OFFBOARDED.set(withPlacement, readOffboardedEnvironments(directory, record, resolvePlatform(fleet.platform)));
    }
    const vending = new VendingFleet(app, fleet, withPlacement);
    if (!options.frozenPlacement) writePlacementFile(file, vending.placementResult);
    return vending;
  }

  /**
   * The placement `_fromReadDirectory` would use, without building anything: placement.yaml read, the fleet placed,
   * the file written when it changes (unless `frozenPlacement`). The command places a fleet once this way before its
   * worker processes build their share of the stacks (each then finds the file unchanged).
   * @internal
   */
  public static _placeReadDirectory(
    fleet: FleetConfig,
    options: VendingFleetOptions = {},
  ): { placement: FleetPlacement; changes: string[] } {
    const directory = fleet.directory;
    const file = join(directory, PLACEMENT_FILE);
    const placement = readPlacementFile(
      file,
      displayPath(file),
      capacityOf(options, `VendingFleet.fromDirectory ${directory}`),
    );
    const withPlacement: VendingFleetOptions = { ...options, placement };
    PLACEMENT_SOURCE.set(withPlacement, displayPath(file));
    const { placementResult } = placementOf(fleet, withPlacement, `VendingFleet ${directory}`);
    if (!options.frozenPlacement) writePlacementFile(file, placementResult);
    return { placement: placementResult.placement, changes: placementResult.changes };
  }

  /**
   * The platform's stack.
   * @default - undefined when `stacks` leaves it out
   */
  public readonly platformStack?: Stack;
  /**
   * The platform.
   * @default - undefined when `stacks` leaves it out
   */
  public readonly platform?: SharedPlatform;
  /**
   * The platform's alarms and dashboard with the fleet overview, in the platform's stack.
   * @default - none, when the platform's stack is not built
   */
  public readonly platformHealth?: PlatformHealth;
  /**
   * The stack of the fleet's pipeline, `<platform>-fleet-pipeline`.
   * @default - undefined when the platform file has no `fleetPipeline:` or `stacks` leaves it out
   */
  public readonly pipelineStack?: Stack;
  /**
   * The fleet's pipeline.
   * @default - undefined when the platform file has no `fleetPipeline:` or `stacks` leaves it out
   */
  public readonly fleetPipeline?: FleetPipeline;
  /** How the customer environments reach the platform: its published contract. */
  public readonly platformReference: PlatformReference;
  /** The customer environments that were built (all, unless `stacks` selects), in the order of the fleet's customers. */
  public readonly environments: CustomerEnvironment[];
  /** The stacks of offboarded environments that were built (`includeOffboarded`), in name order: for `cdk destroy`. */
  public readonly offboardedEnvironments: CustomerEnvironment[];
  /**
   * The stack names of the whole fleet, whether built or not: the platform's first, the customers', the fleet
   * pipeline's (when the platform file has one), then offboarded ones (when included).
   */
  public readonly stackNames: string[];
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
    const { platformConfig, resolvedPlatform, sharedCertificates, placementResult } = placementOf(
      fleet,
      options,
      where,
    );
    this.placementResult = placementResult;
    this.placement = this.placementResult.placement;
    this.placementChanges = this.placementResult.changes;

    const platformStackName = `${platformConfig.name}-platform`;
    const labels = fleet.customers.map((c) => `${c.customer}-${c.environment}`);
    if (options.includeOffboarded && !OFFBOARDED.has(options)) {
      throw new Error(
        `${where}: includeOffboarded: received true; expected it with VendingFleet.fromDirectory only, which reads ` +
          `the directory's ${OFFBOARDED_FILE} (the constructor reads no files)`,
      );
    }
    const offboarded = [...(OFFBOARDED.get(options) ?? [])].sort((a, b) => (a.name < b.name ? -1 : 1));
    const again = offboarded.filter((o) => labels.includes(o.name));
    if (again.length > 0) {
      throw new ConfigError(
        again.map((o) => ({
          file: displayPath(join(fleet.directory, OFFBOARDED_FILE)),
          path: `environments.${o.name}`,
          message:
            `records ${o.name} as offboarded, and customers/ has a file for it again; expected one of the two: ` +
            `once the offboarded stack is destroyed, remove its entry (and ${o.file}), or synthesize without the offboarded stacks (an offboarding that stopped half-way finishes with paas-vending offboard again)`,
        })),
      );
    }
    const pipelineStackName = fleetPipelineStackName(platformConfig);
    if (pipelineStackName !== undefined && labels.includes(pipelineStackName)) {
      const config = fleet.customers.find((c) => `${c.customer}-${c.environment}` === pipelineStackName)!;
      throw new ConfigError([
        {
          file: platformSourceOf(fleet.directory),
          path: 'fleetPipeline',
          message:
            `makes a stack named ${pipelineStackName}, the name of customer ${config.customer}'s ${config.environment} ` +
            'environment too; expected stack names that differ: rename the platform or that customer',
        },
      ]);
    }
    const liveNames = fleetStackNames(platformConfig, fleet.customers);
    this.stackNames = [...liveNames, ...offboarded.map((o) => o.name)];
    const selected = selectionOf(app, options, this.stackNames, where);

    const env = { account: platformConfig.account, region: platformConfig.region };
    if (selected.has(platformStackName)) {
      const platformStack = new Stack(app, platformStackName, {
        env,
        stackName: platformStackName,
        description: `cdk-paas-vending: platform ${platformConfig.name} (${platformConfig.environment}): VPC, key, buckets, shared load balancer${this.placement.loadBalancers > 1 ? 's' : ''}`,
        terminationProtection: resolvedPlatform.production,
      });
      const zones = platformConfig.vpc?.availabilityZones;
      if (zones && !options.platformOptions?.vpc) {
        // The zones are named: the VPC then needs no lookup in the account (and leaves no placeholder).
        const { key } = ContextProvider.getKey(platformStack, {
          provider: cxschema.ContextProvider.AVAILABILITY_ZONE_PROVIDER,
        });
        platformStack.node.setContext(key, zones);
      }
      this.platformStack = platformStack;
      this.platform = SharedPlatform.fromConfig(platformStack, 'Platform', platformConfig, {
        ...options.platformOptions,
        sharedLoadBalancers: this.placement.loadBalancers,
        // The custom domains' certificates on shared ingress, each once on its load balancer's listener.
        listenerCertificates: listenerCertificatesOf(this.placement, sharedCertificates.certificates),
      });
      // The platform's own health, and every environment's health alarm in the fleet overview (built or not).
      this.platformHealth = new PlatformHealth(platformStack, 'Health', {
        platform: this.platform,
        alertEmails: platformConfig.health?.alertEmails,
        environmentHealthAlarms: fleet.customers.map((c) =>
          EnvironmentHealth.healthAlarmName(c.customer, c.environment),
        ),
      });
    }
    // Customer stacks read the platform's contract either way: the same templates with the platform built or not.
    // With it built, its reference also makes each customer stack depend on it (cdk deploy --all deploys it first).
    const zoneCount = options.platformOptions?.vpc?.availabilityZones.length;
    this.platformReference =
      this.platform?.reference ??
      PlatformReference.fromConfig(platformConfig, zoneCount ? { availabilityZoneCount: zoneCount } : {});
    this.environments = fleet.customers
      .filter((config) => selected.has(`${config.customer}-${config.environment}`))
      .map((config) => {
        const label = `${config.customer}-${config.environment}`;
        return new CustomerEnvironment(app, label, {
          config: ConfigLoader.validateCustomer(config, { platform: platformConfig }),
          platform: this.platformReference,
          sharedLoadBalancer: this.placement.environments[label],
          rebuildWindow: platformConfig.rebuildWindow,
        });
      });
    if (pipelineStackName !== undefined && selected.has(pipelineStackName)) {
      // Its own stack, which depends on no other: deployed once by hand, it then deploys the platform and the rest.
      // Built after the customers' stacks, in the order of stackNames (the assembly lists stacks as they were built).
      const pipelineStack = new Stack(app, pipelineStackName, {
        env,
        stackName: pipelineStackName,
        description: `cdk-paas-vending: the pipeline that deploys the fleet of platform ${platformConfig.name}`,
        terminationProtection: resolvedPlatform.production,
      });
      this.pipelineStack = pipelineStack;
      this.fleetPipeline = FleetPipeline.fromConfig(pipelineStack, 'FleetPipeline', platformConfig.fleetPipeline!);
    }
    // An offboarded environment's stack as it was last deployed: on the load balancer that served it, outside the
    // placement (its slot is free for the next environment).
    this.offboardedEnvironments = offboarded
      .filter((o) => selected.has(o.name))
      .map(
        (o) =>
          new CustomerEnvironment(app, o.name, {
            config: ConfigLoader.validateCustomer(publicCustomer(o.config), { platform: platformConfig }),
            platform: this.platformReference,
            sharedLoadBalancer: o.sharedLoadBalancer,
            rebuildWindow: platformConfig.rebuildWindow,
          }),
      );
    if (liveNames.every((name) => selected.has(name))) {
      // The account's quotas, checked on the whole fleet only: a selection of stacks is not what the account holds.
      const stacks: Stack[] = [
        ...(this.platformStack ? [this.platformStack] : []),
        ...this.environments,
        ...(this.pipelineStack ? [this.pipelineStack] : []),
      ];
      const sharedUse = sharedEnvironmentUses(this.environments, fleet.customers, this.placement);
      const quotaSource = platformSourceOf(fleet.directory);
      app.node.addValidation({
        validate: () =>
          quotaProblems(fleetQuotaUse(stacks, sharedUse), platformConfig.quotas, quotaSource).map(formatProblem),
      });
    }
  }
}

/** The platform's config and the placement of a fleet's environments, checked against frozenPlacement. */
function placementOf(fleet: FleetConfig, options: VendingFleetOptions, where: string) {
  const platformConfig = ConfigLoader.validatePlatform(fleet.platform);
  const resolvedPlatform = resolvePlatform(platformConfig);
  const shared = fleet.customers
    .filter((c) => ingressOf(resolveCustomer(c, platformConfig)) === 'shared')
    .map((c) => `${c.customer}-${c.environment}`);
  const source = PLACEMENT_SOURCE.get(options) ?? `${where}: placement`;
  const sharedCertificates = sharedCertificatesOf(
    fleet.customers.filter((c) => shared.includes(`${c.customer}-${c.environment}`)),
    platformConfig.quotas,
  );
  const placementResult = placeEnvironments({
    source,
    previous: options.placement,
    environments: shared,
    held: heldOf(fleet, options),
    ...sharedCertificates,
    capacity: capacityOf(options, where),
    maximum: resolvedPlatform.maxSharedLoadBalancers,
    platformSource: platformSourceOf(fleet.directory),
  });
  if (options.frozenPlacement && placementResult.changes.length > 0) {
    throw new ConfigError(
      placementResult.changes.map((change) => ({
        file: source,
        path: '',
        message:
          `must change (${change}) but the placement is frozen; expected the placement to be committed: ` +
          'synthesize without frozenPlacement (--frozen-placement) and commit it',
      })),
    );
  }
  return { platformConfig, resolvedPlatform, sharedCertificates, placementResult };
}

/**
 * The environments of a fleet directory's placement.yaml whose customer file is gone without an offboarding record:
 * their slot stays held (synth warns about each, src/cli/orphans.ts). None for a placement given in code.
 */
function heldOf(fleet: FleetConfig, options: VendingFleetOptions): string[] {
  if (!PLACEMENT_SOURCE.has(options) || !options.placement) return [];
  const known = new Set([
    ...fleet.customers.map((c) => `${c.customer}-${c.environment}`),
    ...Object.keys(readOffboardingRecord(fleet.directory).environments),
  ]);
  return Object.keys(options.placement.environments).filter((name) => !known.has(name));
}

/** The stack names a fleet builds: the option, else the context key, else all; an unknown name is an error. */
function selectionOf(app: Construct, options: VendingFleetOptions, all: string[], where: string): Set<string> {
  const fromContext = app.node.tryGetContext(STACKS_CONTEXT_KEY);
  let names: string[];
  let source: string;
  if (options.stacks !== undefined) {
    names = options.stacks;
    source = 'stacks';
  } else if (fromContext !== undefined) {
    if (typeof fromContext !== 'string' && !Array.isArray(fromContext)) {
      throw new Error(
        `${where}: context ${STACKS_CONTEXT_KEY}: received ${JSON.stringify(fromContext)}; expected stack names ` +
          'separated by commas, such as acme-production,acme-staging',
      );
    }
    names = (Array.isArray(fromContext) ? fromContext.map(String) : fromContext.split(','))
      .map((name) => name.trim())
      .filter((name) => name !== '');
    source = `context ${STACKS_CONTEXT_KEY}`;
  } else {
    return new Set(all);
  }
  const unknown = names.filter((name) => !all.includes(name));
  if (unknown.length > 0 || names.length === 0) {
    throw new Error(
      `${where}: ${source}: received ${JSON.stringify(names)}; expected ${names.length === 0 ? 'at least one' : 'only'} ` +
        `stack names of the fleet (${unknown.length > 0 ? `unknown: ${unknown.join(', ')}; ` : ''}known: ${all.join(', ')})`,
    );
  }
  return new Set(names);
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

/** Whether the offboarded environments' stacks are built: the option, else the context key (`true`), else not. */
function includeOffboardedOf(app: Construct, options: VendingFleetOptions, where: string): boolean {
  if (options.includeOffboarded !== undefined) return options.includeOffboarded;
  const value = app.node.tryGetContext(INCLUDE_OFFBOARDED_CONTEXT_KEY);
  if (value === undefined || value === false || value === 'false') return false;
  if (value === true || value === 'true') return true;
  throw new Error(
    `${where}: context ${INCLUDE_OFFBOARDED_CONTEXT_KEY}: received ${JSON.stringify(value)}; expected true or false`,
  );
}
