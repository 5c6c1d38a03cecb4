/*
 * The config file contract, continued: where the customer's repositories live and how its two pipelines build
 * (the `ami` and `software` keys of a customer file). Tags as in types.ts.
 */
import type { DeploymentPolicy, DeploymentStrategy } from './types';

/**
 * Where a repository lives: an AWS CodeConnections repository (GitHub, GitLab, Bitbucket),
 * a CodeCommit repository, or a zip object in S3. Set the keys of exactly one kind.
 */
export interface RepositoryConfig {
  /**
   * ARN of the AWS CodeConnections (or CodeStar Connections) connection.
   * @pattern ^arn:aws(-[a-z]+)*:(codeconnections|codestar-connections):[a-z]{2}(-[a-z]+)+-\d:\d{12}:connection\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$
   * @expected a connection ARN, arn:aws:codeconnections:REGION:ACCOUNT:connection/UUID
   * @default - not a CodeConnections repository
   */
  readonly connectionArn?: string;
  /**
   * Owner (user, organization or group) of the CodeConnections repository.
   * @pattern ^[A-Za-z0-9][A-Za-z0-9._\/-]{0,99}$
   * @expected a repository owner such as acme
   * @default - required with connectionArn
   */
  readonly owner?: string;
  /**
   * Name of the CodeConnections repository.
   * @pattern ^[A-Za-z0-9._-]{1,100}$
   * @expected a repository name such as website
   * @default - required with connectionArn
   */
  readonly name?: string;
  /**
   * Name of the CodeCommit repository.
   * @pattern ^[A-Za-z0-9._-]{1,100}$
   * @expected a CodeCommit repository name such as acme-website
   * @default - not a CodeCommit repository
   */
  readonly codeCommitRepository?: string;
  /**
   * Bucket that receives the repository as a zip object (for example from a webhook receiver).
   * @pattern ^(?!xn--|sthree-|amzn-s3-demo-)(?!.*\.\.)(?!\d+\.\d+\.\d+\.\d+$)(?!.*(-s3alias|--ol-s3|\.mrap|--x-s3)$)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$
   * @expected an S3 bucket name such as acme-sources
   * @default - not an S3 source
   */
  readonly s3Bucket?: string;
  /**
   * Key of the zip object in `s3Bucket`.
   * @pattern ^(?=.{5,1024}$)[A-Za-z0-9_.-][A-Za-z0-9_./-]*\.zip$
   * @expected an object key ending in .zip, of letters, digits and . _ - / only (EventBridge matches it exactly), such as website/main.zip
   * @default - required with s3Bucket
   */
  readonly s3ObjectKey?: string;
  /**
   * Branch that triggers the pipeline (CodeConnections and CodeCommit).
   * @pattern ^[A-Za-z0-9._\/-]{1,255}$
   * @expected a branch name such as main
   * @default "main"
   */
  readonly branch?: string;
}

/** Base image the AMI pipeline starts from: an SSM parameter, or an AMI name filter with owners. */
export interface BaseImageConfig {
  /**
   * Public or private SSM parameter holding an AMI id.
   * @pattern ^\/[A-Za-z0-9_.\/-]{1,1010}$
   * @expected an SSM parameter name starting with /
   * @default - use amiNameFilter and amiOwners
   */
  readonly ssmParameter?: string;
  /**
   * AMI name filter (wildcards allowed). The newest match is used.
   * @pattern ^[A-Za-z0-9()\[\]. \/'@_*?-]{3,128}$
   * @expected an AMI name filter such as al2023-ami-2023.*-x86_64
   * @default - use ssmParameter
   */
  readonly amiNameFilter?: string;
  /**
   * Owners of the AMIs matched by amiNameFilter: account ids or amazon, aws-marketplace, self.
   * @minItems 1
   * @itemPattern ^(\d{12}|amazon|aws-marketplace|self)$
   * @itemExpected an account id or amazon, aws-marketplace, self
   * @default - required with amiNameFilter
   */
  readonly amiOwners?: string[];
}

/** The AMI pipeline: how the customer's image is baked with Packer. */
export interface AmiConfig {
  /**
   * Image the bake starts from.
   * @default - Amazon Linux 2023 from /aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64
   */
  readonly baseImage?: BaseImageConfig;
  /**
   * Provisioning script run by Packer, relative to the root of the infrastructure repository.
   * @pattern ^(?!\/)(?!.*(^|\/)\.\.(\/|$))[A-Za-z0-9._\/-]{1,255}$
   * @expected a path inside the repository such as packer/provision.sh
   * @default "packer/provision.sh"
   */
  readonly provisionScript?: string;
  /**
   * Infrastructure repository holding the provisioning scripts.
   * @default - the software repository
   */
  readonly repository?: RepositoryConfig;
  /**
   * Image the fleet starts on, before the pipeline's first bake.
   * @pattern ^ami-([0-9a-f]{8}|[0-9a-f]{17})$
   * @expected an AMI id such as ami-0123456789abcdef0
   * @default - the base image
   */
  readonly initialImageId?: string;
  /**
   * EC2 instance type Packer builds on.
   * @pattern ^[a-z][a-z0-9-]*\d[a-z0-9-]*\.[a-z0-9]+$
   * @expected an EC2 instance type such as t3.small
   * @default "t3.small"
   */
  readonly buildInstanceType?: string;
  /**
   * How many of the customer's images to keep. Older ones are deregistered with their snapshots.
   * @minimum 1
   * @maximum 100
   * @asType integer
   * @default 5
   */
  readonly keepImages?: number;
  /**
   * Periodic rebuild, as an EventBridge schedule expression, so base-image patches arrive without a commit; `off`
   * rebuilds on changes of the provisioning scripts and by hand only.
   * @pattern ^(off|rate\((1 (minute|hour|day)|([2-9]|[1-9]\d+) (minutes|hours|days))\)|cron\(\S+( \S+){5}\))$
   * @expected an EventBridge schedule such as rate(7 days) or cron(0 3 ? * SUN *), or off
   * @default - weekly, at a minute of the platform's rebuildWindow picked from the environment's name
   */
  readonly rebuildSchedule?: string;
  /**
   * Paths of the repository (glob patterns) whose change starts a bake, for a CodeConnections repository (CodePipeline
   * filters its pushes by file path). A CodeCommit or S3 repository cannot be filtered: a bake then starts on every
   * change of the AMI pipeline's own `repository`, and on none of the software repository's.
   * @minItems 1
   * @maxItems 8
   * @itemPattern ^(?!\/)(?!.*(^|\/)\.\.(\/|$))[A-Za-z0-9._\/*?{}\[\]!,-]{1,255}$
   * @itemExpected a path or glob pattern inside the repository such as packer/**
   * @default - the folder of provisionScript and everything under it (packer/**), or the script alone at the root
   */
  readonly triggerPaths?: string[];
}

/** When, each week, the default rebuilds of a fleet's environments start (the platform file's `rebuildWindow`). */
export interface RebuildWindowConfig {
  /**
   * Day of the week the window starts on, in UTC.
   * @pattern ^(MON|TUE|WED|THU|FRI|SAT|SUN)$
   * @expected one of MON, TUE, WED, THU, FRI, SAT, SUN
   * @default "SUN"
   */
  readonly weekDay?: string;
  /**
   * Hour the window starts at, in UTC.
   * @minimum 0
   * @maximum 23
   * @asType integer
   * @default 2
   */
  readonly startHourUtc?: number;
  /**
   * Length of the window in hours. Each environment starts its rebuild at a minute of the window picked from its name
   * (`<customer>-<environment>`), so a fleet's bakes are spread evenly over it.
   * @minimum 1
   * @maximum 168
   * @asType integer
   * @default 4
   */
  readonly hours?: number;
}

/** A custom CodeBuild image from ECR for the customer's build. */
export interface BuildImageConfig {
  /**
   * ECR repository name in the platform account.
   * @pattern ^(?=.{2,256}$)([a-z0-9]+([._-][a-z0-9]+)*\/)*[a-z0-9]+([._-][a-z0-9]+)*$
   * @expected an ECR repository name such as acme-build
   */
  readonly ecrRepository: string;
  /**
   * Image tag.
   * @pattern ^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$
   * @expected an image tag such as latest or 1.4.2
   * @default "latest"
   */
  readonly tag?: string;
}

/**
 * How CodeDeploy rolls a release over the instances: a policy, and for `rolling` the size of a batch or the instances
 * that stay in service (at most one of `batchSize`, `batchSizePercent`, `minimumHealthyHosts`,
 * `minimumHealthyPercent`); for `rolling-with-additional-batch` the size of the extra batch (`batchSize` or
 * `batchSizePercent`).
 */
export interface SoftwareDeploymentConfig {
  /**
   * The deployment policy.
   * @default "rolling"
   */
  readonly policy?: DeploymentPolicy;
  /**
   * Instances updated at a time (`rolling`): CodeDeploy keeps `compute.minCapacity` minus this many in service, so a
   * batch is this size while the group runs at its minimum and larger when it has scaled out. With
   * `rolling-with-additional-batch`: the instances launched before the deployment, and updated at a time, while as
   * many instances as ran before stay in service (at most `compute.maxCapacity`).
   * @minimum 1
   * @asType integer
   * @default - one instance at a time, when no other key of the block is set
   */
  readonly batchSize?: number;
  /**
   * Share of the instances updated at a time, in percent (`rolling`): CodeDeploy keeps 100 minus this share in
   * service (at least one instance is updated at a time). With `rolling-with-additional-batch`: the extra batch as a
   * share of the instances running when the deployment starts, rounded up (one at least).
   * @minimum 1
   * @maximum 99
   * @asType integer
   * @default - batchSize
   */
  readonly batchSizePercent?: number;
  /**
   * Instances that stay in service during a deployment (`rolling`): CodeDeploy updates the others at a time, and
   * the deployment fails when fewer than this many succeed. Less than `compute.minCapacity`.
   * @minimum 0
   * @asType integer
   * @default - batchSize
   */
  readonly minimumHealthyHosts?: number;
  /**
   * Share of the instances that stay in service during a deployment, in percent (`rolling`).
   * @minimum 0
   * @maximum 99
   * @asType integer
   * @default - batchSize
   */
  readonly minimumHealthyPercent?: number;
  /**
   * The canary's share of the requests, in percent (`traffic-splitting`): new instances beside the group's, about
   * this share of their number (one at least), get the release first.
   * @minimum 1
   * @maximum 50
   * @asType integer
   * @default 10
   */
  readonly canaryPercent?: number;
  /**
   * Minutes the deployment alarm is watched while the canary serves (`traffic-splitting`); the pipeline action's hour
   * bounds it.
   * @minimum 1
   * @maximum 10
   * @asType integer
   * @default 5
   */
  readonly evaluationMinutes?: number;
}

/** The software delivery pipeline. */
export interface SoftwareConfig {
  /** The customer's application repository, with `buildspec.yml` and `appspec.yml`. */
  readonly repository: RepositoryConfig;
  /**
   * Custom CodeBuild image from ECR.
   * @default - a current CodeBuild standard image
   */
  readonly buildImage?: BuildImageConfig;
  /**
   * How CodeDeploy rolls a release over the instances, as one of the three presets (the earlier form of
   * `deployment`: `one-at-a-time` is `rolling` with a batch of one, `all-at-once` is `all-at-once`). Not with
   * `deployment`.
   * @default "one-at-a-time"
   */
  readonly deploymentConfig?: DeploymentStrategy;
  /**
   * How CodeDeploy rolls a release over the instances: the deployment policy and its batch size. Not with
   * `deploymentConfig`.
   * @default - deploymentConfig
   */
  readonly deployment?: SoftwareDeploymentConfig;
}
