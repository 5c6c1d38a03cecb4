/**
 * The priority allocator's state table (partition key `pk`, sort key `sk`): the claims of the requests that create
 * a rule, `claim|<StackId>|<LogicalResourceId>` / `<RequestId>`, and the per-listener rule counter that enforces
 * ruleLimit, `listener|<ListenerArn>` / `rules`.
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
import { countRules } from './listener-rules';
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
          listenerArn: { S: spec.listenerArn },
          startedAt: { N: String(Date.now()) },
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
      run.signal,
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException || isAwsError(error, 'ConditionalCheckFailed')) {
      return false;
    }
    throw error;
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
export async function recordClaimFailed(run: AllocatorRequest, key: Item, error: unknown): Promise<void> {
  await run.deps.dynamodb
    .send(
      new UpdateItemCommand({
        TableName: run.deps.tableName,
        Key: key,
        UpdateExpression: 'SET #s = :failed, reason = :r',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':failed': { S: CLAIM_FAILED }, ':r': { S: errorMessage(error) } },
      }),
    )
    .catch((recordError: unknown) =>
      run.log({ level: 'warn', message: 'could not record the failure', error: errorMessage(recordError) }),
    );
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

// ---- The per-listener rule counter that enforces ruleLimit ----

function counterKey(listenerArn: string): Item {
  return { pk: { S: `listener|${listenerArn}` }, sk: { S: COUNTER_SK } };
}

/**
 * Takes one slot of the listener's counter, atomically: `count < limit` or it fails. When that fails (no
 * counter yet for this listener, or it says full), the rules are counted for real (DescribeRules,
 * paginated) and the counter is (re)seeded with a conditional write, so concurrent seeders cannot both win.
 */
export async function reserveSlot(run: AllocatorRequest, spec: RuleSpec): Promise<void> {
  const key = counterKey(spec.listenerArn);
  for (let round = 0; round < RESEED_ATTEMPTS; round++) {
    try {
      await run.deps.dynamodb.send(
        new UpdateItemCommand({
          TableName: run.deps.tableName,
          Key: key,
          UpdateExpression: 'ADD #c :one',
          ConditionExpression: '#c < :limit',
          ExpressionAttributeNames: { '#c': 'count' },
          ExpressionAttributeValues: { ':one': { N: '1' }, ':limit': { N: String(spec.ruleLimit) } },
        }),
        run.signal,
      );
      return;
    } catch (error) {
      if (!isAwsError(error, 'ConditionalCheckFailed')) throw error;
    }
    const { Item: item } = await run.deps.dynamodb.send(
      new GetItemCommand({ TableName: run.deps.tableName, Key: key, ConsistentRead: true }),
      run.signal,
    );
    const seen = item?.count?.N;
    const held = await countRules(run, spec.listenerArn);
    if (held >= spec.ruleLimit) {
      throw new AllocatorError(
        `listener ${spec.listenerArn} is full: it holds ${held} rules (limit ${spec.ruleLimit})`,
      );
    }
    try {
      await run.deps.dynamodb.send(
        new UpdateItemCommand({
          TableName: run.deps.tableName,
          Key: key,
          UpdateExpression: 'SET #c = :held',
          ConditionExpression: seen === undefined ? 'attribute_not_exists(#c)' : '#c = :seen',
          ExpressionAttributeNames: { '#c': 'count' },
          ExpressionAttributeValues: {
            ':held': { N: String(held + 1) },
            ...(seen === undefined ? {} : { ':seen': { N: seen } }),
          },
        }),
        run.signal,
      );
      run.log({ level: 'info', message: 'rule counter seeded', listenerArn: spec.listenerArn, held, seen });
      return;
    } catch (error) {
      if (!isAwsError(error, 'ConditionalCheckFailed')) throw error;
      // Another allocation changed the counter meanwhile: try the plain reservation again.
    }
  }
  throw new AllocatorError(
    `could not reserve a rule slot on listener ${spec.listenerArn}: the rule counter kept changing`,
  );
}

/** Gives a slot back (best effort: a lost release only makes the counter high, which a recount repairs). */
export async function releaseSlot(run: AllocatorRequest, listenerArn: string): Promise<void> {
  try {
    await run.deps.dynamodb.send(
      new UpdateItemCommand({
        TableName: run.deps.tableName,
        Key: counterKey(listenerArn),
        UpdateExpression: 'ADD #c :minus',
        ConditionExpression: '#c > :zero',
        ExpressionAttributeNames: { '#c': 'count' },
        ExpressionAttributeValues: { ':minus': { N: '-1' }, ':zero': { N: '0' } },
      }),
    );
  } catch (error) {
    run.log({ level: 'warn', message: 'could not release a rule slot', listenerArn, error: errorMessage(error) });
  }
}
