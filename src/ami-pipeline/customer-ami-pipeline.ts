import { Duration, Tags } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as actions from 'aws-cdk-lib/aws-codepipeline-actions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { createBake } from './bake';
import { resolvePacker, validate } from './checks';
import { PackerBaseImage, PackerTemplate } from './packer-template';
import { rolloutStateMachine } from './rollout';
import { templateDirectory } from './template-asset';
import { DEFAULT_BASE_IMAGE_PARAMETER, DEFAULT_KEEP_IMAGES, isProduction } from '../config/defaults';
import { CustomerConfig } from '../config/types';
import { approvalAction } from '../pipeline-common/approval';
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
  /**
   * The environment's software pipeline: no software deployment starts while the rollout runs (see
   * `CustomerAmiPipelineProps.softwarePipeline`).
   * @default - the software pipeline's deployments are not held during a rollout
   */
  readonly softwarePipeline?: codepipeline.IPipeline;
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
   * ten minutes at most, after which it puts the previous image back and fails.
   * @default - the rollout does not wait for deployments
   */
  readonly deploymentGroup?: codedeploy.IServerDeploymentGroup;
  /**
   * The software pipeline that deploys to the same instances, e.g. `SoftwareDeliveryPipeline.pipeline`. The rollout
   * disables the inbound transition of its deploy stage before it writes the new image and enables it again when it
   * ends, on every path (success, failure, timeout of a step): no software deployment starts during an instance
   * refresh, and a deployment that had already started is waited for (`deploymentGroup`). Releases that reach the
   * stage meanwhile wait at the transition and go on once it is enabled.
   * @default - software deployments are not held during a rollout
   */
  readonly softwarePipeline?: codepipeline.IPipeline;
  /**
   * The stage of `softwarePipeline` whose inbound transition the rollout disables.
   * @default "Deploy"
   */
  readonly softwareDeployStageName?: string;
  /**
   * Image the bake starts from.
   * @default - Amazon Linux 2023 (x86_64), from its public SSM parameter
   */
  readonly baseImage?: PackerBaseImage;
  /**
   * Instance type of Packer's build instance.
   * @default - t3.small
   */
  readonly buildInstanceType?: ec2.InstanceType;
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
   * Periodic rebuilds, so base-image patches arrive without a commit, such as
   * `events.Schedule.rate(Duration.days(7))` or `events.Schedule.cron({ minute: '0', hour: '3', weekDay: 'SUN' })`.
   * @default - rebuild on commits only
   */
  readonly rebuildSchedule?: events.Schedule;
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
 *   rebuildSchedule: events.Schedule.rate(Duration.days(7)),
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
      softwarePipeline: options.softwarePipeline,
      baseImage: image.ssmParameter
        ? PackerBaseImage.fromSsmParameter(image.ssmParameter)
        : PackerBaseImage.fromFilter(image.amiNameFilter!, image.amiOwners!),
      buildInstanceType: new ec2.InstanceType(resolved.ami.buildInstanceType),
      provisionScripts: [resolved.ami.provisionScript],
      keepImages: resolved.ami.keepImages,
      rebuildSchedule:
        resolved.ami.rebuildSchedule === undefined
          ? undefined
          : events.Schedule.expression(resolved.ami.rebuildSchedule),
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

    // The bake: its role (tag-scoped to what Packer launches) and the CodeBuild project.
    const { role, project } = createBake(this, {
      props,
      label,
      timeout,
      packer,
      keepImages,
      baseImage,
      key,
      subnetId,
      buildSecurityGroup,
      buildInstanceSecurityGroup: this.buildInstanceSecurityGroup,
      packerTemplate: this.packerTemplate,
      artifacts,
    });
    this.buildProject = project;

    // The rollout: parameter, then instance refresh, then wait for its end.
    this.rollout = rolloutStateMachine(this, props, production, key);

    // The pipeline, with its own folder of the shared artifacts bucket (see pipelineArtifacts).
    this.pipeline = new codepipeline.Pipeline(this, 'Pipeline', {
      pipelineName: artifacts.pipelineName,
      pipelineType: codepipeline.PipelineType.V2,
      artifactBucket: artifacts.bucket,
      restartExecutionOnUpdate: false,
      // The actions act as the pipeline's own role: one role per pipeline instead of one per action, so that an
      // environment of the example fleet costs 7 to 10 IAM roles of the account's quota, not 14 to 19 (each
      // action's permissions are still only what its resources need, on the one role).
      usePipelineRoleForActions: true,
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
        schedule: props.rebuildSchedule,
        targets: [new targets.CodePipeline(this.pipeline)],
      });
    }
  }
}
