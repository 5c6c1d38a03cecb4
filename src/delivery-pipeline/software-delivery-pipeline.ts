import { Duration, Tags } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { AdditionalBatch } from './additional-batch';
import { createBuild } from './build';
import { validate } from './checks';
import { createAlarms, createDeploymentGroup, grantRevisionsToInstances, installAgent } from './deployment';
import { createPipeline } from './stages';
import { leaveOutCreationStackTraces } from '../config/creation-traces';
import {
  DEFAULT_ADDITIONAL_BATCH_SIZE,
  DEFAULT_EVALUATION_MINUTES,
  isProduction,
  ResolvedDeployment,
  usesStandbyGroup,
} from '../config/defaults';
import { CustomerConfig, DeploymentPolicy, DeploymentStrategy } from '../config/types';
import { pipelineArtifacts } from '../pipeline-common/artifacts';
import { checkConfigOfWebTier } from '../pipeline-common/config-of';
import { PipelineSource } from '../pipeline-common/pipeline-source';
import { ISharedPlatform } from '../platform/platform-reference';
import { CustomerWebTier } from '../web-tier/customer-web-tier';

/** A CodeBuild image from an Amazon ECR repository. */
export interface EcrBuildImageOptions {
  /** The repository; the build project may pull from it, and from no other repository. */
  readonly ecrRepository: ecr.IRepository;
  /**
   * Image tag.
   * @default "latest"
   */
  readonly tag?: string;
}

/** Props of SoftwareDeliveryPipeline. */
export interface SoftwareDeliveryPipelineProps {
  /** Customer name (lower-case letters, digits, hyphens), used in names and tags. */
  readonly customer: string;
  /** Environment name, such as `production` or `staging`. */
  readonly environment: string;
  /**
   * Releases wait for a person's approval between the build and the deployment.
   * @default - true when `environment` is "production"
   */
  readonly production?: boolean;
  /** The customer's application repository, with `buildspec.yml` and `appspec.yml` at its root. */
  readonly source: PipelineSource;
  /**
   * Bucket of the pipeline's artifacts, with the KMS key that encrypts it (`encryptionKey`), e.g.
   * `SharedPlatform.artifactsBucket`. The pipeline's roles may use only the objects under the pipeline's own
   * folder (`artifactsPrefix`), so one bucket can serve every customer.
   */
  readonly artifactsBucket: s3.IBucket;
  /** The instances CodeDeploy updates, e.g. `CustomerWebTier.autoScalingGroup`. */
  readonly autoScalingGroup: autoscaling.IAutoScalingGroup;
  /**
   * The target group in front of the instances, attached to a load balancer listener, e.g.
   * `CustomerWebTier.targetGroup`. CodeDeploy takes each instance out of it while updating it, and the
   * deployment alarms watch its metrics.
   */
  readonly targetGroup: elbv2.IApplicationTargetGroup;
  /**
   * Role of the instances, which the CodeDeploy agent uses to download revisions: it may read the pipeline's
   * artifacts (its folder of the bucket, decrypted through S3), e.g. `CustomerWebTier.instanceRole`.
   * @default - the Auto Scaling group's role, when aws-cdk-lib knows it (a group created with a launch template that has a role)
   */
  readonly instanceRole?: iam.IRole;
  /**
   * CodeDeploy's service role, e.g. the platform's `serviceRoles.deploymentRole`, which `fromConfig` passes. It
   * needs AWSCodeDeployRole, and for a group on a launch template ec2:RunInstances from it, ec2:CreateTags at launch
   * and iam:PassRole on the instances' role to EC2.
   * @default - a role of the deployment group's own, with those permissions for this group's launch template and instances' role only
   */
  readonly deploymentRole?: iam.IRole;
  /**
   * The role EventBridge starts the pipeline with (a CodeCommit push, a new S3 object), e.g. the platform's
   * `serviceRoles.pipelineEventsRole`, which `fromConfig` passes.
   * @default - a role of the rule's own
   */
  readonly eventsRole?: iam.IRole;
  /**
   * User data of the instances' launch template, to which the CodeDeploy agent's installation is added unless it
   * is there: a CustomerWebTier installs the agent itself, so `CustomerWebTier.launchTemplate.userData` gets nothing
   * more. For instances of another web tier, the commands are for Amazon Linux 2023 and skip the installation
   * when the image already has the agent.
   * @default - the Auto Scaling group's user data when it is an AutoScalingGroup that exposes it; otherwise nothing is added and the image must bring the agent
   */
  readonly userData?: ec2.UserData;
  /**
   * Image of the build, from ECR.
   * @default - the CodeBuild standard image 8.0 (Ubuntu 24.04)
   */
  readonly buildImage?: EcrBuildImageOptions;
  /**
   * How many instances CodeDeploy updates at a time.
   * @default DeploymentStrategy.ONE_AT_A_TIME
   */
  readonly deploymentStrategy?: DeploymentStrategy;
  /**
   * Instances that stay in service while CodeDeploy updates the others, as a count or a share of the instances (a
   * rolling deployment with batches of your size): the pipeline gets a CodeDeploy deployment configuration of its
   * own with this minimum. A deployment fails when fewer instances than this succeed. Not with `deploymentStrategy`.
   * @default - deploymentStrategy
   */
  readonly minimumHealthyHosts?: codedeploy.MinimumHealthyHosts;
  /**
   * Deploy with an additional batch (Elastic Beanstalk's "rolling with additional batch"): the Deploy stage copies
   * the build's revision into the pipeline's folder and invokes a Step Functions state machine (`deploymentStateMachine`),
   * which grows the Auto Scaling group by the batch, waits until the new instances are in service, deploys with
   * CodeDeploy a batch at a time while as many instances as ran before stay in service, and sets the group's capacity
   * back on every path. Not with `deploymentStrategy` or `minimumHealthyHosts`.
   * @default - no extra batch: CodeDeploy updates the instances in place (`deploymentStrategy`)
   */
  readonly additionalBatch?: AdditionalBatch;
  /**
   * Deploy immutably (Elastic Beanstalk's "immutable"), on this standby group of the same launch template, at zero and
   * not attached to the target group, e.g. `CustomerWebTier.standbyAutoScalingGroup`: the Deploy stage's state
   * machine (`deploymentStateMachine`) scales it to the group's desired capacity, deploys the release to it (CodeDeploy
   * registers its instances in `targetGroup` once the release is installed), then to the group's own instances all at
   * once while the standby serves, and scales the standby back to zero on every path. Not with `deploymentStrategy`,
   * `minimumHealthyHosts` or `additionalBatch`.
   * @default - no standby: CodeDeploy updates the instances in place (`deploymentStrategy`)
   */
  readonly standbyAutoScalingGroup?: autoscaling.IAutoScalingGroup;
  /**
   * Traffic splitting (Elastic Beanstalk's "traffic splitting"), with `standbyAutoScalingGroup`: the standby first gets
   * enough instances to take about this share of the requests beside the group's (by instance count, one at least),
   * the release is deployed to them and the deployment alarm watched for `canaryEvaluation`; an alarm sets the
   * standby back to zero, otherwise the deployment goes on as an immutable one. From 1 to 50.
   * @default - no canary: an immutable deployment
   */
  readonly canaryPercent?: number;
  /**
   * How long the deployment alarm is watched while the canary serves, in whole minutes from 1 to 10 (the hour of the
   * pipeline's action bounds it). Only with `canaryPercent`.
   * @default Duration.minutes(5)
   */
  readonly canaryEvaluation?: Duration;
  /**
   * Who approves releases, by mail. Required, with one address at least, in production; unused elsewhere.
   * @default - none (a non-production pipeline has no approval)
   */
  readonly approvalEmails?: string[];
  /**
   * Share of requests answered with a 5xx by the instances, in percent, above which a deployment is stopped
   * and rolled back (measured each minute with at least 10 requests, 2 minutes out of 3).
   * @default 5
   */
  readonly maxServerErrorPercent?: number;
  /**
   * What the deployment alarms do when they go off, besides stopping and rolling back a deployment in progress.
   * @default - an OpsItem in AWS Systems Manager OpsCenter (category Availability; severity High in production, Medium elsewhere)
   */
  readonly alarmActions?: cloudwatch.IAlarmAction[];
  /**
   * How long the build logs are kept. The AWS Control Tower control CT.CLOUDWATCH.PR.2 asks for a year at least.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Tags of every resource, besides `vending:customer` and `vending:environment`.
   * @default - none
   */
  readonly tags?: { [key: string]: string };
}

/**
 * The software delivery pipeline of a customer environment: the customer's repository → CodeBuild running the
 * repository's own `buildspec.yml` → a person's approval (production) → CodeDeploy updating the instances of the
 * Auto Scaling group in place, behind their target group, and rolling back a deployment that fails, is stopped,
 * or sets off one of its alarms (the instances' 5xx rate, unhealthy hosts). With `additionalBatch`, the group grows
 * by a batch before the deployment and shrinks back after it (a Step Functions state machine of the stack).
 *
 * @example
 * declare const platform: SharedPlatform;
 * declare const web: CustomerWebTier;
 * new SoftwareDeliveryPipeline(this, 'Software', {
 *   customer: 'acme',
 *   environment: 'production',
 *   source: PipelineSource.codeConnections({
 *     connectionArn: 'arn:aws:codeconnections:eu-west-1:123456789012:connection/0a1b2c3d-4e5f-6789-abcd-ef0123456789',
 *     owner: 'acme',
 *     repository: 'website',
 *   }),
 *   artifactsBucket: platform.artifactsBucket,
 *   autoScalingGroup: web.autoScalingGroup,
 *   targetGroup: web.targetGroup,
 *   instanceRole: web.instanceRole,
 *   userData: web.launchTemplate.userData,
 *   deploymentStrategy: DeploymentStrategy.HALF_AT_A_TIME,
 *   approvalEmails: ['releases@acme.example'],
 * });
 */
export class SoftwareDeliveryPipeline extends Construct {
  /**
   * The software pipeline of a customer config (its `software` section and `approvalEmails`) for the web tier
   * of that config on a platform (a SharedPlatform of the same stack, or a PlatformReference bound in this one). The config is validated first.
   */
  public static fromConfig(
    scope: Construct,
    id: string,
    config: CustomerConfig,
    platform: ISharedPlatform,
    webTier: CustomerWebTier,
  ): SoftwareDeliveryPipeline {
    const where = `SoftwareDeliveryPipeline.fromConfig ${scope.node.path}/${id}`;
    const resolved = checkConfigOfWebTier(config, webTier, where, platform);
    const software = resolved.softwareDelivery;
    const image = software.buildImage;
    return new SoftwareDeliveryPipeline(scope, id, {
      customer: resolved.customer,
      environment: resolved.environment,
      production: resolved.production,
      source: PipelineSource.fromConfig(software.repository),
      artifactsBucket: platform.artifactsBucket,
      autoScalingGroup: webTier.autoScalingGroup,
      targetGroup: webTier.targetGroup,
      instanceRole: webTier.instanceRole,
      deploymentRole: platform.serviceRoles?.deploymentRole,
      eventsRole: platform.serviceRoles?.pipelineEventsRole,
      userData: webTier.launchTemplate.userData,
      buildImage: image && {
        ecrRepository: ecr.Repository.fromRepositoryName(scope, `${id}BuildImageRepository`, image.ecrRepository),
        tag: image.tag,
      },
      ...deploymentPropsOf(software.deployment),
      ...(usesStandbyGroup(software.deployment) ? { standbyAutoScalingGroup: standbyOf(where, webTier) } : {}),
      ...(software.deployment.policy === DeploymentPolicy.TRAFFIC_SPLITTING
        ? {
            canaryPercent: software.deployment.canaryPercent,
            canaryEvaluation: Duration.minutes(software.deployment.evaluationMinutes ?? DEFAULT_EVALUATION_MINUTES),
          }
        : {}),
      approvalEmails: resolved.approvalEmails,
      tags: resolved.tags,
    });
  }

  public readonly customer: string;
  public readonly environment: string;
  /** Whether releases wait for a person's approval. */
  public readonly production: boolean;
  /** The pipeline: stages Source, Build, Approve (production only) and Deploy. */
  public readonly pipeline: codepipeline.Pipeline;
  /** The build, driven by the repository's `buildspec.yml`. */
  public readonly buildProject: codebuild.PipelineProject;
  /** The build logs. */
  public readonly buildLogGroup: logs.LogGroup;
  /** The CodeDeploy application. */
  public readonly application: codedeploy.ServerApplication;
  /** The CodeDeploy deployment group of the Auto Scaling group. */
  public readonly deploymentGroup: codedeploy.ServerDeploymentGroup;
  /** The CodeDeploy deployment group of the standby group, with `standbyAutoScalingGroup`. */
  public readonly standbyDeploymentGroup?: codedeploy.ServerDeploymentGroup;
  /**
   * The alarms: the instances' 5xx rate, which also stops and rolls back a deployment, then unhealthy hosts, which
   * only reports (an instance that fails its health check fails its own deployment step already, and a group
   * alarm in ALARM would stop every deployment, the repairing one and the launch deployments of new instances
   * included).
   */
  public readonly alarms: cloudwatch.Alarm[];
  /** The topic of the approval mails (production only). */
  public readonly approvalTopic?: sns.ITopic;
  /**
   * The state machine of the Deploy stage, with `additionalBatch` (it runs as the pipeline's role).
   */
  public readonly deploymentStateMachine?: sfn.IStateMachine;
  /**
   * The start of the keys of the pipeline's objects in the artifacts bucket (CodePipeline's folder of the
   * pipeline, the first 20 characters of its name); the pipeline's roles may use no other object of the bucket.
   */
  public readonly artifactsPrefix: string;

  public constructor(scope: Construct, id: string, props: SoftwareDeliveryPipelineProps) {
    super(scope, id);
    leaveOutCreationStackTraces(this);
    const where = `SoftwareDeliveryPipeline ${this.node.path}`;
    const production = props.production ?? isProduction(props.environment);
    const key = validate(where, props, production);
    this.customer = props.customer;
    this.environment = props.environment;
    this.production = production;
    const label = `${props.customer}-${props.environment}`;
    this.addTags(props);

    // The pipeline's own folder of the shared bucket (see pipelineArtifacts).
    const {
      pipelineName,
      prefix,
      bucket: artifacts,
      key: artifactsKey,
    } = pipelineArtifacts(this, 'software', props.customer, props.environment, props.artifactsBucket, key);
    this.artifactsPrefix = prefix;

    const build = createBuild(this, { props, production, label, key, artifactsKey });
    this.buildLogGroup = build.logGroup;
    this.buildProject = build.project;

    this.application = new codedeploy.ServerApplication(this, 'Application', {
      applicationName: `${label}-software`,
    });
    this.alarms = createAlarms(this, where, props, production, label);
    installAgent(this, props);
    this.deploymentGroup = createDeploymentGroup(this, {
      where,
      props,
      application: this.application,
      alarm: this.alarms[0],
    });
    if (props.standbyAutoScalingGroup) {
      this.standbyDeploymentGroup = createDeploymentGroup(this, {
        where,
        props,
        application: this.application,
        alarm: this.alarms[0],
        standby: props.standbyAutoScalingGroup,
      });
    }
    grantRevisionsToInstances(this, props, artifacts, this.artifactsPrefix);

    const pipeline = createPipeline(this, {
      props,
      production,
      pipelineName,
      artifacts,
      buildProject: this.buildProject,
      application: this.application,
      deploymentGroup: this.deploymentGroup,
      deploymentAlarm: this.alarms[0],
      standbyDeploymentGroup: this.standbyDeploymentGroup,
      key,
      artifactsPrefix: this.artifactsPrefix,
    });
    this.pipeline = pipeline.pipeline;
    if (pipeline.approvalTopic) this.approvalTopic = pipeline.approvalTopic;
    if (pipeline.deploymentStateMachine) this.deploymentStateMachine = pipeline.deploymentStateMachine;
  }

  /** Tags of every resource: the customer, the environment and the props' own. */
  private addTags(props: SoftwareDeliveryPipelineProps): void {
    Tags.of(this).add('vending:customer', props.customer);
    Tags.of(this).add('vending:environment', props.environment);
    for (const [k, v] of Object.entries(props.tags ?? {})) Tags.of(this).add(k, v);
  }
}

/**
 * A config's deployment as the pipeline's props: the preset that says the same when there is one (the templates of
 * deploymentConfig's presets stay as they were), else CodeDeploy's minimum healthy hosts.
 */
function deploymentPropsOf(
  deployment: ResolvedDeployment,
): Pick<SoftwareDeliveryPipelineProps, 'deploymentStrategy' | 'minimumHealthyHosts' | 'additionalBatch'> {
  if (deployment.policy === DeploymentPolicy.ALL_AT_ONCE) return { deploymentStrategy: DeploymentStrategy.ALL_AT_ONCE };
  if (usesStandbyGroup(deployment)) return {};
  if (deployment.policy === DeploymentPolicy.ROLLING_WITH_ADDITIONAL_BATCH) {
    return {
      additionalBatch:
        deployment.batchSizePercent !== undefined
          ? AdditionalBatch.percentage(deployment.batchSizePercent)
          : AdditionalBatch.count(deployment.batchSize ?? DEFAULT_ADDITIONAL_BATCH_SIZE),
    };
  }
  const { minimumHealthyHosts: hosts, minimumHealthyPercent: percent } = deployment;
  if (hosts !== undefined) return { minimumHealthyHosts: codedeploy.MinimumHealthyHosts.count(hosts) };
  if (percent === 50) return { deploymentStrategy: DeploymentStrategy.HALF_AT_A_TIME };
  if (percent !== undefined) return { minimumHealthyHosts: codedeploy.MinimumHealthyHosts.percentage(percent) };
  return { deploymentStrategy: DeploymentStrategy.ONE_AT_A_TIME };
}

/** The web tier's standby group, which an immutable deployment needs (CustomerWebTier.fromConfig makes it). */
function standbyOf(where: string, webTier: CustomerWebTier): autoscaling.IAutoScalingGroup {
  if (!webTier.standbyAutoScalingGroup) {
    throw new Error(
      `${where}: webTier: received a web tier without a standby group; expected the CustomerWebTier of the same ` +
        'config (its fromConfig makes the standby group of an immutable deployment), or one with standbyGroup: true',
    );
  }
  return webTier.standbyAutoScalingGroup;
}
