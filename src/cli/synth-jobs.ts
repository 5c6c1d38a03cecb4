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
  | { readonly ok: true; readonly treeMaxNodes?: number; readonly maxRssKib?: number }
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
 * The stacks of each worker: dealt in the fleet's order, one to each worker in turn, so that the platform and the
 * customers of one kind spread evenly. The same stacks and jobs always give the same shares.
 */
export function sharesOf(stacks: string[], jobs: number): string[][] {
  const shares: string[][] = Array.from({ length: Math.min(jobs, stacks.length) }, () => []);
  stacks.forEach((stack, i) => shares[i % shares.length].push(stack));
  return shares;
}

/** Starts every worker, in `folder/job-<i>.json`, and returns how each ended, in the order of the jobs. */
export function runWorkers(jobs: WorkerJob[], folder: string): WorkerOutcome[] {
  const entry = join(__dirname, `synth-worker${extname(__filename)}`);
  // From a checkout's sources (the tests), the worker runs its TypeScript through the checkout's esbuild hook.
  const loader = extname(__filename) === '.ts' ? ['-r', join(PACKAGE_ROOT, 'scripts', 'ts-register.js')] : [];
  const files = jobs.map((job, i) => {
    const file = join(folder, `job-${i + 1}.json`);
    writeFileSync(file, JSON.stringify(job));
    return file;
  });
  const started = spawnSync(process.execPath, ['-e', COORDINATOR], {
    input: JSON.stringify(files.map((file) => [...loader, entry, file])),
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
 * The process that starts the workers: reads their arguments (a JSON array, one array each) from stdin, starts them
 * all, waits for every one and prints how each ended ("exit 0", "signal SIGKILL", or why it could not start).
 */
const COORDINATOR = `
const { spawn } = require('child_process');
const workers = JSON.parse(require('fs').readFileSync(0, 'utf-8'));
const ends = new Array(workers.length);
let left = workers.length;
workers.forEach((args, i) => {
  const end = (how) => {
    if (ends[i] !== undefined) return;
    ends[i] = how;
    if (--left === 0) process.stdout.write(JSON.stringify(ends));
  };
  const child = spawn(process.execPath, args, { stdio: ['ignore', 2, 2] });
  child.on('error', (e) => end('could not start: ' + e.message));
  child.on('exit', (code, signal) => end(signal ? 'signal ' + signal : 'exit ' + code));
});
`;
