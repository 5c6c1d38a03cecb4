import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { batchDeploymentNames } from './batch-deployment';
import { activeRefreshes, instancesInService, refreshRunning, watchedDeployment } from './deployment-machine';
import type { SoftwareDeliveryPipelineProps } from './software-delivery-pipeline';
import {
  awsCall,
  failedState,
  failureReason,
  loggedStateMachine,
  singleExecution,
  startCount,
} from '../pipeline-common/state-machine';

/** The standby group coming into service (launched, given its last good release by CodeDeploy's launch hook). */
const CAPACITY_WAIT = Duration.seconds(60);
const CAPACITY_CHECKS = 10;
/** Each of the two deployments: checked every minute, 10 times. */
const DEPLOYMENT_CHECKS = 10;
// The execution's timeout (EXECUTION_TIMEOUT) is above the longest run: every loop to its limit, every task to its
// timeout, about 45 minutes.
/** Both deployments update every instance of their group at once: neither group serves traffic while it updates. */
const ALL_AT_ONCE = 'CodeDeployDefault.AllAtOnce';

/** Traffic splitting's loops are shorter, to leave room for the evaluation within the hour. */
const CANARY_CAPACITY_CHECKS = 6;
const CANARY_DEPLOYMENT_CHECKS = 7;

/** Traffic splitting: the canary's share and how long the alarms are watched. */
export interface CanaryOptions {
  /** Share of the traffic, in percent, by the number of standby instances beside the group's (1 to 50). */
  readonly percent: number;
  /** Minutes the alarms are watched before the rest of the release (1 to 10). */
  readonly minutes: number;
  /** The alarms whose ALARM state ends the evaluation and the deployment (the 5xx alarm). */
  readonly alarms: cloudwatch.IAlarm[];
}

/** What the immutable deployment's state machine is built on. */
export interface ImmutableDeploymentContext {
  /** Traffic splitting: a canary share first. */
  readonly canary?: CanaryOptions;
  readonly props: SoftwareDeliveryPipelineProps;
  readonly standby: autoscaling.IAutoScalingGroup;
  readonly application: codedeploy.IServerApplication;
  readonly deploymentGroup: codedeploy.IServerDeploymentGroup;
  readonly standbyDeploymentGroup: codedeploy.IServerDeploymentGroup;
  /** The role the machine runs as (the software pipeline's: see README, "Deployment policies"). */
  readonly role: iam.IRole;
  readonly key: kms.IKey;
}

/**
 * The immutable deployment: one execution at a time, none while an instance refresh of the group runs; the standby
 * group grows to the group's desired capacity, the release is deployed to it (CodeDeploy registers its instances in
 * the target group once installed: old and new instances serve together), then to the group's own instances all at
 * once (they leave the target group while the standby serves), and the standby goes back to zero. On every path the
 * standby ends at zero. The input is `{ revision: { bucket, key }, pipelineExecutionId }`.
 */
export function immutableDeploymentStateMachine(
  scope: Construct,
  context: ImmutableDeploymentContext,
): sfn.StateMachine {
  const { props, standby, application, deploymentGroup, standbyDeploymentGroup, role, key, canary } = context;
  const capacityChecks = canary ? CANARY_CAPACITY_CHECKS : CAPACITY_CHECKS;
  const deploymentChecks = canary ? CANARY_DEPLOYMENT_CHECKS : DEPLOYMENT_CHECKS;
  const names = batchDeploymentNames(scope, props);
  const group = props.autoScalingGroup;
  const label = `${props.customer}-${props.environment}`;
  const allAtOnceArn = Stack.of(scope).formatArn({
    service: 'codedeploy',
    resource: 'deploymentconfig',
    resourceName: ALL_AT_ONCE,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
  const call = awsCall(scope);
  const failure = failureReason(scope);
  const failed = failedState(scope, 'DeploymentFailed');

  // The clean-up: the standby back to zero (CodeDeploy's termination hook takes its instances out of the target group
  // first). A clean-up error keeps the first failure as the reason.
  const scaleStandby = (id: string, capacity: string | number) =>
    call(id, {
      service: 'autoscaling',
      action: 'updateAutoScalingGroup',
      iamAction: 'autoscaling:UpdateAutoScalingGroup',
      parameters: {
        AutoScalingGroupName: standby.autoScalingGroupName,
        ...(typeof capacity === 'number'
          ? { DesiredCapacity: capacity, MinSize: capacity }
          : { 'DesiredCapacity.$': capacity, 'MinSize.$': capacity }),
      },
      iamResources: [standby.autoScalingGroupArn],
      resultPath: sfn.JsonPath.DISCARD,
    });
  const standbyToZeroAfterFailure = scaleStandby('StandbyToZeroAfterFailure', 0);
  standbyToZeroAfterFailure.addCatch(failed, { errors: [sfn.Errors.ALL], resultPath: '$.cleanupError' });
  standbyToZeroAfterFailure.next(failed);
  const standbyToZero = scaleStandby('StandbyToZero', 0);
  standbyToZero.addCatch(failed, { errors: [sfn.Errors.ALL], resultPath: '$.failure' });
  standbyToZero.next(new sfn.Succeed(scope, 'Deployed'));

  const { listRunning, alreadyRunning } = singleExecution(scope, {
    listId: 'ListRunningDeployments',
    error: 'DeploymentAlreadyRunning',
    what: 'deployment',
    stateMachineArn: names.stateMachineArn,
  });

  // The lock with the AMI pipeline: no deployment while an instance refresh of the group runs, checked before
  // anything changes and before each deployment.
  const refreshCheck = (id: string, onError: sfn.IChainable, then: sfn.IChainable) => {
    const { start, count } = activeRefreshes(scope, id, group, onError);
    const running = refreshRunning(scope, `RefreshRunning${id.replace(/^Refreshes/, '')}`).next(onError);
    count.next(
      new sfn.Choice(scope, `No${id.replace(/^Refreshes/, 'Refresh')}`)
        .when(sfn.Condition.numberGreaterThan('$.refreshes.count', 0), running)
        .otherwise(then),
    );
    return start;
  };

  /** A deployment of the revision to `target`, all at once, watched every minute; `next` on success. */
  const deploy = (id: string, target: codedeploy.IServerDeploymentGroup, next: sfn.IChainable, what: string) =>
    watchedDeployment(scope, {
      createId: `CreateDeploymentTo${id}`,
      id,
      comment: `The release, from the Build stage, to ${what}, all at once`,
      application,
      target,
      deploymentConfigName: ALL_AT_ONCE,
      deploymentConfigArn: allAtOnceArn,
      description: `Release {} of ${label} to ${what} (immutable)`,
      to: ` to ${what}`,
      checks: deploymentChecks,
      next,
      cleanup: standbyToZeroAfterFailure,
    });

  // The group's own instances last: the standby serves while they update, and they keep the release after.
  const deployToPrimary = deploy('Group', deploymentGroup, standbyToZero, "the group's instances");
  const beforePrimary = refreshCheck('RefreshesBeforeGroup', standbyToZeroAfterFailure, deployToPrimary);

  /** The standby scaled to `capacityPath` and in service: checked every minute, `capacityChecks` times at most. */
  const standbyInService = (id: string, capacityPath: string, then: sfn.IChainable) => {
    const scaleOut = scaleStandby(`ScaleOut${id}`, capacityPath);
    scaleOut.addCatch(standbyToZeroAfterFailure, { errors: [sfn.Errors.ALL], resultPath: '$.failure' });
    scaleOut.next(
      instancesInService(scope, {
        ids: {
          start: `Start${id}Checks`,
          wait: `WaitFor${id}`,
          read: `Read${id}InService`,
          count: `Count${id}InService`,
          choice: `${id}InService`,
        },
        group: standby,
        capacityPath,
        checks: capacityChecks,
        wait: CAPACITY_WAIT,
        then,
        failure: {
          id: `${id}NotInService`,
          error: 'StandbyNotInService',
          cause:
            `The standby instances were not in service after ${capacityChecks} minutes (instances failing their launch): ` +
            'the standby goes back to zero, and the group keeps the release it had.',
        },
        cleanup: standbyToZeroAfterFailure,
      }),
    );
    return scaleOut;
  };

  let afterStandbyDeployment: sfn.IChainable = beforePrimary;
  if (canary) {
    // The evaluation: the alarms read every minute, `minutes` times; one in ALARM ends the deployment.
    const startEvaluation = startCount(scope, 'StartEvaluation', '$.evaluation');
    const waitForEvaluation = new sfn.Wait(scope, 'WaitForEvaluation', {
      time: sfn.WaitTime.duration(Duration.seconds(60)),
    });
    const readAlarms = call('ReadAlarms', {
      comment: "The deployment alarms (the instances' 5xx share), while the canary serves",
      service: 'cloudwatch',
      action: 'describeAlarms',
      iamAction: 'cloudwatch:DescribeAlarms',
      parameters: { AlarmNames: canary.alarms.map((a) => a.alarmName) },
      iamResources: canary.alarms.map((a) => a.alarmArn),
      resultSelector: { 'inAlarm.$': "$.MetricAlarms[?(@.StateValue == 'ALARM')].AlarmName" },
      resultPath: '$.alarms',
    });
    readAlarms.addCatch(standbyToZeroAfterFailure, { errors: [sfn.Errors.ALL], resultPath: '$.failure' });
    const countEvaluation = new sfn.Pass(scope, 'CountEvaluation', {
      parameters: {
        'inAlarm.$': 'States.ArrayLength($.alarms.inAlarm)',
        'count.$': 'States.MathAdd($.evaluation.count, 1)',
      },
      resultPath: '$.evaluation',
    });
    const full = standbyInService('Standby', '$.capacity.desired', beforePrimary);
    const evaluated = new sfn.Choice(scope, 'CanaryHealthy')
      .when(
        sfn.Condition.numberGreaterThan('$.evaluation.inAlarm', 0),
        failure(
          'CanaryInAlarm',
          'CanaryInAlarm',
          'A deployment alarm went off while the canary served: the standby goes back to zero, and the group keeps ' +
            'the release it had.',
        ).next(standbyToZeroAfterFailure),
      )
      .when(sfn.Condition.numberGreaterThanEquals('$.evaluation.count', canary.minutes), full)
      .otherwise(waitForEvaluation);
    startEvaluation.next(waitForEvaluation).next(readAlarms).next(countEvaluation).next(evaluated);
    afterStandbyDeployment = startEvaluation;
  }
  const deployToStandby = deploy('Standby', standbyDeploymentGroup, afterStandbyDeployment, 'the standby instances');
  const beforeStandby = refreshCheck('RefreshesBeforeStandby', standbyToZeroAfterFailure, deployToStandby);
  let scaleOut: sfn.IChainable;
  if (canary) {
    // The canary's instances: a list by the group's instances, 0 to 100 (no multiplication in Step Functions).
    const sizes: number[] = [];
    for (let running = 0; running <= 100; running++) {
      sizes.push(Math.max(1, Math.ceil((running * canary.percent) / (100 - canary.percent))));
    }
    const canarySizes = new sfn.Pass(scope, 'CanarySizes', {
      result: sfn.Result.fromObject({ sizes }),
      resultPath: '$.canary',
    });
    const canarySize = new sfn.Pass(scope, 'CanarySize', {
      parameters: { 'size.$': 'States.ArrayGetItem($.canary.sizes, $.capacity.desired)' },
      resultPath: '$.canary',
    });
    canarySizes.next(canarySize).next(standbyInService('Canary', '$.canary.size', beforeStandby));
    scaleOut = new sfn.Choice(scope, 'CapacityInRange')
      .when(sfn.Condition.numberLessThanEquals('$.capacity.desired', 100), canarySizes)
      .otherwise(
        failure(
          'CapacityOutOfRange',
          'CapacityOutOfRange',
          'The group runs more than 100 instances (changed by hand?): the canary is sized for 1 to 100. Nothing was changed.',
        ).next(failed),
      );
  } else {
    scaleOut = standbyInService('Standby', '$.capacity.desired', beforeStandby);
  }

  const readCapacity = call('ReadCapacity', {
    comment: "The group's desired capacity: the standby gets as many instances",
    service: 'autoscaling',
    action: 'describeAutoScalingGroups',
    iamAction: 'autoscaling:DescribeAutoScalingGroups',
    parameters: { AutoScalingGroupNames: [group.autoScalingGroupName] },
    iamResources: ['*'],
    resultSelector: { 'desired.$': '$.AutoScalingGroups[0].DesiredCapacity' },
    resultPath: '$.capacity',
  });
  readCapacity.addCatch(failed, { errors: [sfn.Errors.ALL], resultPath: '$.failure' });
  readCapacity.next(
    new sfn.Choice(scope, 'GroupHasInstances')
      .when(sfn.Condition.numberGreaterThanEquals('$.capacity.desired', 1), scaleOut)
      .otherwise(
        failure(
          'NoInstances',
          'NoInstances',
          'The group runs no instance: an immutable deployment needs one at least. Nothing was changed.',
        ).next(failed),
      ),
  );
  const firstCheck = refreshCheck('RefreshesBeforeStart', failed, readCapacity);
  listRunning.next(
    new sfn.Choice(scope, 'OnlyDeployment')
      .when(sfn.Condition.numberGreaterThan('$.running.count', 1), alreadyRunning)
      .otherwise(firstCheck),
  );
  return loggedStateMachine(scope, 'Deployment', {
    comment: canary
      ? `Deploys a release to ${label} on a canary share of new instances first (traffic splitting)`
      : `Deploys a release to ${label} on new instances first (immutable)`,
    stateMachineName: names.stateMachineName,
    start: listRunning,
    role,
    logsId: 'DeploymentLogs',
    logRetention: props.logRetention,
    key,
  });
}
