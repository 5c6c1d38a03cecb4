/*
 * IAM roles are an account quota (1,000 by default): each customer environment must cost few of them. The actions of
 * both pipelines run as their pipeline's role (one role per pipeline), not one role per action.
 */
import { join } from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { VendingFleet } from '../../src';

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

const customerStacks = () => Object.entries(templates).filter(([name]) => !name.endsWith('-platform'));

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

test('an environment holds its instance role, two pipeline roles, two build roles and what its pieces need', () => {
  for (const [name, template] of customerStacks()) {
    const roles = Object.entries<any>(template.Resources)
      .filter(([, r]) => r.Type === 'AWS::IAM::Role')
      .map(([id]) => id.replace(/[0-9A-F]{8}$/, ''))
      .sort();
    const database = Object.values<any>(template.Resources).some((r) =>
      /^AWS::RDS::DB(Instance|Cluster)$/.test(r.Type),
    );
    // EventBridge starts a pipeline (a rebuild schedule, CodeCommit's repository events) with a role of its own.
    const rules = Object.values<any>(template.Resources).filter((r) => r.Type === 'AWS::Events::Rule');
    const started = (prefix: string) => {
      const [pipelineId] = Object.keys(template.Resources).filter(
        (id) => id.startsWith(`${prefix}Pipeline`) && template.Resources[id].Type === 'AWS::CodePipeline::Pipeline',
      );
      return rules.some((r) => JSON.stringify(r.Properties.Targets ?? []).includes(`"${pipelineId}"`))
        ? [`${prefix}PipelineEventsRole`]
        : [];
    };
    const expected = [
      'AmiBuildRole',
      ...started('Ami'),
      'AmiPipelineRole',
      'AmiRolloutRole',
      'DeliveryBuildRole',
      'DeliveryDeploymentGroupRole',
      ...started('Delivery'),
      'DeliveryPipelineRole',
      // The function of the custom resource that creates the AMI parameter once.
      ...(database ? ['WebDatabaseMonitoringRole'] : []),
      'WebInstanceRole',
    ];
    expect([name, roles]).toEqual([name, expected]);
  }
});
