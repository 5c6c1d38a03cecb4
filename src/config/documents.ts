/*
 * A config document checked, by the schema and the rules a schema cannot say, and resolved with its defaults: from
 * a file's text (the fast parse first, the full parse for positions) or built in code.
 */
import {
  environmentsOf,
  resolveCustomer,
  resolvePlatform,
  ResolvedCustomerConfig,
  ResolvedPlatformConfig,
} from './defaults';
import { ConfigError, describeValue, MAX_PROBLEMS_SHOWN } from './errors';
import { FILE_ONLY_KEYS, structKey, toFileKeys, toStructKeys } from './keys';
import { KIND_TEXT, MAX_DEPTH, parse, place, plain, Source } from './parse';
import { withPlaceholders } from './placeholders';
import { readFastOrFull } from './quick-yaml';
import { customerRules, platformFitRules, platformRules } from './rules';
import { moreProblems, RawProblem, schemaProblems, SchemaKind } from './schema';
import { CustomerConfig, EnvironmentConfig, PlatformConfig } from './types';

/**
 * Validates a document with file keys. `structPaths` names fields as the struct does (for configs
 * built in code, where the property is `softwareDelivery`, not the file's `software`).
 */
function check(
  kind: SchemaKind,
  source: Source,
  value: unknown,
  structPaths = false,
  platform?: PlatformConfig,
  environments?: readonly EnvironmentConfig[],
  platformName: string | undefined = platform?.name,
): void {
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
  let raw = withPlaceholders(value, [
    ...schemaProblems(kind, value),
    ...(kind === 'customer'
      ? [
          ...customerRules(value, environments ?? environmentsOf(platform), platformName),
          ...platformFitRules(value, platform),
        ]
      : platformRules(value)),
  ]);
  if (raw.length > MAX_PROBLEMS_SHOWN + 1) {
    // The first problems, then a count: placing each one in the text costs a walk of the document.
    const notShown = (p: RawProblem) => Number(/^and (\d+) more problems? not shown/.exec(p.message)?.[1] ?? 0);
    const total = raw.reduce((n, p) => n + (notShown(p) || 1), 0);
    raw = raw.filter((p) => notShown(p) === 0).slice(0, MAX_PROBLEMS_SHOWN);
    raw.push(moreProblems(total - raw.length));
  }
  if (structPaths) raw = raw.map((p) => ({ ...p, path: p.path.map((seg, i) => (i === 0 ? structKey(seg) : seg)) }));
  if (raw.length > 0) throw new ConfigError(place(source, raw));
}

/**
 * A config file's validated document. The fast parse reads it when it is plain data; a file it cannot read, or
 * one with a problem, is read again by the full parse, which gives each problem its line and column.
 */
function readDocument(kind: SchemaKind, text: string, file: string, platform?: PlatformConfig): unknown {
  return readFastOrFull(
    text,
    (quick) => {
      // Plain data already (no alias, so no value inside itself; no undefined; no deeper than MAX_DEPTH).
      const { $schema: _schema, ...document } = quick;
      check(kind, { file }, document, false, platform);
      return document;
    },
    () => {
      const { source, value } = parse(kind, text, file);
      const document = plain(value, file);
      check(kind, source, document, false, platform);
      return document;
    },
    MAX_DEPTH,
  );
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

/** Internal: the environments of a construct's platform, when the platform config itself is not at hand. */
export interface PlatformEnvironments {
  readonly platformName?: string;
  /** Those the platform declares; undefined: the default environments. */
  readonly environments?: readonly EnvironmentConfig[];
}

/**
 * Internal: validates a customer config built in code, against the environments of `of` when given (a construct's
 * platform), else those of `platform`.
 */
export function checkCustomer(
  config: CustomerConfig,
  platform?: PlatformConfig,
  name = 'CustomerConfig',
  of?: PlatformEnvironments,
): ResolvedCustomerConfig {
  const environments = of ? (of.environments ?? environmentsOf()) : environmentsOf(platform);
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
  const platformName = of ? of.platformName : platform?.name;
  // The verdict depends on the document, the environments, the platform's name and the platform config only (the
  // name is in messages only, and a failure is never kept): CustomerEnvironment and each of its L3s' fromConfig check
  // the same content against the same platform, so all but the first are a lookup.
  const key = contentKey(['customer', document, environments, platformName ?? null, platform ?? null]);
  if (key === undefined || !validated.has(key)) {
    check('customer', { file: name }, document, true, platform, environments, platformName);
    if (key !== undefined) remember(key);
  }
  return resolveCustomer(toStructKeys(document) as CustomerConfig, platform, environments);
}

/** Content keys of customer configs that passed `checkCustomer`, the oldest first; at most VALIDATED_KEPT. */
const validated = new Set<string>();

/** Internal: how many passed checks `checkCustomer` keeps (one environment needs one; a fleet is built in turn). */
export const VALIDATED_KEPT = 256;

function remember(key: string): void {
  validated.add(key);
  if (validated.size > VALIDATED_KEPT) validated.delete(validated.values().next().value as string);
}

/**
 * Internal: a key that differs whenever plain data differs (each value tagged by its type, so 1 and "1", NaN and
 * null, 0 and -0 differ); undefined for anything else (a function, a symbol, a bigint, a class instance, values
 * nested deeper than a config can be, so a value inside itself too), which is then checked.
 */
export function contentKey(value: unknown, depth = 0): string | undefined {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return `n${Object.is(value, -0) ? '-0' : String(value)}`;
    case 'boolean':
      return value ? 't' : 'f';
    case 'undefined':
      return 'u';
    case 'object': {
      if (value === null) return 'z';
      const prototype = Object.getPrototypeOf(value);
      const array = Array.isArray(value);
      if ((!array && prototype !== Object.prototype && prototype !== null) || depth >= MAX_DEPTH) return undefined;
      const parts: string[] = [];
      const entries: Array<[string, unknown]> = array
        ? Array.from(value, (v, i) => [String(i), v])
        : Object.entries(value);
      for (const [k, v] of entries) {
        const part = contentKey(v, depth + 1);
        if (part === undefined) return undefined;
        parts.push(array ? part : `${JSON.stringify(k)}:${part}`);
      }
      return array ? `[${parts.join(',')}]` : `{${parts.join(',')}}`;
    }
    default:
      return undefined;
  }
}

/** Internal: validates a platform config built in code. */
export function checkPlatform(config: PlatformConfig, name = 'PlatformConfig'): ResolvedPlatformConfig {
  const document = plain(config, name);
  check('platform', { file: name }, document);
  return resolvePlatform(document as PlatformConfig);
}
