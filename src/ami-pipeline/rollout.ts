import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import type { CustomerAmiPipelineProps } from './customer-ami-pipeline';
import {
  addCount,
  failedState,
  failureReason,
  loggedStateMachine,
  singleExecution,
  startCount,
  stateMachineArnOf,
  TASK_TIMEOUT,
} from '../pipeline-common/state-machine';

/** SSM's validation of the written image id: checked every 10 seconds, 12 times. */
const VALIDATION_WAIT = Duration.seconds(10);
const VALIDATION_CHECKS = 12;
/** Running software deployments: checked every minute, 10 times. */
const DEPLOYMENT_CHECKS = 10;
/** The instance refresh: checked every minute, 25 times. */
const REFRESH_CHECKS = 25;
// The execution's timeout (EXECUTION_TIMEOUT) is above the longest run: every loop to its limit, every task to its
// timeout, about 56 minutes.

/**
 * The rollout: remember the image the fleet runs, write the new one, wait until SSM has validated it (an
 * `aws:ec2:image` parameter is validated asynchronously: PutParameter succeeds even when the value is later
 * refused), refresh the fleet and wait for the refresh; when anything fails after the write, put the previous
 * image back, so that instances launched later do not start on the image that failed.
 */
export function rolloutStateMachine(
  scope: Construct,
  props: CustomerAmiPipelineProps,
  production: boolean,
  key: kms.IKey,
): sfn.StateMachine {
  const minHealthy = props.minHealthyPercentage ?? (production ? 100 : 50);
  const parameter = props.amiParameter;
  const taskTimeout = sfn.Timeout.duration(TASK_TIMEOUT);
  const stateMachineName = `${props.customer}-${props.environment}-rollout`;
  const stateMachineArn = stateMachineArnOf(scope, stateMachineName);
  const readParameter = (id: string, resultPath: string) =>
    new tasks.CallAwsService(scope, id, {
      taskTimeout,
      service: 'ssm',
      action: 'getParameter',
      iamAction: 'ssm:GetParameter',
      parameters: { Name: parameter.parameterName },
      iamResources: [parameter.parameterArn],
      resultSelector: { 'Value.$': '$.Parameter.Value', 'Version.$': '$.Parameter.Version' },
      resultPath,
    });
  const writeParameter = (id: string, valuePath: string) =>
    new tasks.CallAwsService(scope, id, {
      taskTimeout,
      service: 'ssm',
      action: 'putParameter',
      iamAction: 'ssm:PutParameter',
      // SSM checks the id of an aws:ec2:image parameter with the caller's ec2:DescribeImages.
      additionalIamStatements: [new iam.PolicyStatement({ actions: ['ec2:DescribeImages'], resources: ['*'] })],
      parameters: {
        Name: parameter.parameterName,
        Value: sfn.JsonPath.stringAt(valuePath),
        Type: 'String',
        DataType: 'aws:ec2:image',
        Overwrite: true,
      },
      iamResources: [parameter.parameterArn],
      resultSelector: { 'Version.$': '$.Version' },
      resultPath: '$.written',
    });

  // Every failure ends here, its reason in $.failure (Error and Cause: a caught error's, or one set below).
  const failed = failedState(scope, 'RolloutFailed');
  // The lock with the software pipeline: no deployment starts while the image changes (its Deploy stage's inbound
  // transition is disabled from here to the end, whatever the end), and the refresh waits for a deployment that had
  // already started (the loop above, which runs after the transition is disabled).
  const software = props.softwarePipeline;
  let lock: tasks.CallAwsService | undefined;
  let unlockOnFailure: sfn.IChainable = failed;
  let succeed: sfn.IChainable = new sfn.Succeed(scope, 'FleetOnNewImage');
  if (software) {
    const stageName = props.softwareDeployStageName ?? 'Deploy';
    const stageArn = `${software.pipelineArn}/${stageName}`;
    const transition = (id: string, enable: boolean) =>
      new tasks.CallAwsService(scope, id, {
        comment: enable
          ? `Lets the software pipeline deploy again (${stageName} stage)`
          : `No software deployment starts while the image changes (${stageName} stage)`,
        taskTimeout,
        service: 'codepipeline',
        action: enable ? 'enableStageTransition' : 'disableStageTransition',
        iamAction: enable ? 'codepipeline:EnableStageTransition' : 'codepipeline:DisableStageTransition',
        parameters: {
          PipelineName: software.pipelineName,
          StageName: stageName,
          TransitionType: 'Inbound',
          ...(enable ? {} : { Reason: `A new image is being rolled out to ${props.customer}-${props.environment}` }),
        },
        iamResources: [stageArn],
        resultPath: sfn.JsonPath.DISCARD,
      });
    const disable = transition('LockSoftwareDeployments', false);
    const enableAfterFailure = transition('UnlockSoftwareDeploymentsAfterFailure', true);
    enableAfterFailure.addCatch(failed, { errors: [sfn.Errors.ALL], resultPath: '$.cleanupError' });
    enableAfterFailure.next(failed);
    const enableAfterSuccess = transition('UnlockSoftwareDeployments', true);
    enableAfterSuccess.addCatch(failed, { errors: [sfn.Errors.ALL], resultPath: '$.failure' });
    enableAfterSuccess.next(succeed);
    disable.addCatch(enableAfterFailure, { errors: [sfn.Errors.ALL], resultPath: '$.failure' });
    lock = disable;
    succeed = enableAfterSuccess;
    unlockOnFailure = enableAfterFailure;
  }
  const restore = writeParameter('RestorePreviousImage', '$.previous.Value');
  restore.addCatch(unlockOnFailure, { errors: [sfn.Errors.ALL], resultPath: '$.cleanupError' });
  restore.next(unlockOnFailure);
  const failure = failureReason(scope);
  const catchAll = (state: tasks.CallAwsService, next: sfn.IChainable = restore) =>
    state.addCatch(next, { errors: [sfn.Errors.ALL], resultPath: '$.failure' });

  // The lock: no second execution while one runs (a re-run of the pipeline's action, a retry).
  const { listRunning, alreadyRunning } = singleExecution(scope, {
    listId: 'ListRunningRollouts',
    error: 'RolloutAlreadyRunning',
    what: 'rollout',
    stateMachineArn,
  });

  const remember = readParameter('ReadCurrentImage', '$.previous');
  const write = writeParameter('WriteAmiParameter', '$.amiId');
  const startChecks = startCount(scope, 'StartValidationChecks', '$.checks');
  const waitForValidation = new sfn.Wait(scope, 'WaitForValidation', {
    time: sfn.WaitTime.duration(VALIDATION_WAIT),
  });
  const check = readParameter('ReadWrittenImage', '$.current');
  const countCheck = addCount(scope, 'CountValidationCheck', '$.checks');
  const startRefresh = new tasks.CallAwsService(scope, 'StartInstanceRefresh', {
    taskTimeout,
    comment: 'Replaces every instance; new ones start on the new image',
    service: 'autoscaling',
    action: 'startInstanceRefresh',
    iamAction: 'autoscaling:StartInstanceRefresh',
    parameters: {
      AutoScalingGroupName: props.autoScalingGroup.autoScalingGroupName,
      Preferences: {
        MinHealthyPercentage: minHealthy,
        // Above 100, new instances start before old ones stop: capacity never drops.
        MaxHealthyPercentage: minHealthy === 100 ? 200 : 100,
      },
    },
    iamResources: [props.autoScalingGroup.autoScalingGroupArn],
    resultSelector: { 'InstanceRefreshId.$': '$.InstanceRefreshId' },
    resultPath: '$.refresh',
  });
  const waitForRefresh = new sfn.Wait(scope, 'WaitForRefresh', { time: sfn.WaitTime.duration(Duration.seconds(60)) });
  const describe = new tasks.CallAwsService(scope, 'DescribeInstanceRefresh', {
    taskTimeout,
    service: 'autoscaling',
    action: 'describeInstanceRefreshes',
    iamAction: 'autoscaling:DescribeInstanceRefreshes',
    parameters: {
      AutoScalingGroupName: props.autoScalingGroup.autoScalingGroupName,
      InstanceRefreshIds: sfn.JsonPath.array(sfn.JsonPath.stringAt('$.refresh.InstanceRefreshId')),
    },
    // DescribeInstanceRefreshes has no resource-level permissions in IAM.
    iamResources: ['*'],
    resultSelector: { 'Status.$': '$.InstanceRefreshes[0].Status' },
    resultPath: '$.status',
  });
  const cancelRefresh = new tasks.CallAwsService(scope, 'CancelInstanceRefresh', {
    comment: 'Stops replacing instances: those replaced keep the new image, the next ones start on the previous one',
    taskTimeout,
    service: 'autoscaling',
    action: 'cancelInstanceRefresh',
    iamAction: 'autoscaling:CancelInstanceRefresh',
    parameters: { AutoScalingGroupName: props.autoScalingGroup.autoScalingGroupName },
    iamResources: [props.autoScalingGroup.autoScalingGroupArn],
    resultPath: '$.cancelled',
  });
  cancelRefresh.addCatch(restore, { errors: [sfn.Errors.ALL], resultPath: '$.cleanupError' });
  cancelRefresh.next(restore);
  for (const step of [write, check, startRefresh]) catchAll(step);
  catchAll(describe, cancelRefresh);
  const startRefreshChecks = startCount(scope, 'StartRefreshChecks', '$.refreshChecks');
  const countRefreshCheck = addCount(scope, 'CountRefreshCheck', '$.refreshChecks');

  // With a deployment group on the same instances: no refresh while CodeDeploy deploys (it would fail the
  // deployment, and the deployment's rollback would race the refresh). Checked every minute, DEPLOYMENT_CHECKS times
  // at most.
  let beforeRefresh: sfn.IChainable = startRefresh;
  const group = props.deploymentGroup;
  if (group) {
    const startWaits = startCount(scope, 'StartDeploymentChecks', '$.deploymentChecks');
    const listDeployments = new tasks.CallAwsService(scope, 'ListActiveDeployments', {
      taskTimeout,
      comment: 'Deployments of the software pipeline to these instances that have not finished',
      service: 'codedeploy',
      action: 'listDeployments',
      iamAction: 'codedeploy:ListDeployments',
      parameters: {
        ApplicationName: group.application.applicationName,
        DeploymentGroupName: group.deploymentGroupName,
        IncludeOnlyStatuses: ['Created', 'Queued', 'InProgress', 'Baking', 'Ready'],
      },
      iamResources: [group.deploymentGroupArn],
      resultSelector: { 'count.$': 'States.ArrayLength($.Deployments)' },
      resultPath: '$.activeDeployments',
    });
    catchAll(listDeployments);
    const waitForDeployments = new sfn.Wait(scope, 'WaitForDeployments', {
      time: sfn.WaitTime.duration(Duration.seconds(60)),
    });
    const countDeploymentCheck = addCount(scope, 'CountDeploymentCheck', '$.deploymentChecks');
    const noDeployment = new sfn.Choice(scope, 'NoDeploymentInProgress')
      .when(sfn.Condition.numberEquals('$.activeDeployments.count', 0), startRefresh)
      .when(
        sfn.Condition.numberGreaterThanEquals('$.deploymentChecks.count', DEPLOYMENT_CHECKS),
        failure(
          'DeploymentsStillRunning',
          'DeploymentsStillRunning',
          `A software deployment was still running after ${DEPLOYMENT_CHECKS} minutes: the fleet was not refreshed.`,
        ).next(restore),
      )
      .otherwise(countDeploymentCheck);
    countDeploymentCheck.next(waitForDeployments);
    waitForDeployments.next(listDeployments);
    listDeployments.next(noDeployment);
    beforeRefresh = startWaits.next(listDeployments);
  }

  const validated = new sfn.Choice(scope, 'ImageValidated')
    .when(
      sfn.Condition.and(
        sfn.Condition.stringEqualsJsonPath('$.current.Value', '$.amiId'),
        sfn.Condition.numberGreaterThanEqualsJsonPath('$.current.Version', '$.written.Version'),
      ),
      beforeRefresh,
    )
    // Two minutes: SSM validates within seconds; a value still absent was refused (unknown or unavailable image).
    .when(
      sfn.Condition.numberGreaterThanEquals('$.checks.count', VALIDATION_CHECKS),
      failure(
        'ImageNotValidated',
        'ImageNotValidated',
        'SSM did not accept the new image id within two minutes (an unknown or unavailable image).',
      ).next(restore),
    )
    .otherwise(countCheck);
  countCheck.next(waitForValidation);

  const done = new sfn.Choice(scope, 'RefreshDone')
    .when(sfn.Condition.stringEquals('$.status.Status', 'Successful'), succeed)
    .when(
      sfn.Condition.or(
        ...['Failed', 'Cancelled', 'RollbackSuccessful', 'RollbackFailed'].map((status) =>
          sfn.Condition.stringEquals('$.status.Status', status),
        ),
      ),
      new sfn.Pass(scope, 'RefreshFailed', {
        parameters: {
          Error: 'RefreshFailed',
          'Cause.$':
            "States.Format('The instance refresh ended {}: the fleet was not moved to the new image.', $.status.Status)",
        },
        resultPath: '$.failure',
      }).next(restore),
    )
    .when(
      sfn.Condition.numberGreaterThanEquals('$.refreshChecks.count', REFRESH_CHECKS),
      failure(
        'RefreshTookTooLong',
        'RefreshTookTooLong',
        `The instance refresh had not ended after ${REFRESH_CHECKS} minutes (the pipeline action's hour would run out): cancelled.`,
      ).next(cancelRefresh),
    )
    .otherwise(countRefreshCheck);
  countRefreshCheck.next(waitForRefresh);
  startRefresh.next(startRefreshChecks).next(waitForRefresh);
  waitForRefresh.next(describe);
  describe.next(done);

  const onlyRollout = new sfn.Choice(scope, 'OnlyRollout')
    .when(sfn.Condition.numberGreaterThan('$.running.count', 1), alreadyRunning)
    .otherwise(lock ? lock.next(remember) : remember);
  remember.addCatch(unlockOnFailure, { errors: [sfn.Errors.ALL], resultPath: '$.failure' });
  listRunning.next(onlyRollout);
  const definition = listRunning;
  remember.next(write).next(startChecks).next(waitForValidation).next(check).next(validated);
  return loggedStateMachine(scope, 'Rollout', {
    comment: `Rolls a new image out to ${props.customer}-${props.environment}`,
    stateMachineName,
    start: definition,
    logsId: 'RolloutLogs',
    logRetention: props.logRetention,
    key,
  });
}
