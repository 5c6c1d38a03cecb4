/*
 * The deployment policy rolling-with-additional-batch: the Deploy stage's state machine, path by path (Step Functions
 * Local is not available: the definition's structure is what is tested), its role and the pipeline's stage.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import { acknowledgeSoftwarePipeline, synthPipeline } from './fixture';
import { AdditionalBatch, CustomerConfig, CustomerWebTier, DeploymentPolicy, DeploymentStrategy } from '../../src';
import { SoftwareDeliveryPipeline } from '../../src/delivery-pipeline/software-delivery-pipeline';
import { expectCompliant, newTestApp } from '../support/compliance';
import { acknowledgeWebTier, ENV, platformStack } from '../support/platform-fixture';

const resourcesOf = (template: Template, type: string): [string, any][] =>
  Object.entries<any>(template.toJSON().Resources).filter(([, r]) => r.Type === type);

/** The state machine's definition, with each reference written as <Ref:id> or <GetAtt:id.attr>. */
function definitionOf(template: Template): any {
  const [[, machine], ...others] = resourcesOf(template, 'AWS::StepFunctions::StateMachine');
  expect(others).toEqual([]);
  const parts = machine.Properties.DefinitionString['Fn::Join'][1] as any[];
  const marker = (part: any) =>
    part.Ref ? `<Ref:${part.Ref}>` : part['Fn::GetAtt'] ? `<GetAtt:${part['Fn::GetAtt'].join('.')}>` : '<token>';
  return JSON.parse(parts.map((part) => (typeof part === 'string' ? part : marker(part))).join(''));
}

const built = synthPipeline({ additionalBatch: AdditionalBatch.count(2) });
const definition = definitionOf(built.template);
const states = definition.States as Record<string, any>;
const logicalId = (construct: any) => built.stack.resolve(construct.node.defaultChild.logicalId);

/** Every state reachable from `from` along Next, Default, Choices and Catch. */
function reachable(from: string, seen = new Set<string>()): Set<string> {
  if (seen.has(from)) return seen;
  seen.add(from);
  const state = states[from];
  const next = [
    state.Next,
    state.Default,
    ...(state.Choices ?? []).map((c: any) => c.Next),
    ...(state.Catch ?? []).map((c: any) => c.Next),
  ].filter(Boolean);
  for (const n of next) reachable(n, seen);
  return seen;
}

describe('the Deploy stage', () => {
  test('copies the revision to a key of the pipeline folder, then invokes the state machine with that location', () => {
    const pipeline = resourcesOf(built.template, 'AWS::CodePipeline::Pipeline')[0][1];
    const deploy = pipeline.Properties.Stages.find((s: any) => s.Name === 'Deploy');
    const [revision, invoke] = deploy.Actions;
    const key = `${built.pipeline.artifactsPrefix}/revisions/#{codepipeline.PipelineExecutionId}.zip`;
    expect(revision).toMatchObject({
      Name: 'Revision',
      RunOrder: 1,
      ActionTypeId: { Category: 'Deploy', Provider: 'S3' },
      InputArtifacts: [{ Name: 'Build' }],
      Configuration: { Extract: 'false', ObjectKey: key },
    });
    expect(invoke).toMatchObject({
      Name: 'Deploy',
      RunOrder: 2,
      ActionTypeId: { Category: 'Invoke', Provider: 'StepFunctions' },
    });
    const input = built.stack.resolve(invoke.Configuration.Input);
    expect(JSON.parse(typeof input === 'string' ? input : input['Fn::Join'][1].join(''))).toEqual({
      revision: { bucket: 'acme-artifacts-123456789012-eu-west-1', key },
      pipelineExecutionId: '#{codepipeline.PipelineExecutionId}',
    });
    // No CodeDeploy action: the machine creates the deployment.
    expect(deploy.Actions).toHaveLength(2);
  });

  test('the state machine runs as the pipeline role, which Step Functions may assume for this machine only', () => {
    const [[id, machine]] = resourcesOf(built.template, 'AWS::StepFunctions::StateMachine');
    expect(machine.Properties.StateMachineName).toBe('acme-staging-deploy');
    const role = built.pipeline.pipeline.role;
    expect(machine.Properties.RoleArn).toEqual({ 'Fn::GetAtt': [logicalId(role), 'Arn'] });
    const trust = (built.template.toJSON().Resources[logicalId(role)] as any).Properties.AssumeRolePolicyDocument
      .Statement;
    expect(trust).toContainEqual({
      Action: 'sts:AssumeRole',
      Effect: 'Allow',
      Principal: { Service: 'states.amazonaws.com' },
      Condition: {
        StringEquals: { 'aws:SourceAccount': '123456789012' },
        ArnEquals: {
          'aws:SourceArn': {
            'Fn::Join': [
              '',
              ['arn:', { Ref: 'AWS::Partition' }, ':states:eu-west-1:123456789012:stateMachine:acme-staging-deploy'],
            ],
          },
        },
      },
    });
    // The pipeline is created after the machine it invokes.
    const pipelineId = logicalId(built.pipeline.pipeline);
    expect((built.template.toJSON().Resources[pipelineId] as any).DependsOn).toContain(id);
  });
});

describe('the state machine', () => {
  test('one execution at a time, and none during an instance refresh: both fail before anything changes', () => {
    expect(definition.StartAt).toBe('ListRunningDeployments');
    expect(states.ListRunningDeployments.Parameters).toEqual({
      'StateMachineArn.$': '$$.StateMachine.Id',
      StatusFilter: 'RUNNING',
      MaxResults: 2,
    });
    expect(states.OnlyDeployment.Choices).toEqual([
      { Variable: '$.running.count', NumericGreaterThan: 1, Next: 'DeploymentAlreadyRunning' },
    ]);
    expect(states.OnlyDeployment.Default).toBe('DescribeRefreshesBeforeStart');
    const describe = states.DescribeRefreshesBeforeStart;
    expect(describe.Resource).toContain('aws-sdk:autoscaling:describeInstanceRefreshes');
    expect(describe.ResultSelector['active.$']).toBe(
      "$.InstanceRefreshes[?(@.Status == 'Pending' || @.Status == 'InProgress' || @.Status == 'Cancelling' || " +
        "@.Status == 'RollbackInProgress' || @.Status == 'Baking')].InstanceRefreshId",
    );
    expect(states.NoRefreshBeforeStart.Choices[0]).toEqual({
      Variable: '$.refreshes.count',
      NumericGreaterThan: 0,
      Next: 'RefreshRunningBeforeStart',
    });
    expect(states.RefreshRunningBeforeStart.Next).toBe('DeploymentFailed');
    // Before the configuration and the scale-out, a failure ends the execution at once: nothing was changed.
    for (const state of ['DescribeRefreshesBeforeStart', 'ReadCapacity', 'DeleteLeftoverBatchConfig']) {
      expect([state, states[state].Catch.at(-1)]).toEqual([
        state,
        { ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: 'DeploymentFailed' },
      ]);
    }
    for (const state of ['RefreshRunningBeforeStart', 'CapacityOutOfRange']) {
      expect([state, states[state].Next]).toEqual([state, 'DeploymentFailed']);
    }
    expect(states.ListRunningDeployments.Catch[0].Next).toBe('DeploymentAlreadyRunning');
    expect(states.DeploymentAlreadyRunning.Type).toBe('Fail');
    // Once the configuration may exist, a failure deletes it.
    expect(states.CreateBatchConfig.Catch[0].Next).toBe('DeleteBatchConfigAfterFailure');
    expect(states.ScaleOut.Catch[0].Next).toBe('ScaleBackAfterFailure');
    // A refresh that began while the batch came into service stops the deployment before it starts.
    expect(states.BatchInService.Choices[0].Next).toBe('DescribeRefreshesBeforeDeployment');
    expect(states.NoRefreshBeforeDeployment.Choices[0].Next).toBe('RefreshRunningBeforeDeployment');
    expect(states.RefreshRunningBeforeDeployment.Next).toBe('ScaleBackAfterFailure');
    expect(states.NoRefreshBeforeDeployment.Default).toBe('CreateDeployment');
  });

  test('scales out by the batch, with a configuration that keeps the instances that ran before in service', () => {
    expect(states.BatchSizes.Result.sizes).toEqual(Array(101).fill(2));
    expect(states.BatchSize.Parameters).toEqual({ 'size.$': 'States.ArrayGetItem($.batch.sizes, $.capacity.desired)' });
    expect(states.ScaledOutCapacity.Parameters).toEqual({
      'desired.$': 'States.MathAdd($.capacity.desired, $.batch.size)',
      'max.$': 'States.MathAdd($.capacity.max, $.batch.size)',
    });
    expect(states.CreateBatchConfig.Parameters).toEqual({
      DeploymentConfigName: 'acme-staging-additional-batch',
      ComputePlatform: 'Server',
      MinimumHealthyHosts: { Type: 'HOST_COUNT', 'Value.$': '$.capacity.desired' },
    });
    // A configuration left by a run whose clean-up failed is removed first; its absence is the usual case.
    expect(states.DeleteLeftoverBatchConfig.Catch[0]).toEqual({
      ErrorEquals: ['CodeDeploy.DeploymentConfigDoesNotExistException'],
      ResultPath: null,
      Next: 'CreateBatchConfig',
    });
    expect(states.ScaleOut.Parameters).toEqual({
      AutoScalingGroupName: `<Ref:${logicalId(built.web.autoScalingGroup)}>`,
      'DesiredCapacity.$': '$.target.desired',
      'MinSize.$': '$.target.desired',
      'MaxSize.$': '$.target.max',
    });
    expect(states.BatchInService.Choices[0]).toMatchObject({
      Variable: '$.capacityChecks.inService',
      NumericGreaterThanEqualsPath: '$.target.desired',
    });
    expect(states.ReadInService.ResultSelector).toEqual({
      'instances.$': "$.AutoScalingGroups[0].Instances[?(@.LifecycleState == 'InService')].InstanceId",
    });
  });

  test('deploys the revision of the input to the group with that configuration, and watches it', () => {
    const create = states.CreateDeployment;
    expect(create.Resource).toContain('aws-sdk:codedeploy:createDeployment');
    expect(create.Parameters).toMatchObject({
      ApplicationName: `<Ref:${logicalId(built.pipeline.application)}>`,
      DeploymentGroupName: `<Ref:${logicalId(built.pipeline.deploymentGroup)}>`,
      DeploymentConfigName: 'acme-staging-additional-batch',
      Revision: {
        RevisionType: 'S3',
        S3Location: { 'Bucket.$': '$.revision.bucket', 'Key.$': '$.revision.key', BundleType: 'zip' },
      },
    });
    expect(states.DeploymentDone.Choices[0]).toEqual({
      Variable: '$.status.Status',
      StringEquals: 'Succeeded',
      Next: 'ScaleBack',
    });
    expect(states.DeploymentDone.Choices[1].Next).toBe('DeploymentEndedBadly');
    expect(states.DeploymentEndedBadly.Next).toBe('ScaleBackAfterFailure');
    expect(states.DeploymentTookTooLong.Next).toBe('StopDeployment');
    expect(states.StopDeployment.Parameters).toEqual({
      'DeploymentId.$': '$.deployment.id',
      AutoRollbackEnabled: true,
    });
    expect(states.StopDeployment.Next).toBe('ScaleBackAfterFailure');
    // Success: capacity back, configuration deleted, done.
    expect(states.ScaleBack.Next).toBe('DeleteBatchConfig');
    expect(states.DeleteBatchConfig.Next).toBe('Deployed');
  });

  test('every path after the scale-out sets the capacity back and deletes the configuration; failures end failed with the reason', () => {
    for (const restore of ['ScaleBack', 'ScaleBackAfterFailure']) {
      expect(states[restore].Parameters).toEqual({
        AutoScalingGroupName: `<Ref:${logicalId(built.web.autoScalingGroup)}>`,
        'DesiredCapacity.$': '$.capacity.desired',
        'MinSize.$': '$.capacity.min',
        'MaxSize.$': '$.capacity.max',
      });
    }
    expect(states.ScaleBackAfterFailure.Next).toBe('DeleteBatchConfigAfterFailure');
    expect(states.ScaleBackAfterFailure.Catch[0].Next).toBe('DeleteBatchConfigAfterFailure');
    expect(states.DeleteBatchConfigAfterFailure.Next).toBe('DeploymentFailed');
    expect(states.DeploymentFailed).toEqual({
      Type: 'Fail',
      ErrorPath: '$.failure.Error',
      CausePath: '$.failure.Cause',
    });
    // From the scale-out on, every way to DeploymentFailed passes through the scale-back.
    const afterScaleOut = [...reachable('ScaleOut')].filter(
      (s) =>
        ![
          'ScaleBack',
          'ScaleBackAfterFailure',
          'DeleteBatchConfigAfterFailure',
          'DeploymentFailed',
          'DeleteBatchConfig',
        ].includes(s),
    );
    for (const name of afterScaleOut) {
      const state = states[name];
      const targets = [
        state.Next,
        state.Default,
        ...(state.Choices ?? []).map((c: any) => c.Next),
        ...(state.Catch ?? []).map((c: any) => c.Next),
      ];
      expect([name, targets.filter((t) => t === 'DeploymentFailed' || t === 'DeleteBatchConfigAfterFailure')]).toEqual([
        name,
        [],
      ]);
    }
    // The clean-up's own errors keep the first failure as the reason.
    expect(states.ScaleBackAfterFailure.Catch[0].ResultPath).toBe('$.cleanupError');
    expect(states.DeleteBatchConfigAfterFailure.Catch[0]).toEqual({
      ErrorEquals: ['States.ALL'],
      ResultPath: '$.cleanupError',
      Next: 'DeploymentFailed',
    });
  });

  test("every task has a timeout and a catch-all (States.Timeout included); the longest run ends within the action's hour", () => {
    const tasks = Object.entries(states).filter(([, s]) => s.Type === 'Task');
    expect(tasks.length).toBeGreaterThan(10);
    for (const [name, task] of tasks) {
      expect([name, task.TimeoutSeconds]).toEqual([name, expect.any(Number)]);
      expect([name, task.Catch?.some((c: any) => c.ErrorEquals.includes('States.ALL'))]).toEqual([name, true]);
    }
    // Every Wait is in a loop with a limit: its Choice counts and leaves once the count reaches it.
    const waits = Object.entries(states).filter(([, s]) => s.Type === 'Wait');
    expect(waits.map(([n]) => n).sort()).toEqual(['WaitForBatch', 'WaitForDeployment']);
    const taskSeconds = Math.max(...tasks.map(([, t]) => t.TimeoutSeconds));
    const loop = (choice: string, counter: string, wait: string, tasksPerRound: number) => {
      const limit = states[choice].Choices.find((c: any) => c.Variable === counter).NumericGreaterThanEquals;
      expect(limit).toBeGreaterThan(0);
      return limit * (states[wait].Seconds + tasksPerRound * taskSeconds);
    };
    // Worst case: every task once at its timeout, and every loop to its limit with its tasks at their timeout.
    const worst =
      tasks.length * taskSeconds +
      loop('BatchInService', '$.capacityChecks.count', 'WaitForBatch', 1) +
      loop('DeploymentDone', '$.deploymentChecks.count', 'WaitForDeployment', 1);
    expect(worst).toBeLessThan(definition.TimeoutSeconds);
    expect(definition.TimeoutSeconds).toBeLessThan(3600);
  });

  test('a batch as a share of the running instances is read from a list by their number, rounded up, one at least', () => {
    const percent = definitionOf(synthPipeline({ additionalBatch: AdditionalBatch.percentage(25) }).template);
    const sizes = percent.States.BatchSizes.Result.sizes;
    expect(sizes).toHaveLength(101);
    expect([sizes[0], sizes[1], sizes[4], sizes[5], sizes[8], sizes[100]]).toEqual([1, 1, 1, 2, 2, 25]);
    expect(percent.States.CapacityInRange.Choices[0]).toEqual({
      Variable: '$.capacity.desired',
      NumericLessThanEquals: 100,
      Next: 'BatchSizes',
    });
  });
});

describe('least privilege', () => {
  const statements = () => {
    const role = built.pipeline.pipeline.role;
    return resourcesOf(built.template, 'AWS::IAM::Policy')
      .filter(([, p]) => p.Properties.Roles.some((r: any) => r.Ref === logicalId(role)))
      .flatMap(([, p]) => p.Properties.PolicyDocument.Statement);
  };
  const resourcesFor = (action: string) =>
    statements()
      .filter((s) => [s.Action].flat().includes(action))
      .flatMap((s) => [s.Resource].flat());

  test("the machine's actions are on the environment's group, deployment group, application and configuration", () => {
    const asg = resourcesFor('autoscaling:UpdateAutoScalingGroup');
    expect(asg).toHaveLength(1);
    expect(JSON.stringify(asg)).toContain(logicalId(built.web.autoScalingGroup));
    const group = JSON.stringify(resourcesFor('codedeploy:CreateDeployment'));
    expect(group).toContain(`deploymentgroup:`);
    expect(group).toContain(logicalId(built.pipeline.deploymentGroup));
    for (const action of ['codedeploy:GetDeployment', 'codedeploy:StopDeployment']) {
      expect(JSON.stringify(resourcesFor(action))).toBe(group);
    }
    for (const action of [
      'codedeploy:CreateDeploymentConfig',
      'codedeploy:DeleteDeploymentConfig',
      'codedeploy:GetDeploymentConfig',
    ]) {
      const [config, ...others] = resourcesFor(action);
      expect(others).toEqual([]);
      expect(JSON.stringify(config)).toContain(':deploymentconfig:acme-staging-additional-batch');
    }
    expect(JSON.stringify(resourcesFor('codedeploy:RegisterApplicationRevision'))).toContain(
      logicalId(built.pipeline.application),
    );
    expect(resourcesFor('states:ListExecutions')).toHaveLength(1);
    // Only the reads without resource-level permissions are on '*'.
    const anywhere = statements()
      .filter((s) => [s.Resource].flat().includes('*'))
      .flatMap((s) => [s.Action].flat())
      .filter((a) => !a.startsWith('logs:') && !a.startsWith('xray:'))
      .sort();
    expect(anywhere).toEqual(['autoscaling:DescribeAutoScalingGroups', 'autoscaling:DescribeInstanceRefreshes']);
  });
});

describe('props and config', () => {
  test('additionalBatch beside deploymentStrategy or minimumHealthyHosts is refused, naming both', () => {
    expect(() =>
      synthPipeline(
        { additionalBatch: AdditionalBatch.count(1), deploymentStrategy: DeploymentStrategy.ALL_AT_ONCE },
        { noTemplate: true },
      ),
    ).toThrow(
      /SoftwareDeliveryPipeline .*: additionalBatch: received it beside deploymentStrategy; expected one of the two/,
    );
    expect(() =>
      synthPipeline(
        { additionalBatch: AdditionalBatch.count(1), minimumHealthyHosts: codedeploy.MinimumHealthyHosts.count(1) },
        { noTemplate: true },
      ),
    ).toThrow(/additionalBatch: received it beside minimumHealthyHosts/);
  });

  test.each([
    [AdditionalBatch.count(0), 'received AdditionalBatch.count(0); expected a whole number from 1 to 100'],
    [AdditionalBatch.count(1.5), 'received AdditionalBatch.count(1.5); expected a whole number from 1 to 100'],
    [AdditionalBatch.percentage(100), 'received AdditionalBatch.percentage(100); expected a whole number from 1 to 99'],
  ])('a batch out of range is refused (%#)', (batch, message) => {
    expect(() => synthPipeline({ additionalBatch: batch }, { noTemplate: true })).toThrow(
      `additionalBatch: ${message}`,
    );
  });

  test('fromConfig: policy rolling-with-additional-batch builds the machine with the batch of the file', () => {
    const app = new App();
    const { platform } = platformStack(app, { domain: 'apps.example.com' });
    const stack = new Stack(app, 'Initech', { env: ENV });
    const config: CustomerConfig = {
      customer: 'initech',
      environment: 'staging',
      softwareDelivery: {
        repository: { codeCommitRepository: 'initech-site' },
        deployment: { policy: DeploymentPolicy.ROLLING_WITH_ADDITIONAL_BATCH, batchSizePercent: 50 },
      },
    };
    const web = CustomerWebTier.fromConfig(stack, 'Web', config, platform);
    const pipeline = SoftwareDeliveryPipeline.fromConfig(stack, 'Software', config, platform, web);
    expect(pipeline.deploymentStateMachine).toBeDefined();
    // Without a batch in the file: one instance.
    const defaultStack = new Stack(app, 'InitechDefault', { env: ENV });
    const defaultConfig: CustomerConfig = {
      ...config,
      softwareDelivery: {
        ...config.softwareDelivery,
        deployment: { policy: DeploymentPolicy.ROLLING_WITH_ADDITIONAL_BATCH },
      },
    };
    const defaultWeb = CustomerWebTier.fromConfig(defaultStack, 'Web', defaultConfig, platform);
    SoftwareDeliveryPipeline.fromConfig(defaultStack, 'Software', defaultConfig, platform, defaultWeb);
    const sizes = definitionOf(Template.fromStack(stack)).States.BatchSizes.Result.sizes;
    expect([sizes[1], sizes[2], sizes[3]]).toEqual([1, 1, 2]);
    expect(definitionOf(Template.fromStack(defaultStack)).States.BatchSizes.Result.sizes).toEqual(Array(101).fill(1));
  });

  test('the other policies have no state machine and deploy with the CodeDeploy action', () => {
    const plain = synthPipeline();
    expect(plain.pipeline.deploymentStateMachine).toBeUndefined();
    expect(resourcesOf(plain.template, 'AWS::StepFunctions::StateMachine')).toEqual([]);
  });
});

describe('compliance', () => {
  test('a staging and a production environment with an additional batch pass every check', () => {
    const app: App = newTestApp();
    const { stack: platformScope, platform } = platformStack(app, { production: true, domain: 'apps.example.com' });
    const stacks: Stack[] = [];
    for (const environment of ['staging', 'production']) {
      const stack = new Stack(app, `Initech${environment}`, { env: ENV });
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
          deployment: { policy: DeploymentPolicy.ROLLING_WITH_ADDITIONAL_BATCH, batchSize: 2 },
        },
      };
      const web = CustomerWebTier.fromConfig(stack, 'Web', config, platform);
      acknowledgeWebTier(web);
      acknowledgeSoftwarePipeline(SoftwareDeliveryPipeline.fromConfig(stack, 'Software', config, platform, web), web);
      stacks.push(stack);
    }
    expectCompliant([platformScope, ...stacks]);
  });
});
