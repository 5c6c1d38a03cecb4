import { Dirent, existsSync, readdirSync, readFileSync, statSync } from 'fs';
import { extname, join, relative, isAbsolute } from 'path';
import { Document, isMap, isScalar, isSeq, LineCounter, Node, parseDocument } from 'yaml';
import {
  publicCustomer,
  publicPlatform,
  resolveCustomer,
  resolvePlatform,
  ResolvedCustomerConfig,
  ResolvedPlatformConfig,
} from './defaults';
import { ConfigError, ConfigProblem, describeValue } from './errors';
import { FILE_ONLY_KEYS, structKey, toFileKeys, toStructKeys } from './keys';
import { quickYaml } from './quick-yaml';
import { customerRules, platformFitRules, platformRules } from './rules';
import { RawProblem, schemaProblems, SchemaKind } from './schema';
import { CustomerConfig, FleetConfig, PlatformConfig } from './types';

/** File extensions read as config files (JSON is read by the same YAML 1.2 parser). */
export const CONFIG_EXTENSIONS = ['.yaml', '.yml', '.json'];

const KIND_TEXT: Record<SchemaKind, string> = {
  customer: 'a customer environment with at least customer, environment and software',
  platform: 'a platform with name, environment, region, account, domain and certificateArn',
};

/** A document read from text, with what is needed to point at its lines. */
interface Source {
  readonly file: string;
  readonly doc?: Document;
  readonly lines?: LineCounter;
}

/** Turns raw problems into problems with a file, a dotted path and, from text, a line. */
function place(source: Source, raw: RawProblem[]): ConfigProblem[] {
  return raw.map((problem) => {
    const path = problem.path
      .map((seg, i) => (typeof seg === 'number' ? `[${seg}]` : `${i > 0 ? '.' : ''}${seg}`))
      .join('');
    return {
      file: source.file,
      path,
      message: problem.message,
      ...(source.doc && source.lines ? positionOf(source.doc, source.lines, problem.path, problem.atKey) : {}),
    };
  });
}

/** Internal: the line and column of a path in a parsed document (of its key with `atKey`); none when unknown. */
export function positionOf(
  doc: Document,
  lines: LineCounter,
  path: (string | number)[],
  atKey = false,
): { line?: number; column?: number } {
  const node = nodeAt(doc, path, atKey);
  if (!node?.range) return {};
  const position = lines.linePos(node.range[0]);
  return { line: position.line, column: position.col };
}

/** The deepest node on a path that exists: the field itself, or the mapping it is missing from. */
function nodeAt(doc: Document, path: (string | number)[], atKey: boolean): Node | undefined {
  let node: unknown = doc.contents;
  let found = node as Node | undefined;
  for (let i = 0; i < path.length; i++) {
    const segment = path[i];
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(segment));
      if (!pair) break;
      const last = i === path.length - 1;
      found = ((last && atKey) || pair.value === null ? pair.key : pair.value) as Node;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number' && node.items[segment]) {
      node = node.items[segment];
      found = node as Node;
    } else {
      break;
    }
  }
  return found;
}

/** Internal: parses YAML or JSON text; syntax problems (duplicate keys included) are thrown with their line. */
export function parseYaml(text: string, file: string): { doc: Document; lines: LineCounter } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true, version: '1.2' });
  const syntax: ConfigProblem[] = [...doc.errors, ...doc.warnings].map((e) => {
    const pos = e.linePos?.[0] ?? lines.linePos(e.pos[0]);
    return {
      file,
      path: '',
      line: pos.line,
      column: pos.col,
      message: `YAML ${e.name === 'YAMLWarning' ? 'problem' : 'syntax error'}: ${e.message.split('\n')[0]}`,
    };
  });
  if (syntax.length > 0) throw new ConfigError(syntax);
  return { doc, lines };
}

/** Parses a config file's text; syntax problems are reported with their line. */
function parse(kind: SchemaKind, text: string, file: string): { source: Source; value: unknown } {
  const { doc, lines } = parseYaml(text, file);
  const source: Source = { file, doc, lines };
  if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) {
    throw new ConfigError([{ file, path: '', message: `the file is empty; expected ${KIND_TEXT[kind]}` }]);
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    throw new ConfigError([
      { file, path: '', line: 1, column: 1, message: `YAML could not be read: ${(e as Error).message}` },
    ]);
  }
  return { source, value };
}

/**
 * Removes what JSON would not carry: undefined values (from structs built in code) and `$schema`.
 * A value that contains itself (a YAML alias inside its own anchor, such as `a: &x [*x]`, or a
 * cyclic object built in code) is refused.
 */
function plain(value: unknown, file: string, ancestors: unknown[] = []): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (ancestors.includes(value)) {
    throw new ConfigError([
      { file, path: '', message: 'a value contains itself (a YAML alias inside its own anchor?); expected plain data' },
    ]);
  }
  if (ancestors.length >= MAX_DEPTH) {
    throw new ConfigError([
      { file, path: '', message: `values nest deeper than ${MAX_DEPTH} levels; expected a config` },
    ]);
  }
  const inside = [...ancestors, value];
  if (Array.isArray(value)) return value.map((v) => plain(v, file, inside));
  const out: { [key: string]: unknown } = {};
  for (const [k, v] of Object.entries(value)) {
    if (v === undefined || (ancestors.length === 0 && k === '$schema')) continue;
    // defineProperty: a key named __proto__ stays a key (and is reported as unknown), not a prototype.
    Object.defineProperty(out, k, {
      value: plain(v, file, inside),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

/** Deeper than any config: a guard against data that would exhaust the stack. */
const MAX_DEPTH = 64;

/**
 * Validates a document with file keys. `structPaths` names fields as the struct does (for configs
 * built in code, where the property is `softwareDelivery`, not the file's `software`).
 */
function check(kind: SchemaKind, source: Source, value: unknown, structPaths = false, platform?: PlatformConfig): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError(
      place(source, [
        {
          path: [],
          message: `received ${describeValue(value)}; expected ${KIND_TEXT[kind]}, as a mapping of keys to values`,
        },
      ]),
    );
  }
  let raw = [
    ...schemaProblems(kind, value),
    ...(kind === 'customer' ? [...customerRules(value), ...platformFitRules(value, platform)] : platformRules(value)),
  ];
  if (structPaths) raw = raw.map((p) => ({ ...p, path: p.path.map((seg, i) => (i === 0 ? structKey(seg) : seg)) }));
  if (raw.length > 0) throw new ConfigError(place(source, raw));
}

/**
 * A config file's validated document. The fast parse reads it when it is plain data; a file it cannot read, or
 * one with a problem, is read again by the full parse, which gives each problem its line and column.
 */
function readDocument(kind: SchemaKind, text: string, file: string, platform?: PlatformConfig): unknown {
  const quick = quickYaml(text, MAX_DEPTH);
  if (quick !== undefined) {
    try {
      // Plain data already (no alias, so no value inside itself; no undefined; no deeper than MAX_DEPTH).
      const { $schema: _schema, ...document } = quick;
      check(kind, { file }, document, false, platform);
      return document;
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
    }
  }
  const { source, value } = parse(kind, text, file);
  const document = plain(value, file);
  check(kind, source, document, false, platform);
  return document;
}

/** Internal: a validated customer config with defaults, for the constructs and the command. */
export function readCustomer(text: string, file: string, platform?: PlatformConfig): ResolvedCustomerConfig {
  const document = readDocument('customer', text, file, platform);
  return resolveCustomer(toStructKeys(document) as CustomerConfig, platform);
}

/** Internal: a validated platform config with defaults. */
export function readPlatform(text: string, file: string): ResolvedPlatformConfig {
  return resolvePlatform(readDocument('platform', text, file) as PlatformConfig);
}

/** Internal: validates a customer config built in code. */
export function checkCustomer(
  config: CustomerConfig,
  platform?: PlatformConfig,
  name = 'CustomerConfig',
): ResolvedCustomerConfig {
  const struct = plain(config, name);
  const fileOnly = FILE_ONLY_KEYS.filter(
    (k) => typeof struct === 'object' && struct !== null && Object.hasOwn(struct, k),
  );
  if (fileOnly.length > 0) {
    throw new ConfigError(
      fileOnly.map((k) => ({
        file: name,
        path: k,
        message: `unknown key "${k}" (did you mean "${structKey(k)}"?); in code the property is ${structKey(k)}`,
      })),
    );
  }
  const document = toFileKeys(struct);
  check('customer', { file: name }, document, true, platform);
  return resolveCustomer(toStructKeys(document) as CustomerConfig, platform);
}

/** Internal: validates a platform config built in code. */
export function checkPlatform(config: PlatformConfig, name = 'PlatformConfig'): ResolvedPlatformConfig {
  const document = plain(config, name);
  check('platform', { file: name }, document);
  return resolvePlatform(document as PlatformConfig);
}

export function readFile(path: string): string {
  try {
    return readFileSync(path, 'utf-8');
  } catch (e) {
    const reason = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message;
    throw new ConfigError([{ file: displayPath(path), path: '', message: `cannot be read: ${reason}` }]);
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
}

export function readFleet(directory: string): ResolvedFleet {
  const problems: ConfigProblem[] = [];
  const collect = <T>(read: () => T): T | undefined => {
    try {
      return read();
    } catch (e) {
      if (e instanceof ConfigError) {
        problems.push(...e.problems);
        return undefined;
      }
      throw e;
    }
  };
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
    platform = collect(() => readPlatform(readFile(platformFiles[0]), file));
  }

  const customersDir = join(directory, 'customers');
  const customers: ResolvedCustomerConfig[] = [];
  const files: string[] = [];
  for (const entry of listDirectory(customersDir, problems)) {
    const path = join(customersDir, entry.name);
    const file = displayPath(path);
    if (entry.name.startsWith('.') || entry.name.toLowerCase().endsWith('.md')) continue;
    if (entry.isDirectory()) {
      problems.push({ file, path: '', message: 'is a directory; expected config files directly in customers/' });
      continue;
    }
    if (!CONFIG_EXTENSIONS.includes(extname(entry.name).toLowerCase())) {
      problems.push({
        file,
        path: '',
        message: `is not a config file; expected a name ending in ${CONFIG_EXTENSIONS.join(', ')}`,
      });
      continue;
    }
    const customer = collect(() => readCustomer(readFile(path), file, platform));
    if (customer) {
      customers.push(customer);
      files.push(file);
    }
  }
  problems.push(...duplicates(customers, files));
  if (problems.length > 0) throw new ConfigError(problems);
  return { directory, platform: platform!, customers, files };
}

/** The platform files of a fleet directory: platform.yaml, .yml or .json (one is expected). */
export function platformFilesIn(directory: string): string[] {
  return CONFIG_EXTENSIONS.map((ext) => join(directory, `platform${ext}`)).filter((f) => existsSync(f));
}

/** The entries of customers/, sorted; a missing folder is an empty fleet, anything else unreadable a problem. */
function listDirectory(directory: string, problems: ConfigProblem[]): Dirent[] {
  if (!existsSync(directory)) return [];
  try {
    return readdirSync(directory, { withFileTypes: true }).sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
    );
  } catch (e) {
    problems.push({
      file: displayPath(directory),
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

/** Options for reading or validating a customer environment. */
export interface CustomerLoadOptions {
  /**
   * The platform the customer runs on, to fill in the default host name.
   * @default - no default host name
   */
  readonly platform?: PlatformConfig;
}

/**
 * Reads and validates config files. Every method reports all the problems of its input at once,
 * each with the file, the field path, the value received and what was expected, and returns the
 * config with its defaults applied.
 *
 * @example
 * // From a fleet directory: platform.yaml and customers/*.yaml.
 * const fleet = ConfigLoader.loadFleet(fleetDirectory);
 * for (const customer of fleet.customers) {
 *   new CfnOutput(this, `${customer.customer}-${customer.environment}`, { value: customer.hostname! });
 * }
 *
 * // Or built in code, validated by the same rules.
 * const staging = ConfigLoader.validateCustomer({
 *   customer: 'acme',
 *   environment: 'staging',
 *   database: { engine: DatabaseEngine.POSTGRES, version: '16' },
 *   softwareDelivery: {
 *     repository: { codeCommitRepository: 'acme-website' },
 *     deploymentConfig: DeploymentStrategy.HALF_AT_A_TIME,
 *   },
 * }, { platform: platformConfig });
 */
export class ConfigLoader {
  /**
   * Reads a customer environment file (YAML or JSON) and applies defaults.
   * @param filePath path of the file
   * @param options the platform, for the default host name
   */
  public static loadCustomerFile(filePath: string, options: CustomerLoadOptions = {}): CustomerConfig {
    return publicCustomer(readCustomer(readFile(filePath), displayPath(filePath), options.platform));
  }

  /**
   * Parses a customer environment from YAML or JSON text and applies defaults.
   * @param text the file's content
   * @param source name used in error messages
   * @param options the platform, for the default host name
   */
  public static parseCustomer(text: string, source?: string, options: CustomerLoadOptions = {}): CustomerConfig {
    return publicCustomer(readCustomer(text, source ?? '<customer config>', options.platform));
  }

  /**
   * Validates a customer environment built in code and applies defaults.
   * @param config the customer environment
   * @param options the platform, for the default host name
   */
  public static validateCustomer(config: CustomerConfig, options: CustomerLoadOptions = {}): CustomerConfig {
    return publicCustomer(checkCustomer(config, options.platform));
  }

  /** Reads a platform file (YAML or JSON) and applies defaults. */
  public static loadPlatformFile(filePath: string): PlatformConfig {
    return publicPlatform(readPlatform(readFile(filePath), displayPath(filePath)));
  }

  /**
   * Parses a platform from YAML or JSON text and applies defaults.
   * @param text the file's content
   * @param source name used in error messages
   */
  public static parsePlatform(text: string, source?: string): PlatformConfig {
    return publicPlatform(readPlatform(text, source ?? '<platform config>'));
  }

  /**
   * Validates a platform built in code and applies defaults.
   * @param config the platform
   * @param source name used in error messages (it also keeps `config` a positional parameter in Python)
   */
  public static validatePlatform(config: PlatformConfig, source?: string): PlatformConfig {
    return publicPlatform(checkPlatform(config, source));
  }

  /**
   * Reads a fleet directory: `platform.yaml` and every file in `customers/`. Also checks what no
   * single file shows: duplicate environments and host names, custom domain certificates outside
   * the platform's region or account.
   */
  public static loadFleet(directory: string): FleetConfig {
    const fleet = readFleet(directory);
    return {
      directory: fleet.directory,
      platform: publicPlatform(fleet.platform),
      customers: fleet.customers.map(publicCustomer),
    };
  }

  private constructor() {}
}
