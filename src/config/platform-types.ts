/*
 * The config file contract, continued: the platform file (`platform.yaml`) and the fleet it reads with the
 * customer files. Tags as in types.ts.
 */
import type { RebuildWindowConfig, RepositoryConfig } from './pipeline-types';
import type { AccountQuotas } from './quota-types';
import type { CustomerConfig } from './types';

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
   * NAT instances (cheaper, but yours to patch) instead of NAT gateways (managed by AWS). NAT instances need
   * `natInstanceImageId`. Switching a running platform from one to the other replaces its NAT: egress of the private
   * subnets stops for the minutes the update takes.
   * @default false
   */
  readonly natInstances?: boolean;
  /**
   * The AMI of the NAT instances, pinned: required with `natInstances: true`. An arm64 Amazon Linux 2023 image for
   * the default t4g.nano. Changing it replaces the NAT instances (one platform deploy).
   * @pattern ^ami-([0-9a-f]{8}|[0-9a-f]{17})$
   * @expected an AMI id such as ami-0123456789abcdef0
   * @default - none: NAT gateways need no image
   */
  readonly natInstanceImageId?: string;
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

/** An environment the platform offers its customers, such as production or staging. */
export interface EnvironmentConfig {
  /**
   * Environment name: the `environment` of customer files, and the end of their file names.
   * @pattern ^[a-z][a-z0-9]{1,15}$
   * @expected 2 to 16 lower-case letters or digits, starting with a letter, such as production or staging
   */
  readonly name: string;
  /**
   * Whether environments of this name get the production safeguards: approvals, at least 2 instances, a multi-AZ
   * database with deletion protection, retained data, a load balancer of their own for a custom domain.
   * @default false
   */
  readonly production?: boolean;
}

/** The platform's own health and the fleet overview (README, "See an environment's health"). */
export interface PlatformHealthConfig {
  /**
   * Addresses told when the platform's health changes: its NAT, the listener-rule allocator, the shared load
   * balancers (each confirms its subscription once).
   * @uniqueItems true
   * @itemPattern ^(?=.{6,254}$)[A-Za-z0-9!#$%&'*+\/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+\/=?^_`{|}~-]+)*@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$
   * @itemExpected an email address such as ops@example.com
   * @default []
   */
  readonly alertEmails?: string[];
}

/**
 * The fleet's own pipeline (README, "Deploy the fleet"): a CodePipeline in the platform's account that validates,
 * synthesizes and deploys this fleet directory from its repository on every push, the platform first, then the
 * changed customer environments, non-production before production, production after a manual approval.
 */
export interface FleetPipelineConfig {
  /** The fleet repository: the one that holds this platform.yaml, `customers/` and the lock file. */
  readonly repository: RepositoryConfig;
  /**
   * Where this fleet directory is in the repository, relative to its root.
   * @pattern ^(\.|(?!\.\.?(\/|$))[A-Za-z0-9_.-]+(\/(?!\.\.?(\/|$))[A-Za-z0-9_.-]+)*)$
   * @expected a relative path of letters, digits and . _ - separated by /, without . or .. parts, such as fleet, or . for the root
   * @default "."
   */
  readonly directory?: string;
  /**
   * Stacks deployed at the same time in each wave (platform, non-production, production). One build deploys a wave;
   * docs/FLEET-DEPLOY-QUOTAS.md explains the default and the bounds.
   * @minimum 1
   * @maximum 50
   * @asType integer
   * @default 20
   */
  readonly concurrency?: number;
  /**
   * Addresses asked to approve the production wave (each confirms its subscription once). Without them, the approval
   * waits in the CodePipeline console.
   * @uniqueItems true
   * @itemPattern ^(?=.{6,254}$)[A-Za-z0-9!#$%&'*+\/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+\/=?^_`{|}~-]+)*@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$
   * @itemExpected an email address such as ops@example.com
   * @default []
   */
  readonly approvalEmails?: string[];
  /**
   * The qualifier of the account's CDK bootstrap (`cdk bootstrap --qualifier`): the pipeline's builds assume its
   * roles, `cdk-<qualifier>-deploy-role-<account>-<region>` and the others.
   * @pattern ^[A-Za-z0-9_-]{1,10}$
   * @expected 1 to 10 letters, digits, _ or -, such as hnb659fds (CDK's default)
   * @default "hnb659fds"
   */
  readonly bootstrapQualifier?: string;
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
   * Platform environment, one of `environments`. A production one turns on deletion protection of shared resources.
   * @pattern ^[a-z][a-z0-9]{1,15}$
   * @expected 2 to 16 lower-case letters or digits, starting with a letter
   */
  readonly environment: string;
  /**
   * The environments customer files may name, each once, and which of them are production. A customer file of
   * another environment is an error.
   * @minItems 1
   * @maxItems 20
   * @default - production (production: true), staging and development
   */
  readonly environments?: EnvironmentConfig[];
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
  /**
   * The AWS quotas of the account and region, where raised: `paas-vending validate` and `synth` total the
   * fleet's use of each and fail before deploy when one would be exceeded.
   * @default - AWS's default quotas
   */
  readonly quotas?: AccountQuotas;
  /**
   * The weekly window in which the environments' default rebuilds start (customer files without their own
   * `ami.rebuildSchedule`), spread over it by each environment's name.
   * @default - Sundays from 02:00 to 06:00 UTC
   */
  readonly rebuildWindow?: RebuildWindowConfig;
  /**
   * The platform's alarms and who hears of them.
   * @default - no address
   */
  readonly health?: PlatformHealthConfig;
  /**
   * The fleet's pipeline: with it, the fleet's app has one more stack, `<name>-fleet-pipeline`, that deploys the
   * fleet from its repository.
   * @default - no pipeline: the fleet is deployed by hand (`paas-vending deploy`)
   */
  readonly fleetPipeline?: FleetPipelineConfig;
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
