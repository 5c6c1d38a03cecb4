import * as ec2 from 'aws-cdk-lib/aws-ec2';
import {
  AmiConfig,
  BaseImageConfig,
  ComputeConfig,
  CustomerConfig,
  DatabaseConfig,
  DeploymentPolicy,
  DeploymentStrategy,
  EnvironmentConfig,
  HealthCheckConfig,
  HealthConfig,
  PlatformConfig,
  RepositoryConfig,
  SoftwareConfig,
  SoftwareDeploymentConfig,
  VpcConfig,
} from './types';

/*
 * Defaults are applied here and only here, once the config is known to be valid. The resolved
 * shapes are internal (not part of the jsii API): constructs read them without `?? default`.
 */

/** The environment name that turns on the production safeguards in the default environments. */
export const PRODUCTION = 'production';

/** The environments of a platform whose file declares none. */
export const DEFAULT_ENVIRONMENTS: readonly EnvironmentConfig[] = [
  { name: PRODUCTION, production: true },
  { name: 'staging', production: false },
  { name: 'development', production: false },
];

/** The environments a platform offers: those it declares, else the default ones. */
export function environmentsOf(platform?: Pick<PlatformConfig, 'environments'>): readonly EnvironmentConfig[] {
  return platform?.environments ?? DEFAULT_ENVIRONMENTS;
}

/** Whether an environment of `environments` gets the production safeguards (an undeclared one does not). */
export function productionIn(environment: string, environments: readonly EnvironmentConfig[]): boolean {
  return environments.some((e) => e.name === environment && e.production === true);
}

/**
 * Whether an environment gets the production safeguards when its platform's environments are not known (an L3's
 * `production` prop left out): production in the default environments.
 */
export const isProduction = (environment: string): boolean => productionIn(environment, DEFAULT_ENVIRONMENTS);

/** The instance type of the web servers and of the image bakes when the config or props say nothing. */
export const DEFAULT_INSTANCE_TYPE = 't3.small';

/** How many baked images an environment keeps besides the one in use, when nothing says otherwise. */
export const DEFAULT_KEEP_IMAGES = 5;

/** The provisioning script of a bake when nothing says otherwise. */
export const DEFAULT_PROVISION_SCRIPT = 'packer/provision.sh';

/**
 * The paths whose change starts a bake when nothing says otherwise: the folder of each provisioning script and
 * everything under it (`packer/**` for `packer/provision.sh`), or the script itself when it is at the root.
 */
export function defaultTriggerPaths(provisionScripts: string[]): string[] {
  const paths = provisionScripts.map((script) => {
    const slash = script.lastIndexOf('/');
    return slash === -1 ? script : `${script.slice(0, slash)}/**`;
  });
  return [...new Set(paths)];
}

/** The weekly window of the default rebuilds when the platform file says nothing: Sundays, 02:00 to 06:00 UTC. */
export const DEFAULT_REBUILD_WINDOW = { weekDay: 'SUN', startHourUtc: 2, hours: 4 } as const;

/** Stacks the fleet pipeline deploys at the same time in a wave (docs/FLEET-DEPLOY-QUOTAS.md says why 20). */
export const DEFAULT_FLEET_CONCURRENCY = 20;

/** The qualifier of a default `cdk bootstrap`: the names of its roles carry it. */
export const DEFAULT_BOOTSTRAP_QUALIFIER = 'hnb659fds';

export const DEFAULT_BASE_IMAGE_PARAMETER = '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64';

/** The processor architectures of web servers and bakes. */
export type Architecture = 'arm64' | 'x86_64';

/** The architecture an EC2 instance type runs (aws-cdk-lib reads it from the family: t4g, m7g, c6gn are arm64). */
export function architectureOf(instanceType: string): Architecture | undefined {
  try {
    return new ec2.InstanceType(instanceType).architecture === ec2.InstanceArchitecture.ARM_64 ? 'arm64' : 'x86_64';
  } catch {
    return undefined; // a family aws-cdk-lib cannot read: nothing is derived or checked
  }
}

/** The architecture an image name or SSM parameter names, when it names one. */
export function imageArchitectureOf(name: string): Architecture | undefined {
  if (/arm64|aarch64/i.test(name)) return 'arm64';
  if (/x86_64|amd64/i.test(name)) return 'x86_64';
  return undefined;
}

/** Per architecture: the base image, its name filter and the bake instance when the config names none. */
export const ARCHITECTURE_DEFAULTS: Readonly<
  Record<Architecture, { baseImageParameter: string; amiNameFilter: string; buildInstanceType: string }>
> = {
  x86_64: {
    baseImageParameter: DEFAULT_BASE_IMAGE_PARAMETER,
    amiNameFilter: 'al2023-ami-2023.*-x86_64',
    buildInstanceType: DEFAULT_INSTANCE_TYPE,
  },
  arm64: {
    baseImageParameter: '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64',
    amiNameFilter: 'al2023-ami-2023.*-arm64',
    buildInstanceType: 't4g.small',
  },
};

/** The load balancer health check when the config says nothing. */
export const DEFAULT_HEALTH_CHECK: Required<HealthCheckConfig> = {
  path: '/',
  healthyHttpCodes: '200-399',
  intervalSeconds: 30,
  timeoutSeconds: 5,
  healthyThreshold: 2,
  unhealthyThreshold: 3,
};

/** Fewest instances when the config says nothing: two AZs in production. */
export const defaultMinCapacity = (production: boolean): number => (production ? 2 : 1);

/** Most instances when the config says nothing. */
export const defaultMaxCapacity = (minCapacity: number): number => Math.max(minCapacity, 4);

export type ResolvedCompute = Required<Omit<ComputeConfig, 'targetRequestsPerInstance'>> &
  Pick<ComputeConfig, 'targetRequestsPerInstance'>;
export type ResolvedHealthCheck = Required<HealthCheckConfig>;

/** The thresholds of an environment's alarms when its file says nothing (README, "See an environment's health"). */
export const DEFAULT_HEALTH_THRESHOLDS: Required<Omit<HealthConfig, 'alertEmails'>> = {
  http5xxPercent: 5,
  latencyP99Ms: 2000,
  unhealthyHosts: 1,
  cpuPercent: 85,
  dbCpuPercent: 85,
  dbFreeStorageGib: 2,
  dbReplicaLagSeconds: 30,
};

/** The database's thresholds: only an environment with a database has them. */
type DatabaseThresholds = 'dbCpuPercent' | 'dbFreeStorageGib' | 'dbReplicaLagSeconds';
export type ResolvedHealth = Required<Omit<HealthConfig, DatabaseThresholds>> & Pick<HealthConfig, DatabaseThresholds>;

/**
 * An environment's health with its defaults (keys given as undefined take theirs too); the database's thresholds
 * only with a database (without one, a threshold given is refused by the rules, not ignored).
 */
export function resolveHealth(health: HealthConfig = {}, withDatabase: boolean = true): ResolvedHealth {
  const d = DEFAULT_HEALTH_THRESHOLDS;
  return {
    alertEmails: [...(health.alertEmails ?? [])],
    http5xxPercent: health.http5xxPercent ?? d.http5xxPercent,
    latencyP99Ms: health.latencyP99Ms ?? d.latencyP99Ms,
    unhealthyHosts: health.unhealthyHosts ?? d.unhealthyHosts,
    cpuPercent: health.cpuPercent ?? d.cpuPercent,
    ...(withDatabase
      ? {
          dbCpuPercent: health.dbCpuPercent ?? d.dbCpuPercent,
          dbFreeStorageGib: health.dbFreeStorageGib ?? d.dbFreeStorageGib,
          dbReplicaLagSeconds: health.dbReplicaLagSeconds ?? d.dbReplicaLagSeconds,
        }
      : {}),
  };
}
export type ResolvedDatabase = Required<Omit<DatabaseConfig, 'preferredBackupWindow'>> &
  Pick<DatabaseConfig, 'preferredBackupWindow'>;
export type ResolvedAmi = Required<Omit<AmiConfig, 'initialImageId' | 'rebuildSchedule'>> &
  Pick<AmiConfig, 'initialImageId' | 'rebuildSchedule'> & { readonly baseImage: BaseImageConfig };
/**
 * A deployment as CodeDeploy sees it: the policy, and for `rolling` the instances that stay in service, as a count or
 * a share (neither: one instance at a time); for `rolling-with-additional-batch` the extra batch, as a count or a
 * share of the running instances (one of the two always).
 */
export interface ResolvedDeployment {
  readonly policy: DeploymentPolicy;
  readonly minimumHealthyHosts?: number;
  readonly minimumHealthyPercent?: number;
  readonly batchSize?: number;
  readonly batchSizePercent?: number;
  readonly canaryPercent?: number;
  readonly evaluationMinutes?: number;
}

/** Traffic splitting's canary share and evaluation when the file gives none. */
export const DEFAULT_CANARY_PERCENT = 10;
export const DEFAULT_EVALUATION_MINUTES = 5;

/** Whether a deployment needs the web tier's standby group (immutable, traffic splitting). */
export function usesStandbyGroup(deployment: ResolvedDeployment): boolean {
  return deployment.policy === DeploymentPolicy.IMMUTABLE || deployment.policy === DeploymentPolicy.TRAFFIC_SPLITTING;
}

/**
 * The CodeDeploy custom deployment configurations a deployment costs (an account quota of 50): a rolling one with a
 * minimum of its own (CodeDeploy's presets are one instance at a time and half), and an additional batch, whose state
 * machine creates one for each run (one at a time, deleted at its end).
 */
export function customDeploymentConfigsOf(deployment: ResolvedDeployment): number {
  if (deployment.policy === DeploymentPolicy.ROLLING_WITH_ADDITIONAL_BATCH) return 1;
  if (deployment.policy !== DeploymentPolicy.ROLLING) return 0;
  if (deployment.minimumHealthyHosts !== undefined) return 1;
  return deployment.minimumHealthyPercent !== undefined && deployment.minimumHealthyPercent !== 50 ? 1 : 0;
}

/** The extra batch of `rolling-with-additional-batch` when the file gives no size: one instance. */
export const DEFAULT_ADDITIONAL_BATCH_SIZE = 1;
/**
 * The software section with its defaults: `deployment` always; `deploymentConfig` only when the file has no
 * `deployment` (the preset, one-at-a-time by default, as before the block existed).
 */
export type ResolvedSoftware = Required<Omit<SoftwareConfig, 'buildImage' | 'deployment' | 'deploymentConfig'>> &
  Pick<SoftwareConfig, 'buildImage' | 'deploymentConfig'> & { readonly deployment: ResolvedDeployment };

/**
 * The deployment of a valid software section: its `deployment` block (a batch size becomes the instances that stay in
 * service, out of `minCapacity`), or the preset of `deploymentConfig`.
 */
export function resolveDeployment(
  deployment: SoftwareDeploymentConfig | undefined,
  preset: DeploymentStrategy | undefined,
  minCapacity: number,
): ResolvedDeployment {
  if (!deployment) {
    switch (preset) {
      case DeploymentStrategy.ALL_AT_ONCE:
        return { policy: DeploymentPolicy.ALL_AT_ONCE };
      case DeploymentStrategy.HALF_AT_A_TIME:
        return { policy: DeploymentPolicy.ROLLING, minimumHealthyPercent: 50 };
      default:
        return { policy: DeploymentPolicy.ROLLING };
    }
  }
  const policy = deployment.policy ?? DeploymentPolicy.ROLLING;
  if (policy === DeploymentPolicy.TRAFFIC_SPLITTING) {
    return {
      policy,
      canaryPercent: deployment.canaryPercent ?? DEFAULT_CANARY_PERCENT,
      evaluationMinutes: deployment.evaluationMinutes ?? DEFAULT_EVALUATION_MINUTES,
    };
  }
  if (policy === DeploymentPolicy.ROLLING_WITH_ADDITIONAL_BATCH) {
    return deployment.batchSizePercent !== undefined
      ? { policy, batchSizePercent: deployment.batchSizePercent }
      : { policy, batchSize: deployment.batchSize ?? DEFAULT_ADDITIONAL_BATCH_SIZE };
  }
  if (deployment.batchSize !== undefined) {
    return { policy, minimumHealthyHosts: Math.max(minCapacity - deployment.batchSize, 0) };
  }
  if (deployment.batchSizePercent !== undefined) {
    return { policy, minimumHealthyPercent: 100 - deployment.batchSizePercent };
  }
  return {
    policy,
    ...(deployment.minimumHealthyHosts !== undefined ? { minimumHealthyHosts: deployment.minimumHealthyHosts } : {}),
    ...(deployment.minimumHealthyPercent !== undefined
      ? { minimumHealthyPercent: deployment.minimumHealthyPercent }
      : {}),
  };
}

export interface ResolvedCustomerConfig extends CustomerConfig {
  readonly production: boolean;
  readonly approvalEmails: string[];
  readonly compute: ResolvedCompute;
  readonly healthCheck: ResolvedHealthCheck;
  readonly health: ResolvedHealth;
  readonly database?: ResolvedDatabase;
  readonly ami: ResolvedAmi;
  readonly softwareDelivery: ResolvedSoftware;
  readonly tags: { [key: string]: string };
  readonly logs: ResolvedLogs;
  readonly settings: { [key: string]: string };
  readonly secrets: string[];
}

/** The instances' logs with their defaults. */
export interface ResolvedLogs {
  readonly retentionDays: number;
}

/**
 * Days the instances' logs are kept when the customer file does not say, in every environment: AWS Control Tower's
 * CT.CLOUDWATCH.PR.2 wants at least a year.
 */
export const DEFAULT_LOG_RETENTION_DAYS = 365;

export interface ResolvedPlatformConfig extends PlatformConfig {
  readonly production: boolean;
  readonly environments: EnvironmentConfig[];
  readonly vpc: Required<Omit<VpcConfig, 'availabilityZones' | 'natInstanceImageId'>> &
    Pick<VpcConfig, 'availabilityZones' | 'natInstanceImageId'>;
  readonly maxSharedLoadBalancers: number;
}

/** Compute with its defaults (keys given as undefined take theirs too). */
export function resolveCompute(compute: ComputeConfig = {}, production: boolean): ResolvedCompute {
  const minCapacity = compute.minCapacity ?? defaultMinCapacity(production);
  return {
    instanceType: compute.instanceType ?? DEFAULT_INSTANCE_TYPE,
    minCapacity,
    maxCapacity: compute.maxCapacity ?? defaultMaxCapacity(minCapacity),
    targetCpuPercent: compute.targetCpuPercent ?? 60,
    rootVolumeGib: compute.rootVolumeGib ?? 20,
    ...(compute.targetRequestsPerInstance !== undefined
      ? { targetRequestsPerInstance: compute.targetRequestsPerInstance }
      : {}),
  };
}

/** A health check with its defaults (keys given as undefined take theirs too). */
export function resolveHealthCheck(healthCheck: HealthCheckConfig = {}): ResolvedHealthCheck {
  const d = DEFAULT_HEALTH_CHECK;
  return {
    path: healthCheck.path ?? d.path,
    healthyHttpCodes: healthCheck.healthyHttpCodes ?? d.healthyHttpCodes,
    intervalSeconds: healthCheck.intervalSeconds ?? d.intervalSeconds,
    timeoutSeconds: healthCheck.timeoutSeconds ?? d.timeoutSeconds,
    healthyThreshold: healthCheck.healthyThreshold ?? d.healthyThreshold,
    unhealthyThreshold: healthCheck.unhealthyThreshold ?? d.unhealthyThreshold,
  };
}

/** A database with its defaults; `label` (customer-environment) is the default identifier. */
/** The engine's default port plus this: a database never listens on its engine's default port. */
export const DATABASE_PORT_OFFSET = 10000;

/** The port a database of the engine listens on unless told: 15432 (PostgreSQL family) or 13306 (MySQL family). */
export function defaultDatabasePort(engine: string): number {
  return (String(engine).includes('postgres') ? 5432 : 3306) + DATABASE_PORT_OFFSET;
}

export function resolveDatabase(database: DatabaseConfig, production: boolean, label: string): ResolvedDatabase {
  return {
    port: database.port ?? defaultDatabasePort(database.engine),
    engine: database.engine,
    version: database.version,
    instanceType: database.instanceType ?? 't4g.medium',
    masterUsername: database.masterUsername ?? 'app_admin',
    clusterName: database.clusterName ?? label,
    backupRetentionDays: database.backupRetentionDays ?? 7,
    multiAz: database.multiAz ?? production,
    securityGroupIds: [...(database.securityGroupIds ?? [])],
    ...(database.preferredBackupWindow !== undefined ? { preferredBackupWindow: database.preferredBackupWindow } : {}),
  };
}

function withBranch(repository: RepositoryConfig): RepositoryConfig {
  if (repository.s3Bucket !== undefined) return { ...repository };
  return { ...repository, branch: repository.branch ?? 'main' };
}

/**
 * A valid customer config with every default filled in. `hostname` needs the platform's domain; whether it is
 * production comes from the environments the platform declares (`environments`, when given, else the platform's).
 */
export function resolveCustomer(
  config: CustomerConfig,
  platform?: PlatformConfig,
  environments: readonly EnvironmentConfig[] = environmentsOf(platform),
): ResolvedCustomerConfig {
  const production = productionIn(config.environment, environments);
  const compute = resolveCompute(config.compute, production);
  // The web servers' architecture decides the bake's instance and base image that the config leaves out.
  const arch = ARCHITECTURE_DEFAULTS[architectureOf(compute.instanceType) ?? 'x86_64'];
  const softwareRepository = withBranch(config.softwareDelivery.repository);
  const hostname =
    config.hostname ?? (platform ? `${config.customer}-${config.environment}.${platform.domain}` : undefined);
  return {
    ...config,
    ...(hostname !== undefined ? { hostname } : {}),
    production,
    approvalEmails: [...(config.approvalEmails ?? [])],
    compute,
    healthCheck: resolveHealthCheck(config.healthCheck),
    health: resolveHealth(config.health, config.database !== undefined),
    logs: { retentionDays: config.logs?.retentionDays ?? DEFAULT_LOG_RETENTION_DAYS },
    settings: { ...(config.settings ?? {}) },
    secrets: [...(config.secrets ?? [])],
    database:
      config.database && resolveDatabase(config.database, production, `${config.customer}-${config.environment}`),
    ami: {
      provisionScript: DEFAULT_PROVISION_SCRIPT,
      keepImages: DEFAULT_KEEP_IMAGES,
      ...config.ami,
      buildInstanceType: config.ami?.buildInstanceType ?? arch.buildInstanceType,
      triggerPaths:
        config.ami?.triggerPaths ?? defaultTriggerPaths([config.ami?.provisionScript ?? DEFAULT_PROVISION_SCRIPT]),
      baseImage: config.ami?.baseImage ?? { ssmParameter: arch.baseImageParameter },
      repository: config.ami?.repository ? withBranch(config.ami.repository) : softwareRepository,
    },
    softwareDelivery: {
      ...(config.softwareDelivery.deployment ? {} : { deploymentConfig: DeploymentStrategy.ONE_AT_A_TIME }),
      ...config.softwareDelivery,
      deployment: resolveDeployment(
        config.softwareDelivery.deployment,
        config.softwareDelivery.deploymentConfig,
        compute.minCapacity,
      ),
      repository: softwareRepository,
      ...(config.softwareDelivery.buildImage
        ? { buildImage: { tag: 'latest', ...config.softwareDelivery.buildImage } }
        : {}),
    },
    tags: { ...config.tags },
  };
}

/** Shared load balancers a platform may have unless its config says otherwise. */
export const DEFAULT_MAX_SHARED_LOAD_BALANCERS = 10;

/** A valid platform config with every default filled in. */
export function resolvePlatform(config: PlatformConfig): ResolvedPlatformConfig {
  const environments = environmentsOf(config).map((e) => ({ name: e.name, production: e.production ?? false }));
  return {
    ...config,
    production: productionIn(config.environment, environments),
    environments,
    vpc: {
      cidr: '10.10.0.0/16',
      natInstances: false,
      ...config.vpc,
      maxAzs: config.vpc?.availabilityZones?.length ?? config.vpc?.maxAzs ?? 3,
    },
    maxSharedLoadBalancers: config.maxSharedLoadBalancers ?? DEFAULT_MAX_SHARED_LOAD_BALANCERS,
  };
}

/**
 * How a customer environment is reached: its own load balancer only for a custom domain in
 * production, a rule on the platform's shared load balancer otherwise. The command and the
 * constructs both decide it here.
 */
export function ingressOf(config: ResolvedCustomerConfig): 'shared' | 'dedicated' {
  return config.production && config.customDomain ? 'dedicated' : 'shared';
}

/**
 * The host names an environment is served at: its own load balancer (dedicated ingress) serves the custom domain
 * only; a rule on the shared load balancer serves the custom domain (when there is one) and the platform host name.
 */
export function servedHosts(config: ResolvedCustomerConfig): string[] {
  const custom = config.customDomain ? [config.customDomain.name] : [];
  if (ingressOf(config) === 'dedicated') return custom;
  return [...custom, ...(config.hostname ? [config.hostname] : [])];
}

/** Strips the internal `production` flag: what the public loader returns. */
export function publicCustomer(config: ResolvedCustomerConfig): CustomerConfig {
  const { production, ...rest } = config;
  void production;
  return rest;
}

export function publicPlatform(config: ResolvedPlatformConfig): PlatformConfig {
  const { production, ...rest } = config;
  void production;
  return rest;
}
