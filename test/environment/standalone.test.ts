/*
 * A customer environment stands on its own: it reads the platform through the platform's published contract (SSM
 * parameters under /vending/<platform>/v1/), holds no Fn::ImportValue, and is the same template whether the whole
 * fleet is built, one stack is selected, or it lives in an app of its own.
 */
import { readFileSync } from 'fs';
import { join } from 'path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { Construct } from 'constructs';
import {
  ConfigLoader,
  CustomerEnvironment,
  CustomerWebTier,
  PlatformContract,
  PlatformReference,
  SharedPlatform,
  VendingFleet,
} from '../../src';
import { platformStack } from '../support/platform-fixture';

const FLEET = join(__dirname, '..', '..', 'examples', 'fleet');
const README = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf-8');

/** Every value of `key` anywhere in a JSON value. */
function valuesOf(value: unknown, key: string): unknown[] {
  const found: unknown[] = [];
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) {
      v.forEach(visit);
    } else if (v && typeof v === 'object') {
      for (const [k, inner] of Object.entries(v)) {
        if (k === key) found.push(inner);
        visit(inner);
      }
    }
  };
  visit(value);
  return found;
}

function synthFleet(options: { stacks?: string[]; context?: Record<string, unknown> } = {}): cxapi.CloudAssembly {
  const app = new App({ context: options.context });
  VendingFleet.fromDirectory(app, FLEET, {
    frozenPlacement: true,
    ...(options.stacks ? { stacks: options.stacks } : {}),
  });
  return app.synth();
}

describe('the example fleet through the platform contract', () => {
  const assembly = synthFleet();
  // The customer stacks: neither the platform's nor the fleet pipeline's (test/fleet-pipeline holds that one's).
  const customers = assembly.stacks.filter(
    (s) => s.stackName !== 'vending-platform' && s.stackName !== 'vending-fleet-pipeline',
  );
  const platform = assembly.getStackByName('vending-platform');
  const published = new Map<string, { type: string; value: unknown }>(
    Object.values(platform.template.Resources as Record<string, any>)
      .filter((r) => r.Type === 'AWS::SSM::Parameter')
      .map((r) => [r.Properties.Name, { type: r.Properties.Type, value: r.Properties.Value }]),
  );

  test('no customer template imports an export, and the platform exports nothing', () => {
    expect(customers).toHaveLength(6);
    for (const stack of customers) {
      expect([stack.stackName, valuesOf(stack.template, 'Fn::ImportValue')]).toEqual([stack.stackName, []]);
    }
    const exports = Object.values(platform.template.Outputs ?? {}).filter((o: any) => o.Export);
    expect(exports).toEqual([]);
  });

  test('no stack carries the cross-stack-reference warning (or any other warning)', () => {
    for (const stack of assembly.stacks) {
      const warnings = stack.messages.filter((m) => m.level === 'warning').map((m) => String(m.entry.data));
      expect([stack.stackName, warnings]).toEqual([stack.stackName, []]);
    }
  });

  test('every customer stack still depends on the platform stack, so cdk deploy --all deploys it first', () => {
    for (const stack of customers) {
      expect([stack.stackName, stack.dependencies.map((d) => d.id)]).toEqual([
        stack.stackName,
        expect.arrayContaining(['vending-platform']),
      ]);
    }
  });

  test('every parameter a customer template reads is one the platform publishes, of the same kind', () => {
    let read = 0;
    for (const stack of customers) {
      for (const [id, parameter] of Object.entries(stack.template.Parameters as Record<string, any>)) {
        if (id === 'BootstrapVersion') continue;
        read += 1;
        const name: string = parameter.Default;
        expect([stack.stackName, id, name.startsWith(`${PlatformContract.prefix('vending')}/`)]).toEqual([
          stack.stackName,
          id,
          true,
        ]);
        const list = parameter.Type === 'AWS::SSM::Parameter::Value<List<String>>';
        expect([stack.stackName, id, published.get(name)?.type]).toEqual([
          stack.stackName,
          id,
          list ? 'StringList' : 'String',
        ]);
      }
    }
    expect(read).toBeGreaterThan(30);
  });

  test('a template holds only the parameters it uses: a shared environment reads no public subnets', () => {
    for (const stack of customers) {
      const body = JSON.stringify(stack.template.Resources) + JSON.stringify(stack.template.Outputs ?? {});
      for (const id of Object.keys(stack.template.Parameters as object)) {
        if (id === 'BootstrapVersion') continue;
        expect([stack.stackName, id, body.includes(`{"Ref":"${id}"}`)]).toEqual([stack.stackName, id, true]);
      }
    }
    const staging = assembly.getStackByName('acme-staging').template.Parameters;
    expect(Object.keys(staging)).not.toContain('PlatformPublicSubnetIds');
    const production = assembly.getStackByName('acme-production').template.Parameters;
    expect(Object.keys(production)).toContain('PlatformPublicSubnetIds');
    expect(Object.keys(production).filter((id) => id.startsWith('PlatformLoadBalancer'))).toEqual([]);
  });

  test("customers' databases and log groups are encrypted with the platform key, read from the contract", () => {
    let checked = 0;
    for (const stack of customers) {
      const parameters = stack.template.Parameters as Record<string, any>;
      for (const resource of Object.values(stack.template.Resources as Record<string, any>)) {
        if (!['AWS::RDS::DBInstance', 'AWS::RDS::DBCluster', 'AWS::Logs::LogGroup'].includes(resource.Type)) continue;
        // An Aurora instance is encrypted by its cluster.
        if (resource.Properties.DBClusterIdentifier) continue;
        checked += 1;
        const ref = resource.Properties.KmsKeyId?.Ref;
        expect([stack.stackName, resource.Type, parameters[ref]?.Default]).toEqual([
          stack.stackName,
          resource.Type,
          PlatformContract.keyArnParameter('vending'),
        ]);
      }
    }
    expect(checked).toBeGreaterThan(6);
    expect(published.get(PlatformContract.keyArnParameter('vending'))?.value).toEqual({
      'Fn::GetAtt': [expect.stringMatching(/^PlatformKey[0-9A-F]{8}$/), 'Arn'],
    });
  });

  test("the allocator's service token is a fixed ARN: no parameter or platform resource can change it", () => {
    const fn = Object.values(platform.template.Resources as Record<string, any>).find(
      (r) => r.Type === 'AWS::Lambda::Function' && r.Properties.FunctionName === 'vending-rule-priority-allocator',
    );
    expect(fn).toBeDefined();
    const arn = {
      'Fn::Join': [
        '',
        ['arn:', { Ref: 'AWS::Partition' }, ':lambda:eu-west-1:123456789012:function:vending-rule-priority-allocator'],
      ],
    };
    expect(published.get(PlatformContract.allocatorServiceTokenParameter('vending'))?.value).toEqual(arn);
    const shared = customers.filter((s) => JSON.stringify(s.template).includes('Custom::SharedAlbRulePriority'));
    expect(shared.length).toBe(4);
    for (const stack of shared) {
      const tokens = valuesOf(stack.template, 'ServiceToken').filter((t) => JSON.stringify(t).includes('allocator'));
      expect([stack.stackName, tokens]).toEqual([stack.stackName, [arn]]);
    }
  });

  test("the environment-resources function's service token is a fixed ARN too, in every customer stack", () => {
    const fn = Object.values(platform.template.Resources as Record<string, any>).find(
      (r) => r.Type === 'AWS::Lambda::Function' && r.Properties.FunctionName === 'vending-environment-resources',
    );
    expect(fn).toBeDefined();
    const arn = {
      'Fn::Join': [
        '',
        ['arn:', { Ref: 'AWS::Partition' }, ':lambda:eu-west-1:123456789012:function:vending-environment-resources'],
      ],
    };
    expect(published.get(PlatformContract.environmentResourcesServiceTokenParameter('vending'))?.value).toEqual(arn);
    expect(customers.length).toBe(6);
    for (const stack of customers) {
      const tokens = valuesOf(stack.template, 'ServiceToken').filter((t) => !JSON.stringify(t).includes('allocator'));
      // The image parameter's, and outside production the data bucket's cleanup: the same fixed ARN.
      const production = stack.stackName.endsWith('-production');
      expect([stack.stackName, tokens]).toEqual([stack.stackName, production ? [arn] : [arn, arn]]);
      // No function of its own: the custom resource is served by the platform's.
      const types = Object.values(stack.template.Resources as Record<string, any>).map((r) => r.Type);
      expect(types).not.toContain('AWS::Lambda::Function');
    }
  });

  test('the platform can change without changing the token: more load balancers, another log retention', () => {
    const app = new App();
    const stack = new Stack(app, 'Changed', { env: { account: '123456789012', region: 'eu-west-1' } });
    const config = ConfigLoader.loadPlatformFile(join(FLEET, 'platform.yaml'));
    SharedPlatform.fromConfig(stack, 'Platform', config, { sharedLoadBalancers: 3, logRetention: Duration.days(90) });
    const functions = Template.fromStack(stack).findResources('AWS::Lambda::Function');
    expect(Object.values(functions).map((f) => f.Properties.FunctionName)).toContain(
      PlatformContract.allocatorFunctionName('vending'),
    );
  });

  test('one stack alone (stacks option) is the same template as in the whole fleet, and builds nothing else', () => {
    const alone = synthFleet({ stacks: ['acme-staging', 'acme-production'] });
    expect(alone.stacks.map((s) => s.stackName).sort()).toEqual(['acme-production', 'acme-staging']);
    for (const name of ['acme-staging', 'acme-production']) {
      expect(alone.getStackByName(name).template).toEqual(assembly.getStackByName(name).template);
    }
    // With the platform's stack left out, no dependency points at a stack that is not there.
    expect(alone.getStackByName('acme-staging').dependencies.map((d) => d.id)).not.toContain('vending-platform');
  });

  test('the context key vending:stacks selects as the CDK CLI passes it (cdk deploy -c vending:stacks=...)', () => {
    const alone = synthFleet({ context: { [VendingFleet.STACKS_CONTEXT_KEY]: 'hooli-staging, vending-platform' } });
    expect(alone.stacks.map((s) => s.stackName).sort()).toEqual(['hooli-staging', 'vending-platform']);
    expect(alone.getStackByName('hooli-staging').template).toEqual(assembly.getStackByName('hooli-staging').template);
    expect(alone.getStackByName('vending-platform').template).toEqual(platform.template);
  });

  test('a selection of unknown stacks fails and names the fleet', () => {
    expect(() => synthFleet({ stacks: ['acme-prod'] })).toThrow(
      /stacks: received \["acme-prod"\]; expected only stack names of the fleet \(unknown: acme-prod; known: vending-platform, acme-production,/,
    );
    expect(() => synthFleet({ context: { 'vending:stacks': ' , ' } })).toThrow(
      /context vending:stacks: received \[\]; expected at least one stack names? of the fleet/,
    );
  });

  test('a customer environment in an app of its own, from platform.yaml and one customer file, is the same template', () => {
    const app = new App();
    const platformConfig = ConfigLoader.loadPlatformFile(join(FLEET, 'platform.yaml'));
    for (const name of ['acme-production', 'globex-production']) {
      const config = ConfigLoader.loadCustomerFile(join(FLEET, 'customers', `${name}.yaml`), {
        platform: platformConfig,
      });
      new CustomerEnvironment(app, name, { config, platform: PlatformReference.fromConfig(platformConfig) });
    }
    const own = app.synth();
    for (const name of ['acme-production', 'globex-production']) {
      expect(own.getStackByName(name).template).toEqual(assembly.getStackByName(name).template);
    }
  });

  test("README's contract table lists every parameter the platform publishes under the contract's prefix", () => {
    const prefix = PlatformContract.prefix('vending');
    const names = [...published.keys()]
      .filter((name) => name.startsWith(`${prefix}/`))
      .map((name) =>
        name.slice(prefix.length).replace(/\/shared-load-balancers\/\d+\//, '/shared-load-balancers/<n>/'),
      );
    const section = README.slice(README.indexOf('### The platform contract'));
    const documented = [...section.slice(0, section.indexOf('\n## ')).matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual([...new Set(names)].sort());
  });
});

describe('PlatformReference', () => {
  const ENV = { account: '123456789012', region: 'eu-west-1' };
  const customer = (name: string) =>
    ConfigLoader.loadCustomerFile(join(FLEET, 'customers', `${name}.yaml`), {
      platform: ConfigLoader.loadPlatformFile(join(FLEET, 'platform.yaml')),
    });
  const attributes = {
    platformName: 'other',
    account: ENV.account,
    region: ENV.region,
    domain: 'apps.example.com',
    vpcId: 'vpc-0123456789abcdef0',
    availabilityZones: ['eu-west-1a', 'eu-west-1b'],
    publicSubnetIds: ['subnet-0000000000000000a', 'subnet-0000000000000000b'],
    privateSubnetIds: ['subnet-0000000000000001a', 'subnet-0000000000000001b'],
    isolatedSubnetIds: ['subnet-0000000000000002a', 'subnet-0000000000000002b'],
    keyArn: 'arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555',
    artifactsBucketName: 'other-artifacts',
    logsBucketName: 'other-logs',
    allocatorServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:other-allocator',
    sharedLoadBalancers: [
      {
        loadBalancerArn: 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/other/0123456789abcdef',
        dnsName: 'other-123.eu-west-1.elb.amazonaws.com',
        canonicalHostedZoneId: 'Z32O12XQLNTSW2',
        securityGroupId: 'sg-0123456789abcdef0',
        httpsListenerArn:
          'arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/other/0123456789abcdef/0123456789abcdef',
      },
    ],
  };

  test('fromAttributes: a platform deployed another way, by its ids, with no parameter and no import', () => {
    const app = new App();
    const env = new CustomerEnvironment(app, 'acme-staging', {
      config: customer('acme-staging'),
      platform: PlatformReference.fromAttributes(attributes),
    });
    const template = Template.fromStack(env).toJSON();
    expect(Object.keys(template.Parameters)).toEqual(['BootstrapVersion']);
    const text = JSON.stringify(template);
    for (const id of [attributes.vpcId, attributes.privateSubnetIds[1], attributes.keyArn, 'sg-0123456789abcdef0']) {
      expect(text).toContain(id);
    }
    expect(valuesOf(template, 'ServiceToken')).toEqual([attributes.allocatorServiceToken]);
    expect(env.account).toBe(ENV.account);
  });

  test("fromAttributes: the platform's service roles by ARN, used instead of the environment's own roles", () => {
    const roles = {
      databaseMonitoringRoleArn: 'arn:aws:iam::123456789012:role/other-rds-monitoring',
      deploymentRoleArn: 'arn:aws:iam::123456789012:role/other-codedeploy',
      pipelineEventsRoleArn: 'arn:aws:iam::123456789012:role/other-pipeline-events',
    };
    const roleIds = (platform: PlatformReference) => {
      const env = new CustomerEnvironment(new App(), 'acme-staging', { config: customer('acme-staging'), platform });
      const template = Template.fromStack(env).toJSON();
      return {
        template,
        roles: Object.keys(template.Resources)
          .filter((id) => template.Resources[id].Type === 'AWS::IAM::Role')
          .map((id) => id.replace(/[0-9A-F]{8}$/, '')),
      };
    };
    const own = roleIds(PlatformReference.fromAttributes(attributes)).roles;
    expect(own).toEqual(
      expect.arrayContaining(['WebDatabaseMonitoringRole', 'DeliveryDeploymentGroupRole', 'AmiPipelineEventsRole']),
    );
    const { template, roles: shared } = roleIds(PlatformReference.fromAttributes({ ...attributes, ...roles }));
    expect(shared).toHaveLength(6);
    expect(own.filter((id) => !shared.includes(id)).sort()).toEqual(
      ['AmiPipelineEventsRole', 'DeliveryDeploymentGroupRole', 'WebDatabaseMonitoringRole'].sort(),
    );
    const text = JSON.stringify(template);
    for (const arn of Object.values(roles)) expect(text).toContain(arn);
  });

  test('fromAttributes refuses what it cannot build, naming the field', () => {
    expect(() =>
      PlatformReference.fromAttributes({ ...attributes, privateSubnetIds: ['subnet-0000000000000001a'] }),
    ).toThrow(/privateSubnetIds: received 1 subnet ids; expected 2, one per Availability Zone/);
    const app = new App();
    const noAllocator = PlatformReference.fromAttributes({ ...attributes, allocatorServiceToken: undefined });
    expect(
      () => new CustomerEnvironment(app, 'acme-staging', { config: customer('acme-staging'), platform: noAllocator }),
    ).toThrow(/allocatorServiceToken: received nothing; expected the service token/);
    const oneLoadBalancer = PlatformReference.fromAttributes(attributes).bind(new Stack(new App(), 'S', { env: ENV }));
    expect(() => oneLoadBalancer.sharedLoadBalancer(2)).toThrow(
      /shared load balancer: received 2; expected a number from 1 to 1 \(the attributes' sharedLoadBalancers\)/,
    );
  });

  test('bound twice in one stack it is one platform; in its own stack sharedPlatform.reference is the platform', () => {
    const app = new App();
    const { stack, platform } = platformStack(app);
    expect(platform.reference.bind(stack)).toBe(platform);
    const customerStack = new Stack(app, 'Customer', { env: ENV });
    const bound = platform.reference.bind(customerStack);
    expect(bound).not.toBe(platform);
    expect(platform.reference.bind(new Construct(customerStack, 'Deeper'))).toBe(bound);
    expect(customerStack.dependencies.map((d) => d.node.id)).toEqual(['Platform']);
  });

  test('a platform that publishes no contract cannot be reached from another stack, and says so', () => {
    const app = new App();
    const { platform } = platformStack(app, { publishParameters: false });
    expect(() => platform.reference.bind(new Stack(app, 'Customer', { env: ENV }))).toThrow(
      /the platform publishes no contract \(publishParameters: false\)/,
    );
  });

  test('fromConfig refuses an invalid platform config with the config error', () => {
    const config = ConfigLoader.loadPlatformFile(join(FLEET, 'platform.yaml'));
    expect(() => PlatformReference.fromConfig({ ...config, region: 'moon-1' })).toThrow(/region/);
    expect(() => PlatformReference.fromConfig(config, { availabilityZoneCount: 1 })).toThrow(
      /availabilityZoneCount: received 1; expected a whole number from 2 to 6/,
    );
  });

  test('the L3s take any ISharedPlatform: a web tier on a bound reference reads the contract', () => {
    const app = new App();
    const stack = new Stack(app, 'Web', { env: ENV });
    const config = ConfigLoader.loadPlatformFile(join(FLEET, 'platform.yaml'));
    const platform = PlatformReference.fromConfig(config).bind(stack);
    CustomerWebTier.fromConfig(stack, 'Web', customer('acme-staging'), platform);
    const template = Template.fromStack(stack).toJSON();
    expect(template.Parameters.PlatformVpcId.Default).toBe(PlatformContract.vpcIdParameter('vending'));
    expect(valuesOf(template, 'Fn::ImportValue')).toEqual([]);
  });
});
