/*
 * One worker process of `paas-vending synth --jobs N` (started by synth-jobs.ts): builds its share of the fleet's
 * stacks in an App of its own, exactly as the command builds every stack in one process (synth-app.ts, synthApp), and
 * synthesizes them into its own folder. The fleet comes read and validated from the command, placed (placement.yaml
 * written) before the workers start: a worker never writes placement.yaml.
 *
 *   node synth-worker.js JOB.json      writes JOB.json.result: { "ok": true } or { "error": { name, message, ... } }
 *
 * Internal: not exported from src/index.ts.
 */
import { readFileSync, writeFileSync } from 'fs';
import { buildPart } from './synth-app';
import type { WorkerError, WorkerJob, WorkerOutcome } from './synth-jobs';
import { ConfigError } from '../config/errors';

function work(jobFile: string): WorkerOutcome {
  const job: WorkerJob = JSON.parse(readFileSync(jobFile, 'utf-8'));
  const startedAt = Date.now();
  try {
    // Its peak memory and its time, for the benchmark (scripts/bench-fleet-app.ts reads them from the outcomes).
    const built = buildPart(job);
    return { ok: true, ...built, maxRssKib: process.resourceUsage().maxRSS, startedAt, endedAt: Date.now() };
  } catch (e) {
    return { error: errorData(e) };
  }
}

/** The error as data: its class's name, message, a ConfigError's problems, a file system error's fields. */
function errorData(e: unknown): WorkerError {
  if (!(e instanceof Error)) return { name: 'Error', message: `a value that is not an Error was thrown: ${String(e)}` };
  const failed = e as NodeJS.ErrnoException;
  return {
    name: e instanceof ConfigError ? 'ConfigError' : e.constructor.name,
    message: e.message,
    ...(e instanceof ConfigError ? { problems: e.problems } : {}),
    ...(typeof failed.code === 'string' ? { code: failed.code } : {}),
    ...(typeof failed.syscall === 'string' ? { syscall: failed.syscall } : {}),
    ...(typeof failed.path === 'string' ? { path: failed.path } : {}),
  };
}

const jobFile = process.argv[2];
// Written last, whole: the command reads a result only once the process has ended.
writeFileSync(`${jobFile}.result`, JSON.stringify(work(jobFile)));
// Nothing of the synthesis is left to wait for (aws-cdk-lib's validation engine may keep the event loop alive).
process.exit(0);
