import { Token } from 'aws-cdk-lib';
import * as codecommit from 'aws-cdk-lib/aws-codecommit';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as actions from 'aws-cdk-lib/aws-codepipeline-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { describeValue } from '../config/errors';
import { RepositoryConfig } from '../config/types';

/** A repository on GitHub, GitLab or Bitbucket, reached through an AWS CodeConnections connection. */
export interface CodeConnectionsSourceProps {
  /** ARN of the connection (`arn:aws:codeconnections:…` or `arn:aws:codestar-connections:…`). */
  readonly connectionArn: string;
  /** Owner of the repository: user, organization or group. */
  readonly owner: string;
  /** Name of the repository. */
  readonly repository: string;
  /**
   * Branch that triggers the pipeline.
   * @default "main"
   */
  readonly branch?: string;
  /**
   * Hand CodeBuild a full Git clone instead of a zip of the files, so that the build can read the history
   * (the CodeBuild role then needs, and gets, the right to use the connection).
   * @default false
   */
  readonly fullClone?: boolean;
}

/** An AWS CodeCommit repository. */
export interface CodeCommitSourceProps {
  /** The repository. */
  readonly repository: codecommit.IRepository;
  /**
   * Branch that triggers the pipeline.
   * @default "main"
   */
  readonly branch?: string;
  /**
   * Hand CodeBuild a full Git clone instead of a zip of the files, so that the build can read the history
   * (the CodeBuild role then gets `codecommit:GitPull` on the repository).
   * @default false
   */
  readonly fullClone?: boolean;
}

/**
 * A zip object in S3, for example dropped there by a webhook receiver. The bucket must be versioned (CodePipeline
 * reads a version) and send its events to Amazon EventBridge: the pipeline starts on `Object Created` events of
 * the key, without CloudTrail.
 */
export interface S3ObjectSourceProps {
  /** The bucket, versioned and with EventBridge notifications turned on. */
  readonly bucket: s3.IBucket;
  /** Key of the zip object, such as `website/main.zip`. */
  readonly objectKey: string;
}

/** Where and how a pipeline adds a source action. */
export interface PipelineSourceBindOptions {
  /** The pipeline; an S3 source adds the EventBridge rule that starts it. */
  readonly pipeline: codepipeline.IPipeline;
  /** Artifact the action writes. */
  readonly output: codepipeline.Artifact;
  /**
   * Name of the action in the Source stage.
   * @default "Source"
   */
  readonly actionName?: string;
  /**
   * Whether a change of the source starts the pipeline: a push to the branch, or a new version of the S3 object.
   * Without it the pipeline starts only on a schedule of its own or by hand.
   * @default true
   */
  readonly startOnChange?: boolean;
  /**
   * Paths of the repository (glob patterns, at most 8) a push must touch to start the pipeline: a CodePipeline V2
   * trigger with a file-path filter on the branch. CodePipeline filters by file path for CodeConnections sources
   * only; any other kind refuses this option. The pipeline must then be a `codepipeline.Pipeline` of type V2.
   * @default - any push to the branch starts the pipeline
   */
  readonly filePaths?: string[];
  /**
   * The role EventBridge starts the pipeline with, when a rule does (a CodeCommit push, a new S3 object), e.g. the
   * platform's `serviceRoles.pipelineEventsRole`.
   * @default - a role of the rule's own
   */
  readonly eventsRole?: iam.IRole;
}

/**
 * A source action added to a pipeline, with what the later stages may quote about the revision: CodePipeline
 * variable expressions such as `#{Source.CommitId}`, resolved for each execution.
 */
export interface PipelineSourceAction {
  /** The action, to add to the pipeline's Source stage. */
  readonly action: codepipeline.IAction;
  /** The revision: a commit id, or the S3 object's version id. */
  readonly revision: string;
  /** The commit message, or the S3 object's ETag for an S3 source (which has no commit). */
  readonly message: string;
  /** Where the revision comes from, for people: `acme/website@main (CodeConnections)`. */
  readonly description: string;
  /**
   * What a CodeBuild project that reads the action's output needs besides the permissions aws-cdk-lib's
   * CodeBuildAction grants: for a full clone through a connection whose ARN has the `codeconnections` prefix,
   * `codeconnections:UseConnection` (IAM matches the action's prefix with the resource's).
   * @default - nothing more
   */
  readonly buildStatements?: iam.PolicyStatement[];
}

const BRANCH = /^[A-Za-z0-9._/-]{1,255}$/;
const OWNER = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,99}$/;
const REPOSITORY = /^[A-Za-z0-9._-]{1,100}$/;
const CONNECTION_ARN =
  /^arn:aws(-[a-z]+)*:(codeconnections|codestar-connections):[a-z]{2}(-[a-z]+)+-\d:\d{12}:connection\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/**
 * Characters that read the same URL-encoded or not: the pipeline starts on an EventBridge rule that matches the key
 * exactly, and a key with spaces or other characters S3 encodes in events would never match.
 */
const OBJECT_KEY = /^(?=.{5,1024}$)[A-Za-z0-9_.-][A-Za-z0-9_./-]*\.zip$/;

function check(where: string, prop: string, value: string, rule: RegExp, expected: string): void {
  if (Token.isUnresolved(value) || rule.test(value)) return;
  throw new Error(`${where}: ${prop}: received ${describeValue(value)}; expected ${expected}`);
}

/**
 * Where a pipeline's revisions come from: the customer's software repository or infrastructure repository.
 * Both pipelines of an environment use this one abstraction.
 *
 * @example
 * const source = PipelineSource.codeConnections({
 *   connectionArn: 'arn:aws:codeconnections:eu-west-1:123456789012:connection/0a1b2c3d-4e5f-6789-abcd-ef0123456789',
 *   owner: 'acme',
 *   repository: 'website',
 * });
 */
export abstract class PipelineSource {
  /** A GitHub, GitLab or Bitbucket repository through an AWS CodeConnections connection. */
  public static codeConnections(props: CodeConnectionsSourceProps): PipelineSource {
    const where = 'PipelineSource.codeConnections';
    check(
      where,
      'connectionArn',
      props.connectionArn,
      CONNECTION_ARN,
      'a connection ARN, arn:aws:codeconnections:REGION:ACCOUNT:connection/UUID',
    );
    check(where, 'owner', props.owner, OWNER, 'a repository owner such as acme');
    check(where, 'repository', props.repository, REPOSITORY, 'a repository name such as website');
    const branch = props.branch ?? 'main';
    check(where, 'branch', branch, BRANCH, 'a branch name such as main');
    return new CodeConnectionsSource({ ...props, branch });
  }

  /** An AWS CodeCommit repository. */
  public static codeCommit(props: CodeCommitSourceProps): PipelineSource {
    const branch = props.branch ?? 'main';
    check('PipelineSource.codeCommit', 'branch', branch, BRANCH, 'a branch name such as main');
    return new CodeCommitSource((_scope) => props.repository, branch, props.fullClone ?? false);
  }

  /** A zip object in a versioned S3 bucket that sends its events to EventBridge. */
  public static s3Object(props: S3ObjectSourceProps): PipelineSource {
    check(
      'PipelineSource.s3Object',
      'objectKey',
      props.objectKey,
      OBJECT_KEY,
      'an object key ending in .zip, of letters, digits and . _ - / only (EventBridge matches it exactly), such as website/main.zip',
    );
    return new S3ObjectSource((_scope) => props.bucket, props.objectKey);
  }

  /**
   * The source a config file's `repository` describes: `connectionArn` with `owner` and `name`, or
   * `codeCommitRepository`, or `s3Bucket` with `s3ObjectKey`. The CodeCommit repository and the bucket are
   * imported by name where the pipeline is.
   */
  public static fromConfig(repository: RepositoryConfig): PipelineSource {
    const expected =
      'one kind of source: connectionArn with owner and name, codeCommitRepository, or s3Bucket with s3ObjectKey';
    const kinds = (['connectionArn', 'codeCommitRepository', 's3Bucket'] as const).filter(
      (kind) => repository[kind] !== undefined,
    );
    if (kinds.length === 0) {
      throw new Error(
        `PipelineSource.fromConfig: repository: received ${describeValue(repository)}; expected ${expected}`,
      );
    }
    if (kinds.length > 1) {
      throw new Error(`PipelineSource.fromConfig: repository: received ${kinds.join(' and ')}; expected ${expected}`);
    }
    if (repository.connectionArn !== undefined) {
      return PipelineSource.codeConnections({
        connectionArn: repository.connectionArn,
        owner: required(repository.owner, 'owner', 'connectionArn'),
        repository: required(repository.name, 'name', 'connectionArn'),
        branch: repository.branch,
      });
    }
    if (repository.codeCommitRepository !== undefined) {
      const name = repository.codeCommitRepository;
      check(
        'PipelineSource.fromConfig',
        'codeCommitRepository',
        name,
        REPOSITORY,
        'a CodeCommit repository name such as acme-website',
      );
      const branch = repository.branch ?? 'main';
      check('PipelineSource.fromConfig', 'branch', branch, BRANCH, 'a branch name such as main');
      return new CodeCommitSource(
        (scope) => codecommit.Repository.fromRepositoryName(scope, 'SourceRepository', name),
        branch,
        false,
      );
    }
    const bucketName = repository.s3Bucket!;
    const key = required(repository.s3ObjectKey, 's3ObjectKey', 's3Bucket');
    check(
      'PipelineSource.fromConfig',
      's3ObjectKey',
      key,
      OBJECT_KEY,
      'an object key ending in .zip, of letters, digits and . _ - / only (EventBridge matches it exactly), such as website/main.zip',
    );
    return new S3ObjectSource((scope) => s3.Bucket.fromBucketName(scope, 'SourceBucket', bucketName), key);
  }

  /** What kind of source this is: `codeconnections`, `codecommit` or `s3`. */
  public abstract readonly kind: string;

  /** Whether CodePipeline can start on pushes that touch given paths only (`filePaths` of the bind options). */
  public get filtersFilePaths(): boolean {
    return this.kind === 'codeconnections';
  }

  /**
   * Creates the source action (and, for an S3 object, the EventBridge rule that starts the pipeline).
   * @param scope where imports and the rule are created: the pipeline's construct
   */
  public abstract bind(scope: Construct, options: PipelineSourceBindOptions): PipelineSourceAction;
}

function required(value: string | undefined, prop: string, withProp: string): string {
  if (value === undefined) {
    throw new Error(
      `PipelineSource.fromConfig: repository.${prop}: received nothing; expected ${prop} with ${withProp}`,
    );
  }
  return value;
}

/** CodePipeline's limit of file-path patterns in one push filter. */
const MAX_FILE_PATHS = 8;

function refuseFilePaths(kind: string, options: PipelineSourceBindOptions): void {
  if (options.filePaths === undefined) return;
  throw new Error(
    `PipelineSource.${kind}: filePaths: received ${describeValue(options.filePaths)}; expected none (CodePipeline ` +
      'filters pushes by file path for CodeConnections sources only): start on every change, or on none (startOnChange: false)',
  );
}

/**
 * A V2 trigger on pushes to the branch that touch one of the paths. CodePipeline turns the action's own change
 * detection off when a trigger names it, so other pushes start nothing.
 */
function addFilePathTrigger(
  options: PipelineSourceBindOptions,
  action: codepipeline.IAction,
  branch: string,
  filePaths: string[],
): void {
  const where = 'PipelineSource.codeConnections';
  if (filePaths.length < 1 || filePaths.length > MAX_FILE_PATHS) {
    throw new Error(
      `${where}: filePaths: received ${filePaths.length} paths; expected 1 to ${MAX_FILE_PATHS} (CodePipeline's limit of a push filter)`,
    );
  }
  const pipeline = options.pipeline;
  if (!(pipeline instanceof codepipeline.Pipeline)) {
    throw new Error(
      `${where}: filePaths: received an imported pipeline; expected a codepipeline.Pipeline of type V2 (file-path triggers are part of its definition)`,
    );
  }
  pipeline.addTrigger({
    providerType: codepipeline.ProviderType.CODE_STAR_SOURCE_CONNECTION,
    gitConfiguration: {
      sourceAction: action,
      pushFilter: [{ branchesIncludes: [branch], filePathsIncludes: filePaths }],
    },
  });
}

/** IAM matches a connection's ARN prefix with the action's: `codeconnections:` for `arn:…:codeconnections:…`. */
function connectionActions(connectionArn: string): string[] {
  if (Token.isUnresolved(connectionArn)) return ['codeconnections:UseConnection', 'codestar-connections:UseConnection'];
  return connectionArn.split(':')[2] === 'codeconnections' ? ['codeconnections:UseConnection'] : [];
}

/**
 * aws-cdk-lib's CodeConnections source action grants `codestar-connections:UseConnection` only, which IAM does not
 * apply to a connection with a `codeconnections` ARN (every connection created since July 2024): this one adds the
 * action of the new prefix to the action's role.
 */
class ConnectionSourceAction extends actions.CodeStarConnectionsSourceAction {
  constructor(private readonly connection: actions.CodeStarConnectionsSourceActionProps) {
    super(connection);
  }

  protected bound(
    scope: Construct,
    stage: codepipeline.IStage,
    options: codepipeline.ActionBindOptions,
  ): codepipeline.ActionConfig {
    const config = super.bound(scope, stage, options);
    const extra = connectionActions(this.connection.connectionArn).filter((a) => a.startsWith('codeconnections:'));
    if (extra.length > 0) {
      options.role.addToPrincipalPolicy(
        new iam.PolicyStatement({ actions: extra, resources: [this.connection.connectionArn] }),
      );
    }
    return config;
  }
}

class CodeConnectionsSource extends PipelineSource {
  public readonly kind = 'codeconnections';
  constructor(private readonly props: CodeConnectionsSourceProps & { readonly branch: string }) {
    super();
  }

  public bind(_scope: Construct, options: PipelineSourceBindOptions): PipelineSourceAction {
    const fullClone = this.props.fullClone ?? false;
    const startOnChange = options.startOnChange ?? true;
    const filePaths = options.filePaths;
    const action = new ConnectionSourceAction({
      actionName: options.actionName ?? 'Source',
      connectionArn: this.props.connectionArn,
      owner: this.props.owner,
      repo: this.props.repository,
      branch: this.props.branch,
      output: options.output,
      codeBuildCloneOutput: fullClone,
      triggerOnPush: startOnChange,
    });
    if (startOnChange && filePaths !== undefined) addFilePathTrigger(options, action, this.props.branch, filePaths);
    const cloneActions = connectionActions(this.props.connectionArn).filter((a) => a.startsWith('codeconnections:'));
    return {
      action,
      revision: action.variables.commitId,
      message: action.variables.commitMessage,
      description: `${this.props.owner}/${this.props.repository}@${this.props.branch} (CodeConnections)`,
      buildStatements:
        fullClone && cloneActions.length > 0
          ? [new iam.PolicyStatement({ actions: cloneActions, resources: [this.props.connectionArn] })]
          : undefined,
    };
  }
}

class CodeCommitSource extends PipelineSource {
  public readonly kind = 'codecommit';
  constructor(
    private readonly repository: (scope: Construct) => codecommit.IRepository,
    private readonly branch: string,
    private readonly fullClone: boolean,
  ) {
    super();
  }

  public bind(scope: Construct, options: PipelineSourceBindOptions): PipelineSourceAction {
    refuseFilePaths('codeCommit', options);
    const repository = this.repository(scope);
    const action = new actions.CodeCommitSourceAction({
      actionName: options.actionName ?? 'Source',
      repository,
      branch: this.branch,
      output: options.output,
      trigger: (options.startOnChange ?? true) ? actions.CodeCommitTrigger.EVENTS : actions.CodeCommitTrigger.NONE,
      eventRole: options.eventsRole,
      codeBuildCloneOutput: this.fullClone,
    });
    return {
      action,
      revision: action.variables.commitId,
      message: action.variables.commitMessage,
      description: `${repository.repositoryName}@${this.branch} (CodeCommit)`,
    };
  }
}

class S3ObjectSource extends PipelineSource {
  public readonly kind = 's3';
  constructor(
    private readonly bucket: (scope: Construct) => s3.IBucket,
    private readonly objectKey: string,
  ) {
    super();
  }

  public bind(scope: Construct, options: PipelineSourceBindOptions): PipelineSourceAction {
    refuseFilePaths('s3Object', options);
    const bucket = this.bucket(scope);
    const action = new actions.S3SourceAction({
      actionName: options.actionName ?? 'Source',
      bucket,
      bucketKey: this.objectKey,
      output: options.output,
      // EventBridge notifications of the bucket start the pipeline (below): no CloudTrail trail needed.
      trigger: actions.S3Trigger.NONE,
    });
    if (options.startOnChange ?? true) {
      new events.Rule(scope, 'SourceObjectCreated', {
        description: `Starts the pipeline when s3://${bucket.bucketName}/${this.objectKey} is written`,
        eventPattern: {
          source: ['aws.s3'],
          detailType: ['Object Created'],
          detail: { bucket: { name: [bucket.bucketName] }, object: { key: [this.objectKey] } },
        },
        targets: [new targets.CodePipeline(options.pipeline, { eventRole: options.eventsRole })],
      });
    }
    return {
      action,
      revision: action.variables.versionId,
      message: action.variables.eTag,
      description: `s3://${bucket.bucketName}/${this.objectKey} (S3)`,
    };
  }
}
