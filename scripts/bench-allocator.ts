/*
 * Benchmark of the shared ALB rule priority allocator (not a test): runs the real handler
 * (src/shared-alb-rule/priority-allocator.lambda.ts) against moto's server with a real ALB, listener,
 * target group and DynamoDB state table in moto, and prints, for N = 10, 100, 1000 Create requests on a
 * fresh listener, sequential and with concurrency 20: seconds, allocations per second, AWS API calls per
 * allocation (median and max, from the handler's own per-request counts) and collisions (PriorityInUse
 * retries; duplicate priorities among the results, which must be 0). Every returned priority is checked
 * against the listener's real rules (paginated DescribeRules).
 *
 *   npx projen bench:allocator            # or: ts-node --project tsconfig.dev.json scripts/bench-allocator.ts
 *   ... scripts/bench-allocator.ts --quick   # N = 10, 100 only
 *   ... scripts/bench-allocator.ts --faults-only   # the fault run alone
 *
 * Then the fault run (test/support/allocator-fault-run.ts, also a test): 100 resources at once through Create,
 * Update and Delete behind the fault proxy (lost answers, resets, throttling, dropped calls, a paused backend),
 * and what it left: rules, hosts routed twice, rules leaked, live hosts unrouted, the counters against the rules,
 * priorities given twice, requests unanswered or late. `--seed N` picks the faults (default 20).
 *
 * Needs .venv (`npx projen python-tools`). Exits 1 when a duplicate priority, a priority that does not match
 * a real rule, or a failed allocation is found, or when the fault run left anything wrong. moto is stopped at the end, on error and on Ctrl-C.
 */
import { randomUUID } from 'crypto';
import { AllocatorResult } from '../src/shared-alb-rule/allocator';
import { CfnRequest } from '../src/shared-alb-rule/cfn-response';
import { createHandler, depsFromEnvironment } from '../src/shared-alb-rule/priority-allocator.lambda';
import { PriorityAllocatorProperties } from '../src/shared-alb-rule/types';
import {
  AlbFixture,
  createAlbFixture,
  ResponseServer,
  startResponseServer,
  STATE_TABLE,
} from '../test/support/alb-fixture';
import {
  DEFAULT_FAULT_RUN,
  handlerPerInvocation,
  measureFaultRun,
  runFaults,
} from '../test/support/allocator-fault-run';
import { ListenerProbe } from '../test/support/allocator-harness';
import { FaultProxy, seededRandom, startFaultProxy } from '../test/support/fault-proxy';
import { MotoServer, startMoto } from '../test/support/moto';

const STACK_ID = 'arn:aws:cloudformation:us-east-1:123456789012:stack/bench/1111';
/** Well above the largest N: moto does not enforce AWS's default quota of 100 rules per load balancer. */
const RULE_LIMIT = 5000;
const CONCURRENCY = 20;
/** The Lambda's remaining time the handler sees (15 minutes, the Lambda maximum). */
const context = { getRemainingTimeInMillis: () => 900_000 };

type Mode = 'sequential' | 'concurrency 20';

interface Figures {
  readonly n: number;
  readonly mode: Mode;
  readonly seconds: number;
  readonly perSecond: number;
  readonly callsMedian: number;
  readonly callsMax: number;
  /** CreateRule calls beyond the first, summed over the run's allocations. */
  readonly priorityInUse: number;
  /** Allocations that counted the listener's rules (DescribeRules) to seed the rule counter. */
  readonly seeds: number;
  readonly duplicates: number;
  readonly mismatches: number;
  readonly failed: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Runs `tasks` with at most `limit` in flight, keeping results in order. */
async function pool<T>(tasks: Array<() => Promise<T>>, limit: number): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await tasks[i]();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return results;
}

async function runOnce(
  fixture: AlbFixture,
  responses: ResponseServer,
  listenerArn: string,
  runId: string,
  n: number,
  mode: Mode,
): Promise<Figures> {
  const handler = createHandler({ ...depsFromEnvironment(), log: () => undefined });
  const allocate = (i: number) => async (): Promise<AllocatorResult> => {
    const RequestId = randomUUID();
    const event: CfnRequest<PriorityAllocatorProperties> = {
      RequestType: 'Create',
      ResponseURL: `${responses.base}/${RequestId}`,
      StackId: STACK_ID,
      RequestId,
      LogicalResourceId: `Rule${runId}x${i}`,
      ResourceType: 'Custom::SharedAlbRulePriority',
      ResourceProperties: {
        ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:allocator',
        listenerArn,
        hosts: [`c${i}.${runId}.example.com`],
        targetGroupArn: fixture.targetGroupArn,
        ruleLimit: String(RULE_LIMIT),
      },
    };
    return handler(event, context);
  };
  const tasks = Array.from({ length: n }, (_, i) => allocate(i));

  const started = process.hrtime.bigint();
  const results = await pool(tasks, mode === 'sequential' ? 1 : CONCURRENCY);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;

  // What reached the ResponseURL must be what the handler says it sent, and SUCCESS.
  let failed = 0;
  for (const r of results) {
    const sent = responses.received.get(`/${r.response.RequestId}`)?.at(-1);
    if (r.sendError || r.response.Status !== 'SUCCESS' || JSON.stringify(sent) !== JSON.stringify(r.response)) {
      failed++;
      if (failed <= 3) console.error(`  failed allocation: ${r.sendError ?? r.response.Reason ?? 'response mismatch'}`);
    }
  }
  const ok = results.filter((r) => r.response.Status === 'SUCCESS' && r.response.Data);
  const priorities = ok.map((r) => Number(r.response.Data!.Priority));
  const duplicates = priorities.length - new Set(priorities).size;

  // Every returned priority must be a real rule on the listener, and every rule one the run created.
  const rules = await fixture.rulesOf(listenerArn);
  const priorityOf = new Map(rules.map((rule) => [rule.RuleArn!, Number(rule.Priority)]));
  let mismatches = Math.abs(rules.length - ok.length);
  for (const r of ok) {
    const { RuleArn, Priority } = r.response.Data!;
    if (r.response.PhysicalResourceId !== RuleArn || priorityOf.get(RuleArn) !== Number(Priority)) mismatches++;
  }

  const calls = results.map((r) => r.apiCalls.calls);
  return {
    n,
    mode,
    seconds,
    perSecond: n / seconds,
    callsMedian: median(calls),
    callsMax: Math.max(...calls),
    priorityInUse: results.reduce((sum, r) => sum + Math.max(0, (r.apiCalls.byOperation.CreateRule ?? 0) - 1), 0),
    seeds: results.filter((r) => r.apiCalls.byOperation.DescribeRules !== undefined).length,
    duplicates,
    mismatches,
    failed,
  };
}

function table(rows: Figures[]): string {
  const header = [
    'N',
    'mode',
    'seconds',
    'allocations/s',
    'API calls/allocation (median)',
    'API calls/allocation (max)',
    'PriorityInUse retries',
    'counter seeds',
    'duplicate priorities',
    'mismatched rules',
    'failed',
  ];
  const lines = rows.map((r) => [
    String(r.n),
    r.mode,
    r.seconds.toFixed(2),
    r.perSecond.toFixed(1),
    String(r.callsMedian),
    String(r.callsMax),
    String(r.priorityInUse),
    String(r.seeds),
    String(r.duplicates),
    String(r.mismatches),
    String(r.failed),
  ]);
  return [header, header.map(() => '---'), ...lines].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

/** The fault run on its own moto and proxy; returns 1 when it left anything wrong. */
async function faultRun(seed: number): Promise<number> {
  const moto = await startMoto();
  let proxy: FaultProxy | undefined;
  let responses: ResponseServer | undefined;
  try {
    proxy = await startFaultProxy(moto.endpoint, { serial: true, random: seededRandom(seed) });
    Object.assign(process.env, proxy.env(moto.env), {
      STATE_TABLE_NAME: STATE_TABLE,
      SDK_TIMEOUT_MS: '8000',
    });
    responses = await startResponseServer();
    const fixture = await createAlbFixture(moto);
    const log = console.log;
    console.log = () => undefined; // the handler's own log lines
    const run = await runFaults(handlerPerInvocation(), fixture, responses, proxy).finally(() => {
      console.log = log;
    });
    await new Promise((r) => setTimeout(r, 500));
    const f = await measureFaultRun(new ListenerProbe(moto), run);
    const byType = (type: string, status: string) =>
      run.invocations.filter((i) => i.type === type && i.response.Status === status).length;
    const expected = run.listeners.map((l) => run.live.filter((x) => x.listenerArn === l).length);
    console.log(
      `\nFault run (seed ${seed}): 100 resources, ${run.invocations.length} requests in ${(run.wallMs / 1000).toFixed(1)} s`,
    );
    const faults = Object.values(run.injected).reduce((a, b) => a + b, 0);
    const calls = Object.values(proxy.calls).reduce((a, b) => a + b, 0);
    console.log(
      `  ${calls} AWS calls through the proxy, ${faults} faults injected, pause ${DEFAULT_FAULT_RUN.pauseMs} ms; ` +
        `${proxy.abandoned.count} calls given up by their client before they were forwarded`,
    );
    console.log(`  faults injected: ${JSON.stringify(run.injected)}`);
    console.log(
      `  scheduled sweeps after the run: ${run.sweeps
        .map(
          (s) => `${s.entries} requests recorded, ${s.rulesDeleted} late rules deleted, ${s.expired} slots given back`,
        )
        .join(
          '; then ',
        )}${run.sweeps.some((s) => s.errors.length) ? ` (errors: ${run.sweeps.flatMap((s) => s.errors).join('; ')})` : ''}`,
    );
    console.log(
      `  answers: Create ${byType('Create', 'SUCCESS')} SUCCESS / ${byType('Create', 'FAILED')} FAILED, ` +
        `Update ${byType('Update', 'SUCCESS')} / ${byType('Update', 'FAILED')}, Delete ${byType('Delete', 'SUCCESS')} / ${byType('Delete', 'FAILED')}; ` +
        `slowest ${Math.max(...run.invocations.map((i) => i.ms))} ms (function time ${DEFAULT_FAULT_RUN.functionMs} ms)`,
    );
    console.log(
      `  left: ${f.rules} rules for ${f.liveResources} live resources; hosts routed twice ${f.hostsRoutedTwice}; ` +
        `rules leaked ${f.rulesLeaked}; live hosts unrouted ${f.liveHostsUnrouted}; gone hosts still routed ${f.goneHostsRouted}; ` +
        `counters ${f.counters.join(', ')} (rules ${expected.join(', ')}); priorities given twice ${f.priorityGivenTwice}; ` +
        `unanswered ${f.unanswered}; late ${f.late}`,
    );
    const bad =
      f.rules !== f.liveResources ||
      f.hostsRoutedTwice ||
      f.rulesLeaked ||
      f.liveHostsUnrouted ||
      f.goneHostsRouted ||
      f.priorityGivenTwice ||
      f.unanswered ||
      f.late ||
      f.counters.some((c, i) => c !== expected[i]);
    if (bad) console.error('FAIL: the fault run left rules, routes or counters wrong');
    return bad ? 1 : 0;
  } finally {
    await responses?.close();
    await proxy?.close();
    await moto.stop();
  }
}

async function main(): Promise<number> {
  const seedAt = process.argv.indexOf('--seed');
  const seed = seedAt > 0 ? Number(process.argv[seedAt + 1]) : 20;
  if (process.argv.includes('--faults-only')) return faultRun(seed);
  const quick = process.argv.includes('--quick');
  const sizes = quick ? [10, 100] : [10, 100, 1000];
  const modes: Mode[] = ['sequential', 'concurrency 20'];

  let moto: MotoServer | undefined;
  let responses: ResponseServer | undefined;
  const stopAll = async () => {
    await responses?.close();
    await moto?.stop();
  };
  process.once('SIGINT', () => {
    void stopAll().finally(() => process.exit(130));
  });

  try {
    moto = await startMoto();
    Object.assign(process.env, moto.env, { STATE_TABLE_NAME: STATE_TABLE });
    responses = await startResponseServer();
    const fixture = await createAlbFixture(moto);
    console.log(
      `moto on ${moto.endpoint}; ruleLimit ${RULE_LIMIT}; sizes ${sizes.join(', ')}${quick ? ' (--quick)' : ''}`,
    );

    const rows: Figures[] = [];
    let run = 0;
    for (const n of sizes) {
      for (const mode of modes) {
        const listenerArn = await fixture.newListener();
        const figures = await runOnce(fixture, responses, listenerArn, `r${run++}`, n, mode);
        console.log(
          `N=${n} ${mode}: ${figures.seconds.toFixed(2)} s, ${figures.perSecond.toFixed(1)}/s, ` +
            `calls median ${figures.callsMedian} max ${figures.callsMax}, PriorityInUse ${figures.priorityInUse}, ` +
            `duplicates ${figures.duplicates}, mismatches ${figures.mismatches}, failed ${figures.failed}`,
        );
        rows.push(figures);
      }
    }
    console.log('');
    console.log(table(rows));
    const bad = rows.filter((r) => r.duplicates || r.mismatches || r.failed);
    if (bad.length) {
      console.error(`\nFAIL: duplicate priorities, mismatched rules or failed allocations in ${bad.length} run(s)`);
      return 1;
    }
  } finally {
    await stopAll();
  }
  return faultRun(seed);
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);
