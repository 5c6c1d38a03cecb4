import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { AdditionalBatch } from './additional-batch';
import { activeRefreshes, instancesInService, refreshRunning, watchedDeployment } from './deployment-machine';
import type { SoftwareDeliveryPipelineProps } from './software-delivery-pipeline';
import {
  awsCall,
  failedState,
  failureReason,
  loggedStateMachine,
  singleExecution,
  stateMachineArnOf,
} from '../pipeline-common/state-machine';

/** The extra batch coming into service (launched, given the last good release by CodeDeploy's launch hook). */
const CAPACITY_WAIT = Duration.seconds(60);
const CAPACITY_CHECKS = 10;
/** The deployment: checked every minute, 25 times. */
const DEPLOYMENT_CHECKS = 25;
// The execution's timeout (EXECUTION_TIMEOUT) is above the longest run: every loop to its limit, every task to its
// timeout, about 52 minutes.

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
    stateMachineArn: stateMachineArnOf(scope, stateMachineName),
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
  const call = awsCall(scope);
  const failure = failureReason(scope);

  // Every failure ends here, its reason in $.failure (Error and Cause: a caught error's, or one set below).
  const failed = failedState(scope, 'DeploymentFailed');

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
  const { listRunning, alreadyRunning } = singleExecution(scope, {
    listId: 'ListRunningDeployments',
    error: 'DeploymentAlreadyRunning',
    what: 'deployment',
    stateMachineArn: names.stateMachineArn,
  });

  // The lock with the AMI pipeline: no deployment while an instance refresh runs. Checked before anything changes,
  // and again just before the deployment starts (a rollout may have begun while the batch came into service).
  const refreshCheck = (id: string, onError: sfn.IChainable) => activeRefreshes(scope, id, group, onError);

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
        refreshRunning(scope, 'RefreshRunningBeforeStart').next(failed),
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
  const secondCheck = refreshCheck('RefreshesBeforeDeployment', scaleBackAfterFailure);
  scaleOut.next(
    instancesInService(scope, {
      ids: {
        start: 'StartCapacityChecks',
        wait: 'WaitForBatch',
        read: 'ReadInService',
        count: 'CountInService',
        choice: 'BatchInService',
      },
      group,
      capacityPath: '$.target.desired',
      checks: CAPACITY_CHECKS,
      wait: CAPACITY_WAIT,
      then: secondCheck.start,
      failure: {
        id: 'BatchNotInService',
        error: 'BatchNotInService',
        cause:
          `The extra batch was not in service after ${CAPACITY_CHECKS} minutes (instances failing their launch, or the ` +
          "last good release failing on them): nothing was deployed, the group's capacity is set back.",
      },
      cleanup: scaleBackAfterFailure,
    }),
  );

  // The deployment: checked every minute, DEPLOYMENT_CHECKS times at most; one that outlasts them is stopped (and
  // rolled back by CodeDeploy).
  const createDeployment = watchedDeployment(scope, {
    createId: 'CreateDeployment',
    id: '',
    comment: 'The release, from the Build stage, a batch at a time',
    application,
    target: deploymentGroup,
    deploymentConfigName: names.deploymentConfigName,
    deploymentConfigArn: names.deploymentConfigArn,
    description: `Release {} of ${label}, with an additional batch`,
    checks: DEPLOYMENT_CHECKS,
    next: scaleBack,
    cleanup: scaleBackAfterFailure,
  });
  secondCheck.count.next(
    new sfn.Choice(scope, 'NoRefreshBeforeDeployment')
      .when(
        sfn.Condition.numberGreaterThan('$.refreshes.count', 0),
        refreshRunning(scope, 'RefreshRunningBeforeDeployment').next(scaleBackAfterFailure),
      )
      .otherwise(createDeployment),
  );

  listRunning.next(
    new sfn.Choice(scope, 'OnlyDeployment')
      .when(sfn.Condition.numberGreaterThan('$.running.count', 1), alreadyRunning)
      .otherwise(firstCheck.start),
  );
  return loggedStateMachine(scope, 'Deployment', {
    comment: `Deploys a release to ${label} with an additional batch`,
    stateMachineName: names.stateMachineName,
    start: listRunning,
    role,
    logsId: 'DeploymentLogs',
    logRetention: props.logRetention,
    key,
  });
}
