/*
 * Fuzz suite of the loader: generated raw YAML texts (alias bombs, huge values, deep nesting, broken syntax, now and
 * then a file of thousands of keys) and configs built in code (Maps, Sets, Dates, class instances, huge and deep
 * values), generated in test/config/fuzz-cases.ts. Each must end as a valid config or a ConfigError whose every
 * problem names its file, its field (a path, empty for the whole file) and says what was expected; the message of the
 * error stays bounded. Each case must take under 1 s of CPU time (CPU, not wall time: on a machine shared far beyond
 * its cores a case waits for a core longer than it runs). The slowest case is printed; the figures are in
 * docs/BENCHMARKS.md.
 *
 * The cases run in two child processes, one per kind, side by side: outside jest's coverage counters, which made
 * the loader's hot loops about five times slower (a case of 5,000 keys took 3.9 s of CPU under them, 0.7 s without),
 * and with a CPU clock of their own.
 *
 * FUZZ_RUNS (default 10,000: about 5 ms of CPU per raw text, 0.5 ms per config in code) cases of each kind,
 * FUZZ_SEED to replay a run: FUZZ_RUNS=100000 FUZZ_SEED=42 npx jest test/config/fuzz.test.ts
 */
import { spawn } from 'child_process';
import { join } from 'path';

const RUNS = Number(process.env.FUZZ_RUNS ?? 10_000);
const SEED = process.env.FUZZ_SEED ?? '';
/** Wall time allowed: a loaded machine runs a case several times slower than its CPU time. */
const TIMEOUT_MS = Math.max(180_000, RUNS * 60);
const ROOT = join(__dirname, '..', '..');

interface Outcome {
  readonly runs: number;
  readonly seed: number;
  readonly totalMs: number;
  readonly slowest: { readonly ms: number; readonly what: string };
  readonly failure?: { readonly error: string; readonly counterexample?: string };
}

/** Runs the cases of one kind in a child process and returns what it printed. */
function runCases(kind: 'raw' | 'code'): Promise<Outcome> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', join(__dirname, 'fuzz-cases.ts'), kind, String(RUNS), SEED],
      { cwd: ROOT, env: { ...process.env, TS_NODE_PROJECT: join(ROOT, 'tsconfig.dev.json') } },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      try {
        resolvePromise(JSON.parse(line) as Outcome);
      } catch {
        reject(new Error(`the ${kind} fuzz cases ended with exit code ${code} and no result:\n${err}\n${out}`.trim()));
      }
    });
  });
}

const outcomes = new Map<string, Outcome>();

afterAll(() => {
  const summary = [...outcomes].map(
    ([kind, o]) =>
      `${kind}: ${o.runs} cases, seed ${o.seed}, CPU ${(o.totalMs / 1000).toFixed(1)} s, slowest ` +
      `${o.slowest.ms.toFixed(0)} ms (${o.slowest.what})`,
  );
  // eslint-disable-next-line no-console
  console.log(`fuzz: ${summary.join('; ')}`);
});

describe('fuzz: the loader ends with a valid config or a clear ConfigError', () => {
  // Both kinds start at once, one process each.
  const raw = runCases('raw');
  const code = runCases('code');
  raw.catch(() => undefined);
  code.catch(() => undefined);

  test.each([
    [`${RUNS} raw YAML texts`, 'raw', raw],
    [`${RUNS} configs built in code`, 'code', code],
  ] as const)(
    '%s',
    async (_name, kind, running) => {
      const outcome = await running;
      outcomes.set(kind, outcome);
      expect(outcome.failure).toBeUndefined();
      expect(outcome.runs).toBe(RUNS);
      expect(outcome.slowest.ms).toBeLessThan(1_000);
    },
    TIMEOUT_MS,
  );
});
