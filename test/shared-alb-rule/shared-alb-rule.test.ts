/**
 * SharedAlbRule and PriorityAllocator as a user meets them: the templates they deploy, the errors bad input
 * gets at synth time, the allocator's least privilege, and one pass through the compliance gate.
 *
 * Template tests use a plain App (fast); the compliance test uses newTestApp() once.
 */
import { readFileSync } from 'fs';
import { join } from 'path';
import { App, CfnElement, CfnOutput, CfnParameter, Fn, Stack, Token } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { IConstruct } from 'constructs';
import {
  PriorityAllocator,
  PriorityAllocatorProps,
  SharedAlbRule,
  SharedAlbRuleProps,
  SharedPlatform,
} from '../../src';
import { expectCompliant, newTestApp } from '../support/compliance';
import { ENV, platformStack } from '../support/platform-fixture';

const RULE_TYPE = 'Custom::SharedAlbRulePriority';
const HOST = 'acme.apps.example.com';
const CUSTOMER_CERTIFICATE_ARN = 'arn:aws:acm:eu-west-1:123456789012:certificate/66666666-7777-8888-9999-000000000000';
const ALLOCATOR_ARN = 'arn:aws:lambda:eu-west-1:123456789012:function:acme-priority-allocator';
const IMPORTED_ALB_ARN = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/shared/50dc6c495c0c9188';
const LISTENER_ARN =
  'arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/shared/50dc6c495c0c9188/f2f7dc8efc522ab2';
const TARGET_GROUP_ARN = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/acme/73e2d6bc24d8a067';
const ALLOCATOR_PARAMETER = '/vending/acme/priority-allocator-arn';

// ---------------------------------------------------------------------------------------------------------------
// Fixtures and helpers
// ---------------------------------------------------------------------------------------------------------------

/** A SharedPlatform stack and a customer stack (same App, same env) with a target group in the customer stack. */
interface CustomerFixture {
  readonly app: App;
  readonly platformStack: Stack;
  readonly platform: SharedPlatform;
  readonly customer: Stack;
  readonly targetGroup: elbv2.ApplicationTargetGroup;
}

function customerOnPlatform(app: App = new App(), production = false): CustomerFixture {
  const { stack, platform } = platformStack(app, { production });
  const customer = new Stack(app, 'Customer', { env: ENV });
  const targetGroup = new elbv2.ApplicationTargetGroup(customer, 'TargetGroup', {
    vpc: platform.vpc,
    port: 80,
    protocol: elbv2.ApplicationProtocol.HTTP,
    targetType: elbv2.TargetType.INSTANCE,
  });
  return { app, platformStack: stack, platform, customer, targetGroup };
}

/** A SharedAlbRule on the platform's HTTPS listener and allocator, for HOST, to the fixture's target group. */
function addRule(f: CustomerFixture, props: Partial<SharedAlbRuleProps> = {}, id = 'Rule'): SharedAlbRule {
  return new SharedAlbRule(f.customer, id, {
    listener: f.platform.httpsListener,
    allocator: f.platform.allocator,
    hostHeaders: [HOST],
    targetGroup: f.targetGroup,
    ...props,
  });
}

/**
 * A rule factory on a stack with nothing but imports (literal listener, target group and allocator ARNs):
 * cheap, for the input checks. Each call uses a new stack, so a rule that threw leaves nothing behind.
 */
function bareRule(props: Partial<SharedAlbRuleProps>): SharedAlbRule {
  const stack = new Stack(new App(), 'Customer', { env: ENV });
  return new SharedAlbRule(stack, 'Rule', {
    listener: elbv2.ApplicationListener.fromApplicationListenerAttributes(stack, 'Listener', {
      listenerArn: LISTENER_ARN,
      securityGroup: ec2.SecurityGroup.fromSecurityGroupId(stack, 'AlbSecurityGroup', 'sg-0123456789abcdef0'),
    }),
    allocator: PriorityAllocator.fromServiceToken(stack, 'Allocator', ALLOCATOR_ARN),
    hostHeaders: [HOST],
    targetGroup: elbv2.ApplicationTargetGroup.fromTargetGroupAttributes(stack, 'TargetGroup', {
      targetGroupArn: TARGET_GROUP_ARN,
    }),
    ...props,
  });
}

/** A stack (env ENV) with a new VPC and a PriorityAllocator of its own. */
function allocatorStack(props: Partial<PriorityAllocatorProps> = {}) {
  const stack = new Stack(new App(), 'Allocator', { env: ENV });
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
  const allocator = new PriorityAllocator(stack, 'Allocator', { vpc, ...props });
  return { stack, vpc, allocator };
}

/** Logical id of a CloudFormation element, or of an L2's default child. */
function logicalIdOf(construct: IConstruct): string {
  const element = (CfnElement.isCfnElement(construct) ? construct : construct.node.defaultChild) as CfnElement;
  return Stack.of(element).resolve(element.logicalId);
}

/** The error `fn` throws (fails the test when it throws nothing). */
function errorOf(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error, but nothing was thrown');
}

/**
 * What a stack needs uploaded besides its own template (code bundles, container images), read from its asset
 * manifest. (`CloudFormationStackArtifact.assets` is always empty with the default synthesizer.)
 */
function uploadedAssets(assembly: cxapi.CloudAssembly, stackName: string): string[] {
  const stack = assembly.getStackByName(stackName);
  const manifests = stack.dependencies.filter(cxapi.AssetManifestArtifact.isAssetManifestArtifact);
  expect(manifests).toHaveLength(1);
  return manifests.flatMap((m) => [
    ...Object.values(m.contents.files ?? {})
      .map((file) => file.source.path ?? '')
      .filter((path) => path !== stack.templateFile),
    ...Object.keys(m.contents.dockerImages ?? {}),
  ]);
}

/** Properties of the template's one SharedAlbRule custom resource. */
function ruleProperties(template: Template): Record<string, any> {
  const resources = Object.values(template.findResources(RULE_TYPE));
  expect(resources).toHaveLength(1);
  return resources[0].Properties;
}

/** What the producing stack exports under the name that `{ 'Fn::ImportValue': name }` imports. */
function exportedValue(producer: Template, imported: unknown): unknown {
  const name = (imported as { 'Fn::ImportValue'?: unknown })['Fn::ImportValue'];
  expect(typeof name).toBe('string');
  const output = Object.values<any>(producer.toJSON().Outputs ?? {}).find((o) => o.Export?.Name === name);
  expect(output).toBeDefined();
  return output.Value;
}

/** An ARN built by formatArn (Fn::Join of strings and the partition) as text, `<partition>` standing in. */
function arnText(value: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as { 'Fn::Join'?: [string, unknown[]]; Ref?: string };
  if (v['Fn::Join']) return v['Fn::Join'][1].map(arnText).join(v['Fn::Join'][0]);
  if (v.Ref === 'AWS::Partition') return '<partition>';
  throw new Error(`not a literal ARN: ${JSON.stringify(value)}`);
}

interface Statement {
  readonly Effect: string;
  readonly Action?: string | string[];
  readonly NotAction?: unknown;
  readonly Resource?: unknown;
  readonly NotResource?: unknown;
  readonly Condition?: unknown;
}

/** Every statement of every policy attached to the role (inline policies of the role included). */
function roleStatements(template: Template, roleLogicalId: string): Statement[] {
  const statements: Statement[] = [];
  for (const policy of Object.values(template.findResources('AWS::IAM::Policy'))) {
    if ((policy.Properties.Roles ?? []).some((r: { Ref?: string }) => r.Ref === roleLogicalId)) {
      statements.push(...policy.Properties.PolicyDocument.Statement);
    }
  }
  const role = template.toJSON().Resources[roleLogicalId];
  for (const inline of role.Properties.Policies ?? []) statements.push(...inline.PolicyDocument.Statement);
  return statements;
}

const actionsOf = (statement: Statement): string[] => [statement.Action ?? []].flat();

/** The AWS SDK clients the handler uses, and the IAM service prefix of their commands. */
const IAM_SERVICE_OF_CLIENT: Record<string, string> = {
  'client-dynamodb': 'dynamodb',
  'client-elastic-load-balancing-v2': 'elasticloadbalancing',
};
const HANDLER_SOURCES = [
  'allocator.ts',
  'allocator-error.ts',
  'on-create.ts',
  'on-update.ts',
  'on-delete.ts',
  'request.ts',
  'rule-spec.ts',
  'state-table.ts',
  'listener-rules.ts',
  'api-calls.ts',
  'priority-allocator.lambda.ts',
  'cfn-response.ts',
];

/**
 * `service:Operation` of every AWS SDK command the handler sends (`new XCommand(...)`), read from its source,
 * so that a new call in the handler fails the least-privilege test until the role allows it.
 */
function handlerActions(): string[] {
  const actions = new Set<string>();
  for (const file of HANDLER_SOURCES) {
    const source = readFileSync(join(__dirname, '..', '..', 'src', 'shared-alb-rule', file), 'utf8');
    // Local name -> [client package, exported name], from `import { A, B as C } from '@aws-sdk/client-x'`.
    const imported = new Map<string, [string, string]>();
    for (const [, names, client] of source.matchAll(/import\s*(?:type\s*)?{([^}]*)}\s*from\s*'@aws-sdk\/([\w-]+)'/g)) {
      for (const name of names
        .split(',')
        .map((n) => n.trim())
        .filter(Boolean)) {
        const [original, local = original] = name.split(/\s+as\s+/);
        imported.set(local, [client, original]);
      }
    }
    for (const [, local] of source.matchAll(/new\s+(?:\w+\.)?(\w+Command)\b/g)) {
      const origin = imported.get(local);
      const service = origin && IAM_SERVICE_OF_CLIENT[origin[0]];
      if (!origin || !service) {
        throw new Error(`${file}: new ${local}(): not a command of a client this test maps to IAM; map it`);
      }
      actions.add(`${service}:${origin[1].replace(/Command$/, '')}`);
    }
  }
  return [...actions].sort();
}

// ---------------------------------------------------------------------------------------------------------------
// SharedAlbRule
// ---------------------------------------------------------------------------------------------------------------

describe('SharedAlbRule in a customer stack on a SharedPlatform', () => {
  // The custom resource is the whole rule: the allocator (in the platform stack) serves it.
  test('declares one allocator custom resource for the platform listener, allocator and the target group', () => {
    const f = customerOnPlatform();
    addRule(f);
    const customer = Template.fromStack(f.customer);
    const platform = Template.fromStack(f.platformStack);

    customer.resourceCountIs(RULE_TYPE, 1);
    const props = ruleProperties(customer);
    expect(exportedValue(platform, props.ServiceToken)).toEqual({
      'Fn::GetAtt': [logicalIdOf(f.platform.allocator.function), 'Arn'],
    });
    expect(Number(props.ServiceTimeout)).toBe(300);
    expect(exportedValue(platform, props.listenerArn)).toEqual({ Ref: logicalIdOf(f.platform.httpsListener) });
    expect(props.hosts).toEqual([HOST]);
    expect(props.targetGroupArn).toEqual({ Ref: logicalIdOf(f.targetGroup) });
    expect(props).toMatchObject({ ruleLimit: 100, minPriority: 1, maxPriority: 50000 });
    // Nothing the user did not ask for: no path condition, no extra tags.
    expect(props).not.toHaveProperty('pathPatterns');
    expect(props).not.toHaveProperty('tags');
  });

  // The promise of the construct: customer stacks hold no Lambda function and need no asset upload.
  test('the customer stack holds no Lambda function and no asset', () => {
    const f = customerOnPlatform();
    addRule(f, { certificates: [acm.Certificate.fromCertificateArn(f.customer, 'Cert', CUSTOMER_CERTIFICATE_ARN)] });
    Template.fromStack(f.customer).resourceCountIs('AWS::Lambda::Function', 0);
    const assembly = f.app.synth();
    expect(uploadedAssets(assembly, 'Customer')).toEqual([]);
    // The platform stack, by contrast, carries the code of its two functions: the allocator and the environment
    // resources function (the web tiers' image parameters).
    expect(uploadedAssets(assembly, 'Platform')).toHaveLength(2);
  });

  test('path patterns and tags are passed to the allocator when given', () => {
    const f = customerOnPlatform();
    addRule(f, { pathPatterns: ['/shop/*', '/cart'], tags: { team: 'web', 'cost-center': '42' } });
    const props = ruleProperties(Template.fromStack(f.customer));
    expect(props.pathPatterns).toEqual(['/shop/*', '/cart']);
    expect(props.tags).toEqual([
      { Key: 'team', Value: 'web' },
      { Key: 'cost-center', Value: '42' },
    ]);
  });

  test('custom ruleLimit, minPriority and maxPriority are passed to the allocator', () => {
    const f = customerOnPlatform();
    addRule(f, { ruleLimit: 250, minPriority: 1000, maxPriority: 1999 });
    expect(ruleProperties(Template.fromStack(f.customer))).toMatchObject({
      ruleLimit: 250,
      minPriority: 1000,
      maxPriority: 1999,
    });
  });

  // A customer's own domain: its certificate goes on the shared listener (SNI), from the customer stack, so
  // that it goes away with the customer.
  test('certificates are added to the shared listener by the customer stack', () => {
    const f = customerOnPlatform();
    addRule(f, { certificates: [acm.Certificate.fromCertificateArn(f.customer, 'Cert', CUSTOMER_CERTIFICATE_ARN)] });
    const customer = Template.fromStack(f.customer);
    const platform = Template.fromStack(f.platformStack);

    const certificates = Object.values(customer.findResources('AWS::ElasticLoadBalancingV2::ListenerCertificate'));
    expect(certificates).toHaveLength(1);
    const props = certificates[0].Properties;
    expect(props.Certificates).toEqual([{ CertificateArn: CUSTOMER_CERTIFICATE_ARN }]);
    expect(exportedValue(platform, props.ListenerArn)).toEqual({ Ref: logicalIdOf(f.platform.httpsListener) });
    platform.resourceCountIs('AWS::ElasticLoadBalancingV2::ListenerCertificate', 0);
  });

  test('no listener certificate without certificates', () => {
    const f = customerOnPlatform();
    addRule(f, { certificates: [] });
    Template.fromStack(f.customer).resourceCountIs('AWS::ElasticLoadBalancingV2::ListenerCertificate', 0);
    Template.fromStack(f.platformStack).resourceCountIs('AWS::ElasticLoadBalancingV2::ListenerCertificate', 0);
  });

  // Users read the allocated priority and the rule's ARN at deploy time (outputs, alarms, other resources).
  test('priority and ruleArn are the custom resource attributes Priority and RuleArn', () => {
    const f = customerOnPlatform();
    const rule = addRule(f);
    new CfnOutput(f.customer, 'Priority', { value: Token.asString(rule.priority) });
    new CfnOutput(f.customer, 'RuleArn', { value: rule.ruleArn });
    const outputs = Template.fromStack(f.customer).toJSON().Outputs;
    const id = logicalIdOf(rule.resource);
    expect(outputs.Priority.Value).toEqual({ 'Fn::GetAtt': [id, 'Priority'] });
    expect(outputs.RuleArn.Value).toEqual({ 'Fn::GetAtt': [id, 'RuleArn'] });
  });

  // registerListener: the target group behaves as if an aws-cdk-lib listener rule forwarded to it. Note that
  // aws-cdk-lib does not make an Auto Scaling group attached with attachToApplicationTargetGroup wait for
  // the rule (nor for an aws-cdk-lib ListenerRule); what waits is request-count scaling (and ECS services).
  test('the target group is registered with the listener: request-count scaling waits for the rule', () => {
    const f = customerOnPlatform();
    const rule = addRule(f);
    const securityGroup = new ec2.SecurityGroup(f.customer, 'InstanceSecurityGroup', { vpc: f.platform.vpc });
    const asg = new autoscaling.AutoScalingGroup(f.customer, 'Asg', {
      vpc: f.platform.vpc,
      launchTemplate: new ec2.LaunchTemplate(f.customer, 'LaunchTemplate', {
        machineImage: ec2.MachineImage.latestAmazonLinux2023(),
        instanceType: new ec2.InstanceType('t3.micro'),
        securityGroup,
      }),
    });
    asg.attachToApplicationTargetGroup(f.targetGroup);
    // Needs the load balancer of the target group (its name comes from the registered listener).
    asg.scaleOnRequestCount('Requests', { targetRequestsPerMinute: 600 });
    const customer = Template.fromStack(f.customer);
    const platform = Template.fromStack(f.platformStack);

    customer.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', {
      TargetGroupARNs: [{ Ref: logicalIdOf(f.targetGroup) }],
    });
    const policies = Object.values(customer.findResources('AWS::AutoScaling::ScalingPolicy'));
    expect(policies).toHaveLength(1);
    expect(policies[0].DependsOn).toContain(logicalIdOf(rule.resource));

    // The shared load balancer may reach the instances on the target port.
    const ingress = Object.values(customer.findResources('AWS::EC2::SecurityGroupIngress')).map((r) => r.Properties);
    const fromLoadBalancer = ingress.filter(
      (p) => JSON.stringify(p.GroupId) === JSON.stringify({ 'Fn::GetAtt': [logicalIdOf(securityGroup), 'GroupId'] }),
    );
    expect(fromLoadBalancer).toHaveLength(1);
    expect(fromLoadBalancer[0]).toMatchObject({ IpProtocol: 'tcp', FromPort: 80, ToPort: 80 });
    expect(exportedValue(platform, fromLoadBalancer[0].SourceSecurityGroupId)).toEqual({
      'Fn::GetAtt': [logicalIdOf(f.platform.loadBalancerSecurityGroup), 'GroupId'],
    });
  });
});

describe('SharedAlbRule input checks', () => {
  // Bad input fails at synth time, with a message naming the construct, the prop, the value and what is expected.
  const PREFIX = /^SharedAlbRule Customer\/Rule: /;

  test.each<[string, Partial<SharedAlbRuleProps>, RegExp]>([
    ['empty hostHeaders', { hostHeaders: [] }, /hostHeaders: received an empty list; expected 1 to 5 host names/],
    [
      'a host with a space',
      { hostHeaders: ['acme shop.example.com'] },
      /hostHeaders\[0\]: received "acme shop\.example\.com"; expected a host name such as acme\.apps\.example\.com/,
    ],
    [
      'a host with an underscore',
      { hostHeaders: ['ok.example.com', 'acme_shop.example.com'] },
      /hostHeaders\[1\]: received "acme_shop\.example\.com"; expected a host name .*letters, digits, -, \., \* and \?/,
    ],
    [
      'a host over 128 characters',
      { hostHeaders: [`${'a'.repeat(117)}.example.com`] },
      /hostHeaders\[0\]: received "a{117}\.example\.com"; expected a host name .*at most 128 characters/,
    ],
    [
      'the same host twice, in another case',
      { hostHeaders: ['Acme.example.com', 'acme.EXAMPLE.com'] },
      /hostHeaders: "acme\.EXAMPLE\.com" is listed twice; expected distinct values/,
    ],
    [
      '4 hosts and 2 paths (6 condition values)',
      { hostHeaders: ['a.example.com', 'b.example.com', 'c.example.com', 'd.example.com'], pathPatterns: ['/a', '/b'] },
      /hostHeaders and pathPatterns: received 4 host names and 2 path patterns \(6 condition values\); expected at most 5 in all/,
    ],
    [
      'a path not starting with /',
      { pathPatterns: ['shop/*'] },
      /pathPatterns\[0\]: received "shop\/\*"; expected a path pattern starting with \/ such as \/shop\/\*/,
    ],
    ['ruleLimit 0', { ruleLimit: 0 }, /ruleLimit: received 0; expected a whole number from 1 to \d+/],
    ['ruleLimit 1.5', { ruleLimit: 1.5 }, /ruleLimit: received 1\.5; expected a whole number from 1 to \d+/],
    ['minPriority 0', { minPriority: 0 }, /minPriority: received 0; expected a whole number from 1 to 50000/],
    [
      'maxPriority 50001',
      { maxPriority: 50001 },
      /maxPriority: received 50001; expected a whole number from 1 to 50000/,
    ],
    [
      'minPriority above maxPriority',
      { minPriority: 200, maxPriority: 100 },
      /minPriority 200 is above maxPriority 100; expected minPriority <= maxPriority/,
    ],
    [
      'a ruleLimit token',
      { ruleLimit: Token.asNumber(Fn.importValue('acme-rule-limit')) },
      /ruleLimit: received a token; expected a whole number from 1 to \d+ known at synth time/,
    ],
  ])('%s is refused', (_name, props, expected) => {
    const error = errorOf(() => bareRule(props));
    expect(error).toBeInstanceOf(Error);
    expect(error.message).toMatch(PREFIX);
    expect(error.message).toMatch(expected);
  });

  // A host name known only at deploy time (an import, a parameter) is left to the allocator.
  test('a token host header is accepted and passed through', () => {
    const rule = bareRule({ hostHeaders: [Fn.importValue('acme-host'), 'www.acme.example.com'] });
    expect(ruleProperties(Template.fromStack(Stack.of(rule))).hosts).toEqual([
      { 'Fn::ImportValue': 'acme-host' },
      'www.acme.example.com',
    ]);
  });

  test('the limits themselves are accepted', () => {
    const rule = bareRule({
      hostHeaders: ['a.example.com', 'b.example.com', '*.c.example.com', `${'a'.repeat(116)}.example.com`],
      pathPatterns: [`/${'p'.repeat(127)}`],
      ruleLimit: 1,
      minPriority: 50000,
      maxPriority: 50000,
    });
    expect(ruleProperties(Template.fromStack(Stack.of(rule)))).toMatchObject({ minPriority: 50000, ruleLimit: 1 });
  });

  // Inputs that would pass synth and fail the deployment: the handler refuses a ruleLimit above 50000, and ELB
  // refuses a host without a dot or with a non-letter after the last dot, and ()!,;= in a path pattern.
  test('ruleLimit above 50000 is refused at synth time (the allocator refuses it at deploy time)', () => {
    expect(() => bareRule({ ruleLimit: 50001 })).toThrow(
      /SharedAlbRule Customer\/Rule: ruleLimit: received 50001; expected a whole number from 1 to 50000/,
    );
  });

  test.each([
    ['a host without a dot', 'localhost'],
    ['a host with a digit after the last dot', 'acme.example.c0m'],
  ])('%s is refused at synth time (ELB refuses it)', (_name, host) => {
    expect(() => bareRule({ hostHeaders: [host] })).toThrow(
      new RegExp(`SharedAlbRule Customer/Rule: hostHeaders\\[0\\]: received "${host.replace(/\./g, '\\.')}"`),
    );
  });

  test('a path with a character ELB does not allow in paths is refused at synth time', () => {
    expect(() => bareRule({ pathPatterns: ['/shop(1)/*'] })).toThrow(
      /SharedAlbRule Customer\/Rule: pathPatterns\[0\]: received "\/shop\(1\)\/\*"/,
    );
  });
});

// ---------------------------------------------------------------------------------------------------------------
// PriorityAllocator
// ---------------------------------------------------------------------------------------------------------------

describe('PriorityAllocator', () => {
  test('one Lambda function on Node.js 24 in the VPC, reaching HTTPS only, bounded in time and concurrency', () => {
    const { stack, vpc, allocator } = allocatorStack();
    const template = Template.fromStack(stack);

    template.resourceCountIs('AWS::Lambda::Function', 1);
    const fn = Object.values(template.findResources('AWS::Lambda::Function'))[0].Properties;
    expect(fn).toMatchObject({
      Runtime: 'nodejs24.x',
      Timeout: 120,
      MemorySize: 256,
      Role: { 'Fn::GetAtt': [logicalIdOf(allocator.role), 'Arn'] },
    });
    // No reserved concurrency: accounts with the default quota of 10 refuse any reservation.
    expect(fn.ReservedConcurrentExecutions).toBeUndefined();
    expect(fn.Environment.Variables.STATE_TABLE_NAME).toEqual({ Ref: logicalIdOf(allocator.stateTable) });
    expect(fn.VpcConfig.SubnetIds).toEqual(vpc.privateSubnets.map((s) => stack.resolve(s.subnetId)));
    expect(fn.VpcConfig.SecurityGroupIds).toHaveLength(1);

    expect(fn.VpcConfig.SecurityGroupIds[0]).toEqual({ 'Fn::GetAtt': [expect.any(String), 'GroupId'] });
    const securityGroupLogicalId: string = fn.VpcConfig.SecurityGroupIds[0]['Fn::GetAtt'][0];
    const securityGroup = template.toJSON().Resources[securityGroupLogicalId];
    expect(securityGroup.Type).toBe('AWS::EC2::SecurityGroup');
    expect(securityGroup.Properties.SecurityGroupEgress).toEqual([
      expect.objectContaining({ CidrIp: '0.0.0.0/0', IpProtocol: 'tcp', FromPort: 443, ToPort: 443 }),
    ]);
    expect(securityGroup.Properties.SecurityGroupIngress).toBeUndefined();
    const extraRules = [
      ...Object.values(template.findResources('AWS::EC2::SecurityGroupEgress')),
      ...Object.values(template.findResources('AWS::EC2::SecurityGroupIngress')),
    ].filter((r) => JSON.stringify(r.Properties.GroupId).includes(securityGroupLogicalId));
    expect(extraRules).toEqual([]);
    expect(allocator.serviceToken).toBe(allocator.function.functionArn);
  });

  test('state table: pk/sk strings, on demand, point-in-time recovery, deleted with the stack by default', () => {
    const { stack } = allocatorStack();
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Delete',
      Properties: Match.objectLike({
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        AttributeDefinitions: Match.arrayEquals([
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
        ]),
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      }),
    });
    const table = Object.values(template.findResources('AWS::DynamoDB::Table'))[0];
    expect(table.Properties.DeletionProtectionEnabled ?? false).toBe(false);
  });

  test('retainState keeps and protects the state table', () => {
    const { stack } = allocatorStack({ retainState: true });
    Template.fromStack(stack).hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: Match.objectLike({ DeletionProtectionEnabled: true }),
    });
  });

  test('the function logs to its own log group, kept 365 days by default', () => {
    const { stack, allocator } = allocatorStack();
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Logs::LogGroup', 1);
    const [logGroupId] = Object.keys(
      template.findResources('AWS::Logs::LogGroup', { Properties: { RetentionInDays: 365 } }),
    );
    expect(logGroupId).toBeDefined();
    template.hasResourceProperties('AWS::Lambda::Function', { LoggingConfig: { LogGroup: { Ref: logGroupId } } });
    // Its role may write to that log group only.
    const logStatements = roleStatements(template, logicalIdOf(allocator.role)).filter((s) =>
      actionsOf(s).some((a) => a.startsWith('logs:')),
    );
    expect(logStatements).toEqual([expect.objectContaining({ Resource: { 'Fn::GetAtt': [logGroupId, 'Arn'] } })]);
  });

  test('logRetention sets the log retention', () => {
    const { stack } = allocatorStack({ logRetention: logs.RetentionDays.ONE_MONTH });
    Template.fromStack(stack).hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });

  test('encryptionKey encrypts the table and the logs; the role may use the key through DynamoDB only', () => {
    const stack = new Stack(new App(), 'Allocator', { env: ENV });
    const key = new kms.Key(stack, 'Key');
    const allocator = new PriorityAllocator(stack, 'Allocator', { vpc: new ec2.Vpc(stack, 'Vpc'), encryptionKey: key });
    const template = Template.fromStack(stack);
    const keyArn = { 'Fn::GetAtt': [logicalIdOf(key), 'Arn'] };

    template.hasResourceProperties('AWS::DynamoDB::Table', {
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: keyArn },
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { KmsKeyId: keyArn });
    const kmsStatements = roleStatements(template, logicalIdOf(allocator.role)).filter((s) =>
      actionsOf(s).some((a) => a.startsWith('kms:')),
    );
    // Through DynamoDB for the table, and through Lambda to decrypt the function's environment: nothing else.
    expect(kmsStatements).toHaveLength(2);
    expect(kmsStatements[0]).toMatchObject({
      Effect: 'Allow',
      Resource: keyArn,
      Condition: { StringEquals: { 'kms:ViaService': 'dynamodb.eu-west-1.amazonaws.com' } },
    });
    expect(kmsStatements[1]).toMatchObject({
      Effect: 'Allow',
      Action: 'kms:Decrypt',
      Resource: keyArn,
      Condition: { StringEquals: { 'kms:ViaService': 'lambda.eu-west-1.amazonaws.com' } },
    });
    expect(actionsOf(kmsStatements[0])).toEqual(expect.arrayContaining(['kms:Decrypt', 'kms:GenerateDataKey']));
  });

  test('without encryptionKey the role has no KMS permission', () => {
    const { stack, allocator } = allocatorStack();
    const statements = roleStatements(Template.fromStack(stack), logicalIdOf(allocator.role));
    expect(statements.flatMap(actionsOf).filter((a) => a.startsWith('kms:'))).toEqual([]);
  });

  test('parameterName publishes the function ARN in an SSM parameter', () => {
    const { stack, allocator } = allocatorStack({ parameterName: ALLOCATOR_PARAMETER });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::SSM::Parameter', 1);
    template.hasResourceProperties('AWS::SSM::Parameter', {
      Name: ALLOCATOR_PARAMETER,
      Type: 'String',
      Value: { 'Fn::GetAtt': [logicalIdOf(allocator.function), 'Arn'] },
    });
    expect(allocator.parameter).toBeDefined();
  });

  test('a schedule invokes the function with the sweep event every 15 minutes, without retries', () => {
    const { stack, allocator } = allocatorStack();
    const template = Template.fromStack(stack);
    const functionId = logicalIdOf(allocator.function);
    template.resourceCountIs('AWS::Events::Rule', 1);
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(15 minutes)',
      State: 'ENABLED',
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [functionId, 'Arn'] },
          Input: JSON.stringify({ action: 'sweep' }),
          RetryPolicy: { MaximumRetryAttempts: 0 },
        }),
      ],
    });
    // Only EventBridge, and only from this rule, may invoke the function that way.
    const ruleId = Object.keys(template.findResources('AWS::Events::Rule'))[0];
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      FunctionName: { 'Fn::GetAtt': [functionId, 'Arn'] },
      Principal: 'events.amazonaws.com',
      SourceArn: { 'Fn::GetAtt': [ruleId, 'Arn'] },
    });
  });

  test('nothing is published without parameterName', () => {
    const { stack, allocator } = allocatorStack();
    Template.fromStack(stack).resourceCountIs('AWS::SSM::Parameter', 0);
    expect(allocator.parameter).toBeUndefined();
  });
});

describe('PriorityAllocator least privilege', () => {
  /** A stack with an allocator serving one load balancer of its own. */
  function servingStack() {
    const stack = new Stack(new App(), 'Allocator', { env: ENV });
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
    const loadBalancer = new elbv2.ApplicationLoadBalancer(stack, 'LoadBalancer', { vpc, internetFacing: true });
    const allocator = new PriorityAllocator(stack, 'Allocator', { vpc, loadBalancers: [loadBalancer] });
    return { stack, loadBalancer, allocator };
  }

  test('the handler source sends ELB and DynamoDB commands (sanity check of the source scan)', () => {
    const actions = handlerActions();
    expect(actions).toEqual(expect.arrayContaining(['elasticloadbalancing:CreateRule', 'dynamodb:PutItem']));
  });

  // What the handler calls is allowed, nothing else of ELB and DynamoDB is, and no action is a wildcard.
  test('the role allows exactly the ELB and DynamoDB actions the handler sends, without wildcards', () => {
    const { stack, allocator } = servingStack();
    const template = Template.fromStack(stack);
    const roleId = logicalIdOf(allocator.role);
    const statements = roleStatements(template, roleId);
    // Managed policies would bring actions this test cannot see.
    expect(template.toJSON().Resources[roleId].Properties.ManagedPolicyArns).toBeUndefined();
    for (const statement of statements) {
      expect(statement).toMatchObject({ Effect: 'Allow' });
      expect(statement.NotAction).toBeUndefined();
      expect(statement.NotResource).toBeUndefined();
    }
    const allowed = new Set(statements.flatMap(actionsOf));
    const needed = handlerActions();

    expect(needed.filter((a) => !allowed.has(a))).toEqual([]);
    const extra = [...allowed].filter((a) => /^(elasticloadbalancing|dynamodb):/.test(a) && !needed.includes(a));
    expect(extra).toEqual([]);
    expect([...allowed].filter((a) => a.includes('*'))).toEqual([]);
  });

  // Rules of the served load balancer only: every ELB or DynamoDB action but DescribeRules and DescribeTags (which
  // have no resource-level permissions) is on a specific resource.
  test('only DescribeRules and DescribeTags are allowed on every resource', () => {
    const { stack, allocator } = servingStack();
    const statements = roleStatements(Template.fromStack(stack), logicalIdOf(allocator.role));
    const unscoped = statements
      .filter((s) => [s.Resource].flat().includes('*'))
      .flatMap(actionsOf)
      .filter((a) => /^(elasticloadbalancing|dynamodb):/.test(a));
    expect(unscoped).toEqual(['elasticloadbalancing:DescribeRules', 'elasticloadbalancing:DescribeTags']);
  });

  test('rule actions are on the listeners and rules of the served load balancer', () => {
    const { stack, loadBalancer, allocator } = servingStack();
    const statements = roleStatements(Template.fromStack(stack), logicalIdOf(allocator.role));
    const fullName = { 'Fn::GetAtt': [logicalIdOf(loadBalancer), 'LoadBalancerFullName'] };
    const arnOf = (kind: string) => ({
      'Fn::Join': [
        '',
        ['arn:', { Ref: 'AWS::Partition' }, `:elasticloadbalancing:eu-west-1:123456789012:${kind}/`, fullName, '/*'],
      ],
    });
    const listenerArn = arnOf('listener');
    const ruleArn = arnOf('listener-rule');
    expect(statements.filter((s) => actionsOf(s).includes('elasticloadbalancing:CreateRule'))).toEqual([
      expect.objectContaining({ Resource: listenerArn }),
    ]);
    for (const action of ['ModifyRule', 'DeleteRule', 'AddTags', 'RemoveTags']) {
      expect(statements.filter((s) => actionsOf(s).includes(`elasticloadbalancing:${action}`))).toEqual([
        expect.objectContaining({ Resource: ruleArn }),
      ]);
    }
  });
});

describe('PriorityAllocator.serveLoadBalancer', () => {
  const createRuleStatements = (stack: Stack, allocator: PriorityAllocator) =>
    roleStatements(Template.fromStack(stack), logicalIdOf(allocator.role)).filter((s) =>
      actionsOf(s).includes('elasticloadbalancing:CreateRule'),
    );

  test('serving the same load balancer again adds nothing', () => {
    const stack = new Stack(new App(), 'Allocator', { env: ENV });
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
    const loadBalancer = new elbv2.ApplicationLoadBalancer(stack, 'LoadBalancer', { vpc });
    const allocator = new PriorityAllocator(stack, 'Allocator', { vpc, loadBalancers: [loadBalancer] });
    allocator.serveLoadBalancer(loadBalancer);
    allocator.serveLoadBalancer(loadBalancer);
    expect(createRuleStatements(stack, allocator)).toHaveLength(1);
  });

  test('each load balancer served gets its own statements, and none is served by default', () => {
    const none = allocatorStack();
    expect(createRuleStatements(none.stack, none.allocator)).toHaveLength(0);
    const two = allocatorStack();
    two.allocator.serveLoadBalancer(new elbv2.ApplicationLoadBalancer(two.stack, 'One', { vpc: two.vpc }));
    two.allocator.serveLoadBalancer(new elbv2.ApplicationLoadBalancer(two.stack, 'Two', { vpc: two.vpc }));
    expect(createRuleStatements(two.stack, two.allocator)).toHaveLength(2);
  });

  // A load balancer of another app: the listener and rule ARNs are derived from its ARN.
  test('an imported load balancer: listeners and rules of app/shared/50dc6c495c0c9188 only, once', () => {
    const { stack, allocator } = allocatorStack();
    const loadBalancer = elbv2.ApplicationLoadBalancer.fromApplicationLoadBalancerAttributes(stack, 'Shared', {
      loadBalancerArn: IMPORTED_ALB_ARN,
      securityGroupId: 'sg-0123456789abcdef0',
    });
    allocator.serveLoadBalancer(loadBalancer);
    allocator.serveLoadBalancer(loadBalancer);
    const statements = roleStatements(Template.fromStack(stack), logicalIdOf(allocator.role));
    const resourcesOf = (action: string) =>
      statements.filter((s) => actionsOf(s).includes(`elasticloadbalancing:${action}`)).map((s) => arnText(s.Resource));

    expect(resourcesOf('CreateRule')).toEqual([
      'arn:<partition>:elasticloadbalancing:eu-west-1:123456789012:listener/app/shared/50dc6c495c0c9188/*',
    ]);
    for (const action of ['ModifyRule', 'DeleteRule', 'AddTags', 'RemoveTags']) {
      expect(resourcesOf(action)).toEqual([
        'arn:<partition>:elasticloadbalancing:eu-west-1:123456789012:listener-rule/app/shared/50dc6c495c0c9188/*',
      ]);
    }
  });
});

describe('PriorityAllocator imports', () => {
  test('fromServiceToken returns the given function ARN, which a rule uses as its ServiceToken', () => {
    const rule = bareRule({});
    expect(ruleProperties(Template.fromStack(Stack.of(rule))).ServiceToken).toBe(ALLOCATOR_ARN);
    const stack = new Stack(new App(), 'Customer', { env: ENV });
    expect(PriorityAllocator.fromServiceToken(stack, 'Allocator', ALLOCATOR_ARN).serviceToken).toBe(ALLOCATOR_ARN);
  });

  test('fromServiceToken refuses what is not a Lambda function ARN', () => {
    const stack = new Stack(new App(), 'Customer', { env: ENV });
    const error = errorOf(() => PriorityAllocator.fromServiceToken(stack, 'Allocator', 'not-an-arn'));
    expect(error.message).toMatch(
      /^PriorityAllocator\.fromServiceToken Customer\/Allocator: serviceToken: received "not-an-arn"; expected the ARN of the allocator function, arn:aws:lambda:REGION:ACCOUNT:function:NAME/,
    );
  });

  test('fromParameter reads the ARN from the SSM parameter at deploy time', () => {
    const stack = new Stack(new App(), 'Customer', { env: ENV });
    const allocator = PriorityAllocator.fromParameter(stack, 'Allocator', ALLOCATOR_PARAMETER);
    const ref = stack.resolve(allocator.serviceToken) as { Ref: string };
    expect(Object.keys(ref)).toEqual(['Ref']);
    const parameter = stack.node
      .findAll()
      .find((c): c is CfnParameter => c instanceof CfnParameter && stack.resolve(c.logicalId) === ref.Ref);
    expect(parameter).toMatchObject({ type: 'AWS::SSM::Parameter::Value<String>', default: ALLOCATOR_PARAMETER });
  });

  test('fromParameter refuses a parameter name that is not a path', () => {
    const stack = new Stack(new App(), 'Customer', { env: ENV });
    const error = errorOf(() => PriorityAllocator.fromParameter(stack, 'Allocator', 'no-leading-slash'));
    expect(error.message).toMatch(
      /^PriorityAllocator\.fromParameter Customer\/Allocator: parameterName: received "no-leading-slash"; expected an SSM parameter path such as \/vending\/acme\/priority-allocator-arn/,
    );
  });

  // A customer app deployed apart from the platform app: everything comes from SSM at deploy time.
  test('a rule in another app, with no platform stack, uses the published allocator', () => {
    expect(SharedPlatform.allocatorParameterName('acme')).toBe(ALLOCATOR_PARAMETER);
    const stack = new Stack(new App(), 'Website', { env: ENV });
    const listener = elbv2.ApplicationListener.fromApplicationListenerAttributes(stack, 'Listener', {
      listenerArn: ssm.StringParameter.valueForStringParameter(stack, SharedPlatform.listenerParameterName('acme')),
      securityGroup: ec2.SecurityGroup.fromSecurityGroupId(stack, 'AlbSecurityGroup', 'sg-0123456789abcdef0'),
    });
    const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
      vpcId: 'vpc-0123456789abcdef0',
      availabilityZones: ['eu-west-1a', 'eu-west-1b'],
    });
    new SharedAlbRule(stack, 'Rule', {
      listener,
      allocator: PriorityAllocator.fromParameter(stack, 'Allocator', ALLOCATOR_PARAMETER),
      hostHeaders: [HOST],
      targetGroup: new elbv2.ApplicationTargetGroup(stack, 'TargetGroup', { vpc, port: 80 }),
    });
    const template = Template.fromStack(stack);
    const props = ruleProperties(template);

    expect(Object.keys(props.ServiceToken)).toEqual(['Ref']);
    expect(template.toJSON().Parameters[props.ServiceToken.Ref]).toEqual(
      expect.objectContaining({ Type: 'AWS::SSM::Parameter::Value<String>', Default: ALLOCATOR_PARAMETER }),
    );
    expect(JSON.stringify(template.toJSON())).not.toContain('Fn::ImportValue');
    template.resourceCountIs('AWS::Lambda::Function', 0);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Compliance (cdk-nag, Control Tower rules, aws-cdk-lib validation, cfn-lint): one call, about 15 s
// ---------------------------------------------------------------------------------------------------------------

describe('compliance', () => {
  test('a production platform and a customer stack with a rule and a certificate are compliant', () => {
    const f = customerOnPlatform(newTestApp(), true);
    addRule(f, {
      pathPatterns: ['/shop/*'],
      certificates: [acm.Certificate.fromCertificateArn(f.customer, 'Cert', CUSTOMER_CERTIFICATE_ARN)],
      tags: { team: 'web' },
    });
    // Throws a report of every finding.
    expectCompliant([f.platformStack, f.customer]);
  }, 120_000);
});
