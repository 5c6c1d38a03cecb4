/**
 * The priority allocator's Delete path: the rules of the resource, its claims and its slots. What is deleted is
 * found on the listener by the rules' tags as well as in the state table, so that a rule whose record was lost
 * (a Create answered FAILED after ELB made its rule, a lost answer) is deleted all the same.
 */
import { errorMessage } from './allocator-error';
import { deleteRule, findOwnRules, isRuleArn, listenerOfRule } from './listener-rules';
import { AllocatorRequest, Outcome, unallocatedId } from './request';
import { parseProperties } from './rule-spec';
import {
  CLAIM_DONE,
  claimIsUncertain,
  claimsOfResource,
  deleteClaim,
  holdSlotForSweep,
  Item,
  recordSweep,
  releaseSlot,
} from './state-table';
import { SWEEP_WINDOW_MS } from './types';

/**
 * Deletes the resource's rule (a missing rule is fine), every other rule on its listener that carries the
 * resource's identity and is not the live rule of another request of it (after a replacement), gives their slots
 * back (once each, by the creating request's lease) and removes the resource's finished claims.
 *
 * A request whose rule may still appear (its Create timed out during a CreateRule, or never finished) and whose rule
 * is not on the listener yet keeps its slot, and is recorded for the sweep: the platform's scheduled sweep deletes
 * such a rule when it appears, and gives the slot back once the sweep window has passed (see sweep.ts).
 */
export async function onDelete(run: AllocatorRequest): Promise<Outcome> {
  const physical = run.request.PhysicalResourceId ?? '';
  const claims = await claimsOfResource(run);
  // The Create this placeholder names answered FAILED, whatever its claim recorded after the answer.
  const failedCreate = claims.find((c) => physical === unallocatedId(c.sk?.S ?? ''))?.sk?.S;
  // Another request of this resource answered with a different rule that lives on (a replacement): kept.
  const live = new Map<string, Item>();
  for (const c of claims) {
    const ruleArn = c.ruleArn?.S;
    const id = c.sk?.S;
    if (c.status?.S === CLAIM_DONE && ruleArn && ruleArn !== physical && id && id !== failedCreate) live.set(id, c);
  }
  const doomed = new Map<string, string | undefined>(); // rule ARN -> creating request
  if (isRuleArn(physical)) doomed.set(physical, claims.find((c) => c.ruleArn?.S === physical)?.sk?.S);
  for (const c of claims) {
    const ruleArn = c.ruleArn?.S;
    if (ruleArn && c.sk?.S && !live.has(c.sk.S)) doomed.set(ruleArn, c.sk.S);
  }
  for (const listenerArn of listenersOf(run, physical)) {
    for (const rule of await findOwnRules(run, listenerArn)) {
      if (rule.requestId !== undefined && live.has(rule.requestId)) continue;
      if (rule.requestId === undefined && rule.ruleArn !== physical) continue; // an older rule: only by its id
      doomed.set(rule.ruleArn, rule.requestId ?? doomed.get(rule.ruleArn));
    }
  }

  for (const ruleArn of doomed.keys()) await deleteRule(run, ruleArn);
  // Slots go back by the lease of the request that took them: exactly once, whatever repeats or races.
  const requests = new Map<string, string>(); // request -> listener of its slot
  for (const [ruleArn, requestId] of doomed) if (requestId) requests.set(requestId, listenerOfRule(ruleArn));
  for (const c of claims) {
    const id = c.sk?.S;
    const listenerArn = c.listenerArn?.S;
    if (!id || live.has(id) || requests.has(id) || !listenerArn) continue;
    if (claimIsUncertain(c)) {
      await deferToSweep(run, id, listenerArn);
    } else {
      requests.set(id, listenerArn);
    }
  }
  for (const [requestId, listenerArn] of requests) await releaseSlot(run, listenerArn, requestId);
  for (const c of claims) {
    if (c.sk?.S && !live.has(c.sk.S)) await deleteClaim(run, c);
  }
  return { status: 'SUCCESS', physicalResourceId: physical || unallocatedId(run.request.RequestId) };
}

/**
 * Leaves a request whose rule may still appear on the listener to the sweep (sweep.ts): recorded with its identity,
 * its slot kept (counted by recounts) until the sweep window has passed.
 */
export async function deferToSweep(run: AllocatorRequest, requestId: string, listenerArn: string): Promise<void> {
  await recordSweep(run, {
    requestId,
    stackId: run.request.StackId,
    logicalResourceId: run.request.LogicalResourceId,
    listenerArn,
    expiresAt: Date.now() + SWEEP_WINDOW_MS,
  });
  await holdSlotForSweep(run, listenerArn, requestId);
  run.log({ level: 'info', message: 'a rule of this request may still appear: recorded for the sweep', requestId });
}

/** The listeners to search: the resource's (from its properties) and its rule's, when they differ. */
function listenersOf(run: AllocatorRequest, physical: string): string[] {
  const listeners = new Set<string>();
  try {
    listeners.add(parseProperties(run.request.ResourceProperties).listenerArn);
  } catch (error) {
    run.log({
      level: 'warn',
      message: 'properties unreadable: only the recorded rules are deleted',
      error: errorMessage(error),
    });
  }
  if (isRuleArn(physical)) listeners.add(listenerOfRule(physical));
  return [...listeners];
}
