/**
 * The priority allocator's Create path (and Update's, onto a new listener): claim the request, then allocate a
 * slot under the listener's limit and a free priority, and record the answer for repeated deliveries.
 */
import { AllocatorError, isAwsError } from './allocator-error';
import { countRules, createRuleAt } from './listener-rules';
import { AllocatorRequest, Outcome } from './request';
import { RuleSpec } from './rule-spec';
import {
  CLAIM_DONE,
  CLAIM_FAILED,
  claimKey,
  claimRequest,
  Item,
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
    await recordClaimDone(run, key, ruleArn, priority);
    return { status: 'SUCCESS', physicalResourceId: ruleArn, data: { Priority: String(priority), RuleArn: ruleArn } };
  } catch (error) {
    // Recorded so that a repeated delivery of this request gives the same answer instead of allocating.
    await recordClaimFailed(run, key, error);
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

/** Reserves a slot under the limit, then creates the rule at the first free candidate priority. */
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
          run.log({ level: 'info', message: 'priority in use, trying another', priority });
          continue;
        }
        if (isAwsError(error, 'TooManyRules')) {
          const held = await countRules(run, spec.listenerArn);
          throw new AllocatorError(
            `listener ${spec.listenerArn} is full: it holds ${held} rules (limit ${spec.ruleLimit}; ` +
              'AWS refused another rule with TooManyRules: raise the quota or use another listener)',
          );
        }
        throw error;
      }
    }
    throw new AllocatorError(
      `no free priority on listener ${spec.listenerArn} after ${tried.size} attempts ` +
        `(tried ${[...tried].join(', ')} in ${spec.minPriority}..${spec.maxPriority}): all were in use`,
    );
  } catch (error) {
    await releaseSlot(run, spec.listenerArn);
    throw error;
  }
}
