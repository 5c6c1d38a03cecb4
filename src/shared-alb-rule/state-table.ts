/**
 * The priority allocator's state table (partition key `pk`, sort key `sk`): the claims of the requests that create
 * a rule, `claim|<StackId>|<LogicalResourceId>` / `<RequestId>`, and the per-listener rule counter that enforces
 * ruleLimit, `listener|<ListenerArn>` / `rules`.
 *
 * Every write is safe to repeat (the SDK repeats a call whose answer was lost): the claim names the invocation
 * that made it, and the counter keeps one lease per request that took a slot (`leases.<RequestId>`: the expiry
 * time while its rule is being created, then the rule's ARN), so a slot is taken and given back once per request.
 */
import {
  AttributeValue,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { AllocatorError, errorMessage, isAwsError } from './allocator-error';
import { listRules } from './listener-rules';
import type { AllocatorRequest } from './request';
import { RuleSpec } from './rule-spec';

/** An item of the state table. */
export type Item = Record<string, AttributeValue>;

const CLAIM_PENDING = 'PENDING';
/** A claim whose request created its rule (the claim holds `ruleArn` and `priority`). */
export const CLAIM_DONE = 'DONE';
/** A claim whose request failed (the claim holds `reason`). */
export const CLAIM_FAILED = 'FAILED';
const COUNTER_SK = 'rules';
const RESEED_ATTEMPTS = 5;

// ---- The claims of the requests that create a rule ----

/** The key of this request's claim. */
export function claimKey(run: AllocatorRequest): Item {
  return { pk: { S: run.claimPk }, sk: { S: run.request.RequestId } };
}

/** Claims the request (PENDING), conditionally: false when another delivery of it claimed it first. */
export async function claimRequest(run: AllocatorRequest, key: Item, spec: RuleSpec): Promise<boolean> {
  try {
    await run.deps.dynamodb.send(
      new PutItemCommand({
        TableName: run.deps.tableName,
        Item: {
          ...key,
          status: { S: CLAIM_PENDING },
          owner: { S: run.invocationId },
          listenerArn: { S: spec.listenerArn },
          startedAt: { N: String(Date.now()) },
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
      run.signal,
    );
    return true;
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException || isAwsError(error, 'ConditionalCheckFailed'))) throw error;
    // The SDK repeats a PutItem whose answer was lost: a claim this invocation made is still its own.
    return (await readClaim(run, key))?.owner?.S === run.invocationId;
  }
}

/** Records the claim DONE with its rule and priority (even after the deadline: the rule exists). */
export async function recordClaimDone(
  run: AllocatorRequest,
  key: Item,
  ruleArn: string,
  priority: number,
): Promise<void> {
  await run.deps.dynamodb.send(
    new UpdateItemCommand({
      TableName: run.deps.tableName,
      Key: key,
      UpdateExpression: 'SET #s = :done, ruleArn = :arn, priority = :p',
      ExpressionAttributeNames: { '#s': 'status' },
      ExpressionAttributeValues: {
        ':done': { S: CLAIM_DONE },
        ':arn': { S: ruleArn },
        ':p': { N: String(priority) },
      },
    }),
  );
}

/** Records the claim FAILED with the error's message (best effort: a failure to record is logged). */
export async function recordClaimFailed(
  run: AllocatorRequest,
  key: Item,
  error: unknown,
  uncertain = false,
): Promise<void> {
  await run.deps.dynamodb
    .send(
      new UpdateItemCommand({
        TableName: run.deps.tableName,
        Key: key,
        UpdateExpression: 'SET #s = :failed, reason = :r, uncertain = :u',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: {
          ':failed': { S: CLAIM_FAILED },
          ':r': { S: errorMessage(error) },
          ':u': { BOOL: uncertain },
        },
      }),
    )
    .catch((recordError: unknown) =>
      run.log({ level: 'warn', message: 'could not record the failure', error: errorMessage(recordError) }),
    );
}

/**
 * True when the claim's request may still have a rule made for it: it never finished (PENDING: its function ran
 * out of time or died) or it failed after a CreateRule whose effect is unknown.
 */
export function claimIsUncertain(claim: Item): boolean {
  const status = claim.status?.S;
  return status !== CLAIM_DONE && (status !== CLAIM_FAILED || claim.uncertain?.BOOL !== false);
}

/** A claim, read consistently. */
export async function readClaim(run: AllocatorRequest, key: Item): Promise<Item | undefined> {
  const { Item: item } = await run.deps.dynamodb.send(
    new GetItemCommand({ TableName: run.deps.tableName, Key: key, ConsistentRead: true }),
    run.signal,
  );
  return item;
}

/** All claims of this resource, read consistently (paginated Query). */
export async function claimsOfResource(run: AllocatorRequest): Promise<Item[]> {
  const claims: Item[] = [];
  let startKey: Item | undefined;
  do {
    const page = await run.deps.dynamodb.send(
      new QueryCommand({
        TableName: run.deps.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': { S: run.claimPk } },
        ConsistentRead: true,
        ExclusiveStartKey: startKey,
      }),
      run.signal,
    );
    claims.push(...((page.Items ?? []) as Item[]));
    startKey = page.LastEvaluatedKey as Item | undefined;
  } while (startKey);
  return claims;
}

/** Deletes a claim, conditionally: false when it was already gone (another delivery deleted it). */
export async function deleteClaim(run: AllocatorRequest, claim: Item): Promise<boolean> {
  try {
    await run.deps.dynamodb.send(
      new DeleteItemCommand({
        TableName: run.deps.tableName,
        Key: { pk: claim.pk, sk: claim.sk },
        ConditionExpression: 'attribute_exists(pk)',
      }),
      run.signal,
    );
    return true;
  } catch (error) {
    if (!isAwsError(error, 'ConditionalCheckFailed')) throw error;
    return false;
  }
}

// ---- The sweep of rules that appear after their resource's Delete (see sweep.ts) ----

const SWEEP_PK = 'sweep';

/** One request whose rule may still appear on a listener after its resource was deleted. */
export interface SweepEntry {
  readonly requestId: string;
  readonly stackId: string;
  readonly logicalResourceId: string;
  readonly listenerArn: string;
  /** Epoch milliseconds after which no rule of the request is expected any more: its slot is given back. */
  readonly expiresAt: number;
}

/** Records that the request's rule may still appear (repeating the write changes nothing but the expiry). */
export async function recordSweep(run: AllocatorRequest, entry: SweepEntry): Promise<void> {
  await run.deps.dynamodb.send(
    new PutItemCommand({
      TableName: run.deps.tableName,
      Item: {
        pk: { S: SWEEP_PK },
        sk: { S: entry.requestId },
        stackId: { S: entry.stackId },
        logicalResourceId: { S: entry.logicalResourceId },
        listenerArn: { S: entry.listenerArn },
        expiresAt: { N: String(entry.expiresAt) },
      },
    }),
    run.signal,
  );
}

/** Every recorded sweep entry (paginated Query of one partition: the entries of the last sweep window). */
export async function sweepEntries(deps: AllocatorRequest['deps'], signal?: AbortSignal): Promise<SweepEntry[]> {
  const entries: SweepEntry[] = [];
  let startKey: Item | undefined;
  do {
    const page = await deps.dynamodb.send(
      new QueryCommand({
        TableName: deps.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': { S: SWEEP_PK } },
        ConsistentRead: true,
        ExclusiveStartKey: startKey,
      }),
      signal ? { abortSignal: signal } : undefined,
    );
    for (const item of (page.Items ?? []) as Item[]) {
      entries.push({
        requestId: item.sk?.S ?? '',
        stackId: item.stackId?.S ?? '',
        logicalResourceId: item.logicalResourceId?.S ?? '',
        listenerArn: item.listenerArn?.S ?? '',
        expiresAt: Number(item.expiresAt?.N ?? 0),
      });
    }
    startKey = page.LastEvaluatedKey as Item | undefined;
  } while (startKey);
  return entries;
}

/** The lease of a slot kept for the sweep: counted by a recount as a slot being filled until the sweep gives it back. */
export const SWEEP_LEASE = 'sweep';

/**
 * Keeps the request's slot for the sweep: its lease (an expiry while its rule was being created) becomes SWEEP_LEASE,
 * which recounts count as taken and never expire. A lease a recount has already dropped stays dropped (the recount
 * counted the listener's rules instead).
 */
export async function holdSlotForSweep(run: AllocatorRequest, listenerArn: string, requestId: string): Promise<void> {
  try {
    await run.deps.dynamodb.send(
      new UpdateItemCommand({
        TableName: run.deps.tableName,
        Key: counterKey(listenerArn),
        UpdateExpression: 'SET leases.#r = :sweep',
        ConditionExpression: 'attribute_exists(leases.#r)',
        ExpressionAttributeNames: { '#r': requestId },
        ExpressionAttributeValues: { ':sweep': { S: SWEEP_LEASE } },
      }),
      run.signal,
    );
  } catch (error) {
    if (!isAwsError(error, 'ConditionalCheckFailed')) throw error;
  }
}

/** Removes a sweep entry (one already gone is fine). */
export async function deleteSweepEntry(run: AllocatorRequest, requestId: string): Promise<void> {
  await run.deps.dynamodb.send(
    new DeleteItemCommand({ TableName: run.deps.tableName, Key: { pk: { S: SWEEP_PK }, sk: { S: requestId } } }),
    run.signal,
  );
}

// ---- The per-listener rule counter that enforces ruleLimit ----

function counterKey(listenerArn: string): Item {
  return { pk: { S: `listener|${listenerArn}` }, sk: { S: COUNTER_SK } };
}

/** Reads the listener's counter, consistently. */
async function readCounter(run: AllocatorRequest, listenerArn: string): Promise<Item | undefined> {
  const { Item: item } = await run.deps.dynamodb.send(
    new GetItemCommand({ TableName: run.deps.tableName, Key: counterKey(listenerArn), ConsistentRead: true }),
    run.signal,
  );
  return item;
}

/** How long a slot being filled stays counted without its rule: the function's time, and a minute more. */
const LEASE_GRACE_MS = 60_000;

/**
 * Takes one slot of the listener's counter for this request, atomically: `count < limit` or it fails, and a
 * request takes one slot however often the call is repeated (its lease). When that fails (no counter yet for the
 * listener, a counter of an older version, or it says full), the counter is recounted (see recount) and the
 * reservation tried again.
 */
export async function reserveSlot(run: AllocatorRequest, spec: RuleSpec): Promise<void> {
  const key = counterKey(spec.listenerArn);
  const expiry = run.deadline + LEASE_GRACE_MS;
  for (let round = 0; round < RESEED_ATTEMPTS; round++) {
    try {
      await run.deps.dynamodb.send(
        new UpdateItemCommand({
          TableName: run.deps.tableName,
          Key: key,
          UpdateExpression: 'SET leases.#r = :expiry ADD #c :one',
          ConditionExpression: 'attribute_exists(leases) AND attribute_not_exists(leases.#r) AND #c < :limit',
          ExpressionAttributeNames: { '#c': 'count', '#r': run.request.RequestId },
          ExpressionAttributeValues: {
            ':one': { N: '1' },
            ':limit': { N: String(spec.ruleLimit) },
            ':expiry': { N: String(expiry) },
          },
        }),
        run.signal,
      );
      return;
    } catch (error) {
      if (!isAwsError(error, 'ConditionalCheckFailed')) throw error;
    }
    const item = await readCounter(run, spec.listenerArn);
    // An earlier attempt of this very call took the slot (its answer was lost).
    if (item?.leases?.M?.[run.request.RequestId]) return;
    await recount(run, spec, item);
  }
  throw new AllocatorError(
    `could not reserve a rule slot on listener ${spec.listenerArn}: the rule counter kept changing`,
  );
}

/**
 * Repairs the counter from the listener: count = the listener's rules (any maker) + the slots being filled (leases
 * not expired, not yet a rule). Written only if the counter did not change since it was read, so a slot taken
 * meanwhile is never lost; a rule created between the read and the count is counted twice, which errs on the safe
 * side until the next recount. Expired leases, and leases of rules that are gone, are dropped. Throws when the
 * listener is full.
 */
async function recount(run: AllocatorRequest, spec: RuleSpec, item: Item | undefined): Promise<void> {
  const rules = await listRules(run, spec.listenerArn);
  const arns = new Set(rules.map((r) => r.ruleArn));
  const now = Date.now();
  const leases = item?.leases?.M;
  const stale: string[] = [];
  let pending = 0;
  for (const [requestId, value] of Object.entries(leases ?? {})) {
    if (value.S === SWEEP_LEASE) {
      pending += 1;
    } // kept for the sweep: its rule may still appear
    else if (value.N !== undefined ? Number(value.N) <= now : !arns.has(value.S ?? '')) {
      stale.push(requestId);
    } else if (value.N !== undefined) {
      pending += 1;
    }
  }
  const count = rules.length + pending;
  const seen = item?.count?.N;
  const names: Record<string, string> = { '#c': 'count' };
  stale.forEach((id, i) => (names[`#s${i}`] = id));
  try {
    if (!item) {
      await run.deps.dynamodb.send(
        new PutItemCommand({
          TableName: run.deps.tableName,
          Item: { ...counterKey(spec.listenerArn), count: { N: String(count) }, leases: { M: {} } },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
        run.signal,
      );
    } else {
      const set = leases ? 'SET #c = :count' : 'SET #c = :count, leases = :none';
      const remove = stale.length ? ` REMOVE ${stale.map((_, i) => `leases.#s${i}`).join(', ')}` : '';
      await run.deps.dynamodb.send(
        new UpdateItemCommand({
          TableName: run.deps.tableName,
          Key: counterKey(spec.listenerArn),
          UpdateExpression: set + remove,
          ConditionExpression: seen === undefined ? 'attribute_not_exists(#c)' : '#c = :seen',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: {
            ':count': { N: String(count) },
            ...(leases ? {} : { ':none': { M: {} } }),
            ...(seen === undefined ? {} : { ':seen': { N: seen } }),
          },
        }),
        run.signal,
      );
    }
    run.log({
      level: 'info',
      message: 'rule counter recounted',
      listenerArn: spec.listenerArn,
      rules: rules.length,
      pending,
      seen,
    });
  } catch (error) {
    if (!isAwsError(error, 'ConditionalCheckFailed')) throw error;
    // Another allocation changed the counter meanwhile: the caller tries the reservation again.
    return;
  }
  if (count >= spec.ruleLimit) {
    throw new AllocatorError(
      `listener ${spec.listenerArn} is full: it holds ${rules.length} rules (limit ${spec.ruleLimit}` +
        (pending ? `; ${pending} more being created)` : ')'),
    );
  }
}

/** Marks this request's slot as filled by its rule (the lease then lasts as long as the rule). */
export async function markSlotFilled(run: AllocatorRequest, listenerArn: string, ruleArn: string): Promise<void> {
  try {
    await run.deps.dynamodb.send(
      new UpdateItemCommand({
        TableName: run.deps.tableName,
        Key: counterKey(listenerArn),
        UpdateExpression: 'SET leases.#r = :arn',
        ConditionExpression: 'attribute_exists(leases.#r)',
        ExpressionAttributeNames: { '#r': run.request.RequestId },
        ExpressionAttributeValues: { ':arn': { S: ruleArn } },
      }),
    );
  } catch (error) {
    // A recount dropped the lease (it expired): the rule was counted as a rule then, or will be at the next one.
    run.log({ level: 'warn', message: 'could not mark the rule slot filled', listenerArn, error: errorMessage(error) });
  }
}

/**
 * Gives back the slot a request took (its lease), once: a repeated call, or a request that never took one, changes
 * nothing. Best effort: a lost release only makes the counter high, which a recount repairs. Returns true when
 * this call gave the slot back.
 */
export async function releaseSlot(run: AllocatorRequest, listenerArn: string, requestId: string): Promise<boolean> {
  try {
    await run.deps.dynamodb.send(
      new UpdateItemCommand({
        TableName: run.deps.tableName,
        Key: counterKey(listenerArn),
        UpdateExpression: 'REMOVE leases.#r ADD #c :minus',
        ConditionExpression: 'attribute_exists(leases.#r) AND #c > :zero',
        ExpressionAttributeNames: { '#c': 'count', '#r': requestId },
        ExpressionAttributeValues: { ':minus': { N: '-1' }, ':zero': { N: '0' } },
      }),
    );
    return true;
  } catch (error) {
    if (!isAwsError(error, 'ConditionalCheckFailed')) {
      run.log({ level: 'warn', message: 'could not release a rule slot', listenerArn, error: errorMessage(error) });
    }
    return false;
  }
}
