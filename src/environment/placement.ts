import { existsSync } from 'fs';
import { join } from 'path';
import { certificatesOf, limitOf, QUOTAS } from './quotas';
import { writeFileAtomically } from '../config/atomic-write';
import { ingressOf } from '../config/defaults';
import { ConfigError, ConfigProblem, describeValue } from '../config/errors';
import {
  displayPath,
  documentValue,
  parseYaml,
  platformFilesIn,
  positionOf,
  readFile,
  ResolvedFleet,
} from '../config/loader';
import { readFastOrFull } from '../config/quick-yaml';
import type { AccountQuotas } from '../config/quota-types';

/**
 * Which shared load balancer serves each environment of a fleet on shared ingress. VendingFleet keeps it in
 * `placement.yaml` beside `platform.yaml`: an environment never moves, a new one goes to the first load balancer
 * with room, and another load balancer is added when all are full.
 */
export interface FleetPlacement {
  /**
   * How many shared load balancers the platform has. Never lowered by VendingFleet: removing one deletes it, which
   * its deletion protection refuses while it is on, so that is a person's decision (edit the file).
   */
  readonly loadBalancers: number;
  /** `<customer>-<environment>` of each environment on shared ingress, and the number of its load balancer, from 1. */
  readonly environments: { [environment: string]: number };
}

/** Internal: what placing a fleet's environments asks. */
export interface PlacementRequest {
  /** Where the placement came from, for errors: the file, or `VendingFleetOptions.placement`. */
  readonly source: string;
  /** The placement so far; none for a new fleet. */
  readonly previous?: FleetPlacement;
  /** `<customer>-<environment>` of every environment on shared ingress now. */
  readonly environments: string[];
  /**
   * Environments of the previous placement that keep their slot though they are not in `environments`: their
   * customer file is gone without an offboarding record (synth warns about each). Their stack may still be deployed,
   * with its rule on that load balancer, so the slot is not given away until they are offboarded or their entry is
   * removed by hand.
   * @default - none
   */
  readonly held?: string[];
  /** Environments one load balancer takes. */
  readonly capacity: number;
  /** The most load balancers the platform may have (its config's maxSharedLoadBalancers). */
  readonly maximum: number;
  /** The platform config file, named when the maximum is too low. */
  readonly platformSource: string;
  /** The certificate of each environment's custom domain, by `<customer>-<environment>`: none without one. */
  readonly certificates?: { [environment: string]: string };
  /**
   * The most distinct certificates one load balancer's listener holds (quotas.certificatesPerLoadBalancer).
   * @default - no limit
   */
  readonly certificateLimit?: number;
}

/** Internal: the placement, and what changed from the previous one, one line each (none when nothing did). */
export interface PlacementResult {
  readonly placement: FleetPlacement;
  readonly changes: string[];
}

/** The file VendingFleet.fromDirectory reads and writes. */
export const PLACEMENT_FILE = 'placement.yaml';

/**
 * Internal: places every environment. Those of the previous placement stay where they are; new ones, in name order,
 * go to the lowest-numbered load balancer with room; a load balancer is added when none has room. So the result
 * depends only on the previous placement and the set of environments, and adding one never moves another.
 */
export function placeEnvironments(request: PlacementRequest): PlacementResult {
  const previous = request.previous ?? { loadBalancers: 1, environments: {} };
  checkPlacement(previous, request.source, request.capacity);
  if (previous.loadBalancers > request.maximum) {
    throw new ConfigError([
      {
        file: request.platformSource,
        path: 'maxSharedLoadBalancers',
        message:
          `received ${request.maximum}, but ${request.source} has ${previous.loadBalancers} shared load balancers; ` +
          `expected at least ${previous.loadBalancers} (lowering it deletes load balancers: edit ${request.source} first)`,
      },
    ]);
  }
  const wanted = new Set([...request.environments, ...(request.held ?? [])]);
  const environments: { [environment: string]: number } = {};
  const load = new Array<number>(previous.loadBalancers + 1).fill(0);
  const changes: string[] = [];
  for (const [name, number] of Object.entries(previous.environments)) {
    if (wanted.has(name)) {
      environments[name] = number;
      load[number] += 1;
    } else {
      changes.push(`${name}: removed from shared load balancer ${number}`);
    }
  }
  let loadBalancers = previous.loadBalancers;
  const added = request.environments.filter((name) => environments[name] === undefined).sort(byName);
  const certificates = request.certificates ?? {};
  const certificateLimit = request.certificateLimit ?? Infinity;
  /** The distinct certificates on load balancer n, with the candidate's (quotas.ts's count). */
  const certificatesWith = (n: number, name: string) =>
    certificatesOf(
      [...Object.entries(environments).filter(([, m]) => m === n), [name, n] as const].map(([e]) => ({
        certificateArn: certificates[e],
      })),
    );
  for (const name of added) {
    // The first with room for one more environment, and for its certificate (one the listener holds already is free).
    let number = load.findIndex(
      (count, i) => i >= 1 && count < request.capacity && certificatesWith(i, name) <= certificateLimit,
    );
    if (number === -1 && certificates[name] !== undefined && loadBalancers >= request.maximum) {
      const full = load.findIndex((count, i) => i >= 1 && count < request.capacity);
      if (full !== -1) {
        const nth = certificatesWith(full, name);
        throw new ConfigError([
          {
            file: request.platformSource,
            path: 'quotas.certificatesPerLoadBalancer',
            message:
              `received ${certificateLimit}: ${name}'s certificate ${certificates[name]} would be the ${ordinal(nth)} ` +
              `distinct certificate on shared load balancer ${full}, and no load balancer may be added ` +
              `(maxSharedLoadBalancers: ${request.maximum}); expected at most ${certificateLimit} on each: raise ` +
              '"Certificates per Application Load Balancer" (Elastic Load Balancing) in Service Quotas and set ' +
              'quotas.certificatesPerLoadBalancer, raise maxSharedLoadBalancers, or use fewer distinct certificates ' +
              'on shared ingress (one certificate may cover several domains)',
          },
        ]);
      }
    }
    if (number === -1) {
      if (loadBalancers >= request.maximum) {
        throw new ConfigError([
          {
            file: request.platformSource,
            path: 'maxSharedLoadBalancers',
            message:
              `received ${request.maximum}: ${request.environments.length} environments on shared ingress need more ` +
              `than ${request.maximum} load balancer${request.maximum === 1 ? '' : 's'} of ${request.capacity}; ` +
              `expected a higher maxSharedLoadBalancers (at most 20), or fewer environments on shared ingress ` +
              '(split the fleet into several platforms)',
          },
        ]);
      }
      loadBalancers += 1;
      load.push(0);
      number = loadBalancers;
      changes.push(`shared load balancers: ${loadBalancers - 1} -> ${loadBalancers}`);
    }
    environments[name] = number;
    load[number] += 1;
    changes.push(`${name}: placed on shared load balancer ${number}`);
  }
  const sorted = Object.fromEntries(Object.entries(environments).sort(([a], [b]) => byName(a, b)));
  return { placement: { loadBalancers, environments: sorted }, changes };
}

/** 1st, 2nd, 3rd, 4th, …, 11th, 12th, 13th, 21st. */
function ordinal(n: number): string {
  const tens = n % 100;
  const suffix =
    tens >= 11 && tens <= 13 ? 'th' : (({ 1: 'st', 2: 'nd', 3: 'rd' } as Record<number, string>)[n % 10] ?? 'th');
  return `${n}${suffix}`;
}

/** Code-point order: the same on every machine and locale. */
function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Internal: a placement given in code or read from a file is whole numbers in range, with room on each load balancer. */
export function checkPlacement(placement: FleetPlacement, source: string, capacity: number, lines?: LineOf): void {
  const problems: ConfigProblem[] = [];
  const at = (path: string, message: string) => problems.push({ file: source, path, message, ...lines?.(path) });
  const count = placement.loadBalancers;
  if (!Number.isInteger(count) || count < 1 || count > 20) {
    at('loadBalancers', `received ${describeValue(count)}; expected a whole number from 1 to 20`);
  }
  if (
    typeof placement.environments !== 'object' ||
    placement.environments === null ||
    Array.isArray(placement.environments)
  ) {
    at(
      'environments',
      `received ${describeValue(placement.environments)}; expected a map of environment to load balancer number`,
    );
  } else {
    const load = new Map<number, string[]>();
    for (const [name, number] of Object.entries(placement.environments)) {
      if (!Number.isInteger(number) || number < 1 || (Number.isInteger(count) && number > count)) {
        at(
          `environments.${name}`,
          `received ${describeValue(number)}; expected a shared load balancer number from 1 to ${describeValue(count)} (loadBalancers)`,
        );
      } else {
        load.set(number, [...(load.get(number) ?? []), name]);
      }
    }
    for (const [number, names] of load) {
      if (names.length > capacity) {
        at(
          'environments',
          `received ${names.length} environments on shared load balancer ${number}; expected at most ${capacity}: ` +
            `move ${names.length - capacity} of them to another load balancer`,
        );
      }
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
}

type LineOf = (path: string) => { line?: number; column?: number };

/** Internal: reads a placement file; undefined when there is none. */
export function readPlacementFile(path: string, shownAs: string, capacity: number): FleetPlacement | undefined {
  if (!existsSync(path)) return undefined;
  const text = readFile(path, shownAs);
  return readFastOrFull(
    text,
    (quick) => placementOf(quick, shownAs, capacity, () => ({})),
    () => {
      const { doc, lines } = parseYaml(text, shownAs);
      return placementOf(documentValue(doc, shownAs), shownAs, capacity, (at, atKey) =>
        positionOf(doc, lines, at, atKey),
      );
    },
  );
}

/** A placement file's document, checked; `position` points at a path in its text (nothing for the fast parse). */
function placementOf(
  value: unknown,
  shownAs: string,
  capacity: number,
  position: (path: string[], atKey?: boolean) => { line?: number; column?: number },
): FleetPlacement {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError([
      { file: shownAs, path: '', message: `received ${describeValue(value)}; expected loadBalancers and environments` },
    ]);
  }
  const unknown = Object.keys(value).filter((key) => key !== 'loadBalancers' && key !== 'environments');
  if (unknown.length > 0) {
    throw new ConfigError(
      unknown.map((key) => ({
        file: shownAs,
        path: key,
        message: 'is not a placement key; expected only loadBalancers and environments',
        ...position([key], true),
      })),
    );
  }
  const placement = value as FleetPlacement;
  const read = { loadBalancers: placement.loadBalancers, environments: placement.environments ?? {} };
  checkPlacement(read, shownAs, capacity, (dotted) => position(dotted.split('.')));
  return read;
}

/** Internal: the file's text: a header that says what it is, then the numbers in name order. */
export function renderPlacement(placement: FleetPlacement): string {
  const lines = [
    '# Which shared load balancer serves each customer environment of this fleet, from 1.',
    '# Written by paas-vending synth (VendingFleet.fromDirectory); commit it with the fleet.',
    '# An environment stays where it is; a new one goes to the first load balancer with room.',
    `loadBalancers: ${placement.loadBalancers}`,
  ];
  const entries = Object.entries(placement.environments).sort(([a], [b]) => byName(a, b));
  if (entries.length === 0) {
    lines.push('environments: {}');
  } else {
    lines.push('environments:', ...entries.map(([name, number]) => `  ${name}: ${number}`));
  }
  return `${lines.join('\n')}\n`;
}

/** Internal: writes the file unless it exists and the placement did not change (its comments are then kept). */
export function writePlacementFile(path: string, result: PlacementResult): boolean {
  if (existsSync(path) && result.changes.length === 0) return false;
  writeFileAtomically(path, renderPlacement(result.placement), displayPath(path));
  return true;
}

/**
 * Internal: the placement a synthesis of this fleet directory would use (placement.yaml, plus the environments not
 * in it yet), without writing anything: for pictures of the fleet.
 */
export function plannedPlacement(fleet: ResolvedFleet, capacity: number = 100): FleetPlacement {
  const file = join(fleet.directory, PLACEMENT_FILE);
  return placeEnvironments({
    source: displayPath(file),
    previous: readPlacementFile(file, displayPath(file), capacity),
    environments: fleet.customers.filter((c) => ingressOf(c) === 'shared').map((c) => `${c.customer}-${c.environment}`),
    capacity,
    maximum: fleet.platform.maxSharedLoadBalancers,
    platformSource: platformSourceOf(fleet.directory),
    ...sharedCertificatesOf(fleet.customers, fleet.platform.quotas),
  }).placement;
}

/** Internal: the platform file of a fleet directory as errors name it (platform.yaml when there is none). */
export function platformSourceOf(directory: string): string {
  return displayPath(platformFilesIn(directory)[0] ?? join(directory, 'platform.yaml'));
}

/**
 * Internal: what placement counts of certificates: the certificate of each custom domain on shared ingress, and the
 * platform's limit of distinct certificates per load balancer (quotas.certificatesPerLoadBalancer, else AWS's).
 */
export function sharedCertificatesOf(
  customers: { customer: string; environment: string; customDomain?: { certificateArn: string } }[],
  quotas: AccountQuotas | undefined,
): { certificates: { [environment: string]: string }; certificateLimit: number } {
  const certificates: { [environment: string]: string } = {};
  for (const c of customers) {
    if (c.customDomain) certificates[`${c.customer}-${c.environment}`] = c.customDomain.certificateArn;
  }
  const spec = QUOTAS.find((q) => q.key === 'certificatesPerLoadBalancer')!;
  return { certificates, certificateLimit: limitOf(spec, quotas) };
}

/** Internal: the distinct certificates of each shared load balancer, for SharedPlatform's listenerCertificates. */
export function listenerCertificatesOf(
  placement: FleetPlacement,
  certificates: { [environment: string]: string },
): { loadBalancer: number; certificateArns: string[] }[] {
  const result: { loadBalancer: number; certificateArns: string[] }[] = [];
  for (let n = 1; n <= placement.loadBalancers; n++) {
    const arns = new Set(
      Object.entries(placement.environments)
        .filter(([name, m]) => m === n && certificates[name] !== undefined)
        .map(([name]) => certificates[name]),
    );
    if (arns.size > 0) result.push({ loadBalancer: n, certificateArns: [...arns].sort() });
  }
  return result;
}
