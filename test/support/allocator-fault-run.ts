/**
 * The allocator's fault run: many resources through their whole life at once (Create, then an Update in place or
 * onto another listener, then a Delete or not), driven as CloudFormation drives them (a failed Create is deleted
 * with the id it answered; a failed Update is rolled back; a replaced rule is deleted after its replacement; a
 * failed Delete is retried), while the fault proxy loses answers, resets connections, throttles, drops calls and
 * pauses the backend. Shared by the fault-run test and `npx projen bench:allocator --faults-only`.
 */
import { AlbFixture, ResponseServer } from './alb-fixture';
import { cfnRequest, lambdaContext, ListenerProbe, ruleProps } from './allocator-harness';
import { FaultProxy } from './fault-proxy';
import { AllocatorResult } from '../../src/shared-alb-rule/allocator';
import { CfnRequest, CfnResponse } from '../../src/shared-alb-rule/cfn-response';
import { createHandler, depsFromEnvironment } from '../../src/shared-alb-rule/priority-allocator.lambda';
import { sweep, SweepResult } from '../../src/shared-alb-rule/sweep';
import { PriorityAllocatorProperties, SWEEP_WINDOW_MS } from '../../src/shared-alb-rule/types';

type Props = PriorityAllocatorProperties;
type Handler = (event: CfnRequest<Props>, context: ReturnType<typeof lambdaContext>) => Promise<AllocatorResult>;

export interface FaultRunOptions {
  readonly resources: number;
  /** The function's time per invocation, in ms (the allocator's Lambda timeout). */
  readonly functionMs: number;
  /** When the backend pauses (ms after the start) and for how long. */
  readonly pauseAtMs: number;
  readonly pauseMs: number;
  /** Chances per call of each fault. */
  readonly lost: number;
  readonly reset: number;
  readonly throttle: number;
  readonly drop: number;
  /** Times CloudFormation (or an operator) repeats a failed Delete or rollback. */
  readonly retries: number;
  /** Resource i starts i × this many ms after the first (stacks do not all start in the same millisecond). */
  readonly staggerMs: number;
}

export const DEFAULT_FAULT_RUN: FaultRunOptions = {
  resources: 100,
  functionMs: 120_000,
  pauseAtMs: 1_500,
  pauseMs: 3_000,
  lost: 0.04,
  reset: 0.02,
  throttle: 0.05,
  drop: 0.01,
  retries: 4,
  staggerMs: 50,
};

/** One invocation: what it asked, what it answered, and whether it answered in time. */
export interface Invocation {
  readonly type: 'Create' | 'Update' | 'Delete';
  readonly response: CfnResponse;
  readonly delivered: boolean;
  readonly inTime: boolean;
  readonly ms: number;
}

export interface FaultRunResult {
  readonly invocations: Invocation[];
  /** The resources alive at the end: their rule, listener, host and answered priority. */
  readonly live: { ruleArn: string; listenerArn: string; host: string; priority: string }[];
  /** Hosts of resources that are gone (failed or deleted). */
  readonly goneHosts: string[];
  readonly listeners: string[];
  readonly injected: Record<string, number>;
  readonly wallMs: number;
  /** The platform's scheduled sweeps after the run: one at once, one after the sweep window. */
  readonly sweeps: readonly SweepResult[];
}

/** What the fault run leaves, measured on moto afterwards. */
export interface FaultRunFigures {
  readonly rules: number;
  readonly liveResources: number;
  readonly hostsRoutedTwice: number;
  readonly liveHostsUnrouted: number;
  readonly goneHostsRouted: number;
  readonly rulesLeaked: number;
  readonly counters: number[];
  readonly priorityGivenTwice: number;
  readonly unanswered: number;
  readonly late: number;
}

/**
 * A handler per invocation, as Lambda runs them: each concurrent invocation in its own execution environment, with
 * its own SDK clients (their sockets and retry quota). One handler shared by 100 concurrent invocations queued them
 * on its clients' 50 sockets, and a call that waited over 2 s for a socket failed as a connection timeout, which
 * made every Create of the run fail on a loaded machine: a fault of the test, not of the allocator.
 */
export function handlerPerInvocation(): () => Handler {
  return () => createHandler(() => depsFromEnvironment());
}

/**
 * Runs the fault run. `newHandler` gives the handler of one invocation: concurrent invocations of a Lambda function
 * run in separate execution environments, each with its own clients (and their retry quotas).
 */
export async function runFaults(
  newHandler: () => Handler,
  fixture: AlbFixture,
  responses: ResponseServer,
  proxy: FaultProxy,
  options: FaultRunOptions = DEFAULT_FAULT_RUN,
): Promise<FaultRunResult> {
  const listeners = [await fixture.newListener(), await fixture.newListener()];
  const invocations: Invocation[] = [];
  const invoke = async (event: CfnRequest<Props>): Promise<CfnResponse> => {
    const context = lambdaContext(options.functionMs);
    const started = Date.now();
    const result = await newHandler()(event, context);
    const ended = Date.now();
    const delivered = responses.received.get(`/${event.RequestId}`)?.at(-1);
    invocations.push({
      type: event.RequestType,
      response: result.response,
      delivered: delivered !== undefined && JSON.stringify(delivered) === JSON.stringify(result.response),
      inTime: ended <= context.deadline,
      ms: ended - started,
    });
    return result.response;
  };
  const request = (type: 'Create' | 'Update' | 'Delete', p: Props, more: Partial<CfnRequest<Props>>) =>
    cfnRequest(responses.base, type, p, more);
  const props = (listenerArn: string, host: string) => ruleProps(listenerArn, fixture.targetGroupArn, [host]);
  const repeat = async (make: () => CfnRequest<Props>) => {
    for (let i = 0; ; i++) {
      const answer = await invoke(make());
      if (answer.Status === 'SUCCESS' || i >= options.retries) return answer;
    }
  };

  proxy.addRule({ fault: 'error-after', probability: options.lost });
  proxy.addRule({ fault: 'reset-after', probability: options.reset });
  proxy.addRule({ fault: 'throttle', probability: options.throttle });
  proxy.addRule({ fault: 'drop', probability: options.drop });
  const pause = setTimeout(() => proxy.pause(options.pauseMs), options.pauseAtMs);
  const started = Date.now();

  const lives = await Promise.all(
    Array.from({ length: options.resources }, async (_, i) => {
      await new Promise((r) => setTimeout(r, i * options.staggerMs));
      const LogicalResourceId = `Site${i}`;
      let host = `site${i}.example.com`;
      let current = props(listeners[0], host);
      const created = await invoke(request('Create', current, { LogicalResourceId }));
      let physical = created.PhysicalResourceId;
      let priority = created.Data?.Priority;
      if (created.Status === 'FAILED') {
        await repeat(() => request('Delete', current, { LogicalResourceId, PhysicalResourceId: physical }));
        return { gone: [host] };
      }
      const gone: string[] = [];
      if (i % 3 !== 2) {
        const next = i % 3 === 0 ? props(listeners[0], `renamed${i}.example.com`) : props(listeners[1], host);
        const updated = await invoke(
          request('Update', next, { LogicalResourceId, PhysicalResourceId: physical, OldResourceProperties: current }),
        );
        if (updated.Status === 'SUCCESS') {
          if (updated.PhysicalResourceId !== physical) {
            // A replacement: CloudFormation deletes the old rule, with the old properties, once the stack is updated.
            const old = { props: current, id: physical };
            await repeat(() => request('Delete', old.props, { LogicalResourceId, PhysicalResourceId: old.id }));
          }
          if (next.hosts[0] !== host) gone.push(host);
          current = next;
          host = next.hosts[0];
          physical = updated.PhysicalResourceId;
          priority = updated.Data?.Priority;
        } else {
          // The rollback: the old properties again, with the id CloudFormation knows.
          const failed = next;
          const back = await repeat(() =>
            request('Update', current, {
              LogicalResourceId,
              PhysicalResourceId: physical,
              OldResourceProperties: failed,
            }),
          );
          if (back.Status === 'SUCCESS') priority = back.Data?.Priority;
          if (failed.hosts[0] !== host) gone.push(failed.hosts[0]);
        }
      }
      if (i % 2 === 0) {
        await repeat(() => request('Delete', current, { LogicalResourceId, PhysicalResourceId: physical }));
        return { gone: [...gone, host] };
      }
      return { gone, live: { ruleArn: physical, listenerArn: current.listenerArn, host, priority: priority ?? '' } };
    }),
  );
  clearTimeout(pause);
  const wallMs = Date.now() - started;
  proxy.clearRules();
  await new Promise((r) => setTimeout(r, 500)); // calls the proxy still held are served
  // The platform's schedule: a sweep deletes rules that appeared after their Delete; one after the window gives the
  // slots of requests whose outcome stayed unknown back.
  const sweeps = [await sweep(depsFromEnvironment()), await sweep(depsFromEnvironment(), Date.now() + SWEEP_WINDOW_MS)];
  return {
    sweeps,
    invocations,
    live: lives.flatMap((l) => (l.live ? [l.live] : [])),
    goneHosts: lives.flatMap((l) => l.gone),
    listeners,
    injected: { ...proxy.injected },
    wallMs,
  };
}

/** Reads moto (not through the proxy) and measures what the run left. */
export async function measureFaultRun(probe: ListenerProbe, run: FaultRunResult): Promise<FaultRunFigures> {
  const rulesByArn = new Map<string, { hosts: string[]; listenerArn: string }>();
  const priorityOf = new Map<string, string>();
  for (const listenerArn of run.listeners) {
    for (const rule of await probe.rules(listenerArn)) {
      const hosts = (rule.Conditions ?? []).flatMap((c) => c.HostHeaderConfig?.Values ?? []);
      rulesByArn.set(rule.RuleArn!, { hosts, listenerArn });
      priorityOf.set(rule.RuleArn!, rule.Priority!);
    }
  }
  const perHost = new Map<string, number>();
  for (const { hosts } of rulesByArn.values()) for (const h of hosts) perHost.set(h, (perHost.get(h) ?? 0) + 1);
  const liveArns = new Set(run.live.map((l) => l.ruleArn));
  const liveHosts = new Set(run.live.map((l) => l.host));
  // A priority answered for a live resource that is not its rule's priority, or answered for two live resources.
  const answered = new Map<string, number>();
  for (const l of run.live) {
    answered.set(`${l.listenerArn}#${l.priority}`, (answered.get(`${l.listenerArn}#${l.priority}`) ?? 0) + 1);
  }
  const priorityGivenTwice =
    [...answered.values()].filter((n) => n > 1).length +
    run.live.filter((l) => priorityOf.get(l.ruleArn) !== l.priority).length;
  return {
    rules: rulesByArn.size,
    liveResources: run.live.length,
    hostsRoutedTwice: [...perHost.values()].filter((n) => n > 1).length,
    liveHostsUnrouted: [...liveHosts].filter((h) => perHost.get(h) !== 1).length,
    goneHostsRouted: run.goneHosts.filter((h) => !liveHosts.has(h) && perHost.has(h)).length,
    rulesLeaked: [...rulesByArn.keys()].filter((arn) => !liveArns.has(arn)).length,
    counters: await Promise.all(run.listeners.map(async (l) => (await probe.counter(l)) ?? 0)),
    priorityGivenTwice,
    unanswered: run.invocations.filter((i) => !i.delivered).length,
    late: run.invocations.filter((i) => !i.inTime).length,
  };
}
