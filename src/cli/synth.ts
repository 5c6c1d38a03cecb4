/*
 * `paas-vending synth`: builds a validated fleet with VendingFleet in a CDK App and synthesizes it into a cloud
 * assembly, then describes each stack (customer, environment, hosts, ingress, resource count, template file).
 *
 * Nothing here differs from a user's own CDK app: a plain `App` and `VendingFleet.fromDirectory` (given the fleet that
 * the command already read, so that each file is read once). Progress, when
 * asked for, comes from the one hook aws-cdk-lib offers while stacks are built: the App's default stack
 * synthesizer is bound to each stack as the stack is created. It hands every stack a fresh DefaultStackSynthesizer
 * (one shared instance would share its asset manifest between stacks), so the assembly is the same byte for byte;
 * a test compares it. App.synth() then synthesizes every stack at once (most of its time goes to aws-cdk-lib's
 * template validation), so the second phase is one line.
 *
 * Internal: not exported from src/index.ts.
 */
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'fs';
import { basename, dirname, join } from 'path';
import { DefaultStackSynthesizer, IBoundStackSynthesizer, Stack } from 'aws-cdk-lib';
import { CloudAssembly, CloudFormationStackArtifact } from 'aws-cdk-lib/cx-api';
import { AssemblyPart, installAssembly, mergeAssemblies, splitPart } from './assembly-merge';
import { appContext, buildPart, failureOf, readFleetConfig, shownPath, synthApp, SynthesizedFleet } from './synth-app';
import {
  CachedApp,
  CachedStack,
  SynthCache,
  SynthCacheInputs,
  SynthCacheStats,
  TemplateFacts,
  templateFactsOf,
} from './synth-cache';
import { DEFAULT_STACKS_PER_PROCESS, runWorkers, sharesOf, WorkerError } from './synth-jobs';
import { writeRefusal } from '../config/atomic-write';
import { ingressOf, ResolvedCustomerConfig, servedHosts } from '../config/defaults';
import { ConfigError, ConfigProblem } from '../config/errors';
import { platformFilesIn, ResolvedFleet } from '../config/loader';
import { readOffboardedEnvironments, readOffboardingRecord } from '../config/offboarding';
import type { FleetPlacement } from '../environment/placement';
import { fleetQuotaProblems, templateLimitProblems } from '../environment/quotas';
import {
  fleetPipelineStackName,
  fleetStackNames,
  INCLUDE_OFFBOARDED_CONTEXT_KEY,
  STACKS_CONTEXT_KEY,
  VendingFleet,
} from '../environment/vending-fleet';

/** One synthesized stack, as the table and `--json` show it. Customer fields are null on the platform's stack. */
export interface SynthRow {
  readonly stack: string;
  readonly customer: string | null;
  readonly environment: string | null;
  /** The customer's `hostname` (its own or the default under the platform's domain), as `list --json` has it. */
  readonly hostname: string | null;
  /** Every host name the environment answers: its custom domain first, then its hostname. */
  readonly hosts: string[];
  readonly ingress: 'shared' | 'dedicated' | null;
  /** The number of the shared load balancer serving the environment (placement.yaml); null when not shared. */
  readonly sharedLoadBalancer: number | null;
  /** Resources in the synthesized template. */
  readonly resources: number;
  /** The template file, relative to the current directory when it is under it, else absolute. */
  readonly template: string;
}

export interface SynthRequest {
  /** The cloud assembly directory (absolute). */
  readonly outdir: string;
  /** The directory paths are shown relative to. */
  readonly cwd: string;
  /** Receives progress lines; none are made without it, and the App is then exactly a user's App. */
  readonly progress?: (line: string) => void;
  /** When the command started (Date.now()), for the time in the last progress line. @default now */
  readonly startedAt?: number;
  /** Fail instead of changing placement.yaml. @default false */
  readonly frozenPlacement?: boolean;
  /**
   * aws-cdk-lib's built-in CloudFormation validation of every template (aws-cdk-lib 2.262 and later): true or false
   * sets it, undefined leaves aws-cdk-lib's default (on, unless CDK_VALIDATION=false). @default undefined
   */
  readonly validation?: boolean;
  /** Build only these stacks, by name (VendingFleetOptions.stacks). @default every stack */
  readonly stacks?: string[];
  /**
   * Also build the stacks of offboarded environments (VendingFleetOptions.includeOffboarded); undefined leaves it to
   * the context key vending:include-offboarded. @default undefined
   */
  readonly includeOffboarded?: boolean;
  /**
   * Worker processes that build and synthesize the stacks side by side (src/cli/synth-jobs.ts), at most one per
   * stack; 1 builds them all in this process. The assembly is the same byte for byte either way. @default 1
   */
  readonly jobs?: number;
  /**
   * The most stacks one worker process builds (synth-jobs.ts, DEFAULT_STACKS_PER_PROCESS): a larger share is split
   * over more processes, `jobs` of them at a time, and more stacks than this are built in worker processes even with
   * `jobs` 1, one process at a time. @default DEFAULT_STACKS_PER_PROCESS
   */
  readonly stacksPerProcess?: number;
  /** The CDK CLI runs the command (CDK_OUTDIR): the outdir is the CLI's, filled but never replaced. @default false */
  readonly cdkCli?: boolean;
  /**
   * Keep synthesized stacks between runs and take the unchanged ones from there (src/cli/synth-cache.ts), unless
   * PAAS_VENDING_CACHE or PAAS_VENDING_SYNTH_CACHE is off. @default false
   */
  readonly cache?: boolean;
  /** The environment the cache reads its switches and folder from. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** Inputs of the cache's key that a test replaces (versions, asset folders). @default the installed ones */
  readonly cacheInputs?: SynthCacheInputs;
}

export type SynthResult =
  | {
      readonly rows: SynthRow[];
      /** The cloud assembly directory, shown as the template paths are. */
      readonly outdir: string;
      /** Annotations of the synthesized stacks, `level: construct path: message`, as the CDK CLI reports them. */
      readonly warnings: string[];
      readonly errors: string[];
      /**
       * Context the AWS CDK CLI would look up in the account (such as the availability zones of an environment's
       * VPC): the templates hold placeholders for it. Keys as in cdk.context.json.
       */
      readonly missingContext: string[];
      /**
       * For each of missingContext, the field of the fleet's files to set so that nothing is looked up, as a
       * problem: `file: field: is missing; expected …`. The command fails on them unless the CDK CLI runs it.
       */
      readonly lookups: string[];
      /** The limits of one template (resources, outputs, parameters, bytes) that a template exceeds, one line each. */
      readonly templateLimits: string[];
      /** How placement.yaml changed (and was written), one line each; empty when it did not. */
      readonly placementChanges: string[];
      /** The placement file, shown as the template paths are. */
      readonly placementFile: string;
      /** The stacks of offboarded environments that were built (for cdk destroy), by name. */
      readonly offboarded: string[];
      /** What came from the cache of synthesized stacks and what was built; undefined when it was not used. */
      readonly cache?: SynthCacheStats;
    }
  | { readonly problem: string };

/**
 * An App's default stack synthesizer that reports each stack as it is created, then gives it a fresh
 * DefaultStackSynthesizer: what a Stack does when the App names no synthesizer.
 */
class ReportingSynthesizer extends DefaultStackSynthesizer {
  constructor(private readonly onStack: (stack: Stack) => void) {
    super();
  }

  public reusableBind(stack: Stack): IBoundStackSynthesizer {
    this.onStack(stack);
    return new DefaultStackSynthesizer().reusableBind(stack);
  }
}

/**
 * The problem of a lookup the templates hold a placeholder for, naming the field that makes it unneeded. The
 * availability zones are the platform VPC's only lookup; any other key is named as the CDK CLI names it.
 */
function lookupProblem(key: string, platformFile: string, region: string): string {
  const placeholders = `the templates hold placeholders for what the AWS CDK CLI looks up in the account (${key})`;
  if (key.startsWith('availability-zones:')) {
    return (
      `${platformFile}: vpc.availabilityZones: is missing; expected the names of the platform's availability zones ` +
      `in ${region} (such as [${['a', 'b', 'c'].map((z) => `${region}${z}`).join(', ')}]): without them ` +
      `${placeholders.replace('placeholders', 'placeholders (dummy1a)')}, and cannot be deployed as written`
    );
  }
  return `${platformFile}: ${placeholders}: they cannot be deployed as written; synthesize with the CDK CLI and credentials for the account`;
}

/**
 * Why the cloud assembly cannot go to `outdir`, before anything is built: a part of the path is a file, or the folder
 * cannot be created or written (read-only, immutable, no permission). Undefined when it can.
 */
function outdirProblem(outdir: string, cwd: string): string | undefined {
  try {
    mkdirSync(outdir, { recursive: true });
    accessSync(outdir, constants.W_OK);
    return undefined;
  } catch (e) {
    const reason = writeRefusal(e, outdir, (p) => shownPath(p, cwd));
    return `${shownPath(outdir, cwd)}: cannot be written (${reason}); expected a folder for the cloud assembly (--out): choose another path`;
  }
}

/** Builds the fleet of a validated directory in a new App writing to `request.outdir`, and synthesizes it. */
export function synthesizeFleet(fleet: ResolvedFleet, request: SynthRequest): SynthResult {
  const startedAt = request.startedAt ?? Date.now();
  const { outdir, cwd } = request;
  if (existsSync(outdir) && !statSync(outdir).isDirectory()) {
    return { problem: `${shownPath(outdir, cwd)}: is not a directory; expected a directory for the cloud assembly` };
  }
  // Made here when it is not there: a synthesis that fails removes it again, with whatever it holds of the failure.
  const made = !existsSync(outdir);
  const unwritable = outdirProblem(outdir, cwd);
  if (unwritable !== undefined) return { problem: unwritable };
  const unmake = () => {
    // Kept when aws-cdk-lib's validation wrote its report there: its message names that file.
    if (made && !existsSync(join(outdir, 'validation-report.json'))) rmSync(outdir, { recursive: true, force: true });
  };
  const cache = request.cache
    ? SynthCache.of(fleet.directory, request.env ?? process.env, request.cacheInputs)
    : undefined;
  const inParts = cache ? stacksOf(fleet, request) : undefined;
  const parallel = inParts ?? plannedJobs(fleet, request);
  let synthesized: SynthesizedFleet | { readonly problem: string };
  try {
    synthesized = parallel
      ? synthesizeInParts(fleet, request, parallel, inParts ? cache : undefined)
      : synthesizeHere(fleet, request);
  } catch (e) {
    unmake();
    throw e;
  }
  if ('problem' in synthesized) {
    unmake();
    return synthesized;
  }
  return describe(fleet, synthesized, request, startedAt);
}

/** The whole synthesis in this process: one App holding every stack built. */
function synthesizeHere(fleet: ResolvedFleet, request: SynthRequest): SynthesizedFleet | { readonly problem: string } {
  const { outdir, cwd, progress } = request;
  const total = request.stacks ? new Set(request.stacks).size : 1 + fleet.customers.length;
  let built = 0;
  const app = synthApp(
    outdir,
    request.validation,
    progress
      ? new ReportingSynthesizer((stack) => {
          built += 1;
          progress(`building ${stack.stackName}${built <= total ? ` (${built}/${total})` : ''}…`);
        })
      : undefined,
  );
  try {
    // The fleet the command read and checked: VendingFleet.fromDirectory without reading every file again.
    const vending = VendingFleet._fromReadDirectory(app, readFleetConfig(fleet), {
      frozenPlacement: request.frozenPlacement,
      ...(request.stacks ? { stacks: request.stacks } : {}),
      ...(request.includeOffboarded !== undefined ? { includeOffboarded: request.includeOffboarded } : {}),
    });
    const stacks = app.node.children.filter((c) => Stack.isStack(c)).length;
    progress?.(`synthesizing ${stacks} stacks…`);
    const assembly = app.synth();
    const offboardedStacks = vending.offboardedEnvironments ?? [];
    const stacksBuilt: Stack[] = [
      ...(vending.platformStack ? [vending.platformStack] : []),
      ...vending.environments,
      ...offboardedStacks,
    ];
    return {
      assembly,
      order: stacksBuilt.map((s) => s.artifactId),
      offboarded: offboardedStacks.map((s) => s.stackName),
      platformStack: vending.platformStack?.artifactId,
      placement: vending.placement,
      placementChanges: vending.placementChanges,
    };
  } catch (e) {
    return failureOf(e, cwd);
  }
}

/**
 * The stacks to build, in the fleet's order, when worker processes build them (`jobs` above 1, or more stacks than
 * one process builds, and at least two stacks); undefined when this process builds them all. A selection with a name
 * that is not the fleet's, or one made by the context key vending:stacks, is built here, where VendingFleet refuses
 * or applies it as it always does.
 */
function plannedJobs(fleet: ResolvedFleet, request: SynthRequest): string[] | undefined {
  const stacks = stacksOf(fleet, request);
  return stacks && inWorkers(stacks.length, request) ? stacks : undefined;
}

/** Whether worker processes build `count` stacks: more than one, and --jobs above 1 or more than one process builds. */
function inWorkers(count: number, request: SynthRequest): boolean {
  return count > 1 && ((request.jobs ?? 1) > 1 || count > (request.stacksPerProcess ?? DEFAULT_STACKS_PER_PROCESS));
}

/**
 * The stacks to build, in the fleet's order, when they are built in parts (worker processes, the cache); undefined
 * when one App must build them as VendingFleet selects them: offboarded environments' stacks, a name that is not the
 * fleet's (VendingFleet refuses it), the context key vending:stacks.
 */
function stacksOf(fleet: ResolvedFleet, request: SynthRequest): string[] | undefined {
  // Offboarded environments' stacks (for cdk destroy) are built here: the workers build the fleet's files only.
  if (request.includeOffboarded || contextSets(INCLUDE_OFFBOARDED_CONTEXT_KEY)) return undefined;
  const all = fleetStackNames(fleet.platform, fleet.customers);
  if (request.stacks && request.stacks.some((name) => !all.includes(name))) return undefined;
  if (!request.stacks && contextSelects()) return undefined;
  const stacks = request.stacks ? all.filter((name) => request.stacks!.includes(name)) : all;
  return stacks.length > 0 ? stacks : undefined;
}

/** Whether the context the CDK CLI hands an app (CDK_CONTEXT_JSON) selects stacks (vending:stacks). */
function contextSelects(): boolean {
  return contextSets(STACKS_CONTEXT_KEY);
}

/** Whether the context the CDK CLI hands an app (CDK_CONTEXT_JSON) sets this key (or cannot be read). */
function contextSets(key: string): boolean {
  const context = process.env.CDK_CONTEXT_JSON;
  if (context === undefined) return false;
  try {
    return JSON.parse(context)?.[key] !== undefined;
  } catch {
    return true; // aws-cdk-lib reports a context it cannot read: in this process
  }
}

/**
 * The synthesis in parts: the fleet placed here once (placement.yaml written here only); with the cache, each stack
 * whose key is unchanged taken from it (not built at all); the others dealt to worker processes (synth-jobs.ts,
 * synth-worker.ts), each writing its assembly to a folder of its own beside the outdir, or, one stack or --jobs 1,
 * built here into such a folder; the parts and the cached stacks merged (assembly-merge.ts) and put in place of the
 * outdir only once every part succeeded. A failed part fails the command with its error, as this process reports its
 * own, and the outdir is left as it was.
 */
function synthesizeInParts(
  fleet: ResolvedFleet,
  request: SynthRequest,
  stacks: string[],
  cache: SynthCache | undefined,
): SynthesizedFleet | { readonly problem: string } {
  const { outdir, cwd, progress } = request;
  const config = readFleetConfig(fleet);
  const platformStack = `${fleet.platform.name}-platform`;
  if (stacks.length === fleetStackNames(fleet.platform, fleet.customers).length) {
    // The account's quotas, which one App checks on the stacks of the whole fleet, from the config here: no part
    // holds the whole fleet.
    const problems: ConfigProblem[] = fleetQuotaProblems(fleet);
    if (problems.length > 0) throw new ConfigError(problems);
  }
  let placed: { placement: FleetPlacement; changes: string[] };
  try {
    placed = VendingFleet._placeReadDirectory(config, { frozenPlacement: request.frozenPlacement });
  } catch (e) {
    return failureOf(e, cwd);
  }
  removeLeftovers(outdir);
  const work = mkdtempSync(join(dirname(outdir), `.${basename(outdir)}.synth-`));
  try {
    // The cache: a key per stack, and the stacks it holds.
    const keys = new Map<string, string>();
    const hits = new Map<string, CachedStack>();
    let cachedApp: CachedApp | undefined;
    let appKey = '';
    if (cache) {
      appKey = cache.appKey(appContext(join(work, 'context'), request.validation), request.validation);
      cachedApp = cache.lookupApp(appKey);
      for (const [id, inputs] of stackInputs(fleet, placed.placement, stacks, platformStack)) {
        const key = cache.stackKey(appKey, id, inputs);
        keys.set(id, key);
        const hit = cache.lookup(key, id);
        if (hit) hits.set(id, hit);
      }
      // Without the App's entry, one stack is built for it.
      if (cachedApp === undefined && hits.size === stacks.length) hits.delete(stacks[0]);
    }
    const missing = stacks.filter((id) => !hits.has(id));
    const parts: AssemblyPart[] = [];
    if (inWorkers(missing.length, request)) {
      const jobs = request.jobs ?? 1;
      const shares = sharesOf(missing, jobs, request.stacksPerProcess ?? DEFAULT_STACKS_PER_PROCESS);
      const atOnce = Math.min(jobs, shares.length);
      progress?.(
        `building and synthesizing ${missing.length} stacks in ${shares.length} processes, ${atOnce} at a time…`,
      );
      const planned = shares.map((share, i) => ({ dir: join(work, `worker-${i + 1}`), stacks: share }));
      const outcomes = runWorkers(
        planned.map((part) => ({
          fleet: config,
          stacks: part.stacks,
          outdir: part.dir,
          validation: request.validation,
        })),
        work,
        atOnce,
      );
      for (const [i, outcome] of outcomes.entries()) {
        if ('error' in outcome) return failureOf(errorOf(outcome.error), cwd);
        if ('ended' in outcome) {
          return {
            problem:
              `the process that synthesized ${planned[i].stacks.join(', ')} ended (${outcome.ended}) before it finished; ` +
              'expected it to write its stacks: its output is above (out of memory? try fewer --jobs)',
          };
        }
        const limit = outcome.treeMaxNodes;
        parts.push({ ...planned[i], ...(limit !== undefined ? { treeMaxNodes: limit } : {}) });
      }
    } else if (missing.length > 0) {
      progress?.(`building and synthesizing ${missing.length === 1 ? missing[0] : `${missing.length} stacks`}…`);
      const dir = join(work, 'part-1');
      try {
        parts.push({
          dir,
          stacks: missing,
          ...buildPart({ fleet: config, stacks: missing, outdir: dir, validation: request.validation }),
        });
      } catch (e) {
        return failureOf(e, cwd);
      }
    }
    // The counts of the templates, for the table: kept with the cache's entries, counted again for the others.
    const facts = new Map([...hits.values()].map((hit) => [hit.id, hit.facts]));
    if (cache) {
      // Kept before the merge moves the files of the parts (the entries hold links of them).
      for (const part of parts) {
        const split = splitPart(part, stacks.includes(platformStack) ? platformStack : undefined);
        if (!split) continue;
        cache.storeApp(appKey, split.app);
        for (const stack of split.stacks) {
          cache.store({ ...stack, key: keys.get(stack.id)!, partDir: part.dir });
          facts.set(stack.id, stack.facts);
        }
      }
    }
    const merged = join(work, 'assembly');
    const standalone = [fleetPipelineStackName(fleet.platform)].filter((name): name is string => name !== undefined);
    mergeAssemblies(
      parts,
      stacks,
      stacks.includes(platformStack) ? platformStack : undefined,
      merged,
      [...hits.values()],
      cachedApp,
      standalone,
    );
    // The folder the CDK CLI gives (CDK_OUTDIR) is its own (it keeps lock files there): filled, never replaced.
    // Put aside beside the work folder, not in it: a large previous assembly is removed after the command ends.
    const aside = join(dirname(outdir), `.${basename(outdir)}.previous-${basename(work).split('-').pop()}`);
    installAssembly(merged, outdir, aside, !request.cdkCli);
    cache?.prune(stacksOf(fleet, { ...request, stacks: undefined })?.length ?? 1 + fleet.customers.length);
    return {
      assembly: new CloudAssembly(outdir),
      order: stacks,
      platformStack: stacks.includes(platformStack) ? platformStack : undefined,
      placement: placed.placement,
      placementChanges: placed.changes,
      ...(cache
        ? { cache: { folder: cache.folder, built: missing, cached: stacks.filter((id) => hits.has(id)) } }
        : {}),
      templateFacts: facts,
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * Previous assemblies put aside beside the outdir more than an hour ago (`.<outdir>.previous-*`): their removal in
 * the background (assembly-merge.ts, discard) did not finish.
 */
function removeLeftovers(outdir: string): void {
  try {
    const prefix = `.${basename(outdir)}.previous-`;
    for (const name of readdirSync(dirname(outdir)).filter((n) => n.startsWith(prefix))) {
      const path = join(dirname(outdir), name);
      if (Date.now() - statSync(path).mtimeMs > 3600_000) rmSync(path, { recursive: true, force: true });
    }
  } catch {
    // Left for the next run.
  }
}

/**
 * What each stack's template is built from, beyond the App's key (SynthCache.appKey): what VendingFleet hands its
 * construct. A customer stack: its resolved config, the platform's and its shared load balancer. The platform stack:
 * the platform's config, the whole placement, and what it reads of each customer (its name, for the health alarms of
 * the fleet overview; its ingress and certificate, for the shared listeners' certificates). A new input of either
 * construct in VendingFleet is a new field here (CONTRIBUTING.md, "The cache of synthesized stacks").
 */
function stackInputs(
  fleet: ResolvedFleet,
  placement: FleetPlacement,
  stacks: string[],
  platformStack: string,
): [string, unknown][] {
  const customers = new Map(fleet.customers.map((c) => [`${c.customer}-${c.environment}`, c]));
  return stacks.map((id) => {
    if (id === platformStack) {
      return [
        id,
        {
          platform: fleet.platform,
          placement,
          customers: fleet.customers.map((c) => ({
            name: `${c.customer}-${c.environment}`,
            ingress: ingressOf(c),
            certificateArn: c.customDomain?.certificateArn ?? null,
          })),
        },
      ];
    }
    // The fleet pipeline's stack (no customer of that name) follows the platform file alone: its fleetPipeline block.
    if (!customers.has(id)) return [id, { platform: fleet.platform }];
    return [
      id,
      { customer: customers.get(id), platform: fleet.platform, loadBalancer: placement.environments[id] ?? null },
    ];
  });
}

/** A worker's error as the error it was, for failureOf: a ConfigError, a bug's class, a file system error. */
function errorOf(data: WorkerError): unknown {
  if (data.name === 'ConfigError' && Array.isArray(data.problems)) {
    return new ConfigError(data.problems as ConfigProblem[]);
  }
  const bugs: Record<string, new (message: string) => Error> = { TypeError, ReferenceError, RangeError, SyntaxError };
  const error = new (bugs[data.name] ?? Error)(data.message);
  return Object.assign(error, {
    ...(data.code !== undefined ? { code: data.code } : {}),
    ...(data.syscall !== undefined ? { syscall: data.syscall } : {}),
    ...(data.path !== undefined ? { path: data.path } : {}),
  });
}

/** The rows, annotations, lookups and limits of a synthesized fleet. */
function describe(
  fleet: ResolvedFleet,
  synthesized: SynthesizedFleet,
  request: SynthRequest,
  startedAt: number,
): SynthResult {
  const { outdir, cwd, progress } = request;
  const { assembly, order } = synthesized;
  const customers = new Map<string, ResolvedCustomerConfig>(
    fleet.customers.map((c) => [`${c.customer}-${c.environment}`, c]),
  );
  const offboarded = synthesized.offboarded ?? [];
  if (offboarded.length > 0) {
    const record = readOffboardingRecord(fleet.directory);
    for (const o of readOffboardedEnvironments(fleet.directory, record, fleet.platform)) {
      customers.set(o.name, o.config);
    }
  }
  const artifacts = [
    ...order.map((id) => assembly.getStackArtifact(id)),
    ...assembly.stacks.filter((a) => !order.includes(a.id)),
  ];
  // A template whose counts are known (taken from the cache, or counted as it was kept there) is not read again.
  // Read from its file rather than through artifact.template, which keeps every template for the assembly's life.
  const factsOf = (artifact: CloudFormationStackArtifact): TemplateFacts =>
    synthesized.templateFacts?.get(artifact.id) ?? templateFactsOf(artifact.templateFullPath);
  const facts = new Map(artifacts.map((artifact) => [artifact.id, factsOf(artifact)]));
  const rows = artifacts.map((artifact): SynthRow => {
    const c = artifact.id === synthesized.platformStack ? undefined : customers.get(artifact.id);
    return {
      stack: artifact.stackName,
      customer: c?.customer ?? null,
      environment: c?.environment ?? null,
      hostname: c && ingressOf(c) === 'shared' ? (c.hostname ?? null) : null,
      hosts: c ? servedHosts(c) : [],
      ingress: c ? ingressOf(c) : null,
      sharedLoadBalancer: (c && synthesized.placement.environments[artifact.id]) ?? null,
      resources: facts.get(artifact.id)!.resources,
      template: shownPath(artifact.templateFullPath, cwd),
    };
  });
  const templateLimits = artifacts.flatMap((artifact) => {
    const { resources, outputs, parameters, bytes } = facts.get(artifact.id)!;
    // templateLimitProblems counts the keys of each section: a template of that many keys stands in for the file.
    const keys = (n: number) => Object.fromEntries(Array.from({ length: n }, (_v, k) => [k, true]));
    const counted = { Resources: keys(resources), Outputs: keys(outputs), Parameters: keys(parameters) };
    return templateLimitProblems(artifact.stackName, shownPath(artifact.templateFullPath, cwd), counted, bytes);
  });
  const messages: { level: string; text: string }[] = assembly.stacks.flatMap((a) =>
    a.messages.map((m) => ({ level: m.level, text: `${m.level}: ${m.id.replace(/^\//, '')}: ${m.entry.data}` })),
  );
  const missingContext = (assembly.manifest.missing ?? []).map((m) => m.key);
  const platformFile = shownPath(platformFilesIn(fleet.directory)[0] ?? join(fleet.directory, 'platform.yaml'), cwd);
  const lookups = missingContext.map((key) => lookupProblem(key, platformFile, fleet.platform.region));
  const seconds = ((Date.now() - startedAt) / 1000).toFixed(1);
  progress?.(`synthesized ${rows.length} stacks in ${seconds} s`);
  return {
    rows,
    outdir: shownPath(outdir, cwd),
    warnings: messages.filter((m) => m.level === 'warning').map((m) => m.text),
    errors: messages.filter((m) => m.level === 'error').map((m) => m.text),
    missingContext,
    lookups,
    templateLimits,
    placementChanges: synthesized.placementChanges,
    placementFile: shownPath(join(fleet.directory, VendingFleet.PLACEMENT_FILE), cwd),
    offboarded,
    ...(synthesized.cache ? { cache: synthesized.cache } : {}),
  };
}
