/*
 * A fleet directory read: platform.yaml and every file of customers/, with every problem of every file in one
 * error, and the rules across files (each environment and host name once per fleet).
 */
import { Dirent, existsSync, readdirSync, readFileSync, Stats, statSync } from 'fs';
import { basename, extname, isAbsolute, join, relative } from 'path';
import { ConfigCache } from './config-cache';
import { ResolvedCustomerConfig, ResolvedPlatformConfig } from './defaults';
import { readCustomer, readPlatform } from './documents';
import { ConfigError, ConfigProblem } from './errors';

/** File extensions read as config files (JSON is read by the same YAML 1.2 parser). */
export const CONFIG_EXTENSIONS = ['.yaml', '.yml', '.json'];

/** The largest config file read: a customer file is about 1 KB, placement.yaml of 2,000 environments about 60 KB. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

/** What a file that is not a regular file is, in words. */
function kindOf(stat: Stats): string {
  if (stat.isDirectory()) return 'a directory';
  if (stat.isFIFO()) return 'a FIFO';
  if (stat.isCharacterDevice()) return 'a character device';
  if (stat.isBlockDevice()) return 'a block device';
  if (stat.isSocket()) return 'a socket';
  return 'not a file';
}

/**
 * A config file's text; a file that cannot be read is a config problem. Only a regular file (or a link to one) of
 * at most MAX_CONFIG_BYTES is opened: a FIFO would block, a device or a huge file would never end. `expected` says
 * what the file should be, for the messages.
 */
export function readFile(path: string, shownAs: string = displayPath(path), expected = 'a config file'): string {
  const problem = (message: string) => new ConfigError([{ file: shownAs, path: '', message }]);
  let stat: Stats;
  try {
    stat = statSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : (code ?? (e as Error).message);
    throw problem(`cannot be read: ${reason}; expected ${expected}`);
  }
  if (!stat.isFile()) throw problem(`is not a regular file (${kindOf(stat)}); expected ${expected}`);
  if (stat.size > MAX_CONFIG_BYTES) {
    throw problem(`is ${stat.size} bytes; expected ${expected} of at most ${MAX_CONFIG_BYTES / 1024 / 1024} MiB`);
  }
  try {
    return readFileSync(path, 'utf-8');
  } catch (e) {
    throw problem(`cannot be read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}; expected ${expected}`);
  }
}

/** A path as a person wants to read it: relative to the working directory when inside it. */
export function displayPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

/** Internal: a fleet directory with resolved configs; every problem of every file in one error. */
export interface ResolvedFleet {
  readonly directory: string;
  readonly platform: ResolvedPlatformConfig;
  readonly customers: ResolvedCustomerConfig[];
  /** File of each customer, in the same order. */
  readonly files: string[];
  /**
   * Entries of customers/ that are not customer files (editor temp files such as `x.yaml~`, `.x.yaml.swp`, other
   * extensions), by name: skipped, and the command says so. Documentation (`*.md`) is skipped without a word.
   */
  readonly skipped: string[];
}

/** Internal: the fleet of a directory (loader.ts's readFleet is the name the command and ConfigLoader use). */
export function readFleetDirectory(directory: string, env: NodeJS.ProcessEnv = process.env): ResolvedFleet {
  const dirName = displayPath(directory);
  if (!existsSync(directory) || !statSync(directory).isDirectory()) {
    throw new ConfigError([
      {
        file: dirName,
        path: '',
        message: 'is not a directory; expected a fleet directory with platform.yaml and customers/',
      },
    ]);
  }
  const problems: ConfigProblem[] = [];
  const platform = readFleetPlatform(directory, dirName, problems);
  const cache = ConfigCache.of(directory, env);
  const { customers, files, skipped } = readFleetCustomers(directory, platform, problems, cache);
  problems.push(...duplicates(customers, files));
  if (problems.length > 0) throw new ConfigError(problems);
  cache?.save();
  return { directory, platform: platform!, customers, files, skipped };
}

/** Runs a read; the problems of a config error are added to `problems` instead of thrown. */
function collect<T>(problems: ConfigProblem[], read: () => T): T | undefined {
  try {
    return read();
  } catch (e) {
    if (e instanceof ConfigError) {
      problems.push(...e.problems);
      return undefined;
    }
    throw e;
  }
}

/** The fleet's one platform file, read; a missing one, or more than one, is a problem. */
function readFleetPlatform(
  directory: string,
  dirName: string,
  problems: ConfigProblem[],
): ResolvedPlatformConfig | undefined {
  const platformFiles = platformFilesIn(directory);
  let platform: ResolvedPlatformConfig | undefined;
  if (platformFiles.length === 0) {
    problems.push({
      file: join(dirName, 'platform.yaml'),
      path: '',
      message: 'is missing; expected the platform config of the fleet',
    });
  } else if (platformFiles.length > 1) {
    problems.push({
      file: dirName,
      path: '',
      message: `has ${platformFiles.map((f) => displayPath(f)).join(' and ')}; expected one platform file`,
    });
  } else {
    const file = displayPath(platformFiles[0]);
    platform = collect(problems, () => readPlatform(readFile(platformFiles[0]), file));
  }
  return platform;
}

/**
 * Internal: whether an entry of customers/ is a customer file by its name: `*.yaml`, `*.yml` or `*.json`, not hidden.
 * Editors' temp and backup files (`x.yaml~`, `x.yaml.tmp~`, `.x.yaml.swp`, `#x.yaml#`) are not.
 */
export function isCustomerFileName(name: string): boolean {
  return !name.startsWith('.') && !name.startsWith('#') && CONFIG_EXTENSIONS.includes(extname(name).toLowerCase());
}

/**
 * The config files of customers/, read in name order, each with its file. Other files are skipped (and listed);
 * a folder (not hidden) is a problem: its files would be missed.
 */
function readFleetCustomers(
  directory: string,
  platform: ResolvedPlatformConfig | undefined,
  problems: ConfigProblem[],
  cache: ConfigCache | undefined,
): { customers: ResolvedCustomerConfig[]; files: string[]; skipped: string[] } {
  const customersDir = join(directory, 'customers');
  const customers: ResolvedCustomerConfig[] = [];
  const files: string[] = [];
  const skipped: string[] = [];
  for (const entry of listDirectory(customersDir, problems)) {
    const path = join(customersDir, entry.name);
    const file = displayPath(path);
    if (entry.isDirectory()) {
      if (!entry.name.startsWith('.')) {
        problems.push({ file, path: '', message: 'is a directory; expected config files directly in customers/' });
      }
      continue;
    }
    if (!isCustomerFileName(entry.name)) {
      if (!entry.name.toLowerCase().endsWith('.md')) skipped.push(entry.name);
      continue;
    }
    const customer = collect(problems, () => readCachedCustomer(readFile(path), file, platform, cache));
    const expected = customer && `${customer.customer}-${customer.environment}`;
    if (customer && basename(entry.name, extname(entry.name)) !== expected) {
      // A file name that says another environment than its content is a file someone will edit by mistake.
      const message = `holds customer ${customer.customer}, environment ${customer.environment}; expected the file name ${expected}.yaml (or .yml, .json)`;
      problems.push({ file, path: '', message });
    } else if (customer) {
      customers.push(customer);
      files.push(file);
    }
  }
  return { customers, files, skipped };
}

/** A customer file's validated config, from the cache when its text, path, platform and the library are unchanged. */
function readCachedCustomer(
  text: string,
  file: string,
  platform: ResolvedPlatformConfig | undefined,
  cache: ConfigCache | undefined,
): ResolvedCustomerConfig {
  if (cache === undefined || platform === undefined) return readCustomer(text, file, platform);
  const key = cache.keyOf(text, file, platform);
  const kept = cache.lookup(key);
  if (kept !== undefined) return kept;
  const customer = readCustomer(text, file, platform);
  cache.store(key, customer);
  return customer;
}

/** The platform files of a fleet directory: platform.yaml, .yml or .json (one is expected). */
export function platformFilesIn(directory: string): string[] {
  return CONFIG_EXTENSIONS.map((ext) => join(directory, `platform${ext}`)).filter((f) => existsSync(f));
}

/**
 * The entries of customers/, sorted. A missing or unreadable folder is a problem, never an empty fleet: an empty
 * fleet would remove every environment from placement.yaml.
 */
function listDirectory(directory: string, problems: ConfigProblem[]): Dirent[] {
  const file = displayPath(directory);
  if (!existsSync(directory)) {
    problems.push({
      file,
      path: '',
      message: 'is missing; expected the folder of customer files (create it, even empty, for a fleet with none)',
    });
    return [];
  }
  try {
    return readdirSync(directory, { withFileTypes: true }).sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
    );
  } catch (e) {
    problems.push({
      file,
      path: '',
      message: `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); expected a directory of config files`,
    });
    return [];
  }
}

/** Rules across files: each customer environment and each host name once per fleet. */
function duplicates(customers: ResolvedCustomerConfig[], files: string[]): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const firstSeen = new Map<string, string>();
  const claim = (key: string, file: string, path: string, what: string) => {
    const previous = firstSeen.get(key);
    if (previous !== undefined) {
      problems.push({
        file,
        path,
        message: `${what} is already used by ${previous}; expected each ${what.split(' ')[0]} once per fleet`,
      });
    } else {
      firstSeen.set(key, file);
    }
  };
  customers.forEach((c, i) => {
    const file = files[i];
    claim(`env:${c.customer}/${c.environment}`, file, 'environment', `environment ${c.customer}/${c.environment}`);
    if (c.hostname) claim(`host:${c.hostname}`, file, 'hostname', `hostname ${c.hostname}`);
    if (c.customDomain) {
      claim(`host:${c.customDomain.name}`, file, 'customDomain.name', `hostname ${c.customDomain.name}`);
    }
  });
  return problems;
}
