/**
 * The priority allocator's logic, with its AWS clients, clock, priority choice and response sender injected
 * (priority-allocator.lambda.ts wires the real ones). See the handler file for the design and the API-call
 * cost of each path.
 */
import { randomInt } from 'node:crypto';
import {
  AttributeValue,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  Action,
  AddTagsCommand,
  CreateRuleCommand,
  DeleteRuleCommand,
  DescribeRulesCommand,
  ElasticLoadBalancingV2Client,
  ModifyRuleCommand,
  RemoveTagsCommand,
  RuleCondition,
  Tag,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { ApiCallCount, withApiCallCount } from './api-calls';
import { CfnRequest, CfnResponse, ResponseSender, truncateReason } from './cfn-response';
import {
  DEFAULT_RULE_LIMIT,
  MAX_ALB_PRIORITY,
  MIN_ALB_PRIORITY,
  PriorityAllocatorData,
  PriorityAllocatorProperties,
  RULE_TAG_LOGICAL_ID,
  RULE_TAG_MANAGED_BY,
  RULE_TAG_MANAGED_BY_VALUE,
  RULE_TAG_STACK_ID,
  RuleTag,
} from './types';

/** Chooses the next priority to try: an integer in [min, max] not in `tried`. */
export type PriorityPicker = (min: number, max: number, tried: ReadonlySet<number>) => number;

/** What the allocator needs from its environment. */
export interface AllocatorDeps {
  readonly elb: ElasticLoadBalancingV2Client;
  readonly dynamodb: DynamoDBClient;
  /** The state table: partition key `pk` (S), sort key `sk` (S). */
  readonly tableName: string;
  readonly sendResponse: ResponseSender;
  /** Default: uniformly random, skipping priorities already tried. */
  readonly pickPriority?: PriorityPicker;
  /** Priorities tried before giving up. Default 10. */
  readonly maxAttempts?: number;
  /** Answer FAILED this many milliseconds before the Lambda times out. Default 10,000. */
  readonly safetyMarginMs?: number;
  /** Pause between reads while another delivery of the same request is in progress. Default 1,000. */
  readonly pollIntervalMs?: number;
  /** Structured log line (default console.log of JSON). */
  readonly log?: (entry: Record<string, unknown>) => void;
}

/** The part of the Lambda context the handler uses. */
export interface LambdaContextLike {
  getRemainingTimeInMillis(): number;
}

/** What one request did: the response sent and the AWS calls it took. */
export interface AllocatorResult {
  readonly response: CfnResponse;
  readonly apiCalls: ApiCallCount;
  /** Set when the response could not be delivered to the ResponseURL. */
  readonly sendError?: string;
}

/** An error whose message is meant for CloudFormation's console as is. */
export class AllocatorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AllocatorError';
  }
}

interface Outcome {
  readonly status: 'SUCCESS' | 'FAILED';
  readonly physicalResourceId: string;
  readonly data?: PriorityAllocatorData;
  readonly reason?: string;
}

/** Parsed and checked resource properties. */
export interface RuleSpec {
  readonly listenerArn: string;
  readonly hosts: string[];
  readonly pathPatterns: string[];
  readonly targetGroupArn: string;
  readonly ruleLimit: number;
  readonly minPriority: number;
  readonly maxPriority: number;
  readonly tags: RuleTag[];
}

type Item = Record<string, AttributeValue>;

const CLAIM_PENDING = 'PENDING';
const CLAIM_DONE = 'DONE';
const CLAIM_FAILED = 'FAILED';
const UNALLOCATED_PREFIX = 'unallocated:';
const COUNTER_SK = 'rules';
const RESEED_ATTEMPTS = 5;

/** The placeholder PhysicalResourceId of a Create that failed (it names the request, see onDelete). */
export function unallocatedId(requestId: string): string {
  return `${UNALLOCATED_PREFIX}${requestId}`;
}

/** The listener ARN a listener-rule ARN belongs to. */
export function listenerOfRule(ruleArn: string): string {
  return ruleArn.replace(':listener-rule/', ':listener/').replace(/\/[^/]+$/, '');
}

function isRuleArn(id: string | undefined): id is string {
  return typeof id === 'string' && /^arn:[^:]+:elasticloadbalancing:[^:]*:[^:]*:listener-rule\//.test(id);
}

/** True when `error` is an AWS error with one of these codes (SDK v3 names them with or without `Exception`). */
export function isAwsError(error: unknown, ...codes: string[]): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { name?: unknown; Code?: unknown };
  return codes.some((c) => e.name === c || e.name === `${c}Exception` || e.Code === c);
}

function errorMessage(error: unknown): string {
  if (error instanceof AllocatorError) return error.message;
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

function intProp(value: unknown, name: string, fallback: number, min: number, max: number): number {
  if (value === undefined || value === null || value === '') return fallback;
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new AllocatorError(`invalid ${name}: received ${JSON.stringify(value)}; expected an integer ${min}..${max}`);
  }
  return n;
}

function stringList(value: unknown, name: string, required: boolean): string[] {
  if (value === undefined && !required) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || v === '') || (required && !value.length)) {
    throw new AllocatorError(
      `invalid ${name}: received ${JSON.stringify(value)}; expected a ${required ? 'non-empty ' : ''}list of strings`,
    );
  }
  return value as string[];
}

/** Checks the resource properties; throws an AllocatorError naming the bad one. */
export function parseProperties(raw: PriorityAllocatorProperties | undefined): RuleSpec {
  const p = (raw ?? {}) as Partial<PriorityAllocatorProperties>;
  if (typeof p.listenerArn !== 'string' || !p.listenerArn.includes(':listener/')) {
    throw new AllocatorError(`invalid listenerArn: received ${JSON.stringify(p.listenerArn)}; expected a listener ARN`);
  }
  if (typeof p.targetGroupArn !== 'string' || !p.targetGroupArn.includes(':targetgroup/')) {
    throw new AllocatorError(
      `invalid targetGroupArn: received ${JSON.stringify(p.targetGroupArn)}; expected a target group ARN`,
    );
  }
  const minPriority = intProp(p.minPriority, 'minPriority', MIN_ALB_PRIORITY, MIN_ALB_PRIORITY, MAX_ALB_PRIORITY);
  const maxPriority = intProp(p.maxPriority, 'maxPriority', MAX_ALB_PRIORITY, minPriority, MAX_ALB_PRIORITY);
  const tags = p.tags ?? [];
  if (!Array.isArray(tags) || tags.some((t) => typeof t?.Key !== 'string' || typeof t?.Value !== 'string')) {
    throw new AllocatorError(`invalid tags: received ${JSON.stringify(tags)}; expected a list of { Key, Value }`);
  }
  return {
    listenerArn: p.listenerArn,
    hosts: stringList(p.hosts, 'hosts', true),
    pathPatterns: stringList(p.pathPatterns, 'pathPatterns', false),
    targetGroupArn: p.targetGroupArn,
    ruleLimit: intProp(p.ruleLimit, 'ruleLimit', DEFAULT_RULE_LIMIT, 1, MAX_ALB_PRIORITY),
    minPriority,
    maxPriority,
    tags: tags.map((t) => ({ Key: t.Key, Value: t.Value })),
  };
}

/** The default picker: uniformly random in [min, max], skipping what was tried. */
export const randomPriority: PriorityPicker = (min, max, tried) => {
  for (;;) {
    const p = randomInt(min, max + 1);
    if (!tried.has(p)) return p;
  }
};

function conditionsOf(spec: RuleSpec): RuleCondition[] {
  const conditions: RuleCondition[] = [{ Field: 'host-header', HostHeaderConfig: { Values: spec.hosts } }];
  if (spec.pathPatterns.length) {
    conditions.push({ Field: 'path-pattern', PathPatternConfig: { Values: spec.pathPatterns } });
  }
  return conditions;
}

function actionsOf(spec: RuleSpec): Action[] {
  return [{ Type: 'forward', TargetGroupArn: spec.targetGroupArn }];
}

function tagsOf(spec: RuleSpec, request: CfnRequest<PriorityAllocatorProperties>): Tag[] {
  const own = [
    { Key: RULE_TAG_MANAGED_BY, Value: RULE_TAG_MANAGED_BY_VALUE },
    { Key: RULE_TAG_STACK_ID, Value: request.StackId },
    { Key: RULE_TAG_LOGICAL_ID, Value: request.LogicalResourceId },
  ];
  const ownKeys = new Set(own.map((t) => t.Key));
  return [...spec.tags.filter((t) => !ownKeys.has(t.Key)), ...own];
}

/** Serves one custom resource request; never throws, always tries to PUT a response. */
export async function processRequest(
  request: CfnRequest<PriorityAllocatorProperties>,
  context: LambdaContextLike,
  deps: AllocatorDeps,
): Promise<AllocatorResult> {
  const run = new Run(request, deps);
  const margin = deps.safetyMarginMs ?? 10_000;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<Outcome>((resolve) => {
    timer = setTimeout(
      () => {
        run.abort.abort();
        resolve(
          run.failed(
            `the priority allocator ran out of time (answering ${margin} ms before its Lambda timeout); ` +
              'see its CloudWatch logs',
          ),
        );
      },
      Math.max(0, context.getRemainingTimeInMillis() - margin),
    );
  });
  const { result: outcome, apiCalls } = await withApiCallCount(() =>
    Promise.race([
      run.dispatch().catch((error: unknown) => {
        run.log({ level: 'error', message: 'request failed', error: errorMessage(error) });
        return run.failed(errorMessage(error));
      }),
      deadline,
    ]),
  );
  clearTimeout(timer);
  const response: CfnResponse = {
    Status: outcome.status,
    ...(outcome.reason === undefined ? {} : { Reason: truncateReason(outcome.reason) }),
    PhysicalResourceId: outcome.physicalResourceId,
    StackId: request.StackId,
    RequestId: request.RequestId,
    LogicalResourceId: request.LogicalResourceId,
    ...(outcome.data ? { Data: { ...outcome.data } } : {}),
  };
  let sendError: string | undefined;
  try {
    await deps.sendResponse(request.ResponseURL, response);
  } catch (error) {
    sendError = errorMessage(error);
  }
  run.log({
    level: sendError ? 'error' : 'info',
    message: 'request served',
    status: response.Status,
    reason: response.Reason,
    physicalResourceId: response.PhysicalResourceId,
    priority: outcome.data?.Priority,
    apiCalls,
    ...(sendError ? { sendError } : {}),
  });
  return { response, apiCalls, ...(sendError ? { sendError } : {}) };
}

/** One request being served. */
class Run {
  readonly abort = new AbortController();
  private readonly maxAttempts: number;
  private readonly pick: PriorityPicker;
  private readonly claimPk: string;

  constructor(
    private readonly request: CfnRequest<PriorityAllocatorProperties>,
    private readonly deps: AllocatorDeps,
  ) {
    this.maxAttempts = deps.maxAttempts ?? 10;
    this.pick = deps.pickPriority ?? randomPriority;
    this.claimPk = `claim|${request.StackId}|${request.LogicalResourceId}`;
  }

  log(entry: Record<string, unknown>): void {
    const line = { requestId: this.request.RequestId, requestType: this.request.RequestType, ...entry };
    if (this.deps.log) this.deps.log(line);
    else console.log(JSON.stringify(line));
  }

  failed(reason: string): Outcome {
    const physicalResourceId =
      this.request.RequestType === 'Create'
        ? unallocatedId(this.request.RequestId)
        : (this.request.PhysicalResourceId ?? unallocatedId(this.request.RequestId));
    return { status: 'FAILED', physicalResourceId, reason };
  }

  private get signal(): { abortSignal: AbortSignal } {
    return { abortSignal: this.abort.signal };
  }

  private checkTime(): void {
    if (this.abort.signal.aborted) throw new AllocatorError('aborted: out of time');
  }

  async dispatch(): Promise<Outcome> {
    switch (this.request.RequestType) {
      case 'Create':
        return this.createOnce(parseProperties(this.request.ResourceProperties));
      case 'Update':
        return this.update();
      case 'Delete':
        return this.delete();
      default:
        throw new AllocatorError(`unknown RequestType ${JSON.stringify(this.request.RequestType)}`);
    }
  }

  // ---- Create (and Update onto a new listener): claim the request, then allocate ----

  private async createOnce(spec: RuleSpec): Promise<Outcome> {
    const key = { pk: { S: this.claimPk }, sk: { S: this.request.RequestId } };
    try {
      await this.deps.dynamodb.send(
        new PutItemCommand({
          TableName: this.deps.tableName,
          Item: {
            ...key,
            status: { S: CLAIM_PENDING },
            listenerArn: { S: spec.listenerArn },
            startedAt: { N: String(Date.now()) },
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
        this.signal,
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException || isAwsError(error, 'ConditionalCheckFailed')) {
        return this.awaitEarlierDelivery(key);
      }
      throw error;
    }
    try {
      const { ruleArn, priority } = await this.allocate(spec);
      await this.deps.dynamodb.send(
        new UpdateItemCommand({
          TableName: this.deps.tableName,
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
      return { status: 'SUCCESS', physicalResourceId: ruleArn, data: { Priority: String(priority), RuleArn: ruleArn } };
    } catch (error) {
      // Recorded so that a repeated delivery of this request gives the same answer instead of allocating.
      await this.deps.dynamodb
        .send(
          new UpdateItemCommand({
            TableName: this.deps.tableName,
            Key: key,
            UpdateExpression: 'SET #s = :failed, reason = :r',
            ExpressionAttributeNames: { '#s': 'status' },
            ExpressionAttributeValues: { ':failed': { S: CLAIM_FAILED }, ':r': { S: errorMessage(error) } },
          }),
        )
        .catch((recordError: unknown) =>
          this.log({ level: 'warn', message: 'could not record the failure', error: errorMessage(recordError) }),
        );
      throw error;
    }
  }

  /** Another delivery of this very request claimed it: wait for its answer and give the same one. */
  private async awaitEarlierDelivery(key: Item): Promise<Outcome> {
    for (;;) {
      this.checkTime();
      const { Item: item } = await this.deps.dynamodb.send(
        new GetItemCommand({ TableName: this.deps.tableName, Key: key, ConsistentRead: true }),
        this.signal,
      );
      const status = item?.status?.S;
      if (status === CLAIM_DONE && item?.ruleArn?.S && item.priority?.N) {
        this.log({ level: 'info', message: 'repeated request: answering with the earlier allocation' });
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
      await new Promise((r) => setTimeout(r, this.deps.pollIntervalMs ?? 1_000));
    }
  }

  /** Reserves a slot under the limit, then creates the rule at the first free candidate priority. */
  private async allocate(spec: RuleSpec): Promise<{ ruleArn: string; priority: number }> {
    await this.reserveSlot(spec);
    try {
      const tried = new Set<number>();
      const range = spec.maxPriority - spec.minPriority + 1;
      while (tried.size < Math.min(this.maxAttempts, range)) {
        this.checkTime();
        const priority = this.pick(spec.minPriority, spec.maxPriority, tried);
        tried.add(priority);
        try {
          const out = await this.deps.elb.send(
            new CreateRuleCommand({
              ListenerArn: spec.listenerArn,
              Priority: priority,
              Conditions: conditionsOf(spec),
              Actions: actionsOf(spec),
              Tags: tagsOf(spec, this.request),
            }),
            this.signal,
          );
          const ruleArn = out.Rules?.[0]?.RuleArn;
          if (!ruleArn) throw new AllocatorError('CreateRule returned no rule ARN');
          return { ruleArn, priority };
        } catch (error) {
          if (isAwsError(error, 'PriorityInUse')) {
            this.log({ level: 'info', message: 'priority in use, trying another', priority });
            continue;
          }
          if (isAwsError(error, 'TooManyRules')) {
            const held = await this.countRules(spec.listenerArn);
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
      await this.releaseSlot(spec.listenerArn);
      throw error;
    }
  }

  // ---- The per-listener rule counter that enforces ruleLimit ----

  private counterKey(listenerArn: string): Item {
    return { pk: { S: `listener|${listenerArn}` }, sk: { S: COUNTER_SK } };
  }

  /**
   * Takes one slot of the listener's counter, atomically: `count < limit` or it fails. When that fails (no
   * counter yet for this listener, or it says full), the rules are counted for real (DescribeRules,
   * paginated) and the counter is (re)seeded with a conditional write, so concurrent seeders cannot both win.
   */
  private async reserveSlot(spec: RuleSpec): Promise<void> {
    const key = this.counterKey(spec.listenerArn);
    for (let round = 0; round < RESEED_ATTEMPTS; round++) {
      try {
        await this.deps.dynamodb.send(
          new UpdateItemCommand({
            TableName: this.deps.tableName,
            Key: key,
            UpdateExpression: 'ADD #c :one',
            ConditionExpression: '#c < :limit',
            ExpressionAttributeNames: { '#c': 'count' },
            ExpressionAttributeValues: { ':one': { N: '1' }, ':limit': { N: String(spec.ruleLimit) } },
          }),
          this.signal,
        );
        return;
      } catch (error) {
        if (!isAwsError(error, 'ConditionalCheckFailed')) throw error;
      }
      const { Item: item } = await this.deps.dynamodb.send(
        new GetItemCommand({ TableName: this.deps.tableName, Key: key, ConsistentRead: true }),
        this.signal,
      );
      const seen = item?.count?.N;
      const held = await this.countRules(spec.listenerArn);
      if (held >= spec.ruleLimit) {
        throw new AllocatorError(
          `listener ${spec.listenerArn} is full: it holds ${held} rules (limit ${spec.ruleLimit})`,
        );
      }
      try {
        await this.deps.dynamodb.send(
          new UpdateItemCommand({
            TableName: this.deps.tableName,
            Key: key,
            UpdateExpression: 'SET #c = :held',
            ConditionExpression: seen === undefined ? 'attribute_not_exists(#c)' : '#c = :seen',
            ExpressionAttributeNames: { '#c': 'count' },
            ExpressionAttributeValues: {
              ':held': { N: String(held + 1) },
              ...(seen === undefined ? {} : { ':seen': { N: seen } }),
            },
          }),
          this.signal,
        );
        this.log({ level: 'info', message: 'rule counter seeded', listenerArn: spec.listenerArn, held, seen });
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
  private async releaseSlot(listenerArn: string): Promise<void> {
    try {
      await this.deps.dynamodb.send(
        new UpdateItemCommand({
          TableName: this.deps.tableName,
          Key: this.counterKey(listenerArn),
          UpdateExpression: 'ADD #c :minus',
          ConditionExpression: '#c > :zero',
          ExpressionAttributeNames: { '#c': 'count' },
          ExpressionAttributeValues: { ':minus': { N: '-1' }, ':zero': { N: '0' } },
        }),
      );
    } catch (error) {
      this.log({ level: 'warn', message: 'could not release a rule slot', listenerArn, error: errorMessage(error) });
    }
  }

  /** The listener's rules, default rule excluded: paginated DescribeRules (400 a page on AWS, 50 on moto). */
  private async countRules(listenerArn: string): Promise<number> {
    let held = 0;
    let marker: string | undefined;
    do {
      const page = await this.deps.elb.send(
        new DescribeRulesCommand({ ListenerArn: listenerArn, PageSize: 400, Marker: marker }),
        this.signal,
      );
      held += (page.Rules ?? []).filter((r) => !r.IsDefault).length;
      marker = page.NextMarker;
    } while (marker);
    return held;
  }

  // ---- Update ----

  private async update(): Promise<Outcome> {
    const spec = parseProperties(this.request.ResourceProperties);
    const oldListener = (this.request.OldResourceProperties as Partial<PriorityAllocatorProperties> | undefined)
      ?.listenerArn;
    const ruleArn = this.request.PhysicalResourceId;
    if (!isRuleArn(ruleArn) || oldListener !== spec.listenerArn || listenerOfRule(ruleArn) !== spec.listenerArn) {
      // A new listener (or no rule yet): a new rule with a new priority; CloudFormation deletes the old one.
      return this.createOnce(spec);
    }
    let priority: string | undefined;
    try {
      const out = await this.deps.elb.send(
        new ModifyRuleCommand({ RuleArn: ruleArn, Conditions: conditionsOf(spec), Actions: actionsOf(spec) }),
        this.signal,
      );
      priority = out.Rules?.[0]?.Priority;
    } catch (error) {
      if (!isAwsError(error, 'RuleNotFound')) throw error;
      this.log({
        level: 'warn',
        message: 'the rule was deleted outside CloudFormation: allocating a new one',
        ruleArn,
      });
      return this.createOnce(spec);
    }
    await this.syncTags(ruleArn, spec);
    if (!priority) throw new AllocatorError(`ModifyRule returned no priority for ${ruleArn}`);
    return { status: 'SUCCESS', physicalResourceId: ruleArn, data: { Priority: priority, RuleArn: ruleArn } };
  }

  /** Applies changes of the user tags between the old and new properties (no call when they are equal). */
  private async syncTags(ruleArn: string, spec: RuleSpec): Promise<void> {
    const oldTags = (this.request.OldResourceProperties as Partial<PriorityAllocatorProperties> | undefined)?.tags;
    const own = new Set([RULE_TAG_MANAGED_BY, RULE_TAG_STACK_ID, RULE_TAG_LOGICAL_ID]);
    const before = new Map((Array.isArray(oldTags) ? oldTags : []).map((t) => [t.Key, t.Value]));
    const after = new Map(spec.tags.filter((t) => !own.has(t.Key)).map((t) => [t.Key, t.Value]));
    const put = [...after].filter(([k, v]) => before.get(k) !== v).map(([Key, Value]) => ({ Key, Value }));
    const removed = [...before.keys()].filter((k) => !after.has(k) && !own.has(k));
    if (put.length) {
      await this.deps.elb.send(new AddTagsCommand({ ResourceArns: [ruleArn], Tags: put }), this.signal);
    }
    if (removed.length) {
      await this.deps.elb.send(new RemoveTagsCommand({ ResourceArns: [ruleArn], TagKeys: removed }), this.signal);
    }
  }

  // ---- Delete ----

  /**
   * Deletes the rule (a missing rule is fine), removes this resource's finished state (the claim of the
   * deleted rule and claims of failed requests) and gives the rule's slot back. A Create that failed answered with
   * `unallocated:<RequestId>`: if that request created a rule after all (it was cut by the deadline), the
   * claim names it and it is deleted too.
   */
  private async delete(): Promise<Outcome> {
    const physical = this.request.PhysicalResourceId ?? '';
    const claims: Item[] = [];
    let startKey: Item | undefined;
    do {
      const page = await this.deps.dynamodb.send(
        new QueryCommand({
          TableName: this.deps.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': { S: this.claimPk } },
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
        this.signal,
      );
      claims.push(...((page.Items ?? []) as Item[]));
      startKey = page.LastEvaluatedKey as Item | undefined;
    } while (startKey);

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

    for (const ruleArn of rules) {
      try {
        await this.deps.elb.send(new DeleteRuleCommand({ RuleArn: ruleArn }), this.signal);
      } catch (error) {
        if (!isAwsError(error, 'RuleNotFound')) throw error;
        this.log({ level: 'info', message: 'rule already gone', ruleArn });
      }
    }
    // The slot of a rule is given back by whoever deletes its claim (a conditional delete: exactly once,
    // even when deliveries of the Delete repeat or race, and whatever DeleteRule says about a missing rule).
    for (const claim of finished) {
      try {
        await this.deps.dynamodb.send(
          new DeleteItemCommand({
            TableName: this.deps.tableName,
            Key: { pk: claim.pk, sk: claim.sk },
            ConditionExpression: 'attribute_exists(pk)',
          }),
          this.signal,
        );
      } catch (error) {
        if (!isAwsError(error, 'ConditionalCheckFailed')) throw error;
        continue;
      }
      const ruleArn = claim.ruleArn?.S;
      if (ruleArn && claim.status?.S === CLAIM_DONE) await this.releaseSlot(listenerOfRule(ruleArn));
    }
    return { status: 'SUCCESS', physicalResourceId: physical || unallocatedId(this.request.RequestId) };
  }
}
