/*
 * `paas-vending synth --jobs N`: the worker processes that build and synthesize a share of the fleet's stacks each.
 *
 * The command is synchronous (run returns its exit code), so the workers are started by one small Node.js process
 * of their own (COORDINATOR below, run with spawnSync): it starts every worker at once, waits for all of them and
 * prints how each ended. Each worker (synth-worker.ts) reads its job from a file and writes its result beside it:
 * `{ ok: true }` or the error it failed with, as data (synth-worker.ts, WorkerError). What a worker prints goes to the
 * command's stderr, never to its stdout (which holds --json).
 *
 * Internal: not exported from src/index.ts.
 */
import { spawnSync } from 'child_process';
import { existsSync, readFileSync, writeFileSync } from 'fs';
import { availableParallelism, cpus } from 'os';
import { extname, join } from 'path';
import { PACKAGE_ROOT, UsageError } from './io';
import type { FleetConfig } from '../config/types';

/** The environment variable that sets the default of --jobs (for the CDK CLI's app command, CI machines). */
export const JOBS_VARIABLE = 'PAAS_VENDING_JOBS';

/** The environment variable that sets how many stacks one worker process builds at most. */
export const STACKS_PER_PROCESS_VARIABLE = 'PAAS_VENDING_STACKS_PER_PROCESS';

/**
 * How many stacks one worker process builds at most, by default. A process's heap grows with the stacks it built
 * (aws-cdk-lib keeps every token it made for the life of the process), so a large fleet is built by more processes
 * than --jobs, at most --jobs of them at a time: 200 customer stacks peak at about 600 MiB without validation
 * (docs/BENCHMARKS.md), which keeps every process under 1 GiB, while each process's start (Node.js, the modules,
 * the JIT) costs about 0.7 s of CPU.
 */
export const DEFAULT_STACKS_PER_PROCESS = 200;

/** What one worker builds: its stacks of the fleet, into its own cloud assembly folder. */
export interface WorkerJob {
  readonly fleet: FleetConfig;
  readonly stacks: string[];
  readonly outdir: string;
  readonly validation?: boolean;
}

/** An error of a worker, as data: enough for the command to report it as it reports its own (synth.ts, failureOf). */
export interface WorkerError {
  readonly name: string;
  readonly message: string;
  readonly problems?: unknown[];
  readonly code?: string;
  readonly syscall?: string;
  readonly path?: string;
}

/** How a worker ended: its result file, or how the process ended without one. */
export type WorkerOutcome =
  | {
      readonly ok: true;
      readonly treeMaxNodes?: number;
      readonly maxRssKib?: number;
      /** When the worker started and ended its build (Date.now()). */
      readonly startedAt?: number;
      readonly endedAt?: number;
    }
  | { readonly error: WorkerError }
  | { readonly ended: string };

/**
 * The number of worker processes asked for: --jobs, else $PAAS_VENDING_JOBS, else the machine's processors
 * (os.availableParallelism, os.cpus on older Node.js). The synthesis starts no more than one per stack it builds.
 */
export function jobsOf(option: string | undefined, env: Readonly<Record<string, string | undefined>>): number {
  const given = option ?? env[JOBS_VARIABLE];
  const where = option !== undefined ? 'synth: --jobs' : `synth: ${JOBS_VARIABLE}`;
  let jobs: number;
  if (given === undefined || (option === undefined && given === '')) {
    jobs = typeof availableParallelism === 'function' ? availableParallelism() : cpus().length;
  } else if (/^[1-9][0-9]{0,5}$/.test(given.trim())) {
    jobs = Number(given.trim());
  } else {
    throw new UsageError(
      `${where}: received ${JSON.stringify(given)}; expected a whole number of processes from 1 up, such as --jobs 4`,
    );
  }
  return Math.max(1, jobs);
}

/**
 * The most stacks one worker process builds: $PAAS_VENDING_STACKS_PER_PROCESS, else DEFAULT_STACKS_PER_PROCESS.
 */
export function stacksPerProcessOf(env: Readonly<Record<string, string | undefined>>): number {
  const given = env[STACKS_PER_PROCESS_VARIABLE];
  if (given === undefined || given === '') return DEFAULT_STACKS_PER_PROCESS;
  if (!/^[1-9][0-9]*$/.test(given.trim())) {
    throw new UsageError(
      `synth: ${STACKS_PER_PROCESS_VARIABLE}: received ${JSON.stringify(given)}; expected a whole number of stacks ` +
        `from 1 up, such as ${DEFAULT_STACKS_PER_PROCESS} (the default)`,
    );
  }
  return Number(given.trim());
}

/**
 * The stacks of each worker process: as many processes as --jobs, or more when a process would build more than
 * `perProcess` stacks; the stacks dealt in the fleet's order, one to each process in turn, so that the platform and
 * the customers of one kind spread evenly. The same stacks, jobs and limit always give the same shares.
 */
export function sharesOf(stacks: string[], jobs: number, perProcess: number = Infinity): string[][] {
  const count = Math.min(stacks.length, Math.max(jobs, Math.ceil(stacks.length / perProcess)));
  const shares: string[][] = Array.from({ length: count }, () => []);
  stacks.forEach((stack, i) => shares[i % shares.length].push(stack));
  return shares;
}

/**
 * Runs every worker, in `folder/job-<i>.json`, at most `concurrency` at a time (each next one starts when one ends),
 * and returns how each ended, in the order of the jobs.
 */
export function runWorkers(jobs: WorkerJob[], folder: string, concurrency: number): WorkerOutcome[] {
  const entry = join(__dirname, `synth-worker${extname(__filename)}`);
  // From a checkout's sources (the tests), the worker runs its TypeScript through the checkout's esbuild hook.
  const loader = extname(__filename) === '.ts' ? ['-r', join(PACKAGE_ROOT, 'scripts', 'ts-register.js')] : [];
  const files = jobs.map((job, i) => {
    const file = join(folder, `job-${i + 1}.json`);
    writeFileSync(file, JSON.stringify(job));
    return file;
  });
  const started = spawnSync(process.execPath, ['-e', COORDINATOR], {
    input: JSON.stringify({
      limit: Math.max(1, concurrency),
      workers: files.map((file) => [...loader, entry, file]),
    }),
    stdio: ['pipe', 'pipe', 'inherit'],
    env: process.env,
    maxBuffer: 16 * 1024 * 1024,
  });
  if (started.error || started.status !== 0) {
    throw new Error(
      `the worker processes could not be started (${started.error?.message ?? `exit ${started.status ?? started.signal}`})`,
    );
  }
  const ends: string[] = JSON.parse(started.stdout.toString('utf-8'));
  return files.map((file, i) => {
    const result = `${file}.result`;
    if (!existsSync(result)) return { ended: ends[i] };
    return JSON.parse(readFileSync(result, 'utf-8')) as WorkerOutcome;
  });
}

/**
 * The process that runs the workers: reads `{ limit, workers }` (the workers' arguments, one array each, the job file
 * last) from stdin, starts `limit` of them, starts the next one each time one ends, and once every one has ended
 * prints how each ended ("exit 0", "signal SIGKILL", why it could not start). Once a worker has failed (it did not
 * exit 0, or its result is an error) no other one is started: the command reports the first failure, and the ones
 * queued behind it would only make the user wait for it ("not started: ...").
 */
const COORDINATOR = `
const { spawn } = require('child_process');
const { readFileSync } = require('fs');
const { limit, workers } = JSON.parse(readFileSync(0, 'utf-8'));
const ends = new Array(workers.length);
let left = workers.length;
let next = 0;
let failed;
const failure = (i, how) => {
  if (how !== 'exit 0') return how;
  try {
    const result = JSON.parse(readFileSync(workers[i][workers[i].length - 1] + '.result', 'utf-8'));
    return 'error' in result ? 'an error' : undefined;
  } catch (e) {
    return 'no result';
  }
};
const start = () => {
  const i = next++;
  if (i >= workers.length) return;
  const end = (how) => {
    if (ends[i] !== undefined) return;
    ends[i] = how;
    left--;
    failed = failed || failure(i, how);
    if (failed) {
      for (; next < workers.length; next++, left--) ends[next] = 'not started: worker ' + (i + 1) + ' ended with ' + failed;
    }
    if (left === 0) process.stdout.write(JSON.stringify(ends));
    else start();
  };
  let child;
  try {
    child = spawn(process.execPath, workers[i], { stdio: ['ignore', 2, 2] });
  } catch (e) {
    // Some failures (ENOMEM from fork) are thrown rather than emitted: this one is said, and none is started after it.
    return end('could not start: ' + e.message);
  }
  child.on('error', (e) => end('could not start: ' + e.message));
  child.on('exit', (code, signal) => end(signal ? 'signal ' + signal : 'exit ' + code));
};
for (let k = 0; k < Math.min(limit, workers.length); k++) start();
`;
