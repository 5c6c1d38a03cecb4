/*
 * CustomerEnvironment and VendingFleet: a fleet directory becomes one platform stack and one stack per customer
 * environment, each named as CDK users expect, wired together without logic of their own.
 */
import { join } from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { ConfigLoader, CustomerConfig, CustomerEnvironment, VendingFleet } from '../../src';
import { toStructKeys } from '../../src/config/keys';
import { stagingCustomer } from '../config/fixtures';
import { logicalId } from '../web-tier/fixture';

const FLEET = join(__dirname, '..', '..', 'examples', 'fleet');

describe('VendingFleet.fromDirectory', () => {
  const app = new App();
  const fleet = VendingFleet.fromDirectory(app, FLEET);
  const assembly = app.synth();

  test('one platform stack and one stack per customer file, top-level and named as CDK users expect', () => {
    expect(assembly.stacks.map((s) => s.stackName).sort()).toEqual([
      'acme-production',
      'acme-staging',
      'globex-production',
      'hooli-staging',
      'initech-production',
      'piedpiper-development',
      'vending-platform',
    ]);
    for (const stack of [fleet.platformStack, ...fleet.environments]) expect(stack.node.scope).toBe(app);
    expect(fleet.environments.map((e) => `${e.customer}-${e.environmentName}`)).toEqual(
      ConfigLoader.loadFleet(FLEET).customers.map((c) => `${c.customer}-${c.environment}`),
    );
  });

  test("every customer stack is in the platform's account and region and depends on the platform stack", () => {
    for (const environment of fleet.environments) {
      expect(environment.account).toBe('123456789012');
      expect(environment.region).toBe('eu-west-1');
      const artifact = assembly.getStackByName(environment.stackName);
      expect(artifact.dependencies.map((d) => d.id)).toContain('vending-platform');
    }
  });

  test('production stacks are protected from deletion; the description names customer, environment and host', () => {
    const acme = fleet.environments.find((e) => e.stackName === 'acme-production')!;
    expect(acme.terminationProtection).toBe(true);
    expect(acme.templateOptions.description).toBe(
      'cdk-paas-vending: acme production (www.acme.com): web tier, AMI pipeline and software pipeline',
    );
    const staging = fleet.environments.find((e) => e.stackName === 'acme-staging')!;
    expect(staging.terminationProtection).toBe(false);
    expect(staging.templateOptions.description).toContain('(acme-staging.apps.example.com)');
  });

  test('customer stacks hold no Lambda function and no container image: nothing is bundled per customer', () => {
    for (const environment of fleet.environments) {
      const artifact = assembly.getStackByName(environment.stackName);
      const types = Object.values(artifact.template.Resources as Record<string, { Type: string }>).map((r) => r.Type);
      expect(types.filter((t) => t.startsWith('AWS::Lambda::') || t === 'Custom::AWS')).toEqual([]);
      const manifest = assembly.tryGetArtifact(`${environment.stackName}.assets`) as cxapi.AssetManifestArtifact;
      expect(Object.keys(manifest.contents.dockerImages ?? {})).toEqual([]);
      // Files: the template itself, and the rendered Packer template with its scripts (a directory, zipped).
      const files = Object.values(manifest.contents.files ?? {}).map((f) => f.source.packaging ?? 'file');
      expect(files.sort()).toEqual(['file', 'zip']);
    }
  });

  test('the pipelines act on the web tier of their own environment', () => {
    const acme = fleet.environments.find((e) => e.stackName === 'acme-production')!;
    expect(acme.amiPipeline.amiParameter).toBe(acme.webTier.amiParameter);
    const template = Template.fromStack(acme);
    const [, group] = Object.entries(template.findResources('AWS::CodeDeploy::DeploymentGroup'))[0];
    expect(group.Properties.AutoScalingGroups).toEqual([{ Ref: logicalId(acme.webTier.autoScalingGroup) }]);
    expect(acme.amiPipeline.approvalTopic).toBeDefined();
    expect(acme.deliveryPipeline.approvalTopic).toBeDefined();
    const staging = fleet.environments.find((e) => e.stackName === 'acme-staging')!;
    expect(staging.amiPipeline.approvalTopic).toBeUndefined();
    expect(staging.deliveryPipeline.approvalTopic).toBeUndefined();
  });
});

describe('CustomerEnvironment', () => {
  test('refuses an invalid config with the config error', () => {
    const app = new App();
    const fleet = VendingFleet.fromDirectory(app, FLEET);
    const bad = toStructKeys({ ...stagingCustomer(), customer: 'Acme Inc' }) as CustomerConfig;
    expect(() => new CustomerEnvironment(app, 'bad', { config: bad, platform: fleet.platform })).toThrow(
      /customer: received "Acme Inc"/,
    );
  });

  test('takes the stack props it is given', () => {
    const app = new App();
    const fleet = VendingFleet.fromDirectory(app, FLEET);
    const config = ConfigLoader.validateCustomer(toStructKeys(stagingCustomer()) as CustomerConfig);
    const environment = new CustomerEnvironment(app, 'custom', {
      config: { ...config, customer: 'zeta' },
      platform: fleet.platform,
      stackName: 'zeta-staging-blue',
    });
    expect(environment.stackName).toBe('zeta-staging-blue');
    expect(Stack.of(environment.webTier)).toBe(environment);
  });
});

describe('fleet size', () => {
  test('more environments than a shared load balancer holds fail with a clear message', () => {
    const fleet = ConfigLoader.loadFleet(FLEET);
    const staging = fleet.customers.find((c) => c.customer === 'acme' && c.environment === 'staging')!;
    const many = Array.from({ length: 101 }, (_, i) => ({
      ...staging,
      customer: `customer${i}`,
      hostname: `customer${i}.apps.example.com`,
    }));
    expect(() => new VendingFleet(new App(), { ...fleet, customers: many })).toThrow(
      /received 101 environments on the shared load balancer; expected at most 100/,
    );
  });
});
