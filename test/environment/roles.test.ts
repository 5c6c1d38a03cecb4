/*
 * IAM roles are an account quota (1,000 by default): each customer environment must cost few of them. The actions of
 * both pipelines run as their pipeline's role (one role per pipeline), not one role per action.
 */
import { join } from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { ConfigLoader, DeploymentPolicy, VendingFleet } from '../../src';

const FLEET = join(__dirname, '..', '..', 'examples', 'fleet');

let templates: Record<string, any>;
beforeAll(() => {
  const app = new App({ context: { 'aws:cdk:enable-path-metadata': false } });
  VendingFleet.fromDirectory(app, FLEET, { frozenPlacement: true });
  const assembly = app.synth();
  templates = Object.fromEntries(
    app.node.children
      .filter((c): c is Stack => Stack.isStack(c))
      .map((stack) => [stack.stackName, assembly.getStackArtifact(stack.artifactId).template]),
  );
});

// The fleet pipeline's stack is the platform team's, not an environment's (test/fleet-pipeline holds its roles).
const customerStacks = () =>
  Object.entries(templates).filter(([name]) => !name.endsWith('-platform') && !name.endsWith('-fleet-pipeline'));

test('no pipeline action has a role of its own: every action runs as its pipeline role', () => {
  expect(customerStacks().length).toBeGreaterThan(3);
  for (const [name, template] of customerStacks()) {
    const pipelines = Object.values<any>(template.Resources).filter((r) => r.Type === 'AWS::CodePipeline::Pipeline');
    expect([name, pipelines.length]).toEqual([name, 2]);
    const withRole = pipelines.flatMap((p) =>
      p.Properties.Stages.flatMap((stage: any) =>
        stage.Actions.filter((a: any) => a.RoleArn !== undefined).map((a: any) => `${stage.Name}/${a.Name}`),
      ),
    );
    expect([name, withRole]).toEqual([name, []]);
  }
});

test('an environment holds at most 6 roles: its instance role, two pipeline roles, two build roles and the rollout', () => {
  for (const [name, template] of customerStacks()) {
    const roles = Object.entries<any>(template.Resources)
      .filter(([, r]) => r.Type === 'AWS::IAM::Role')
      .map(([id]) => id.replace(/[0-9A-F]{8}$/, ''))
      .sort();
    // The roles AWS services assume the same way for every environment (RDS enhanced monitoring, CodeDeploy,
    // EventBridge starting a pipeline) are the platform's, reached through its contract.
    expect([name, roles]).toEqual([
      name,
      [
        'AmiBuildRole',
        'AmiPipelineRole',
        'AmiRolloutRole',
        'DeliveryBuildRole',
        'DeliveryPipelineRole',
        'WebInstanceRole',
      ],
    ]);
    expect(roles.length).toBeLessThanOrEqual(6);
  }
});

test("the environments use the platform's shared service roles, read from its contract", () => {
  for (const [name, template] of customerStacks()) {
    const parameters = template.Parameters ?? {};
    const resources = Object.values<any>(template.Resources);
    const group = resources.find((r) => r.Type === 'AWS::CodeDeploy::DeploymentGroup');
    expect([name, group.Properties.ServiceRoleArn]).toEqual([name, { Ref: 'PlatformDeploymentRoleArn' }]);
    expect(parameters.PlatformDeploymentRoleArn.Default).toBe('/vending/vending/v1/roles/deployment/arn');
    for (const rule of resources.filter((r) => r.Type === 'AWS::Events::Rule')) {
      for (const target of rule.Properties.Targets) {
        expect([name, target.RoleArn]).toEqual([name, { Ref: 'PlatformPipelineEventsRoleArn' }]);
      }
    }
    for (const db of resources.filter((r) => /^AWS::RDS::DB(Instance|Cluster)$/.test(r.Type))) {
      if (db.Properties.MonitoringInterval === undefined) continue;
      expect([name, db.Properties.MonitoringRoleArn]).toEqual([name, { Ref: 'PlatformDatabaseMonitoringRoleArn' }]);
    }
  }
});

test.each([
  DeploymentPolicy.ROLLING_WITH_ADDITIONAL_BATCH,
  DeploymentPolicy.IMMUTABLE,
  DeploymentPolicy.TRAFFIC_SPLITTING,
])(
  'an environment deploying with policy %s keeps its 6 roles: the state machine runs as the pipeline role',
  (policy) => {
    const fleet = ConfigLoader.loadFleet(FLEET);
    const customers = fleet.customers.map((c) => {
      if (c.customer !== 'acme') return c;
      const { deploymentConfig, ...software } = c.softwareDelivery;
      void deploymentConfig;
      return {
        ...c,
        softwareDelivery: { ...software, deployment: { policy } },
      };
    });
    const app = new App({ context: { 'aws:cdk:enable-path-metadata': false } });
    const built = new VendingFleet(app, { ...fleet, customers }, { placement: { loadBalancers: 1, environments: {} } });
    const assembly = app.synth();
    const acme = built.environments.filter((s) => s.stackName.startsWith('acme-'));
    // acme-production on a load balancer of its own, acme-staging on the shared one.
    expect(acme.map((s) => s.stackName).sort()).toEqual(['acme-production', 'acme-staging']);
    for (const stack of acme) {
      const template = assembly.getStackArtifact(stack.artifactId).template;
      const resources = Object.entries<any>(template.Resources);
      const roles = resources
        .filter(([, r]) => r.Type === 'AWS::IAM::Role')
        .map(([id]) => id.replace(/[0-9A-F]{8}$/, ''));
      expect([stack.stackName, roles.sort()]).toEqual([
        stack.stackName,
        [
          'AmiBuildRole',
          'AmiPipelineRole',
          'AmiRolloutRole',
          'DeliveryBuildRole',
          'DeliveryPipelineRole',
          'WebInstanceRole',
        ],
      ]);
      const machines = resources.filter(([, r]) => r.Type === 'AWS::StepFunctions::StateMachine');
      const deploy = machines.find(([, r]) => r.Properties.StateMachineName === `${stack.stackName}-deploy`)!;
      expect(deploy[1].Properties.RoleArn['Fn::GetAtt'][0]).toMatch(/^DeliveryPipelineRole/);
      // The rollout's lock still holds the stage that now invokes the machine.
      const rollout = machines.find(([, r]) => r.Properties.StateMachineName === `${stack.stackName}-rollout`)!;
      expect(JSON.stringify(rollout[1].Properties.DefinitionString)).toContain('disableStageTransition');
      const pipeline = resources.find(
        ([, r]) => r.Type === 'AWS::CodePipeline::Pipeline' && r.Properties.Name.startsWith('software-'),
      )![1];
      const deployStage = pipeline.Properties.Stages.find((s: any) => s.Name === 'Deploy');
      expect(deployStage.Actions.map((a: any) => a.ActionTypeId.Provider)).toEqual(['S3', 'StepFunctions']);
    }
  },
);
