import { Annotations, Duration, Stack } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { deploymentConfigOf } from './checks';
import type { SoftwareDeliveryPipelineProps } from './software-delivery-pipeline';
import { DeploymentStrategy } from '../config/types';
import { installCodeDeployAgent } from '../web-tier/codedeploy-agent';

/**
 * Internal: the deployment alarms, in the pipeline's scope: the instances' 5xx rate and unhealthy hosts, from the
 * target group's metrics.
 */
export function createAlarms(
  scope: Construct,
  where: string,
  props: SoftwareDeliveryPipelineProps,
  production: boolean,
  label: string,
): cloudwatch.Alarm[] {
  let metrics: elbv2.IApplicationTargetGroupMetrics;
  try {
    // Needs the load balancer: a listener of this app (a dedicated load balancer, or the shared one through a
    // SharedAlbRule, which registers its listener), or an imported group's loadBalancerArns.
    metrics = props.targetGroup.metrics;
  } catch {
    throw new Error(
      `${where}: targetGroup: received a target group attached to no load ` +
        "balancer; expected one behind a listener (the deployment alarms read the load balancer's metrics of it)",
    );
  }
  const period = Duration.minutes(1);
  const maxPercent = props.maxServerErrorPercent ?? 5;
  const errorRate = new cloudwatch.MathExpression({
    // Under 10 requests a minute, a single error would be a large share: the rate counts from 10 requests on.
    expression: 'IF(requests >= 10, 100 * FILL(errors, 0) / requests, 0)',
    usingMetrics: {
      requests: metrics.requestCount({ period, statistic: cloudwatch.Stats.SUM }),
      errors: metrics.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, {
        period,
        statistic: cloudwatch.Stats.SUM,
      }),
    },
    period,
    label: 'Requests answered with 5xx by the instances (%)',
  });
  const serverErrors = new cloudwatch.Alarm(scope, 'ServerErrorAlarm', {
    alarmDescription: `More than ${maxPercent}% of the requests to ${label} answered with 5xx by its instances: stops and rolls back a deployment`,
    metric: errorRate,
    threshold: maxPercent,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    evaluationPeriods: 3,
    datapointsToAlarm: 2,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  const unhealthyHosts = new cloudwatch.Alarm(scope, 'UnhealthyHostsAlarm', {
    alarmDescription: `Instances of ${label} failing the load balancer's health check: stops and rolls back a deployment`,
    metric: metrics.unhealthyHostCount({ period, statistic: cloudwatch.Stats.MAXIMUM }),
    threshold: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    evaluationPeriods: 2,
    datapointsToAlarm: 2,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  const alarmActions = props.alarmActions ?? [
    new cloudwatchActions.SsmAction(
      production ? cloudwatchActions.OpsItemSeverity.HIGH : cloudwatchActions.OpsItemSeverity.MEDIUM,
      cloudwatchActions.OpsItemCategory.AVAILABILITY,
    ),
  ];
  for (const alarm of [serverErrors, unhealthyHosts]) alarm.addAlarmAction(...alarmActions);
  return [serverErrors, unhealthyHosts];
}

/** Internal: adds the CodeDeploy agent's installation to the instances' user data (a warning when there is none). */
export function installAgent(scope: Construct, props: SoftwareDeliveryPipelineProps): void {
  let userData = props.userData;
  if (!userData && props.autoScalingGroup instanceof autoscaling.AutoScalingGroup) {
    try {
      userData = props.autoScalingGroup.userData;
    } catch {
      // A launch template without user data of its own: handled below.
    }
  }
  if (!userData) {
    Annotations.of(scope).addWarningV2(
      'cdk-paas-vending:codeDeployAgent',
      'No user data to install the CodeDeploy agent in: the instances must bring it in their image, or ' +
        "deployments will wait for them until they time out. Pass userData (the launch template's).",
    );
    return;
  }
  installCodeDeployAgent(userData, Stack.of(scope));
}

/**
 * Internal: the CodeDeploy deployment group of the Auto Scaling group, in the pipeline's scope, stopped and rolled
 * back by the 5xx alarm (`alarm`).
 */
export function createDeploymentGroup(
  scope: Construct,
  options: {
    where: string;
    props: SoftwareDeliveryPipelineProps;
    application: codedeploy.IServerApplication;
    alarm: cloudwatch.IAlarm;
    /**
     * The standby group of an immutable deployment: its own deployment group (`web-tier-standby`), all at once,
     * registering its instances in the target group that the standby group is not attached to.
     */
    standby?: autoscaling.IAutoScalingGroup;
  },
): codedeploy.ServerDeploymentGroup {
  const { where, props, application, alarm, standby } = options;
  // Instances launched later, by scaling or by the AMI pipeline's instance refresh, get the last good revision
  // from CodeDeploy itself: listing the Auto Scaling group makes CodeDeploy add a launch lifecycle hook to it
  // (CodeDeploy-managed-automatic-launch-deployment-hook-…), which holds each new instance in Pending:Wait until
  // CodeDeploy has deployed the deployment group's last successful revision to it, and abandons the instance
  // when that deployment fails. (Before the first successful deployment there is nothing to deploy.)
  const group = new codedeploy.ServerDeploymentGroup(scope, standby ? 'StandbyDeploymentGroup' : 'DeploymentGroup', {
    application,
    deploymentGroupName: standby ? 'web-tier-standby' : 'web-tier',
    autoScalingGroups: [standby ?? props.autoScalingGroup],
    role: props.deploymentRole,
    // The agent goes in through the launch template's user data (installAgent), not aws-cdk-lib's commands for
    // Amazon Linux 2 and Ubuntu, which update every package at each launch.
    installAgent: false,
    loadBalancers: [codedeploy.LoadBalancer.application(props.targetGroup)],
    deploymentConfig: standby
      ? codedeploy.ServerDeploymentConfig.ALL_AT_ONCE
      : props.minimumHealthyHosts
        ? new codedeploy.ServerDeploymentConfig(scope, 'DeploymentConfig', {
            minimumHealthyHosts: props.minimumHealthyHosts,
          })
        : deploymentConfigOf(where, props.deploymentStrategy ?? DeploymentStrategy.ONE_AT_A_TIME),
    // The 5xx rate only: see `alarms`.
    alarms: [alarm],
    autoRollback: { failedDeployment: true, stoppedDeployment: true, deploymentInAlarm: true },
  });
  // CodeDeploy's termination hook: an instance that scale-in or the AMI pipeline's instance refresh terminates
  // while a deployment runs on it finishes its lifecycle events first (ApplicationStop, BeforeBlockTraffic,
  // AfterBlockTraffic) instead of being cut off. Set on the L1: the L2's `terminationHook` is newer than the
  // aws-cdk-lib floor.
  (group.node.defaultChild as codedeploy.CfnDeploymentGroup).terminationHookEnabled = true;
  // A role given (the platform's) has its permissions already; a statement added here would be a new policy.
  if (!props.deploymentRole) grantLaunchTemplateUse(group, props);
  return group;
}

/**
 * Internal: what CodeDeploy's service role needs, beyond AWSCodeDeployRole, for a group built on a launch template
 * (it launches instances from the template and passes the instances' role): launching only from the group's own
 * launch template when it is known, tagging only at launch, passing the instances' role only, to EC2 only.
 */
function grantLaunchTemplateUse(group: codedeploy.ServerDeploymentGroup, props: SoftwareDeliveryPipelineProps): void {
  const role = group.role;
  if (!role) return;
  const stack = Stack.of(group);
  const cfnGroup = props.autoScalingGroup.node.defaultChild;
  const template =
    cfnGroup instanceof autoscaling.CfnAutoScalingGroup
      ? (cfnGroup.launchTemplate as autoscaling.CfnAutoScalingGroup.LaunchTemplateSpecificationProperty | undefined)
      : undefined;
  const templateId = template?.launchTemplateId;
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['ec2:RunInstances'],
      // RunInstances authorizes on the instance, its volumes, interfaces, subnet, groups and image: the launch
      // template condition is what limits it to this group's instances.
      resources: ['*'],
      ...(templateId
        ? {
            conditions: {
              ArnEquals: {
                'ec2:LaunchTemplate': stack.formatArn({
                  service: 'ec2',
                  resource: 'launch-template',
                  resourceName: templateId,
                }),
              },
            },
          }
        : {}),
    }),
  );
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['ec2:CreateTags'],
      resources: ['*'],
      conditions: { StringEquals: { 'ec2:CreateAction': 'RunInstances' } },
    }),
  );
  const instanceRole =
    props.instanceRole ??
    (props.autoScalingGroup.grantPrincipal instanceof iam.Role ? props.autoScalingGroup.grantPrincipal : undefined);
  if (instanceRole) {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['iam:PassRole'],
        resources: [instanceRole.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } },
      }),
    );
  }
}

/**
 * Internal: the instances' role may read the pipeline's folder of the artifacts bucket (the CodeDeploy agent
 * downloads revisions with it); a warning when that role is unknown.
 */
export function grantRevisionsToInstances(
  scope: Construct,
  props: SoftwareDeliveryPipelineProps,
  artifacts: s3.IBucket,
  artifactsPrefix: string,
): void {
  if (props.instanceRole) {
    artifacts.grantRead(props.instanceRole);
  } else if (props.autoScalingGroup.grantPrincipal instanceof iam.UnknownPrincipal) {
    Annotations.of(scope).addWarningV2(
      'cdk-paas-vending:instanceRole',
      "The instances' role is unknown (an imported Auto Scaling group, or a launch template without a role): pass " +
        `instanceRole, or let the instances read s3://${props.artifactsBucket.bucketName}/${artifactsPrefix}* ` +
        'and decrypt with the bucket key, or the CodeDeploy agent cannot download revisions.',
    );
  }
}
