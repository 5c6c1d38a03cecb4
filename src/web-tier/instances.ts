import { CfnResource, CustomResource, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { installCodeDeployAgent } from './codedeploy-agent';
import { DEFAULT_BASE_IMAGE_PARAMETER, ResolvedCompute } from '../config/defaults';
import { AMI_PARAMETER_RESOURCE_TYPE, AmiParameterProperties } from '../platform/environment-resource-types';

/** Amazon Linux 2023 for Graviton instance types. */
const ARM64_BASE_IMAGE_PARAMETER = '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64';

/** Internal: the image parameter the web tier's instances launch from, and a reference to it. */
export interface ImageParameter {
  /** What the launch template waits for: the custom resource, or the plain parameter without a service token. */
  readonly resource: CfnResource;
  readonly reference: ssm.IStringParameter;
}

/** Internal: what the image parameter is made of. */
export interface ImageParameterOptions {
  readonly name: string;
  readonly label: string;
  readonly instanceType: ec2.InstanceType;
  readonly initialImageId?: string;
  /** The platform's environment-resources function: the parameter is then a Custom::WebAmiParameter. */
  readonly serviceToken?: string;
  /** With a service token: keep the earlier AWS::SSM::Parameter in the template, retained (the migration's release). */
  readonly keepEarlier: boolean;
  readonly production: boolean;
  /** Tags of the parameter (the custom resource's; the plain parameter carries none). */
  readonly tags: Record<string, string>;
}

/**
 * Internal: the image, in the web tier's scope: an SSM parameter that the AMI pipeline owns after its first bake.
 * The default image matches the instance type's architecture (Graviton types need arm64).
 *
 * With a service token it is a `Custom::WebAmiParameter` (id `ImageParameter`) that the platform's function creates
 * only when the parameter is absent and never writes again. The plain `AWS::SSM::Parameter` of earlier releases (id
 * `AmiParameter`) stays in the template for this release, unchanged but with a RETAIN policy, so that an existing
 * stack keeps its parameter: CloudFormation then neither rewrites it (no property changes) nor deletes it when a later
 * release drops the resource; the custom resource is created after it and adopts the parameter with its value.
 */
export function createImageParameter(scope: Construct, options: ImageParameterOptions): ImageParameter {
  const { name, label, instanceType, initialImageId, serviceToken } = options;
  const initialValue =
    initialImageId ??
    `{{resolve:ssm:${instanceType.architecture === ec2.InstanceArchitecture.ARM_64 ? ARM64_BASE_IMAGE_PARAMETER : DEFAULT_BASE_IMAGE_PARAMETER}}}`;
  const reference = ssm.StringParameter.fromStringParameterName(scope, 'AmiParameterRef', name);
  let earlier: ssm.CfnParameter | undefined;
  if (serviceToken === undefined || options.keepEarlier) {
    earlier = new ssm.CfnParameter(scope, 'AmiParameter', {
      name,
      type: 'String',
      dataType: 'aws:ec2:image',
      value: initialValue,
      description: `AMI of ${label}'s instances; written by its AMI pipeline`,
    });
    // Any change to this resource makes CloudFormation write `value` again, over the pipeline's image: keep
    // it free of tags (whoever adds them, e.g. Tags.of(app)) and of anything else that changes with the stack.
    earlier.addPropertyDeletionOverride('Tags');
    if (serviceToken === undefined) return { resource: earlier, reference };
    // Deleting or replacing the earlier resource would delete the parameter by name, the baked value with it.
    earlier.applyRemovalPolicy(RemovalPolicy.RETAIN);
  }
  const properties: AmiParameterProperties = {
    ParameterName: name,
    InitialValue: initialValue,
    Description: `AMI of ${label}'s instances; written by its AMI pipeline`,
    Tags: options.tags,
  };
  const custom = new CustomResource(scope, 'ImageParameter', {
    serviceToken,
    resourceType: AMI_PARAMETER_RESOURCE_TYPE,
    properties,
    // A production stack's deletion leaves the image parameter (and its history of images) in place.
    removalPolicy: options.production ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
  });
  if (earlier) custom.node.addDependency(earlier);
  return { resource: custom.node.defaultChild as CfnResource, reference };
}

/** Internal: what the instances are built from. */
export interface InstancesContext {
  readonly label: string;
  readonly vpc: ec2.IVpc;
  readonly encryptionKey: kms.IKey;
  readonly dataBucket: s3.IBucket;
  readonly compute: ResolvedCompute;
  readonly instanceType: ec2.InstanceType;
  readonly amiParameter: CfnResource;
  /** The image parameter's name. */
  readonly amiParameterName: string;
  /** User data commands to run before the CodeDeploy agent starts (logs and settings). */
  readonly runtimeCommands: string[];
}

/** Internal: the instances that were built. */
export interface BuiltInstances {
  readonly securityGroup: ec2.SecurityGroup;
  readonly role: iam.Role;
  readonly launchTemplate: ec2.LaunchTemplate;
  readonly topic: sns.Topic;
  readonly autoScalingGroup: autoscaling.AutoScalingGroup;
}

/**
 * Internal: the instances, in the web tier's scope: their security group and role, the launch template, the topic
 * of scaling events and the Auto Scaling group.
 */
export function createInstances(scope: Construct, context: InstancesContext): BuiltInstances {
  const { label, vpc } = context;
  const securityGroup = new ec2.SecurityGroup(scope, 'InstanceSecurityGroup', {
    vpc,
    description: `Web instances of ${label}: from their load balancer only`,
    allowAllOutbound: true,
  });
  const role = createInstanceRole(scope, context);
  const launchTemplate = createLaunchTemplate(scope, context, securityGroup, role);
  const topic = new sns.Topic(scope, 'ScalingEvents', {
    displayName: `Scaling events of ${label}`,
    // The AWS managed key: the Auto Scaling service-linked role of the account may publish with it.
    masterKey: kms.Alias.fromAliasName(scope, 'SnsKey', 'alias/aws/sns'),
    enforceSSL: true,
  });
  const autoScalingGroup = createAutoScalingGroup(scope, context, launchTemplate, topic);
  return { securityGroup, role, launchTemplate, topic, autoScalingGroup };
}

function createInstanceRole(scope: Construct, context: InstancesContext): iam.Role {
  const { label, dataBucket, encryptionKey } = context;
  const role = new iam.Role(scope, 'InstanceRole', {
    assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
    description: `Web instances of ${label}`,
  });
  // Session Manager instead of SSH (the AWS managed policy is the supported set of SSM agent actions).
  role.addManagedPolicy(iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonSSMManagedInstanceCore'));
  // Read its own data bucket: objects (any version) and the listing, decrypted through S3 only.
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['s3:GetObject', 's3:GetObjectVersion'],
      resources: [dataBucket.arnForObjects('*')],
    }),
  );
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['s3:ListBucket', 's3:GetBucketLocation'],
      resources: [dataBucket.bucketArn],
    }),
  );
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['kms:Decrypt'],
      resources: [encryptionKey.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `s3.${Stack.of(scope).region}.amazonaws.com` } },
    }),
  );
  return role;
}

function createLaunchTemplate(
  scope: Construct,
  context: InstancesContext,
  securityGroup: ec2.ISecurityGroup,
  role: iam.IRole,
): ec2.LaunchTemplate {
  const { label, compute, instanceType, amiParameter, amiParameterName } = context;
  const userData = ec2.UserData.forLinux();
  userData.addCommands('set -euo pipefail', `echo "vending: ${label} instance starting"`);
  userData.addCommands(...context.runtimeCommands);
  installCodeDeployAgent(userData, Stack.of(scope));
  const launchTemplate = new ec2.LaunchTemplate(scope, 'LaunchTemplate', {
    machineImage: ec2.MachineImage.resolveSsmParameterAtLaunch(amiParameterName),
    instanceType,
    securityGroup,
    role,
    userData,
    requireImdsv2: true,
    httpPutResponseHopLimit: 1,
    detailedMonitoring: true,
    blockDevices: [
      {
        deviceName: '/dev/xvda',
        // The account's default EBS key: the Auto Scaling service-linked role may always use it.
        volume: ec2.BlockDeviceVolume.ebs(compute.rootVolumeGib, {
          encrypted: true,
          volumeType: ec2.EbsDeviceVolumeType.GP3,
          deleteOnTermination: true,
        }),
      },
    ],
  });
  launchTemplate.node.addDependency(amiParameter);
  return launchTemplate;
}

function createAutoScalingGroup(
  scope: Construct,
  context: InstancesContext,
  launchTemplate: ec2.LaunchTemplate,
  topic: sns.ITopic,
): autoscaling.AutoScalingGroup {
  return autoScalingGroupOf(
    scope,
    'Instances',
    context.vpc,
    context.compute.minCapacity,
    context.compute,
    launchTemplate,
    topic,
  );
}

/**
 * Internal: the standby group of an immutable deployment, in the web tier's scope: the same launch template, subnets
 * and health checks as the instances, at zero, up to `maxCapacity`, not attached to the target group and not scaled
 * (the deployment state machine sets its capacity; CodeDeploy registers its instances in the target group).
 */
export function createStandbyGroup(
  scope: Construct,
  vpc: ec2.IVpc,
  compute: ResolvedCompute,
  launchTemplate: ec2.LaunchTemplate,
  topic: sns.ITopic,
): autoscaling.AutoScalingGroup {
  return autoScalingGroupOf(scope, 'StandbyInstances', vpc, 0, compute, launchTemplate, topic);
}

function autoScalingGroupOf(
  scope: Construct,
  id: string,
  vpc: ec2.IVpc,
  minCapacity: number,
  compute: ResolvedCompute,
  launchTemplate: ec2.LaunchTemplate,
  topic: sns.ITopic,
): autoscaling.AutoScalingGroup {
  const asg = new autoscaling.AutoScalingGroup(scope, id, {
    vpc,
    vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
    launchTemplate,
    minCapacity,
    maxCapacity: compute.maxCapacity,
    healthChecks: autoscaling.HealthChecks.withAdditionalChecks({
      additionalTypes: [autoscaling.AdditionalHealthCheckType.ELB],
      gracePeriod: Duration.minutes(5),
    }),
    notifications: [{ topic }],
    groupMetrics: [autoscaling.GroupMetrics.all()],
  });
  // The Availability Zones of its subnets, spelled out as well (AWS Control Tower CT.AUTOSCALING.PR.1): read from
  // the subnets where they are resources of this app, so that no zone name is written into the customer's template
  // (which the template checks flag, W3010) and the list always matches the subnets.
  const zones = vpc.selectSubnets({ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }).subnets.map((subnet) => {
    const cfn = subnet.node.defaultChild;
    return cfn instanceof ec2.CfnSubnet ? cfn.attrAvailabilityZone : subnet.availabilityZone;
  });
  (asg.node.defaultChild as autoscaling.CfnAutoScalingGroup).availabilityZones = zones;
  return asg;
}

/** Internal: where the load balancer sends visitors, in the web tier's scope, with the tier's health check. */
export function createTargetGroup(
  scope: Construct,
  id: string,
  vpc: ec2.IVpc,
  healthCheck: elbv2.HealthCheck,
): elbv2.ApplicationTargetGroup {
  return new elbv2.ApplicationTargetGroup(scope, id, {
    vpc,
    port: 80,
    protocol: elbv2.ApplicationProtocol.HTTP,
    targetType: elbv2.TargetType.INSTANCE,
    // CodeDeploy takes instances out one at a time: a short drain keeps rolling deploys quick.
    deregistrationDelay: Duration.seconds(30),
    healthCheck,
  });
}

/** Internal: the instances behind the target group, scaled on CPU and, when asked, on requests per instance. */
export function attachAndScale(
  asg: autoscaling.AutoScalingGroup,
  targetGroup: elbv2.ApplicationTargetGroup,
  compute: ResolvedCompute,
): void {
  asg.attachToApplicationTargetGroup(targetGroup);
  asg.scaleOnCpuUtilization('CpuScaling', { targetUtilizationPercent: compute.targetCpuPercent });
  if (compute.targetRequestsPerInstance !== undefined) {
    asg.scaleOnRequestCount('RequestScaling', { targetRequestsPerMinute: compute.targetRequestsPerInstance });
  }
}
