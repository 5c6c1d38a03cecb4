/*
 * The deployment policy immutable: the web tier's standby group, its deployment group, and the Deploy stage's state
 * machine, path by path (Step Functions Local is not available: the definition's structure is what is tested).
 */
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { acknowledgeSoftwarePipeline, defaultProps } from './fixture';
import { AdditionalBatch, CustomerConfig, CustomerWebTier, DeploymentPolicy } from '../../src';
import { SoftwareDeliveryPipeline } from '../../src/delivery-pipeline/software-delivery-pipeline';
import { expectCompliant, newTestApp } from '../support/compliance';
import { acknowledgeWebTier, ENV, platformStack } from '../support/platform-fixture';
import { addWebTier, newPlatform } from '../web-tier/fixture';

const resourcesOf = (template: Template, type: string): [string, any][] =>
  Object.entries<any>(template.toJSON().Resources).filter(([, r]) => r.Type === type);

function definitionOf(template: Template): any {
  const [[, machine], ...others] = resourcesOf(template, 'AWS::StepFunctions::StateMachine');
  expect(others).toEqual([]);
  const parts = machine.Properties.DefinitionString['Fn::Join'][1] as any[];
  const marker = (part: any) =>
    part.Ref ? `<Ref:${part.Ref}>` : part['Fn::GetAtt'] ? `<GetAtt:${part['Fn::GetAtt'].join('.')}>` : '<token>';
  return JSON.parse(parts.map((part) => (typeof part === 'string' ? part : marker(part))).join(''));
}

const fixture = newPlatform();
const { stack, web } = addWebTier(fixture, 'Customer', { standbyGroup: true });
const pipeline = new SoftwareDeliveryPipeline(stack, 'Software', {
  ...defaultProps(web, fixture.platform),
  standbyAutoScalingGroup: web.standbyAutoScalingGroup,
});
const template = Template.fromStack(stack);
const definition = definitionOf(template);
const states = definition.States as Record<string, any>;
const logicalId = (construct: any) => stack.resolve(construct.node.defaultChild.logicalId);
const targets = (state: any): string[] =>
  [
    state.Next,
    state.Default,
    ...(state.Choices ?? []).map((c: any) => c.Next),
    ...(state.Catch ?? []).map((c: any) => c.Next),
  ].filter(Boolean);
function reachable(from: string, seen = new Set<string>()): Set<string> {
  if (seen.has(from)) return seen;
  seen.add(from);
  for (const n of targets(states[from])) reachable(n, seen);
  return seen;
}

describe('the standby group and its deployment group', () => {
  test('the standby: same launch template, at zero, not in the target group, no scaling of its own', () => {
    const groups = resourcesOf(template, 'AWS::AutoScaling::AutoScalingGroup');
    expect(groups).toHaveLength(2);
    const primary = template.toJSON().Resources[logicalId(web.autoScalingGroup)].Properties;
    const standby = template.toJSON().Resources[logicalId(web.standbyAutoScalingGroup)].Properties;
    expect(standby.LaunchTemplate).toEqual(primary.LaunchTemplate);
    expect(standby.MinSize).toBe('0');
    expect(standby.MaxSize).toBe(primary.MaxSize);
    expect(standby.VPCZoneIdentifier).toEqual(primary.VPCZoneIdentifier);
    expect(standby.TargetGroupARNs).toBeUndefined();
    expect(primary.TargetGroupARNs).toBeDefined();
    const policies = resourcesOf(template, 'AWS::AutoScaling::ScalingPolicy').map(
      ([, p]) => p.Properties.AutoScalingGroupName,
    );
    expect(policies.length).toBeGreaterThan(0);
    for (const name of policies) expect(name).toEqual({ Ref: logicalId(web.autoScalingGroup) });
  });

  test("its deployment group: all at once, registering its instances in the environment's target group, termination hook on", () => {
    const group = template.toJSON().Resources[logicalId(pipeline.standbyDeploymentGroup)].Properties;
    expect(group.DeploymentGroupName).toBe('web-tier-standby');
    expect(group.AutoScalingGroups).toEqual([{ Ref: logicalId(web.standbyAutoScalingGroup) }]);
    expect(group.DeploymentConfigName).toBe('CodeDeployDefault.AllAtOnce');
    expect(group.LoadBalancerInfo.TargetGroupInfoList).toEqual([
      { Name: { 'Fn::GetAtt': [logicalId(web.targetGroup), 'TargetGroupName'] } },
    ]);
    expect(group.TerminationHookEnabled).toBe(true);
    expect(group.AlarmConfiguration.Enabled).toBe(true);
    // Still one target group: the standby's instances join the environment's.
    expect(resourcesOf(template, 'AWS::ElasticLoadBalancingV2::TargetGroup')).toHaveLength(1);
  });
});

describe('the state machine', () => {
  test('one execution at a time, none during a refresh, none on an empty group: each fails before anything changes', () => {
    expect(definition.StartAt).toBe('ListRunningDeployments');
    expect(states.OnlyDeployment.Choices[0].Next).toBe('DeploymentAlreadyRunning');
    expect(states.OnlyDeployment.Default).toBe('DescribeRefreshesBeforeStart');
    expect(states.NoRefreshBeforeStart.Choices[0].Next).toBe('RefreshRunningBeforeStart');
    expect(states.RefreshRunningBeforeStart.Next).toBe('DeploymentFailed');
    expect(states.NoRefreshBeforeStart.Default).toBe('ReadCapacity');
    expect(states.GroupHasInstances.Choices[0]).toEqual({
      Variable: '$.capacity.desired',
      NumericGreaterThanEquals: 1,
      Next: 'ScaleOutStandby',
    });
    expect(states.NoInstances.Next).toBe('DeploymentFailed');
    for (const state of ['DescribeRefreshesBeforeStart', 'ReadCapacity']) {
      expect([state, states[state].Catch[0].Next]).toEqual([state, 'DeploymentFailed']);
    }
  });

  test('the standby grows to the desired capacity, gets the release, then the group gets it all at once, then the standby goes', () => {
    expect(states.ScaleOutStandby.Parameters).toEqual({
      AutoScalingGroupName: `<Ref:${logicalId(web.standbyAutoScalingGroup)}>`,
      'DesiredCapacity.$': '$.capacity.desired',
      'MinSize.$': '$.capacity.desired',
    });
    expect(states.StandbyInService.Choices[0]).toEqual({
      Variable: '$.capacityChecks.inService',
      NumericGreaterThanEqualsPath: '$.capacity.desired',
      Next: 'DescribeRefreshesBeforeStandby',
    });
    expect(states.NoRefreshBeforeStandby.Default).toBe('CreateDeploymentToStandby');
    const toStandby = states.CreateDeploymentToStandby.Parameters;
    expect(toStandby).toMatchObject({
      ApplicationName: `<Ref:${logicalId(pipeline.application)}>`,
      DeploymentGroupName: `<Ref:${logicalId(pipeline.standbyDeploymentGroup)}>`,
      DeploymentConfigName: 'CodeDeployDefault.AllAtOnce',
      Revision: {
        RevisionType: 'S3',
        S3Location: { 'Bucket.$': '$.revision.bucket', 'Key.$': '$.revision.key', BundleType: 'zip' },
      },
    });
    expect(states.StandbyDeploymentDone.Choices[0]).toMatchObject({
      StringEquals: 'Succeeded',
      Next: 'DescribeRefreshesBeforeGroup',
    });
    expect(states.NoRefreshBeforeGroup.Default).toBe('CreateDeploymentToGroup');
    expect(states.CreateDeploymentToGroup.Parameters).toMatchObject({
      DeploymentGroupName: `<Ref:${logicalId(pipeline.deploymentGroup)}>`,
      DeploymentConfigName: 'CodeDeployDefault.AllAtOnce',
    });
    expect(states.GroupDeploymentDone.Choices[0]).toMatchObject({ StringEquals: 'Succeeded', Next: 'StandbyToZero' });
    expect(states.StandbyToZero.Parameters).toEqual({
      AutoScalingGroupName: `<Ref:${logicalId(web.standbyAutoScalingGroup)}>`,
      DesiredCapacity: 0,
      MinSize: 0,
    });
    expect(states.StandbyToZero.Next).toBe('Deployed');
  });

  test('every failure after the scale-out sets the standby back to zero, then fails with the reason', () => {
    expect(states.StandbyToZeroAfterFailure.Parameters).toEqual(states.StandbyToZero.Parameters);
    expect(states.StandbyToZeroAfterFailure.Next).toBe('DeploymentFailed');
    expect(states.StandbyToZeroAfterFailure.Catch[0]).toEqual({
      ErrorEquals: ['States.ALL'],
      ResultPath: '$.cleanupError',
      Next: 'DeploymentFailed',
    });
    expect(states.DeploymentFailed).toEqual({
      Type: 'Fail',
      ErrorPath: '$.failure.Error',
      CausePath: '$.failure.Cause',
    });
    const after = [...reachable('ScaleOutStandby')].filter(
      (s) => !['StandbyToZero', 'StandbyToZeroAfterFailure', 'DeploymentFailed'].includes(s),
    );
    expect(after.length).toBeGreaterThan(20);
    for (const name of after) {
      expect([name, targets(states[name]).filter((t) => t === 'DeploymentFailed')]).toEqual([name, []]);
    }
    for (const id of ['Standby', 'Group']) {
      expect(states[`${id}DeploymentEndedBadly`].Next).toBe('StandbyToZeroAfterFailure');
      expect(states[`${id}DeploymentTookTooLong`].Next).toBe(`Stop${id}Deployment`);
      expect(states[`Stop${id}Deployment`].Next).toBe('StandbyToZeroAfterFailure');
    }
    expect(states.RefreshRunningBeforeGroup.Next).toBe('StandbyToZeroAfterFailure');
    expect(states.StandbyNotInService.Next).toBe('StandbyToZeroAfterFailure');
  });

  test("every task has a timeout and a catch-all; every wait is a bounded loop; the longest run ends within the action's hour", () => {
    const tasks = Object.entries(states).filter(([, s]) => s.Type === 'Task');
    for (const [name, task] of tasks) {
      expect([name, task.TimeoutSeconds]).toEqual([name, expect.any(Number)]);
      expect([name, task.Catch?.some((c: any) => c.ErrorEquals.includes('States.ALL'))]).toEqual([name, true]);
    }
    const waits = Object.entries(states)
      .filter(([, s]) => s.Type === 'Wait')
      .map(([n]) => n)
      .sort();
    expect(waits).toEqual(['WaitForGroupDeployment', 'WaitForStandby', 'WaitForStandbyDeployment']);
    const taskSeconds = Math.max(...tasks.map(([, t]) => t.TimeoutSeconds));
    const loop = (choice: string, counter: string, wait: string) => {
      const limit = states[choice].Choices.find((c: any) => c.Variable === counter).NumericGreaterThanEquals;
      return limit * (states[wait].Seconds + taskSeconds);
    };
    const worst =
      tasks.length * taskSeconds +
      loop('StandbyInService', '$.capacityChecks.count', 'WaitForStandby') +
      loop('StandbyDeploymentDone', '$.deploymentChecks.count', 'WaitForStandbyDeployment') +
      loop('GroupDeploymentDone', '$.deploymentChecks.count', 'WaitForGroupDeployment');
    expect(worst).toBeLessThan(definition.TimeoutSeconds);
    expect(definition.TimeoutSeconds).toBeLessThan(3600);
  });

  test('runs as the pipeline role; its scaling is on the standby group only, its deployments on the two deployment groups', () => {
    const role = pipeline.pipeline.role;
    const [[, machine]] = resourcesOf(template, 'AWS::StepFunctions::StateMachine');
    expect(machine.Properties.RoleArn).toEqual({ 'Fn::GetAtt': [logicalId(role), 'Arn'] });
    const statements = resourcesOf(template, 'AWS::IAM::Policy')
      .filter(([, p]) => p.Properties.Roles.some((r: any) => r.Ref === logicalId(role)))
      .flatMap(([, p]) => p.Properties.PolicyDocument.Statement);
    const resourcesFor = (action: string) =>
      JSON.stringify(statements.filter((s) => [s.Action].flat().includes(action)).flatMap((s) => [s.Resource].flat()));
    const scaling = resourcesFor('autoscaling:UpdateAutoScalingGroup');
    expect(scaling).toContain(logicalId(web.standbyAutoScalingGroup));
    expect(scaling).not.toContain(logicalId(web.autoScalingGroup));
    const deployments = resourcesFor('codedeploy:CreateDeployment');
    expect(deployments).toContain(logicalId(pipeline.deploymentGroup));
    expect(deployments).toContain(logicalId(pipeline.standbyDeploymentGroup));
    expect(resourcesFor('codedeploy:GetDeploymentConfig')).toContain(':deploymentconfig:CodeDeployDefault.AllAtOnce');
    expect(resourcesFor('codedeploy:CreateDeploymentConfig')).toBe('[]');
  });
});

describe('traffic splitting: a canary share of new instances first, watched by the deployment alarm', () => {
  const f = newPlatform();
  const { stack: s, web: w } = addWebTier(f, 'Canary', { standbyGroup: true });
  const p = new SoftwareDeliveryPipeline(s, 'Software', {
    ...defaultProps(w, f.platform),
    standbyAutoScalingGroup: w.standbyAutoScalingGroup,
    canaryPercent: 20,
    canaryEvaluation: Duration.minutes(3),
  });
  const t = Template.fromStack(s);
  const d = definitionOf(t);
  const st = d.States as Record<string, any>;
  const id = (construct: any) => s.resolve(construct.node.defaultChild.logicalId);
  const next = (state: any): string[] =>
    [
      state.Next,
      state.Default,
      ...(state.Choices ?? []).map((c: any) => c.Next),
      ...(state.Catch ?? []).map((c: any) => c.Next),
    ].filter(Boolean);

  test('the canary is sized by the running instances (a share of their number, one at least), then deployed to', () => {
    expect(st.CapacityInRange.Choices[0]).toEqual({
      Variable: '$.capacity.desired',
      NumericLessThanEquals: 100,
      Next: 'CanarySizes',
    });
    const sizes = st.CanarySizes.Result.sizes;
    // 20 %: one canary beside 4 instances (1 of 5), two beside 5 to 8.
    expect([sizes[1], sizes[4], sizes[5], sizes[8], sizes[100]]).toEqual([1, 1, 2, 2, 25]);
    expect(st.ScaleOutCanary.Parameters).toMatchObject({
      'DesiredCapacity.$': '$.canary.size',
      'MinSize.$': '$.canary.size',
    });
    expect(st.CanaryInService.Choices[0]).toMatchObject({
      NumericGreaterThanEqualsPath: '$.canary.size',
      Next: 'DescribeRefreshesBeforeStandby',
    });
    expect(st.StandbyDeploymentDone.Choices[0].Next).toBe('StartEvaluation');
  });

  test('an alarm during the evaluation ends it: the standby to zero, failed with the reason; else the rest follows as immutable', () => {
    expect(st.ReadAlarms.Resource).toContain('aws-sdk:cloudwatch:describeAlarms');
    expect(st.ReadAlarms.Parameters).toEqual({ AlarmNames: [`<Ref:${id(p.alarms[0])}>`] });
    expect(st.ReadAlarms.ResultSelector).toEqual({
      'inAlarm.$': "$.MetricAlarms[?(@.StateValue == 'ALARM')].AlarmName",
    });
    expect(st.CanaryHealthy.Choices).toEqual([
      { Variable: '$.evaluation.inAlarm', NumericGreaterThan: 0, Next: 'CanaryInAlarm' },
      { Variable: '$.evaluation.count', NumericGreaterThanEquals: 3, Next: 'ScaleOutStandby' },
    ]);
    expect(st.CanaryInAlarm.Next).toBe('StandbyToZeroAfterFailure');
    expect(st.ScaleOutStandby.Parameters).toMatchObject({ 'DesiredCapacity.$': '$.capacity.desired' });
    expect(st.StandbyInService.Choices[0].Next).toBe('DescribeRefreshesBeforeGroup');
    expect(st.GroupDeploymentDone.Choices[0].Next).toBe('StandbyToZero');
    const after = [...reachableIn(st, 'ScaleOutCanary')].filter(
      (n) => !['StandbyToZero', 'StandbyToZeroAfterFailure', 'DeploymentFailed'].includes(n),
    );
    for (const name of after) {
      expect([name, next(st[name]).filter((n) => n === 'DeploymentFailed')]).toEqual([name, []]);
    }
    // The alarm is read by its ARN only.
    const statements = resourcesOf(t, 'AWS::IAM::Policy').flatMap(([, pol]) => pol.Properties.PolicyDocument.Statement);
    const describe = statements.filter((x) => [x.Action].flat().includes('cloudwatch:DescribeAlarms'));
    expect(describe.flatMap((x) => [x.Resource].flat())).toEqual([{ 'Fn::GetAtt': [id(p.alarms[0]), 'Arn'] }]);
  });

  test("the longest run, evaluation included, ends within the action's hour", () => {
    const tasks = Object.entries(st).filter(([, x]) => x.Type === 'Task');
    for (const [name, task] of tasks) {
      expect([name, task.Catch?.some((c: any) => c.ErrorEquals.includes('States.ALL'))]).toEqual([name, true]);
    }
    const taskSeconds = Math.max(...tasks.map(([, x]) => x.TimeoutSeconds));
    const loop = (choice: string, counter: string, wait: string) => {
      const limit = st[choice].Choices.find((c: any) => c.Variable === counter).NumericGreaterThanEquals;
      return limit * (st[wait].Seconds + taskSeconds);
    };
    const waits = Object.entries(st)
      .filter(([, x]) => x.Type === 'Wait')
      .map(([n]) => n)
      .sort();
    expect(waits).toEqual([
      'WaitForCanary',
      'WaitForEvaluation',
      'WaitForGroupDeployment',
      'WaitForStandby',
      'WaitForStandbyDeployment',
    ]);
    // The evaluation at its most (10 minutes), the rest at the limits of this machine.
    const evaluation = 10 * (st.WaitForEvaluation.Seconds + taskSeconds);
    const worst =
      tasks.length * taskSeconds +
      loop('CanaryInService', '$.capacityChecks.count', 'WaitForCanary') +
      loop('StandbyInService', '$.capacityChecks.count', 'WaitForStandby') +
      loop('StandbyDeploymentDone', '$.deploymentChecks.count', 'WaitForStandbyDeployment') +
      loop('GroupDeploymentDone', '$.deploymentChecks.count', 'WaitForGroupDeployment') +
      evaluation;
    expect(worst).toBeLessThan(d.TimeoutSeconds);
    expect(d.TimeoutSeconds).toBeLessThan(3600);
  });

  test('canaryPercent and canaryEvaluation out of range or alone are refused', () => {
    const g = newPlatform();
    const { stack: s2, web: w2 } = addWebTier(g, 'Bad', { standbyGroup: true });
    let n = 0;
    const make = (props: any) => () =>
      new SoftwareDeliveryPipeline(s2, `Software${n++}`, { ...defaultProps(w2, g.platform), ...props });
    expect(make({ canaryPercent: 10 })).toThrow(
      /canaryPercent: received it without standbyAutoScalingGroup; expected both/,
    );
    expect(make({ standbyAutoScalingGroup: w2.standbyAutoScalingGroup, canaryPercent: 51 })).toThrow(
      /canaryPercent: received 51; expected a whole number from 1 to 50/,
    );
    expect(
      make({
        standbyAutoScalingGroup: w2.standbyAutoScalingGroup,
        canaryPercent: 10,
        canaryEvaluation: Duration.seconds(90),
      }),
    ).toThrow(/canaryEvaluation: received 1 minute 30 seconds; expected whole minutes from 1 to 10/);
    expect(
      make({ standbyAutoScalingGroup: w2.standbyAutoScalingGroup, canaryEvaluation: Duration.minutes(2) }),
    ).toThrow(/canaryEvaluation: received it without canaryPercent/);
  });

  test("fromConfig: policy traffic-splitting with the file's share and evaluation", () => {
    const app = new App();
    const { platform } = platformStack(app, { domain: 'apps.example.com' });
    const stk = new Stack(app, 'Split', { env: ENV });
    const config: CustomerConfig = {
      customer: 'initech',
      environment: 'staging',
      softwareDelivery: {
        repository: { codeCommitRepository: 'initech-site' },
        deployment: { policy: DeploymentPolicy.TRAFFIC_SPLITTING, canaryPercent: 50, evaluationMinutes: 2 },
      },
    };
    const w3 = CustomerWebTier.fromConfig(stk, 'Web', config, platform);
    SoftwareDeliveryPipeline.fromConfig(stk, 'Software', config, platform, w3);
    const states3 = definitionOf(Template.fromStack(stk)).States;
    expect(states3.CanarySizes.Result.sizes.slice(0, 4)).toEqual([1, 1, 2, 3]);
    expect(states3.CanaryHealthy.Choices[1].NumericGreaterThanEquals).toBe(2);
  });
});

function reachableIn(st: Record<string, any>, from: string, seen = new Set<string>()): Set<string> {
  if (seen.has(from)) return seen;
  seen.add(from);
  const state = st[from];
  for (const n of [
    state.Next,
    state.Default,
    ...(state.Choices ?? []).map((c: any) => c.Next),
    ...(state.Catch ?? []).map((c: any) => c.Next),
  ].filter(Boolean)) {
    reachableIn(st, n, seen);
  }
  return seen;
}

describe('props and config', () => {
  test('standbyAutoScalingGroup beside another way to deploy is refused, naming both', () => {
    const f = newPlatform();
    const { stack: s, web: w } = addWebTier(f, 'Other', { standbyGroup: true });
    expect(
      () =>
        new SoftwareDeliveryPipeline(s, 'Software', {
          ...defaultProps(w, f.platform),
          standbyAutoScalingGroup: w.standbyAutoScalingGroup,
          additionalBatch: AdditionalBatch.count(1),
        }),
    ).toThrow(/standbyAutoScalingGroup: received it beside additionalBatch; expected one of the two/);
  });

  test('fromConfig: policy immutable makes the standby group and the machine; the other policies have neither', () => {
    const app = new App();
    const { platform } = platformStack(app, { domain: 'apps.example.com' });
    const config = (policy: DeploymentPolicy): CustomerConfig => ({
      customer: 'initech',
      environment: 'staging',
      softwareDelivery: { repository: { codeCommitRepository: 'initech-site' }, deployment: { policy } },
    });
    const immutableStack = new Stack(app, 'Immutable', { env: ENV });
    const w = CustomerWebTier.fromConfig(immutableStack, 'Web', config(DeploymentPolicy.IMMUTABLE), platform);
    const p = SoftwareDeliveryPipeline.fromConfig(
      immutableStack,
      'Software',
      config(DeploymentPolicy.IMMUTABLE),
      platform,
      w,
    );
    expect(w.standbyAutoScalingGroup).toBeDefined();
    expect(p.standbyDeploymentGroup).toBeDefined();
    expect(p.deploymentStateMachine).toBeDefined();
    const rollingStack = new Stack(app, 'Rolling', { env: ENV });
    const rw = CustomerWebTier.fromConfig(rollingStack, 'Web', config(DeploymentPolicy.ROLLING), platform);
    const rp = SoftwareDeliveryPipeline.fromConfig(
      rollingStack,
      'Software',
      config(DeploymentPolicy.ROLLING),
      platform,
      rw,
    );
    expect(rw.standbyAutoScalingGroup).toBeUndefined();
    expect(rp.standbyDeploymentGroup).toBeUndefined();
    expect(rp.deploymentStateMachine).toBeUndefined();
    // An immutable config on a web tier built without the standby is refused.
    const other = new Stack(app, 'Other', { env: ENV });
    const plainWeb = CustomerWebTier.fromConfig(other, 'Web', config(DeploymentPolicy.ROLLING), platform);
    expect(() =>
      SoftwareDeliveryPipeline.fromConfig(other, 'Software', config(DeploymentPolicy.IMMUTABLE), platform, plainWeb),
    ).toThrow(/webTier: received a web tier without a standby group/);
  });
});

describe('compliance', () => {
  test('a staging (shared load balancer, traffic splitting) and a production (dedicated, immutable) environment pass every check', () => {
    const app: App = newTestApp();
    const { stack: platformScope, platform } = platformStack(app, { production: true, domain: 'apps.example.com' });
    const stacks: Stack[] = [];
    for (const environment of ['staging', 'production']) {
      const s = new Stack(app, `Initech${environment}`, { env: ENV });
      const config: CustomerConfig = {
        customer: 'initech',
        environment,
        approvalEmails: ['ops@initech.example'],
        ...(environment === 'production'
          ? {
              customDomain: {
                name: 'www.initech.example',
                certificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-4e5f-4789-abcd-ef0123456789',
              },
            }
          : {}),
        softwareDelivery: {
          repository: { codeCommitRepository: 'initech-site' },
          deployment: { policy: DeploymentPolicy.IMMUTABLE },
        },
      };
      const w = CustomerWebTier.fromConfig(s, 'Web', config, platform);
      acknowledgeWebTier(w);
      acknowledgeSoftwarePipeline(SoftwareDeliveryPipeline.fromConfig(s, 'Software', config, platform, w), w);
      stacks.push(s);
    }
    expectCompliant([platformScope, ...stacks]);
  });
});
