import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as actions from 'aws-cdk-lib/aws-codepipeline-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import {
  APPROVAL_VARIABLE,
  PRODUCTION_VARIABLE,
  BOOTSTRAP_ROLES,
  buildSpecOfBuild,
  buildSpecOfDeploy,
  buildSpecOfSelfUpdate,
  DeployGroup,
  REPORTS_PREFIX,
  STATE_PREFIX,
} from './buildspecs';
import { checkProps } from './checks';
import { leaveOutCreationStackTraces } from '../config/creation-traces';
import { DEFAULT_BOOTSTRAP_QUALIFIER, DEFAULT_FLEET_CONCURRENCY } from '../config/defaults';
import { FleetPipelineConfig } from '../config/types';
import { PipelineSource } from '../pipeline-common/pipeline-source';
import { createRetainedKey } from '../platform/key-and-buckets';
import { createDataBucket, notifyEventBridge, S3_ACCESS_LOGS_PREFIX } from '../platform/log-delivery';

/** Props of FleetPipeline. */
export interface FleetPipelineProps {
  /** The fleet repository: a fleet directory, and at its root the `package.json` and lock file that pin the library. */
  readonly source: PipelineSource;
  /**
   * Where the fleet directory (platform.yaml, customers/) is in the repository, relative to its root.
   * @default "."
   */
  readonly fleetDirectory?: string;
  /**
   * Stacks deployed at the same time in each wave, 1 to 50 (docs/FLEET-DEPLOY-QUOTAS.md: at 20, a wave of 1,000
   * stacks of 5 minutes takes about 4 hours, inside a CodeBuild action's 8).
   * @default 20
   */
  readonly concurrency?: number;
  /**
   * Addresses asked to approve the production wave, subscribed to the approval's topic.
   * @default - no topic: the approval waits in the CodePipeline console
   */
  readonly approvalEmails?: string[];
  /**
   * The qualifier of the account's CDK bootstrap (`cdk bootstrap --qualifier`): the deploy builds may assume its
   * deploy, file-publishing, image-publishing and lookup roles, and nothing else in the account.
   * @default "hnb659fds"
   */
  readonly bootstrapQualifier?: string;
  /**
   * Name of the pipeline.
   * @default - the name of the stack that holds it
   */
  readonly pipelineName?: string;
  /**
   * How long one action (a wave) may take, 5 minutes to 8 hours (CodePipeline's timeout of a CodeBuild action).
   * @default Duration.hours(8)
   */
  readonly buildTimeout?: Duration;
}

/** CodeBuild's standard image with Node.js 22 (Ubuntu 24.04); aws-cdk-lib's constant for it is newer than the floor. */
const BUILD_IMAGE = 'aws/codebuild/standard:8.0';

/**
 * The fleet's own pipeline, in the platform's account: CodePipeline (V2, QUEUED, so that two runs never write the
 * deploy state at once), CodeBuild and CloudFormation deploy a fleet directory from its repository on every push.
 *
 * Stages, in order: Source; Build (`npm ci` at the lock file's versions, `paas-vending validate`, `synth`, and
 * `deploy --plan` from the state the last run left, with the production approval's text); UpdatePipeline (the
 * pipeline's own stack first, when its template changed: a new execution then carries on with the new definition
 * and this one stops); Platform; NonProduction; Approval (manual, its message the production changes, replacements
 * first); Production. Each wave is one CodeBuild action that runs `paas-vending deploy --group`, `concurrency`
 * stacks at a time, with the CDK toolkit: a failed stack does not stop the others, and the action fails at its end.
 * The deploy state (which template each stack last deployed) is kept in the pipeline's own state bucket.
 *
 * The stack that holds it must be one that `paas-vending synth` builds from the fleet directory (the platform
 * file's `fleetPipeline:`): its UpdatePipeline stage deploys it from the assembly by its name.
 *
 * @example
 * const stack = new Stack(app, 'vending-fleet-pipeline', { env: { account: '123456789012', region: 'eu-west-1' } });
 * new FleetPipeline(stack, 'FleetPipeline', {
 *   source: PipelineSource.codeConnections({
 *     connectionArn: 'arn:aws:codeconnections:eu-west-1:123456789012:connection/0a1b2c3d-4e5f-6789-abcd-ef0123456789',
 *     owner: 'acme-platform',
 *     repository: 'fleet',
 *   }),
 *   approvalEmails: ['platform@example.com'],
 * });
 */
export class FleetPipeline extends Construct {
  /**
   * The pipeline a platform file's `fleetPipeline:` describes (VendingFleet builds it in `<platform>-fleet-pipeline`).
   * The CodeCommit repository or the source bucket is imported by name.
   */
  public static fromConfig(scope: Construct, id: string, config: FleetPipelineConfig): FleetPipeline {
    return new FleetPipeline(scope, id, {
      source: PipelineSource.fromConfig(config.repository),
      fleetDirectory: config.directory,
      concurrency: config.concurrency,
      approvalEmails: config.approvalEmails,
      bootstrapQualifier: config.bootstrapQualifier,
    });
  }

  /** The pipeline. */
  public readonly pipeline: codepipeline.Pipeline;
  /** The bucket of the deploy state (`state/`) and the deploy reports (`reports/<execution id>/<group>.json`). */
  public readonly stateBucket: s3.Bucket;
  /** The bucket of the pipeline's artifacts. */
  public readonly artifactsBucket: s3.Bucket;
  /** The key that encrypts both buckets and the build logs. */
  public readonly key: kms.Key;
  /** The log group of every build of the pipeline. */
  public readonly logGroup: logs.LogGroup;
  /** The topic of the production approval, when `approvalEmails` are given. */
  public readonly approvalTopic?: sns.Topic;

  constructor(scope: Construct, id: string, props: FleetPipelineProps) {
    super(scope, id);
    leaveOutCreationStackTraces(this);
    const stack = Stack.of(this);
    const checked = checkProps(`FleetPipeline ${this.node.path}`, props, {
      fleetDirectory: '.',
      concurrency: DEFAULT_FLEET_CONCURRENCY,
      approvalEmails: [],
      bootstrapQualifier: DEFAULT_BOOTSTRAP_QUALIFIER,
      pipelineName: stack.stackName,
      buildTimeout: Duration.hours(8),
    });

    this.key = createKey(this);
    const accessLogs = createAccessLogsBucket(this);
    this.artifactsBucket = createDataBucket(this, 'ArtifactsBucket', {
      encryptionKey: this.key,
      logsBucket: accessLogs,
      logName: 'artifacts',
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // Each execution writes the repository and its cdk.out (about 150 MB at 1,000 environments): kept for a month.
    this.artifactsBucket.addLifecycleRule({ id: 'expire-artifacts', expiration: Duration.days(30) });
    this.stateBucket = createDataBucket(this, 'StateBucket', {
      encryptionKey: this.key,
      logsBucket: accessLogs,
      logName: 'state',
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: logs.RetentionDays.ONE_YEAR,
      encryptionKey: this.key,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const environmentVariables = {
      FLEET_DIR: { value: checked.fleetDirectory },
      STATE_BUCKET: { value: this.stateBucket.bucketName },
      CONCURRENCY: { value: String(checked.concurrency) },
      PIPELINE_STACK: { value: stack.stackName },
      // A name known at synth time: the pipeline's own Ref here would make the projects and the pipeline a cycle.
      PIPELINE_NAME: { value: checked.pipelineName },
    };
    const project = (
      projectId: string,
      description: string,
      buildSpec: Record<string, unknown>,
      computeType = codebuild.ComputeType.SMALL,
    ) =>
      new codebuild.PipelineProject(this, projectId, {
        description,
        buildSpec: codebuild.BuildSpec.fromObject(buildSpec),
        environment: {
          buildImage: codebuild.LinuxBuildImage.fromCodeBuildImageId(BUILD_IMAGE),
          computeType,
          privileged: false,
          environmentVariables,
        },
        encryptionKey: this.key,
        logging: { cloudWatch: { logGroup: this.logGroup, prefix: projectId } },
        timeout: checked.buildTimeout,
        // The builds write no CodeBuild reports: the deploy reports go to the log and the state bucket.
        grantReportGroupPermissions: false,
      });
    // Synthesis holds the fleet in memory: about 1.3 GiB at 500 environments (docs/BENCHMARKS.md), too near a small
    // build's 3 GB at 1,000. A medium build (7 GB, 4 vCPUs) synthesizes them in 4 worker processes (synth --jobs).
    const build = project(
      'Build',
      `Validates and synthesizes the fleet of ${stack.stackName}, and plans its deploy`,
      buildSpecOfBuild(),
      codebuild.ComputeType.MEDIUM,
    );
    const selfUpdate = project(
      'SelfUpdate',
      `Deploys the pipeline ${checked.pipelineName} itself when it changed`,
      buildSpecOfSelfUpdate(),
    );
    const deploy = project('Deploy', `Deploys a wave of the fleet of ${checked.pipelineName}`, buildSpecOfDeploy());

    // The state: read by the plan, read and written by the deploys; the reports: written by the deploys.
    this.stateBucket.grantRead(build, `${STATE_PREFIX}/*`);
    for (const deployer of [selfUpdate, deploy]) {
      this.stateBucket.grantReadWrite(deployer, `${STATE_PREFIX}/*`);
      this.stateBucket.grantPut(deployer, `${REPORTS_PREFIX}/*`);
      deployer.addToRolePolicy(bootstrapRolesStatement(stack, checked.bootstrapQualifier));
    }
    const pipelineArn = stack.formatArn({ service: 'codepipeline', resource: checked.pipelineName });
    selfUpdate.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'RestartItselfAfterAnUpdate',
        actions: ['codepipeline:StartPipelineExecution', 'codepipeline:StopPipelineExecution'],
        resources: [pipelineArn],
      }),
    );

    this.pipeline = new codepipeline.Pipeline(this, 'Pipeline', {
      pipelineName: checked.pipelineName,
      pipelineType: codepipeline.PipelineType.V2,
      // One execution at a time, each to its end: the deploy state is never written by two runs.
      executionMode: codepipeline.ExecutionMode.QUEUED,
      artifactBucket: this.artifactsBucket,
      // The UpdatePipeline stage starts the next execution itself, only when the pipeline's stack changed.
      restartExecutionOnUpdate: false,
      usePipelineRoleForActions: true,
    });
    const sourceOutput = new codepipeline.Artifact('Source');
    const source = props.source.bind(this, { pipeline: this.pipeline, output: sourceOutput });
    for (const statement of source.buildStatements ?? []) build.addToRolePolicy(statement);
    this.pipeline.addStage({ stageName: 'Source', actions: [source.action] });

    const assembly = new codepipeline.Artifact('Synth');
    const buildAction = new actions.CodeBuildAction({
      actionName: 'Synth',
      project: build,
      input: sourceOutput,
      outputs: [assembly],
      variablesNamespace: 'Build',
    });
    this.pipeline.addStage({ stageName: 'Build', actions: [buildAction] });

    const execution = { PIPELINE_EXECUTION_ID: { value: '#{codepipeline.PipelineExecutionId}' } };
    this.pipeline.addStage({
      stageName: 'UpdatePipeline',
      actions: [
        new actions.CodeBuildAction({
          actionName: 'SelfUpdate',
          project: selfUpdate,
          input: assembly,
          environmentVariables: execution,
        }),
      ],
    });
    const wave = (group: DeployGroup) =>
      new actions.CodeBuildAction({
        actionName: 'Deploy',
        project: deploy,
        input: assembly,
        environmentVariables: { ...execution, DEPLOY_GROUP: { value: group } },
      });
    this.pipeline.addStage({ stageName: 'Platform', actions: [wave('platform')] });
    this.pipeline.addStage({ stageName: 'NonProduction', actions: [wave('nonproduction')] });

    if (checked.approvalEmails.length > 0) {
      this.approvalTopic = new sns.Topic(this, 'ApprovalTopic', {
        displayName: `Production approvals of ${checked.pipelineName}`,
        // The AWS managed key: CodePipeline's role may publish with it without a statement in a key policy.
        masterKey: kms.Alias.fromAliasName(this, 'ApprovalTopicKey', 'alias/aws/sns'),
        enforceSSL: true,
      });
      for (const email of new Set(checked.approvalEmails)) {
        this.approvalTopic.addSubscription(new subscriptions.EmailSubscription(email));
      }
    }
    this.pipeline.addStage({
      stageName: 'Approval',
      actions: [
        new actions.ManualApprovalAction({
          actionName: 'ApproveProduction',
          notificationTopic: this.approvalTopic,
          // The text `paas-vending deploy --plan --approval-message` wrote, cut to CodePipeline's limit of the value.
          additionalInformation: buildAction.variable(APPROVAL_VARIABLE),
        }),
      ],
    });
    this.pipeline.addStage({ stageName: 'Production', actions: [wave('production')] });
    // A run that changes no production stack does not wait for an approval of nothing: both stages are skipped when
    // the Build's plan counts none (an entry condition's SKIP takes a VariableCheck rule).
    const cfnPipeline = this.pipeline.node.defaultChild as codepipeline.CfnPipeline;
    const names = this.pipeline.stages.map((s) => s.stageName);
    for (const stageName of ['Approval', 'Production']) {
      cfnPipeline.addPropertyOverride(`Stages.${names.indexOf(stageName)}.BeforeEntry`, {
        Conditions: [
          {
            Result: 'SKIP',
            Rules: [
              {
                Name: 'ProductionChanges',
                RuleTypeId: { Category: 'Rule', Owner: 'AWS', Provider: 'VariableCheck', Version: '1' },
                Configuration: { Variable: buildAction.variable(PRODUCTION_VARIABLE), Value: '0', Operator: 'NE' },
              },
            ],
          },
        ],
      });
    }
  }
}

/** The pipeline's key: retained, rotated, usable by the region's CloudWatch Logs for this account's log groups. */
function createKey(scope: Construct): kms.Key {
  return createRetainedKey(
    scope,
    `cdk-paas-vending fleet pipeline of ${Stack.of(scope).stackName}: artifacts, deploy state and build logs`,
  );
}

/**
 * The access logs of the state and artifacts buckets: S3-managed encryption (S3 server access logs are delivered
 * to such buckets only), versioned, private, SSL only, expiring after a year.
 */
function createAccessLogsBucket(scope: Construct): s3.Bucket {
  const stack = Stack.of(scope);
  const bucket = new s3.Bucket(scope, 'AccessLogsBucket', {
    encryption: s3.BucketEncryption.S3_MANAGED,
    enforceSSL: true,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    versioned: true,
    lifecycleRules: [
      {
        id: 'expire-logs',
        expiration: Duration.days(365),
        noncurrentVersionExpiration: Duration.days(7),
        abortIncompleteMultipartUploadAfter: Duration.days(1),
      },
    ],
    removalPolicy: RemovalPolicy.RETAIN,
  });
  notifyEventBridge(bucket);
  bucket.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'S3ServerAccessLogsOfThisAccount',
      principals: [new iam.ServicePrincipal('logging.s3.amazonaws.com')],
      actions: ['s3:PutObject'],
      resources: [bucket.arnForObjects(`${S3_ACCESS_LOGS_PREFIX}*`)],
      conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
    }),
  );
  return bucket;
}

/** sts:AssumeRole on the bootstrap roles a toolkit deploy uses, by their exact names: no other role of the account. */
function bootstrapRolesStatement(stack: Stack, qualifier: string): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: 'AssumeCdkBootstrapRoles',
    actions: ['sts:AssumeRole'],
    resources: BOOTSTRAP_ROLES.map((role) =>
      stack.formatArn({
        service: 'iam',
        region: '',
        resource: 'role',
        resourceName: `cdk-${qualifier}-${role}-${stack.account}-${stack.region}`,
      }),
    ),
  });
}
