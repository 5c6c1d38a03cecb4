import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { batchDeploymentNames } from './batch-deployment';
import type { SoftwareDeliveryPipelineProps } from './software-delivery-pipeline';

/** Longest AWS API call of a task: a task that takes longer fails with States.Timeout, which is caught. */
const TASK_TIMEOUT = Duration.seconds(20);
/** The standby group coming into service (launched, given its last good release by CodeDeploy's launch hook). */
const CAPACITY_WAIT = Duration.seconds(60);
const CAPACITY_CHECKS = 10;
/** Each of the two deployments: checked every minute, 10 times. */
const DEPLOYMENT_WAIT = Duration.seconds(60);
const DEPLOYMENT_CHECKS = 10;
/**
 * Under the hour of CodePipeline's invoke action, and above the longest run (every loop to its limit, every task to
 * its timeout: about 45 minutes), so that it is never what ends an execution.
 */
const EXECUTION_TIMEOUT = Duration.minutes(58);
/** Instance refreshes that have not ended (DescribeInstanceRefreshes' statuses). */
const ACTIVE_REFRESH = ['Pending', 'InProgress', 'Cancelling', 'RollbackInProgress', 'Baking'];
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
  const taskTimeout = sfn.Timeout.duration(TASK_TIMEOUT);
  const call = (id: string, options: Omit<tasks.CallAwsServiceProps, 'taskTimeout'>) =>
    new tasks.CallAwsService(scope, id, { taskTimeout, ...options });
  const failure = (id: string, error: string, cause: string) =>
    new sfn.Pass(scope, id, { result: sfn.Result.fromObject({ Error: error, Cause: cause }), resultPath: '$.failure' });
  const failed = new sfn.Fail(scope, 'DeploymentFailed', {
    errorPath: '$.failure.Error',
    causePath: '$.failure.Cause',
  });

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

  // The lock with the AMI pipeline: no deployment while an instance refresh of the group runs, checked before
  // anything changes and before each deployment.
  const refreshCheck = (id: string, onError: sfn.IChainable, then: sfn.IChainable) => {
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
    const running = failure(
      `RefreshRunning${id.replace(/^Refreshes/, '')}`,
      'RefreshInProgress',
      "An instance refresh of the environment's group (the AMI pipeline's rollout) is running: no deployment starts " +
        'during a refresh. Retry once it has ended.',
    ).next(onError);
    describe
      .next(count)
      .next(
        new sfn.Choice(scope, `No${id.replace(/^Refreshes/, 'Refresh')}`)
          .when(sfn.Condition.numberGreaterThan('$.refreshes.count', 0), running)
          .otherwise(then),
      );
    return describe;
  };

  /** A deployment of the revision to `target`, all at once, watched every minute; `next` on success. */
  const deploy = (id: string, target: codedeploy.IServerDeploymentGroup, next: sfn.IChainable, what: string) => {
    const create = call(`CreateDeploymentTo${id}`, {
      comment: `The release, from the Build stage, to ${what}, all at once`,
      service: 'codedeploy',
      action: 'createDeployment',
      iamAction: 'codedeploy:CreateDeployment',
      parameters: {
        ApplicationName: application.applicationName,
        DeploymentGroupName: target.deploymentGroupName,
        DeploymentConfigName: ALL_AT_ONCE,
        Description: sfn.JsonPath.format(
          `Release {} of ${label} to ${what} (immutable)`,
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
      iamResources: [target.deploymentGroupArn],
      additionalIamStatements: [
        new iam.PolicyStatement({ actions: ['codedeploy:GetDeploymentConfig'], resources: [allAtOnceArn] }),
        new iam.PolicyStatement({
          actions: ['codedeploy:RegisterApplicationRevision', 'codedeploy:GetApplicationRevision'],
          resources: [application.applicationArn],
        }),
      ],
      resultSelector: { 'id.$': '$.DeploymentId' },
      resultPath: '$.deployment',
    });
    create.addCatch(standbyToZeroAfterFailure, { errors: [sfn.Errors.ALL], resultPath: '$.failure' });
    const start = new sfn.Pass(scope, `Start${id}DeploymentChecks`, {
      result: sfn.Result.fromObject({ count: 0 }),
      resultPath: '$.deploymentChecks',
    });
    const wait = new sfn.Wait(scope, `WaitFor${id}Deployment`, { time: sfn.WaitTime.duration(DEPLOYMENT_WAIT) });
    const get = call(`Get${id}Deployment`, {
      service: 'codedeploy',
      action: 'getDeployment',
      iamAction: 'codedeploy:GetDeployment',
      parameters: { DeploymentId: sfn.JsonPath.stringAt('$.deployment.id') },
      iamResources: [target.deploymentGroupArn],
      resultSelector: { 'Status.$': '$.DeploymentInfo.Status' },
      resultPath: '$.status',
    });
    const stop = call(`Stop${id}Deployment`, {
      comment: 'Stops the deployment; CodeDeploy rolls the updated instances back to the last good release',
      service: 'codedeploy',
      action: 'stopDeployment',
      iamAction: 'codedeploy:StopDeployment',
      parameters: { DeploymentId: sfn.JsonPath.stringAt('$.deployment.id'), AutoRollbackEnabled: true },
      iamResources: [target.deploymentGroupArn],
      resultPath: sfn.JsonPath.DISCARD,
    });
    stop.addCatch(standbyToZeroAfterFailure, { errors: [sfn.Errors.ALL], resultPath: '$.cleanupError' });
    stop.next(standbyToZeroAfterFailure);
    get.addCatch(stop, { errors: [sfn.Errors.ALL], resultPath: '$.failure' });
    const count = new sfn.Pass(scope, `Count${id}DeploymentCheck`, {
      parameters: { 'count.$': 'States.MathAdd($.deploymentChecks.count, 1)' },
      resultPath: '$.deploymentChecks',
    });
    const done = new sfn.Choice(scope, `${id}DeploymentDone`)
      .when(sfn.Condition.stringEquals('$.status.Status', 'Succeeded'), next)
      .when(
        sfn.Condition.or(
          sfn.Condition.stringEquals('$.status.Status', 'Failed'),
          sfn.Condition.stringEquals('$.status.Status', 'Stopped'),
        ),
        new sfn.Pass(scope, `${id}DeploymentEndedBadly`, {
          parameters: {
            Error: 'DeploymentFailed',
            'Cause.$': sfn.JsonPath.format(
              `CodeDeploy deployment {} to ${what} ended {} (rolled back by CodeDeploy): see its events in the CodeDeploy console.`,
              sfn.JsonPath.stringAt('$.deployment.id'),
              sfn.JsonPath.stringAt('$.status.Status'),
            ),
          },
          resultPath: '$.failure',
        }).next(standbyToZeroAfterFailure),
      )
      .when(
        sfn.Condition.numberGreaterThanEquals('$.deploymentChecks.count', deploymentChecks),
        failure(
          `${id}DeploymentTookTooLong`,
          'DeploymentTookTooLong',
          `The deployment to ${what} had not ended after ${deploymentChecks} minutes (the pipeline action's hour would run out): stopped and rolled back.`,
        ).next(stop),
      )
      .otherwise(count);
    count.next(wait);
    create.next(start).next(wait).next(get).next(done);
    return create;
  };

  // The group's own instances last: the standby serves while they update, and they keep the release after.
  const deployToPrimary = deploy('Group', deploymentGroup, standbyToZero, "the group's instances");
  const beforePrimary = refreshCheck('RefreshesBeforeGroup', standbyToZeroAfterFailure, deployToPrimary);

  /** The standby scaled to `capacityPath` and in service: checked every minute, `capacityChecks` times at most. */
  const standbyInService = (id: string, capacityPath: string, then: sfn.IChainable) => {
    const scaleOut = scaleStandby(`ScaleOut${id}`, capacityPath);
    scaleOut.addCatch(standbyToZeroAfterFailure, { errors: [sfn.Errors.ALL], resultPath: '$.failure' });
    const startChecks = new sfn.Pass(scope, `Start${id}Checks`, {
      result: sfn.Result.fromObject({ count: 0 }),
      resultPath: '$.capacityChecks',
    });
    const waitForStandby = new sfn.Wait(scope, `WaitFor${id}`, { time: sfn.WaitTime.duration(CAPACITY_WAIT) });
    const readInService = call(`Read${id}InService`, {
      service: 'autoscaling',
      action: 'describeAutoScalingGroups',
      iamAction: 'autoscaling:DescribeAutoScalingGroups',
      parameters: { AutoScalingGroupNames: [standby.autoScalingGroupName] },
      // DescribeAutoScalingGroups has no resource-level permissions in IAM.
      iamResources: ['*'],
      resultSelector: {
        'instances.$': "$.AutoScalingGroups[0].Instances[?(@.LifecycleState == 'InService')].InstanceId",
      },
      resultPath: '$.inService',
    });
    readInService.addCatch(standbyToZeroAfterFailure, { errors: [sfn.Errors.ALL], resultPath: '$.failure' });
    const countInService = new sfn.Pass(scope, `Count${id}InService`, {
      parameters: {
        'inService.$': 'States.ArrayLength($.inService.instances)',
        'count.$': 'States.MathAdd($.capacityChecks.count, 1)',
      },
      resultPath: '$.capacityChecks',
    });
    const inService = new sfn.Choice(scope, `${id}InService`)
      .when(sfn.Condition.numberGreaterThanEqualsJsonPath('$.capacityChecks.inService', capacityPath), then)
      .when(
        sfn.Condition.numberGreaterThanEquals('$.capacityChecks.count', capacityChecks),
        failure(
          `${id}NotInService`,
          'StandbyNotInService',
          `The standby instances were not in service after ${capacityChecks} minutes (instances failing their launch): ` +
            'the standby goes back to zero, and the group keeps the release it had.',
        ).next(standbyToZeroAfterFailure),
      )
      .otherwise(waitForStandby);
    scaleOut.next(startChecks).next(waitForStandby).next(readInService).next(countInService).next(inService);
    return scaleOut;
  };

  let afterStandbyDeployment: sfn.IChainable = beforePrimary;
  if (canary) {
    // The evaluation: the alarms read every minute, `minutes` times; one in ALARM ends the deployment.
    const startEvaluation = new sfn.Pass(scope, 'StartEvaluation', {
      result: sfn.Result.fromObject({ count: 0 }),
      resultPath: '$.evaluation',
    });
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
  return new sfn.StateMachine(scope, 'Deployment', {
    comment: canary
      ? `Deploys a release to ${label} on a canary share of new instances first (traffic splitting)`
      : `Deploys a release to ${label} on new instances first (immutable)`,
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
