/*
 * The config file contract. These interfaces are the one source of truth: jsii turns them into
 * structs for Python and Java, and `npm run schema` turns them into the JSON Schemas under schema/
 * (the `@pattern`, `@minimum`, ... tags below become schema keywords; `@expected` is the plain-language
 * rule quoted in error messages, `@itemPattern`/`@itemExpected` apply to each item of a list). Keys are camelCase, exactly as in the YAML files.
 */

import type { LogsConfig } from './app-types';
import type { AmiConfig, SoftwareConfig } from './pipeline-types';

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

/**
 * How a release reaches the instances: the deployment policies of Elastic Beanstalk, on CodeDeploy and Auto Scaling
 * (README's "Deployment policies" says where each differs from Elastic Beanstalk's).
 */
export enum DeploymentPolicy {
  /** Every instance at once (CodeDeployDefault.AllAtOnce): the fastest, with a moment of no capacity. */
  ALL_AT_ONCE = 'all-at-once',
  /** A batch of instances at a time; the others keep serving (CodeDeploy's minimum healthy hosts). */
  ROLLING = 'rolling',
  /** Rolling, with an extra batch of instances launched first, so that capacity never drops. */
  ROLLING_WITH_ADDITIONAL_BATCH = 'rolling-with-additional-batch',
  /** The release on new instances first, which serve beside the old ones while these are updated, then leave. */
  IMMUTABLE = 'immutable',
  /** A canary share of the traffic on new instances for an evaluation period, ended on alarm, then immutable. */
  TRAFFIC_SPLITTING = 'traffic-splitting',
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
   * Engine version as a string. Recommended: the major alone ("16", "8.0", "10.11"; Aurora PostgreSQL "16"), which RDS creates at its current minor and keeps current with automatic minor upgrades. A full version must be one RDS offers and has not deprecated ("16.9", "8.0.43"); Aurora MySQL takes a full version only ("3.10.0").
   * @pattern ^\d+(\.\d+){0,2}$
   * @expected an engine version in quotes, such as "16" or "8.0"
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
   * Port the database listens on: not the engine's default (AWS Control Tower RDS_INSTANCE_NO_DEFAULT_PORTS_CHECK).
   * @minimum 1150
   * @maximum 65535
   * @asType integer
   * @default - the engine's default plus 10000: 15432 for PostgreSQL and Aurora PostgreSQL, 13306 for MySQL, MariaDB and Aurora MySQL
   */
  readonly port?: number;
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
 * The environment's health: the thresholds of its alarms and who hears of them (README, "See an environment's
 * health"). A threshold crossed puts its alarm, and the environment's health, in ALARM.
 */
export interface HealthConfig {
  /**
   * Addresses told when the environment's health changes (each confirms its subscription once).
   * @uniqueItems true
   * @itemPattern ^(?=.{6,254}$)[A-Za-z0-9!#$%&'*+\/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+\/=?^_`{|}~-]+)*@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$
   * @itemExpected an email address such as ops@example.com
   * @default []
   */
  readonly alertEmails?: string[];
  /**
   * Share of the requests answered with 5xx, by the instances or by a dedicated load balancer, above which the
   * environment is Degraded, in percent (counted from 10 requests a minute on).
   * @minimum 1
   * @maximum 100
   * @asType integer
   * @default 5
   */
  readonly http5xxPercent?: number;
  /**
   * The instances' 99th percentile response time above which the environment is in Warning, in milliseconds.
   * @minimum 10
   * @maximum 600000
   * @asType integer
   * @default 2000
   */
  readonly latencyP99Ms?: number;
  /**
   * Instances failing the load balancer's health check from which the environment is Degraded.
   * @minimum 1
   * @maximum 100
   * @asType integer
   * @default 1
   */
  readonly unhealthyHosts?: number;
  /**
   * The instances' average CPU utilization above which the environment is in Warning, in percent.
   * @minimum 10
   * @maximum 100
   * @asType integer
   * @default 85
   */
  readonly cpuPercent?: number;
  /**
   * The database's CPU utilization above which the environment is in Warning, in percent.
   * @minimum 10
   * @maximum 100
   * @asType integer
   * @default 85
   */
  readonly dbCpuPercent?: number;
  /**
   * Free storage of an RDS instance below which the environment is in Warning, in GiB (Aurora's storage grows by
   * itself: no alarm).
   * @minimum 1
   * @maximum 65536
   * @asType integer
   * @default 2
   */
  readonly dbFreeStorageGib?: number;
  /**
   * Lag of an Aurora cluster's reader behind its writer above which the environment is in Warning, in seconds
   * (a cluster with a reader only: multiAz).
   * @minimum 1
   * @maximum 3600
   * @asType integer
   * @default 30
   */
  readonly dbReplicaLagSeconds?: number;
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
   * Environment name: one the platform declares in `environments` (by default production, staging and development);
   * a production one turns on the production safeguards. The file is named `<customer>-<environment>.yaml`.
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
   * The environment's alarms, dashboard and alert addresses.
   * @default - the default thresholds, no address
   */
  readonly health?: HealthConfig;
  /**
   * Tags added to every resource of the environment (keys up to 128 characters, values up to 256, no aws: prefix).
   * @propertyNames {"pattern": "^(?![aA][wW][sS]:)[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]{1,128}$"}
   * @default {}
   */
  readonly tags?: { [key: string]: string };
  /**
   * The instances' logs in CloudWatch Logs (README, "Logs and settings").
   * @default - kept 365 days
   */
  readonly logs?: LogsConfig;
  /**
   * The application's settings, name to text value: String parameters under
   * `/vending/<customer>/<environment>/settings/<NAME>`, written to the instances' env file (README, "Logs and
   * settings"). Names are letters, digits and underscores, not starting with a digit, up to 128 characters; values
   * 1 to 4096 characters; up to 50 settings.
   * @propertyNames {"pattern": "^[A-Za-z_][A-Za-z0-9_]{0,127}$", "expected": "a name of letters, digits or underscores, not starting with a digit, up to 128 characters, such as API_URL"}
   * @default {}
   */
  readonly settings?: { [key: string]: string };
  /**
   * Names of the application's secrets: SecureString parameters under
   * `/vending/<customer>/<environment>/secrets/<NAME>`, encrypted with the platform key, whose values the platform
   * team puts (README, "Logs and settings"); written to the instances' env file with the settings. Up to 20, none
   * also a setting.
   * @uniqueItems true
   * @itemPattern ^[A-Za-z_][A-Za-z0-9_]{0,127}$
   * @itemExpected a name of letters, digits or underscores, not starting with a digit, up to 128 characters, such as API_URL
   * @default []
   */
  readonly secrets?: string[];
}

export * from './app-types';
export * from './pipeline-types';
export * from './platform-types';
export * from './quota-types';
