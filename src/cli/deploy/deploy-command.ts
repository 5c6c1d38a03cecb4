/*
 * `paas-vending deploy DIR`: the stacks that changed, in waves (platform, non-production, production), with the CDK
 * toolkit library. --plan says what would be deployed and why, with no AWS call at all. The pipeline runs the same
 * command in CodeBuild, so a person and the pipeline deploy the same set in the same order.
 *
 * Internal: not exported from src/index.ts.
 */
import { readFileSync } from 'fs';
import { resolve } from 'path';
import { approvalMessage } from './approval';
import { deployedTemplate, planJson, planText, prepareDeploy, PreparedDeploy, removedText } from './plan-command';
import { Group, GROUPS, parseShard, SelectedStack } from './selection';
import { REQUIRE_APPROVAL, RequireApproval, ToolkitDeployer } from './toolkit-deployer';
import { runWaves, StackDeployer, StackResult } from './waves';
import { writeFileAtomically } from '../../config/atomic-write';
import { displayPath } from '../../config/loader';
import { args, readFleetOf } from '../args';
import { help } from '../help';
import { EXIT_INVALID, EXIT_OK, Io, UsageError } from '../io';
import { table } from '../table';

export const DEFAULT_CONCURRENCY = 10;

/** Tests hand a fake deployer; the command makes toolkit-lib's. */
export interface DeployHooks {
  readonly deployer?: (assembly: string, requireApproval: RequireApproval) => StackDeployer;
  /** The library version in fingerprints. @default package.json's */
  readonly library?: string;
  /** The clock of deployedAt. @default new Date() */
  readonly now?: () => Date;
}

function oneOf<T extends string>(flag: string, value: string | undefined, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new UsageError(`deploy: --${flag}: received "${value}"; expected one of ${allowed.join(', ')}`);
}

function concurrencyOf(value: string | undefined): number {
  if (value === undefined) return DEFAULT_CONCURRENCY;
  const n = /^\d{1,3}$/.test(value) ? Number(value) : NaN;
  if (!(n >= 1 && n <= 100)) {
    throw new UsageError(`deploy: --concurrency: received "${value}"; expected a whole number from 1 to 100`);
  }
  return n;
}

/** `paas-vending deploy`. */
export async function deployCommand(argv: string[], io: Io, hooks: DeployHooks = {}): Promise<number> {
  const { flags, options, lists, positionals } = args(
    argv,
    ['plan', 'json', 'no-cache'],
    1,
    'deploy',
    [
      'app',
      'changed-since',
      'state',
      'group',
      'concurrency',
      'require-approval',
      'shard',
      'approval-message',
      'report',
      'method',
    ],
    ['stack'],
  );
  if (flags.help) return help('deploy', io);
  const group = oneOf<Group>('group', options.group, GROUPS, 'all');
  const concurrency = concurrencyOf(options.concurrency);
  const requireApproval = oneOf<RequireApproval>(
    'require-approval',
    options['require-approval'],
    REQUIRE_APPROVAL,
    'broadening',
  );
  const method = oneOf('method', options.method, ['change-set', 'direct'] as const, 'change-set');
  const shard = options.shard !== undefined ? parseShard(options.shard) : undefined;
  const only = lists.stack?.flatMap((names) => names.split(',')).map((name) => name.trim());
  if (!flags.plan && (flags.json || options['approval-message'] !== undefined)) {
    const flag = flags.json ? '--json' : '--approval-message';
    throw new UsageError(`deploy: ${flag} goes with --plan (a deploy reports with --report FILE)`);
  }
  if (flags.plan && options.report !== undefined) {
    throw new UsageError('deploy: --report goes with a deploy; --plan --json prints the plan as JSON');
  }
  const fleet = readFleetOf(positionals[0], io, flags['no-cache']);
  const prepared = prepareDeploy(fleet, {
    cwd: io.cwd,
    app: options.app,
    changedSince: options['changed-since'],
    stateDir: options.state,
    group,
    only,
    shard,
    library: hooks.library,
    warn: io.err,
  });
  try {
    if (flags.plan) return plan(prepared, group, io, flags.json ?? false, options['approval-message']);
    return await deploy(prepared, { group, concurrency, requireApproval, method, report: options.report }, io, hooks);
  } finally {
    prepared.cleanUp();
  }
}

function plan(prepared: PreparedDeploy, group: Group, io: Io, json: boolean, approvalFile?: string): number {
  io.out(json ? JSON.stringify(planJson(prepared, group, io.cwd), null, 2) : planText(prepared, group, io.cwd));
  if (approvalFile !== undefined) {
    const production = prepared.plan.waves.find((w) => w.wave === 'production')?.stacks ?? [];
    const text = productionApproval(prepared, production);
    const file = resolve(io.cwd, approvalFile);
    writeFileAtomically(file, `${text}\n`, displayPath(file));
  }
  return EXIT_OK;
}

function productionApproval(prepared: PreparedDeploy, production: SelectedStack[]): string {
  return approvalMessage(
    production,
    (stack) => deployedTemplate(prepared.baseline, stack),
    (stack) => JSON.parse(readFileSync(prepared.stacks.get(stack)!.templateFile, 'utf-8')),
  );
}

interface DeployRun {
  readonly group: Group;
  readonly concurrency: number;
  readonly requireApproval: RequireApproval;
  readonly method: 'change-set' | 'direct';
  readonly report?: string;
}

async function deploy(prepared: PreparedDeploy, run: DeployRun, io: Io, hooks: DeployHooks): Promise<number> {
  const { plan: selected, baseline } = prepared;
  const removed = removedText(selected.removed);
  if (removed) io.err(`paas-vending: deploy: ${removed}`);
  const ask =
    io.inIsTTY && io.ask ? async (question: string) => /^y(es)?$/i.test((io.ask!(question) ?? '').trim()) : undefined;
  const deployer = hooks.deployer
    ? hooks.deployer(prepared.assembly, run.requireApproval)
    : new ToolkitDeployer({
        assembly: prepared.assembly,
        requireApproval: run.requireApproval,
        method: run.method,
        ask,
      });
  const now = hooks.now ?? (() => new Date());
  const results = await runWaves(selected, deployer, {
    concurrency: run.concurrency,
    progress: (line) => io.err(line),
    succeeded: (stack) => {
      if (baseline.kind !== 'state') return;
      const templateText = readFileSync(prepared.stacks.get(stack.name)!.templateFile, 'utf-8');
      baseline.state.record(
        stack.name,
        { fingerprint: stack.fingerprint, deployedAt: now().toISOString(), inputs: stack.inputs },
        templateText,
      );
    },
    gate: async (wave, before) => {
      if (wave !== 'production' || run.group !== 'all') return undefined;
      // Production after non-production in one run: only when all of it went well, and with a person's yes unless
      // --require-approval never (the pipeline runs --group production after its manual approval instead).
      if (before.some((r) => r.wave === 'nonproduction' && r.result !== 'deployed' && r.result !== 'unchanged')) {
        return 'non-production did not all deploy; production waits for it';
      }
      if (run.requireApproval === 'never') return undefined;
      if (!ask) {
        return `--group all deploys production only with --require-approval never or a yes on a terminal; run --group production after the approval`;
      }
      const production = selected.waves.find((w) => w.wave === 'production')?.stacks ?? [];
      io.err(productionApproval(prepared, production));
      return (await ask(`Deploy ${production.length} production stack(s) now? (y/N) `)) ? undefined : 'not approved';
    },
  });
  const unchanged = selected.unchanged.map((stack): StackResult => {
    const s = prepared.stacks.get(stack)!;
    return { stack, wave: s.wave, result: 'unchanged', reason: 'fingerprint as deployed: not deployed again' };
  });
  const all = [...results, ...unchanged];
  io.out(table([['STACK', 'WAVE', 'RESULT', 'REASON'], ...all.map((r) => [r.stack, r.wave, r.result, r.reason])]));
  const count = (kind: string) => all.filter((r) => r.result === kind).length;
  io.out(
    `\n${count('deployed')} deployed, ${count('unchanged')} unchanged, ${count('failed')} failed, ` +
      `${count('skipped')} skipped.`,
  );
  if (run.report !== undefined) {
    const file = resolve(io.cwd, run.report);
    const report = { group: run.group, results: all, removed: selected.removed };
    writeFileAtomically(file, `${JSON.stringify(report, null, 2)}\n`, displayPath(file));
  }
  return count('failed') > 0 ? EXIT_INVALID : EXIT_OK;
}
