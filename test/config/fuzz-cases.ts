/*
 * The fuzz suite's cases (test/config/fuzz.test.ts runs this file in a child process; see there why):
 *   node -r ts-node/register/transpile-only test/config/fuzz-cases.ts raw|code RUNS [SEED]
 * prints one JSON line: the number of cases, the CPU time of all and of the slowest, and the first case that broke
 * the property (shrunk by fast-check), if any.
 */
import * as fc from 'fast-check';
import { stringify } from 'yaml';
import { platform, stagingCustomer } from './fixtures';
import { ConfigError } from '../../src/config/errors';
import { ConfigLoader } from '../../src/config/loader';

/** CPU time of this process so far, in milliseconds (user and system). */
function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

let slowest = { ms: 0, what: '' };
let totalMs = 0;

/** Why a loader's answer is not a valid config or a clear ConfigError; undefined when it is. */
function problemOf(call: () => unknown): string | undefined {
  try {
    call();
    return undefined;
  } catch (e) {
    if (!(e instanceof ConfigError)) return `threw ${(e as Error)?.stack ?? String(e)}`;
    if (e.problems.length === 0) return 'a ConfigError without problems';
    for (const problem of e.problems) {
      if (!/\S/.test(problem.file)) return `a problem without its file: ${JSON.stringify(problem)}`;
      if (typeof problem.path !== 'string') return `a problem without its field path: ${JSON.stringify(problem)}`;
      if (!/expected|YAML|must be less than/.test(problem.message)) {
        return `a problem that does not say what was expected: ${problem.message.slice(0, 300)}`;
      }
      if (problem.message.length >= 2_000) return `a problem message of ${problem.message.length} characters`;
    }
    if (e.message.length >= 200_000) return `an error message of ${e.message.length} characters`;
    return undefined;
  }
}

/** The property of one case: a valid config or a clear ConfigError, in under 1 s of CPU time. */
function check(what: string, call: () => unknown): boolean {
  const started = cpuMs();
  const problem = problemOf(call);
  const ms = cpuMs() - started;
  totalMs += ms;
  if (ms > slowest.ms) slowest = { ms, what: what.slice(0, 120) };
  if (problem !== undefined) throw new Error(problem);
  if (ms >= 1_000) throw new Error(`took ${ms.toFixed(0)} ms of CPU time; expected under 1 s`);
  return true;
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

const [kind, runsText, seedText] = process.argv.slice(2);
const runs = Number(runsText);
const seed = seedText !== undefined && seedText !== '' ? Number(seedText) : undefined;
const property =
  kind === 'raw'
    ? fc.property(rawText, (text) =>
        check(text, () => ConfigLoader.parseCustomer(text, 'customers/fuzz.yaml', { platform: platform() })),
      )
    : fc.property(codeConfig, (config) =>
        check(JSON.stringify(Object.keys(config)), () =>
          ConfigLoader.validateCustomer(config as any, { platform: platform() }),
        ),
      );
const details = fc.check(property as fc.IProperty<unknown>, { numRuns: runs, seed });
process.stdout.write(
  `${JSON.stringify({
    runs: details.numRuns,
    seed: details.seed,
    totalMs,
    slowest,
    failure: details.failed
      ? {
          error: String(details.errorInstance),
          counterexample: JSON.stringify(details.counterexample)?.slice(0, 2_000),
        }
      : undefined,
  })}\n`,
);
