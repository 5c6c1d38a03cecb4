/*
 * `paas-vending diff`: what a change to the fleet does to its stacks, offline, before anything is deployed. The fleet
 * is synthesized in a copy (nothing in it is written), as is the fleet it is compared with (a git ref of the same
 * repository, or another fleet directory), or that one is a previous cloud assembly. Templates are compared with
 * @aws-cdk/cloudformation-diff, which knows which property changes replace a resource. A production database,
 * bucket, key or load balancer replaced or deleted fails the command unless --allow-replacement.
 */
import { execFileSync } from 'child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'fs';
import { tmpdir } from 'os';
import { basename, join, resolve } from 'path';
import { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { args, fleetDirectory } from './args';
import { help } from './help';
import { EXIT_INVALID, EXIT_OK, Io, UsageError } from './io';
import { synthesizeFleet } from './synth';
import { ConfigError } from '../config/errors';
import { platformFilesIn, readFleet, ResolvedFleet } from '../config/loader';

/** Resource types whose replacement or deletion loses a production environment's data or its address. */
export const PROTECTED_TYPES = new Set([
  'AWS::RDS::DBInstance',
  'AWS::RDS::DBCluster',
  'AWS::S3::Bucket',
  'AWS::KMS::Key',
  'AWS::ElasticLoadBalancingV2::LoadBalancer',
]);

/** What the library needs of @aws-cdk/cloudformation-diff (loaded when the command runs). */
interface CfnDiffModule {
  fullDiff(
    current: object,
    next: object,
  ): {
    resources: { forEachDifference(cb: (id: string, change: ResourceChange) => void): void };
    outputs: { forEachDifference(cb: (id: string, change: { oldValue?: any; newValue?: any }) => void): void };
  };
}
interface ResourceChange {
  readonly changeImpact: string;
  readonly oldResourceType?: string;
  readonly newResourceType?: string;
}

/** One resource's change, as the command lists it. */
export interface ResourceChangeRow {
  readonly stack: string;
  readonly logicalId: string;
  readonly type: string;
  readonly change: 'added' | 'removed' | 'replaced' | 'may be replaced' | 'orphaned';
  /** A production database, bucket, key or load balancer replaced or deleted. */
  readonly blocked: boolean;
}

/** What a diff found, per stack. */
export interface FleetDiff {
  readonly added: string[];
  readonly removed: string[];
  readonly changes: ResourceChangeRow[];
  /** `stack: output: old -> new`, for the outputs that are a host name's DNS target. */
  readonly dnsTargets: string[];
  /** Stacks with a change in place only (updated resources): their count. */
  readonly updatedInPlace: number;
}

function loadCfnDiff(): CfnDiffModule {
  try {
    // An optional install (it is not a jsii module, and its service database is large): loaded when the command runs.
    // eslint-disable-next-line @typescript-eslint/no-require-imports, import/no-extraneous-dependencies
    return require('@aws-cdk/cloudformation-diff') as CfnDiffModule;
  } catch {
    throw new UsageError(
      'diff: needs @aws-cdk/cloudformation-diff, which is not installed; expected it beside cdk-paas-vending: ' +
        'npm install --save-dev @aws-cdk/cloudformation-diff',
    );
  }
}

/** The templates of a cloud assembly directory by stack name. */
function templatesOfAssembly(directory: string): Map<string, any> {
  const assembly = new CloudAssembly(directory);
  return new Map(assembly.stacks.map((s) => [s.stackName, s.template]));
}

/** A fleet directory copied (without cdk.out, node_modules, .git) so that its synthesis writes nothing in it. */
function copyOfFleet(directory: string, into: string): string {
  const target = join(into, basename(directory) || 'fleet');
  cpSync(directory, target, {
    recursive: true,
    filter: (source) => !['cdk.out', 'node_modules', '.git'].includes(basename(source)),
  });
  return target;
}

/** A fleet directory synthesized in a copy under `work` (nothing in it is written); `command` prefixes problems. */
export function synthesized(
  fleetDir: string,
  work: string,
  label: string,
  stacks?: string[],
  command = 'diff',
): {
  templates: Map<string, any>;
  fleet: ResolvedFleet;
  /** The cloud assembly directory. */
  outdir: string;
} {
  let fleet: ResolvedFleet;
  try {
    fleet = readFleet(copyOfFleet(fleetDir, work));
  } catch (e) {
    if (e instanceof ConfigError) throw new ConfigError(e.problems.map((p) => ({ ...p, file: `${label}: ${p.file}` })));
    throw e;
  }
  const outdir = join(work, 'cdk.out');
  const result = synthesizeFleet(fleet, { outdir, cwd: work, validation: false, stacks });
  if ('problem' in result) throw new UsageError(`${command}: ${label}: ${result.problem}`);
  return { templates: templatesOfAssembly(outdir), fleet, outdir };
}

/** The fleet directory as it is at a git ref of its repository, extracted under `work`; `flag` names the option. */
export function fleetAtRef(fleetDir: string, ref: string, work: string, flag = 'diff: --against'): string {
  const git = (...argv: string[]) =>
    execFileSync('git', ['-C', fleetDir, ...argv], { encoding: 'utf-8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  let prefix: string;
  try {
    git('rev-parse', '--verify', '--quiet', `${ref}^{commit}`);
    prefix = git('rev-parse', '--show-prefix');
  } catch {
    throw new UsageError(
      `${flag} ${ref}: not ${flag.startsWith('diff') ? 'a directory, and not ' : ''}a commit of the git repository ` +
        `of ${fleetDir}; expected ${flag.startsWith('diff') ? 'a cloud assembly directory, a fleet directory or ' : ''}` +
        'a git ref such as HEAD or main',
    );
  }
  const target = join(work, 'at-ref');
  mkdirSync(target, { recursive: true });
  const archive = execFileSync('git', ['-C', fleetDir, 'archive', '--format=tar', ref, '--', '.'], {
    maxBuffer: 512 * 1024 * 1024,
  });
  // Run in the fleet's folder, git archive holds that folder's files relative to it.
  execFileSync('tar', ['-x', '-C', target], { input: archive });
  const dir = target;
  if (platformFilesIn(dir).length === 0) {
    throw new UsageError(
      `${flag} ${ref}: ${prefix || './'} holds no platform.yaml at ${ref}; expected the fleet there`,
    );
  }
  return dir;
}

/** Compares two sets of templates by stack name. `production(stack)` says whether a stack is production's. */
export function diffTemplates(
  before: Map<string, any>,
  after: Map<string, any>,
  production: (stack: string) => boolean,
): FleetDiff {
  const cfn = loadCfnDiff();
  const names = [...new Set([...before.keys(), ...after.keys()])].sort();
  const changes: ResourceChangeRow[] = [];
  const dnsTargets: string[] = [];
  let updatedInPlace = 0;
  for (const stack of names) {
    const old = before.get(stack);
    const next = after.get(stack);
    if (!old || !next) continue;
    const diff = cfn.fullDiff(old, next);
    let inPlace = false;
    diff.resources.forEachDifference((logicalId, change) => {
      const type = change.newResourceType ?? change.oldResourceType ?? 'unknown';
      const kind = (
        {
          WILL_CREATE: 'added',
          WILL_DESTROY: 'removed',
          WILL_REPLACE: 'replaced',
          MAY_REPLACE: 'may be replaced',
          WILL_ORPHAN: 'orphaned',
        } as Record<string, ResourceChangeRow['change']>
      )[change.changeImpact];
      if (!kind) {
        if (change.changeImpact === 'WILL_UPDATE') inPlace = true;
        return;
      }
      const destructive = kind === 'removed' || kind === 'replaced' || kind === 'may be replaced';
      changes.push({
        stack,
        logicalId,
        type,
        change: kind,
        blocked: destructive && PROTECTED_TYPES.has(type) && production(stack),
      });
    });
    if (inPlace) updatedInPlace++;
    diff.outputs.forEachDifference((id, change) => {
      if (!/DnsName|DnsTarget|LoadBalancerDns/i.test(id)) return;
      dnsTargets.push(`${stack}: ${id}: ${short(change.oldValue?.Value)} -> ${short(change.newValue?.Value)}`);
    });
  }
  return {
    added: names.filter((n) => !before.has(n)),
    removed: names.filter((n) => !after.has(n)),
    changes,
    dnsTargets,
    updatedInPlace,
  };
}

function short(value: unknown): string {
  if (value === undefined) return '(none)';
  const text = JSON.stringify(value);
  return text.length > 100 ? `${text.slice(0, 97)}...` : text;
}

/** The text of a diff: per stack its added, removed and replaced resources, then DNS targets and a summary. */
export function renderDiff(diff: FleetDiff, against: string): string[] {
  const lines: string[] = [];
  for (const name of diff.added) lines.push(`+ ${name}: a new stack`);
  for (const name of diff.removed) {
    lines.push(`- ${name}: no longer in the fleet (a deploy does not delete it; cdk destroy ${name} does)`);
  }
  const stacks = [...new Set(diff.changes.map((c) => c.stack))];
  for (const stack of stacks) {
    lines.push(`${stack}:`);
    for (const c of diff.changes.filter((x) => x.stack === stack)) {
      lines.push(
        `  ${c.change.padEnd(15)} ${c.type.padEnd(44)} ${c.logicalId}${c.blocked ? '  [production data]' : ''}`,
      );
    }
  }
  for (const dns of diff.dnsTargets) lines.push(`DNS target changes: ${dns}`);
  if (lines.length === 0) lines.push(`No change to any stack's resources against ${against}.`);
  const replaced = diff.changes.filter((c) => c.change === 'replaced' || c.change === 'may be replaced').length;
  lines.push(
    `\n${diff.added.length} stack(s) added, ${diff.removed.length} removed; ${replaced} resource(s) replaced, ` +
      `${diff.changes.filter((c) => c.change === 'added').length} added, ` +
      `${diff.changes.filter((c) => c.change === 'removed').length} removed; ${diff.updatedInPlace} stack(s) ` +
      `updated in place; against ${against}.`,
  );
  return lines;
}

/** `paas-vending diff`. */
export function diffCommand(argv: string[], io: Io): number {
  const { flags, options, lists, positionals } = args(
    argv,
    ['allow-replacement', 'json'],
    1,
    'diff',
    ['against'],
    ['stack'],
  );
  if (flags.help) return help('diff', io);
  const fleetDir = fleetDirectory(positionals[0], io);
  const against = options.against ?? 'HEAD';
  const stacks = lists.stack?.flatMap((names) => names.split(',')).map((name) => name.trim());
  const work = mkdtempSync(join(tmpdir(), 'paas-vending-diff-'));
  try {
    const now = synthesized(fleetDir, join(work, 'now'), 'the fleet', stacks);
    const againstPath = resolve(io.cwd, against);
    let before: Map<string, any>;
    let beforeFleet: ResolvedFleet | undefined;
    if (existsSync(againstPath) && statSync(againstPath).isDirectory()) {
      if (existsSync(join(againstPath, 'manifest.json'))) {
        before = templatesOfAssembly(againstPath);
        if (stacks) before = new Map([...before].filter(([name]) => stacks.includes(name)));
      } else if (platformFilesIn(againstPath).length > 0) {
        const old = synthesized(againstPath, join(work, 'before'), `--against ${against}`, stacks);
        before = old.templates;
        beforeFleet = old.fleet;
      } else {
        throw new UsageError(
          `diff: --against ${against}: holds neither a manifest.json nor a platform.yaml; expected a cloud assembly ` +
            'directory (such as cdk.out), a fleet directory or a git ref',
        );
      }
    } else {
      const dir = fleetAtRef(fleetDir, against, work);
      const old = synthesized(dir, join(work, 'before'), `the fleet at ${against}`, stacks);
      before = old.templates;
      beforeFleet = old.fleet;
    }
    const productionStacks = new Set<string>();
    for (const fleet of [now.fleet, beforeFleet]) {
      if (!fleet) continue;
      if (fleet.platform.production) productionStacks.add(`${fleet.platform.name}-platform`);
      for (const c of fleet.customers) if (c.production) productionStacks.add(`${c.customer}-${c.environment}`);
    }
    const result = diffTemplates(before, now.templates, (stack) => productionStacks.has(stack));
    const blocked = result.changes.filter((c) => c.blocked);
    if (flags.json) {
      io.out(JSON.stringify({ against, ...result }, null, 2));
    } else {
      io.out(renderDiff(result, against).join('\n'));
    }
    if (blocked.length > 0 && !flags['allow-replacement']) {
      io.err(
        `paas-vending: diff: ${blocked.length} production resource(s) holding data or an address would be replaced ` +
          `or deleted: ${blocked.map((b) => `${b.stack} ${b.type} ${b.logicalId} (${b.change})`).join('; ')}; ` +
          'expected none: undo the change, or take a backup and rerun with --allow-replacement to accept it',
      );
      return EXIT_INVALID;
    }
    return EXIT_OK;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
