import { Duration } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { addCount, awsCall, failureReason, startCount } from '../pipeline-common/state-machine';

/**
 * Internal: what the Deploy stage's state machines share (rolling-with-additional-batch in batch-deployment.ts,
 * immutable and traffic splitting in immutable-deployment.ts): the lock with the AMI pipeline's instance refresh,
 * and a CodeDeploy deployment created and watched to its end.
 */

/** Instance refreshes that have not ended (DescribeInstanceRefreshes' statuses). */
const ACTIVE_REFRESH = ['Pending', 'InProgress', 'Cancelling', 'RollbackInProgress', 'Baking'];
/** A deployment: checked every minute. */
const DEPLOYMENT_WAIT = Duration.seconds(60);

/**
 * The group's instance refreshes that have not ended, counted in $.refreshes.count: `Describe<id>` then
 * `Count<id>`; an error of the describe goes to `onError`, its reason in $.failure.
 */
export function activeRefreshes(
  scope: Construct,
  id: string,
  group: autoscaling.IAutoScalingGroup,
  onError: sfn.IChainable,
) {
  const describe = awsCall(scope)(`Describe${id}`, {
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
}

/** The reason of a deployment refused because an instance refresh runs. */
export function refreshRunning(scope: Construct, id: string): sfn.Pass {
  return failureReason(scope)(
    id,
    'RefreshInProgress',
    "An instance refresh of the environment's group (the AMI pipeline's rollout) is running: no deployment starts " +
      'during a refresh. Retry once it has ended.',
  );
}

/** What `watchedDeployment` builds. */
export interface WatchedDeploymentOptions {
  /** The CreateDeployment task's id. */
  readonly createId: string;
  /** The other states' ids: `Start<id>DeploymentChecks`, `Get<id>Deployment`, `<id>DeploymentDone` and so on. */
  readonly id: string;
  /** The CreateDeployment task's comment. */
  readonly comment: string;
  readonly application: codedeploy.IServerApplication;
  readonly target: codedeploy.IServerDeploymentGroup;
  readonly deploymentConfigName: string;
  readonly deploymentConfigArn: string;
  /** The deployment's description, `{}` the pipeline's execution id. */
  readonly description: string;
  /** Where it goes, in the failures' causes (" to the standby instances"), or nothing. */
  readonly to?: string;
  /** Checks of the deployment, a minute apart, before it is stopped. */
  readonly checks: number;
  /** On success. */
  readonly next: sfn.IChainable;
  /** On every failure, its reason in $.failure. */
  readonly cleanup: sfn.IChainable;
}

/**
 * The release (`{ revision: { bucket, key }, pipelineExecutionId }`) deployed to `target`, checked every minute,
 * `checks` times at most; one that outlasts them is stopped (and rolled back by CodeDeploy). Returns the
 * CreateDeployment task, its whole loop wired.
 */
export function watchedDeployment(scope: Construct, options: WatchedDeploymentOptions) {
  const { id, target, application, cleanup } = options;
  const to = options.to ?? '';
  const call = awsCall(scope);
  const failure = failureReason(scope);
  const create = call(options.createId, {
    comment: options.comment,
    service: 'codedeploy',
    action: 'createDeployment',
    iamAction: 'codedeploy:CreateDeployment',
    parameters: {
      ApplicationName: application.applicationName,
      DeploymentGroupName: target.deploymentGroupName,
      DeploymentConfigName: options.deploymentConfigName,
      Description: sfn.JsonPath.format(options.description, sfn.JsonPath.stringAt('$.pipelineExecutionId')),
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
      // CreateDeployment reads the configuration and registers the revision with the application.
      new iam.PolicyStatement({
        actions: ['codedeploy:GetDeploymentConfig'],
        resources: [options.deploymentConfigArn],
      }),
      new iam.PolicyStatement({
        actions: ['codedeploy:RegisterApplicationRevision', 'codedeploy:GetApplicationRevision'],
        resources: [application.applicationArn],
      }),
    ],
    resultSelector: { 'id.$': '$.DeploymentId' },
    resultPath: '$.deployment',
  });
  create.addCatch(cleanup, { errors: [sfn.Errors.ALL], resultPath: '$.failure' });
  const start = startCount(scope, `Start${id}DeploymentChecks`, '$.deploymentChecks');
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
  stop.addCatch(cleanup, { errors: [sfn.Errors.ALL], resultPath: '$.cleanupError' });
  stop.next(cleanup);
  get.addCatch(stop, { errors: [sfn.Errors.ALL], resultPath: '$.failure' });
  const count = addCount(scope, `Count${id}DeploymentCheck`, '$.deploymentChecks');
  const done = new sfn.Choice(scope, `${id}DeploymentDone`)
    .when(sfn.Condition.stringEquals('$.status.Status', 'Succeeded'), options.next)
    .when(
      sfn.Condition.or(
        sfn.Condition.stringEquals('$.status.Status', 'Failed'),
        sfn.Condition.stringEquals('$.status.Status', 'Stopped'),
      ),
      new sfn.Pass(scope, `${id}DeploymentEndedBadly`, {
        parameters: {
          Error: 'DeploymentFailed',
          'Cause.$': sfn.JsonPath.format(
            `CodeDeploy deployment {}${to} ended {} (rolled back by CodeDeploy): see its events in the CodeDeploy console.`,
            sfn.JsonPath.stringAt('$.deployment.id'),
            sfn.JsonPath.stringAt('$.status.Status'),
          ),
        },
        resultPath: '$.failure',
      }).next(cleanup),
    )
    .when(
      sfn.Condition.numberGreaterThanEquals('$.deploymentChecks.count', options.checks),
      failure(
        `${id}DeploymentTookTooLong`,
        'DeploymentTookTooLong',
        `The deployment${to} had not ended after ${options.checks} minutes (the pipeline action's hour would run out): stopped and rolled back.`,
      ).next(stop),
    )
    .otherwise(count);
  count.next(wait);
  create.next(start).next(wait).next(get).next(done);
  return create;
}

/** What `instancesInService` builds. */
export interface InstancesInServiceOptions {
  /** The states' ids: the counter's start, the wait, the read, the count and the choice. */
  readonly ids: { start: string; wait: string; read: string; count: string; choice: string };
  readonly group: autoscaling.IAutoScalingGroup;
  /** Where the number of instances expected in service is. */
  readonly capacityPath: string;
  /** Checks, a minute apart, before `failure`. */
  readonly checks: number;
  readonly wait: Duration;
  /** Once they are in service. */
  readonly then: sfn.IChainable;
  /** The reason set when they are not in service after `checks` checks. */
  readonly failure: { id: string; error: string; cause: string };
  /** On every failure, its reason in $.failure. */
  readonly cleanup: sfn.IChainable;
}

/**
 * The group's instances in service, at least as many as `capacityPath` says: checked every `wait`, `checks` times at
 * most. Returns the counter's start.
 */
export function instancesInService(scope: Construct, options: InstancesInServiceOptions): sfn.Pass {
  const { ids, group, cleanup } = options;
  const start = startCount(scope, ids.start, '$.capacityChecks');
  const wait = new sfn.Wait(scope, ids.wait, { time: sfn.WaitTime.duration(options.wait) });
  const read = awsCall(scope)(ids.read, {
    service: 'autoscaling',
    action: 'describeAutoScalingGroups',
    iamAction: 'autoscaling:DescribeAutoScalingGroups',
    parameters: { AutoScalingGroupNames: [group.autoScalingGroupName] },
    // DescribeAutoScalingGroups has no resource-level permissions in IAM.
    iamResources: ['*'],
    resultSelector: {
      'instances.$': "$.AutoScalingGroups[0].Instances[?(@.LifecycleState == 'InService')].InstanceId",
    },
    resultPath: '$.inService',
  });
  read.addCatch(cleanup, { errors: [sfn.Errors.ALL], resultPath: '$.failure' });
  const count = new sfn.Pass(scope, ids.count, {
    parameters: {
      'inService.$': 'States.ArrayLength($.inService.instances)',
      'count.$': 'States.MathAdd($.capacityChecks.count, 1)',
    },
    resultPath: '$.capacityChecks',
  });
  const { id, error, cause } = options.failure;
  const inService = new sfn.Choice(scope, ids.choice)
    .when(
      sfn.Condition.numberGreaterThanEqualsJsonPath('$.capacityChecks.inService', options.capacityPath),
      options.then,
    )
    .when(
      sfn.Condition.numberGreaterThanEquals('$.capacityChecks.count', options.checks),
      failureReason(scope)(id, error, cause).next(cleanup),
    )
    .otherwise(wait);
  start.next(wait).next(read).next(count).next(inService);
  return start;
}
