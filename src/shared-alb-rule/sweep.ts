/**
 * The sweep of rules that appear after their resource's Delete: the allocator function runs it on a schedule
 * (PriorityAllocator's `Sweep` rule, every SWEEP_INTERVAL_MINUTES) besides serving custom resource requests.
 *
 * Why: a CreateRule whose caller gave up (a timeout) may still be acted on by the load balancer's API later. When
 * its Create has answered FAILED and CloudFormation's Delete has already scanned the listener, that rule appears
 * after the scan. The Delete cannot wait for it, so it records the request (see on-delete.ts) and keeps its slot
 * on the counter (high, never low). Each sweep deletes the rules of every recorded request that have appeared, by
 * their tags (stack, logical resource, request); once an entry is older than SWEEP_WINDOW_MS, no rule of it is
 * expected any more, and the sweep gives its slot back and removes the entry.
 *
 * Cost: 1 Query when nothing is recorded; per recorded request, the listener's DescribeRules pages and
 * ceil(rules/20) DescribeTags, plus 1 DeleteRule per rule found.
 */
import { errorMessage, isAwsError } from './allocator-error';
import { deleteRule, findRulesOfRequest } from './listener-rules';
import { AllocatorDeps, AllocatorRequest } from './request';
import { deleteSweepEntry, releaseSlot, SweepEntry, sweepEntries } from './state-table';
import { PriorityAllocatorProperties, SWEEP_WINDOW_MS } from './types';

export { SWEEP_INTERVAL_MINUTES, SWEEP_WINDOW_MS } from './types';

/** The event the schedule sends to the allocator function. */
export interface SweepEvent {
  readonly action: 'sweep';
}

/** True for the schedule's event (anything else is a custom resource request). */
export function isSweepEvent(event: unknown): event is SweepEvent {
  return typeof event === 'object' && event !== null && (event as { action?: unknown }).action === 'sweep';
}

/** What a sweep did. */
export interface SweepResult {
  /** Recorded requests looked at. */
  readonly entries: number;
  /** Rules deleted (rules that appeared after their resource's Delete). */
  readonly rulesDeleted: number;
  /** Entries past the window: their slots given back, the entries removed. */
  readonly expired: number;
  /** Entries that failed (left for the next sweep), with the reason. */
  readonly errors: readonly string[];
}

/**
 * Runs one sweep: for each recorded request, deletes its rules on its listener; an entry past the window gives its
 * slot back and is removed. An entry that fails is left for the next sweep; the others go on.
 */
export async function sweep(deps: AllocatorDeps, now: number = Date.now(), deadline?: number): Promise<SweepResult> {
  const entries = await sweepEntries(deps);
  let rulesDeleted = 0;
  let expired = 0;
  const errors: string[] = [];
  for (const entry of entries) {
    if (deadline !== undefined && Date.now() >= deadline) {
      errors.push(`${entry.requestId}: out of time, left for the next sweep`);
      continue;
    }
    const run = new AllocatorRequest(requestOf(entry), deps, deadline);
    try {
      for (const rule of await rulesOf(run, entry.listenerArn)) {
        await deleteRule(run, rule.ruleArn);
        rulesDeleted += 1;
        run.log({
          level: 'warn',
          message: 'sweep: deleted a rule that appeared after its Delete',
          ruleArn: rule.ruleArn,
        });
      }
      if (now >= entry.expiresAt) {
        await releaseSlot(run, entry.listenerArn, entry.requestId);
        await deleteSweepEntry(run, entry.requestId);
        expired += 1;
      }
    } catch (error) {
      if (now < entry.expiresAt + SWEEP_WINDOW_MS) {
        errors.push(`${entry.requestId}: ${errorMessage(error)}`);
        continue;
      }
      // A window past its expiry and still failing (no permission on a listener any more, say): given up, logged.
      run.log({ level: 'error', message: 'sweep: gave up an entry', entry, error: errorMessage(error) });
      await deleteSweepEntry(run, entry.requestId).catch(() => undefined);
      expired += 1;
    }
  }
  return { entries: entries.length, rulesDeleted, expired, errors };
}

/** The rules of the request on the listener; none when the listener is gone (its load balancer was removed). */
async function rulesOf(run: AllocatorRequest, listenerArn: string) {
  try {
    return await findRulesOfRequest(run, listenerArn);
  } catch (error) {
    if (isAwsError(error, 'ListenerNotFound') || isAwsError(error, 'LoadBalancerNotFound')) return [];
    throw error;
  }
}

/** The identity of the recorded request, as the rules' tags carry it (the paths' helpers read it from a request). */
function requestOf(entry: SweepEntry) {
  return {
    RequestType: 'Delete' as const,
    RequestId: entry.requestId,
    StackId: entry.stackId,
    LogicalResourceId: entry.logicalResourceId,
    ResponseURL: '',
    ResourceType: 'Custom::SharedAlbRulePriority',
    ResourceProperties: {} as PriorityAllocatorProperties,
  };
}
