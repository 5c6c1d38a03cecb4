/*
 * CustomerEnvironment and VendingFleet: a fleet directory becomes one platform stack and one stack per customer
 * environment, each named as CDK users expect, wired together without logic of their own.
 */
import { join } from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { Construct } from 'constructs';
import { ConfigLoader, CustomerConfig, CustomerEnvironment, PlatformContract, VendingFleet } from '../../src';
import { toStructKeys } from '../../src/config/keys';
import { stagingCustomer } from '../config/fixtures';
import { logicalId } from '../web-tier/fixture';

const FLEET = join(__dirname, '..', '..', 'examples', 'fleet');

describe('VendingFleet.fromDirectory', () => {
  const app = new App();
  const fleet = VendingFleet.fromDirectory(app, FLEET);
  const assembly = app.synth();

  test("one platform stack and one stack per customer file (and the fleet pipeline's), top-level and named as CDK users expect", () => {
    expect(assembly.stacks.map((s) => s.stackName).sort()).toEqual([
      'acme-production',
      'acme-staging',
      'globex-production',
      'hooli-staging',
      'initech-production',
      'piedpiper-development',
      'vending-fleet-pipeline',
      'vending-platform',
    ]);
    for (const stack of [fleet.platformStack!, ...fleet.environments]) expect(stack.node.scope).toBe(app);
    expect(fleet.environments.map((e) => `${e.customer}-${e.environmentName}`)).toEqual(
      ConfigLoader.loadFleet(FLEET).customers.map((c) => `${c.customer}-${c.environment}`),
    );
  });

  test('the zones named in platform.yaml: nothing for the CDK CLI to look up, no placeholder', () => {
    expect(assembly.manifest.missing ?? []).toEqual([]);
    const subnets = Object.values(assembly.getStackByName('vending-platform').template.Resources as Record<string, any>)
      .filter((r) => r.Type === 'AWS::EC2::Subnet')
      .map((r) => r.Properties.AvailabilityZone);
    expect([...new Set(subnets)].sort()).toEqual(['eu-west-1a', 'eu-west-1b', 'eu-west-1c']);
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
      // Files: the template itself, and the rendered Packer template with its scripts (one zip archive, as it is).
      const files = Object.values(manifest.contents.files ?? {}).map((f) => [
        f.source.packaging ?? 'file',
        f.source.path,
      ]);
      expect(files).toHaveLength(2);
      expect(files).toContainEqual(['file', `${environment.stackName}.template.json`]);
      expect(files).toContainEqual(['file', expect.stringMatching(/^asset\.[0-9a-f]{64}\.zip$/)]);
    }
  });

  test('the pipelines act on the web tier of their own environment', () => {
    const acme = fleet.environments.find((e) => e.stackName === 'acme-production')!;
    expect(acme.amiPipeline.amiParameter).toBe(acme.webTier.amiParameter);
    const template = Template.fromStack(acme);
    const [, group] = Object.entries(template.findResources('AWS::CodeDeploy::DeploymentGroup'))[0];
    expect(group.Properties.AutoScalingGroups).toEqual([{ Ref: logicalId(acme.webTier.autoScalingGroup) }]);
    // A new image is rolled out only while no software deployment of this group is in progress.
    const [, machine] = Object.entries(template.findResources('AWS::StepFunctions::StateMachine'))[0];
    const definition = JSON.stringify(machine.Properties.DefinitionString);
    expect(definition).toContain('codedeploy:listDeployments');
    expect(definition).toContain(`{"Ref":"${logicalId(acme.deliveryPipeline.deploymentGroup)}"}`);
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
    expect(() => new CustomerEnvironment(app, 'bad', { config: bad, platform: fleet.platformReference })).toThrow(
      /customer: received "Acme Inc"/,
    );
  });

  test('takes the stack props it is given', () => {
    const app = new App();
    const fleet = VendingFleet.fromDirectory(app, FLEET);
    const config = ConfigLoader.validateCustomer(toStructKeys(stagingCustomer()) as CustomerConfig);
    const environment = new CustomerEnvironment(app, 'custom', {
      config: { ...config, customer: 'zeta' },
      platform: fleet.platformReference,
      stackName: 'zeta-staging-blue',
    });
    expect(environment.stackName).toBe('zeta-staging-blue');
    expect(Stack.of(environment.webTier)).toBe(environment);
  });
});

describe('several shared load balancers', () => {
  // The example fleet has four environments on shared ingress: two per load balancer spreads them over two.
  const fleetConfig = ConfigLoader.loadFleet(FLEET);
  const app = new App();
  const fleet = new VendingFleet(app, fleetConfig, { environmentsPerLoadBalancer: 2 });
  const platform = Template.fromStack(fleet.platformStack!);
  const stackOf = (name: string) => fleet.environments.find((e) => e.stackName === name)!;

  test('the placement: in name order, two on each, the dedicated ones not placed', () => {
    expect(fleet.placement).toEqual({
      loadBalancers: 2,
      environments: { 'acme-staging': 1, 'globex-production': 1, 'hooli-staging': 2, 'piedpiper-development': 2 },
    });
    expect(fleet.placementChanges).toContain('shared load balancers: 1 -> 2');
  });

  test('the platform has two shared load balancers, each with its listeners and parameters, one allocator for both', () => {
    expect(fleet.platform!.sharedLoadBalancers.map((s) => s.number)).toEqual([1, 2]);
    expect(fleet.platform!.sharedLoadBalancer(1).loadBalancer).toBe(fleet.platform!.loadBalancer);
    platform.resourceCountIs('AWS::ElasticLoadBalancingV2::LoadBalancer', 2);
    platform.resourceCountIs('AWS::ElasticLoadBalancingV2::Listener', 4);
    // The first keeps its logical ids from before there could be several: an existing platform is not replaced.
    expect(logicalId(fleet.platform!.loadBalancer)).toMatch(/^PlatformLoadBalancer[0-9A-F]{8}$/);
    const second = fleet.platform!.sharedLoadBalancer(2);
    expect(logicalId(second.loadBalancer)).toMatch(/^PlatformSharedLoadBalancer2LoadBalancer[0-9A-F]{8}$/);
    for (const [id, lb] of Object.entries(platform.findResources('AWS::ElasticLoadBalancingV2::LoadBalancer'))) {
      const attributes = Object.fromEntries(
        lb.Properties.LoadBalancerAttributes.map((a: { Key: string; Value: string }) => [a.Key, a.Value]),
      );
      expect([id, attributes['deletion_protection.enabled'], attributes['access_logs.s3.enabled']]).toEqual([
        id,
        'true',
        'true',
      ]);
      expect(lb.DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/^PlatformLogsBucketPolicy/)]));
    }
    platform.hasResourceProperties('AWS::SSM::Parameter', {
      Name: '/vending/vending/https-listener-arn-2',
      Value: { Ref: logicalId(second.httpsListener as unknown as Construct) },
    });
    platform.hasResourceProperties('AWS::SSM::Parameter', { Name: '/vending/vending/https-listener-arn' });
    platform.hasResourceProperties('AWS::SSM::Parameter', {
      Name: '/vending/vending/load-balancer-security-group-id-2',
    });
    // The allocator may change rules on the listeners of both load balancers.
    const policies = JSON.stringify(platform.findResources('AWS::IAM::Policy'));
    for (const shared of fleet.platform!.sharedLoadBalancers) {
      expect(policies).toContain(logicalId(shared.loadBalancer));
    }
    expect(() => fleet.platform!.sharedLoadBalancer(3)).toThrow(
      /shared load balancer: received 3; expected a number from 1 to 2/,
    );
  });

  test("each environment's rule goes on its own load balancer's listener; instances allow that load balancer", () => {
    // What the platform publishes for load balancer n: the parameter name and the value it holds.
    const published = (n: number, attribute: string) => {
      const name = PlatformContract.sharedLoadBalancerParameter('vending', n, attribute);
      const found = Object.values(platform.findResources('AWS::SSM::Parameter')).find(
        (r) => r.Properties.Name === name,
      );
      return [name, found?.Properties.Value];
    };
    for (const [name, number] of Object.entries(fleet.placement.environments)) {
      const shared = fleet.platform!.sharedLoadBalancer(number);
      const template = Template.fromStack(stackOf(name));
      const parameters = template.toJSON().Parameters;
      // A customer template reads load balancer n's attribute from the parameter that holds that attribute.
      const reads = (value: unknown, attribute: string, resource: Construct, attr?: string) => {
        const ref = (value as { Ref?: string }).Ref!;
        const [parameterName, publishedValue] = published(number, attribute);
        expect([name, attribute, parameters[ref]?.Default]).toEqual([name, attribute, parameterName]);
        const expected = attr ? { 'Fn::GetAtt': [logicalId(resource), attr] } : { Ref: logicalId(resource) };
        expect([name, attribute, publishedValue]).toEqual([name, attribute, expected]);
      };
      const [, rule] = Object.entries(template.findResources('Custom::SharedAlbRulePriority'))[0];
      reads(rule.Properties.listenerArn, 'https-listener-arn', shared.httpsListener as unknown as Construct);
      const [, ingress] = Object.entries(template.findResources('AWS::EC2::SecurityGroupIngress'))[0];
      reads(ingress.Properties.SourceSecurityGroupId, 'security-group-id', shared.securityGroup, 'GroupId');
      // The DNS target its host names need: this load balancer's.
      const outputs = Object.entries(template.findOutputs('*'));
      const dns = outputs.find(([id]) => id.startsWith('WebLoadBalancerDnsName'))![1].Value;
      reads(dns, 'dns-name', shared.loadBalancer, 'DNSName');
    }
  });

  test('a customer added later goes where there is room, and moves nobody', () => {
    const added = {
      ...fleetConfig.customers.find((c) => c.customer === 'hooli')!,
      customer: 'aaa',
      hostname: undefined,
    };
    const bigger = new VendingFleet(
      new App(),
      { ...fleetConfig, customers: [...fleetConfig.customers, added] },
      {
        environmentsPerLoadBalancer: 2,
        placement: fleet.placement,
      },
    );
    expect(bigger.placement.environments).toEqual({ ...fleet.placement.environments, 'aaa-staging': 3 });
    expect(bigger.placementChanges).toEqual([
      'shared load balancers: 2 -> 3',
      'aaa-staging: placed on shared load balancer 3',
    ]);
    expect(bigger.platform!.sharedLoadBalancers).toHaveLength(3);
  });

  test('frozen: a placement that must change fails with what would change', () => {
    expect(
      () =>
        new VendingFleet(new App(), fleetConfig, {
          frozenPlacement: true,
          placement: { loadBalancers: 1, environments: {} },
        }),
    ).toThrow(
      /VendingFleet .*: placement: must change \(acme-staging: placed on shared load balancer 1\) but the placement is frozen/,
    );
  });

  test('more environments than the platform allows fail with the platform file and field', () => {
    expect(
      () =>
        new VendingFleet(
          new App(),
          { ...fleetConfig, platform: { ...fleetConfig.platform, maxSharedLoadBalancers: 1 } },
          {
            environmentsPerLoadBalancer: 2,
          },
        ),
    ).toThrow(
      /platform\.yaml: maxSharedLoadBalancers: received 1: 4 environments on shared ingress need more than 1 load balancer of 2/,
    );
  });

  test('bad options are refused with the option, the value and what is expected', () => {
    expect(() => new VendingFleet(new App(), fleetConfig, { environmentsPerLoadBalancer: 101 })).toThrow(
      /environmentsPerLoadBalancer: received 101; expected a whole number from 1 to 100 \(a load balancer holds 100 target groups\)/,
    );
    expect(() => VendingFleet.fromDirectory(new App(), FLEET, { placement: fleet.placement })).toThrow(
      /placement: received a placement; expected none: the directory's placement.yaml holds it/,
    );
  });
});
