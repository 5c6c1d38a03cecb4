/*
 * What a synthesis of `paas-vending synth` is built on, in the command's process and in its worker processes alike
 * (synth.ts, synth-worker.ts): the App, the fleet as VendingFleet takes it, and how a failure is reported.
 *
 * Internal: not exported from src/index.ts.
 */
import { isAbsolute, relative } from 'path';
import { App, AppProps, DefaultStackSynthesizer } from 'aws-cdk-lib';
import { CloudAssembly } from 'aws-cdk-lib/cx-api';
import type { SynthCacheStats, TemplateFacts } from './synth-cache';
import { writeRefusal } from '../config/atomic-write';
import { DISABLE_CREATION_STACK_TRACES } from '../config/creation-traces';
import { publicCustomer, publicPlatform } from '../config/defaults';
import { ConfigError } from '../config/errors';
import { ResolvedFleet } from '../config/loader';
import type { FleetConfig } from '../config/types';
import type { FleetPlacement } from '../environment/placement';
import { VendingFleet } from '../environment/vending-fleet';

/** A path relative to cwd when it is under it, else absolute. */
export function shownPath(path: string, cwd: string): string {
  const rel = relative(cwd, path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

/** Errors that are bugs of the command (or of a construct), not a refusal of the fleet: they keep their exit code. */
function isBug(e: unknown): boolean {
  return (
    !(e instanceof Error) ||
    e instanceof ConfigError ||
    e instanceof TypeError ||
    e instanceof ReferenceError ||
    e instanceof RangeError ||
    e instanceof SyntaxError
  );
}

/**
 * The App every synthesis of the command builds its stacks in, here and in the worker processes alike. Stack traces
 * are left out of the assembly, those of metadata entries (stackTraces) and those of each element's creation (a context
 * key the CDK CLI does not set): they name the files and lines of the process that built each stack, so the assembly
 * would depend on where and how it was built. CDK_DEBUG brings the creation traces back, as aws-cdk-lib documents.
 */
export function synthApp(
  outdir: string,
  validation: boolean | undefined,
  defaultStackSynthesizer?: DefaultStackSynthesizer,
): App {
  // AppProps of the aws-cdk-lib floor have no builtinCloudFormationValidation: older versions ignore it.
  const appProps: AppProps & { builtinCloudFormationValidation?: boolean } = {
    outdir,
    autoSynth: false,
    context: { [DISABLE_CREATION_STACK_TRACES]: true },
    stackTraces: false,
    ...(validation !== undefined ? { builtinCloudFormationValidation: validation } : {}),
    ...(defaultStackSynthesizer ? { defaultStackSynthesizer } : {}),
  };
  return new App(appProps);
}

/** The fleet as VendingFleet._fromReadDirectory takes it: the command's read of the directory, public configs. */
export function readFleetConfig(fleet: ResolvedFleet): FleetConfig {
  return {
    directory: fleet.directory,
    platform: publicPlatform(fleet.platform),
    customers: fleet.customers.map(publicCustomer),
  };
}

/**
 * What a failed build or synthesis tells the user: a problem, or the error rethrown when it is a bug of the command or
 * a ConfigError (run prints those itself). Shared by this process and the worker processes' failures.
 */
export function failureOf(e: unknown, cwd: string): { readonly problem: string } {
  if (isBug(e)) throw e;
  const failed = (e as NodeJS.ErrnoException).path;
  if (typeof (e as NodeJS.ErrnoException).syscall === 'string' && typeof failed === 'string') {
    // The file system refused a file of the assembly (a full disk, a folder made read-only meanwhile).
    const reason = writeRefusal(e, failed, (p) => shownPath(p, cwd));
    return {
      problem: `${shownPath(failed, cwd)}: cannot be written (${reason}); expected a writable cloud assembly folder`,
    };
  }
  return { problem: (e as Error).message };
}

/** A synthesized assembly, with what the rows need: the stacks in the fleet's order and the placement. */
export interface SynthesizedFleet {
  readonly assembly: CloudAssembly;
  /** Artifact ids of the stacks built, the platform's first, then the fleet's customers in order. */
  readonly order: string[];
  /** The platform stack's artifact id, when it was built. */
  readonly platformStack?: string;
  readonly placement: FleetPlacement;
  readonly placementChanges: string[];
  /** Stack names of offboarded environments built for cdk destroy (in this process only). */
  readonly offboarded?: string[];
  /** What came from the cache of synthesized stacks and what was built, when it was used. */
  readonly cache?: SynthCacheStats;
  /** The counts of the templates taken from the cache, by artifact id: those templates are not read again. */
  readonly templateFacts?: Map<string, TemplateFacts>;
}

/** The context key of aws-cdk-lib's tree.json: nodes per file (the merge splits the merged tree the same way). */
const TREE_MAX_NODES = '@aws-cdk/core.TreeMetadata:maxNodes';

/**
 * Builds some stacks of a read and placed fleet in an App of their own and synthesizes them into `outdir`: what a
 * worker process does (synth-worker.ts), and what the command does for the stacks the cache lacks (synth.ts). Returns
 * the App's tree.json node limit, which the merge needs; throws what the build or the synthesis threw.
 */
export function buildPart(job: {
  readonly fleet: FleetConfig;
  readonly stacks: string[];
  readonly outdir: string;
  readonly validation?: boolean;
}): { readonly treeMaxNodes?: number } {
  const app = synthApp(job.outdir, job.validation);
  VendingFleet._fromReadDirectory(app, job.fleet, { frozenPlacement: true, stacks: job.stacks });
  app.synth();
  const treeMaxNodes = app.node.tryGetContext(TREE_MAX_NODES);
  return typeof treeMaxNodes === 'number' ? { treeMaxNodes } : {};
}

/** The context every App of the command holds (its own keys, and what the CDK CLI passes), for the cache's key. */
export function appContext(outdir: string, validation: boolean | undefined): Record<string, unknown> {
  return synthApp(outdir, validation).node.getAllContext();
}
