/**
 * A SharedPlatform in its own stack, with the cdk-nag findings that the platform is expected to carry
 * acknowledged one by one (each with the reason a user of the library would give). Tests of the constructs
 * that sit on the platform (SharedAlbRule, CustomerWebTier, ...) start here.
 */
import { App, CfnElement, Stack, StackProps, Token } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import { IConstruct } from 'constructs';
import { acknowledge } from './compliance';
import { CustomerAmiPipeline, CustomerWebTier, SharedPlatform, SharedPlatformProps } from '../../src';

export const ENV = { account: '123456789012', region: 'eu-west-1' };
export const PLATFORM_CERTIFICATE_ARN =
  'arn:aws:acm:eu-west-1:123456789012:certificate/11111111-2222-3333-4444-555555555555';

export interface PlatformFixture {
  readonly stack: Stack;
  readonly platform: SharedPlatform;
}

/** A stack with a SharedPlatform named `acme` (override any prop), its known findings acknowledged. */
export function platformStack(
  app: App,
  props: Partial<SharedPlatformProps> = {},
  id = 'Platform',
  stackProps: StackProps = { env: ENV },
): PlatformFixture {
  const stack = new Stack(app, id, stackProps);
  const platform = new SharedPlatform(stack, 'Platform', {
    platformName: 'acme',
    certificate: acm.Certificate.fromCertificateArn(stack, 'Wildcard', PLATFORM_CERTIFICATE_ARN),
    ...props,
  });
  acknowledgePlatform(platform);
  return { stack, platform };
}

/** The cdk-nag findings a SharedPlatform carries by design, each acknowledged with its reason. */
export function acknowledgePlatform(platform: SharedPlatform): void {
  acknowledge(
    platform.loadBalancerSecurityGroup,
    'AwsSolutions-EC23',
    'The shared load balancer is the public entry of every customer website: HTTPS and the HTTP redirect are open to the internet by design.',
  );
  const policies = platform.allocator.node;
  acknowledge(
    policies.findChild('ListenerPolicy'),
    'AwsSolutions-IAM5[Resource::*]',
    'elasticloadbalancing:DescribeRules and DescribeTags have no resource-level permissions in IAM; the allocator only reads rules and their tags with them.',
  );
  for (const kind of ['listener', 'listener-rule']) {
    acknowledge(
      policies.findChild('ListenerPolicy'),
      `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:elasticloadbalancing:${ENV.region}:${ENV.account}:${kind}/<${loadBalancerLogicalId(platform)}.LoadBalancerFullName>/*]`,
      `Listener rules are created at deploy time, so their ARNs are unknown; the ${kind} ARNs are scoped to the shared load balancer.`,
    );
  }
  acknowledge(
    policies.findChild('NetworkPolicy'),
    'AwsSolutions-IAM5[Resource::*]',
    'The network interface actions a Lambda function in a VPC needs; IAM cannot scope them to interfaces that do not exist yet.',
  );
  const roles = platform.node.findChild('ServiceRoles').node;
  acknowledge(
    roles.findChild('DatabaseMonitoring'),
    'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole]',
    'The role RDS enhanced monitoring assumes for every database of the platform, with the policy AWS maintains for it.',
  );
  acknowledge(
    roles.findChild('Deployment'),
    'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSCodeDeployRole]',
    'The CodeDeploy service role of every deployment group of the platform, with the policy AWS maintains for it (Auto Scaling lifecycle hooks, load balancer registration).',
  );
  for (const finding of platformRoleWildcards(platform)) {
    acknowledge(roles.findChild(finding.role).node.findChild('DefaultPolicy'), finding.id, finding.reason);
  }
  const environmentPolicy = platform.node.findChild('EnvironmentResources').node.findChild('Policy');
  acknowledge(
    environmentPolicy,
    'AwsSolutions-IAM5[Resource::*]',
    'ec2:DescribeImages (Parameter Store checks an aws:ec2:image value with it) and the network interface actions of a function in a VPC have no resource-level permissions in IAM.',
  );
  acknowledge(
    environmentPolicy,
    `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ssm:${ENV.region}:${ENV.account}:parameter/vending/*/ami-id]`,
    "The function serves every customer web tier's image parameter, /vending/<customer>/<environment>/ami-id, and no other parameter.",
  );
  acknowledge(
    environmentPolicy,
    `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ssm:${ENV.region}::parameter/aws/service/ami-amazon-linux-latest/*]`,
    "Read-only access to AWS's public Amazon Linux image parameters, the stock initial image of a web tier.",
  );
  acknowledge(
    environmentPolicy,
    `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:cloudformation:${ENV.region}:${ENV.account}:stack/*]`,
    "Read-only: a data bucket's cleanup asks whether the customer stack that sent it is being deleted, for any customer stack.",
  );
}

/** The wildcard findings of the platform's service roles (src/platform/service-roles.ts), with their reasons. */
function platformRoleWildcards(platform: SharedPlatform): { role: string; id: string; reason: string }[] {
  const stack = Stack.of(platform);
  const region = Token.isUnresolved(stack.region) ? '<AWS::Region>' : stack.region;
  const account = Token.isUnresolved(stack.account) ? '<AWS::AccountId>' : stack.account;
  const ec2Id = (resource: string, inAccount = account) =>
    `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:${region}:${inAccount}:${resource}/*]`;
  const launched =
    'Resources RunInstances creates or uses, only for a launch from a launch template (ec2:LaunchTemplate), which the statement on launch templates limits to those tagged with a customer.';
  return [
    {
      role: 'Deployment',
      id: ec2Id('launch-template'),
      reason:
        "CodeDeploy launches from the launch template of the group it deploys; only templates tagged vending:customer (the platform's environments) of this account and region.",
    },
    ...['instance', 'volume', 'network-interface', 'subnet', 'security-group'].map((r) => ({
      role: 'Deployment',
      id: ec2Id(r),
      reason: launched,
    })),
    { role: 'Deployment', id: ec2Id('image', ''), reason: launched },
    {
      role: 'Deployment',
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'ec2:CreateTags only as part of RunInstances (ec2:CreateAction), for the tags the launch template gives.',
    },
    {
      role: 'Deployment',
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iam::${account}:role/*]`,
      reason:
        'iam:PassRole to EC2 only (iam:PassedToService), of roles tagged vending:customer: the instances roles of the environments.',
    },
    {
      role: 'PipelineEvents',
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:codepipeline:${region}:${account}:*]`,
      reason:
        'EventBridge starts pipelines of this account and region tagged vending:customer (the platform environments) only.',
    },
  ];
}

/** Logical id of the platform's load balancer, as cdk-nag prints it in finding ids. */
function loadBalancerLogicalId(platform: SharedPlatform): string {
  const loadBalancer = platform.loadBalancer.node.defaultChild as CfnElement;
  return Stack.of(platform).resolve(loadBalancer.logicalId);
}

/** The cdk-nag findings a CustomerWebTier carries by design, each acknowledged with its reason. */
export function acknowledgeWebTier(web: CustomerWebTier): void {
  const bucket = Stack.of(web).resolve((web.dataBucket.node.defaultChild as CfnElement).logicalId);
  acknowledge(
    web.instanceRole.node.findChild('DefaultPolicy'),
    `AwsSolutions-IAM5[Resource::<${bucket}.Arn>/*]`,
    'The instances read any object of their own data bucket, and only of that bucket.',
  );
  const { region, account } = Stack.of(web);
  acknowledge(
    web.instanceRole.node.findChild('DefaultPolicy'),
    `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ssm:${region}:${account}:parameter/vending/${web.customer}/${web.environment}/settings/*]`,
    "The instances read every setting of their own environment's settings path, and no other parameter.",
  );
  acknowledge(
    web.instanceRole,
    'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore]',
    'The SSM agent actions for Session Manager and Run Command, as AWS maintains them for the agent.',
  );
  const loadBalancerGroup = web.node.tryFindChild('LoadBalancerSecurityGroup');
  if (loadBalancerGroup) {
    acknowledge(
      loadBalancerGroup,
      'AwsSolutions-EC23',
      'The public entry of the customer website: HTTPS and the HTTP redirect are open to the internet by design.',
    );
  }
}

/** The cdk-nag findings a web tier's database carries by design. */
export function acknowledgeDatabase(web: CustomerWebTier): void {
  const database = web.databaseInstance ?? web.databaseCluster;
  if (!database) return;
  // A database built from a config uses the platform's monitoring role, acknowledged with the platform.
  const monitoringRole = database.node.tryFindChild('MonitoringRole');
  if (monitoringRole) {
    acknowledge(
      monitoringRole,
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole]',
      'The role RDS enhanced monitoring assumes, with the policy AWS maintains for it.',
    );
  }
  acknowledge(
    database,
    'AwsSolutions-RDS11',
    "The engine's default port, reachable from the web instances' security group only.",
  );
  if (!web.production) {
    if (web.databaseInstance) {
      acknowledge(database, 'AwsSolutions-RDS3', 'A non-production database runs in one Availability Zone by design.');
    }
    acknowledge(database, 'AwsSolutions-RDS10', 'A non-production database can be deleted with its stack by design.');
  }
}

/** The id cdk-nag gives a construct's CloudFormation resource in finding ids: `<LogicalId>`. */
function nagRef(construct: IConstruct): string {
  const element = (construct.node.defaultChild ?? construct) as CfnElement;
  return `<${Stack.of(construct).resolve(element.logicalId)}>`;
}

/**
 * The grant on a pipeline's folder of the artifacts bucket (src/pipeline-common/artifacts.ts), or aws-cdk-lib's
 * read of a source object, as cdk-nag reports it: objects whose names CodePipeline makes at run time.
 */
export function acknowledgeArtifactGrants(policy: IConstruct, objects: string[], _write: boolean): void {
  for (const pattern of objects) {
    acknowledge(
      policy,
      `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::${pattern}]`,
      `Pipeline artifacts have names made by CodePipeline at run time; the grant is limited to the objects ${pattern}.`,
    );
  }
}

/** aws-cdk-lib's read of a source object (an S3 source action's grantRead on the source bucket). */
export function acknowledgeSourceRead(policy: IConstruct, what: string): void {
  for (const action of ['Action::s3:GetBucket*', 'Action::s3:GetObject*', 'Action::s3:List*']) {
    acknowledge(
      policy,
      `AwsSolutions-IAM5[${action}]`,
      `aws-cdk-lib's read grant of an S3 source action on ${what}: read-only actions on that one bucket.`,
    );
  }
}

/** Whether a pipeline's first source action reads an S3 object. */
export function readsS3Source(pipeline: codepipeline.Pipeline): boolean {
  return pipeline.stages[0].actions[0].actionProperties.provider === 'S3';
}

/** The cdk-nag findings a CustomerAmiPipeline carries by design, each acknowledged with its reason. */
export function acknowledgeAmiPipeline(pipeline: CustomerAmiPipeline, sourceBucket?: string): void {
  const artifacts = `${pipeline.pipeline.artifactBucket.bucketName}/${pipeline.artifactsPrefix}*`;
  const assets = 'cdk-hnb659fds-assets-123456789012-eu-west-1/*';
  const region = `${ENV.region}:${ENV.account}`;
  const buildPolicy = pipeline.node.findChild('BuildRole').node.findChild('DefaultPolicy');
  acknowledgeArtifactGrants(buildPolicy, [artifacts], false);
  const packer: [string, string][] = [
    ['Resource::*', 'Only the ec2:Describe* calls Packer makes, which have no resource-level permissions in IAM.'],
    [
      `Resource::arn:<AWS::Partition>:ec2:${region}:instance/*`,
      'Instance ids are unknown before launch: launching needs the vending:packer-build request tag, stopping, imaging and terminating need it on the instance.',
    ],
    [
      `Resource::arn:<AWS::Partition>:ec2:${region}:volume/*`,
      'Volume ids are unknown before launch; volumes are launched only with the vending:packer-build request tag.',
    ],
    [
      `Resource::arn:<AWS::Partition>:ec2:${region}:network-interface/*`,
      'The network interface RunInstances creates for the build instance, in the one subnet and security group of the statement.',
    ],
    [
      `Resource::arn:<AWS::Partition>:ec2:${region}:key-pair/packer_*`,
      'The temporary key pair Packer creates for each build, named packer_<uuid>.',
    ],
    [
      `Resource::arn:<AWS::Partition>:ec2:${ENV.region}::image/*`,
      'Any base image may be launched from; new images are tagged, and only images with the build tag are deregistered.',
    ],
    [
      `Resource::arn:<AWS::Partition>:ec2:${ENV.region}::snapshot/*`,
      'Snapshot ids are unknown before the image exists; only snapshots with the build tag are deleted.',
    ],
    [
      `Resource::arn:<AWS::Partition>:codebuild:${region}:report-group/${nagRef(pipeline.buildProject)}-*`,
      "aws-cdk-lib's permission for the project's own test report groups.",
    ],
    [
      `Resource::arn:<AWS::Partition>:logs:${region}:log-group:/aws/codebuild/${nagRef(pipeline.buildProject)}:*`,
      "aws-cdk-lib's permission for the project's default log group, whose streams are named per build.",
    ],
    [
      'Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:network-interface/*',
      "aws-cdk-lib's permission for CodeBuild to attach network interfaces in the build subnets only.",
    ],
  ];
  for (const [resource, reason] of packer) acknowledge(buildPolicy, `AwsSolutions-IAM5[${resource}]`, reason);
  acknowledge(
    pipeline.buildProject.node.findChild('PolicyDocument'),
    'AwsSolutions-IAM5[Resource::*]',
    "The network interface actions a CodeBuild project in a VPC needs (aws-cdk-lib's policy); IAM cannot scope them to interfaces that do not exist yet.",
  );
  const pipe = pipeline.pipeline;
  // The actions run as the pipeline's role: its one policy holds what each action needs.
  const pipelinePolicy = pipe.role.node.findChild('DefaultPolicy');
  acknowledgeArtifactGrants(pipelinePolicy, sourceBucket ? [artifacts, `${sourceBucket}/*`] : [artifacts], true);
  const templateRead = pipelinePolicy;
  acknowledgeArtifactGrants(templateRead, [artifacts, assets], true);
  acknowledgeSourceRead(templateRead, 'the CDK assets bucket (the rendered Packer template)');
  if (readsS3Source(pipe)) {
    acknowledgeSourceRead(pipelinePolicy, "the customer's source bucket");
  }
  const machine = nagRef(pipeline.rollout).slice(1, -1);
  const part = (i: number) => `{"Fn::Select":[${i},{"Fn::Split":[":",{"Ref":"${machine}"}]}]}`;
  acknowledge(
    pipelinePolicy,
    `AwsSolutions-IAM5[Resource::arn:${part(1)}:states:${part(3)}:${part(4)}:execution:${part(6)}:*]`,
    "The executions of the one rollout state machine (aws-cdk-lib's permission to read the execution it started).",
  );
  const rolloutPolicy = pipeline.rollout.role.node.findChild('DefaultPolicy');
  acknowledge(
    rolloutPolicy,
    'AwsSolutions-IAM5[Resource::*]',
    'autoscaling:DescribeInstanceRefreshes has no resource-level permissions in IAM; the rollout only reads with it.',
  );
  const web = pipeline.node.scope!.node.findChild('Web') as CustomerWebTier;
  acknowledge(
    rolloutPolicy,
    `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:autoscaling:${region}:autoScalingGroup:*:autoScalingGroupName/${nagRef(web.autoScalingGroup)}]`,
    "An Auto Scaling group ARN holds a UUID CloudFormation does not return; the group's name scopes it to the customer's fleet.",
  );
}
