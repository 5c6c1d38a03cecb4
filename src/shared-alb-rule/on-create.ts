/**
 * The priority allocator's Create path (and Update's, onto a new listener): claim the request, then allocate a
 * slot under the listener's limit and a free priority, and record the answer for repeated deliveries.
 *
 * A CreateRule whose answer is lost (the SDK then repeats it and gets PriorityInUse, or gives up) never leads to a
 * second rule: the rule this request made is found by its tags (stack, logical resource, request) and adopted.
 */
import { AllocatorError, errorMessage, isAwsError } from './allocator-error';
import { countRules, createRuleAt, findRuleOfRequest, ownRuleAt } from './listener-rules';
import { AllocatorRequest, Outcome } from './request';
import { RuleSpec } from './rule-spec';
import {
  CLAIM_DONE,
  CLAIM_FAILED,
  claimKey,
  claimRequest,
  Item,
  markSlotFilled,
  readClaim,
  recordClaimDone,
  recordClaimFailed,
  releaseSlot,
  reserveSlot,
} from './state-table';

/** Creates the rule once per request: a repeated delivery answers what the first one did. */
export async function onCreate(run: AllocatorRequest, spec: RuleSpec): Promise<Outcome> {
  const key = claimKey(run);
  if (!(await claimRequest(run, key, spec))) return awaitEarlierDelivery(run, key);
  try {
    const { ruleArn, priority } = await allocate(run, spec);
    await markSlotFilled(run, spec.listenerArn, ruleArn);
    await recordClaimDone(run, key, ruleArn, priority);
    return { status: 'SUCCESS', physicalResourceId: ruleArn, data: { Priority: String(priority), RuleArn: ruleArn } };
  } catch (error) {
    // Recorded so that a repeated delivery of this request gives the same answer instead of allocating, and so
    // that the Delete knows whether a rule of this request may still appear.
    await recordClaimFailed(run, key, error, run.createRuleUncertain);
    throw error;
  }
}

/** Another delivery of this very request claimed it: wait for its answer and give the same one. */
async function awaitEarlierDelivery(run: AllocatorRequest, key: Item): Promise<Outcome> {
  for (;;) {
    run.checkTime();
    const item = await readClaim(run, key);
    const status = item?.status?.S;
    if (status === CLAIM_DONE && item?.ruleArn?.S && item.priority?.N) {
      run.log({ level: 'info', message: 'repeated request: answering with the earlier allocation' });
      return {
        status: 'SUCCESS',
        physicalResourceId: item.ruleArn.S,
        data: { Priority: item.priority.N, RuleArn: item.ruleArn.S },
      };
    }
    if (status === CLAIM_FAILED) {
      throw new AllocatorError(
        `an earlier delivery of this request failed: ${item?.reason?.S ?? 'no reason recorded'}`,
      );
    }
    // PENDING (or not visible yet): the other delivery is still working.
    await new Promise((r) => setTimeout(r, run.deps.pollIntervalMs ?? 1_000));
  }
}

/** An error after which the rule is known not to exist (the slot can be given back at once). */
class NoRuleError extends AllocatorError {}

/**
 * Reserves a slot under the limit, then creates the rule at the first free candidate priority. When a CreateRule
 * fails in a way that leaves its effect unknown (its answer lost, a timeout), the listener is searched for the
 * rule of this request before anything else; the slot is given back only when no such rule exists.
 */
async function allocate(run: AllocatorRequest, spec: RuleSpec): Promise<{ ruleArn: string; priority: number }> {
  await reserveSlot(run, spec);
  try {
    const tried = new Set<number>();
    const range = spec.maxPriority - spec.minPriority + 1;
    while (tried.size < Math.min(run.maxAttempts, range)) {
      run.checkTime();
      const priority = run.pick(spec.minPriority, spec.maxPriority, tried);
      tried.add(priority);
      try {
        const ruleArn = await createRuleAt(run, spec, priority);
        return { ruleArn, priority };
      } catch (error) {
        if (isAwsError(error, 'PriorityInUse')) {
          // Taken by someone else, or by an earlier attempt of this very call whose answer was lost.
          const own = await ownRuleAt(run, spec.listenerArn, priority);
          if (own) {
            run.log({ level: 'info', message: 'adopted the rule of a repeated CreateRule', priority, ruleArn: own });
            return { ruleArn: own, priority };
          }
          run.log({ level: 'info', message: 'priority in use, trying another', priority });
          continue;
        }
        if (isAwsError(error, 'TooManyRules')) {
          const held = await countRules(run, spec.listenerArn);
          throw new NoRuleError(
            `listener ${spec.listenerArn} is full: it holds ${held} rules (limit ${spec.ruleLimit}; ` +
              'AWS refused another rule with TooManyRules: raise the quota or use another listener)',
          );
        }
        if (error instanceof AllocatorError) throw new NoRuleError(error.message);
        // The call's effect is unknown: it may have created the rule, or the backend may still create it.
        run.createRuleUncertain = true;
        const found = await findRuleOfRequest(run, spec.listenerArn);
        if (found) {
          run.log({ level: 'info', message: 'adopted the rule of a failed CreateRule', ruleArn: found.ruleArn });
          return { ruleArn: found.ruleArn, priority: Number(found.priority) };
        }
        // Not there now, but it may still come: the slot stays taken until the Delete's sweep gives it back.
        throw new AllocatorError(errorMessage(error));
      }
    }
    throw new NoRuleError(
      `no free priority on listener ${spec.listenerArn} after ${tried.size} attempts ` +
        `(tried ${[...tried].join(', ')} in ${spec.minPriority}..${spec.maxPriority}): all were in use`,
    );
  } catch (error) {
    // Without a rule, the slot goes back now; otherwise the Delete of this resource finds the rule and gives it back.
    if (error instanceof NoRuleError) {
      await releaseSlot(run, spec.listenerArn, run.request.RequestId);
      throw new AllocatorError(error.message);
    }
    throw error;
  }
}
