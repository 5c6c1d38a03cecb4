/*
 * What the estimate of `paas-vending cost` assumes about use: traffic, builds, bakes, data. The defaults below,
 * overridden key by key by `cost-assumptions.yaml` in the fleet directory (optional); README lists them.
 */
import { existsSync } from 'fs';
import { join } from 'path';
import { parse } from 'yaml';
import { ConfigError, ConfigProblem } from '../../config/errors';
import { displayPath, readFile } from '../../config/fleet';
import { closest } from '../../config/schema';

/** The assumptions file of a fleet directory. */
export const ASSUMPTIONS_FILE = 'cost-assumptions.yaml';

/** Every assumption, with its default, its bounds and what it means (README's table). */
export const ASSUMPTIONS = {
  hoursPerMonth: { default: 730, min: 1, max: 744, means: 'hours billed per month (730 is the average month)' },
  requestsPerMonth: { default: 1_000_000, min: 0, max: 1e12, means: 'requests per environment per month' },
  averageResponseKiB: { default: 64, min: 0, max: 1e6, means: 'average response size, KiB (load balancer LCUs)' },
  natGiBPerEnvironment: { default: 5, min: 0, max: 1e7, means: 'GiB per environment per month through the NAT' },
  buildMinutesPerDeploy: { default: 8, min: 0, max: 2880, means: 'CodeBuild minutes per software deployment' },
  deployMinutesPerDeploy: {
    default: 10,
    min: 0,
    max: 2880,
    means: 'minutes of the deploy action per deployment (pipeline action minutes)',
  },
  deploysPerMonth: { default: 20, min: 0, max: 100_000, means: 'software deployments per environment per month' },
  bakesPerMonth: {
    default: 5,
    min: 0,
    max: 10_000,
    means: 'image bakes per environment per month (weekly rebuild and changes)',
  },
  bakeMinutes: { default: 20, min: 0, max: 2880, means: 'minutes of a bake (CodeBuild minutes and the bake instance)' },
  databaseDataGiB: {
    default: 20,
    min: 0,
    max: 65_536,
    means: 'data in the database, GiB (storage billed: at least the 20 GiB provisioned)',
  },
  databaseStorageGrowthGiBPerMonth: {
    default: 2,
    min: 0,
    max: 65_536,
    means: 'data written or changed per month, GiB (backups kept beyond the free share)',
  },
  dataBucketGiB: { default: 10, min: 0, max: 1e9, means: "GiB in each environment's data bucket" },
  platformBucketsGiB: { default: 50, min: 0, max: 1e9, means: "GiB in the platform's logs and artifacts buckets" },
} as const;

export type AssumptionKey = keyof typeof ASSUMPTIONS;
export type Assumptions = Readonly<Record<AssumptionKey, number>>;

/** The defaults alone. */
export function defaultAssumptions(): Assumptions {
  return Object.fromEntries(Object.entries(ASSUMPTIONS).map(([k, a]) => [k, a.default])) as Assumptions;
}

/**
 * The assumptions of a fleet directory: the defaults, with what its cost-assumptions.yaml says. A wrong key or value
 * is a ConfigError naming the file, the key, what was received and what is expected.
 */
export function readAssumptions(directory: string): { assumptions: Assumptions; file?: string } {
  const path = join(directory, ASSUMPTIONS_FILE);
  if (!existsSync(path)) return { assumptions: defaultAssumptions() };
  const file = displayPath(path);
  return { assumptions: parseAssumptions(readFile(path, file, 'a cost assumptions file'), file), file };
}

/** The assumptions a file's text gives (the defaults for the keys it leaves out). */
export function parseAssumptions(text: string, file: string): Assumptions {
  const problem = (path: string, message: string): ConfigProblem => ({ file, path, message });
  let document: unknown;
  try {
    document = parse(text);
  } catch (e) {
    throw new ConfigError([
      problem('', `is not valid YAML (${(e as Error).message.split('\n')[0]}); expected a mapping of assumptions`),
    ]);
  }
  if (document === null || document === undefined) return defaultAssumptions();
  if (typeof document !== 'object' || Array.isArray(document)) {
    throw new ConfigError([
      problem('', `received ${JSON.stringify(document)}; expected a mapping of assumptions such as hoursPerMonth: 730`),
    ]);
  }
  const keys = Object.keys(ASSUMPTIONS);
  const problems: ConfigProblem[] = [];
  const result: Record<string, number> = { ...defaultAssumptions() };
  for (const [key, value] of Object.entries(document as Record<string, unknown>)) {
    if (!(key in ASSUMPTIONS)) {
      const guess = closest(key, keys);
      problems.push(
        problem(
          key,
          `unknown key "${key}"${guess ? ` (did you mean "${guess}"?)` : ''}; expected one of ${keys.join(', ')}`,
        ),
      );
      continue;
    }
    const rule = ASSUMPTIONS[key as AssumptionKey];
    if (typeof value !== 'number' || !Number.isFinite(value) || value < rule.min || value > rule.max) {
      problems.push(
        problem(
          key,
          `received ${JSON.stringify(value)}; expected a number from ${rule.min} to ${rule.max} (${rule.means})`,
        ),
      );
      continue;
    }
    result[key] = value;
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return result as Assumptions;
}
