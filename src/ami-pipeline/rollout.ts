import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import type { CustomerAmiPipelineProps } from './customer-ami-pipeline';

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
  const readParameter = (id: string, resultPath: string) =>
    new tasks.CallAwsService(scope, id, {
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

  const restore = writeParameter('RestorePreviousImage', '$.previous.Value').next(
    new sfn.Fail(scope, 'RolloutFailed', {
      error: 'RolloutFailed',
      cause: 'The new image was not rolled out; the AMI parameter holds the previous image again.',
    }),
  );
  const remember = readParameter('ReadCurrentImage', '$.previous');
  const write = writeParameter('WriteAmiParameter', '$.amiId');
  const startChecks = new sfn.Pass(scope, 'StartValidationChecks', {
    result: sfn.Result.fromObject({ count: 0 }),
    resultPath: '$.checks',
  });
  const waitForValidation = new sfn.Wait(scope, 'WaitForValidation', {
    time: sfn.WaitTime.duration(Duration.seconds(5)),
  });
  const check = readParameter('ReadWrittenImage', '$.current');
  const countCheck = new sfn.Pass(scope, 'CountValidationCheck', {
    parameters: { 'count.$': 'States.MathAdd($.checks.count, 1)' },
    resultPath: '$.checks',
  });
  const startRefresh = new tasks.CallAwsService(scope, 'StartInstanceRefresh', {
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
  for (const step of [write, check, startRefresh, describe]) step.addCatch(restore, { resultPath: '$.error' });

  // With a deployment group on the same instances: no refresh while CodeDeploy deploys (it would fail the
  // deployment, and the deployment's rollback would race the refresh). Checked every minute, for an hour at most.
  let beforeRefresh: sfn.IChainable = startRefresh;
  const group = props.deploymentGroup;
  if (group) {
    const startWaits = new sfn.Pass(scope, 'StartDeploymentChecks', {
      result: sfn.Result.fromObject({ count: 0 }),
      resultPath: '$.deploymentChecks',
    });
    const listDeployments = new tasks.CallAwsService(scope, 'ListActiveDeployments', {
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
    listDeployments.addCatch(restore, { resultPath: '$.error' });
    const waitForDeployments = new sfn.Wait(scope, 'WaitForDeployments', {
      time: sfn.WaitTime.duration(Duration.seconds(60)),
    });
    const countDeploymentCheck = new sfn.Pass(scope, 'CountDeploymentCheck', {
      parameters: { 'count.$': 'States.MathAdd($.deploymentChecks.count, 1)' },
      resultPath: '$.deploymentChecks',
    });
    const noDeployment = new sfn.Choice(scope, 'NoDeploymentInProgress')
      .when(sfn.Condition.numberEquals('$.activeDeployments.count', 0), startRefresh)
      .when(sfn.Condition.numberGreaterThanEquals('$.deploymentChecks.count', 60), restore)
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
    .when(sfn.Condition.numberGreaterThanEquals('$.checks.count', 24), restore)
    .otherwise(countCheck);
  countCheck.next(waitForValidation);

  const done = new sfn.Choice(scope, 'RefreshDone')
    .when(sfn.Condition.stringEquals('$.status.Status', 'Successful'), new sfn.Succeed(scope, 'FleetOnNewImage'))
    .when(
      sfn.Condition.or(
        ...['Failed', 'Cancelled', 'RollbackSuccessful', 'RollbackFailed'].map((status) =>
          sfn.Condition.stringEquals('$.status.Status', status),
        ),
      ),
      restore,
    )
    .otherwise(waitForRefresh);
  startRefresh.next(waitForRefresh);
  waitForRefresh.next(describe);
  describe.next(done);

  const definition = remember.next(write).next(startChecks).next(waitForValidation).next(check).next(validated);
  return new sfn.StateMachine(scope, 'Rollout', {
    comment: `Rolls a new image out to ${props.customer}-${props.environment}`,
    definitionBody: sfn.DefinitionBody.fromChainable(definition),
    timeout: Duration.hours(6),
    tracingEnabled: true,
    logs: {
      destination: new logs.LogGroup(scope, 'RolloutLogs', {
        retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
        encryptionKey: key,
      }),
      level: sfn.LogLevel.ALL,
      includeExecutionData: true,
    },
  });
}
