/**
 * The priority allocator's Update path: the rule and its priority are kept (ModifyRule in place, then the tags);
 * onto a new listener, or when the rule is gone, a new rule is allocated as on Create.
 */
import { AllocatorError, isAwsError } from './allocator-error';
import { deleteRule, findOwnRules, isRuleArn, listenerOfRule, modifyRule, syncTags } from './listener-rules';
import { onCreate } from './on-create';
import { deferToSweep } from './on-delete';
import { AllocatorRequest, Outcome } from './request';
import { parseProperties } from './rule-spec';
import { claimIsUncertain, claimsOfResource, deleteClaim, releaseSlot } from './state-table';
import { PriorityAllocatorProperties } from './types';

/** Updates the rule in place, or allocates a new one (CloudFormation then deletes the old one). */
export async function onUpdate(run: AllocatorRequest): Promise<Outcome> {
  const spec = parseProperties(run.request.ResourceProperties);
  const oldListener = (run.request.OldResourceProperties as Partial<PriorityAllocatorProperties> | undefined)
    ?.listenerArn;
  const ruleArn = run.request.PhysicalResourceId;
  if (!isRuleArn(ruleArn) || listenerOfRule(ruleArn) !== spec.listenerArn) {
    // A new listener (or no rule yet): a new rule with a new priority; CloudFormation deletes the old one.
    return onCreate(run, spec);
  }
  let priority: string | undefined;
  try {
    priority = await modifyRule(run, ruleArn, spec);
  } catch (error) {
    if (!isAwsError(error, 'RuleNotFound')) throw error;
    run.log({
      level: 'warn',
      message: 'the rule was deleted outside CloudFormation: allocating a new one',
      ruleArn,
    });
    return onCreate(run, spec);
  }
  await syncTags(run, ruleArn, spec);
  if (!priority) throw new AllocatorError(`ModifyRule returned no priority for ${ruleArn}`);
  if (typeof oldListener === 'string' && oldListener !== spec.listenerArn) {
    await removeFromListener(run, oldListener);
  }
  return { status: 'SUCCESS', physicalResourceId: ruleArn, data: { Priority: priority, RuleArn: ruleArn } };
}

/**
 * The rule stays on its listener while the old properties name another: CloudFormation is rolling back a move
 * onto that listener that failed (its Update answered FAILED with this rule's id). Any rule of this resource that
 * the failed move left there is deleted, with its slot and its claim; a move whose rule may still appear there is
 * left to the sweep.
 */
async function removeFromListener(run: AllocatorRequest, listenerArn: string): Promise<void> {
  const leftovers = await findOwnRules(run, listenerArn);
  const claims = (await claimsOfResource(run)).filter((c) => c.listenerArn?.S === listenerArn);
  const requests = new Set<string>();
  for (const rule of leftovers) {
    run.log({ level: 'info', message: 'deleting the rule of a failed move', ruleArn: rule.ruleArn });
    await deleteRule(run, rule.ruleArn);
    if (rule.requestId) requests.add(rule.requestId);
  }
  for (const c of claims) {
    const id = c.sk?.S;
    if (!id || requests.has(id)) continue;
    // The move's CreateRule may still make its rule there: the sweep deletes it, and gives the slot back.
    if (claimIsUncertain(c)) await deferToSweep(run, id, listenerArn);
    else requests.add(id);
  }
  for (const requestId of requests) await releaseSlot(run, listenerArn, requestId);
  for (const c of claims) await deleteClaim(run, c);
}
