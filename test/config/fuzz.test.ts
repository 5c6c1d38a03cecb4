/*
 * Fuzz suite of the loader: generated raw YAML texts (alias bombs, huge values, deep nesting, broken syntax) and
 * configs built in code (Maps, Sets, Dates, class instances, huge and deep values). Each must end as a valid config
 * or a ConfigError whose every problem names its file, its field (a path, empty for the whole file) and says what was
 * expected; the message of the error stays bounded. Each case must take under 1 s of CPU time (CPU, not wall time:
 * on a machine shared far beyond its cores a case waits for a core longer than it runs). The slowest case is printed;
 * the figures are in docs/BENCHMARKS.md.
 *
 * FUZZ_RUNS (default 10,000: about 3 ms of CPU per raw text, 0.5 ms per config in code) cases of each kind,
 * FUZZ_SEED to replay a run: FUZZ_RUNS=100000 FUZZ_SEED=42 npx jest ...
 */
import * as fc from 'fast-check';
import { stringify } from 'yaml';
import { platform, stagingCustomer } from './fixtures';
import { ConfigLoader } from '../../src';
import { ConfigError } from '../../src/config/errors';

const RUNS = Number(process.env.FUZZ_RUNS ?? 10_000);
const SEED = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : undefined;

/** The case that took the most CPU time, and the CPU time of all cases (milliseconds). */
let slowest = { ms: 0, what: '' };
let totalMs = 0;
/** Wall time allowed per test: a loaded machine runs a case several times slower than its CPU time. */
const TIMEOUT_MS = Math.max(120_000, RUNS * 60);

/** CPU time of this process so far, in milliseconds (user and system). */
function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

function expectValidOrClearError(what: string, call: () => unknown): void {
  const started = cpuMs();
  try {
    call();
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    expect(e.problems.length).toBeGreaterThan(0);
    for (const problem of e.problems) {
      expect(problem.file).toMatch(/\S/);
      expect(typeof problem.path).toBe('string');
      expect(problem.message).toMatch(/expected|YAML|must be less than/);
      expect(problem.message.length).toBeLessThan(2_000);
    }
    expect(e.message.length).toBeLessThan(200_000);
  } finally {
    const ms = cpuMs() - started;
    totalMs += ms;
    if (ms > slowest.ms) slowest = { ms, what: what.slice(0, 120) };
  }
}

/** Hostile fragments of YAML. */
const aliasBomb = fc.integer({ min: 2, max: 9 }).map((levels) => {
  const lines = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
  for (let i = 1; i < levels; i++) {
    lines.push(
      `a${i}: &a${i} [${Array(10)
        .fill(`*a${i - 1}`)
        .join(', ')}]`,
    );
  }
  return lines.join('\n');
});
const hugeValue = fc
  .tuple(
    fc.constantFrom('compute:\n  instanceType: ', 'customer: ', 'tags:\n  Big: ', 'x: '),
    fc.integer({ min: 1_000, max: 30_000 }),
  )
  .map(([prefix, n]) => `${prefix}${'y'.repeat(n)}`);
const deepNesting = fc.integer({ min: 10, max: 200 }).map((n) => `compute: ${'['.repeat(n)}${']'.repeat(n)}`);
// Now and then a file of up to 5,000 keys (about 40 KB): the YAML parser's own duplicate-key check and the
// report of each unknown key once cost time quadratic in the keys (seconds for such a file).
const manyKeys = fc
  .oneof(
    { arbitrary: fc.integer({ min: 10, max: 500 }), weight: 99 },
    { arbitrary: fc.integer({ min: 500, max: 5_000 }), weight: 1 },
  )
  .map((n) => Array.from({ length: n }, (_, i) => `k${i}: ${i}`).join('\n'));
const noise = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom(
    '&a',
    '*a',
    '!!binary',
    '%YAML 1.1\n---',
    '? ',
    '---\n',
    '{',
    ']',
    '\t',
    '<<: *a0',
    'customer: [',
    '',
  ),
);

const rawText = fc
  .tuple(fc.array(fc.oneof(aliasBomb, hugeValue, deepNesting, manyKeys, noise), { maxLength: 3 }), fc.boolean())
  .map(([parts, withBase]) => [...(withBase ? [stringify(stagingCustomer())] : []), ...parts].join('\n'));

class Thing {
  public readonly minCapacity = 1;
}
const oddValue = fc.oneof(
  fc.anything({ maxDepth: 3 }),
  fc.constant(new Map([['minCapacity', 5]])),
  fc.constant(new Set(['a'])),
  fc.constant(new Date(0)),
  fc.constant(/x/),
  fc.constant(new Thing()),
  fc.integer({ min: 1, max: 200_000 }).map((n) => 'z'.repeat(n)),
  fc.integer({ min: 1, max: 500 }).map((n) => {
    let v: unknown = 1;
    for (let i = 0; i < n; i++) v = [v];
    return v;
  }),
);
const codeConfig = fc
  .record({
    field: fc.constantFrom('compute', 'tags', 'database', 'customer', 'approvalEmails', 'extra'),
    value: oddValue,
  })
  .map(({ field, value }) => {
    const { software, ...rest } = stagingCustomer();
    return { ...rest, softwareDelivery: software, [field]: value };
  });

describe('fuzz: the loader ends with a valid config or a clear ConfigError', () => {
  afterAll(() => {
    // eslint-disable-next-line no-console
    console.log(
      `fuzz: ${RUNS} cases of each kind, seed ${SEED ?? 'random'}; CPU time ${(totalMs / 1000).toFixed(1)} s in all, ` +
        `slowest case ${slowest.ms.toFixed(0)} ms (${slowest.what})`,
    );
  });

  test(
    `${RUNS} raw YAML texts`,
    () => {
      fc.assert(
        fc.property(rawText, (text) =>
          expectValidOrClearError(text, () =>
            ConfigLoader.parseCustomer(text, 'customers/fuzz.yaml', { platform: platform() }),
          ),
        ),
        { numRuns: RUNS, seed: SEED },
      );
      expect(slowest.ms).toBeLessThan(1_000);
    },
    TIMEOUT_MS,
  );

  test(
    `${RUNS} configs built in code`,
    () => {
      fc.assert(
        fc.property(codeConfig, (config) =>
          expectValidOrClearError(JSON.stringify(Object.keys(config)), () =>
            ConfigLoader.validateCustomer(config as any, { platform: platform() }),
          ),
        ),
        { numRuns: RUNS, seed: SEED },
      );
      expect(slowest.ms).toBeLessThan(1_000);
    },
    TIMEOUT_MS,
  );
});
