/*
 * The fast parse of config files (js-yaml) must give what the full parse (yaml, with line positions) gives, or
 * nothing: a file it declines is read by the full parse. These tests compare the two on every example file, on a
 * generated fleet, on the YAML forms where parsers disagree and on generated documents in many styles; and they
 * check that the example files do take the fast path, since that is what it is for.
 */
import { mkdtempSync, readdirSync, readFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import * as fc from 'fast-check';
import { dump } from 'js-yaml';
import { stringify } from 'yaml';
import { generateFleet } from '../../scripts/bench-fleet-generate';
import { ConfigLoader } from '../../src';
import { ConfigError } from '../../src/config/errors';
import { parseYaml } from '../../src/config/loader';
import { quickYaml } from '../../src/config/quick-yaml';

const EXAMPLES = join(__dirname, '..', '..', 'examples');

/** What the full parse gives for a text, or undefined when it reports a problem. */
function fullParse(text: string): unknown {
  try {
    return parseYaml(text, 'test.yaml').doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    if (e instanceof ConfigError) return undefined;
    throw e;
  }
}

/**
 * A value as nested entries, each with its type: keys such as `constructor` or `__proto__` compare as data, key
 * order counts, and -0, NaN and the infinities keep their identity.
 */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return ['list', ...value.map(canonical)];
  if (value !== null && typeof value === 'object') {
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    return ['map', ...Object.keys(value).map((k) => [k, canonical((value as Record<string, unknown>)[k])])];
  }
  if (typeof value === 'number') return ['number', Object.is(value, -0) ? '-0' : String(value)];
  return [typeof value, value];
}

/** Asserts that the fast parse gives the full parse's value or declines; returns whether it took the text. */
function agrees(text: string): boolean {
  const quick = quickYaml(text);
  if (quick === undefined) return false;
  expect({ text, value: canonical(quick) }).toEqual({ text, value: canonical(fullParse(text)) });
  return true;
}

function configFiles(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' || entry.name === 'cdk.out' ? [] : configFiles(path);
    return /\.ya?ml$/.test(entry.name) ? [path] : [];
  });
}

describe('the fast parse of config files', () => {
  const examples = configFiles(EXAMPLES).filter((f) => /[/\\](customers[/\\][^/\\]+|platform)\.ya?ml$/.test(f));

  test('reads every example config file as the full parse does', () => {
    expect(examples.length).toBeGreaterThanOrEqual(7);
    for (const file of examples) {
      expect({ file, fast: agrees(readFileSync(file, 'utf-8')) }).toEqual({ file, fast: true });
    }
  });

  test('reads every file of a generated fleet of 60 as the full parse does', () => {
    const directory = join(mkdtempSync(join(tmpdir(), 'quick-yaml-')), 'fleet');
    generateFleet(join(EXAMPLES, 'fleet'), directory, 60);
    const files = configFiles(directory).filter((f) => !f.endsWith('placement.yaml'));
    expect(files.length).toBe(61);
    for (const file of files) expect(agrees(readFileSync(file, 'utf-8'))).toBe(true);
  });

  test.each([
    ['a number with underscores', 'a: 1_000\n'],
    ['binary and octal', 'a: 0b101\nb: 0o17\nc: 017\nd: 0x1F\ne: 0X1F\n'],
    ['YAML 1.1 booleans', 'a: yes\nb: No\nc: on\nd: OFF\ne: y\n'],
    ['core booleans and nulls', 'a: True\nb: FALSE\nc: ~\nd: Null\ne:\nf: NULL\n'],
    ['floats', 'a: .inf\nb: -.Inf\nc: .NaN\nd: 1e3\ne: 5.\nf: .5\ng: +12.5e-2\nh: 1.0\n'],
    ['sexagesimal and dates', 'a: 1:30\nb: 2001-12-14\nc: 2001-12-14t21:59:43.10-05:00\n'],
    ['large and signed integers', 'a: 12345678901234567890\nb: -0\nc: +7\nd: 007\n'],
    ['quoted scalars', "a: \"1\"\nb: 'true'\nc: \"tab\\there \\u00e9\"\nd: 'it''s'\n"],
    ['block scalars', 'a: |\n  one\n  two\nb: >-\n  folded\n  text\n\nc: |+\n  kept\n\nd: x\n'],
    ['flow collections', 'a: [1, "two", {b: 3}]\nc: {d: [], e: {}}\n'],
    ['comments and document markers', '# head\n---\na: 1 # trailing\n...\n'],
    ['CRLF line ends and a byte order mark', '\ufeffa: 1\r\nb:\r\n  - x\r\n'],
    ['a key named __proto__', '__proto__: 1\nb: 2\n'],
    ['keys that are not strings', '1: a\ntrue: b\nnull: c\n~: d\n'],
    ['a complex key', '? [a, b]\n: c\n'],
    ['anchors and aliases', 'a: &x {b: 1}\nc: *x\n'],
    ['a merge key', 'a: &x {b: 1}\nc:\n  <<: *x\n'],
    ['tags', 'a: !!str 5\nb: !!int "7"\nc: !!binary aGVsbG8=\nd: !custom x\ne: !!timestamp 2001-12-14\n'],
    ['a YAML 1.1 directive', '%YAML 1.1\n---\na: yes\n'],
    ['several documents', 'a: 1\n---\nb: 2\n'],
    ['a duplicate key', 'a: 1\na: 2\n'],
    ['a syntax error', 'a: [1, 2\n'],
    ['a top-level list', '- a\n- b\n'],
    ['an empty file', ''],
    ['a scalar', 'just text\n'],
    ['JSON', '{"customer": "acme", "compute": {"minCapacity": 2}, "list": [1, 2.5, null, true]}'],
    ['tabs and odd indentation', 'a:\n    b:\n         c: 1\n    d:\t2\n'],
    ['a plain scalar over lines', 'a: one\n  two\n  three\nb: x\n'],
    ['strings that look like special values', "a: '.inf'\nb: 0x\nc: 1e\nd: -\ne: '-'\nf: +\n"],
  ])('agrees with the full parse (or declines) on %s', (_name, text) => {
    agrees(text);
  });

  test('declines what only the full parse reads right', () => {
    for (const text of [
      'a: &x {b: 1}\nc: *x\n',
      '%YAML 1.1\n---\na: yes\n',
      '1: a\n',
      'null: a\n',
      '? [a, b]\n: c\n',
      'a: 1\na: 2\n',
      'a: !custom x\n',
      '- a\n',
      '',
    ]) {
      expect({ text, quick: quickYaml(text) }).toEqual({ text, quick: undefined });
    }
  });

  test('agrees with the full parse on generated documents in several styles', () => {
    const scalar = fc.oneof(
      fc.string(),
      fc.constantFrom(
        '1_000',
        '0o17',
        '0x1F',
        'yes',
        'No',
        '~',
        'null',
        '.inf',
        '1e3',
        '2001-12-14',
        '1:30',
        '-',
        '#x',
      ),
      fc.integer(),
      fc.double({ noNaN: false }),
      fc.boolean(),
      fc.constant(null),
    );
    const key = fc.oneof(fc.string({ minLength: 1 }), fc.constantFrom('__proto__', 'constructor', 'a b', 'x:y', '1'));
    const value = fc.letrec((tie) => ({
      node: fc.oneof({ depthSize: 'small' }, scalar, tie('list'), tie('map')),
      list: fc.array(tie('node'), { maxLength: 4 }),
      map: fc.dictionary(key, tie('node'), { maxKeys: 4 }),
    }));
    const document = fc.dictionary(key, value.node, { minKeys: 1, maxKeys: 6 });
    fc.assert(
      fc.property(document, fc.integer({ min: 0, max: 3 }), (doc, style) => {
        const text =
          style === 0
            ? stringify(doc)
            : style === 1
              ? stringify(doc, { collectionStyle: 'flow', defaultStringType: 'QUOTE_DOUBLE' })
              : style === 2
                ? dump(doc)
                : JSON.stringify(doc, null, 2);
        agrees(text);
      }),
      { numRuns: 400 },
    );
  });
});

describe('config files read by the fast parse', () => {
  test('a problem in a file the fast parse read still names its line and column', () => {
    const text = readFileSync(join(EXAMPLES, 'fleet', 'customers', 'acme-staging.yaml'), 'utf-8').replace(
      /minCapacity: \d+/,
      'minCapacity: -1',
    );
    expect(quickYaml(text)).toBeDefined();
    let problems: ConfigError['problems'] = [];
    try {
      ConfigLoader.parseCustomer(text, 'acme-staging.yaml');
    } catch (e) {
      problems = (e as ConfigError).problems;
    }
    const lines = text.split('\n');
    const line = lines.findIndex((l) => l.includes('minCapacity: -1')) + 1;
    const column = lines[line - 1].indexOf('-1') + 1;
    expect(problems).toEqual([
      expect.objectContaining({ file: 'acme-staging.yaml', path: 'compute.minCapacity', line, column }),
    ]);
  });
});
