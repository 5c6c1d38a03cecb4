/*
 * The AWS quotas a fleet is bound by, checked before deploy: VendingFleet on the built stacks, `paas-vending
 * validate` on the config files alone, and the command on each synthesized template's own limits.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { App } from 'aws-cdk-lib';
import { AccountQuotas, ConfigLoader, FleetConfig, VendingFleet } from '../../src';
import { run } from '../../src/cli/cli';
import { resolveCustomer } from '../../src/config/defaults';
import {
  configEnvironmentUses,
  configQuotaUse,
  fleetQuotaUse,
  QUOTAS,
  quotaProblems,
  QuotaUse,
  sharedEnvironmentUses,
  templateLimitProblems,
} from '../../src/environment/quotas';

const FLEET = join(__dirname, '..', '..', 'examples', 'fleet');
const example = ConfigLoader.loadFleet(FLEET);

function withQuotas(quotas: AccountQuotas): FleetConfig {
  return { ...example, platform: { ...example.platform, quotas } };
}

function synthError(fleet: FleetConfig, options: { stacks?: string[] } = {}): string | undefined {
  const app = new App();
  new VendingFleet(app, fleet, { placement: { loadBalancers: 1, environments: {} }, ...options });
  try {
    app.synth();
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

const byKey = (uses: QuotaUse[]) =>
  Object.fromEntries(uses.map((u) => [`${u.key}${u.where ? ` ${u.where}` : ''}`, u.used]));

describe('the use of each quota by the example fleet', () => {
  const app = new App();
  const fleet = new VendingFleet(app, example, { placement: { loadBalancers: 1, environments: {} } });
  // Every stack the account holds: the example fleet has its pipeline too.
  const stacks = [fleet.platformStack!, ...fleet.environments, fleet.pipelineStack!];
  const shared = sharedEnvironmentUses(fleet.environments, example.customers, fleet.placement);
  const built = byKey(fleetQuotaUse(stacks, shared));
  const assembly = app.synth();
  const count = (type: string) =>
    assembly.stacks.reduce(
      (sum, s) =>
        sum + Object.values(s.template.Resources as Record<string, any>).filter((r) => r.Type === type).length,
      0,
    );

  test('the built count is what the templates hold', () => {
    expect(built.iamRoles).toBe(count('AWS::IAM::Role'));
    expect(built.pipelines).toBe(count('AWS::CodePipeline::Pipeline'));
    expect(built.dbInstances).toBe(count('AWS::RDS::DBInstance'));
    expect(built.dbClusters).toBe(count('AWS::RDS::DBCluster'));
    expect(built.loadBalancers).toBe(count('AWS::ElasticLoadBalancingV2::LoadBalancer'));
    expect(built.targetGroups).toBe(count('AWS::ElasticLoadBalancingV2::TargetGroup'));
    expect(built.securityGroups).toBe(count('AWS::EC2::SecurityGroup'));
    expect(built.stacks).toBe(assembly.stacks.length);
    expect(built['rulesPerLoadBalancer shared load balancer 1']).toBe(
      count('Custom::SharedAlbRulePriority') +
        count('AWS::ElasticLoadBalancingV2::ListenerRule') -
        Object.entries(built)
          .filter(([k]) => k.startsWith('rulesPerLoadBalancer the load balancer of stack'))
          .reduce((sum, [, v]) => sum + (v as number), 0),
    );
    expect(built.iamRoles).toBeGreaterThan(20);
  });

  test("the config's count, for validate, equals the built count of every quota it counts", () => {
    const customers = example.customers.map((config) => resolveCustomer(config, example.platform));
    const environments = configEnvironmentUses(customers, fleet.placement);
    const fromConfig = byKey(
      configQuotaUse(environments, fleet.placement.loadBalancers, example.platform.fleetPipeline !== undefined),
    );
    expect(Object.keys(fromConfig).length).toBeGreaterThanOrEqual(6);
    for (const [key, used] of Object.entries(fromConfig)) expect([key, used]).toEqual([key, built[key]]);
  });

  test('the example fleet fits the default quotas', () => {
    expect(quotaProblems(fleetQuotaUse(stacks, shared), undefined, 'platform.yaml')).toEqual([]);
  });
});

describe('a fleet over a quota fails at synthesis, naming the quota, the excess and what to raise', () => {
  test('DB instances and IAM roles over the quotas set in platform.yaml (roles counted in the built stacks)', () => {
    const message = synthError(withQuotas({ dbInstances: 2, iamRoles: 10 }));
    expect(message).toMatch(
      /quotas\.dbInstances: the fleet needs (\d+) DB instances in the region, \d+ more than the quota set here of 2; expected at most 2: request an increase of "DB instances" \(Amazon RDS\) in Service Quotas/,
    );
    expect(message).toMatch(/quotas\.iamRoles: the fleet needs \d+ IAM roles in the account/);
    expect(message).toMatch(/"Roles per account" \(IAM\)/);
  });

  test('a selection of stacks is not checked against the account (it is not what the account holds)', () => {
    expect(synthError(withQuotas({ iamRoles: 10 }), { stacks: ['acme-staging'] })).toBeUndefined();
  });

  test('every quota has a Service Quotas name, a service and a default', () => {
    for (const spec of QUOTAS) {
      expect(spec.name.length).toBeGreaterThan(3);
      expect(spec.defaultLimit).toBeGreaterThan(0);
    }
    expect(QUOTAS.map((q) => q.key).sort()).toEqual(
      [
        'certificatesPerLoadBalancer',
        'customDeploymentConfigs',
        'dbClusters',
        'dbInstances',
        'iamRoles',
        'loadBalancers',
        'pipelines',
        'rulesPerLoadBalancer',
        'securityGroups',
        'stacks',
        'targetGroups',
      ].sort(),
    );
  });
});

describe('custom CodeDeploy deployment configurations (50 per account, not adjustable)', () => {
  /** The example fleet with the deployments given, in the order of its customer files. */
  const withDeployments = (deployments: any[]): FleetConfig => ({
    ...example,
    customers: example.customers.map((c, i) => {
      const { deploymentConfig, ...software } = c.softwareDelivery;
      void deploymentConfig;
      return deployments[i] === undefined ? c : { ...c, softwareDelivery: { ...software, deployment: deployments[i] } };
    }),
  });
  const fleet = withDeployments([
    { policy: 'rolling-with-additional-batch' },
    { policy: 'rolling', batchSizePercent: 25 },
    { policy: 'rolling', batchSizePercent: 50 },
    { policy: 'rolling' },
    { policy: 'immutable' },
    { policy: 'rolling', minimumHealthyPercent: 75 },
  ]);

  test('one per rolling deployment with a minimum of its own, one per additional batch; presets and immutable cost none', () => {
    const app = new App();
    const built = new VendingFleet(app, fleet, { placement: { loadBalancers: 1, environments: {} } });
    const uses = byKey(fleetQuotaUse([built.platformStack!, ...built.environments], []));
    const templates = app.synth().stacks.map((s) => s.template);
    const ofType = (type: string) =>
      templates.reduce((sum, t) => sum + Object.values<any>(t.Resources).filter((r) => r.Type === type).length, 0);
    // Two in the templates (batches of 25 %, 75 % kept in service), and the one the additional batch's machine creates at run time.
    expect(ofType('AWS::CodeDeploy::DeploymentConfig')).toBe(2);
    // The rollouts, and the machines of the additional batch and of immutable.
    expect(ofType('AWS::StepFunctions::StateMachine')).toBe(example.customers.length + 2);
    // Immutable's standby joins the environment's one target group: no target group more than the example fleet's.
    expect(uses.targetGroups).toBe(ofType('AWS::ElasticLoadBalancingV2::TargetGroup'));
    expect(uses.targetGroups).toBe(example.customers.length);
    expect(uses.customDeploymentConfigs).toBe(3);
    const customers = fleet.customers.map((config) => resolveCustomer(config, example.platform));
    const fromConfig = byKey(configQuotaUse(configEnvironmentUses(customers, built.placement), 1));
    expect(fromConfig.customDeploymentConfigs).toBe(3);
  });

  test('over the quota is refused by validate, saying that CodeDeploy does not raise it and what to do', () => {
    const customers = fleet.customers.map((config) => resolveCustomer(config, example.platform));
    const uses = configQuotaUse(configEnvironmentUses(customers, { loadBalancers: 1, environments: {} }), 1);
    expect(quotaProblems(uses, undefined, 'platform.yaml')).toEqual([]);
    const [problem, ...others] = quotaProblems(uses, { customDeploymentConfigs: 2 }, 'platform.yaml');
    expect(others).toEqual([]);
    expect(problem).toEqual({
      file: 'platform.yaml',
      path: 'quotas.customDeploymentConfigs',
      message:
        'the fleet needs 3 custom CodeDeploy deployment configurations in the region, 1 more than the quota set ' +
        'here of 2; expected at most 2: "Custom deployment configurations per account" (CodeDeploy): CodeDeploy does ' +
        'not raise this quota: give more environments a preset deployment (software.deployment policy rolling alone ' +
        'or with batchSizePercent 50, or all-at-once) instead of a minimum of their own or an additional batch',
    });
  });
});

describe('certificates on a shared listener', () => {
  const env = (n: number, certificate?: string) => ({
    ingress: 'shared' as const,
    loadBalancer: n,
    certificateArn: certificate,
  });
  const cert = (i: number) =>
    `arn:aws:acm:eu-west-1:123456789012:certificate/${String(i).padStart(8, '0')}-0000-0000-0000-000000000000`;

  test('one per distinct certificate on each load balancer, over 25 refused by default', () => {
    const environments = [...Array.from({ length: 26 }, (_, i) => env(1, cert(i))), env(1, cert(0)), env(2, cert(0))];
    const uses = byKey(configQuotaUse(environments, 2));
    expect(uses['certificatesPerLoadBalancer shared load balancer 1']).toBe(26);
    expect(uses['certificatesPerLoadBalancer shared load balancer 2']).toBe(1);
    const problems = quotaProblems(configQuotaUse(environments, 2), undefined, 'platform.yaml');
    expect(problems.map((p) => `${p.path}: ${p.message}`)).toEqual([
      expect.stringMatching(
        /^quotas\.certificatesPerLoadBalancer: the fleet needs 26 certificates on shared load balancer 1, 1 more than the AWS default quota of 25/,
      ),
    ]);
    expect(quotaProblems(configQuotaUse(environments, 2), { certificatesPerLoadBalancer: 30 }, 'p')).toEqual([]);
  });
});

describe('paas-vending validate checks the quotas that follow from the config', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'quotas-'));
    cpSync(FLEET, dir, { recursive: true });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function validate(): { code: number; out: string; err: string } {
    const out: string[] = [];
    const err: string[] = [];
    const code = run(['validate', dir], { out: (t) => out.push(t), err: (t) => err.push(t), cwd: dir });
    return { code, out: out.join('\n'), err: err.join('\n') };
  }

  test('the example fleet is valid; over pipelines it is not, and the message says what to raise', () => {
    expect(validate().code).toBe(0);
    const platformFile = join(dir, 'platform.yaml');
    writeFileSync(platformFile, `${readFileSync(platformFile, 'utf8')}quotas: { pipelines: 4 }\n`);
    const result = validate();
    expect(result.code).toBe(1);
    // Two per environment (6) and the fleet's own pipeline.
    expect(result.err).toMatch(
      /platform\.yaml: quotas\.pipelines: the fleet needs 13 pipelines in the region, 9 more than the quota set here of 4; expected at most 4: request an increase of "Number of pipelines per Region" \(CodePipeline\)/,
    );
  });

  test('a quota that is not a whole number is refused by the schema', () => {
    const platformFile = join(dir, 'platform.yaml');
    writeFileSync(platformFile, `${readFileSync(platformFile, 'utf8')}quotas: { iamRoles: 0.5 }\n`);
    const result = validate();
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/quotas\.iamRoles/);
  });
});

describe("a template over CloudFormation's own limits", () => {
  test('resources, outputs, parameters and bytes each named with the stack and its file', () => {
    const resources = Object.fromEntries(Array.from({ length: 501 }, (_, i) => [`R${i}`, { Type: 'AWS::SNS::Topic' }]));
    expect(
      templateLimitProblems('acme-production', 'cdk.out/acme-production.template.json', { Resources: resources }, 10),
    ).toEqual([
      'cdk.out/acme-production.template.json: stack acme-production: the template holds 501 resources, 1 more than ' +
        "CloudFormation allows in one template (500, not adjustable); expected at most 500: split the environment's " +
        'resources or report it as a bug of the library',
    ]);
    expect(templateLimitProblems('s', 'f', { Resources: { A: {} } }, 1_000_001)[0]).toMatch(/1000001 bytes, 1 more/);
    expect(templateLimitProblems('s', 'f', { Resources: resources }, 10).length).toBe(1);
    expect(templateLimitProblems('s', 'f', { Resources: {} }, 1_000_000)).toEqual([]);
  });
});
