/**
 * The fast path for reading config files: js-yaml, about five times faster than the full parse of `yaml`, reads a
 * file when it is plain data in YAML 1.2's core schema. Anything else (an alias, a tag outside the core schema, a
 * key that is not a string, a directive, several documents, a syntax error, a duplicate key) returns undefined,
 * and the caller reads the file with the full parse, which reports problems with their line and column.
 *
 * What it returns is what the full parse returns for the same text: test/config/quick-yaml.test.ts compares the
 * two on every example file, on generated fleets and on the YAML forms where parsers differ.
 */
import { CORE_SCHEMA, defineMappingTag, load } from 'js-yaml';
import { ConfigError } from './errors';

type Mapping = Record<string, unknown>;

/**
 * Mappings as plain objects with string keys only. A key such as `1`, `true`, `null` or `[a, b]` is a value that
 * each parser turns into a property name its own way: refused here, so the full parse decides.
 */
const STRING_KEYED_MAP = defineMappingTag<Mapping>('tag:yaml.org,2002:map', {
  create: () => ({}),
  addPair: (carrier, key, value) => {
    if (typeof key !== 'string') return 'a key that is not a string';
    if (Object.hasOwn(carrier, key)) return `duplicate key ${key}`;
    // defineProperty: a key named __proto__ stays a key, as in the full parse.
    Object.defineProperty(carrier, key, { value, enumerable: true, writable: true, configurable: true });
    return '';
  },
  has: (carrier, key) => typeof key === 'string' && Object.hasOwn(carrier, key),
  keys: (result) => Object.keys(result),
  get: (result, key) => (typeof key === 'string' ? result[key] : undefined),
  identify: () => false,
});

const SCHEMA = CORE_SCHEMA.withTags(STRING_KEYED_MAP);

/** A directive (`%YAML 1.1` changes the schema, and so what `yes` means): left to the full parse. */
const DIRECTIVE = /^%/m;

/**
 * Internal: the document of a config file's text when it is a mapping of plain data, as the full parse would give
 * it; undefined when the full parse must read it (for any reason, including a problem to report). Collections
 * nested deeper than `maxDepth` are left to the full parse too.
 */
export function quickYaml(text: string, maxDepth = 100): Mapping | undefined {
  if (DIRECTIVE.test(text)) return undefined;
  let value: unknown;
  try {
    value = load(text, { schema: SCHEMA, maxAliases: 0, maxTotalMergeKeys: 0, maxDepth });
  } catch {
    return undefined;
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Mapping) : undefined;
}

/**
 * Internal: reads a file's text the fast way when it can, the full way otherwise. `fast` gets the document of the
 * fast parse; when the fast parse declines the text, or `fast` finds a problem (a ConfigError), `full` reads the text
 * again with the full parse, which alone reports problems, with their lines.
 */
export function readFastOrFull<T>(text: string, fast: (document: Mapping) => T, full: () => T, maxDepth?: number): T {
  const quick = quickYaml(text, maxDepth);
  if (quick !== undefined) {
    try {
      return fast(quick);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
    }
  }
  return full();
}
