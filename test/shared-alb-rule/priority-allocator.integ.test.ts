/**
 * The real priority allocator handler against moto's server: a real VPC, ALB, listeners, target group and
 * DynamoDB state table in moto, CloudFormation responses captured by a local HTTP server.
 */
import { randomUUID } from 'crypto';
import {
  CreateRuleCommand,
  DescribeTagsCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { AllocatorResult, PriorityPicker } from '../../src/shared-alb-rule/allocator';
import { CfnRequest, CfnResponse } from '../../src/shared-alb-rule/cfn-response';
import { createHandler, depsFromEnvironment } from '../../src/shared-alb-rule/priority-allocator.lambda';
import { PriorityAllocatorProperties } from '../../src/shared-alb-rule/types';
import { AlbFixture, createAlbFixture, ResponseServer, startResponseServer, STATE_TABLE } from '../support/alb-fixture';
import { MotoServer, startMoto } from '../support/moto';

const STACK_ID = 'arn:aws:cloudformation:us-east-1:123456789012:stack/customer/1111';
const context = { getRemainingTimeInMillis: () => 120_000 };

let moto: MotoServer;
let fixture: AlbFixture;
let elb: ElasticLoadBalancingV2Client;
let responses: ResponseServer;
let responseBase: string;
let received: Map<string, CfnResponse[]>;
let targetGroupArn: string;
const savedEnv = { ...process.env };

beforeAll(async () => {
  jest.spyOn(console, 'log').mockImplementation(() => undefined);
  moto = await startMoto();
  Object.assign(process.env, moto.env, { STATE_TABLE_NAME: STATE_TABLE, SAFETY_MARGIN_MS: '5000' });
  responses = await startResponseServer();
  responseBase = responses.base;
  received = responses.received;
  fixture = await createAlbFixture(moto);
  elb = fixture.elb;
  targetGroupArn = fixture.targetGroupArn;
});

afterAll(async () => {
  process.env = savedEnv;
  await responses?.close();
  await moto?.stop();
});

/** The allocator's log lines so far (JSON lines written with console.log, which beforeAll silences). */
function logLines(): Array<Record<string, unknown>> {
  return (console.log as jest.Mock).mock.calls.flatMap(([line]) => {
    try {
      const parsed = typeof line === 'string' ? JSON.parse(line) : undefined;
      return parsed && typeof parsed === 'object' ? [parsed as Record<string, unknown>] : [];
    } catch {
      return [];
    }
  });
}

/** A new listener on the shared ALB (one per test keeps the tests independent). */
const newListener = () => fixture.newListener();
const rulesOf = (listenerArn: string) => fixture.rulesOf(listenerArn);

function props(listenerArn: string, hosts: string[], extra: Partial<PriorityAllocatorProperties> = {}) {
  return {
    ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:allocator',
    listenerArn,
    hosts,
    targetGroupArn,
    ...extra,
  };
}

function request(
  RequestType: 'Create' | 'Update' | 'Delete',
  ResourceProperties: PriorityAllocatorProperties,
  more: Partial<CfnRequest<PriorityAllocatorProperties>> = {},
): CfnRequest<PriorityAllocatorProperties> {
  const RequestId = more.RequestId ?? randomUUID();
  return {
    RequestType,
    ResponseURL: `${responseBase}/${RequestId}`,
    StackId: STACK_ID,
    RequestId,
    LogicalResourceId: more.LogicalResourceId ?? `Rule${randomUUID().slice(0, 8)}`,
    ResourceType: 'Custom::SharedAlbRulePriority',
    ResourceProperties,
    ...more,
  };
}

/** Invokes a handler and checks that what reached the ResponseURL is what it says it sent. */
/**
 * Runs a request as Lambda does: by default on a handler of its own, as each concurrent invocation of a function gets
 * an environment (and SDK clients) of its own. One handler for 100 concurrent invocations would queue their calls
 * on its clients' sockets, and on a busy machine a call waiting over the 2 s connection timeout is retried as a lost
 * answer, which these tests of the common path are not about.
 */
async function invoke(
  event: CfnRequest<PriorityAllocatorProperties>,
  run: ReturnType<typeof createHandler> = createHandler(() => depsFromEnvironment()),
): Promise<AllocatorResult & { sent: CfnResponse }> {
  const result = await run(event, context);
  const sent = received.get(`/${event.RequestId}`)?.at(-1);
  expect(result.sendError).toBeUndefined();
  expect(sent).toEqual(result.response);
  return { ...result, sent: sent! };
}

/** Tries the listed priorities in order, then random ones. */
function fixedPicker(...priorities: number[]): PriorityPicker {
  return (min, _max, tried) => priorities.find((p) => !tried.has(p)) ?? min + tried.size;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

test('100 concurrent allocations on one listener get 100 distinct priorities, each a real rule', async () => {
  const listenerArn = await newListener();
  // The first allocation on a listener seeds its rule counter; the next ones take the common path.
  const first = await invoke(request('Create', props(listenerArn, ['first.example.com'])));
  expect(first.sent.Status).toBe('SUCCESS');
  const results = await Promise.all(
    Array.from({ length: 99 }, (_, i) => invoke(request('Create', props(listenerArn, [`c${i}.example.com`])))),
  );
  const all = [first, ...results];
  expect(all.map((r) => r.sent.Status)).toEqual(Array(100).fill('SUCCESS'));
  const priorities = all.map((r) => Number(r.sent.Data!.Priority));
  expect(new Set(priorities).size).toBe(100);

  const rules = await rulesOf(listenerArn);
  expect(rules).toHaveLength(100);
  const priorityOf = new Map(rules.map((r) => [r.RuleArn!, Number(r.Priority)]));
  for (const r of all) {
    expect(r.sent.PhysicalResourceId).toBe(r.sent.Data!.RuleArn);
    expect(priorityOf.get(r.sent.Data!.RuleArn)).toBe(Number(r.sent.Data!.Priority));
  }
  const calls = results.map((r) => r.apiCalls.calls);
  // Common case: PutItem, UpdateItem (slot), CreateRule, UpdateItem (slot filled), UpdateItem (done); more only
  // on a collision.
  expect(median(calls)).toBe(5);
  // No later allocation recounts the listener's rules: the allocator logs each recount with its request's id, and
  // the first one (which seeds the counter) is seen to. A later one may read the counter (GetItem) when the SDK
  // repeated its reservation after a lost answer (on a busy machine a call waits past the 2 s timeout) and find its
  // own slot taken; or check a random priority another request took meanwhile (about N²/100,000 of them, 0.1 per
  // run here) against the listener, DescribeRules then DescribeTags of the rule at that priority. Neither counts.
  const recountsOf = (requestId: string) =>
    logLines().filter((line) => line.message === 'rule counter recounted' && line.requestId === requestId);
  expect(recountsOf(first.sent.RequestId)).toHaveLength(1);
  expect(results.flatMap((r) => recountsOf(r.sent.RequestId))).toEqual([]);
  const listed = results.filter(
    (r) => (r.apiCalls.byOperation.DescribeRules ?? 0) > (r.apiCalls.byOperation.DescribeTags ?? 0),
  );
  expect(listed.map((r) => r.apiCalls.byOperation)).toEqual([]);
  expect(first.apiCalls.byOperation.DescribeRules).toBe(1);

  const tags = await elb.send(new DescribeTagsCommand({ ResourceArns: [first.sent.Data!.RuleArn] }));
  expect(tags.TagDescriptions![0].Tags).toEqual(
    expect.arrayContaining([
      { Key: 'vending:stack-id', Value: STACK_ID },
      { Key: 'vending:logical-id', Value: expect.stringMatching(/^Rule/) },
      { Key: 'vending:request-id', Value: first.sent.RequestId },
    ]),
  );
});

test('a rule made by hand at the priority the allocator would pick first is skipped', async () => {
  const listenerArn = await newListener();
  await elb.send(
    new CreateRuleCommand({
      ListenerArn: listenerArn,
      Priority: 7,
      Conditions: [{ Field: 'host-header', HostHeaderConfig: { Values: ['manual.example.com'] } }],
      Actions: [{ Type: 'forward', TargetGroupArn: targetGroupArn }],
    }),
  );
  const run = createHandler({ ...depsFromEnvironment(), pickPriority: fixedPicker(7, 8) });
  const result = await invoke(request('Create', props(listenerArn, ['auto.example.com'])), run);
  expect(result.sent.Status).toBe('SUCCESS');
  expect(result.sent.Data!.Priority).toBe('8');
  expect(result.apiCalls.byOperation.CreateRule).toBe(2);
  const rules = await rulesOf(listenerArn);
  expect(rules.map((r) => [r.Priority, r.Conditions![0].HostHeaderConfig!.Values]).sort()).toEqual([
    ['7', ['manual.example.com']],
    ['8', ['auto.example.com']],
  ]);
});

test('an update keeps the priority; a new listener gets a new rule and the old one is deleted', async () => {
  const listenerArn = await newListener();
  const LogicalResourceId = 'UpdatedRule';
  const created = await invoke(request('Create', props(listenerArn, ['a.example.com']), { LogicalResourceId }));
  const ruleArn = created.sent.PhysicalResourceId;

  const updated = await invoke(
    request(
      'Update',
      props(listenerArn, ['b.example.com'], { pathPatterns: ['/app/*'], tags: [{ Key: 'team', Value: 'x' }] }),
      {
        LogicalResourceId,
        PhysicalResourceId: ruleArn,
        OldResourceProperties: props(listenerArn, ['a.example.com']),
      },
    ),
  );
  expect(updated.sent).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: ruleArn, Data: created.sent.Data });
  const [rule] = await rulesOf(listenerArn);
  expect(rule.Priority).toBe(created.sent.Data!.Priority);
  expect(rule.Conditions).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ Field: 'host-header', HostHeaderConfig: { Values: ['b.example.com'] } }),
      expect.objectContaining({ Field: 'path-pattern', PathPatternConfig: { Values: ['/app/*'] } }),
    ]),
  );
  const tags = await elb.send(new DescribeTagsCommand({ ResourceArns: [ruleArn] }));
  expect(tags.TagDescriptions![0].Tags).toContainEqual({ Key: 'team', Value: 'x' });

  const otherListener = await newListener();
  const moved = await invoke(
    request('Update', props(otherListener, ['b.example.com']), {
      LogicalResourceId,
      PhysicalResourceId: ruleArn,
      OldResourceProperties: props(listenerArn, ['b.example.com']),
    }),
  );
  expect(moved.sent.Status).toBe('SUCCESS');
  expect(moved.sent.PhysicalResourceId).not.toBe(ruleArn);
  expect(await rulesOf(otherListener)).toHaveLength(1);
  // CloudFormation then deletes the old physical resource, with the old properties.
  const cleanup = await invoke(
    request('Delete', props(listenerArn, ['b.example.com']), { LogicalResourceId, PhysicalResourceId: ruleArn }),
  );
  expect(cleanup.sent.Status).toBe('SUCCESS');
  expect(await rulesOf(listenerArn)).toHaveLength(0);
  expect(await rulesOf(otherListener)).toHaveLength(1);
});

test('delete frees the priority for the next create, and a repeated delete succeeds', async () => {
  const listenerArn = await newListener();
  const run = createHandler({ ...depsFromEnvironment(), pickPriority: fixedPicker(10, 11) });
  const created = await invoke(request('Create', props(listenerArn, ['d.example.com'])), run);
  expect(created.sent.Data!.Priority).toBe('10');
  const del = request('Delete', props(listenerArn, ['d.example.com']), {
    LogicalResourceId: 'Gone',
    PhysicalResourceId: created.sent.PhysicalResourceId,
  });
  expect((await invoke(del, run)).sent.Status).toBe('SUCCESS');
  expect(await rulesOf(listenerArn)).toHaveLength(0);
  const repeated = request('Delete', del.ResourceProperties, {
    LogicalResourceId: 'Gone',
    PhysicalResourceId: del.PhysicalResourceId,
  });
  const repeatedResult = await invoke(repeated, run);
  expect(repeatedResult.sent.Status).toBe('SUCCESS');
  expect(repeatedResult.apiCalls.byOperation.UpdateItem).toBeUndefined(); // no slot given back twice

  const again = await invoke(request('Create', props(listenerArn, ['e.example.com'])), run);
  expect(again.sent.Data!.Priority).toBe('10');
});

test('a repeated Create with the same request id returns the same priority and creates one rule', async () => {
  const listenerArn = await newListener();
  const run = createHandler({ ...depsFromEnvironment(), pollIntervalMs: 50 });
  const event = request('Create', props(listenerArn, ['once.example.com']));
  const first = await invoke(event, run);
  const second = await invoke(event, run);
  expect(second.sent).toEqual(first.sent);
  expect(second.apiCalls.byOperation.CreateRule).toBeUndefined();

  // Two deliveries at the same time.
  const concurrent = request('Create', props(listenerArn, ['twice.example.com']));
  const [a, b] = await Promise.all([run(concurrent, context), run(concurrent, context)]);
  expect(a.response).toEqual(b.response);
  expect(a.response.Status).toBe('SUCCESS');
  const rules = await rulesOf(listenerArn);
  expect(rules.map((r) => r.Conditions![0].HostHeaderConfig!.Values![0]).sort()).toEqual([
    'once.example.com',
    'twice.example.com',
  ]);
});

test('a full listener fails at once with a clear message, counting rules made by hand', async () => {
  const listenerArn = await newListener();
  await elb.send(
    new CreateRuleCommand({
      ListenerArn: listenerArn,
      Priority: 1,
      Conditions: [{ Field: 'host-header', HostHeaderConfig: { Values: ['manual.example.com'] } }],
      Actions: [{ Type: 'forward', TargetGroupArn: targetGroupArn }],
    }),
  );
  for (let i = 0; i < 4; i++) {
    const ok = await invoke(request('Create', props(listenerArn, [`full${i}.example.com`], { ruleLimit: '5' })));
    expect(ok.sent.Status).toBe('SUCCESS');
  }
  const started = Date.now();
  const full = await invoke(request('Create', props(listenerArn, ['one-too-many.example.com'], { ruleLimit: '5' })));
  expect(Date.now() - started).toBeLessThan(5000);
  expect(full.sent).toMatchObject({
    Status: 'FAILED',
    Reason: `listener ${listenerArn} is full: it holds 5 rules (limit 5)`,
    PhysicalResourceId: `unallocated:${full.sent.RequestId}`,
  });
  expect(await rulesOf(listenerArn)).toHaveLength(5);

  // CloudFormation's rollback deletes the failed resource: nothing to delete, and it succeeds.
  const rollback = await invoke(
    request('Delete', props(listenerArn, ['one-too-many.example.com']), {
      PhysicalResourceId: full.sent.PhysicalResourceId,
    }),
  );
  expect(rollback.sent.Status).toBe('SUCCESS');
  expect(await rulesOf(listenerArn)).toHaveLength(5);
});
