/*
 * Generates the fleets of the fleet benchmark (scripts/bench-fleet.ts): a fleet directory of N customer
 * environments made from the example fleet's files (examples/fleet/: platform.yaml and customers/*.yaml, taken
 * in turn, each copy renamed to its own customer), and, for the plain aws-cdk-lib app, the same environments as
 * PlainEnvironmentSpec (what the hand-written app needs to know of each).
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'fs';
import { join } from 'path';
import { parse, stringify } from 'yaml';
import type { PlainEnvironmentSpec, PlainFleetSpec, PlainSource } from './bench-fleet-plain';

/**
 * At most this many environments on shared ingress; beyond it, the generator turns shared environments into
 * production ones with a custom domain (dedicated ingress). Undefined: the example's mix at every size, the shared
 * environments spread by VendingFleet over as many shared load balancers as they need (100 on each), up to what a
 * platform allows (SHARED_LOAD_BALANCERS_LIMIT load balancers).
 */
export const MAX_SHARED_ENVIRONMENTS: number | undefined = undefined;

/** Environments on one shared load balancer (VendingFleet's default, SHARED_LOAD_BALANCER_CAPACITY). */
const ENVIRONMENTS_PER_LOAD_BALANCER = 100;
/** The platform's maxSharedLoadBalancers when platform.yaml leaves it out (src/config/defaults.ts). */
const DEFAULT_MAX_SHARED_LOAD_BALANCERS = 10;
/** The most maxSharedLoadBalancers may be (the platform config schema). */
const SHARED_LOAD_BALANCERS_LIMIT = 20;

/** The example files whose environments get a dedicated load balancer (production with a custom domain). */
const isDedicated = (doc: any): boolean => doc.environment === 'production' && doc.customDomain !== undefined;

/** What a generated fleet holds. */
export interface GeneratedFleet {
  /** The fleet directory (platform.yaml, customers/). */
  readonly directory: string;
  /** The same fleet for the plain aws-cdk-lib app. */
  readonly plain: PlainFleetSpec;
  readonly shared: number;
  /** Shared load balancers the shared environments need. */
  readonly sharedLoadBalancers: number;
  /** maxSharedLoadBalancers written to platform.yaml, when the default (10) is too few; else undefined. */
  readonly maxSharedLoadBalancers?: number;
  /** The stack names of the customer environments (`<customer>-<environment>`), in the order of the files. */
  readonly stacks: string[];
  readonly dedicated: number;
  readonly production: number;
  readonly withDatabase: number;
}

/** Replaces every occurrence of `from` in the document's strings (host names, repository owners, cluster names). */
function renamed(value: any, from: string, to: string): any {
  if (typeof value === 'string') return value.split(from).join(to);
  if (Array.isArray(value)) return value.map((v) => renamed(v, from, to));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, renamed(v, from, to)]));
  }
  return value;
}

function sourceOf(repository: any): PlainSource {
  if (repository.connectionArn) {
    return {
      kind: 'connection',
      connectionArn: repository.connectionArn,
      owner: repository.owner,
      repo: repository.name,
      branch: repository.branch ?? 'main',
    };
  }
  if (repository.codeCommitRepository) {
    return { kind: 'codecommit', repository: repository.codeCommitRepository, branch: repository.branch ?? 'main' };
  }
  return { kind: 's3', bucket: repository.s3Bucket, key: repository.s3ObjectKey };
}

/** The environment as the plain app sees it, with the library's defaults (src/config/defaults.ts) applied. */
function plainSpec(doc: any, platform: any, index: number): PlainEnvironmentSpec {
  const production = doc.environment === 'production';
  const compute = doc.compute ?? {};
  const minCapacity = compute.minCapacity ?? (production ? 2 : 1);
  const label = `${doc.customer}-${doc.environment}`;
  const software = doc.software;
  return {
    customer: doc.customer,
    environment: doc.environment,
    production,
    host: doc.customDomain?.name ?? doc.hostname ?? `${label}.${platform.domain}`,
    ...(isDedicated(doc) ? { certificateArn: doc.customDomain.certificateArn } : {}),
    instanceType: compute.instanceType ?? 't3.small',
    minCapacity,
    maxCapacity: compute.maxCapacity ?? Math.max(minCapacity, 4),
    targetCpuPercent: compute.targetCpuPercent ?? 60,
    ...(compute.targetRequestsPerInstance !== undefined
      ? { targetRequestsPerInstance: compute.targetRequestsPerInstance }
      : {}),
    healthCheckPath: doc.healthCheck?.path ?? '/',
    ...(doc.database
      ? {
          database: {
            engine: doc.database.engine,
            instanceType: doc.database.instanceType ?? 't4g.medium',
            username: doc.database.masterUsername ?? 'app_admin',
            backupRetentionDays: doc.database.backupRetentionDays ?? 7,
            multiAz: doc.database.multiAz ?? production,
          },
        }
      : {}),
    approvalEmails: production ? (doc.approvalEmails ?? []) : [],
    // The library's default: weekly, in a window of Sunday 02:00 to 06:00 UTC, each environment at its own minute.
    amiSchedule: doc.ami?.rebuildSchedule ?? `cron(${(index * 7) % 60} ${2 + (Math.floor(index / 60) % 4)} ? * SUN *)`,
    source: sourceOf(software.repository),
    amiSource: sourceOf(doc.ami?.repository ?? software.repository),
    ...(software.buildImage ? { buildImage: software.buildImage } : {}),
    deploymentConfig: software.deploymentConfig ?? 'one-at-a-time',
    health: doc.health ?? {},
    logRetentionDays: doc.logs?.retentionDays ?? 365,
    settings: doc.settings ?? {},
    secrets: doc.secrets ?? [],
    tags: doc.tags ?? {},
  };
}

/**
 * Writes a fleet of `size` environments under `directory` (platform.yaml and customers/<name>.yaml), cycling
 * through the example fleet's customer files: customer i is named `c<i>` (c0001, ...) with every mention of the
 * example's customer renamed, so host names, cluster names and repository owners stay unique. When the shared
 * environments need more than 10 shared load balancers (more than 1,000 of them), platform.yaml gets
 * `maxSharedLoadBalancers` (up to 20); beyond 2,000 shared environments, the rest get dedicated ingress.
 */
export function generateFleet(exampleDirectory: string, directory: string, size: number): GeneratedFleet {
  const platformText = readFileSync(join(exampleDirectory, 'platform.yaml'), 'utf-8');
  const platform = parse(platformText);
  const customersDirectory = join(exampleDirectory, 'customers');
  const templates = readdirSync(customersDirectory)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => parse(readFileSync(join(customersDirectory, f), 'utf-8')));
  const dedicatedTemplates = templates.filter(isDedicated);
  if (!templates.length || !dedicatedTemplates.length) {
    throw new Error(`${customersDirectory}: expected customer files, one of them production with a customDomain`);
  }

  mkdirSync(join(directory, 'customers'), { recursive: true });
  const maxShared = Math.min(
    MAX_SHARED_ENVIRONMENTS ?? Infinity,
    (platform.maxSharedLoadBalancers ?? SHARED_LOAD_BALANCERS_LIMIT) * ENVIRONMENTS_PER_LOAD_BALANCER,
  );
  const environments: PlainEnvironmentSpec[] = [];
  const stacks: string[] = [];
  let shared = 0;
  let overflow = 0;
  for (let i = 0; i < size; i++) {
    let template = templates[i % templates.length];
    if (!isDedicated(template)) {
      if (shared >= maxShared) {
        template = dedicatedTemplates[overflow++ % dedicatedTemplates.length];
      } else {
        shared++;
      }
    }
    const name = `c${String(i + 1).padStart(4, '0')}`;
    const doc = renamed(template, template.customer, name);
    writeFileSync(join(directory, 'customers', `${name}-${doc.environment}.yaml`), stringify(doc));
    environments.push(plainSpec(doc, platform, i));
    stacks.push(`${name}-${doc.environment}`);
  }
  const sharedLoadBalancers = Math.ceil(shared / ENVIRONMENTS_PER_LOAD_BALANCER);
  const maxSharedLoadBalancers =
    platform.maxSharedLoadBalancers === undefined && sharedLoadBalancers > DEFAULT_MAX_SHARED_LOAD_BALANCERS
      ? sharedLoadBalancers
      : undefined;
  // A fleet of hundreds of environments lives in an account whose quotas were raised for it (the example fleet's
  // account keeps AWS's defaults): docs/QUOTAS.md has what each size needs.
  const quotas =
    size > 6
      ? 'quotas: { iamRoles: 20000, pipelines: 5000, dbInstances: 2000, dbClusters: 2000, loadBalancers: 2000, ' +
        'targetGroups: 5000, securityGroups: 10000, stacks: 5000 }\n'
      : '';
  writeFileSync(
    join(directory, 'platform.yaml'),
    `${platformText.trimEnd()}\n${maxSharedLoadBalancers === undefined ? '' : `maxSharedLoadBalancers: ${maxSharedLoadBalancers}\n`}${quotas}`,
  );
  return {
    directory,
    plain: {
      platform: {
        name: platform.name,
        account: String(platform.account),
        region: platform.region,
        domain: platform.domain,
        certificateArn: platform.certificateArn,
        cidr: platform.vpc?.cidr ?? '10.0.0.0/16',
        maxAzs: platform.vpc?.maxAzs ?? 3,
        alertEmails: platform.health?.alertEmails ?? [],
      },
      environments,
    },
    shared,
    sharedLoadBalancers,
    ...(maxSharedLoadBalancers !== undefined ? { maxSharedLoadBalancers } : {}),
    stacks,
    dedicated: size - shared,
    production: environments.filter((e) => e.production).length,
    withDatabase: environments.filter((e) => e.database).length,
  };
}
