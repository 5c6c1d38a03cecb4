import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { AdditionalBatch } from './additional-batch';
import type { SoftwareDeliveryPipelineProps } from './software-delivery-pipeline';

/** Longest AWS API call of a task: a task that takes longer fails with States.Timeout, which is caught. */
const TASK_TIMEOUT = Duration.seconds(20);
/** The extra batch coming into service (launched, given the last good release by CodeDeploy's launch hook). */
const CAPACITY_WAIT = Duration.seconds(60);
const CAPACITY_CHECKS = 10;
/** The deployment: checked every minute, 25 times. */
const DEPLOYMENT_WAIT = Duration.seconds(60);
const DEPLOYMENT_CHECKS = 25;
/**
 * Under the hour of CodePipeline's invoke action, and above the longest run (every loop to its limit, every task to
 * its timeout: about 52 minutes), so that it is never what ends an execution.
 */
const EXECUTION_TIMEOUT = Duration.minutes(58);
/** Instance refreshes that have not ended (DescribeInstanceRefreshes' statuses). */
const ACTIVE_REFRESH = ['Pending', 'InProgress', 'Cancelling', 'RollbackInProgress', 'Baking'];

/** What the deployment state machine is built on. */
export interface BatchDeploymentContext {
  readonly props: SoftwareDeliveryPipelineProps;
  readonly batch: AdditionalBatch;
  readonly application: codedeploy.IServerApplication;
  readonly deploymentGroup: codedeploy.IServerDeploymentGroup;
  /** The role the machine runs as (the software pipeline's: see README, "Deployment policies"). */
  readonly role: iam.IRole;
  readonly key: kms.IKey;
}

/** The names a deployment state machine is known by before it exists (the pipeline's role is granted on them). */
export function batchDeploymentNames(scope: Construct, props: SoftwareDeliveryPipelineProps) {
  const stack = Stack.of(scope);
  const stateMachineName = `${props.customer}-${props.environment}-deploy`;
  const deploymentConfigName = `${props.customer}-${props.environment}-additional-batch`;
  return {
    stateMachineName,
    stateMachineArn: stack.formatArn({
      service: 'states',
      resource: 'stateMachine',
      resourceName: stateMachineName,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    }),
    deploymentConfigName,
    deploymentConfigArn: stack.formatArn({
      service: 'codedeploy',
      resource: 'deploymentconfig',
      resourceName: deploymentConfigName,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    }),
  };
}

/**
 * The deployment with an additional batch: one execution at a time, none while an instance refresh runs; the group
 * grows by the batch (desired and maximum, and its minimum up to the new desired capacity, so that scaling in does
 * not undo it), the new instances come into service with the last good release, a deployment configuration of this
 * run keeps as many instances in service as ran before (CodeDeploy then updates a batch at a time), the deployment
 * runs and is watched; on every path, success, failure, timeout or alarm, the group gets its capacity back and the
 * run's configuration is deleted. The input is `{ revision: { bucket, key }, pipelineExecutionId }`.
 */
export function batchDeploymentStateMachine(scope: Construct, context: BatchDeploymentContext): sfn.StateMachine {
  const { props, batch, application, deploymentGroup, role, key } = context;
  const names = batchDeploymentNames(scope, props);
  const group = props.autoScalingGroup;
  const label = `${props.customer}-${props.environment}`;
  const taskTimeout = sfn.Timeout.duration(TASK_TIMEOUT);
  const call = (id: string, options: Omit<tasks.CallAwsServiceProps, 'taskTimeout'>) =>
    new tasks.CallAwsService(scope, id, { taskTimeout, ...options });
  const failure = (id: string, error: string, cause: string) =>
    new sfn.Pass(scope, id, { result: sfn.Result.fromObject({ Error: error, Cause: cause }), resultPath: '$.failure' });

  // Every failure ends here, its reason in $.failure (Error and Cause: a caught error's, or one set below).
  const failed = new sfn.Fail(scope, 'DeploymentFailed', {
    errorPath: '$.failure.Error',
    causePath: '$.failure.Cause',
  });

  // The clean-up, on every path once the configuration of this run may exist: the group's capacity back (once it may
  // have changed), then the configuration deleted. A clean-up error keeps the first failure as the reason.
  const deleteConfig = (id: string) =>
    call(id, {
      comment: "Deletes this run's deployment configuration (custom configurations are an account quota of 50)",
      service: 'codedeploy',
      action: 'deleteDeploymentConfig',
      iamAction: 'codedeploy:DeleteDeploymentConfig',
      parameters: { DeploymentConfigName: names.deploymentConfigName },
      iamResources: [names.deploymentConfigArn],
      resultPath: sfn.JsonPath.DISCARD,
    });
  const restoreCapacity = (id: string) =>
    call(id, {
      comment: 'The capacity the group had before the deployment',
      service: 'autoscaling',
      action: 'updateAutoScalingGroup',
      iamAction: 'autoscaling:UpdateAutoScalingGroup',
      parameters: {
        AutoScalingGroupName: group.autoScalingGroupName,
        'DesiredCapacity.$': '$.capacity.desired',
        'MinSize.$': '$.capacity.min',
        'MaxSize.$': '$.capacity.max',
      },
      iamResources: [group.autoScalingGroupArn],
      resultPath: sfn.JsonPath.DISCARD,
    });
  const deleteAfterFailure = deleteConfig('DeleteBatchConfigAfterFailure');
  deleteAfterFailure.addCatch(failed, { errors: [sfn.Errors.ALL], resultPath: '$.cleanupError' });
  deleteAfterFailure.next(failed);
  const scaleBackAfterFailure = restoreCapacity('ScaleBackAfterFailure');
  scaleBackAfterFailure.addCatch(deleteAfterFailure, { errors: [sfn.Errors.ALL], resultPath: '$.cleanupError' });
  scaleBackAfterFailure.next(deleteAfterFailure);
  const succeeded = new sfn.Succeed(scope, 'Deployed');
  const deleteAfterSuccess = deleteConfig('DeleteBatchConfig');
  deleteAfterSuccess.addCatch(failed, { errors: [sfn.Errors.ALL], resultPath: '$.failure' });
  deleteAfterSuccess.next(succeeded);
  const scaleBack = restoreCapacity('ScaleBack');
  scaleBack.addCatch(deleteAfterFailure, { errors: [sfn.Errors.ALL], resultPath: '$.failure' });
  scaleBack.next(deleteAfterSuccess);

  // The lock: no second execution while one runs (a re-run of the pipeline's action).
  const listRunning = call('ListRunningDeployments', {
    comment: 'Executions of this state machine that are running, this one included',
    service: 'sfn',
    action: 'listExecutions',
    iamAction: 'states:ListExecutions',
    parameters: {
      StateMachineArn: sfn.JsonPath.stringAt('$$.StateMachine.Id'),
      StatusFilter: 'RUNNING',
      MaxResults: 2,
    },
    iamResources: [names.stateMachineArn],
    resultSelector: { 'count.$': 'States.ArrayLength($.Executions)' },
    resultPath: '$.running',
  });
  const alreadyRunning = new sfn.Fail(scope, 'DeploymentAlreadyRunning', {
    error: 'DeploymentAlreadyRunning',
    cause:
      'Another deployment of this environment is running (or its listing failed): this one changed nothing. Retry once it has ended.',
  });
  listRunning.addCatch(alreadyRunning, { errors: [sfn.Errors.ALL], resultPath: '$.failure' });

  // The lock with the AMI pipeline: no deployment while an instance refresh runs. Checked before anything changes,
  // and again just before the deployment starts (a rollout may have begun while the batch came into service).
  const refreshCheck = (id: string, onError: sfn.IChainable) => {
    const describe = call(`Describe${id}`, {
      comment: "The group's instance refreshes that have not ended",
      service: 'autoscaling',
      action: 'describeInstanceRefreshes',
      iamAction: 'autoscaling:DescribeInstanceRefreshes',
      parameters: { AutoScalingGroupName: group.autoScalingGroupName },
      // DescribeInstanceRefreshes has no resource-level permissions in IAM.
      iamResources: ['*'],
      resultSelector: {
        'active.$': `$.InstanceRefreshes[?(${ACTIVE_REFRESH.map((s) => `@.Status == '${s}'`).join(' || ')})].InstanceRefreshId`,
      },
      resultPath: '$.refreshes',
    });
    describe.addCatch(onError, { errors: [sfn.Errors.ALL], resultPath: '$.failure' });
    const count = new sfn.Pass(scope, `Count${id}`, {
      parameters: { 'count.$': 'States.ArrayLength($.refreshes.active)' },
      resultPath: '$.refreshes',
    });
    describe.next(count);
    return { start: describe, count };
  };
  const refreshRunning = (id: string) =>
    failure(
      id,
      'RefreshInProgress',
      "An instance refresh of the environment's group (the AMI pipeline's rollout) is running: no deployment starts " +
        'during a refresh. Retry once it has ended.',
    );

  const firstCheck = refreshCheck('RefreshesBeforeStart', failed);
  const readCapacity = call('ReadCapacity', {
    comment: "The group's capacity before the deployment, which every path sets back",
    service: 'autoscaling',
    action: 'describeAutoScalingGroups',
    iamAction: 'autoscaling:DescribeAutoScalingGroups',
    parameters: { AutoScalingGroupNames: [group.autoScalingGroupName] },
    // DescribeAutoScalingGroups has no resource-level permissions in IAM.
    iamResources: ['*'],
    resultSelector: {
      'desired.$': '$.AutoScalingGroups[0].DesiredCapacity',
      'min.$': '$.AutoScalingGroups[0].MinSize',
      'max.$': '$.AutoScalingGroups[0].MaxSize',
    },
    resultPath: '$.capacity',
  });
  readCapacity.addCatch(failed, { errors: [sfn.Errors.ALL], resultPath: '$.failure' });
  firstCheck.count.next(
    new sfn.Choice(scope, 'NoRefreshBeforeStart')
      .when(
        sfn.Condition.numberGreaterThan('$.refreshes.count', 0),
        refreshRunning('RefreshRunningBeforeStart').next(failed),
      )
      .otherwise(readCapacity),
  );

  // The batch: a count, or a share of the running instances read from a list by their number (no multiplication in
  // Step Functions); a group outside the list's 0 to 100 instances (changed by hand) is refused before any change.
  const sizes = new sfn.Pass(scope, 'BatchSizes', {
    result: sfn.Result.fromObject({ sizes: batch._sizes() }),
    resultPath: '$.batch',
  });
  const batchSize = new sfn.Pass(scope, 'BatchSize', {
    parameters: { 'size.$': 'States.ArrayGetItem($.batch.sizes, $.capacity.desired)' },
    resultPath: '$.batch',
  });
  const target = new sfn.Pass(scope, 'ScaledOutCapacity', {
    parameters: {
      'desired.$': 'States.MathAdd($.capacity.desired, $.batch.size)',
      'max.$': 'States.MathAdd($.capacity.max, $.batch.size)',
    },
    resultPath: '$.target',
  });
  readCapacity.next(
    new sfn.Choice(scope, 'CapacityInRange')
      .when(sfn.Condition.numberLessThanEquals('$.capacity.desired', 100), sizes)
      .otherwise(
        failure(
          'CapacityOutOfRange',
          'CapacityOutOfRange',
          'The group runs more than 100 instances (changed by hand?): the extra batch is sized for 0 to 100. Nothing was changed.',
        ).next(failed),
      ),
  );
  sizes.next(batchSize).next(target);

  // This run's deployment configuration: as many instances in service as ran before. A configuration left by an
  // earlier run whose clean-up failed is deleted first.
  const removeLeftover = deleteConfig('DeleteLeftoverBatchConfig');
  const createConfig = call('CreateBatchConfig', {
    comment: 'CodeDeploy keeps the instances that ran before in service and updates the others a batch at a time',
    service: 'codedeploy',
    action: 'createDeploymentConfig',
    iamAction: 'codedeploy:CreateDeploymentConfig',
    parameters: {
      DeploymentConfigName: names.deploymentConfigName,
      ComputePlatform: 'Server',
      MinimumHealthyHosts: { Type: 'HOST_COUNT', 'Value.$': '$.capacity.desired' },
    },
    iamResources: [names.deploymentConfigArn],
    resultPath: sfn.JsonPath.DISCARD,
  });
  removeLeftover.addCatch(createConfig, {
    errors: ['CodeDeploy.DeploymentConfigDoesNotExistException'],
    resultPath: sfn.JsonPath.DISCARD,
  });
  removeLeftover.addCatch(failed, { errors: [sfn.Errors.ALL], resultPath: '$.failure' });
  removeLeftover.next(createConfig);
  target.next(removeLeftover);
  createConfig.addCatch(deleteAfterFailure, { errors: [sfn.Errors.ALL], resultPath: '$.failure' });

  const scaleOut = call('ScaleOut', {
    comment: 'The extra batch: desired and maximum capacity up by the batch, the minimum up to the new desired',
    service: 'autoscaling',
    action: 'updateAutoScalingGroup',
    iamAction: 'autoscaling:UpdateAutoScalingGroup',
    parameters: {
      AutoScalingGroupName: group.autoScalingGroupName,
      'DesiredCapacity.$': '$.target.desired',
      'MinSize.$': '$.target.desired',
      'MaxSize.$': '$.target.max',
    },
    iamResources: [group.autoScalingGroupArn],
    resultPath: sfn.JsonPath.DISCARD,
  });
  scaleOut.addCatch(scaleBackAfterFailure, { errors: [sfn.Errors.ALL], resultPath: '$.failure' });
  createConfig.next(scaleOut);

  // The batch in service: checked every minute, CAPACITY_CHECKS times at most.
  const startCapacityChecks = new sfn.Pass(scope, 'StartCapacityChecks', {
    result: sfn.Result.fromObject({ count: 0 }),
    resultPath: '$.capacityChecks',
  });
  const waitForCapacity = new sfn.Wait(scope, 'WaitForBatch', { time: sfn.WaitTime.duration(CAPACITY_WAIT) });
  const readInService = call('ReadInService', {
    service: 'autoscaling',
    action: 'describeAutoScalingGroups',
    iamAction: 'autoscaling:DescribeAutoScalingGroups',
    parameters: { AutoScalingGroupNames: [group.autoScalingGroupName] },
    iamResources: ['*'],
    resultSelector: {
      'instances.$': "$.AutoScalingGroups[0].Instances[?(@.LifecycleState == 'InService')].InstanceId",
    },
    resultPath: '$.inService',
  });
  readInService.addCatch(scaleBackAfterFailure, { errors: [sfn.Errors.ALL], resultPath: '$.failure' });
  const countInService = new sfn.Pass(scope, 'CountInService', {
    parameters: {
      'inService.$': 'States.ArrayLength($.inService.instances)',
      'count.$': 'States.MathAdd($.capacityChecks.count, 1)',
    },
    resultPath: '$.capacityChecks',
  });
  const secondCheck = refreshCheck('RefreshesBeforeDeployment', scaleBackAfterFailure);
  const batchInService = new sfn.Choice(scope, 'BatchInService')
    .when(
      sfn.Condition.numberGreaterThanEqualsJsonPath('$.capacityChecks.inService', '$.target.desired'),
      secondCheck.start,
    )
    .when(
      sfn.Condition.numberGreaterThanEquals('$.capacityChecks.count', CAPACITY_CHECKS),
      failure(
        'BatchNotInService',
        'BatchNotInService',
        `The extra batch was not in service after ${CAPACITY_CHECKS} minutes (instances failing their launch, or the ` +
          "last good release failing on them): nothing was deployed, the group's capacity is set back.",
      ).next(scaleBackAfterFailure),
    )
    .otherwise(waitForCapacity);
  scaleOut
    .next(startCapacityChecks)
    .next(waitForCapacity)
    .next(readInService)
    .next(countInService)
    .next(batchInService);

  const createDeployment = call('CreateDeployment', {
    comment: 'The release, from the Build stage, a batch at a time',
    service: 'codedeploy',
    action: 'createDeployment',
    iamAction: 'codedeploy:CreateDeployment',
    parameters: {
      ApplicationName: application.applicationName,
      DeploymentGroupName: deploymentGroup.deploymentGroupName,
      DeploymentConfigName: names.deploymentConfigName,
      Description: sfn.JsonPath.format(
        `Release {} of ${label}, with an additional batch`,
        sfn.JsonPath.stringAt('$.pipelineExecutionId'),
      ),
      Revision: {
        RevisionType: 'S3',
        S3Location: {
          Bucket: sfn.JsonPath.stringAt('$.revision.bucket'),
          Key: sfn.JsonPath.stringAt('$.revision.key'),
          BundleType: 'zip',
        },
      },
    },
    iamResources: [deploymentGroup.deploymentGroupArn],
    additionalIamStatements: [
      // CreateDeployment reads the configuration and registers the revision with the application.
      new iam.PolicyStatement({ actions: ['codedeploy:GetDeploymentConfig'], resources: [names.deploymentConfigArn] }),
      new iam.PolicyStatement({
        actions: ['codedeploy:RegisterApplicationRevision', 'codedeploy:GetApplicationRevision'],
        resources: [application.applicationArn],
      }),
    ],
    resultSelector: { 'id.$': '$.DeploymentId' },
    resultPath: '$.deployment',
  });
  createDeployment.addCatch(scaleBackAfterFailure, { errors: [sfn.Errors.ALL], resultPath: '$.failure' });
  secondCheck.count.next(
    new sfn.Choice(scope, 'NoRefreshBeforeDeployment')
      .when(
        sfn.Condition.numberGreaterThan('$.refreshes.count', 0),
        refreshRunning('RefreshRunningBeforeDeployment').next(scaleBackAfterFailure),
      )
      .otherwise(createDeployment),
  );

  // The deployment: checked every minute, DEPLOYMENT_CHECKS times at most; one that outlasts them is stopped (and
  // rolled back by CodeDeploy).
  const startDeploymentChecks = new sfn.Pass(scope, 'StartDeploymentChecks', {
    result: sfn.Result.fromObject({ count: 0 }),
    resultPath: '$.deploymentChecks',
  });
  const waitForDeployment = new sfn.Wait(scope, 'WaitForDeployment', { time: sfn.WaitTime.duration(DEPLOYMENT_WAIT) });
  const getDeployment = call('GetDeployment', {
    service: 'codedeploy',
    action: 'getDeployment',
    iamAction: 'codedeploy:GetDeployment',
    parameters: { DeploymentId: sfn.JsonPath.stringAt('$.deployment.id') },
    iamResources: [deploymentGroup.deploymentGroupArn],
    resultSelector: { 'Status.$': '$.DeploymentInfo.Status' },
    resultPath: '$.status',
  });
  const stopDeployment = call('StopDeployment', {
    comment: 'Stops the deployment; CodeDeploy rolls the updated instances back to the last good release',
    service: 'codedeploy',
    action: 'stopDeployment',
    iamAction: 'codedeploy:StopDeployment',
    parameters: { DeploymentId: sfn.JsonPath.stringAt('$.deployment.id'), AutoRollbackEnabled: true },
    iamResources: [deploymentGroup.deploymentGroupArn],
    resultPath: sfn.JsonPath.DISCARD,
  });
  stopDeployment.addCatch(scaleBackAfterFailure, { errors: [sfn.Errors.ALL], resultPath: '$.cleanupError' });
  stopDeployment.next(scaleBackAfterFailure);
  getDeployment.addCatch(stopDeployment, { errors: [sfn.Errors.ALL], resultPath: '$.failure' });
  const countDeploymentCheck = new sfn.Pass(scope, 'CountDeploymentCheck', {
    parameters: { 'count.$': 'States.MathAdd($.deploymentChecks.count, 1)' },
    resultPath: '$.deploymentChecks',
  });
  const deployed = new sfn.Choice(scope, 'DeploymentDone')
    .when(sfn.Condition.stringEquals('$.status.Status', 'Succeeded'), scaleBack)
    .when(
      sfn.Condition.or(
        sfn.Condition.stringEquals('$.status.Status', 'Failed'),
        sfn.Condition.stringEquals('$.status.Status', 'Stopped'),
      ),
      new sfn.Pass(scope, 'DeploymentEndedBadly', {
        parameters: {
          Error: 'DeploymentFailed',
          'Cause.$': sfn.JsonPath.format(
            'CodeDeploy deployment {} ended {} (rolled back by CodeDeploy): see its events in the CodeDeploy console.',
            sfn.JsonPath.stringAt('$.deployment.id'),
            sfn.JsonPath.stringAt('$.status.Status'),
          ),
        },
        resultPath: '$.failure',
      }).next(scaleBackAfterFailure),
    )
    .when(
      sfn.Condition.numberGreaterThanEquals('$.deploymentChecks.count', DEPLOYMENT_CHECKS),
      failure(
        'DeploymentTookTooLong',
        'DeploymentTookTooLong',
        `The deployment had not ended after ${DEPLOYMENT_CHECKS} minutes (the pipeline action's hour would run out): stopped and rolled back.`,
      ).next(stopDeployment),
    )
    .otherwise(countDeploymentCheck);
  countDeploymentCheck.next(waitForDeployment);
  createDeployment.next(startDeploymentChecks).next(waitForDeployment).next(getDeployment).next(deployed);

  listRunning.next(
    new sfn.Choice(scope, 'OnlyDeployment')
      .when(sfn.Condition.numberGreaterThan('$.running.count', 1), alreadyRunning)
      .otherwise(firstCheck.start),
  );
  return new sfn.StateMachine(scope, 'Deployment', {
    comment: `Deploys a release to ${label} with an additional batch`,
    stateMachineName: names.stateMachineName,
    definitionBody: sfn.DefinitionBody.fromChainable(listRunning),
    role,
    timeout: EXECUTION_TIMEOUT,
    tracingEnabled: true,
    logs: {
      destination: new logs.LogGroup(scope, 'DeploymentLogs', {
        retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
        encryptionKey: key,
      }),
      level: sfn.LogLevel.ALL,
      includeExecutionData: true,
    },
  });
}
