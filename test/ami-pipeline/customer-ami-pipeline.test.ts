/*
 * CustomerAmiPipeline: stages and their order, approval only in production, the SSM parameter and the instance
 * refresh scoped to the customer's own resources, the bake's build project and its least-privilege role, the
 * asset holding the rendered template and the scripts, the schedule, and the errors of bad props.
 */
import { readdirSync, readFileSync } from 'fs';
import { join } from 'path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as events from 'aws-cdk-lib/aws-events';
import * as s3 from 'aws-cdk-lib/aws-s3';
import {
  CustomerAmiPipeline,
  CustomerAmiPipelineProps,
  CustomerWebTier,
  PackerBaseImage,
  PipelineSource,
} from '../../src';
import { AMI_PIPELINE_SCRIPTS } from '../../src/ami-pipeline/scripts';
import { toStructKeys } from '../../src/config/keys';
import { zipEntries } from '../../src/config/zip';
import { stagingCustomer } from '../config/fixtures';
import { addWebTier, Fixture, logicalId, newPlatform, only, propertiesOf, resourcesOf } from '../web-tier/fixture';

const CONNECTION = 'arn:aws:codeconnections:eu-west-1:123456789012:connection/0a1b2c3d-4e5f-6789-abcd-ef0123456789';

interface Built {
  readonly fixture: Fixture;
  readonly stack: Stack;
  readonly pipeline: CustomerAmiPipeline;
  readonly template: Template;
}

function build(props: Partial<CustomerAmiPipelineProps> = {}, environment = 'staging'): Built {
  const fixture = newPlatform();
  const { stack, web } = addWebTier(fixture, 'Customer', { environment });
  const pipeline = new CustomerAmiPipeline(stack, 'Ami', {
    customer: 'acme',
    environment,
    source: PipelineSource.codeConnections({ connectionArn: CONNECTION, owner: 'acme', repository: 'infrastructure' }),
    vpc: fixture.platform.vpc,
    artifactsBucket: fixture.platform.artifactsBucket,
    amiParameter: web.amiParameter,
    autoScalingGroup: web.autoScalingGroup,
    ...(environment === 'production' ? { approvalEmails: ['ops@acme.example'] } : {}),
    ...props,
  });
  return { fixture, stack, pipeline, template: Template.fromStack(stack) };
}

const stageNames = (template: Template) =>
  only(template, 'AWS::CodePipeline::Pipeline')[1].Properties.Stages.map((stage: any) => stage.Name);
const actionsOf = (template: Template, stage: string) =>
  only(template, 'AWS::CodePipeline::Pipeline')[1].Properties.Stages.find((s: any) => s.Name === stage).Actions;

/** The state machine's definition as JSON; what CloudFormation joins in reads `<Ref:LogicalId>` or `<GetAtt:…>`. */
function definitionOf(built: Built): any {
  const [, machine] = only(built.template, 'AWS::StepFunctions::StateMachine');
  const parts = machine.Properties.DefinitionString['Fn::Join'][1] as any[];
  const marker = (part: any) =>
    part.Ref ? `<Ref:${part.Ref}>` : part['Fn::GetAtt'] ? `<GetAtt:${part['Fn::GetAtt'].join('.')}>` : '<token>';
  return JSON.parse(parts.map((part) => (typeof part === 'string' ? part : marker(part))).join(''));
}

function statementsOf(template: Template, rolePrefix: string): any[] {
  return resourcesOf(template, 'AWS::IAM::Policy')
    .filter(([, policy]) => policy.Properties.Roles.some((role: any) => role.Ref.startsWith(rolePrefix)))
    .flatMap(([, policy]) => policy.Properties.PolicyDocument.Statement);
}

describe('stages', () => {
  test('staging: source (repository and template), bake, rollout; no approval', () => {
    const built = build();
    expect(stageNames(built.template)).toEqual(['Source', 'Bake', 'Rollout']);
    expect(actionsOf(built.template, 'Source').map((a: any) => a.Name)).toEqual(['Repository', 'PackerTemplate']);
    expect(built.pipeline.node.tryFindChild('ApprovalTopic')).toBeUndefined();
    expect(built.pipeline.approvalTopic).toBeUndefined();
  });

  test('production waits for an approval that names customer, environment, image and commit', () => {
    const built = build({}, 'production');
    expect(stageNames(built.template)).toEqual(['Source', 'Bake', 'Approve', 'Rollout']);
    const [approval] = actionsOf(built.template, 'Approve');
    expect(approval.ActionTypeId).toMatchObject({ Category: 'Approval', Provider: 'Manual' });
    const info = approval.Configuration.CustomData as string;
    expect(info).toContain('acme-production');
    expect(info).toContain('#{Bake.AMI_ID}');
    expect(info).toMatch(/#\{Repository\.CommitId\}|#\{[A-Za-z_]+\.CommitId\}/);
    built.template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@acme.example' });
    built.template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    built.template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  test('the bake exports the image id, fed with the commit of the source action', () => {
    const built = build();
    const [bake] = actionsOf(built.template, 'Bake');
    expect(bake.Namespace).toBe('Bake');
    expect(bake.InputArtifacts.map((a: any) => a.Name)).toEqual(['Repository', 'PackerTemplate']);
    const variables = JSON.parse(bake.Configuration.EnvironmentVariables);
    expect(variables).toEqual([
      { name: 'COMMIT_ID', type: 'PLAINTEXT', value: '#{Source_Repository_NS.CommitId}' },
      // Never the commit message: CodePipeline does not escape it in this JSON (bake.sh reads it itself).
      { name: 'PIPELINE_EXECUTION_ID', type: 'PLAINTEXT', value: '#{codepipeline.PipelineExecutionId}' },
    ]);
    const [, project] = only(built.template, 'AWS::CodeBuild::Project');
    const spec = JSON.parse(project.Properties.Source.BuildSpec);
    expect(spec.env['exported-variables']).toEqual(['AMI_ID']);
    expect(spec.phases.build.commands[0]).toBe('AMI_ID="$(bash "$TEMPLATE_DIR/bake.sh")"');
  });

  test('the rollout gets the baked image id as input', () => {
    const built = build();
    const [rollout] = actionsOf(built.template, 'Rollout');
    expect(rollout.ActionTypeId).toMatchObject({ Category: 'Invoke', Provider: 'StepFunctions' });
    expect(JSON.parse(rollout.Configuration.Input)).toEqual({ amiId: '#{Bake.AMI_ID}' });
  });
});

describe('rollout', () => {
  test("writes the fleet's AMI parameter, then refreshes the fleet and waits for the result", () => {
    const built = build();
    const definition = definitionOf(built);
    expect(definition.StartAt).toBe('ListRunningRollouts');
    expect(definition.States.OnlyRollout.Default).toBe('ReadCurrentImage');
    expect(definition.States.ReadCurrentImage.Next).toBe('WriteAmiParameter');
    const write = definition.States.WriteAmiParameter;
    expect(write.Resource).toContain('aws-sdk:ssm:putParameter');
    expect(write.Parameters).toMatchObject({
      Name: '/vending/acme/staging/ami-id',
      'Value.$': '$.amiId',
      DataType: 'aws:ec2:image',
      Overwrite: true,
    });
    // SSM validates an aws:ec2:image value after PutParameter returns: the refresh waits until it reads it back.
    expect(write.Next).toBe('StartValidationChecks');
    const validated = definition.States.ImageValidated;
    expect(validated.Choices[0].And).toEqual([
      { Variable: '$.current.Value', StringEqualsPath: '$.amiId' },
      { Variable: '$.current.Version', NumericGreaterThanEqualsPath: '$.written.Version' },
    ]);
    expect(validated.Choices[0].Next).toBe('StartInstanceRefresh');
    expect(validated.Choices[1]).toEqual({
      Variable: '$.checks.count',
      NumericGreaterThanEquals: 12,
      Next: 'ImageNotValidated',
    });
    const refresh = definition.States.StartInstanceRefresh;
    expect(refresh.Resource).toContain('aws-sdk:autoscaling:startInstanceRefresh');
    const web = built.stack.node.findChild('Web') as CustomerWebTier;
    expect(refresh.Parameters.AutoScalingGroupName).toBe(`<Ref:${logicalId(web.autoScalingGroup)}>`);
    expect(refresh.Parameters.Preferences).toEqual({ MinHealthyPercentage: 50, MaxHealthyPercentage: 100 });
    expect(definition.States.RefreshDone.Choices[0].StringEquals).toBe('Successful');
    expect(definition.States.RefreshDone.Default).toBe('CountRefreshCheck');
    expect(definition.States.CountRefreshCheck.Next).toBe('WaitForRefresh');
  });

  test('a failed refresh, or any error after the write, puts the previous image back', () => {
    const definition = definitionOf(build());
    expect(definition.States.RefreshDone.Choices[1].Next).toBe('RefreshFailed');
    expect(definition.States.RefreshFailed.Next).toBe('RestorePreviousImage');
    for (const state of ['WriteAmiParameter', 'ReadWrittenImage', 'StartInstanceRefresh']) {
      expect(definition.States[state].Catch).toEqual([
        { ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: 'RestorePreviousImage' },
      ]);
    }
    // An error while the refresh runs stops it first.
    expect(definition.States.DescribeInstanceRefresh.Catch).toEqual([
      { ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: 'CancelInstanceRefresh' },
    ]);
    const restore = definition.States.RestorePreviousImage;
    expect(restore.Parameters).toMatchObject({ Name: '/vending/acme/staging/ami-id', 'Value.$': '$.previous.Value' });
    expect(restore.Next).toBe('RolloutFailed');
    expect(definition.States.RolloutFailed.Type).toBe('Fail');
  });

  test('one rollout per environment at a time: a second execution fails before it touches anything', () => {
    const definition = definitionOf(build());
    expect(definition.StartAt).toBe('ListRunningRollouts');
    const list = definition.States.ListRunningRollouts;
    expect(list.Resource).toContain('aws-sdk:sfn:listExecutions');
    expect(list.Parameters).toEqual({
      'StateMachineArn.$': '$$.StateMachine.Id',
      StatusFilter: 'RUNNING',
      MaxResults: 2,
    });
    expect(definition.States.OnlyRollout.Choices).toEqual([
      { Variable: '$.running.count', NumericGreaterThan: 1, Next: 'RolloutAlreadyRunning' },
    ]);
    expect(definition.States.OnlyRollout.Default).toBe('ReadCurrentImage');
    // Neither the parameter nor the refresh of the running execution is touched: it fails straight away.
    expect(definition.States.RolloutAlreadyRunning.Type).toBe('Fail');
    expect(list.Catch[0].Next).toBe('RolloutAlreadyRunning');
  });

  test("every task has a timeout and a catch-all (States.Timeout included); the longest run ends within the action's hour", () => {
    const definition = definitionOf(build());
    const tasks = Object.entries(definition.States as Record<string, any>).filter(([, s]) => s.Type === 'Task');
    expect(tasks.length).toBeGreaterThan(5);
    for (const [name, task] of tasks) {
      expect([name, task.TimeoutSeconds]).toEqual([name, expect.any(Number)]);
      expect([name, task.Catch?.[0]?.ErrorEquals]).toEqual([name, ['States.ALL']]);
    }
    // Worst case: every bounded loop runs to its limit, each task taking its full timeout.
    const taskSeconds = Math.max(...tasks.map(([, t]) => t.TimeoutSeconds));
    const loop = (choice: string, counter: string, wait: string, tasksPerRound: number) => {
      const limit = definition.States[choice].Choices.find((c: any) => c.Variable === counter).NumericGreaterThanEquals;
      return limit * (definition.States[wait].Seconds + tasksPerRound * taskSeconds);
    };
    const worst =
      tasks.length * taskSeconds +
      loop('ImageValidated', '$.checks.count', 'WaitForValidation', 1) +
      loop('RefreshDone', '$.refreshChecks.count', 'WaitForRefresh', 1);
    // The Step Functions invoke action of CodePipeline times out after an hour ("all other actions" in CodePipeline's
    // quotas): the rollout ends first, and its own timeout is never reached before the loops' limits.
    expect(worst).toBeLessThan(definition.TimeoutSeconds);
    expect(definition.TimeoutSeconds).toBeLessThan(3600);
  });

  test('a refresh that outlasts its time is cancelled, then the previous image goes back and the pipeline fails with the reason', () => {
    const definition = definitionOf(build());
    const tooLong = definition.States.RefreshDone.Choices.find((c: any) => c.Variable === '$.refreshChecks.count');
    expect(tooLong.Next).toBe('RefreshTookTooLong');
    expect(definition.States.RefreshTookTooLong.Next).toBe('CancelInstanceRefresh');
    expect(definition.States.CancelInstanceRefresh.Resource).toContain('aws-sdk:autoscaling:cancelInstanceRefresh');
    expect(definition.States.CancelInstanceRefresh.Next).toBe('RestorePreviousImage');
    expect(definition.States.CancelInstanceRefresh.Catch[0].Next).toBe('RestorePreviousImage');
    expect(definition.States.RolloutFailed).toMatchObject({
      Type: 'Fail',
      ErrorPath: '$.failure.Error',
      CausePath: '$.failure.Cause',
    });
  });

  test('production keeps its capacity: new instances start before old ones stop', () => {
    const definition = definitionOf(build({}, 'production'));
    expect(definition.States.StartInstanceRefresh.Parameters.Preferences).toEqual({
      MinHealthyPercentage: 100,
      MaxHealthyPercentage: 200,
    });
  });

  test('with a deployment group: no refresh while CodeDeploy deploys to the instances, ten minutes at most', () => {
    const fixture = newPlatform();
    const { stack, web } = addWebTier(fixture, 'Customer', { environment: 'staging' });
    const application = new codedeploy.ServerApplication(stack, 'App', { applicationName: 'acme-staging-software' });
    const deploymentGroup = new codedeploy.ServerDeploymentGroup(stack, 'Group', {
      application,
      deploymentGroupName: 'acme-staging',
      autoScalingGroups: [web.autoScalingGroup],
    });
    const pipeline = new CustomerAmiPipeline(stack, 'Ami', {
      customer: 'acme',
      environment: 'staging',
      source: PipelineSource.codeConnections({
        connectionArn: CONNECTION,
        owner: 'acme',
        repository: 'infrastructure',
      }),
      vpc: fixture.platform.vpc,
      artifactsBucket: fixture.platform.artifactsBucket,
      amiParameter: web.amiParameter,
      autoScalingGroup: web.autoScalingGroup,
      deploymentGroup,
    });
    const template = Template.fromStack(stack);
    const definition = definitionOf({ fixture, stack, pipeline, template });
    // Validated image -> check deployments -> refresh only when none is active; else wait a minute and look again.
    expect(definition.States.ImageValidated.Choices[0].Next).toBe('StartDeploymentChecks');
    expect(definition.States.StartDeploymentChecks.Next).toBe('ListActiveDeployments');
    const list = definition.States.ListActiveDeployments;
    expect(list.Resource).toBe('arn:<Ref:AWS::Partition>:states:::aws-sdk:codedeploy:listDeployments');
    expect(list.Parameters).toEqual({
      ApplicationName: `<Ref:${logicalId(application)}>`,
      DeploymentGroupName: `<Ref:${logicalId(deploymentGroup)}>`,
      IncludeOnlyStatuses: ['Created', 'Queued', 'InProgress', 'Baking', 'Ready'],
    });
    expect(list.ResultSelector).toEqual({ 'count.$': 'States.ArrayLength($.Deployments)' });
    expect(list.Catch[0].Next).toBe('RestorePreviousImage');
    expect(definition.States.NoDeploymentInProgress.Choices).toEqual([
      { Variable: '$.activeDeployments.count', NumericEquals: 0, Next: 'StartInstanceRefresh' },
      { Variable: '$.deploymentChecks.count', NumericGreaterThanEquals: 10, Next: 'DeploymentsStillRunning' },
    ]);
    expect(definition.States.NoDeploymentInProgress.Default).toBe('CountDeploymentCheck');
    expect(definition.States.CountDeploymentCheck.Next).toBe('WaitForDeployments');
    expect(definition.States.WaitForDeployments).toMatchObject({ Seconds: 60, Next: 'ListActiveDeployments' });
    // Listing deployments of this group only.
    const statements = statementsOf(template, 'AmiRolloutRole');
    const listing = statements.find((s) => s.Action === 'codedeploy:ListDeployments');
    expect(JSON.stringify(listing.Resource)).toContain(':deploymentgroup:');
    expect(JSON.stringify(listing.Resource)).toContain(logicalId(deploymentGroup));
    // Without a group the validated image goes straight to the refresh (the test above).
  });

  test('with the software pipeline: its Deploy transition is disabled first and enabled again on every path', () => {
    const fixture = newPlatform();
    const { stack, web } = addWebTier(fixture, 'Customer', { environment: 'staging' });
    const software = codepipeline.Pipeline.fromPipelineArn(
      stack,
      'Software',
      'arn:aws:codepipeline:eu-west-1:123456789012:acme-staging-software',
    );
    const pipeline = new CustomerAmiPipeline(stack, 'Ami', {
      customer: 'acme',
      environment: 'staging',
      source: PipelineSource.codeConnections({
        connectionArn: CONNECTION,
        owner: 'acme',
        repository: 'infrastructure',
      }),
      vpc: fixture.platform.vpc,
      artifactsBucket: fixture.platform.artifactsBucket,
      amiParameter: web.amiParameter,
      autoScalingGroup: web.autoScalingGroup,
      softwarePipeline: software,
    });
    const template = Template.fromStack(stack);
    const definition = definitionOf({ fixture, stack, pipeline, template });
    // After the lock on executions, before anything is written.
    expect(definition.States.OnlyRollout.Default).toBe('LockSoftwareDeployments');
    const lock = definition.States.LockSoftwareDeployments;
    expect(lock.Resource).toContain('aws-sdk:codepipeline:disableStageTransition');
    expect(lock.Parameters).toMatchObject({
      PipelineName: 'acme-staging-software',
      StageName: 'Deploy',
      TransitionType: 'Inbound',
    });
    expect(lock.Next).toBe('ReadCurrentImage');
    expect(lock.Catch[0].Next).toBe('UnlockSoftwareDeploymentsAfterFailure');
    // Success: enabled, then done. Failure: the previous image back, enabled, then failed with the reason.
    expect(definition.States.RefreshDone.Choices[0].Next).toBe('UnlockSoftwareDeployments');
    expect(definition.States.UnlockSoftwareDeployments.Resource).toContain(
      'aws-sdk:codepipeline:enableStageTransition',
    );
    expect(definition.States.UnlockSoftwareDeployments.Next).toBe('FleetOnNewImage');
    expect(definition.States.RestorePreviousImage.Next).toBe('UnlockSoftwareDeploymentsAfterFailure');
    expect(definition.States.RestorePreviousImage.Catch[0].Next).toBe('UnlockSoftwareDeploymentsAfterFailure');
    expect(definition.States.ReadCurrentImage.Catch[0].Next).toBe('UnlockSoftwareDeploymentsAfterFailure');
    expect(definition.States.UnlockSoftwareDeploymentsAfterFailure.Next).toBe('RolloutFailed');
    // Every state that leads to RolloutFailed passes through the unlock first (or is the unlock itself).
    const into = Object.entries(definition.States as Record<string, any>)
      .filter(([, st]) => st.Next === 'RolloutFailed' || (st.Catch ?? []).some((c: any) => c.Next === 'RolloutFailed'))
      .map(([name]) => name)
      .sort();
    expect(into).toEqual(['UnlockSoftwareDeployments', 'UnlockSoftwareDeploymentsAfterFailure']);
    // The role may change that one stage's transition only.
    const statements = statementsOf(template, 'AmiRolloutRole');
    for (const action of ['codepipeline:DisableStageTransition', 'codepipeline:EnableStageTransition']) {
      const statement = statements.find((st) => st.Action === action);
      expect(JSON.stringify(statement.Resource)).toContain('acme-staging-software/Deploy');
    }
  });

  test("may change only the customer's own parameter and refresh only the customer's own group", () => {
    const built = build();
    const statements = statementsOf(built.template, 'AmiRolloutRole');
    const put = statements.find((s) => s.Action === 'ssm:PutParameter');
    expect(JSON.stringify(put.Resource)).toContain('parameter/vending/acme/staging/ami-id');
    const start = statements.find((s) => s.Action === 'autoscaling:StartInstanceRefresh');
    const web = built.stack.node.findChild('Web') as CustomerWebTier;
    expect(JSON.stringify(start.Resource)).toContain('autoScalingGroupName/');
    expect(JSON.stringify(start.Resource)).toContain(logicalId(web.autoScalingGroup));
    const describe = statements.find((s) => s.Action === 'autoscaling:DescribeInstanceRefreshes');
    expect(describe.Resource).toBe('*');
    // SSM validates an aws:ec2:image value with the writer's ec2:DescribeImages.
    expect(statements.find((s) => s.Action === 'ec2:DescribeImages').Resource).toBe('*');
    const read = statements.find((s) => s.Action === 'ssm:GetParameter');
    expect(JSON.stringify(read.Resource)).toContain('parameter/vending/acme/staging/ami-id');
    expect(statements.flatMap((s) => [s.Action].flat()).filter((a: string) => a.includes('*'))).toEqual([]);
  });
});

describe('bake', () => {
  test('runs in the private subnets with a role whose sessions outlast the build', () => {
    const built = build({ buildTimeout: Duration.hours(3) });
    const [, project] = only(built.template, 'AWS::CodeBuild::Project');
    expect(project.Properties.TimeoutInMinutes).toBe(180);
    expect(project.Properties.VpcConfig.Subnets.length).toBeGreaterThan(0);
    expect(project.Properties.EncryptionKey).toBeDefined();
    expect(project.Properties.Environment.PrivilegedMode).toBe(false);
    built.template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: Match.objectLike({
        Statement: [Match.objectLike({ Principal: { Service: 'codebuild.amazonaws.com' } })],
      }),
      MaxSessionDuration: 3 * 3600,
    });
    const env = Object.fromEntries(
      project.Properties.Environment.EnvironmentVariables.map((v: any) => [v.Name, v.Value]),
    );
    expect(env).toMatchObject({
      PACKER_VERSION: '1.14.2',
      PACKER_SHA256: 'cfefdea4ac580eba7b254ef34d25b756d4961741004e3e701a1476594d13e64a',
      BUILD_REGION: 'eu-west-1',
      BASE_IMAGE_PARAMETER: '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64',
      KEEP_IMAGES: '5',
      PACKER_BUILD_TAG: 'acme/staging',
      AMI_PARAMETER: '/vending/acme/staging/ami-id',
    });
  });

  test('Packer may act only on what it tagged, in the one subnet and security group', () => {
    const built = build();
    const statements = statementsOf(built.template, 'AmiBuildRole');
    const bySid = Object.fromEntries(statements.filter((s) => s.Sid).map((s) => [s.Sid, s]));
    const buildTag = { 'aws:ResourceTag/vending:packer-build': 'acme/staging' };
    const requestTag = { 'aws:RequestTag/vending:packer-build': 'acme/staging' };
    expect(bySid.PackerLaunchTagged.Condition).toEqual({ StringEquals: requestTag });
    // Tags at creation only on what Packer creates, with the build tag; later tags only on its own images.
    expect(bySid.PackerTagAtLaunch.Condition).toEqual({
      StringEquals: { 'ec2:CreateAction': ['RunInstances', 'CreateKeyPair'], ...requestTag },
    });
    expect(bySid.PackerTagNewImages.Condition).toEqual({
      StringEquals: { 'ec2:CreateAction': 'CreateImage', ...requestTag },
    });
    expect(bySid.PackerTagOwnImages.Condition).toEqual({ StringEquals: { ...buildTag, ...requestTag } });
    expect(bySid.PackerModifyOwnImages.Condition).toEqual({ StringEquals: buildTag });
    expect(bySid.PackerOwnInstances.Condition).toEqual({ StringEquals: buildTag });
    expect(bySid.PackerOwnInstances.Action).toEqual(
      expect.arrayContaining(['ec2:TerminateInstances', 'ec2:StopInstances']),
    );
    expect(bySid.RetainImages.Condition).toEqual({ StringEquals: buildTag });
    expect(JSON.stringify(bySid.PackerLaunchFrom.Resource)).toContain(
      logicalId(built.pipeline.buildInstanceSecurityGroup),
    );
    // Nothing but the describe calls (no resource-level permissions in IAM) is allowed on every resource.
    const unscoped = statements.filter((s) => s.Resource === '*').flatMap((s) => [s.Action].flat());
    expect(
      unscoped.filter(
        (a: string) =>
          !/^ec2:Describe|^ec2:(Create|Delete)NetworkInterface|^ec2:AssignPrivate|^ec2:UnassignPrivate/.test(a),
      ),
    ).toEqual([]);
    expect(statements.flatMap((s) => [s.Action].flat()).filter((a: string) => a.endsWith(':*'))).toEqual([]);
  });

  test("the bake may read its own pipeline's executions (bake.sh reads the commit message of a zip source there), and no other pipeline's", () => {
    const built = build();
    const reads = statementsOf(built.template, 'AmiBuildRole').filter((s) =>
      [s.Action].flat().includes('codepipeline:GetPipelineExecution'),
    );
    const pipelineName = propertiesOf(built.template, built.pipeline.pipeline).Name;
    expect(reads).toEqual([
      {
        Effect: 'Allow',
        Action: 'codepipeline:GetPipelineExecution',
        Resource: {
          'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:codepipeline:eu-west-1:123456789012:${pipelineName}`]],
        },
      },
    ]);
  });

  test('the build instance takes SSH from the bake only and reaches out on HTTP(S) only', () => {
    const built = build();
    const group = logicalId(built.pipeline.buildInstanceSecurityGroup);
    const ingress = resourcesOf(built.template, 'AWS::EC2::SecurityGroupIngress').filter(
      ([, r]) => r.Properties.GroupId['Fn::GetAtt']?.[0] === group,
    );
    expect(ingress.map(([, r]) => [r.Properties.FromPort, r.Properties.SourceSecurityGroupId])).toEqual([
      [22, { 'Fn::GetAtt': [expect.stringMatching(/^AmiBuildSecurityGroup/), 'GroupId'] }],
    ]);
    const [, sg] = resourcesOf(built.template, 'AWS::EC2::SecurityGroup').find(([id]) => id === group)!;
    expect(sg.Properties.SecurityGroupEgress.map((r: any) => r.FromPort).sort()).toEqual([443, 80]);
  });

  test('the asset holds the rendered template and every script the bake runs, where the source action reads it', () => {
    const built = build();
    const assembly = built.fixture.app.synth();
    const stack = assembly.getStackByName(built.stack.stackName);
    const outdir = stack.assembly.directory;
    const archives = readdirSync(outdir).filter(
      (name) =>
        /^asset\.[0-9a-f]{64}\.zip$/.test(name) &&
        zipEntries(readFileSync(join(outdir, name))).some((entry) => entry.name === 'build.pkr.hcl'),
    );
    expect(archives).toHaveLength(1);
    const entries = zipEntries(readFileSync(join(outdir, archives[0])));
    expect(entries.map((entry) => entry.name)).toEqual([
      'ami-from-manifest.sh',
      'bake.sh',
      'build.pkr.hcl',
      'install-packer.sh',
      'plugins.pkr.hcl',
      'retain-images.sh',
    ]);
    expect(entries.find((entry) => entry.name === 'build.pkr.hcl')!.content.toString('utf8')).toBe(
      built.pipeline.packerTemplate.renderBuild(),
    );
    // The pipeline's source action reads that archive: its key is the asset's, <hash>.zip.
    const hash = archives[0].slice('asset.'.length, -'.zip'.length);
    const [, pipeline] = resourcesOf(built.template, 'AWS::CodePipeline::Pipeline').find(([, r]) =>
      JSON.stringify(r.Properties.Stages).includes('"PackerTemplate"'),
    )!;
    const action = pipeline.Properties.Stages[0].Actions.find((a: any) => a.Name === 'PackerTemplate');
    expect(action.Configuration.S3ObjectKey).toBe(`${hash}.zip`);
  });

  test('bake.sh passes every variable the template declares, and no other', () => {
    const bake = readFileSync(join(AMI_PIPELINE_SCRIPTS, 'bake.sh'), 'utf8');
    const passed = [...bake.matchAll(/-var "([a-z_]+)=/g)].map((m) => m[1]).sort();
    const fromSsm = build().pipeline.packerTemplate.variables;
    expect([...fromSsm].sort()).toEqual(passed);
    const fromFilter = build({ baseImage: PackerBaseImage.fromFilter('al2023-ami-2023.*-x86_64', ['amazon']) }).pipeline
      .packerTemplate.variables;
    expect([...fromFilter, 'source_ami'].sort()).toEqual(passed);
  });

  test('an AMI name filter needs no SSM read of a base image parameter', () => {
    const built = build({ baseImage: PackerBaseImage.fromFilter('al2023-ami-2023.*-x86_64', ['amazon']) });
    const [, project] = only(built.template, 'AWS::CodeBuild::Project');
    const env = Object.fromEntries(
      project.Properties.Environment.EnvironmentVariables.map((v: any) => [v.Name, v.Value]),
    );
    expect(env.BASE_IMAGE_PARAMETER).toBe('');
    const reads = statementsOf(built.template, 'AmiBuildRole').filter((s) => s.Action === 'ssm:GetParameter');
    expect(JSON.stringify(reads)).not.toContain('/aws/service/');
  });
});

describe('schedule', () => {
  test('a rebuild schedule starts the pipeline', () => {
    const built = build({ rebuildSchedule: events.Schedule.expression('cron(0 3 ? * SUN *)') });
    const [, rule] = only(built.template, 'AWS::Events::Rule');
    expect(rule.Properties.ScheduleExpression).toBe('cron(0 3 ? * SUN *)');
    expect(JSON.stringify(rule.Properties.Targets[0].Arn)).toContain(logicalId(built.pipeline.pipeline));
  });

  test('without one, a weekly rebuild starts it (the default schedule: see bake-triggers.test.ts)', () => {
    const built = build();
    const rules = resourcesOf(built.template, 'AWS::Events::Rule').filter(([, r]) => r.Properties.ScheduleExpression);
    expect(rules.map(([, r]) => r.Properties.ScheduleExpression)).toEqual([expect.stringMatching(/ \? \* SUN \*\)$/)]);
  });
});

describe('fromConfig', () => {
  test('wires the config, the platform and the web tier', () => {
    const fixture = newPlatform();
    const { stack, web } = addWebTier(fixture, 'Customer', { environment: 'production' });
    const config = toStructKeys({
      ...stagingCustomer(),
      environment: 'production',
      approvalEmails: ['ops@acme.example'],
      ami: { keepImages: 3, rebuildSchedule: 'rate(7 days)', provisionScript: 'images/web.sh' },
    });
    const pipeline = CustomerAmiPipeline.fromConfig(stack, 'Ami', config as any, fixture.platform, web);
    const template = Template.fromStack(stack);
    expect(stageNames(template)).toEqual(['Source', 'Bake', 'Approve', 'Rollout']);
    expect(pipeline.packerTemplate.renderBuild()).toContain('images/web.sh');
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(7 days)' });
    const [, project] = only(template, 'AWS::CodeBuild::Project');
    expect(project.Properties.Environment.EnvironmentVariables).toContainEqual({
      Name: 'KEEP_IMAGES',
      Type: 'PLAINTEXT',
      Value: '3',
    });
  });

  test('refuses an invalid config with the config error', () => {
    const fixture = newPlatform();
    const { stack, web } = addWebTier(fixture, 'Customer');
    expect(() =>
      CustomerAmiPipeline.fromConfig(
        stack,
        'Ami',
        toStructKeys({ ...stagingCustomer(), ami: { keepImages: 0 } }) as any,
        fixture.platform,
        web,
      ),
    ).toThrow(/ami\.keepImages/);
  });
});

describe('bad props', () => {
  test.each<[string, Partial<CustomerAmiPipelineProps>, string, RegExp]>([
    [
      'retention below 1',
      { keepImages: 0 },
      'staging',
      /keepImages: received 0; expected an integer from 1 to 100 \(the image in use is always kept too\)/,
    ],
    [
      'a schedule EventBridge refuses',
      { rebuildSchedule: events.Schedule.expression('every sunday') },
      'staging',
      /rebuildSchedule: received "every sunday"; expected an EventBridge schedule/,
    ],
    [
      'a cron with both day fields',
      { rebuildSchedule: events.Schedule.expression('cron(0 3 * * SUN *)') },
      'staging',
      /rebuildSchedule: .*"\?" in exactly one of day-of-month/,
    ],
    ['no approver in production', {}, 'production', /approvalEmails: received \[\]; expected at least one address/],
    [
      'a checksum without its version',
      { packerSha256: 'a'.repeat(64) },
      'staging',
      /packerVersion and packerSha256: received only packerSha256/,
    ],
    [
      'a malformed checksum',
      { packerVersion: '1.11.2', packerSha256: 'abc' },
      'staging',
      /packerSha256: received "abc"; expected 64 lower-case hex digits/,
    ],
    [
      'a build timeout over 12 hours',
      { buildTimeout: Duration.hours(13) },
      'staging',
      /buildTimeout: received 13 hours; expected 1 to 12 hours/,
    ],
    [
      'a healthy share over 100',
      { minHealthyPercentage: 120 },
      'staging',
      /minHealthyPercentage: received 120; expected a whole number from 0 to 100/,
    ],
    [
      'a script outside the repository',
      { provisionScripts: ['../secrets.sh'] },
      'staging',
      /provisionScripts.*"\.\.\/secrets\.sh"/,
    ],
  ])('%s', (_name, props, environment, message) => {
    expect(() =>
      build({ ...(environment === 'production' ? { approvalEmails: [] } : {}), ...props }, environment),
    ).toThrow(message);
  });

  test('an artifacts bucket without its key', () => {
    expect(() =>
      build({ artifactsBucket: s3.Bucket.fromBucketName(new Stack(new App(), 'Other'), 'Plain', 'plain-bucket') }),
    ).toThrow(/artifactsBucket: received a bucket without its encryptionKey/);
  });
});
