import { readFileSync } from 'fs';
import { join } from 'path';
import Ajv, { ErrorObject, ValidateFunction } from 'ajv';
import { describeValue, MAX_PROBLEMS_SHOWN, quoted } from './errors';

/** A field path inside a config document: keys and list indexes. */
export type FieldPath = (string | number)[];

/** A problem before it is placed in a file. `atKey` points at the key rather than its value. */
export interface RawProblem {
  readonly path: FieldPath;
  readonly message: string;
  readonly atKey?: boolean;
}

/** Where the generated JSON Schemas live, in the repository and in the npm package alike. */
export const SCHEMA_DIR = join(__dirname, '..', '..', 'schema');

export type SchemaKind = 'customer' | 'platform';

const SCHEMA_FILES: Record<SchemaKind, string> = {
  customer: 'customer-config.schema.json',
  platform: 'platform-config.schema.json',
};

let ajv: Ajv | undefined;
const validators = new Map<SchemaKind, { validate: ValidateFunction; schema: any }>();
const documents = new Map<SchemaKind, any>();

/** Internal: the generated JSON Schema of a kind of file, read once (the validator and values.ts use it). */
export function schemaDocument(kind: SchemaKind): any {
  let schema = documents.get(kind);
  if (!schema) {
    schema = JSON.parse(readFileSync(join(SCHEMA_DIR, SCHEMA_FILES[kind]), 'utf-8'));
    documents.set(kind, schema);
  }
  return schema;
}

function compiled(kind: SchemaKind) {
  let entry = validators.get(kind);
  if (!entry) {
    ajv ??= new Ajv({ allErrors: true, verbose: true, strict: true }).addVocabulary(['expected']);
    const schema = schemaDocument(kind);
    entry = { validate: ajv.compile(schema), schema };
    validators.set(kind, entry);
  }
  return entry;
}

/** Checks a document against the generated JSON Schema and explains each failure in plain words. */
export function schemaProblems(kind: SchemaKind, document: unknown): RawProblem[] {
  const { validate, schema } = compiled(kind);
  if (validate(document)) return [];
  const problems: RawProblem[] = [];
  const seen = new Set<string>();
  const errors = validate.errors ?? [];
  let index = 0;
  // Explained one by one until MAX_PROBLEMS_SHOWN: each explanation's work is bounded (values are quoted cut), and
  // the rest is only counted, so that 20,000 unknown keys cost as much as 100.
  for (; index < errors.length && problems.length < MAX_PROBLEMS_SHOWN; index++) {
    const problem = explain(errors[index], schema);
    if (!problem) continue;
    const key = `${problem.path.join('\u0000')}\u0000${problem.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push(problem);
  }
  const rest = errors.slice(index).filter((e) => e.keyword !== 'propertyNames').length;
  if (rest > 0) problems.push(moreProblems(rest));
  return problems;
}

/** Internal: the problem that stands for those not shown. */
export function moreProblems(count: number): RawProblem {
  return {
    path: [],
    message: `and ${count} more problem${count === 1 ? '' : 's'} not shown; expected the ones above fixed first`,
  };
}

function pointerToPath(pointer: string): FieldPath {
  if (!pointer) return [];
  return pointer
    .slice(1)
    .split('/')
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((part) => (/^\d+$/.test(part) ? Number(part) : part));
}

function resolveRef(schema: any, root: any): any {
  let node = schema;
  for (let hops = 0; node && typeof node.$ref === 'string' && hops < 10; hops++) {
    node = node.$ref
      .replace(/^#\//, '')
      .split('/')
      .reduce((at: any, part: string) => at?.[part], root);
  }
  return node;
}

/** The sentence saying what a field accepts, from its schema (the error messages' "expected"). */
export function expectedOf(fieldSchema: any, root: any): string {
  const s = resolveRef(fieldSchema, root) ?? {};
  if (s.expected) return s.expected;
  if (s.enum) return `one of ${s.enum.join(', ')}`;
  if (s.type === 'integer') return rangeText('an integer', s);
  if (s.type === 'number') return rangeText('a number', s);
  if (s.type === 'boolean') return 'true or false';
  if (s.type === 'array') return 'a list';
  if (s.type === 'object') return 'a mapping of keys to values';
  return `a ${s.type ?? 'value'}`;
}

function rangeText(what: string, s: any): string {
  if (s.minimum !== undefined && s.maximum !== undefined) return `${what} from ${s.minimum} to ${s.maximum}`;
  if (s.minimum !== undefined) return `${what} of at least ${s.minimum}`;
  if (s.maximum !== undefined) return `${what} of at most ${s.maximum}`;
  return what;
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'number') return Number.isInteger(value) ? 'an integer' : 'a number';
  return `a ${typeof value}`;
}

/** The keys a mapping's schema allows, listed once per schema (a file of unknown keys asks for each). */
const allowedOfSchema = new WeakMap<object, string[]>();
function allowedKeys(parent: any, root: any): string[] {
  let allowed = allowedOfSchema.get(parent);
  if (!allowed) {
    allowed = Object.keys(resolveRef(parent, root)?.properties ?? {}).filter((k) => k !== '$schema');
    allowedOfSchema.set(parent, allowed);
  }
  return allowed;
}

function explain(error: ErrorObject, root: any): RawProblem | undefined {
  const path = pointerToPath(error.instancePath);
  // Quoted cut: describeValue writes at most a few dozen characters of the value, however large it is. Written only
  // for a message that quotes it: an unknown key's or a missing key's data is the whole mapping around it, and
  // listing the keys of a mapping of 20,000 keys for each of 100 problems took seconds.
  const received = (): string => describeValue(error.data);
  const parent = error.parentSchema as any;
  if (error.propertyName !== undefined) {
    // A key that breaks the `propertyNames` rule (tag keys, setting names): its `expected` words, or the tags'.
    const expected =
      typeof parent?.expected === 'string'
        ? parent.expected
        : 'up to 128 letters, digits, spaces or _.:/=+-@, not starting with aws:';
    return {
      path: [...path, error.propertyName],
      atKey: true,
      message: `key ${quoted(error.propertyName)} is not allowed; expected ${expected}`,
    };
  }
  switch (error.keyword) {
    case 'required': {
      const missing = (error.params as { missingProperty: string }).missingProperty;
      const owner = resolveRef(parent, root);
      const expected = expectedOf(owner?.properties?.[missing] ?? {}, root);
      return { path: [...path, missing], message: `is missing; expected ${expected}` };
    }
    case 'additionalProperties': {
      const extra = (error.params as { additionalProperty: string }).additionalProperty;
      const allowed = allowedKeys(parent, root);
      // A key far longer than any allowed one is no typo (and the distance would cost its length times theirs).
      const guess = extra.length <= 64 ? closest(extra, allowed) : undefined;
      const hint = guess ? ` (did you mean "${guess}"?)` : '';
      return {
        path: [...path, extra],
        atKey: true,
        message: `unknown key ${quoted(extra)}${hint}; expected one of ${allowed.join(', ')}`,
      };
    }
    case 'type': {
      let expected = expectedOf(parent, root);
      if (parent.type === 'string' && typeof error.data !== 'object' && !expected.includes('quotes')) {
        expected += ` (a text value: put it in quotes)`;
      }
      return { path, message: `received ${received()} (${kindOf(error.data)}); expected ${expected}` };
    }
    case 'enum':
      return { path, message: `received ${received()}; expected one of ${(parent.enum as unknown[]).join(', ')}` };
    case 'pattern':
    case 'format':
      return { path, message: `received ${received()}; expected ${expectedOf(parent, root)}` };
    case 'minimum':
    case 'maximum':
      return { path, message: `received ${received()}; expected ${expectedOf(parent, root)}` };
    case 'minItems':
      return { path, message: `received ${received()}; expected at least ${parent.minItems} item(s)` };
    case 'uniqueItems': {
      const { i, j } = error.params as { i: number; j: number };
      return {
        path,
        message: `items ${j} and ${i} are the same (${describeValue((error.data as unknown[])[i])}); expected each item once`,
      };
    }
    case 'propertyNames':
      // Reported with the offending key by the nested error, above.
      return undefined;
    default:
      return { path, message: `received ${received()}; ${error.message ?? 'is not valid'}` };
  }
}

/** The allowed key nearest to a misspelled one, if it is close enough to be a typo. */
export function closest(word: string, candidates: string[]): string | undefined {
  const limit = Math.max(2, Math.floor(word.length / 3));
  const lower = word.toLowerCase();
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const candidate of candidates) {
    // The distance is at least the difference of the lengths: most keys of a file of unknown keys end here.
    if (Math.abs(candidate.length - word.length) >= bestDistance) continue;
    const d = distance(lower, candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

function distance(a: string, b: string): number {
  const row: number[] = [];
  for (let j = 0; j <= b.length; j++) row.push(j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length];
}
