import { createHash } from 'crypto';
import { copyFileSync, mkdirSync, readdirSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { Duration, Stack, Tags, Token } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as actions from 'aws-cdk-lib/aws-codepipeline-actions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { PackerBaseImage, PackerTemplate } from './packer-template';
import { AMI_PIPELINE_SCRIPTS } from './scripts';
import { DEFAULT_BASE_IMAGE_PARAMETER, DEFAULT_KEEP_IMAGES, isProduction } from '../config/defaults';
import { describeValue } from '../config/errors';
import { scheduleExpressionProblem } from '../config/rules';
import { CustomerConfig } from '../config/types';
import { valueProblem } from '../config/values';
import { approvalAction, checkApprovalEmails } from '../pipeline-common/approval';
import { pipelineArtifacts } from '../pipeline-common/artifacts';
import { checkConfigOfWebTier } from '../pipeline-common/config-of';
import { PipelineSource } from '../pipeline-common/pipeline-source';
import { ISharedPlatform } from '../platform/platform-reference';
import { CustomerWebTier } from '../web-tier/customer-web-tier';

/** Props of CustomerAmiPipeline. */
/** What a customer config does not say, for `CustomerAmiPipeline.fromConfig`. */
export interface CustomerAmiPipelineConfigOptions {
  /**
   * The deployment group of the environment's software pipeline: the rollout waits for its deployments.
   * @default - the rollout does not wait for deployments
   */
  readonly deploymentGroup?: codedeploy.IServerDeploymentGroup;
}

/** Props of CustomerAmiPipeline. */
export interface CustomerAmiPipelineProps {
  /** Customer name, used in names, tags and the images' names. */
  readonly customer: string;
  /** Environment name, such as `production` or `staging`. */
  readonly environment: string;
  /**
   * Production waits for a person's approval before the fleet gets a new image, and refreshes the fleet
   * without losing capacity.
   * @default - true when `environment` is "production"
   */
  readonly production?: boolean;
  /** The customer's infrastructure repository, with the provisioning scripts. */
  readonly source: PipelineSource;
  /** VPC where CodeBuild and Packer's build instance run, e.g. `SharedPlatform.vpc`. */
  readonly vpc: ec2.IVpc;
  /**
   * Subnets of the build, with a route to the internet (Packer and its plugin are downloaded).
   * @default - the private subnets with egress
   */
  readonly buildSubnets?: ec2.SubnetSelection;
  /** Bucket of the pipeline's artifacts, with its KMS key, e.g. `SharedPlatform.artifactsBucket`. */
  readonly artifactsBucket: s3.IBucket;
  /** The SSM parameter the fleet's launch template resolves, e.g. `CustomerWebTier.amiParameter`. */
  readonly amiParameter: ssm.IStringParameter;
  /** The fleet, refreshed onto each new image, e.g. `CustomerWebTier.autoScalingGroup`. */
  readonly autoScalingGroup: autoscaling.IAutoScalingGroup;
  /**
   * The CodeDeploy deployment group that deploys software to the same instances, e.g.
   * `SoftwareDeliveryPipeline.deploymentGroup`. The rollout then waits until no deployment of that group is in
   * progress before it replaces the instances (an instance refresh during a deployment fails the deployment), for
   * at most an hour, after which it puts the previous image back and fails.
   * @default - the rollout does not wait for deployments
   */
  readonly deploymentGroup?: codedeploy.IServerDeploymentGroup;
  /**
   * Image the bake starts from.
   * @default - Amazon Linux 2023 (x86_64), from its public SSM parameter
   */
  readonly baseImage?: PackerBaseImage;
  /**
   * Instance type of Packer's build instance.
   * @default "t3.small"
   */
  readonly buildInstanceType?: string;
  /**
   * Provisioning scripts, relative to the root of the infrastructure repository, run in order.
   * @default ["packer/provision.sh"]
   */
  readonly provisionScripts?: string[];
  /**
   * How many of the environment's images to keep; older ones are deregistered with their snapshots. The
   * image the fleet runs is always kept.
   * @default 5
   */
  readonly keepImages?: number;
  /**
   * EventBridge schedule expression of periodic rebuilds, so base-image patches arrive without a commit,
   * such as `rate(7 days)` or `cron(0 3 ? * SUN *)`.
   * @default - rebuild on commits only
   */
  readonly rebuildSchedule?: string;
  /**
   * Who approves a new image in production (at least one address there).
   * @default - none; required in production
   */
  readonly approvalEmails?: string[];
  /**
   * Instance refresh: share of the fleet that stays in service while instances are replaced.
   * @default - 100 in production (new instances start before old ones stop), 50 elsewhere
   */
  readonly minHealthyPercentage?: number;
  /**
   * Packer release installed by the build, with `packerSha256`.
   * @default "1.14.2"
   */
  readonly packerVersion?: string;
  /**
   * SHA-256 of `packer_<version>_linux_amd64.zip`, from HashiCorp's `packer_<version>_SHA256SUMS`.
   * @default - the checksum of the default version
   */
  readonly packerSha256?: string;
  /**
   * Longest bake. The build role's sessions last as long, so a bake over an hour keeps its credentials.
   * @default Duration.hours(2)
   */
  readonly buildTimeout?: Duration;
  /**
   * Retention of the bake's and the rollout's logs.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Tags of every resource, and of the images, besides `vending:customer` and `vending:environment`.
   * @default - none
   */
  readonly tags?: { [key: string]: string };
}

/** HashiCorp's published checksum of packer_1.14.2_linux_amd64.zip (releases.hashicorp.com SHA256SUMS). */
const DEFAULT_PACKER = {
  version: '1.14.2',
  sha256: 'cfefdea4ac580eba7b254ef34d25b756d4961741004e3e701a1476594d13e64a',
};
/** Tag Packer puts on everything it launches and bakes; the build role acts only on what carries it. */
const PACKER_BUILD_TAG = PackerTemplate.TAG_PACKER_BUILD;

/**
 * The AMI pipeline of one customer environment: the customer's infrastructure repository → a Packer bake in
 * CodeBuild → a person's approval (production) → the new image id in the fleet's SSM parameter and an Auto
 * Scaling instance refresh, whose result the pipeline waits for.
 *
 * The Packer template is rendered at synth time from typed input (`PackerTemplate`) and ships as an asset
 * next to the scripts the bake runs; commit data and the build number reach Packer as variables.
 *
 * @example
 * declare const platform: SharedPlatform;
 * declare const webTier: CustomerWebTier;
 *
 * new CustomerAmiPipeline(this, 'Ami', {
 *   customer: 'acme',
 *   environment: 'production',
 *   source: PipelineSource.codeConnections({
 *     connectionArn: 'arn:aws:codeconnections:eu-west-1:123456789012:connection/0a1b2c3d-4e5f-6789-abcd-ef0123456789',
 *     owner: 'acme',
 *     repository: 'infrastructure',
 *   }),
 *   vpc: platform.vpc,
 *   artifactsBucket: platform.artifactsBucket,
 *   amiParameter: webTier.amiParameter,
 *   autoScalingGroup: webTier.autoScalingGroup,
 *   approvalEmails: ['ops@acme.example'],
 *   rebuildSchedule: 'rate(7 days)',
 * });
 */
export class CustomerAmiPipeline extends Construct {
  /**
   * The AMI pipeline of a customer config, on a platform (a SharedPlatform of the same stack, or a PlatformReference bound in this one) and the environment's CustomerWebTier. The
   * config is validated first.
   */
  public static fromConfig(
    scope: Construct,
    id: string,
    config: CustomerConfig,
    platform: ISharedPlatform,
    webTier: CustomerWebTier,
    options: CustomerAmiPipelineConfigOptions = {},
  ): CustomerAmiPipeline {
    const where = `CustomerAmiPipeline.fromConfig ${scope.node.path}/${id}`;
    const resolved = checkConfigOfWebTier(config, webTier, where);
    const image = resolved.ami.baseImage;
    return new CustomerAmiPipeline(scope, id, {
      customer: resolved.customer,
      environment: resolved.environment,
      production: resolved.production,
      source: PipelineSource.fromConfig(resolved.ami.repository),
      vpc: platform.vpc,
      artifactsBucket: platform.artifactsBucket,
      amiParameter: webTier.amiParameter,
      autoScalingGroup: webTier.autoScalingGroup,
      deploymentGroup: options.deploymentGroup,
      baseImage: image.ssmParameter
        ? PackerBaseImage.fromSsmParameter(image.ssmParameter)
        : PackerBaseImage.fromFilter(image.amiNameFilter!, image.amiOwners!),
      buildInstanceType: resolved.ami.buildInstanceType,
      provisionScripts: [resolved.ami.provisionScript],
      keepImages: resolved.ami.keepImages,
      rebuildSchedule: resolved.ami.rebuildSchedule,
      approvalEmails: resolved.approvalEmails,
      tags: resolved.tags,
    });
  }

  /** The pipeline. */
  public readonly pipeline: codepipeline.Pipeline;
  /** The CodeBuild project that bakes the image with Packer. */
  public readonly buildProject: codebuild.PipelineProject;
  /** The rendered Packer template. */
  public readonly packerTemplate: PackerTemplate;
  /** The parameter the rollout writes the new image id to. */
  public readonly amiParameter: ssm.IStringParameter;
  /** The state machine of the rollout: parameter, instance refresh, and the wait for its result. */
  public readonly rollout: sfn.StateMachine;
  /** Security group of Packer's build instance: SSH from the build only, HTTP(S) out. */
  public readonly buildInstanceSecurityGroup: ec2.SecurityGroup;
  /** Topic of the approval mails (production only). */
  public readonly approvalTopic?: sns.ITopic;
  /** The pipeline's folder of the artifacts bucket: its roles may use these objects only. */
  public readonly artifactsPrefix: string;

  constructor(scope: Construct, id: string, props: CustomerAmiPipelineProps) {
    super(scope, id);
    const where = `CustomerAmiPipeline ${this.node.path}`;
    const production = props.production ?? isProduction(props.environment);
    const keepImages = props.keepImages ?? DEFAULT_KEEP_IMAGES;
    const timeout = props.buildTimeout ?? Duration.hours(2);
    const packer = resolvePacker(where, props);
    validate(where, props, production, keepImages, timeout);
    const key = props.artifactsBucket.encryptionKey;
    if (!key) {
      throw new Error(
        `${where}: artifactsBucket: received a bucket without its encryptionKey; expected the platform's artifacts bucket with its KMS key (SharedPlatform.artifactsBucket)`,
      );
    }
    const label = `${props.customer}-${props.environment}`;
    const stack = Stack.of(this);
    const artifacts = pipelineArtifacts(this, 'ami', props.customer, props.environment, props.artifactsBucket, key);
    this.artifactsPrefix = artifacts.prefix;
    this.amiParameter = props.amiParameter;

    Tags.of(this).add('vending:customer', props.customer);
    Tags.of(this).add('vending:environment', props.environment);
    for (const [tagKey, value] of Object.entries(props.tags ?? {})) Tags.of(this).add(tagKey, value);

    // The Packer template, rendered now, and the scripts of the bake: one asset, readable in cdk.out.
    const baseImage = props.baseImage ?? PackerBaseImage.fromSsmParameter(DEFAULT_BASE_IMAGE_PARAMETER);
    this.packerTemplate = new PackerTemplate({
      customer: props.customer,
      environment: props.environment,
      baseImage,
      instanceType: props.buildInstanceType,
      provisionScripts: props.provisionScripts,
      tags: props.tags,
    });
    const template = new s3assets.Asset(this, 'PackerTemplate', { path: templateDirectory(this.packerTemplate) });

    // Network: CodeBuild reaches the build instance over SSH on its private address.
    const buildSecurityGroup = new ec2.SecurityGroup(this, 'BuildSecurityGroup', {
      vpc: props.vpc,
      description: `CodeBuild bake of ${label}: HTTPS out, SSH to the build instance`,
      allowAllOutbound: false,
    });
    buildSecurityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS: AWS APIs, Packer and its plugin');
    this.buildInstanceSecurityGroup = new ec2.SecurityGroup(this, 'BuildInstanceSecurityGroup', {
      vpc: props.vpc,
      description: `Packer build instance of ${label}: SSH from the bake, HTTP(S) out`,
      allowAllOutbound: false,
    });
    this.buildInstanceSecurityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS: packages');
    this.buildInstanceSecurityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(80), 'HTTP: package mirrors');
    this.buildInstanceSecurityGroup.connections.allowFrom(buildSecurityGroup, ec2.Port.tcp(22), 'SSH from the bake');
    const subnets = props.vpc.selectSubnets(props.buildSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS });
    const subnetId = subnets.subnetIds[0];

    // The bake.
    const role = new iam.Role(this, 'BuildRole', {
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
    for (const statement of packerStatements(
      stack,
      this.packerTemplate.packerBuildTagValue,
      subnetId,
      this.buildInstanceSecurityGroup,
    )) {
      role.addToPrincipalPolicy(statement);
    }

    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      encryptionKey: key,
    });
    this.buildProject = new codebuild.PipelineProject(this, 'Bake', {
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
        SECURITY_GROUP_ID: { value: this.buildInstanceSecurityGroup.securityGroupId },
        BASE_IMAGE_PARAMETER: { value: baseImage.ssmParameterName ?? '' },
        KEEP_IMAGES: { value: String(keepImages) },
        PACKER_BUILD_TAG: { value: this.packerTemplate.packerBuildTagValue },
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

    // The rollout: parameter, then instance refresh, then wait for its end.
    this.rollout = rolloutStateMachine(this, props, production, key);

    // The pipeline, with its own folder of the shared artifacts bucket (see pipelineArtifacts).
    this.pipeline = new codepipeline.Pipeline(this, 'Pipeline', {
      pipelineName: artifacts.pipelineName,
      pipelineType: codepipeline.PipelineType.V2,
      artifactBucket: artifacts.bucket,
      restartExecutionOnUpdate: false,
    });
    const repository = new codepipeline.Artifact('Repository');
    const templateArtifact = new codepipeline.Artifact('PackerTemplate');
    const source = props.source.bind(this, { pipeline: this.pipeline, output: repository, actionName: 'Repository' });
    for (const statement of source.buildStatements ?? []) role.addToPrincipalPolicy(statement);
    this.pipeline.addStage({
      stageName: 'Source',
      actions: [
        source.action,
        new actions.S3SourceAction({
          actionName: 'PackerTemplate',
          bucket: template.bucket,
          bucketKey: template.s3ObjectKey,
          output: templateArtifact,
          trigger: actions.S3Trigger.NONE,
        }),
      ],
    });
    const bake = new actions.CodeBuildAction({
      actionName: 'Packer',
      project: this.buildProject,
      input: repository,
      extraInputs: [templateArtifact],
      variablesNamespace: 'Bake',
      // Never the commit message: CodePipeline does not escape it in this JSON, so a quote or a newline would
      // break the action. bake.sh reads it from Git or from the pipeline execution.
      environmentVariables: {
        COMMIT_ID: { value: source.revision },
        PIPELINE_EXECUTION_ID: { value: '#{codepipeline.PipelineExecutionId}' },
      },
    });
    this.pipeline.addStage({ stageName: 'Bake', actions: [bake] });
    const amiId = bake.variable('AMI_ID');
    if (production) {
      const approval = approvalAction(this, {
        customer: props.customer,
        environment: props.environment,
        emails: props.approvalEmails ?? [],
        information: `New image ${amiId} for ${label}, baked from ${source.description} at ${source.revision}. Approving rolls it out to the fleet.`,
      });
      this.approvalTopic = approval.topic;
      this.pipeline.addStage({ stageName: 'Approve', actions: [approval.action] });
    }
    this.pipeline.addStage({
      stageName: 'Rollout',
      actions: [
        new actions.StepFunctionInvokeAction({
          actionName: 'InstanceRefresh',
          stateMachine: this.rollout,
          stateMachineInput: actions.StateMachineInput.literal({ amiId }),
        }),
      ],
    });

    if (props.rebuildSchedule !== undefined) {
      new events.Rule(this, 'RebuildSchedule', {
        description: `Rebuilds the AMI of ${label} so base-image patches arrive without a commit`,
        schedule: events.Schedule.expression(props.rebuildSchedule),
        targets: [new targets.CodePipeline(this.pipeline)],
      });
    }
  }
}

function resolvePacker(where: string, props: CustomerAmiPipelineProps): { version: string; sha256: string } {
  if ((props.packerVersion === undefined) !== (props.packerSha256 === undefined)) {
    throw new Error(
      `${where}: packerVersion and packerSha256: received only ${props.packerVersion !== undefined ? 'packerVersion' : 'packerSha256'}; expected both (a checksum belongs to one version) or neither`,
    );
  }
  const version = props.packerVersion ?? DEFAULT_PACKER.version;
  const sha256 = props.packerSha256 ?? DEFAULT_PACKER.sha256;
  if (!/^\d+\.\d+\.\d+$/.test(version)) {
    throw new Error(`${where}: packerVersion: received ${describeValue(version)}; expected a release such as 1.14.2`);
  }
  if (!/^[0-9a-f]{64}$/.test(sha256)) {
    throw new Error(
      `${where}: packerSha256: received ${describeValue(sha256)}; expected 64 lower-case hex digits from packer_${version}_SHA256SUMS`,
    );
  }
  return { version, sha256 };
}

function validate(
  where: string,
  props: CustomerAmiPipelineProps,
  production: boolean,
  keepImages: number,
  timeout: Duration,
): void {
  for (const prop of ['customer', 'environment'] as const) {
    const problem = valueProblem(prop, props[prop]);
    if (problem) throw new Error(`${where}: ${prop}: ${problem}`);
  }
  if (!Token.isUnresolved(keepImages) && (!Number.isInteger(keepImages) || keepImages < 1 || keepImages > 100)) {
    throw new Error(
      `${where}: keepImages: received ${describeValue(keepImages)}; expected a whole number from 1 to 100 (the image in use is always kept too)`,
    );
  }
  if (props.rebuildSchedule !== undefined) {
    const problem = scheduleExpressionProblem(props.rebuildSchedule);
    if (problem) throw new Error(`${where}: rebuildSchedule: ${problem}`);
  }
  const hours = timeout.toMinutes() / 60;
  if (hours < 1 || hours > 12) {
    throw new Error(
      `${where}: buildTimeout: received ${timeout.toHumanString()}; expected 1 to 12 hours (the build role's session lasts as long)`,
    );
  }
  const healthy = props.minHealthyPercentage;
  if (healthy !== undefined && (!Number.isInteger(healthy) || healthy < 0 || healthy > 100)) {
    throw new Error(
      `${where}: minHealthyPercentage: received ${describeValue(healthy)}; expected a whole number from 0 to 100`,
    );
  }
  checkApprovalEmails(where, props.approvalEmails, production, 'images');
}

/** Writes the rendered template and the bake's scripts to a directory named by their content. */
function templateDirectory(template: PackerTemplate): string {
  const files = template.files();
  const scripts = readdirSync(AMI_PIPELINE_SCRIPTS).filter((name) => name.endsWith('.sh'));
  const digest = createHash('sha256')
    .update(JSON.stringify(files))
    .update(scripts.join(','))
    .digest('hex')
    .slice(0, 32);
  const directory = join(tmpdir(), 'cdk-paas-vending', `packer-${digest}`);
  mkdirSync(directory, { recursive: true });
  for (const file of files) writeFileSync(join(directory, file.fileName), file.content);
  for (const script of scripts) copyFileSync(join(AMI_PIPELINE_SCRIPTS, script), join(directory, script));
  return directory;
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

/**
 * The rollout: remember the image the fleet runs, write the new one, wait until SSM has validated it (an
 * `aws:ec2:image` parameter is validated asynchronously: PutParameter succeeds even when the value is later
 * refused), refresh the fleet and wait for the refresh; when anything fails after the write, put the previous
 * image back, so that instances launched later do not start on the image that failed.
 */
function rolloutStateMachine(
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
