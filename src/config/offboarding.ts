/*
 * The offboarding record of a fleet directory: `offboarded.yaml` beside `platform.yaml` names each environment that
 * `paas-vending offboard` took out of the fleet, with the customer file as it was last (moved to `offboarded/`), so
 * that its stack can still be synthesized for `cdk destroy` (VendingFleet's includeOffboarded) while a normal
 * synthesis leaves it out. An entry is removed by hand once the stack is destroyed.
 *
 * Internal: not exported from src/index.ts.
 */
import { existsSync } from 'fs';
import { join, normalize, sep } from 'path';
import { ResolvedCustomerConfig, ResolvedPlatformConfig } from './defaults';
import { readCustomer } from './documents';
import { ConfigError, ConfigProblem, describeValue } from './errors';
import { displayPath, readFile } from './fleet';
import { documentValue, parseYaml, positionOf } from './parse';
import { readFastOrFull } from './quick-yaml';

/** The record file of a fleet directory. */
export const OFFBOARDED_FILE = 'offboarded.yaml';
/** The folder of a fleet directory that keeps the last customer file of each offboarded environment. */
export const OFFBOARDED_FOLDER = 'offboarded';

/** One offboarded environment, as the record holds it. */
export interface OffboardedEntry {
  /** The customer file as it was last, relative to the fleet directory (`offboarded/<name>.yaml`). */
  readonly file: string;
  /** When it was offboarded (ISO 8601, UTC). */
  readonly offboardedAt: string;
  /** The shared load balancer that served it (its stack is synthesized on it again); none on a dedicated one. */
  readonly sharedLoadBalancer?: number;
}

/** The record: each offboarded `<customer>-<environment>` and its entry. */
export interface OffboardingRecord {
  readonly environments: { readonly [name: string]: OffboardedEntry };
}

/** An offboarded environment with its last config, read and validated against the current platform. */
export interface OffboardedEnvironment extends OffboardedEntry {
  readonly name: string;
  readonly config: ResolvedCustomerConfig;
}

const NAME = /^[a-z0-9][a-z0-9-]*$/;
const ENTRY_KEYS = ['file', 'offboardedAt', 'sharedLoadBalancer'];

/** The record of a fleet directory; an empty one when the file does not exist. */
export function readOffboardingRecord(directory: string): OffboardingRecord {
  const path = join(directory, OFFBOARDED_FILE);
  if (!existsSync(path)) return { environments: {} };
  const shownAs = displayPath(path);
  const text = readFile(path, shownAs, 'the offboarding record (offboarded.yaml)');
  return readFastOrFull(
    text,
    (quick) => recordOf(quick, shownAs, () => ({})),
    () => {
      const { doc, lines } = parseYaml(text, shownAs);
      return recordOf(documentValue(doc, shownAs), shownAs, (at, atKey) => positionOf(doc, lines, at, atKey));
    },
  );
}

/** A record's document, checked; every problem in one error, at its line when the full parse found them. */
function recordOf(
  value: unknown,
  shownAs: string,
  position: (path: string[], atKey?: boolean) => { line?: number; column?: number },
): OffboardingRecord {
  const problems: ConfigProblem[] = [];
  const at = (path: string[], message: string, atKey = false) =>
    problems.push({ file: shownAs, path: path.join('.'), message, ...position(path, atKey) });
  const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isMap(value)) {
    at([], `received ${describeValue(value)}; expected a map with the key environments`);
    throw new ConfigError(problems);
  }
  for (const key of Object.keys(value).filter((k) => k !== 'environments')) {
    at([key], 'is not a key of the offboarding record; expected only environments', true);
  }
  const environments = value.environments ?? {};
  const read: { [name: string]: OffboardedEntry } = {};
  if (!isMap(environments)) {
    at(
      ['environments'],
      `received ${describeValue(environments)}; expected a map of <customer>-<environment> to entry`,
    );
  } else {
    for (const [name, entry] of Object.entries(environments)) {
      if (!NAME.test(name)) {
        at(
          ['environments', name],
          'is not a <customer>-<environment> name; expected lowercase letters, digits and -',
          true,
        );
      }
      if (!isMap(entry)) {
        at(['environments', name], `received ${describeValue(entry)}; expected file and offboardedAt`);
        continue;
      }
      for (const key of Object.keys(entry).filter((k) => !ENTRY_KEYS.includes(k))) {
        at(
          ['environments', name, key],
          `is not a key of an offboarded environment; expected ${ENTRY_KEYS.join(', ')}`,
          true,
        );
      }
      const { file, offboardedAt, sharedLoadBalancer } = entry;
      const inFolder =
        typeof file === 'string' && normalize(file).startsWith(`${OFFBOARDED_FOLDER}${sep}`) && !file.includes('..');
      if (!inFolder) {
        at(['environments', name, 'file'], `received ${describeValue(file)}; expected a file in ${OFFBOARDED_FOLDER}/`);
      }
      if (typeof offboardedAt !== 'string' || Number.isNaN(Date.parse(offboardedAt))) {
        at(
          ['environments', name, 'offboardedAt'],
          `received ${describeValue(offboardedAt)}; expected a date and time such as 2026-12-03T08:00:00Z`,
        );
      }
      const lb = sharedLoadBalancer;
      if (lb !== undefined && (typeof lb !== 'number' || !Number.isInteger(lb) || lb < 1 || lb > 20)) {
        at(
          ['environments', name, 'sharedLoadBalancer'],
          `received ${describeValue(lb)}; expected a shared load balancer number from 1 to 20`,
        );
      }
      read[name] = {
        file: file as string,
        offboardedAt: offboardedAt as string,
        ...(lb !== undefined ? { sharedLoadBalancer: lb as number } : {}),
      };
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return { environments: read };
}

/** The record file's text: a header that says what it is, then the entries in name order. */
export function renderOffboardingRecord(record: OffboardingRecord): string {
  const lines = [
    '# Customer environments taken out of this fleet by paas-vending offboard; commit it with the fleet.',
    '# Their stacks may still be deployed: synthesize them for cdk destroy with the context key',
    '# vending:include-offboarded=true (paas-vending synth --include-offboarded). Once a stack is destroyed,',
    '# remove its entry here and its file in offboarded/.',
  ];
  const entries = Object.entries(record.environments).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (entries.length === 0) {
    lines.push('environments: {}');
  } else {
    lines.push('environments:');
    for (const [name, entry] of entries) {
      lines.push(`  ${name}:`, `    file: ${entry.file}`, `    offboardedAt: '${entry.offboardedAt}'`);
      if (entry.sharedLoadBalancer !== undefined) lines.push(`    sharedLoadBalancer: ${entry.sharedLoadBalancer}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/**
 * The offboarded environments of a record with their last configs, each validated against the platform as it is now
 * (its problems name the file in offboarded/). A file that says another environment than its entry is a problem.
 */
export function readOffboardedEnvironments(
  directory: string,
  record: OffboardingRecord,
  platform: ResolvedPlatformConfig,
): OffboardedEnvironment[] {
  const problems: ConfigProblem[] = [];
  const read: OffboardedEnvironment[] = [];
  for (const [name, entry] of Object.entries(record.environments)) {
    const path = join(directory, entry.file);
    const file = displayPath(path);
    try {
      const config = readCustomer(
        readFile(path, file, 'the last customer file of an offboarded environment'),
        file,
        platform,
      );
      const label = `${config.customer}-${config.environment}`;
      if (label !== name) {
        problems.push({
          file,
          path: '',
          message: `holds ${label}; expected ${name}, as ${OFFBOARDED_FILE} names it`,
        });
      } else {
        read.push({ name, ...entry, config });
      }
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      problems.push(...e.problems);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return read;
}
