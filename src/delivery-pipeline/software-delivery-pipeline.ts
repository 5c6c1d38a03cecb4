import { Annotations, Duration, RemovalPolicy, Stack, Tags, Token } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as actions from 'aws-cdk-lib/aws-codepipeline-actions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { isProduction } from '../config/defaults';
import { describeValue } from '../config/errors';
import { CustomerConfig, DeploymentStrategy } from '../config/types';
import { valueProblem } from '../config/values';
import { approvalAction, checkApprovalEmails } from '../pipeline-common/approval';
import { pipelineArtifacts } from '../pipeline-common/artifacts';
import { checkConfigOfWebTier } from '../pipeline-common/config-of';
import { PipelineSource } from '../pipeline-common/pipeline-source';
import { ISharedPlatform } from '../platform/platform-reference';
import { installCodeDeployAgent } from '../web-tier/codedeploy-agent';
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

const IMAGE_TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
/** The standard CodeBuild image (Ubuntu 24.04); aws-cdk-lib's constant for it is newer than the floor. */
const STANDARD_BUILD_IMAGE = 'aws/codebuild/standard:8.0';

/**
 * The software delivery pipeline of a customer environment: the customer's repository → CodeBuild running the
 * repository's own `buildspec.yml` → a person's approval (production) → CodeDeploy updating the instances of the
 * Auto Scaling group in place, behind their target group, and rolling back a deployment that fails, is stopped,
 * or sets off one of its alarms (the instances' 5xx rate, unhealthy hosts).
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
    const resolved = checkConfigOfWebTier(config, webTier, where);
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
      userData: webTier.launchTemplate.userData,
      buildImage: image && {
        ecrRepository: ecr.Repository.fromRepositoryName(scope, `${id}BuildImageRepository`, image.ecrRepository),
        tag: image.tag,
      },
      deploymentStrategy: software.deploymentConfig,
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
   * The start of the keys of the pipeline's objects in the artifacts bucket (CodePipeline's folder of the
   * pipeline, the first 20 characters of its name); the pipeline's roles may use no other object of the bucket.
   */
  public readonly artifactsPrefix: string;

  public constructor(scope: Construct, id: string, props: SoftwareDeliveryPipelineProps) {
    super(scope, id);
    const where = `SoftwareDeliveryPipeline ${this.node.path}`;
    const production = props.production ?? isProduction(props.environment);
    const key = validate(where, props, production);
    this.customer = props.customer;
    this.environment = props.environment;
    this.production = production;
    const label = `${props.customer}-${props.environment}`;
    Tags.of(this).add('vending:customer', props.customer);
    Tags.of(this).add('vending:environment', props.environment);
    for (const [k, v] of Object.entries(props.tags ?? {})) Tags.of(this).add(k, v);

    // The pipeline's own folder of the shared bucket (see pipelineArtifacts).
    const {
      pipelineName,
      prefix,
      bucket: artifacts,
      key: artifactsKey,
    } = pipelineArtifacts(this, 'software', props.customer, props.environment, props.artifactsBucket, key);
    this.artifactsPrefix = prefix;

    // Build
    this.buildLogGroup = new logs.LogGroup(this, 'BuildLogs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      encryptionKey: key,
      removalPolicy: production ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    const buildImage = props.buildImage
      ? codebuild.LinuxBuildImage.fromEcrRepository(props.buildImage.ecrRepository, props.buildImage.tag ?? 'latest')
      : codebuild.LinuxBuildImage.fromCodeBuildImageId(STANDARD_BUILD_IMAGE);
    this.buildProject = new codebuild.PipelineProject(this, 'Build', {
      // "_": no customer name holds one, so the report groups it may write, <project>-*, are of this project only
      // (with "-", acme-staging-software-* would also match customer acme-staging-software-x's project).
      projectName: `${label}_software`,
      description: `Builds the software of ${label} with the buildspec.yml of its repository`,
      // The customer's own file: phases, reports and artifacts (with appspec.yml at their root) are theirs.
      buildSpec: codebuild.BuildSpec.fromSourceFilename('buildspec.yml'),
      environment: {
        buildImage,
        computeType: codebuild.ComputeType.SMALL,
        privileged: false,
        environmentVariables: {
          VENDING_CUSTOMER: { value: props.customer },
          VENDING_ENVIRONMENT: { value: props.environment },
        },
      },
      encryptionKey: artifactsKey, // grants on it: through S3 only
      logging: { cloudWatch: { logGroup: this.buildLogGroup } },
      // Test reports of the buildspec's `reports` section: report groups named <project>-*, of this project only.
      grantReportGroupPermissions: true,
    });

    // Deploy
    this.application = new codedeploy.ServerApplication(this, 'Application', {
      applicationName: `${label}-software`,
    });
    this.alarms = this.createAlarms(props, production, label);
    this.installAgent(props);
    this.deploymentGroup = new codedeploy.ServerDeploymentGroup(this, 'DeploymentGroup', {
      application: this.application,
      deploymentGroupName: 'web-tier',
      autoScalingGroups: [props.autoScalingGroup],
      // The agent goes in through the launch template's user data (installAgent), not aws-cdk-lib's commands for
      // Amazon Linux 2 and Ubuntu, which update every package at each launch.
      installAgent: false,
      loadBalancers: [codedeploy.LoadBalancer.application(props.targetGroup)],
      deploymentConfig: deploymentConfigOf(where, props.deploymentStrategy ?? DeploymentStrategy.ONE_AT_A_TIME),
      // The 5xx rate only: see `alarms`.
      alarms: [this.alarms[0]],
      autoRollback: { failedDeployment: true, stoppedDeployment: true, deploymentInAlarm: true },
    });
    // Instances launched later, by scaling or by the AMI pipeline's instance refresh, get the last good revision
    // from CodeDeploy itself: listing the Auto Scaling group makes CodeDeploy add a launch lifecycle hook to it
    // (CodeDeploy-managed-automatic-launch-deployment-hook-…), which holds each new instance in Pending:Wait until
    // CodeDeploy has deployed the deployment group's last successful revision to it, and abandons the instance
    // when that deployment fails. (Before the first successful deployment there is nothing to deploy.)
    if (props.instanceRole) {
      artifacts.grantRead(props.instanceRole);
    } else if (props.autoScalingGroup.grantPrincipal instanceof iam.UnknownPrincipal) {
      Annotations.of(this).addWarningV2(
        'cdk-paas-vending:instanceRole',
        "The instances' role is unknown (an imported Auto Scaling group, or a launch template without a role): pass " +
          `instanceRole, or let the instances read s3://${props.artifactsBucket.bucketName}/${this.artifactsPrefix}* ` +
          'and decrypt with the bucket key, or the CodeDeploy agent cannot download revisions.',
      );
    }

    // Pipeline
    this.pipeline = new codepipeline.Pipeline(this, 'Pipeline', {
      pipelineName,
      pipelineType: codepipeline.PipelineType.V2,
      artifactBucket: artifacts,
      restartExecutionOnUpdate: false,
    });
    const sourceOutput = new codepipeline.Artifact('Source');
    const source = props.source.bind(this, { pipeline: this.pipeline, output: sourceOutput });
    this.pipeline.addStage({ stageName: 'Source', actions: [source.action] });
    for (const statement of source.buildStatements ?? []) this.buildProject.addToRolePolicy(statement);

    const buildOutput = new codepipeline.Artifact('Build');
    this.pipeline.addStage({
      stageName: 'Build',
      actions: [
        new actions.CodeBuildAction({
          actionName: 'Build',
          project: this.buildProject,
          input: sourceOutput,
          outputs: [buildOutput],
        }),
      ],
    });

    if (production) {
      const approval = approvalAction(this, {
        customer: props.customer,
        environment: props.environment,
        emails: props.approvalEmails!,
        information: approvalInformation(props, source.description, source.revision),
      });
      this.approvalTopic = approval.topic;
      this.pipeline.addStage({ stageName: 'Approve', actions: [approval.action] });
    }

    this.pipeline.addStage({
      stageName: 'Deploy',
      actions: [
        new actions.CodeDeployServerDeployAction({
          actionName: 'Deploy',
          input: buildOutput,
          deploymentGroup: this.deploymentGroup,
        }),
      ],
    });
  }

  /** The instances' 5xx rate and unhealthy hosts, from the target group's metrics. */
  private createAlarms(props: SoftwareDeliveryPipelineProps, production: boolean, label: string): cloudwatch.Alarm[] {
    let metrics: elbv2.IApplicationTargetGroupMetrics;
    try {
      // Needs the load balancer: a listener of this app (a dedicated load balancer, or the shared one through a
      // SharedAlbRule, which registers its listener), or an imported group's loadBalancerArns.
      metrics = props.targetGroup.metrics;
    } catch {
      throw new Error(
        `SoftwareDeliveryPipeline ${this.node.path}: targetGroup: received a target group attached to no load ` +
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
    const serverErrors = new cloudwatch.Alarm(this, 'ServerErrorAlarm', {
      alarmDescription: `More than ${maxPercent}% of the requests to ${label} answered with 5xx by its instances: stops and rolls back a deployment`,
      metric: errorRate,
      threshold: maxPercent,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const unhealthyHosts = new cloudwatch.Alarm(this, 'UnhealthyHostsAlarm', {
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

  /** Adds the CodeDeploy agent's installation to the instances' user data. */
  private installAgent(props: SoftwareDeliveryPipelineProps): void {
    let userData = props.userData;
    if (!userData && props.autoScalingGroup instanceof autoscaling.AutoScalingGroup) {
      try {
        userData = props.autoScalingGroup.userData;
      } catch {
        // A launch template without user data of its own: handled below.
      }
    }
    if (!userData) {
      Annotations.of(this).addWarningV2(
        'cdk-paas-vending:codeDeployAgent',
        'No user data to install the CodeDeploy agent in: the instances must bring it in their image, or ' +
          "deployments will wait for them until they time out. Pass userData (the launch template's).",
      );
      return;
    }
    installCodeDeployAgent(userData, Stack.of(this));
  }
}

/** Checks the props; returns the artifacts bucket's key. */
function validate(where: string, props: SoftwareDeliveryPipelineProps, production: boolean): kms.IKey {
  for (const prop of ['customer', 'environment'] as const) {
    const value = props[prop];
    if (Token.isUnresolved(value)) {
      throw new Error(
        `${where}: ${prop}: received a token; expected a name known at synth time (the pipeline's name, and the ` +
          'folder of its artifacts, are made from it)',
      );
    }
    const problem = valueProblem(prop, value);
    if (problem) throw new Error(`${where}: ${prop}: ${problem}`);
  }
  const key = props.artifactsBucket.encryptionKey;
  if (!key) {
    throw new Error(
      `${where}: artifactsBucket: received a bucket without its encryptionKey; expected the platform's artifacts ` +
        'bucket with its KMS key (SharedPlatform.artifactsBucket), which also encrypts the build',
    );
  }
  checkApprovalEmails(where, props.approvalEmails, production, 'releases');
  const tag = props.buildImage?.tag;
  if (tag !== undefined && !Token.isUnresolved(tag) && !IMAGE_TAG.test(tag)) {
    throw new Error(
      `${where}: buildImage.tag: received ${describeValue(tag)}; expected an image tag such as latest or 1.4.2`,
    );
  }
  const percent = props.maxServerErrorPercent;
  if (percent !== undefined && !Token.isUnresolved(percent) && !(percent > 0 && percent <= 100)) {
    throw new Error(
      `${where}: maxServerErrorPercent: received ${describeValue(percent)}; expected a percentage above 0 and at most 100`,
    );
  }
  return key;
}

/**
 * The artifacts bucket as the pipeline sees it: aws-cdk-lib's grants on it (pipeline role, action roles, build
 * project, instances) cover the objects matching `objects` instead of the whole bucket. A grant to a principal
 * without a known role (CodeDeploy's action grants the Auto Scaling group, which may be imported) is left out:
 * the constructor warns about it.
 */
function deploymentConfigOf(where: string, strategy: DeploymentStrategy): codedeploy.IServerDeploymentConfig {
  switch (strategy) {
    case DeploymentStrategy.ALL_AT_ONCE:
      return codedeploy.ServerDeploymentConfig.ALL_AT_ONCE;
    case DeploymentStrategy.HALF_AT_A_TIME:
      return codedeploy.ServerDeploymentConfig.HALF_AT_A_TIME;
    case DeploymentStrategy.ONE_AT_A_TIME:
      return codedeploy.ServerDeploymentConfig.ONE_AT_A_TIME;
    default:
      throw new Error(
        `${where}: deploymentStrategy: received ${describeValue(strategy)}; expected one of ` +
          Object.values(DeploymentStrategy).join(', '),
      );
  }
}

/**
 * What the approval mail says: customer, environment, where the revision comes from and which revision (CodePipeline
 * resolves the variable). Not the commit message, whose length is the committer's: CodePipeline takes 500
 * characters at most.
 */
function approvalInformation(props: SoftwareDeliveryPipelineProps, description: string, revision: string): string {
  const release = `Release of ${props.customer} ${props.environment}`;
  const ask = 'Approve to deploy it to the instances with CodeDeploy.';
  const full = `${release}: revision ${revision} of ${description}. ${ask}`;
  return Token.isUnresolved(description) || full.length <= 500 ? full : `${release}: revision ${revision}. ${ask}`;
}
