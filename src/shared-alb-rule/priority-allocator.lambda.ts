/**
 * The shared ALB's listener-rule priority allocator: the ONE Lambda function behind every SharedAlbRule
 * custom resource (a direct Lambda ServiceToken, no Provider framework).
 *
 * Design
 * - The custom resource OWNS its listener rule: the handler creates, modifies and deletes it, and its
 *   PhysicalResourceId is the rule ARN. ELB is the arbiter of priorities: CreateRule with an explicit
 *   priority fails with PriorityInUse when the priority is taken, by anyone (another stack, a rule made by
 *   hand, another tool). The handler then tries another candidate (bounded: MAX_ATTEMPTS, default 10).
 *   Candidates are uniformly random in minPriority..maxPriority (default 1..50000): with 100 rules on a
 *   listener a candidate collides with probability 100/50000 = 0.2%, so concurrent stacks practically
 *   never meet, and no listener scan is needed to choose.
 * - ruleLimit (default 100) is enforced by a per-listener counter in the state table, reserved with one
 *   conditional UpdateItem (`count < limit`) before CreateRule, so concurrent allocations cannot overshoot
 *   it either. Only when that condition fails (first allocation on a listener, or the counter says full)
 *   are the rules counted for real with a paginated DescribeRules and the counter (re)seeded from the count
 *   with a conditional write; the failure message reads `listener <arn> is full: it holds N rules (limit L)`.
 *   CreateRule's own TooManyRules (the AWS quota) gives the same message. The counter counts allocations;
 *   rules added or removed by hand make it drift until the next recount (a full counter recounts, so a
 *   high counter repairs itself; a low one is bounded by AWS's TooManyRules).
 * - Idempotency: every request that creates a rule (Create, Update onto a new listener) first claims
 *   `(StackId|LogicalResourceId, RequestId)` in the state table with a conditional PutItem. A repeated
 *   delivery of the same request finds the claim and answers with the recorded rule and priority (waiting
 *   while the first delivery is still at work); it never creates a second rule.
 * - Update keeps the rule and its priority (ModifyRule in place); a new listenerArn allocates a new rule
 *   and returns a new PhysicalResourceId, and CloudFormation deletes the old rule. Delete removes the rule
 *   (RuleNotFound is fine), gives the slot back and removes the resource's finished claims: the priority
 *   is free for the next allocation.
 * - Always answers: every error becomes FAILED with its reason, and a timer answers FAILED
 *   SAFETY_MARGIN_MS (default 10 s) before the Lambda times out, never after CloudFormation's hour. The PUT to
 *   the ResponseURL is retried with backoff until 0.5 s before the function's time runs out.
 * - Under faults: every rule is tagged with its stack, logical resource and creating request, and found by those
 *   tags (DescribeRules + DescribeTags) when the records cannot be trusted: a CreateRule whose answer was lost
 *   (PriorityInUse on the SDK's retry, or a timeout) adopts the rule this request made; a Delete removes every
 *   rule of its resource on the listener except the live rule of a replacement; the rollback of a move deletes
 *   the rule the move left on the other listener. The counter keeps one lease per request (`leases.<RequestId>`:
 *   an expiry while the rule is being created, then its ARN), so repeated writes take and give back a slot once,
 *   and a recount adds the leases still being filled to the listener's rules. Every AWS call has a timeout
 *   (SDK_TIMEOUT_MS, default 5 s) and up to 5 tries with the SDK's standard backoff.
 * - A CreateRule that the load balancer's API acts on after its caller gave up can make a rule after the Delete of
 *   its resource scanned the listener. The Delete records such requests (claims that never finished or failed after
 *   a CreateRule of unknown effect) and keeps their slots; the platform's schedule invokes this function every 15
 *   minutes with `{"action":"sweep"}`, and the sweep deletes those rules by their tags and gives the slots back an
 *   hour after the Delete (sweep.ts).
 *
 * AWS API calls per request (counted by api-calls.ts and logged with each response)
 * - Create, common case: 5 — PutItem (claim), UpdateItem (counter slot), CreateRule (with tags),
 *   UpdateItem (slot filled), UpdateItem (claim done). +1 CreateRule, +1 DescribeRules page and 1 DescribeTags per
 *   priority collision (is the rule at that priority this request's own?).
 * - First allocation on a listener: +2 GetItem/UpdateItem and ceil(rules/400) DescribeRules pages to seed
 *   the counter (ceil(rules/50) on moto): 7 calls. Concurrent first allocations that lose the seeding race
 *   retry the reservation once more: 8 calls (measured in docs/BENCHMARKS.md).
 * - Listener full: the same recount, then FAILED; +2 (claim failed, slot released) when AWS's TooManyRules.
 * - Worst case that still succeeds: 4 + (MAX_ATTEMPTS - 1) collisions + a reseed.
 * - Repeated Create: 1 PutItem + 1 GetItem per poll.
 * - Update on the same listener: 1 ModifyRule (+1 AddTags / +1 RemoveTags when the tags change).
 * - Delete: 1 Query + DescribeRules pages + ceil(rules/20) DescribeTags (the resource's rules by their tags) +
 *   1 DeleteRule + 1 DeleteItem (claim) + 1 UpdateItem (slot); +1 DeleteItem per unfinished claim, +1 PutItem (the
 *   sweep's record) per claim whose rule may still appear.
 *
 * Environment: STATE_TABLE_NAME (required), MAX_ATTEMPTS, SAFETY_MARGIN_MS, SDK_TIMEOUT_MS; AWS_ENDPOINT_URL (honoured by
 * the AWS SDK) points the clients elsewhere, e.g. at moto in the tests.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { AllocatorDeps, AllocatorResult, LambdaContextLike, processRequest } from './allocator';
import { countApiCalls } from './api-calls';
import { CfnRequest, httpResponseSender } from './cfn-response';
import { isSweepEvent, sweep, SweepEvent, SweepResult } from './sweep';
import {
  ENV_MAX_ATTEMPTS,
  ENV_SAFETY_MARGIN_MS,
  ENV_SDK_TIMEOUT_MS,
  ENV_STATE_TABLE,
  PriorityAllocatorProperties,
} from './types';

/** Tries of one AWS call (the SDK's standard retry mode: exponential backoff with jitter, throttling included). */
const SDK_MAX_ATTEMPTS = 5;

function positiveInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) {
    throw new Error(`environment variable ${name}: expected a positive integer, got ${raw}`);
  }
  return n;
}

/** The real dependencies, from the environment (clients with the API-call counter). */
export function depsFromEnvironment(): AllocatorDeps {
  const tableName = process.env[ENV_STATE_TABLE];
  if (!tableName) throw new Error(`environment variable ${ENV_STATE_TABLE} is not set`);
  // Every call has a timeout (a lost answer is then retried instead of waiting for the function's end).
  const timeoutMs = positiveInt(ENV_SDK_TIMEOUT_MS, 5_000);
  const config = {
    maxAttempts: SDK_MAX_ATTEMPTS,
    retryMode: 'standard',
    requestHandler: {
      connectionTimeout: Math.min(timeoutMs, 2_000),
      requestTimeout: timeoutMs,
      throwOnRequestTimeout: true,
    },
  };
  return {
    elb: countApiCalls(new ElasticLoadBalancingV2Client(config)),
    dynamodb: countApiCalls(new DynamoDBClient(config)),
    tableName,
    sendResponse: httpResponseSender(),
    maxAttempts: positiveInt(ENV_MAX_ATTEMPTS, 10),
    safetyMarginMs: positiveInt(ENV_SAFETY_MARGIN_MS, 10_000),
  };
}

/**
 * A handler over the given dependencies (built lazily, once per container, when given as a function).
 * When they cannot be built (missing environment), the request is still answered FAILED with the reason.
 */
export function createHandler(
  deps: AllocatorDeps | (() => AllocatorDeps),
): (event: CfnRequest<PriorityAllocatorProperties>, context: LambdaContextLike) => Promise<AllocatorResult> {
  let resolved: AllocatorDeps | undefined = typeof deps === 'function' ? undefined : deps;
  return async (event, context) => {
    try {
      resolved ??= (deps as () => AllocatorDeps)();
    } catch (error) {
      const reason = `the priority allocator is misconfigured: ${(error as Error).message}`;
      const response = {
        Status: 'FAILED' as const,
        Reason: reason,
        PhysicalResourceId:
          event.RequestType === 'Create' ? `unallocated:${event.RequestId}` : (event.PhysicalResourceId ?? ''),
        StackId: event.StackId,
        RequestId: event.RequestId,
        LogicalResourceId: event.LogicalResourceId,
      };
      console.log(JSON.stringify({ level: 'error', message: reason }));
      await httpResponseSender()(event.ResponseURL, response);
      return { response, apiCalls: { calls: 0, attempts: 0, byOperation: {} } };
    }
    return processRequest(event, context, resolved);
  };
}

/**
 * The scheduled sweep over the given dependencies (see sweep.ts): stops SAFETY_MARGIN_MS before the function's
 * time runs out, leaving what remains for the next sweep. Throws (the invocation fails, which CloudWatch counts as
 * an error of the function) when an entry could not be swept.
 */
export function createSweepHandler(
  deps: AllocatorDeps | (() => AllocatorDeps),
): (event: SweepEvent, context: LambdaContextLike) => Promise<SweepResult> {
  let resolved: AllocatorDeps | undefined = typeof deps === 'function' ? undefined : deps;
  return async (_event, context) => {
    resolved ??= (deps as () => AllocatorDeps)();
    const deadline = Date.now() + context.getRemainingTimeInMillis() - (resolved.safetyMarginMs ?? 10_000);
    const result = await sweep(resolved, Date.now(), deadline);
    console.log(JSON.stringify({ level: result.errors.length ? 'error' : 'info', message: 'sweep done', ...result }));
    if (result.errors.length) {
      throw new Error(`the sweep left ${result.errors.length} entries for the next run: ${result.errors.join('; ')}`);
    }
    return result;
  };
}

/** The Lambda entry point: custom resource requests, and the schedule's sweep. */
export function createEntryPoint(
  deps: AllocatorDeps | (() => AllocatorDeps),
): (
  event: CfnRequest<PriorityAllocatorProperties> | SweepEvent,
  context: LambdaContextLike,
) => Promise<AllocatorResult | SweepResult> {
  let resolved: AllocatorDeps | undefined = typeof deps === 'function' ? undefined : deps;
  const lazy = () => (resolved ??= (deps as () => AllocatorDeps)());
  const serve = createHandler(lazy);
  const sweepHandler = createSweepHandler(lazy);
  return (event, context) => (isSweepEvent(event) ? sweepHandler(event, context) : serve(event, context));
}

/** The Lambda entry point. */
export const handler = createEntryPoint(depsFromEnvironment);
