/*
 * The full parse of a config file (YAML 1.2, JSON too): syntax problems with their line, every problem placed at the
 * line and column of its field, values made plain data. The fast parse of plain files is quick-yaml.ts.
 */
import { Document, isMap, isPair, isScalar, isSeq, LineCounter, Node, parseDocument } from 'yaml';
import { boundedMessage, ConfigError, ConfigProblem, MAX_QUOTED, quoted } from './errors';
import { RawProblem, SchemaKind } from './schema';

/** What a config file of each kind is expected to be, for the messages. */
export const KIND_TEXT: Record<SchemaKind, string> = {
  customer: 'a customer environment with at least customer, environment and software',
  platform: 'a platform with name, environment, region, account, domain and certificateArn',
};

/** A document read from text, with what is needed to point at its lines. */
export interface Source {
  readonly file: string;
  readonly doc?: Document;
  readonly lines?: LineCounter;
}

/** Turns raw problems into problems with a file, a dotted path and, from text, a line. */
export function place(source: Source, raw: RawProblem[]): ConfigProblem[] {
  return raw.map((problem) => {
    const path = problem.path
      .map((seg, i) => (typeof seg === 'number' ? `[${seg}]` : `${i > 0 ? '.' : ''}${cutKey(seg)}`))
      .join('');
    return {
      file: source.file,
      path,
      message: boundedMessage(problem.message),
      ...(source.doc && source.lines ? positionOf(source.doc, source.lines, problem.path, problem.atKey) : {}),
    };
  });
}

/** A key of a field path as messages show it: a huge one quoted and cut, with its length. */
function cutKey(key: string): string {
  return key.length > MAX_QUOTED ? quoted(key) : key;
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

/**
 * Internal: parses YAML or JSON text; syntax problems (duplicate keys included) are thrown with their line.
 * Duplicate keys are found here, one set of keys per mapping: `yaml`'s own check (`uniqueKeys`) compares each key
 * with every key before it, so a hostile file of 20,000 keys took seconds.
 */
export function parseYaml(text: string, file: string): { doc: Document; lines: LineCounter } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: false, version: '1.2' });
  const syntax: ConfigProblem[] = [...doc.errors, ...doc.warnings].map((e) => {
    const pos = e.linePos?.[0] ?? lines.linePos(e.pos[0]);
    return {
      file,
      path: '',
      line: pos.line,
      column: pos.col,
      message: boundedMessage(
        `YAML ${e.name === 'YAMLWarning' ? 'problem' : 'syntax error'}: ${e.message.split('\n')[0]}`,
      ),
    };
  });
  if (syntax.length === 0) syntax.push(...duplicateKeys(doc, lines, file));
  if (syntax.length > 0) throw new ConfigError(syntax);
  return { doc, lines };
}

/**
 * The keys given twice in one mapping, each at its second occurrence, as `yaml` reports them with `uniqueKeys`: two
 * scalar keys of the same value (`a` and `"a"`), or the same node. Linear in the number of keys.
 */
function duplicateKeys(doc: Document, lines: LineCounter, file: string): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  // A walk with its own stack: a file nested 2,000 levels deep costs no more than its nodes.
  const pending: unknown[] = [doc.contents];
  while (pending.length > 0) {
    const node = pending.pop();
    if (isMap(node)) {
      const seen = new Set<unknown>();
      for (const pair of node.items) {
        pending.push(pair.key, pair.value);
        const key = isScalar(pair.key) ? pair.key.value : pair.key;
        if (!seen.has(key)) {
          seen.add(key);
          continue;
        }
        const at = lines.linePos((pair.key as Node | null)?.range?.[0] ?? node.range?.[0] ?? 0);
        problems.push({
          file,
          path: '',
          line: at.line,
          column: at.col,
          message: 'YAML syntax error: Map keys must be unique',
        });
      }
    } else if (isSeq(node)) {
      for (const item of node.items) pending.push(isPair(item) ? item.value : item);
    }
  }
  return problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
}

/** Parses a config file's text; syntax problems are reported with their line. */
export function parse(kind: SchemaKind, text: string, file: string): { source: Source; value: unknown } {
  const { doc, lines } = parseYaml(text, file);
  const source: Source = { file, doc, lines };
  if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) {
    throw new ConfigError([{ file, path: '', message: `the file is empty; expected ${KIND_TEXT[kind]}` }]);
  }
  return { source, value: documentValue(doc, file) };
}

/**
 * Internal: a parsed document's data. Aliases are expanded at most 100 times (an alias bomb, a few lines that expand
 * to gigabytes, is a problem of the file, not a crash); a value that contains itself is left to `plain`.
 */
export function documentValue(doc: Document, file: string): unknown {
  try {
    return doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    throw new ConfigError([
      {
        file,
        path: '',
        line: 1,
        column: 1,
        message: `YAML could not be read: ${(e as Error).message}; expected plain data, with few aliases`,
      },
    ]);
  }
}

/**
 * Removes what JSON would not carry: undefined values (from structs built in code) and `$schema`.
 * A value that contains itself (a YAML alias inside its own anchor, such as `a: &x [*x]`, or a
 * cyclic object built in code) is refused.
 */
export function plain(value: unknown, file: string, ancestors: unknown[] = [], at: (string | number)[] = []): unknown {
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
  const array = Array.isArray(value);
  const prototype = Object.getPrototypeOf(value);
  if (!array && prototype !== Object.prototype && prototype !== null) {
    // A Map, Set, Date, RegExp or class instance has no keys JSON would carry: it would pass as an empty mapping.
    const name = typeof prototype?.constructor?.name === 'string' ? prototype.constructor.name : 'object';
    throw new ConfigError([
      {
        file,
        path: dotted(at),
        message: `received ${/^[AEIOU]/.test(name) ? 'an' : 'a'} ${name.slice(0, 40)}; expected a mapping of keys to values (a plain object) or a list (an array)`,
      },
    ]);
  }
  const inside = [...ancestors, value];
  if (array) return value.map((v, i) => plain(v, file, inside, [...at, i]));
  const out: { [key: string]: unknown } = {};
  for (const [k, v] of Object.entries(value)) {
    if (v === undefined || (ancestors.length === 0 && k === '$schema')) continue;
    // defineProperty: a key named __proto__ stays a key (and is reported as unknown), not a prototype.
    Object.defineProperty(out, k, {
      value: plain(v, file, inside, [...at, k]),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

/** A field path as messages write it: `compute.minCapacity`, `approvalEmails[1]`. */
function dotted(path: (string | number)[]): string {
  return path.map((seg, i) => (typeof seg === 'number' ? `[${seg}]` : `${i > 0 ? '.' : ''}${seg}`)).join('');
}

/** Deeper than any config: a guard against data that would exhaust the stack. */
export const MAX_DEPTH = 64;
