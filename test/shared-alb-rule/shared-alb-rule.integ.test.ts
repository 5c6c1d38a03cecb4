/**
 * End to end, without CloudFormation: the custom resource that SharedAlbRule synthesizes, given as
 * CloudFormation gives it (every scalar a string) to the handler exactly as it ships (the esbuild bundle the
 * package deploys, built here with the project's own bundle command), against a real listener in moto.
 */
import { execFileSync } from 'child_process';
import { randomUUID } from 'crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'fs';
import { join } from 'path';
import { App, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { PriorityAllocator, SharedAlbRule, SharedAlbRuleProps } from '../../src';
import { CfnRequest, CfnResponse } from '../../src/shared-alb-rule/cfn-response';
import { AlbFixture, createAlbFixture, ResponseServer, startResponseServer, STATE_TABLE } from '../support/alb-fixture';
import { MotoServer, startMoto } from '../support/moto';

const ROOT = join(__dirname, '..', '..');
const BUNDLE_TASK = 'bundle:shared-alb-rule/priority-allocator.lambda';
const STACK_ID = 'arn:aws:cloudformation:us-east-1:123456789012:stack/customer-acme/2222';
const SERVICE_TOKEN = 'arn:aws:lambda:us-east-1:123456789012:function:allocator';
const context = { getRemainingTimeInMillis: () => 120_000 };

type Handler = (event: CfnRequest<any>, ctx: typeof context) => Promise<unknown>;

let moto: MotoServer;
let fixture: AlbFixture;
let responses: ResponseServer;
let bundleDir: string;
let shipped: Handler;
const savedEnv = { ...process.env };

/** Builds the handler bundle with the arguments of the projen bundle task, into a scratch directory. */
function buildShippedHandler(): Handler {
  const tasks = JSON.parse(readFileSync(join(ROOT, '.projen', 'tasks.json'), 'utf8')).tasks;
  const args: string[] = tasks[BUNDLE_TASK].steps[0].execArgs;
  mkdirSync(join(ROOT, 'node_modules', '.cache'), { recursive: true });
  // Under node_modules so that the bundle resolves the AWS SDK, as the Lambda runtime provides it.
  bundleDir = mkdtempSync(join(ROOT, 'node_modules', '.cache', 'allocator-bundle-'));
  const outfile = join(bundleDir, 'index.js');
  const esbuildArgs = args.slice(1).map((a) => (a.startsWith('--outfile=') ? `--outfile=${outfile}` : a));
  execFileSync(join(ROOT, 'node_modules', '.bin', args[0]), esbuildArgs, { cwd: ROOT, stdio: 'pipe' });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(outfile).handler;
}

beforeAll(async () => {
  jest.spyOn(console, 'log').mockImplementation(() => undefined);
  shipped = buildShippedHandler();
  moto = await startMoto();
  Object.assign(process.env, moto.env, { STATE_TABLE_NAME: STATE_TABLE, SAFETY_MARGIN_MS: '5000' });
  responses = await startResponseServer();
  fixture = await createAlbFixture(moto);
});

afterAll(async () => {
  process.env = savedEnv;
  await responses?.close();
  await moto?.stop();
  if (bundleDir) rmSync(bundleDir, { recursive: true, force: true });
});

/** The custom resource's Properties, as CloudFormation hands them to the handler (scalars as strings). */
function synthesizedProperties(
  listenerArn: string,
  props: Omit<SharedAlbRuleProps, 'listener' | 'allocator' | 'targetGroup'>,
): Record<string, unknown> {
  const app = new App();
  const stack = new Stack(app, 'Customer', { env: { account: '123456789012', region: 'us-east-1' } });
  new SharedAlbRule(stack, 'Rule', {
    listener: elbv2.ApplicationListener.fromApplicationListenerAttributes(stack, 'Listener', {
      listenerArn,
      securityGroup: ec2.SecurityGroup.fromSecurityGroupId(stack, 'Group', 'sg-0123456789abcdef0'),
    }),
    allocator: PriorityAllocator.fromServiceToken(stack, 'Allocator', SERVICE_TOKEN),
    targetGroup: elbv2.ApplicationTargetGroup.fromTargetGroupAttributes(stack, 'Targets', {
      targetGroupArn: fixture.targetGroupArn,
    }),
    ...props,
  });
  const template = app.synth().getStackByName('Customer').template;
  const [resource] = Object.values<any>(template.Resources).filter((r) => r.Type === 'Custom::SharedAlbRulePriority');
  return asCloudFormationSendsIt(resource.Properties);
}

function asCloudFormationSendsIt(value: unknown): any {
  if (Array.isArray(value)) return value.map(asCloudFormationSendsIt);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, asCloudFormationSendsIt(v)]));
  }
  return typeof value === 'number' || typeof value === 'boolean' ? String(value) : value;
}

async function send(
  RequestType: 'Create' | 'Update' | 'Delete',
  ResourceProperties: Record<string, unknown>,
  more: Partial<CfnRequest<any>> = {},
): Promise<CfnResponse> {
  const RequestId = randomUUID();
  await shipped(
    {
      RequestType,
      ResponseURL: `${responses.base}/${RequestId}`,
      StackId: STACK_ID,
      RequestId,
      LogicalResourceId: 'RuleResource',
      ResourceType: 'Custom::SharedAlbRulePriority',
      ResourceProperties,
      ...more,
    },
    context,
  );
  const sent = responses.received.get(`/${RequestId}`)?.at(-1);
  expect(sent).toBeDefined();
  return sent!;
}

test('what SharedAlbRule synthesizes creates, updates in place and deletes a real rule', async () => {
  const listenerArn = await fixture.newListener();
  const created = synthesizedProperties(listenerArn, {
    hostHeaders: ['acme.apps.example.com'],
    pathPatterns: ['/shop/*'],
    tags: { customer: 'acme' },
  });
  expect(created.ruleLimit).toBe('100'); // a number in the template, a string on the wire

  const create = await send('Create', created);
  expect(create.Status).toBe('SUCCESS');
  const [rule] = await fixture.rulesOf(listenerArn);
  expect(rule.RuleArn).toBe(create.PhysicalResourceId);
  expect(rule.Priority).toBe(create.Data!.Priority);
  const conditions = Object.fromEntries(
    rule.Conditions!.map((c) => [c.Field, c.Values ?? c.HostHeaderConfig?.Values ?? c.PathPatternConfig?.Values]),
  );
  expect(conditions['host-header']).toEqual(['acme.apps.example.com']);
  expect(conditions['path-pattern']).toEqual(['/shop/*']);
  expect(rule.Actions).toEqual([expect.objectContaining({ Type: 'forward', TargetGroupArn: fixture.targetGroupArn })]);

  const updated = synthesizedProperties(listenerArn, { hostHeaders: ['acme.apps.example.com', 'www.acme.com'] });
  const update = await send('Update', updated, {
    PhysicalResourceId: create.PhysicalResourceId,
    OldResourceProperties: created,
  });
  expect(update).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: create.PhysicalResourceId });
  expect(update.Data!.Priority).toBe(create.Data!.Priority);
  const [changed] = await fixture.rulesOf(listenerArn);
  const hosts = changed.Conditions!.find((c) => c.Field === 'host-header');
  expect(hosts?.Values ?? hosts?.HostHeaderConfig?.Values).toEqual(['acme.apps.example.com', 'www.acme.com']);
  expect(changed.Conditions!.some((c) => c.Field === 'path-pattern')).toBe(false);

  const remove = await send('Delete', updated, { PhysicalResourceId: create.PhysicalResourceId });
  expect(remove.Status).toBe('SUCCESS');
  expect(await fixture.rulesOf(listenerArn)).toEqual([]);
});

test("the construct's ruleLimit reaches the handler: a full listener fails with the clear message", async () => {
  const listenerArn = await fixture.newListener();
  const limited = (host: string) => synthesizedProperties(listenerArn, { hostHeaders: [host], ruleLimit: 2 });
  const results = [];
  for (const host of ['a.example.com', 'b.example.com', 'c.example.com']) {
    results.push(await send('Create', limited(host), { LogicalResourceId: host.replace(/\W/g, '') }));
  }
  expect(results.map((r) => r.Status)).toEqual(['SUCCESS', 'SUCCESS', 'FAILED']);
  expect(results[2].Reason).toMatch(/^listener \S+ is full: it holds 2 rules \(limit 2\)/);
  expect(await fixture.rulesOf(listenerArn)).toHaveLength(2);
});
