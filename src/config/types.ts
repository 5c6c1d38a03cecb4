/*
 * The config file contract. These interfaces are the one source of truth: jsii turns them into
 * structs for Python and Java, and `npm run schema` turns them into the JSON Schemas under schema/
 * (the `@pattern`, `@minimum`, ... tags below become schema keywords; `@expected` is the plain-language
 * rule quoted in error messages, `@itemPattern`/`@itemExpected` apply to each item of a list). Keys are camelCase, exactly as in the YAML files.
 */

/** Database engines a customer environment can run. */
export enum DatabaseEngine {
  /** Amazon RDS for PostgreSQL. */
  POSTGRES = 'postgres',
  /** Amazon RDS for MySQL. */
  MYSQL = 'mysql',
  /** Amazon RDS for MariaDB. */
  MARIADB = 'mariadb',
  /** Amazon Aurora PostgreSQL-Compatible Edition (a cluster). */
  AURORA_POSTGRESQL = 'aurora-postgresql',
  /** Amazon Aurora MySQL-Compatible Edition (a cluster). */
  AURORA_MYSQL = 'aurora-mysql',
}

/** How many instances CodeDeploy updates at a time. */
export enum DeploymentStrategy {
  /** One instance at a time (CodeDeployDefault.OneAtATime). */
  ONE_AT_A_TIME = 'one-at-a-time',
  /** Half of the instances at a time (CodeDeployDefault.HalfAtATime). */
  HALF_AT_A_TIME = 'half-at-a-time',
  /** All instances at once (CodeDeployDefault.AllAtOnce). */
  ALL_AT_ONCE = 'all-at-once',
}

/** A customer's own domain, served by a dedicated load balancer in production. */
export interface CustomDomainConfig {
  /**
   * The host name the customer's visitors use.
   * @pattern ^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$
   * @expected a lower-case DNS name such as www.example.com
   */
  readonly name: string;
  /**
   * ARN of the ACM certificate for `name`, in the platform's region and account.
   * @pattern ^arn:aws(-[a-z]+)*:acm:[a-z]{2}(-[a-z]+)+-\d:\d{12}:certificate\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$
   * @expected an ACM certificate ARN, arn:aws:acm:REGION:ACCOUNT:certificate/UUID
   */
  readonly certificateArn: string;
}

/** Instances and scaling of the customer's web tier. */
export interface ComputeConfig {
  /**
   * EC2 instance type of the web servers.
   * @pattern ^[a-z][a-z0-9-]*\d[a-z0-9-]*\.[a-z0-9]+$
   * @expected an EC2 instance type such as t3.small
   * @default "t3.small"
   */
  readonly instanceType?: string;
  /**
   * Fewest instances in service. Production environments need at least 2, spread over AZs.
   * @minimum 0
   * @maximum 100
   * @asType integer
   * @default - 2 in production, 1 elsewhere
   */
  readonly minCapacity?: number;
  /**
   * Most instances in service.
   * @minimum 1
   * @maximum 100
   * @asType integer
   * @default - the larger of minCapacity and 4
   */
  readonly maxCapacity?: number;
  /**
   * Average CPU utilization the scaling policy keeps the group at, in percent.
   * @minimum 10
   * @maximum 90
   * @asType integer
   * @default 60
   */
  readonly targetCpuPercent?: number;
  /**
   * Also scale on load balancer requests per instance per minute.
   * @minimum 1
   * @maximum 1000000
   * @asType integer
   * @default - no request-based scaling
   */
  readonly targetRequestsPerInstance?: number;
  /**
   * Size of the encrypted gp3 root volume, in GiB.
   * @minimum 8
   * @maximum 16384
   * @asType integer
   * @default 20
   */
  readonly rootVolumeGib?: number;
}

/** The load balancer's health check of the customer's instances. */
export interface HealthCheckConfig {
  /**
   * Path the load balancer requests.
   * @pattern ^\/[A-Za-z0-9\-._~!$&'()*+,;=:@%\/?]{0,1023}$
   * @expected an absolute URL path such as /health
   * @default "/"
   */
  readonly path?: string;
  /**
   * HTTP codes that mean healthy: a code, a range or a comma-separated list, within 200-499.
   * @pattern ^[2-4]\d\d(-[2-4]\d\d)?(,[2-4]\d\d(-[2-4]\d\d)?)*$
   * @expected HTTP codes such as 200, 200-399 or 200,302
   * @default "200-399"
   */
  readonly healthyHttpCodes?: string;
  /**
   * Seconds between two checks.
   * @minimum 5
   * @maximum 300
   * @asType integer
   * @default 30
   */
  readonly intervalSeconds?: number;
  /**
   * Seconds without an answer that make a check fail. Less than intervalSeconds.
   * @minimum 2
   * @maximum 120
   * @asType integer
   * @default 5
   */
  readonly timeoutSeconds?: number;
  /**
   * Consecutive successes before an instance is healthy.
   * @minimum 2
   * @maximum 10
   * @asType integer
   * @default 2
   */
  readonly healthyThreshold?: number;
  /**
   * Consecutive failures before an instance is unhealthy.
   * @minimum 2
   * @maximum 10
   * @asType integer
   * @default 3
   */
  readonly unhealthyThreshold?: number;
}

/** The customer's dedicated database. */
export interface DatabaseConfig {
  /** Database engine. */
  readonly engine: DatabaseEngine;
  /**
   * Engine version as a string: a major or full version for PostgreSQL ("16", "16.4"), a full one for MySQL, MariaDB and Aurora MySQL ("8.0.43", "10.11.9", "3.08.0").
   * @pattern ^\d+(\.\d+){0,2}$
   * @expected an engine version in quotes, such as "16" or "8.0.39"
   */
  readonly version: string;
  /**
   * Instance class without the `db.` prefix.
   * @pattern ^[a-z][a-z0-9-]*(\.[a-z0-9-]+)+$
   * @expected an instance class without the db. prefix, such as t4g.medium
   * @default "t4g.medium"
   */
  readonly instanceType?: string;
  /**
   * Master user name (up to 16 characters for MySQL and MariaDB, 63 for PostgreSQL). The password is generated and kept in Secrets Manager.
   * @pattern ^[A-Za-z][A-Za-z0-9_]{0,62}$
   * @expected letters, digits or underscores, starting with a letter
   * @default "app_admin"
   */
  readonly masterUsername?: string;
  /**
   * DB instance or cluster identifier.
   * @pattern ^(?!.*--)[a-z][a-z0-9-]{0,62}(?<!-)$
   * @expected 1 to 63 lower-case letters, digits or hyphens, starting with a letter, without -- and not ending with -
   * @default - "<customer>-<environment>"
   */
  readonly clusterName?: string;
  /**
   * Days automated backups are kept.
   * @minimum 1
   * @maximum 35
   * @asType integer
   * @default 7
   */
  readonly backupRetentionDays?: number;
  /**
   * Daily backup window in UTC, hh:mm-hh:mm, at least 30 minutes.
   * @pattern ^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$
   * @expected a UTC window hh:mm-hh:mm such as 02:00-03:00
   * @default - a window chosen by RDS
   */
  readonly preferredBackupWindow?: string;
  /**
   * Run a standby (or an Aurora reader) in a second Availability Zone.
   * @default - true in production, false elsewhere
   */
  readonly multiAz?: boolean;
  /**
   * Extra security groups attached to the database.
   * @uniqueItems true
   * @itemPattern ^sg-([0-9a-f]{8}|[0-9a-f]{17})$
   * @itemExpected a security group id such as sg-0123456789abcdef0
   * @default []
   */
  readonly securityGroupIds?: string[];
}

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
   * Periodic rebuild, as an EventBridge schedule expression, so base-image patches arrive without a commit.
   * @pattern ^(rate\((1 (minute|hour|day)|([2-9]|[1-9]\d+) (minutes|hours|days))\)|cron\(\S+( \S+){5}\))$
   * @expected an EventBridge schedule such as rate(7 days) or cron(0 3 ? * SUN *)
   * @default - rebuild on commits only
   */
  readonly rebuildSchedule?: string;
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
   * How CodeDeploy rolls a release over the instances.
   * @default "one-at-a-time"
   */
  readonly deploymentConfig?: DeploymentStrategy;
}

/**
 * One customer environment: the content of `customers/<customer>-<environment>.yaml`.
 */
export interface CustomerConfig {
  /**
   * Customer name. Part of every resource name.
   * @pattern ^(?!.*--)[a-z][a-z0-9-]{1,30}[a-z0-9]$
   * @expected 3 to 32 lower-case letters, digits or hyphens, starting with a letter, without -- and not ending with -
   */
  readonly customer: string;
  /**
   * Environment name. "production" turns on the production safeguards.
   * @pattern ^[a-z][a-z0-9]{1,15}$
   * @expected 2 to 16 lower-case letters or digits, starting with a letter, such as production or staging
   */
  readonly environment: string;
  /**
   * Host name served on the shared load balancer.
   * @pattern ^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$
   * @expected a lower-case DNS name such as acme.apps.example.com
   * @default - "<customer>-<environment>.<platform domain>"
   */
  readonly hostname?: string;
  /**
   * The customer's own domain and certificate.
   * @default - no custom domain
   */
  readonly customDomain?: CustomDomainConfig;
  /**
   * Who approves releases. At least one address in production.
   * @uniqueItems true
   * @itemPattern ^(?=.{6,254}$)[A-Za-z0-9!#$%&'*+\/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+\/=?^_`{|}~-]+)*@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$
   * @itemExpected an email address such as ops@example.com
   * @default []
   */
  readonly approvalEmails?: string[];
  /**
   * Instances and scaling.
   * @default - t3.small, 2 to 4 instances in production, 1 to 4 elsewhere, 60% CPU
   */
  readonly compute?: ComputeConfig;
  /**
   * Load balancer health check.
   * @default - GET / every 30 seconds, 200-399 healthy
   */
  readonly healthCheck?: HealthCheckConfig;
  /**
   * Dedicated database.
   * @default - no database
   */
  readonly database?: DatabaseConfig;
  /**
   * AMI pipeline.
   * @default - Amazon Linux 2023 provisioned by packer/provision.sh of the software repository
   */
  readonly ami?: AmiConfig;
  /**
   * Software delivery pipeline. Written `software` in config files (a struct property cannot be
   * named `software` in Java, where it would hide the `software.amazon` packages).
   * @configKey software
   */
  readonly softwareDelivery: SoftwareConfig;
  /**
   * Tags added to every resource of the environment (keys up to 128 characters, values up to 256, no aws: prefix).
   * @propertyNames {"pattern": "^(?![aA][wW][sS]:)[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]{1,128}$"}
   * @default {}
   */
  readonly tags?: { [key: string]: string };
}

/** The platform's network. */
export interface VpcConfig {
  /**
   * IPv4 range of the VPC, between /16 and /20.
   * @pattern ^((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\/(1[6-9]|20)$
   * @expected an IPv4 CIDR from /16 to /20 such as 10.10.0.0/16
   * @default "10.10.0.0/16"
   */
  readonly cidr?: string;
  /**
   * Availability Zones used: at least 2 (a load balancer and a database subnet group need two).
   * @minimum 1
   * @maximum 6
   * @asType integer
   * @default 3
   */
  readonly maxAzs?: number;
  /**
   * NAT instances (cheaper) instead of NAT gateways.
   * @default true
   */
  readonly natInstances?: boolean;
  /**
   * The Availability Zones by name, in the platform's region. Without them the AWS CDK CLI looks them up in the
   * account at synth time (credentials needed, kept in cdk.context.json), and `paas-vending synth` alone writes
   * placeholders. With them, `maxAzs` is their number.
   * @minItems 2
   * @maxItems 6
   * @uniqueItems true
   * @itemPattern ^[a-z]{2}(-[a-z]+)+-\d[a-z]$
   * @itemExpected an Availability Zone name such as eu-west-1a
   * @default - looked up in the account
   */
  readonly availabilityZones?: string[];
}

/** The platform: the content of `platform.yaml`. */
export interface PlatformConfig {
  /**
   * Platform name. Prefix of the platform's resources.
   * @pattern ^(?!.*--)[a-z][a-z0-9-]{1,30}[a-z0-9]$
   * @expected 3 to 32 lower-case letters, digits or hyphens, starting with a letter, without -- and not ending with -
   */
  readonly name: string;
  /**
   * Platform environment. "production" turns on deletion protection of shared resources.
   * @pattern ^[a-z][a-z0-9]{1,15}$
   * @expected 2 to 16 lower-case letters or digits, starting with a letter
   */
  readonly environment: string;
  /**
   * AWS region of the platform and its customers.
   * @pattern ^[a-z]{2}(-[a-z]+)+-\d$
   * @expected an AWS region such as eu-west-1
   */
  readonly region: string;
  /**
   * AWS account id, in quotes.
   * @pattern ^\d{12}$
   * @expected a 12-digit account id in quotes, such as "123456789012"
   */
  readonly account: string;
  /**
   * Domain under which customers get a default host name.
   * @pattern ^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$
   * @expected a lower-case DNS name such as apps.example.com
   */
  readonly domain: string;
  /**
   * ARN of the wildcard ACM certificate for `*.<domain>`, used by the shared load balancer.
   * @pattern ^arn:aws(-[a-z]+)*:acm:[a-z]{2}(-[a-z]+)+-\d:\d{12}:certificate\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$
   * @expected an ACM certificate ARN, arn:aws:acm:REGION:ACCOUNT:certificate/UUID
   */
  readonly certificateArn: string;
  /**
   * Network.
   * @default - 10.10.0.0/16 over 3 AZs with NAT instances
   */
  readonly vpc?: VpcConfig;
  /**
   * How many shared load balancers the platform may have. One holds at most 100 customer environments (100
   * target groups is a hard AWS limit); above that, new environments go to another one, and no environment
   * ever moves (`placement.yaml` in the fleet directory records where each is). 1 makes a fleet of more than
   * 100 shared environments an error instead.
   * @minimum 1
   * @maximum 20
   * @asType integer
   * @default 10
   */
  readonly maxSharedLoadBalancers?: number;
}

/** A platform with all its customer environments, as loaded from a fleet directory. */
export interface FleetConfig {
  /** Directory the fleet was loaded from. */
  readonly directory: string;
  /** The platform (`platform.yaml`). */
  readonly platform: PlatformConfig;
  /** Customer environments (`customers/*.yaml`), in file name order, with defaults applied. */
  readonly customers: CustomerConfig[];
}
