import { Duration, Stack } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { CustomerAmiPipelineProps } from './customer-ami-pipeline';
import { PackerBaseImage, PackerTemplate } from './packer-template';
import { PipelineArtifacts } from '../pipeline-common/artifacts';

/** Tag Packer puts on everything it launches and bakes; the build role acts only on what carries it. */
const PACKER_BUILD_TAG = PackerTemplate.TAG_PACKER_BUILD;

/** What the bake is built from: the pipeline's props and what its constructor made before it. */
export interface BakeContext {
  readonly props: CustomerAmiPipelineProps;
  readonly label: string;
  readonly timeout: Duration;
  readonly packer: { readonly version: string; readonly sha256: string };
  readonly keepImages: number;
  readonly baseImage: PackerBaseImage;
  readonly key: kms.IKey;
  readonly subnetId: string;
  readonly buildSecurityGroup: ec2.ISecurityGroup;
  readonly buildInstanceSecurityGroup: ec2.SecurityGroup;
  readonly packerTemplate: PackerTemplate;
  readonly artifacts: PipelineArtifacts;
}

/**
 * Internal: the bake of an AMI pipeline, in its scope (the construct ids are the pipeline's): the CodeBuild
 * project that runs Packer, its role, scoped to what Packer launches and tags, and its log group.
 */
export function createBake(
  scope: Construct,
  context: BakeContext,
): { role: iam.Role; project: codebuild.PipelineProject } {
  const { props, label, timeout, packer, keepImages, baseImage, key, subnetId, buildSecurityGroup, artifacts } =
    context;
  const stack = Stack.of(scope);
  const role = new iam.Role(scope, 'BuildRole', {
    assumedBy: new iam.ServicePrincipal('codebuild.amazonaws.com'),
    description: `Packer bake of ${label}`,
    maxSessionDuration: timeout,
  });
  const parameterArn = (name: string) =>
    name.startsWith('/aws/service/')
      ? stack.formatArn({ service: 'ssm', account: '', resource: 'parameter', resourceName: name.slice(1) })
      : stack.formatArn({ service: 'ssm', resource: 'parameter', resourceName: name.replace(/^\//, '') });
  const readParameters = [props.amiParameter.parameterArn];
  if (baseImage.ssmParameterName) readParameters.push(parameterArn(baseImage.ssmParameterName));
  role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['ssm:GetParameter'], resources: readParameters }));
  // bake.sh reads the commit message of a source without Git history from the pipeline execution: its own
  // pipeline only (by name: the pipeline's ARN would make the role depend on the pipeline, which uses the role).
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['codepipeline:GetPipelineExecution'],
      resources: [stack.formatArn({ service: 'codepipeline', resource: context.artifacts.pipelineName })],
    }),
  );
  for (const statement of packerStatements(
    stack,
    context.packerTemplate.packerBuildTagValue,
    subnetId,
    context.buildInstanceSecurityGroup,
  )) {
    role.addToPrincipalPolicy(statement);
  }

  const logGroup = new logs.LogGroup(scope, 'Logs', {
    retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
    encryptionKey: key,
  });
  const project = new codebuild.PipelineProject(scope, 'Bake', {
    description: `Bakes the AMI of ${label} with Packer`,
    role,
    vpc: props.vpc,
    subnetSelection: props.buildSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
    securityGroups: [buildSecurityGroup],
    timeout,
    encryptionKey: artifacts.key, // grants on it: through S3 only
    logging: { cloudWatch: { logGroup } },
    environment: {
      buildImage: codebuild.LinuxBuildImage.STANDARD_7_0,
      computeType: codebuild.ComputeType.SMALL,
      privileged: false,
    },
    environmentVariables: {
      PACKER_VERSION: { value: packer.version },
      PACKER_SHA256: { value: packer.sha256 },
      BUILD_REGION: { value: stack.region },
      SUBNET_ID: { value: subnetId },
      SECURITY_GROUP_ID: { value: context.buildInstanceSecurityGroup.securityGroupId },
      BASE_IMAGE_PARAMETER: { value: baseImage.ssmParameterName ?? '' },
      KEEP_IMAGES: { value: String(keepImages) },
      PACKER_BUILD_TAG: { value: context.packerTemplate.packerBuildTagValue },
      AMI_PARAMETER: { value: props.amiParameter.parameterName },
      PIPELINE_NAME: { value: artifacts.pipelineName },
    },
    buildSpec: codebuild.BuildSpec.fromObject({
      version: '0.2',
      env: { shell: 'bash', 'exported-variables': ['AMI_ID'] },
      phases: {
        install: {
          commands: [
            'export TEMPLATE_DIR="$CODEBUILD_SRC_DIR_PackerTemplate" REPOSITORY_DIR="$CODEBUILD_SRC_DIR" BUILD_NUMBER="$CODEBUILD_BUILD_NUMBER"',
            'bash "$TEMPLATE_DIR/install-packer.sh" "$PACKER_VERSION" "$PACKER_SHA256"',
          ],
        },
        build: { commands: ['AMI_ID="$(bash "$TEMPLATE_DIR/bake.sh")"', 'echo "AMI_ID=$AMI_ID"'] },
      },
    }),
  });
  return { role, project };
}

/**
 * What Packer's amazon-ebs builder does, and no more: launch a tagged instance from any image into the one
 * subnet and security group, tag at launch, image it, stop and terminate only instances it tagged, use its
 * temporary key pair; retention deregisters only images and snapshots of this environment's builds.
 */
function packerStatements(
  stack: Stack,
  buildTag: string,
  subnetId: string,
  securityGroup: ec2.ISecurityGroup,
): iam.PolicyStatement[] {
  const ec2Arn = (resource: string, resourceName: string, account?: string) =>
    stack.formatArn({ service: 'ec2', resource, resourceName, ...(account !== undefined ? { account } : {}) });
  const instances = ec2Arn('instance', '*');
  const volumes = ec2Arn('volume', '*');
  const images = ec2Arn('image', '*', '');
  const snapshots = ec2Arn('snapshot', '*', '');
  const keyPairs = ec2Arn('key-pair', 'packer_*');
  const tagged = { StringEquals: { [`aws:ResourceTag/${PACKER_BUILD_TAG}`]: buildTag } };
  const tagging = { StringEquals: { [`aws:RequestTag/${PACKER_BUILD_TAG}`]: buildTag } };
  return [
    new iam.PolicyStatement({
      sid: 'PackerDescribe',
      actions: [
        'ec2:DescribeImageAttribute',
        'ec2:DescribeImages',
        'ec2:DescribeInstanceStatus',
        'ec2:DescribeInstances',
        'ec2:DescribeKeyPairs',
        'ec2:DescribeRegions',
        'ec2:DescribeSecurityGroups',
        'ec2:DescribeSnapshots',
        'ec2:DescribeSubnets',
        'ec2:DescribeTags',
        'ec2:DescribeVolumes',
        'ec2:DescribeVpcs',
      ],
      resources: ['*'],
    }),
    new iam.PolicyStatement({
      sid: 'PackerLaunchFrom',
      actions: ['ec2:RunInstances'],
      resources: [
        images,
        ec2Arn('subnet', subnetId),
        ec2Arn('security-group', securityGroup.securityGroupId),
        keyPairs,
        ec2Arn('network-interface', '*'),
      ],
    }),
    new iam.PolicyStatement({
      sid: 'PackerLaunchTagged',
      actions: ['ec2:RunInstances'],
      resources: [instances, volumes],
      conditions: tagging,
    }),
    new iam.PolicyStatement({
      sid: 'PackerTagAtLaunch',
      actions: ['ec2:CreateTags'],
      resources: [instances, volumes, ec2Arn('network-interface', '*'), keyPairs],
      conditions: {
        StringEquals: {
          'ec2:CreateAction': ['RunInstances', 'CreateKeyPair'],
          [`aws:RequestTag/${PACKER_BUILD_TAG}`]: buildTag,
        },
      },
    }),
    new iam.PolicyStatement({
      sid: 'PackerTagNewImages',
      actions: ['ec2:CreateTags'],
      resources: [images, snapshots],
      conditions: {
        StringEquals: { 'ec2:CreateAction': 'CreateImage', [`aws:RequestTag/${PACKER_BUILD_TAG}`]: buildTag },
      },
    }),
    new iam.PolicyStatement({
      sid: 'PackerTagOwnImages',
      actions: ['ec2:CreateTags'],
      resources: [images, snapshots],
      conditions: {
        StringEquals: {
          [`aws:ResourceTag/${PACKER_BUILD_TAG}`]: buildTag,
          [`aws:RequestTag/${PACKER_BUILD_TAG}`]: buildTag,
        },
      },
    }),
    new iam.PolicyStatement({
      sid: 'PackerModifyOwnImages',
      actions: ['ec2:ModifyImageAttribute'],
      resources: [images],
      conditions: tagged,
    }),
    new iam.PolicyStatement({
      sid: 'PackerOwnInstances',
      actions: ['ec2:StopInstances', 'ec2:TerminateInstances', 'ec2:CreateImage'],
      resources: [instances],
      conditions: tagged,
    }),
    new iam.PolicyStatement({
      sid: 'PackerCreateImage',
      actions: ['ec2:CreateImage'],
      resources: [images, snapshots],
    }),
    new iam.PolicyStatement({
      sid: 'PackerKeyPair',
      actions: ['ec2:CreateKeyPair', 'ec2:DeleteKeyPair'],
      resources: [keyPairs],
    }),
    new iam.PolicyStatement({
      sid: 'RetainImages',
      actions: ['ec2:DeregisterImage', 'ec2:DeleteSnapshot'],
      resources: [images, snapshots],
      conditions: tagged,
    }),
  ];
}
