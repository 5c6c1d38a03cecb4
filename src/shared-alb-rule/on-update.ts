/**
 * The priority allocator's Update path: the rule and its priority are kept (ModifyRule in place, then the tags);
 * onto a new listener, or when the rule is gone, a new rule is allocated as on Create.
 */
import { AllocatorError, isAwsError } from './allocator-error';
import { isRuleArn, listenerOfRule, modifyRule, syncTags } from './listener-rules';
import { onCreate } from './on-create';
import { AllocatorRequest, Outcome } from './request';
import { parseProperties } from './rule-spec';
import { PriorityAllocatorProperties } from './types';

/** Updates the rule in place, or allocates a new one (CloudFormation then deletes the old one). */
export async function onUpdate(run: AllocatorRequest): Promise<Outcome> {
  const spec = parseProperties(run.request.ResourceProperties);
  const oldListener = (run.request.OldResourceProperties as Partial<PriorityAllocatorProperties> | undefined)
    ?.listenerArn;
  const ruleArn = run.request.PhysicalResourceId;
  if (!isRuleArn(ruleArn) || oldListener !== spec.listenerArn || listenerOfRule(ruleArn) !== spec.listenerArn) {
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
  return { status: 'SUCCESS', physicalResourceId: ruleArn, data: { Priority: priority, RuleArn: ruleArn } };
}
