/** The priority allocator's Delete path: the rule, its claims and its slot. */
import { deleteRule, isRuleArn, listenerOfRule } from './listener-rules';
import { AllocatorRequest, Outcome, unallocatedId } from './request';
import { CLAIM_DONE, CLAIM_FAILED, claimsOfResource, deleteClaim, releaseSlot } from './state-table';

/**
 * Deletes the rule (a missing rule is fine), removes this resource's finished state (the claim of the
 * deleted rule and claims of failed requests) and gives the rule's slot back. A Create that failed answered with
 * `unallocated:<RequestId>`: if that request created a rule after all (it was cut by the deadline), the
 * claim names it and it is deleted too.
 */
export async function onDelete(run: AllocatorRequest): Promise<Outcome> {
  const physical = run.request.PhysicalResourceId ?? '';
  const claims = await claimsOfResource(run);

  const rules = new Set<string>();
  if (isRuleArn(physical)) rules.add(physical);
  const finished = claims.filter((c) => {
    const ruleArn = c.ruleArn?.S;
    if (physical === unallocatedId(c.sk?.S ?? '')) {
      if (ruleArn) rules.add(ruleArn);
      return true;
    }
    return (ruleArn !== undefined && ruleArn === physical) || c.status?.S === CLAIM_FAILED;
  });

  for (const ruleArn of rules) await deleteRule(run, ruleArn);
  // The slot of a rule is given back by whoever deletes its claim (a conditional delete: exactly once,
  // even when deliveries of the Delete repeat or race, and whatever DeleteRule says about a missing rule).
  for (const claim of finished) {
    if (!(await deleteClaim(run, claim))) continue;
    const ruleArn = claim.ruleArn?.S;
    if (ruleArn && claim.status?.S === CLAIM_DONE) await releaseSlot(run, listenerOfRule(ruleArn));
  }
  return { status: 'SUCCESS', physicalResourceId: physical || unallocatedId(run.request.RequestId) };
}
