/*
 * `paas-vending deploy`, its first half: the fleet's cloud assembly (synthesized here, or --app), each stack's
 * fingerprint, the baseline (--state or --changed-since), the plan (selection.ts), and --plan's report of it.
 * deploy-command.ts runs the plan.
 *
 * Internal: not exported from src/index.ts.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join, resolve } from 'path';
import { assemblyStacks, AssemblyStack, libraryVersion } from './fingerprint';
import { DeployPlan, FleetStack, planDeploy, PreviousStack, Wave } from './selection';
import { DeployState } from './state';
import { ResolvedFleet } from '../../config/loader';
import { fleetPipelineStackName } from '../../environment/vending-fleet';
import { fleetAtRef, synthesized } from '../diff-command';
import { UsageError } from '../io';
import { synthesizeFleet } from '../synth';
import { table } from '../table';

/** What the plan was compared with. */
export type Baseline =
  | { readonly kind: 'state'; readonly directory: string; readonly state: DeployState }
  | { readonly kind: 'ref'; readonly ref: string; readonly templates: Map<string, object> }
  | { readonly kind: 'none' };

export interface PreparedDeploy {
  readonly plan: DeployPlan;
  readonly baseline: Baseline;
  /** The cloud assembly deployed (absolute). */
  readonly assembly: string;
  /** The fleet's stacks with their fingerprints and template files, by name. */
  readonly stacks: Map<string, AssemblyStack & FleetStack>;
  /** Removes the folders made for the run (the synthesized assemblies). */
  readonly cleanUp: () => void;
}

export interface PrepareOptions {
  readonly cwd: string;
  readonly app?: string;
  readonly changedSince?: string;
  readonly stateDir?: string;
  readonly group: 'platform' | 'nonproduction' | 'production' | 'all';
  readonly only?: string[];
  readonly shard?: { readonly index: number; readonly count: number };
  /** The library version in fingerprints. @default package.json's (libraryVersion) */
  readonly library?: string;
  /** Lines for stderr (placement changes, warnings). */
  readonly warn: (line: string) => void;
}

/**
 * The wave of each stack the fleet names; stacks it does not name (offboarded, foreign) are not deployed. The fleet
 * pipeline's stack (platform.yaml's `fleetPipeline:`) deploys only when named (`--stack`), in the platform wave: the
 * pipeline's UpdatePipeline stage deploys it alone, before any wave, and no wave holds it (its failure skips no
 * customer, its plan is not the fleet's).
 */
function wavesOf(fleet: ResolvedFleet, only: readonly string[] = []): Map<string, Wave> {
  const waves = new Map<string, Wave>([[`${fleet.platform.name}-platform`, 'platform']]);
  const pipelineStack = fleetPipelineStackName(fleet.platform);
  if (pipelineStack !== undefined && only.includes(pipelineStack)) waves.set(pipelineStack, 'platform');
  for (const c of fleet.customers) {
    waves.set(`${c.customer}-${c.environment}`, c.production ? 'production' : 'nonproduction');
  }
  return waves;
}

function fleetStacks(
  assembly: string,
  fleet: ResolvedFleet,
  library: string,
  only?: readonly string[],
): (AssemblyStack & FleetStack)[] {
  const waves = wavesOf(fleet, only);
  return assemblyStacks(assembly, fleet.platform, library).flatMap((s) => {
    const wave = waves.get(s.name);
    return wave ? [{ ...s, wave }] : [];
  });
}

/** The assembly, fingerprints, baseline and plan of a deploy; nothing is deployed. */
export function prepareDeploy(fleet: ResolvedFleet, options: PrepareOptions): PreparedDeploy {
  const library = options.library ?? libraryVersion();
  const work = mkdtempSync(join(tmpdir(), 'paas-vending-deploy-'));
  const cleanUp = () => rmSync(work, { recursive: true, force: true });
  try {
    let assembly: string;
    if (options.app !== undefined) {
      assembly = resolve(options.cwd, options.app);
      if (!existsSync(join(assembly, 'manifest.json'))) {
        throw new UsageError(
          `deploy: --app ${options.app}: holds no manifest.json; expected a cloud assembly directory, such as the ` +
            'cdk.out that paas-vending synth DIR --out cdk.out writes',
        );
      }
    } else {
      assembly = join(work, 'cdk.out');
      const result = synthesizeFleet(fleet, { outdir: assembly, cwd: options.cwd, validation: false });
      if ('problem' in result) throw new UsageError(`deploy: ${result.problem}`);
      if (result.placementChanges.length > 0) {
        options.warn(
          `paas-vending: deploy: wrote ${result.placementFile} (commit it with the fleet):\n` +
            result.placementChanges.map((c) => `  ${c}`).join('\n'),
        );
      }
      const refusals = [...result.templateLimits, ...result.lookups, ...result.errors];
      if (refusals.length > 0) {
        throw new UsageError(`deploy: the synthesized stacks cannot be deployed:\n${refusals.join('\n')}`);
      }
      if (result.warnings.length > 0) options.warn(result.warnings.join('\n'));
    }
    const stacks = fleetStacks(assembly, fleet, library, options.only);
    let baseline: Baseline = { kind: 'none' };
    let previous: Map<string, PreviousStack> | undefined;
    if (options.stateDir !== undefined && options.changedSince !== undefined) {
      throw new UsageError(
        'deploy: --state and --changed-since: received both; expected one baseline: --state (what this pipeline ' +
          'deployed) or --changed-since (the fleet at a git ref)',
      );
    }
    if (options.stateDir !== undefined) {
      const directory = resolve(options.cwd, options.stateDir);
      const state = DeployState.read(directory);
      baseline = { kind: 'state', directory, state };
      previous = state.previous();
    } else if (options.changedSince !== undefined) {
      const ref = options.changedSince;
      const dir = fleetAtRef(fleet.directory, ref, join(work, 'ref'), 'deploy: --changed-since');
      const before = synthesized(dir, join(work, 'before'), `the fleet at ${ref}`, undefined, 'deploy');
      const old = fleetStacks(before.outdir, before.fleet, library, options.only);
      previous = new Map(old.map((s) => [s.name, { fingerprint: s.fingerprint, inputs: s.inputs }]));
      baseline = {
        kind: 'ref',
        ref,
        templates: new Map(old.map((s) => [s.name, JSON.parse(readFileSync(s.templateFile, 'utf-8'))])),
      };
    }
    const plan = planDeploy(stacks, previous, { group: options.group, only: options.only, shard: options.shard });
    return { plan, baseline, assembly, stacks: new Map(stacks.map((s) => [s.name, s])), cleanUp };
  } catch (e) {
    cleanUp();
    throw e;
  }
}

/** The template deployed of a stack, as the baseline knows it. */
export function deployedTemplate(baseline: Baseline, stack: string): object | undefined {
  if (baseline.kind === 'state') return baseline.state.template(stack);
  if (baseline.kind === 'ref') return baseline.templates.get(stack);
  return undefined;
}

export function baselineText(baseline: Baseline, cwd: string): string {
  if (baseline.kind === 'state') return `the state in ${shown(baseline.directory, cwd)}`;
  if (baseline.kind === 'ref') return `the fleet at ${baseline.ref}`;
  return 'no baseline (every stack of the group)';
}

function shown(path: string, cwd: string): string {
  return path.startsWith(`${cwd}/`) ? path.slice(cwd.length + 1) : path;
}

/** The removed stacks' line: a deploy never deletes a stack. */
export function removedText(removed: string[]): string | undefined {
  if (removed.length === 0) return undefined;
  return (
    `Offboarded/removed: ${removed.join(', ')}: no longer in the fleet; a deploy does not delete a stack: destroy ` +
    'it with cdk destroy (see paas-vending offboard)'
  );
}

/** `--plan --json`: the plan as data (README, "paas-vending deploy", documents the shape). */
export function planJson(prepared: PreparedDeploy, group: string, cwd: string): object {
  const { plan } = prepared;
  const selected = plan.waves.reduce((n, w) => n + w.stacks.length, 0);
  return {
    group,
    baseline: baselineText(prepared.baseline, cwd),
    waves: plan.waves.map((w) => ({
      wave: w.wave,
      stacks: w.stacks.map((s) => ({ stack: s.name, reasons: s.reasons, fingerprint: s.fingerprint })),
    })),
    unchanged: plan.unchanged,
    removed: plan.removed,
    counts: { selected, unchanged: plan.unchanged.length, removed: plan.removed.length },
  };
}

/** `--plan`: the waves as a table, then the unchanged count and the removed stacks. */
export function planText(prepared: PreparedDeploy, group: string, cwd: string): string {
  const { plan } = prepared;
  const lines = [`Deploy plan for group ${group}, against ${baselineText(prepared.baseline, cwd)}:`];
  const rows = plan.waves.flatMap((w) => w.stacks.map((s) => [s.name, w.wave, s.reasons.join(', ')]));
  lines.push(rows.length > 0 ? table([['STACK', 'WAVE', 'REASON'], ...rows]) : 'Nothing to deploy.');
  const selected = rows.length === 1 ? '1 stack' : `${rows.length} stacks`;
  const waves = plan.waves.map((w) => `${w.wave} ${w.stacks.length}`).join(', ');
  lines.push(`\n${selected} to deploy${waves ? ` (${waves})` : ''}; ${plan.unchanged.length} unchanged.`);
  const removed = removedText(plan.removed);
  if (removed) lines.push(removed);
  return lines.join('\n');
}
