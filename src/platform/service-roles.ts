import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

/**
 * The tag every resource of a customer environment carries (CustomerWebTier, CustomerEnvironment and the pipelines
 * built from a config set it): the shared roles act only on resources that carry it, in the platform's account and
 * region.
 */
export const ENVIRONMENT_TAG = 'vending:customer';

/** Internal: the platform's service roles (`PlatformServiceRoles`) as they were made. */
export interface ServiceRoles {
  readonly databaseMonitoringRole: iam.Role;
  readonly deploymentRole: iam.Role;
  readonly pipelineEventsRole: iam.Role;
}

/** Internal: the platform's service roles, in `scope`'s `ServiceRoles`. */
export function createServiceRoles(scope: Construct): ServiceRoles {
  const stack = Stack.of(scope);
  const within = new Construct(scope, 'ServiceRoles');
  const tagged = (key: string) => ({ Null: { [`${key}/${ENVIRONMENT_TAG}`]: 'false' } });

  const databaseMonitoringRole = new iam.Role(within, 'DatabaseMonitoring', {
    assumedBy: new iam.ServicePrincipal('monitoring.rds.amazonaws.com'),
    description: 'RDS enhanced monitoring of every database of the platform (the same managed policy for all)',
    managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AmazonRDSEnhancedMonitoringRole')],
  });

  const deploymentRole = new iam.Role(within, 'Deployment', {
    assumedBy: new iam.ServicePrincipal('codedeploy.amazonaws.com'),
    description: "CodeDeploy's service role for the deployment groups of the platform's environments",
    managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSCodeDeployRole')],
  });
  const ec2Arn = (resource: string, account = stack.account) =>
    stack.formatArn({ service: 'ec2', account, resource, resourceName: '*' });
  const launchTemplates = ec2Arn('launch-template');
  // A group on a launch template: CodeDeploy launches instances from it. Only from a launch template of an
  // environment (tagged with its customer), in this account and region.
  deploymentRole.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['ec2:RunInstances'],
      resources: [launchTemplates],
      conditions: tagged('aws:ResourceTag'),
    }),
  );
  // The other resources RunInstances authorizes on, only for a launch from a launch template (the statement above
  // decides which).
  deploymentRole.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['ec2:RunInstances'],
      resources: [
        ...['instance', 'volume', 'network-interface', 'subnet', 'security-group'].map((r) => ec2Arn(r)),
        ec2Arn('image', ''),
      ],
      conditions: { ArnLike: { 'ec2:LaunchTemplate': launchTemplates } },
    }),
  );
  deploymentRole.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['ec2:CreateTags'],
      resources: ['*'],
      conditions: { StringEquals: { 'ec2:CreateAction': 'RunInstances' } },
    }),
  );
  // The instances' roles of the environments only (tagged with their customer), to EC2 only.
  deploymentRole.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['iam:PassRole'],
      resources: [stack.formatArn({ service: 'iam', region: '', resource: 'role', resourceName: '*' })],
      conditions: {
        StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' },
        ...tagged('iam:ResourceTag'),
      },
    }),
  );

  const pipelineEventsRole = new iam.Role(within, 'PipelineEvents', {
    assumedBy: new iam.ServicePrincipal('events.amazonaws.com'),
    description: "EventBridge starts the pipelines of the platform's environments (schedules, source changes)",
  });
  pipelineEventsRole.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['codepipeline:StartPipelineExecution'],
      resources: [stack.formatArn({ service: 'codepipeline', resource: '*', arnFormat: ArnFormat.NO_RESOURCE_NAME })],
      conditions: tagged('aws:ResourceTag'),
    }),
  );
  return { databaseMonitoringRole, deploymentRole, pipelineEventsRole };
}
