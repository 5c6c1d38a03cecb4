import { Duration, Tags } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as actions from 'aws-cdk-lib/aws-codepipeline-actions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { createBake } from './bake';
import { resolvePacker, validate } from './checks';
import { PackerBaseImage, PackerTemplate } from './packer-template';
import { rolloutStateMachine } from './rollout';
import { rebuildWindowOfConfig, REBUILDS_OFF, staggeredRebuildSchedule } from './schedule';
import { packerTemplateAsset } from './template-asset';
import { leaveOutCreationStackTraces } from '../config/creation-traces';
import {
  DEFAULT_BASE_IMAGE_PARAMETER,
  DEFAULT_KEEP_IMAGES,
  DEFAULT_PROVISION_SCRIPT,
  defaultTriggerPaths,
  isProduction,
} from '../config/defaults';
import { CustomerConfig, RebuildWindowConfig } from '../config/types';
import { approvalAction } from '../pipeline-common/approval';
import { pipelineArtifacts } from '../pipeline-common/artifacts';
import { checkConfigOfWebTier } from '../pipeline-common/config-of';
import { PipelineSource } from '../pipeline-common/pipeline-source';
import { ISharedPlatform } from '../platform/platform-reference';
import { CustomerWebTier } from '../web-tier/customer-web-tier';

/**
 * The weekly window in which the default rebuilds of a fleet's environments start, each at a minute of its own picked
 * from its name, so that a fleet does not bake all at once (CodeBuild's concurrent builds are a quota).
 */
export interface RebuildWindow {
  /**
   * Day of the week the window starts on (UTC): MON, TUE, WED, THU, FRI, SAT or SUN.
   * @default "SUN"
   */
  readonly weekDay?: string;
  /**
   * Hour (UTC, 0 to 23) the window starts at.
   * @default 2
   */
  readonly startHour?: number;
  /**
   * Length of the window, whole minutes from 1 minute to 7 days; the rebuilds start within it (a window past midnight
   * goes on into the next day).
   * @default Duration.hours(4)
   */
  readonly duration?: Duration;
}

/** What a customer config does not say, for `CustomerAmiPipeline.fromConfig`. */
export interface CustomerAmiPipelineConfigOptions {
  /**
   * The deployment group of the environment's software pipeline: the rollout waits for its deployments.
   * @default - the rollout does not wait for deployments
   */
  readonly deploymentGroup?: codedeploy.IServerDeploymentGroup;
  /**
   * The platform file's `rebuildWindow`: the weekly window of the default rebuild, for a customer file without
   * `ami.rebuildSchedule` (VendingFleet passes its platform's).
   * @default - Sundays from 02:00 to 06:00 UTC
   */
  readonly rebuildWindow?: RebuildWindowConfig;
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
   * @default - weekly, at a minute of `rebuildWindow` picked from `<customer>-<environment>` (unless
   * `rebuildOnSchedule` is false)
   */
  readonly rebuildSchedule?: events.Schedule;
  /**
   * Whether the image is rebuilt on a schedule (`rebuildSchedule`). Without it, a bake starts only on a change of
   * `triggerPaths` and by hand (StartPipelineExecution).
   * @default true
   */
  readonly rebuildOnSchedule?: boolean;
  /**
   * The weekly window of the default `rebuildSchedule`: each environment gets a minute of its own in it, from a hash
   * of `<customer>-<environment>`, so that a fleet's bakes are spread over the window.
   * @default - Sundays from 02:00 to 06:00 UTC
   */
  readonly rebuildWindow?: RebuildWindow;
  /**
   * Paths of the repository (glob patterns, at most 8) whose change starts a bake, for a CodeConnections source: a
   * CodePipeline V2 trigger on pushes to the branch that touch one of them, so that an application commit in the same
   * repository bakes nothing. CodeCommit and S3 sources cannot be filtered by path: see `bakeOnSourceChange`.
   * @default - the folder of each provisioning script and everything under it (`packer/**`), or the script itself at
   * the root of the repository
   */
  readonly triggerPaths?: string[];
  /**
   * Whether a change of the source starts a bake: for a CodeConnections source, a push that touches `triggerPaths`;
   * for a CodeCommit or an S3 source, which CodePipeline cannot filter by path, any push to the branch or new
   * object. Turn it off for a CodeCommit or S3 source that also holds the application, whose commits should not
   * bake an image (`fromConfig` does when the AMI pipeline uses the software repository).
   * @default true
   */
  readonly bakeOnSourceChange?: boolean;
  /**
   * The role EventBridge starts the pipeline with (the rebuild schedule, a CodeCommit push, a new S3 object), e.g.
   * the platform's `serviceRoles.pipelineEventsRole`, which `fromConfig` passes.
   * @default - a role of the pipeline's own
   */
  readonly eventsRole?: iam.IRole;
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
    const resolved = checkConfigOfWebTier(config, webTier, where, platform);
    const image = resolved.ami.baseImage;
    const source = PipelineSource.fromConfig(resolved.ami.repository);
    return new CustomerAmiPipeline(scope, id, {
      customer: resolved.customer,
      environment: resolved.environment,
      production: resolved.production,
      source,
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
        resolved.ami.rebuildSchedule === undefined || resolved.ami.rebuildSchedule === REBUILDS_OFF
          ? undefined
          : events.Schedule.expression(resolved.ami.rebuildSchedule),
      rebuildOnSchedule: resolved.ami.rebuildSchedule !== REBUILDS_OFF,
      rebuildWindow: rebuildWindowOfConfig(options.rebuildWindow),
      triggerPaths: resolved.ami.triggerPaths,
      // The software repository's commits are the application's: a CodeConnections source bakes on the provisioning
      // scripts' paths only, a CodeCommit or S3 one (which cannot filter by path) on none of them.
      bakeOnSourceChange: config.ami?.repository !== undefined || source.filtersFilePaths,
      eventsRole: platform.serviceRoles?.pipelineEventsRole,
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
    leaveOutCreationStackTraces(this);
    const where = `CustomerAmiPipeline ${this.node.path}`;
    const production = props.production ?? isProduction(props.environment);
    const keepImages = props.keepImages ?? DEFAULT_KEEP_IMAGES;
    const timeout = props.buildTimeout ?? Duration.hours(2);
    const packer = resolvePacker(where, props);
    validate(where, props, production, keepImages, timeout);
    const triggerPaths =
      props.triggerPaths ?? defaultTriggerPaths(props.provisionScripts ?? [DEFAULT_PROVISION_SCRIPT]);
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
    // One zip archive written straight into the cloud assembly: the key and hash an Asset of the folder gives, for less.
    const template = packerTemplateAsset(this, 'PackerTemplate', this.packerTemplate);

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
      // environment of the example fleet costs 6 IAM roles of the account's quota, not 14 to 19 (each
      // action's permissions are still only what its resources need, on the one role).
      usePipelineRoleForActions: true,
    });
    const repository = new codepipeline.Artifact('Repository');
    const templateArtifact = new codepipeline.Artifact('PackerTemplate');
    const bakeOnSourceChange = props.bakeOnSourceChange ?? true;
    const source = props.source.bind(this, {
      pipeline: this.pipeline,
      output: repository,
      actionName: 'Repository',
      startOnChange: bakeOnSourceChange,
      eventsRole: props.eventsRole,
      filePaths: props.source.filtersFilePaths ? triggerPaths : undefined,
    });
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

    if (props.rebuildOnSchedule ?? true) {
      new events.Rule(this, 'RebuildSchedule', {
        description: `Rebuilds the AMI of ${label} so base-image patches arrive without a commit`,
        schedule:
          props.rebuildSchedule ?? staggeredRebuildSchedule(label, props.rebuildWindow, `${where}: rebuildWindow`),
        targets: [new targets.CodePipeline(this.pipeline, { eventRole: props.eventsRole })],
      });
    }
  }
}
