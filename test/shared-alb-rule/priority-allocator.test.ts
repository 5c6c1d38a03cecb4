/**
 * Unit tests of the priority allocator: every branch, with strict SDK mocks (an unexpected command fails).
 */
import * as http from 'http';
import { AddressInfo } from 'net';
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  AddTagsCommand,
  CreateRuleCommand,
  DeleteRuleCommand,
  DescribeRulesCommand,
  DescribeTagsCommand,
  ElasticLoadBalancingV2Client,
  ModifyRuleCommand,
  PriorityInUseException,
  RemoveTagsCommand,
  RuleNotFoundException,
  TooManyRulesException,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import {
  AllocatorDeps,
  isAwsError,
  listenerOfRule,
  parseProperties,
  processRequest,
  randomPriority,
  unallocatedId,
} from '../../src/shared-alb-rule/allocator';
import { countApiCalls, withApiCallCount } from '../../src/shared-alb-rule/api-calls';
import { CfnRequest, CfnResponse, httpResponseSender, truncateReason } from '../../src/shared-alb-rule/cfn-response';
import { createHandler, depsFromEnvironment } from '../../src/shared-alb-rule/priority-allocator.lambda';
import { PriorityAllocatorProperties } from '../../src/shared-alb-rule/types';

const LISTENER =
  'arn:aws:elasticloadbalancing:us-east-1:111122223333:listener/app/shared/50dc6c495c0c9188/f2f7dc8efc522ab2';
const OTHER_LISTENER =
  'arn:aws:elasticloadbalancing:us-east-1:111122223333:listener/app/shared/50dc6c495c0c9188/aaaaaaaaaaaaaaaa';
const RULE = `${LISTENER.replace(':listener/', ':listener-rule/')}/9683b2d02a6cabee`;
const NEW_RULE = `${OTHER_LISTENER.replace(':listener/', ':listener-rule/')}/1111111111111111`;
const TG = 'arn:aws:elasticloadbalancing:us-east-1:111122223333:targetgroup/customer/73e2d6bc24d8a067';
const STACK = 'arn:aws:cloudformation:us-east-1:111122223333:stack/customer/guid';

const elb = new ElasticLoadBalancingV2Client({ region: 'us-east-1' });
const ddb = new DynamoDBClient({ region: 'us-east-1' });
const elbMock = mockClient(elb);
const ddbMock = mockClient(ddb);
const context = { getRemainingTimeInMillis: () => 60_000 };

let sent: CfnResponse[];
let logs: Record<string, unknown>[];
let deps: AllocatorDeps;

function awsError<T>(Ctor: new (o: { message: string; $metadata: object }) => T): T {
  return new Ctor({ message: 'from AWS', $metadata: {} });
}
const conditionFailed = () =>
  new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });

function props(extra: Partial<PriorityAllocatorProperties> = {}): PriorityAllocatorProperties {
  return { listenerArn: LISTENER, hosts: ['a.example.com'], targetGroupArn: TG, ...extra };
}

function event(
  RequestType: 'Create' | 'Update' | 'Delete',
  more: Partial<CfnRequest<PriorityAllocatorProperties>> = {},
): CfnRequest<PriorityAllocatorProperties> {
  return {
    RequestType,
    ResponseURL: 'https://cloudformation-custom-resource-response.example/abc',
    StackId: STACK,
    RequestId: 'req-1',
    LogicalResourceId: 'Rule',
    ResourceType: 'Custom::SharedAlbRulePriority',
    ResourceProperties: props(),
    ...more,
  };
}

async function run(e: CfnRequest<PriorityAllocatorProperties>, overrides: Partial<AllocatorDeps> = {}, ctx = context) {
  const result = await processRequest(e, ctx, { ...deps, ...overrides });
  expect(sent).toHaveLength(1);
  expect(sent[0]).toEqual(result.response);
  return result.response;
}

const RESERVE = 'attribute_exists(leases) AND attribute_not_exists(leases.#r) AND #c < :limit';
const RELEASE = 'REMOVE leases.#r ADD #c :minus';
const COUNTER_KEY = { pk: { S: `listener|${LISTENER}` }, sk: { S: 'rules' } };

/** The happy path of a Create: claim, slot, rule, slot filled, done. */
function happyCreate(ruleArn = RULE) {
  ddbMock.on(PutItemCommand).resolves({});
  ddbMock.on(UpdateItemCommand).resolves({});
  elbMock.on(CreateRuleCommand).resolves({ Rules: [{ RuleArn: ruleArn }] });
}

beforeEach(() => {
  elbMock.reset();
  ddbMock.reset();
  // Strict: any command a test did not expect fails.
  elbMock.onAnyCommand().rejects(new Error('unexpected ELB command'));
  ddbMock.onAnyCommand().rejects(new Error('unexpected DynamoDB command'));
  sent = [];
  logs = [];
  const sequence = [101, 202, 303, 404, 505];
  deps = {
    elb,
    dynamodb: ddb,
    tableName: 'state',
    sendResponse: async (_url, response) => {
      sent.push(response);
    },
    pickPriority: (_min, _max, tried) => sequence.find((p) => !tried.has(p)) ?? 999,
    maxAttempts: 3,
    safetyMarginMs: 1000,
    pollIntervalMs: 1,
    log: (entry) => logs.push(entry),
  };
});

describe('Create', () => {
  test('common case: claim, reserve a slot, create the tagged rule, fill the slot, record it (5 calls)', async () => {
    happyCreate();
    const response = await run(
      event('Create', {
        ResourceProperties: props({ pathPatterns: ['/x/*'], tags: [{ Key: 'team', Value: 'a' }], ruleLimit: '100' }),
      }),
    );
    expect(response).toEqual({
      Status: 'SUCCESS',
      PhysicalResourceId: RULE,
      StackId: STACK,
      RequestId: 'req-1',
      LogicalResourceId: 'Rule',
      Data: { Priority: '101', RuleArn: RULE },
    });
    expect(ddbMock).toHaveReceivedCommandWith(PutItemCommand, {
      TableName: 'state',
      ConditionExpression: 'attribute_not_exists(pk)',
      Item: expect.objectContaining({ pk: { S: `claim|${STACK}|Rule` }, sk: { S: 'req-1' }, status: { S: 'PENDING' } }),
    });
    expect(ddbMock).toHaveReceivedNthCommandWith(2, UpdateItemCommand, {
      Key: COUNTER_KEY,
      UpdateExpression: 'SET leases.#r = :expiry ADD #c :one',
      ConditionExpression: RESERVE,
      ExpressionAttributeNames: { '#c': 'count', '#r': 'req-1' },
      ExpressionAttributeValues: { ':one': { N: '1' }, ':limit': { N: '100' }, ':expiry': { N: expect.any(String) } },
    });
    expect(elbMock).toHaveReceivedCommandWith(CreateRuleCommand, {
      ListenerArn: LISTENER,
      Priority: 101,
      Conditions: [
        { Field: 'host-header', HostHeaderConfig: { Values: ['a.example.com'] } },
        { Field: 'path-pattern', PathPatternConfig: { Values: ['/x/*'] } },
      ],
      Actions: [{ Type: 'forward', TargetGroupArn: TG }],
      Tags: [
        { Key: 'team', Value: 'a' },
        { Key: 'vending:managed-by', Value: 'shared-alb-rule-priority-allocator' },
        { Key: 'vending:stack-id', Value: STACK },
        { Key: 'vending:logical-id', Value: 'Rule' },
        { Key: 'vending:request-id', Value: 'req-1' },
      ],
    });
    expect(ddbMock).toHaveReceivedNthCommandWith(3, UpdateItemCommand, {
      Key: COUNTER_KEY,
      UpdateExpression: 'SET leases.#r = :arn',
      ExpressionAttributeValues: { ':arn': { S: RULE } },
    });
    expect(ddbMock).toHaveReceivedNthCommandWith(4, UpdateItemCommand, {
      ExpressionAttributeValues: { ':done': { S: 'DONE' }, ':arn': { S: RULE }, ':p': { N: '101' } },
    });
    expect(ddbMock.calls()).toHaveLength(4);
    expect(elbMock.calls()).toHaveLength(1);
  });

  test('a priority in use by another rule is skipped and the next candidate tried', async () => {
    happyCreate();
    elbMock
      .on(CreateRuleCommand)
      .rejectsOnce(awsError(PriorityInUseException))
      .resolves({ Rules: [{ RuleArn: RULE }] });
    elbMock.on(DescribeRulesCommand).resolves({ Rules: [{ RuleArn: NEW_RULE, Priority: '101' }] });
    elbMock.on(DescribeTagsCommand).resolves({
      TagDescriptions: [{ ResourceArn: NEW_RULE, Tags: [{ Key: 'vending:logical-id', Value: 'Other' }] }],
    });
    const response = await run(event('Create'));
    expect(response.Data).toEqual({ Priority: '202', RuleArn: RULE });
    expect(elbMock).toHaveReceivedCommandTimes(CreateRuleCommand, 2);
    expect(elbMock).toHaveReceivedNthCommandWith(4, CreateRuleCommand, { Priority: 202 });
    expect(elbMock).toHaveReceivedCommandWith(DescribeTagsCommand, { ResourceArns: [NEW_RULE] });
  });

  test('a priority in use by the rule an earlier attempt of this request made: that rule is adopted', async () => {
    happyCreate();
    elbMock.on(CreateRuleCommand).rejects(awsError(PriorityInUseException));
    elbMock.on(DescribeRulesCommand).resolves({ Rules: [{ RuleArn: RULE, Priority: '101' }] });
    elbMock.on(DescribeTagsCommand).resolves({
      TagDescriptions: [
        {
          ResourceArn: RULE,
          Tags: [
            { Key: 'vending:stack-id', Value: STACK },
            { Key: 'vending:logical-id', Value: 'Rule' },
            { Key: 'vending:request-id', Value: 'req-1' },
          ],
        },
      ],
    });
    const response = await run(event('Create'));
    expect(response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: RULE, Data: { Priority: '101' } });
    expect(elbMock).toHaveReceivedCommandTimes(CreateRuleCommand, 1);
  });

  test('a CreateRule that fails with an unknown outcome: the rule of this request is looked up first', async () => {
    happyCreate();
    elbMock.on(CreateRuleCommand).rejects(new Error('socket hang up'));
    elbMock.on(DescribeRulesCommand).resolves({ Rules: [{ RuleArn: RULE, Priority: '101' }] });
    elbMock.on(DescribeTagsCommand).resolves({
      TagDescriptions: [
        {
          ResourceArn: RULE,
          Tags: [
            { Key: 'vending:stack-id', Value: STACK },
            { Key: 'vending:logical-id', Value: 'Rule' },
            { Key: 'vending:request-id', Value: 'req-1' },
          ],
        },
      ],
    });
    expect(await run(event('Create'))).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: RULE });
    // Not found: FAILED, recorded as uncertain (the backend may still make the rule), and the slot stays taken
    // until the Delete's sweep gives it back: the counter is high, never low.
    elbMock.on(DescribeRulesCommand).resolves({ Rules: [] });
    sent = [];
    ddbMock.resetHistory();
    expect((await run(event('Create'))).Reason).toBe('Error: socket hang up');
    expect(ddbMock).not.toHaveReceivedCommandWith(UpdateItemCommand, { UpdateExpression: RELEASE });
    expect(ddbMock).toHaveReceivedCommandWith(UpdateItemCommand, {
      ExpressionAttributeValues: {
        ':failed': { S: 'FAILED' },
        ':r': { S: 'Error: socket hang up' },
        ':u': { BOOL: true },
      },
    });
  });

  test('exhausted attempts fail, give the slot back and record the failure', async () => {
    happyCreate();
    elbMock.on(CreateRuleCommand).rejects(awsError(PriorityInUseException));
    elbMock.on(DescribeRulesCommand).resolves({ Rules: [] });
    const response = await run(event('Create'));
    expect(response).toMatchObject({
      Status: 'FAILED',
      PhysicalResourceId: unallocatedId('req-1'),
      Reason: `no free priority on listener ${LISTENER} after 3 attempts (tried 101, 202, 303 in 1..50000): all were in use`,
    });
    expect(response.Data).toBeUndefined();
    expect(ddbMock).toHaveReceivedCommandWith(UpdateItemCommand, {
      UpdateExpression: RELEASE,
      ExpressionAttributeNames: { '#c': 'count', '#r': 'req-1' },
    });
    expect(ddbMock).toHaveReceivedCommandWith(UpdateItemCommand, {
      ExpressionAttributeValues: { ':failed': { S: 'FAILED' }, ':r': { S: response.Reason! }, ':u': { BOOL: false } },
    });
  });

  test('a one-priority range is tried once', async () => {
    happyCreate();
    elbMock.on(CreateRuleCommand).rejects(awsError(PriorityInUseException));
    elbMock.on(DescribeRulesCommand).resolves({});
    const response = await run(event('Create', { ResourceProperties: props({ minPriority: '7', maxPriority: 7 }) }), {
      pickPriority: randomPriority,
    });
    expect(response.Reason).toContain('after 1 attempts (tried 7 in 7..7)');
  });

  test("AWS's TooManyRules fails at once with the listener's rule count (paginated)", async () => {
    happyCreate();
    elbMock.on(CreateRuleCommand).rejects(awsError(TooManyRulesException));
    elbMock
      .on(DescribeRulesCommand)
      .resolvesOnce({ Rules: [{ IsDefault: true }, { IsDefault: false }], NextMarker: 'm' })
      .resolvesOnce({ Rules: [{ IsDefault: false }] });
    const response = await run(event('Create'));
    expect(response.Status).toBe('FAILED');
    expect(response.Reason).toMatch(
      new RegExp(`^listener ${LISTENER} is full: it holds 2 rules \\(limit 100; AWS refused`),
    );
    expect(elbMock).toHaveReceivedCommandTimes(CreateRuleCommand, 1);
    expect(elbMock).toHaveReceivedNthCommandWith(3, DescribeRulesCommand, { Marker: 'm', PageSize: 400 });
  });

  test('the counter at the limit: recount, and fail with the count when the listener is full', async () => {
    ddbMock.on(PutItemCommand).resolves({});
    ddbMock
      .on(UpdateItemCommand, { ConditionExpression: RESERVE })
      .rejects(conditionFailed())
      .on(UpdateItemCommand, { UpdateExpression: 'SET #s = :failed, reason = :r' })
      .resolves({})
      .on(UpdateItemCommand, { UpdateExpression: 'SET #c = :count' })
      .resolves({})
      .on(UpdateItemCommand, { UpdateExpression: RELEASE })
      .rejects(conditionFailed());
    ddbMock.on(GetItemCommand).resolves({ Item: { count: { N: '5' }, leases: { M: {} } } });
    elbMock.on(DescribeRulesCommand).resolves({ Rules: [{ IsDefault: true }, ...Array(5).fill({ IsDefault: false })] });
    const response = await run(event('Create', { ResourceProperties: props({ ruleLimit: 5 }) }));
    expect(response).toMatchObject({
      Status: 'FAILED',
      Reason: `listener ${LISTENER} is full: it holds 5 rules (limit 5)`,
    });
    expect(elbMock).not.toHaveReceivedCommand(CreateRuleCommand);
    expect(ddbMock).toHaveReceivedCommandWith(UpdateItemCommand, {
      ConditionExpression: '#c = :seen',
      ExpressionAttributeValues: { ':count': { N: '5' }, ':seen': { N: '5' } },
    });
  });

  test('slots being filled count like rules: the limit holds while rules are still being created', async () => {
    ddbMock.on(PutItemCommand).resolves({});
    ddbMock
      .on(UpdateItemCommand)
      .resolves({})
      .on(UpdateItemCommand, { ConditionExpression: RESERVE })
      .rejects(conditionFailed());
    const future = String(Date.now() + 60_000);
    ddbMock.on(GetItemCommand).resolves({
      Item: { count: { N: '5' }, leases: { M: { a: { N: future }, b: { N: future }, c: { S: RULE } } } },
    });
    elbMock.on(DescribeRulesCommand).resolves({ Rules: [{ RuleArn: RULE }, { RuleArn: NEW_RULE }, { RuleArn: 'x' }] });
    const response = await run(event('Create', { ResourceProperties: props({ ruleLimit: 5 }) }));
    expect(response.Reason).toBe(`listener ${LISTENER} is full: it holds 3 rules (limit 5; 2 more being created)`);
    expect(elbMock).not.toHaveReceivedCommand(CreateRuleCommand);
  });

  test('first allocation on a listener creates the counter from a real count', async () => {
    happyCreate();
    ddbMock.on(UpdateItemCommand, { ConditionExpression: RESERVE }).rejectsOnce(conditionFailed()).resolves({});
    ddbMock.on(GetItemCommand).resolves({});
    elbMock.on(DescribeRulesCommand).resolves({ Rules: [{ IsDefault: false }, { IsDefault: false }] });
    const response = await run(event('Create'));
    expect(response.Status).toBe('SUCCESS');
    expect(ddbMock).toHaveReceivedCommandWith(PutItemCommand, {
      Item: { ...COUNTER_KEY, count: { N: '2' }, leases: { M: {} } },
      ConditionExpression: 'attribute_not_exists(pk)',
    });
    expect(ddbMock).toHaveReceivedCommandTimes(UpdateItemCommand, 4);
  });

  test('a reservation whose answer was lost is not taken twice', async () => {
    happyCreate();
    ddbMock.on(UpdateItemCommand, { ConditionExpression: RESERVE }).rejects(conditionFailed());
    ddbMock.on(GetItemCommand).resolves({ Item: { count: { N: '3' }, leases: { M: { 'req-1': { N: '1' } } } } });
    expect((await run(event('Create'))).Status).toBe('SUCCESS');
    expect(ddbMock).toHaveReceivedCommandTimes(GetItemCommand, 1);
    expect(elbMock).not.toHaveReceivedCommand(DescribeRulesCommand);
  });

  test('a recount drops expired leases and leases of rules that are gone; a lost race retries', async () => {
    happyCreate();
    ddbMock
      .on(UpdateItemCommand, { ConditionExpression: RESERVE })
      .rejectsOnce(conditionFailed())
      .resolves({})
      .on(UpdateItemCommand, { ConditionExpression: '#c = :seen' })
      .rejects(conditionFailed());
    const future = String(Date.now() + 60_000);
    ddbMock.on(GetItemCommand).resolves({
      Item: {
        count: { N: '100' },
        leases: {
          M: {
            live: { N: future },
            held: { S: RULE },
            expired: { N: '1' },
            gone: { S: NEW_RULE },
            // Kept for the sweep (its rule may still appear): counted, never dropped by a recount.
            late: { S: 'sweep' },
          },
        },
      },
    });
    elbMock.on(DescribeRulesCommand).resolves({ Rules: [{ RuleArn: RULE }] });
    const response = await run(event('Create'));
    expect(response.Status).toBe('SUCCESS');
    expect(ddbMock).toHaveReceivedCommandWith(UpdateItemCommand, {
      UpdateExpression: 'SET #c = :count REMOVE leases.#s0, leases.#s1',
      ConditionExpression: '#c = :seen',
      ExpressionAttributeNames: { '#c': 'count', '#s0': 'expired', '#s1': 'gone' },
      ExpressionAttributeValues: { ':count': { N: '3' }, ':seen': { N: '100' } },
    });
    expect(ddbMock).toHaveReceivedCommandTimes(GetItemCommand, 1);
  });

  test('a counter of an older version (no leases) is recounted and given its leases', async () => {
    happyCreate();
    ddbMock.on(UpdateItemCommand, { ConditionExpression: RESERVE }).rejectsOnce(conditionFailed()).resolves({});
    ddbMock.on(GetItemCommand).resolves({ Item: { count: { N: '7' } } });
    elbMock.on(DescribeRulesCommand).resolves({ Rules: [{ RuleArn: RULE }] });
    expect((await run(event('Create'))).Status).toBe('SUCCESS');
    expect(ddbMock).toHaveReceivedCommandWith(UpdateItemCommand, {
      UpdateExpression: 'SET #c = :count, leases = :none',
      ExpressionAttributeValues: { ':count': { N: '1' }, ':none': { M: {} }, ':seen': { N: '7' } },
    });
  });

  test('a counter that keeps changing gives up after a few rounds', async () => {
    ddbMock.on(PutItemCommand).resolves({}).on(PutItemCommand, { Item: COUNTER_KEY }).rejects(conditionFailed());
    ddbMock
      .on(UpdateItemCommand)
      .resolves({})
      .on(UpdateItemCommand, { ConditionExpression: RESERVE })
      .rejects(conditionFailed());
    ddbMock.on(GetItemCommand).resolves({});
    elbMock.on(DescribeRulesCommand).resolves({});
    const response = await run(event('Create'));
    expect(response.Reason).toBe(
      `could not reserve a rule slot on listener ${LISTENER}: the rule counter kept changing`,
    );
    expect(ddbMock).toHaveReceivedCommandTimes(GetItemCommand, 5);
  });

  test('other errors of the counter are reported', async () => {
    ddbMock.on(PutItemCommand).resolves({});
    ddbMock
      .on(UpdateItemCommand)
      .resolves({})
      .on(UpdateItemCommand, { ConditionExpression: RESERVE })
      .rejects(new Error('throttled'));
    expect((await run(event('Create'))).Reason).toBe('Error: throttled');
  });

  test('other errors while counting are reported', async () => {
    ddbMock.on(PutItemCommand).resolves({}).on(PutItemCommand, { Item: COUNTER_KEY }).rejects(new Error('seed failed'));
    ddbMock
      .on(UpdateItemCommand)
      .resolves({})
      .on(UpdateItemCommand, { ConditionExpression: RESERVE })
      .rejects(conditionFailed());
    ddbMock.on(GetItemCommand).resolves({});
    elbMock.on(DescribeRulesCommand).resolves({ Rules: [] });
    expect((await run(event('Create'))).Reason).toBe('Error: seed failed');
  });

  test('a CreateRule answer without a rule ARN fails', async () => {
    happyCreate();
    elbMock.on(CreateRuleCommand).resolves({ Rules: [] });
    expect((await run(event('Create'))).Reason).toBe('CreateRule returned no rule ARN');
  });

  test('unexpected errors become FAILED; failures to release or record are logged, not fatal', async () => {
    ddbMock.on(PutItemCommand).resolves({});
    ddbMock
      .on(UpdateItemCommand)
      .rejects(new Error('dynamodb down'))
      .on(UpdateItemCommand, { ConditionExpression: RESERVE })
      .resolves({});
    // AWS's TooManyRules: the rule is known not to exist, so the slot goes back (and that write fails here).
    elbMock.on(CreateRuleCommand).rejects(awsError(TooManyRulesException));
    elbMock.on(DescribeRulesCommand).resolves({ Rules: [] });
    const response = await run(event('Create'));
    expect(response.Reason).toMatch(/ is full: it holds 0 rules .*TooManyRules/);
    expect(logs).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ level: 'warn', message: 'could not release a rule slot' }),
        expect.objectContaining({ level: 'warn', message: 'could not record the failure' }),
      ]),
    );
  });

  test('a non-Error rejection is reported as text', async () => {
    ddbMock.on(PutItemCommand).callsFake(() => Promise.reject('plain string'));
    expect((await run(event('Create'))).Reason).toBe('plain string');
  });

  test('a claim that cannot be written for another reason fails', async () => {
    ddbMock.on(PutItemCommand).rejects(new Error('no table'));
    expect((await run(event('Create'))).Reason).toBe('Error: no table');
  });
});

describe('repeated deliveries of one request', () => {
  test('a finished earlier delivery: same answer, no new rule', async () => {
    ddbMock.on(PutItemCommand).rejects(conditionFailed());
    ddbMock
      .on(GetItemCommand)
      .resolves({ Item: { status: { S: 'DONE' }, ruleArn: { S: RULE }, priority: { N: '42' } } });
    const response = await run(event('Create'));
    expect(response).toMatchObject({
      Status: 'SUCCESS',
      PhysicalResourceId: RULE,
      Data: { Priority: '42', RuleArn: RULE },
    });
    expect(elbMock.calls()).toHaveLength(0);
    expect(ddbMock).toHaveReceivedCommandWith(GetItemCommand, { ConsistentRead: true });
  });

  test('an earlier delivery still at work is waited for', async () => {
    ddbMock.on(PutItemCommand).rejects(conditionFailed());
    ddbMock
      .on(GetItemCommand)
      .resolvesOnce({})
      .resolvesOnce({ Item: { status: { S: 'PENDING' } } })
      .resolves({ Item: { status: { S: 'DONE' }, ruleArn: { S: RULE }, priority: { N: '42' } } });
    expect((await run(event('Create'))).Data).toEqual({ Priority: '42', RuleArn: RULE });
    expect(ddbMock).toHaveReceivedCommandTimes(GetItemCommand, 3);
  });

  test('a failed earlier delivery: the same failure', async () => {
    ddbMock.on(PutItemCommand).rejects(conditionFailed());
    ddbMock.on(GetItemCommand).resolves({ Item: { status: { S: 'FAILED' }, reason: { S: 'full' } } });
    expect((await run(event('Create'))).Reason).toBe('an earlier delivery of this request failed: full');
    ddbMock.on(GetItemCommand).resolves({ Item: { status: { S: 'FAILED' } } });
    sent = [];
    expect((await run(event('Create'))).Reason).toBe('an earlier delivery of this request failed: no reason recorded');
  });
});

describe('the deadline', () => {
  test('answers FAILED before the Lambda times out, and stops the work', async () => {
    ddbMock.on(PutItemCommand).rejects(conditionFailed());
    ddbMock.on(GetItemCommand).resolves({ Item: { status: { S: 'PENDING' } } });
    const started = Date.now();
    const response = await run(event('Create'), { pollIntervalMs: 20 }, { getRemainingTimeInMillis: () => 1100 });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(response).toMatchObject({ Status: 'FAILED', PhysicalResourceId: unallocatedId('req-1') });
    expect(response.Reason).toMatch(
      /^the priority allocator ran out of time \(answering 1000 ms before its Lambda timeout\)/,
    );
    // The polling loop sees the abort and ends.
    await new Promise((r) => setTimeout(r, 100));
    const polls = ddbMock.commandCalls(GetItemCommand).length;
    await new Promise((r) => setTimeout(r, 100));
    expect(ddbMock.commandCalls(GetItemCommand).length).toBe(polls);
  });

  test('an Update that runs out of time keeps its physical id', async () => {
    elbMock.on(ModifyRuleCommand).callsFake(() => new Promise(() => undefined));
    const response = await run(
      event('Update', { PhysicalResourceId: RULE, OldResourceProperties: props() }),
      {},
      { getRemainingTimeInMillis: () => 1010 },
    );
    expect(response).toMatchObject({ Status: 'FAILED', PhysicalResourceId: RULE });
  });

  test('an abort between attempts stops the allocation', async () => {
    happyCreate();
    elbMock
      .on(CreateRuleCommand)
      .callsFake(() => new Promise((_, reject) => setTimeout(() => reject(awsError(PriorityInUseException)), 60)));
    const response = await run(event('Create'), {}, { getRemainingTimeInMillis: () => 1030 });
    expect(response.Status).toBe('FAILED');
    await new Promise((r) => setTimeout(r, 150));
    expect(elbMock).toHaveReceivedCommandTimes(CreateRuleCommand, 1);
  });
});

describe('Update', () => {
  const update = (more: Partial<CfnRequest<PriorityAllocatorProperties>> = {}) =>
    event('Update', { PhysicalResourceId: RULE, OldResourceProperties: props(), RequestId: 'req-2', ...more });

  test('same listener: the rule is modified in place and keeps its priority (1 call)', async () => {
    elbMock.on(ModifyRuleCommand).resolves({ Rules: [{ RuleArn: RULE, Priority: '42' }] });
    const response = await run(update({ ResourceProperties: props({ hosts: ['b.example.com'] }) }));
    expect(response).toMatchObject({
      Status: 'SUCCESS',
      PhysicalResourceId: RULE,
      Data: { Priority: '42', RuleArn: RULE },
    });
    expect(elbMock).toHaveReceivedCommandWith(ModifyRuleCommand, {
      RuleArn: RULE,
      Conditions: [{ Field: 'host-header', HostHeaderConfig: { Values: ['b.example.com'] } }],
    });
    expect(elbMock.calls()).toHaveLength(1);
    expect(ddbMock.calls()).toHaveLength(0);
  });

  test('changed tags are added and removed; the vending tags are left alone', async () => {
    elbMock.on(ModifyRuleCommand).resolves({ Rules: [{ RuleArn: RULE, Priority: '42' }] });
    elbMock.on(AddTagsCommand).resolves({});
    elbMock.on(RemoveTagsCommand).resolves({});
    await run(
      update({
        OldResourceProperties: props({
          tags: [
            { Key: 'keep', Value: '1' },
            { Key: 'change', Value: 'old' },
            { Key: 'drop', Value: 'x' },
          ],
        }),
        ResourceProperties: props({
          tags: [
            { Key: 'keep', Value: '1' },
            { Key: 'change', Value: 'new' },
            { Key: 'add', Value: 'y' },
            { Key: 'vending:stack-id', Value: 'ignored' },
          ],
        }),
      }),
    );
    expect(elbMock).toHaveReceivedCommandWith(AddTagsCommand, {
      ResourceArns: [RULE],
      Tags: [
        { Key: 'change', Value: 'new' },
        { Key: 'add', Value: 'y' },
      ],
    });
    expect(elbMock).toHaveReceivedCommandWith(RemoveTagsCommand, { ResourceArns: [RULE], TagKeys: ['drop'] });
  });

  test('a new listener: a new rule with a new priority and a new physical id', async () => {
    happyCreate(NEW_RULE);
    const response = await run(update({ ResourceProperties: props({ listenerArn: OTHER_LISTENER }) }));
    expect(response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: NEW_RULE, Data: { Priority: '101' } });
    expect(elbMock).toHaveReceivedCommandWith(CreateRuleCommand, { ListenerArn: OTHER_LISTENER });
    expect(ddbMock).toHaveReceivedCommandWith(PutItemCommand, {
      Item: expect.objectContaining({ sk: { S: 'req-2' } }),
    });
    expect(elbMock).not.toHaveReceivedCommand(ModifyRuleCommand);
  });

  test('without a rule ARN, a rule is allocated; without old properties, the rule is modified', async () => {
    happyCreate();
    expect((await run(update({ PhysicalResourceId: 'unallocated:x' }))).Status).toBe('SUCCESS');
    expect(elbMock).toHaveReceivedCommandTimes(CreateRuleCommand, 1);
    elbMock.on(ModifyRuleCommand).resolves({ Rules: [{ RuleArn: RULE, Priority: '42' }] });
    sent = [];
    expect((await run(update({ OldResourceProperties: undefined }))).Status).toBe('SUCCESS');
    expect(elbMock).toHaveReceivedCommandTimes(ModifyRuleCommand, 1);
  });

  test("rolling back a failed move: the rule stays, and the resource's rules on the other listener go", async () => {
    elbMock.on(ModifyRuleCommand).resolves({ Rules: [{ RuleArn: RULE, Priority: '42' }] });
    elbMock.on(DescribeRulesCommand).resolves({ Rules: [{ RuleArn: NEW_RULE, Priority: '9' }] });
    elbMock.on(DescribeTagsCommand).resolves({
      TagDescriptions: [
        {
          ResourceArn: NEW_RULE,
          Tags: [
            { Key: 'vending:stack-id', Value: STACK },
            { Key: 'vending:logical-id', Value: 'Rule' },
            { Key: 'vending:request-id', Value: 'req-move' },
          ],
        },
      ],
    });
    elbMock.on(DeleteRuleCommand).resolves({});
    ddbMock.on(QueryCommand).resolves({
      Items: [{ pk: { S: `claim|${STACK}|Rule` }, sk: { S: 'req-move' }, listenerArn: { S: OTHER_LISTENER } }],
    });
    ddbMock.on(UpdateItemCommand).resolves({});
    ddbMock.on(DeleteItemCommand).resolves({});
    const response = await run(update({ OldResourceProperties: props({ listenerArn: OTHER_LISTENER }) }));
    expect(response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: RULE });
    expect(elbMock).toHaveReceivedCommandWith(DescribeRulesCommand, { ListenerArn: OTHER_LISTENER });
    expect(elbMock).toHaveReceivedCommandWith(DeleteRuleCommand, { RuleArn: NEW_RULE });
    expect(ddbMock).toHaveReceivedCommandWith(UpdateItemCommand, {
      Key: { pk: { S: `listener|${OTHER_LISTENER}` }, sk: { S: 'rules' } },
      UpdateExpression: RELEASE,
      ExpressionAttributeNames: { '#c': 'count', '#r': 'req-move' },
    });
    expect(ddbMock).toHaveReceivedCommandTimes(DeleteItemCommand, 1);
  });

  test('a rule deleted outside CloudFormation is allocated again', async () => {
    happyCreate(NEW_RULE);
    elbMock.on(ModifyRuleCommand).rejects(awsError(RuleNotFoundException));
    const response = await run(update());
    expect(response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: NEW_RULE });
    expect(logs).toContainEqual(expect.objectContaining({ level: 'warn', ruleArn: RULE }));
  });

  test('other ModifyRule errors fail and keep the physical id', async () => {
    elbMock.on(ModifyRuleCommand).rejects(new Error('ValidationError: too many conditions'));
    expect(await run(update())).toMatchObject({ Status: 'FAILED', PhysicalResourceId: RULE });
  });

  test('a ModifyRule answer without a priority fails', async () => {
    elbMock.on(ModifyRuleCommand).resolves({ Rules: [] });
    expect((await run(update())).Reason).toBe(`ModifyRule returned no priority for ${RULE}`);
  });

  test('invalid new properties fail before any call', async () => {
    const response = await run(update({ ResourceProperties: props({ hosts: [] }) }));
    expect(response.Reason).toBe('invalid hosts: received []; expected a non-empty list of strings');
    expect(elbMock.calls()).toHaveLength(0);
  });
});

describe('Delete', () => {
  const claim = (sk: string, status: string, ruleArn?: string) => ({
    pk: { S: `claim|${STACK}|Rule` },
    sk: { S: sk },
    status: { S: status },
    ...(ruleArn ? { ruleArn: { S: ruleArn } } : {}),
  });
  const del = (PhysicalResourceId: string | undefined) => event('Delete', { PhysicalResourceId, RequestId: 'req-3' });
  // The listener holds no other rule of this resource unless a test says so.
  beforeEach(() => elbMock.on(DescribeRulesCommand).resolves({ Rules: [] }));

  test('deletes the rule, its claim and unfinished claims, keeps a live replacement, gives the slot back', async () => {
    ddbMock
      .on(QueryCommand)
      .resolvesOnce({
        Items: [claim('req-1', 'DONE', RULE), claim('req-x', 'FAILED')],
        LastEvaluatedKey: { pk: { S: 'p' } },
      })
      .resolvesOnce({ Items: [claim('req-2', 'DONE', NEW_RULE), claim('req-4', 'PENDING')] });
    ddbMock.on(DeleteItemCommand).resolves({});
    ddbMock.on(UpdateItemCommand).resolves({});
    elbMock.on(DeleteRuleCommand).resolves({});
    const response = await run(del(RULE));
    expect(response).toEqual(expect.objectContaining({ Status: 'SUCCESS', PhysicalResourceId: RULE }));
    expect(response.Data).toBeUndefined();
    expect(elbMock).toHaveReceivedCommandTimes(DeleteRuleCommand, 1);
    expect(elbMock).toHaveReceivedCommandWith(DeleteRuleCommand, { RuleArn: RULE });
    expect(ddbMock).toHaveReceivedNthCommandWith(2, QueryCommand, { ExclusiveStartKey: { pk: { S: 'p' } } });
    expect(ddbMock).toHaveReceivedCommandTimes(DeleteItemCommand, 3);
    expect(ddbMock).toHaveReceivedCommandWith(DeleteItemCommand, {
      Key: { pk: { S: `claim|${STACK}|Rule` }, sk: { S: 'req-1' } },
      ConditionExpression: 'attribute_exists(pk)',
    });
    expect(ddbMock).not.toHaveReceivedCommandWith(DeleteItemCommand, { Key: { sk: { S: 'req-2' } } });
    expect(ddbMock).toHaveReceivedCommandTimes(UpdateItemCommand, 1);
    expect(ddbMock).toHaveReceivedCommandWith(UpdateItemCommand, {
      Key: COUNTER_KEY,
      UpdateExpression: RELEASE,
      ExpressionAttributeNames: { '#c': 'count', '#r': 'req-1' },
    });
  });

  test('a rule already gone is fine', async () => {
    ddbMock.on(QueryCommand).resolves({ Items: [] });
    elbMock.on(DeleteRuleCommand).rejects(awsError(RuleNotFoundException));
    expect((await run(del(RULE))).Status).toBe('SUCCESS');
    expect(ddbMock).not.toHaveReceivedCommand(UpdateItemCommand);
  });

  test('a racing delivery gave the slot back first: no second release (its lease is gone)', async () => {
    ddbMock.on(QueryCommand).resolves({ Items: [claim('req-1', 'DONE', RULE)] });
    ddbMock.on(DeleteItemCommand).rejects(conditionFailed());
    ddbMock.on(UpdateItemCommand).rejects(conditionFailed());
    elbMock.on(DeleteRuleCommand).resolves({});
    expect((await run(del(RULE))).Status).toBe('SUCCESS');
    expect(ddbMock).toHaveReceivedCommandWith(UpdateItemCommand, {
      ConditionExpression: 'attribute_exists(leases.#r) AND #c > :zero',
    });
    expect(logs).not.toContainEqual(expect.objectContaining({ message: 'could not release a rule slot' }));
  });

  test('a rule of this resource found by its tags is deleted even without a record', async () => {
    ddbMock.on(QueryCommand).resolves({ Items: [] });
    ddbMock.on(UpdateItemCommand).resolves({});
    elbMock.on(DescribeRulesCommand).resolves({ Rules: [{ RuleArn: NEW_RULE }, { RuleArn: RULE }] });
    elbMock.on(DescribeTagsCommand).resolves({
      TagDescriptions: [
        {
          ResourceArn: NEW_RULE,
          Tags: [
            { Key: 'vending:stack-id', Value: STACK },
            { Key: 'vending:logical-id', Value: 'Rule' },
            { Key: 'vending:request-id', Value: 'req-1' },
          ],
        },
        { ResourceArn: RULE, Tags: [{ Key: 'vending:logical-id', Value: 'Other' }] },
      ],
    });
    elbMock.on(DeleteRuleCommand).resolves({});
    expect((await run(del(unallocatedId('req-1')))).Status).toBe('SUCCESS');
    expect(elbMock).toHaveReceivedCommandTimes(DeleteRuleCommand, 1);
    expect(elbMock).toHaveReceivedCommandWith(DeleteRuleCommand, { RuleArn: NEW_RULE });
    expect(ddbMock).toHaveReceivedCommandWith(UpdateItemCommand, {
      UpdateExpression: RELEASE,
      ExpressionAttributeNames: { '#c': 'count', '#r': 'req-1' },
    });
  });

  test('after a failed Create: the placeholder id deletes a rule its request created late', async () => {
    ddbMock.on(QueryCommand).resolves({ Items: [claim('req-1', 'DONE', RULE), claim('req-0', 'PENDING')] });
    ddbMock.on(DeleteItemCommand).resolves({});
    ddbMock.on(UpdateItemCommand).resolves({});
    elbMock.on(DeleteRuleCommand).resolves({});
    const response = await run(del(unallocatedId('req-1')));
    expect(response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: unallocatedId('req-1') });
    expect(elbMock).toHaveReceivedCommandWith(DeleteRuleCommand, { RuleArn: RULE });
    expect(ddbMock).toHaveReceivedCommandTimes(DeleteItemCommand, 2);
  });

  test('a placeholder without a rule and no physical id at all', async () => {
    ddbMock.on(QueryCommand).resolves({ Items: [claim('req-1', 'PENDING')] });
    ddbMock.on(DeleteItemCommand).resolves({});
    expect((await run(del(unallocatedId('req-1')))).Status).toBe('SUCCESS');
    expect(elbMock).not.toHaveReceivedCommand(DeleteRuleCommand);
    ddbMock.on(QueryCommand).resolves({});
    sent = [];
    expect(await run(del(undefined))).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: unallocatedId('req-3') });
  });

  test('other errors fail the delete', async () => {
    ddbMock.on(QueryCommand).resolves({ Items: [claim('req-1', 'DONE', RULE)] });
    elbMock.on(DeleteRuleCommand).rejects(new Error('AccessDenied'));
    expect(await run(del(RULE))).toMatchObject({
      Status: 'FAILED',
      PhysicalResourceId: RULE,
      Reason: 'Error: AccessDenied',
    });
    ddbMock.on(DeleteItemCommand).rejects(new Error('throttled'));
    elbMock.on(DeleteRuleCommand).resolves({});
    sent = [];
    expect((await run(del(RULE))).Reason).toBe('Error: throttled');
  });
});

describe('properties and protocol', () => {
  test.each([
    [{ listenerArn: 'nope' }, 'invalid listenerArn: received "nope"; expected a listener ARN'],
    [{ targetGroupArn: undefined }, 'invalid targetGroupArn: received undefined; expected a target group ARN'],
    [{ hosts: 'a.example.com' }, 'invalid hosts: received "a.example.com"; expected a non-empty list of strings'],
    [{ hosts: [''] }, 'invalid hosts: received [""]; expected a non-empty list of strings'],
    [{ pathPatterns: [1] }, 'invalid pathPatterns: received [1]; expected a list of strings'],
    [{ ruleLimit: 'ten' }, 'invalid ruleLimit: received "ten"; expected an integer 1..50000'],
    [{ ruleLimit: 0 }, 'invalid ruleLimit: received 0; expected an integer 1..50000'],
    [{ minPriority: '10', maxPriority: '5' }, 'invalid maxPriority: received "5"; expected an integer 10..50000'],
    [{ tags: [{ Key: 'a' }] }, 'invalid tags: received [{"Key":"a"}]; expected a list of { Key, Value }'],
    [{ tags: 'x' }, 'invalid tags: received "x"; expected a list of { Key, Value }'],
  ])('%j is refused', async (bad, reason) => {
    const response = await run(event('Create', { ResourceProperties: { ...props(), ...bad } as any }));
    expect(response).toMatchObject({ Status: 'FAILED', Reason: reason });
    expect(ddbMock.calls()).toHaveLength(0);
  });

  test('defaults and numbers given as strings', () => {
    expect(parseProperties(props({ ruleLimit: '', minPriority: '2', maxPriority: 9 }))).toMatchObject({
      ruleLimit: 100,
      minPriority: 2,
      maxPriority: 9,
      pathPatterns: [],
      tags: [],
    });
    expect(() => parseProperties(undefined)).toThrow('invalid listenerArn');
  });

  test('an unknown request type fails', async () => {
    const response = await run({ ...event('Create'), RequestType: 'Rename' as any });
    expect(response.Reason).toBe('unknown RequestType "Rename"');
  });

  test('a response that cannot be delivered is reported in the result and the log', async () => {
    happyCreate();
    const result = await processRequest(event('Create'), context, {
      ...deps,
      sendResponse: () => Promise.reject(new Error('connection reset')),
    });
    expect(result.sendError).toBe('Error: connection reset');
    expect(logs.at(-1)).toMatchObject({ level: 'error', sendError: 'Error: connection reset' });
  });

  test('long reasons are cut below the 4 KiB response limit', async () => {
    expect(truncateReason('x'.repeat(10))).toBe('x'.repeat(10));
    const cut = truncateReason('x'.repeat(5000));
    expect(cut).toHaveLength(2000);
    expect(cut.endsWith('[… truncated]')).toBe(true);
  });

  test('helpers', () => {
    expect(listenerOfRule(RULE)).toBe(LISTENER);
    expect(isAwsError({ Code: 'PriorityInUse' }, 'PriorityInUse')).toBe(true);
    expect(isAwsError(awsError(PriorityInUseException), 'PriorityInUse')).toBe(true);
    expect(isAwsError(null, 'PriorityInUse')).toBe(false);
    expect(isAwsError('PriorityInUse', 'PriorityInUse')).toBe(false);
    const picks = new Set(Array.from({ length: 50 }, () => randomPriority(1, 3, new Set([2]))));
    expect([...picks].sort()).toEqual([1, 3]);
  });

  test('the default log writes one JSON line', async () => {
    const spy = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      await processRequest({ ...event('Create'), RequestType: 'X' as any }, context, { ...deps, log: undefined });
      expect(JSON.parse(spy.mock.calls[0][0] as string)).toMatchObject({ requestId: 'req-1', level: 'error' });
    } finally {
      spy.mockRestore();
    }
  });
});

describe('the ResponseURL and the Lambda wiring', () => {
  let server: http.Server;
  let url: string;
  let statuses: number[];
  let bodies: { method?: string; contentType?: string; body: string }[];

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        bodies.push({ method: req.method, contentType: req.headers['content-type'], body });
        res.statusCode = statuses.shift() ?? 200;
        res.end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/response`;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
  });
  beforeEach(() => {
    statuses = [];
    bodies = [];
  });

  const response: CfnResponse = {
    Status: 'SUCCESS',
    PhysicalResourceId: RULE,
    StackId: STACK,
    RequestId: 'r',
    LogicalResourceId: 'L',
  };

  test('PUTs the JSON body with an empty content type', async () => {
    await httpResponseSender()(url, response);
    expect(bodies).toEqual([{ method: 'PUT', contentType: '', body: JSON.stringify(response) }]);
  });

  test('retries after an error status, then gives up with the last error', async () => {
    statuses = [500];
    await httpResponseSender(3, 1000, 1)(url, response);
    expect(bodies).toHaveLength(2);
    statuses = [500, 503];
    await expect(httpResponseSender(2, 1000, 1)(url, response)).rejects.toThrow('ResponseURL answered HTTP 503');
  });

  test('a connection that fails or hangs is an error', async () => {
    await expect(httpResponseSender(1)('http://127.0.0.1:1/x', response)).rejects.toThrow();
    const hanging = http.createServer(() => undefined);
    await new Promise<void>((r) => hanging.listen(0, '127.0.0.1', () => r()));
    try {
      const port = (hanging.address() as AddressInfo).port;
      await expect(httpResponseSender(1, 100)(`http://127.0.0.1:${port}/`, response)).rejects.toThrow(
        'ResponseURL did not answer within 100 ms',
      );
    } finally {
      hanging.closeAllConnections();
      await new Promise((r) => hanging.close(r));
    }
  });

  test('an https ResponseURL goes through https', async () => {
    await expect(httpResponseSender(1, 500)('https://127.0.0.1:1/x', response)).rejects.toThrow();
  });

  test('a misconfigured handler still answers FAILED', async () => {
    const spy = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      const handler = createHandler(() => {
        throw new Error('environment variable STATE_TABLE_NAME is not set');
      });
      const result = await handler({ ...event('Create'), ResponseURL: url }, context);
      expect(result.response).toMatchObject({
        Status: 'FAILED',
        Reason: 'the priority allocator is misconfigured: environment variable STATE_TABLE_NAME is not set',
        PhysicalResourceId: unallocatedId('req-1'),
      });
      expect(JSON.parse(bodies[0].body)).toEqual(result.response);
      await handler({ ...event('Delete', { PhysicalResourceId: RULE }), ResponseURL: url }, context);
      expect(JSON.parse(bodies[1].body)).toMatchObject({ Status: 'FAILED', PhysicalResourceId: RULE });
      await handler({ ...event('Delete'), ResponseURL: url }, context);
      expect(JSON.parse(bodies[2].body)).toMatchObject({ Status: 'FAILED', PhysicalResourceId: '' });
    } finally {
      spy.mockRestore();
    }
  });

  test('a handler over given dependencies serves requests', async () => {
    happyCreate();
    const handler = createHandler({ ...deps });
    expect((await handler(event('Create'), context)).response.Status).toBe('SUCCESS');
  });

  test('dependencies from the environment', () => {
    const saved = { ...process.env };
    try {
      delete process.env.STATE_TABLE_NAME;
      expect(() => depsFromEnvironment()).toThrow('environment variable STATE_TABLE_NAME is not set');
      process.env.STATE_TABLE_NAME = 'table';
      process.env.AWS_REGION = 'us-east-1';
      process.env.MAX_ATTEMPTS = '0';
      expect(() => depsFromEnvironment()).toThrow(
        'environment variable MAX_ATTEMPTS: expected a positive integer, got 0',
      );
      process.env.MAX_ATTEMPTS = '';
      process.env.SAFETY_MARGIN_MS = '2000';
      expect(depsFromEnvironment()).toMatchObject({ tableName: 'table', maxAttempts: 10, safetyMarginMs: 2000 });
    } finally {
      process.env = saved;
    }
  });

  test('API calls are counted per request, also when requests interleave', async () => {
    const fake = { handlers: [] as any[], middlewareStack: { add: (mw: any) => fake.handlers.push(mw) } };
    countApiCalls(fake);
    const [initialize, deserialize] = fake.handlers;
    const send = async (commandName?: string) => {
      const next = async () => ({});
      const outer = initialize(async (args: unknown) => deserialize(next)(args), { commandName })({});
      return outer;
    };
    const [a, b] = await Promise.all([
      withApiCallCount(async () => {
        await send('PutItemCommand');
        await send('CreateRuleCommand');
        return 'a';
      }),
      withApiCallCount(async () => {
        await send();
        return 'b';
      }),
    ]);
    expect(a).toEqual({ result: 'a', apiCalls: { calls: 2, attempts: 2, byOperation: { PutItem: 1, CreateRule: 1 } } });
    expect(b.apiCalls).toEqual({ calls: 1, attempts: 1, byOperation: { Unknown: 1 } });
    await send('Outside'); // no count in scope: ignored
  });
});
