import {
  AmiConfig,
  BaseImageConfig,
  ComputeConfig,
  CustomerConfig,
  DatabaseConfig,
  DeploymentStrategy,
  HealthCheckConfig,
  PlatformConfig,
  RepositoryConfig,
  SoftwareConfig,
  VpcConfig,
} from './types';

/*
 * Defaults are applied here and only here, once the config is known to be valid. The resolved
 * shapes are internal (not part of the jsii API): constructs read them without `?? default`.
 */

/** The environment name that turns on the production safeguards. */
export const PRODUCTION = 'production';

/** Whether an environment gets the production safeguards, when nothing says otherwise. */
export const isProduction = (environment: string): boolean => environment === PRODUCTION;

/** The instance type of the web servers and of the image bakes when the config or props say nothing. */
export const DEFAULT_INSTANCE_TYPE = 't3.small';

/** How many baked images an environment keeps besides the one in use, when nothing says otherwise. */
export const DEFAULT_KEEP_IMAGES = 5;

export const DEFAULT_BASE_IMAGE_PARAMETER = '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64';

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
export type ResolvedDatabase = Required<Omit<DatabaseConfig, 'preferredBackupWindow'>> &
  Pick<DatabaseConfig, 'preferredBackupWindow'>;
export type ResolvedAmi = Required<Omit<AmiConfig, 'initialImageId' | 'rebuildSchedule'>> &
  Pick<AmiConfig, 'initialImageId' | 'rebuildSchedule'> & { readonly baseImage: BaseImageConfig };
export type ResolvedSoftware = Required<Omit<SoftwareConfig, 'buildImage'>> & Pick<SoftwareConfig, 'buildImage'>;

export interface ResolvedCustomerConfig extends CustomerConfig {
  readonly production: boolean;
  readonly approvalEmails: string[];
  readonly compute: ResolvedCompute;
  readonly healthCheck: ResolvedHealthCheck;
  readonly database?: ResolvedDatabase;
  readonly ami: ResolvedAmi;
  readonly softwareDelivery: ResolvedSoftware;
  readonly tags: { [key: string]: string };
}

export interface ResolvedPlatformConfig extends PlatformConfig {
  readonly production: boolean;
  readonly vpc: Required<Omit<VpcConfig, 'availabilityZones'>> & Pick<VpcConfig, 'availabilityZones'>;
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

/** A valid customer config with every default filled in. `hostname` needs the platform's domain. */
export function resolveCustomer(config: CustomerConfig, platform?: PlatformConfig): ResolvedCustomerConfig {
  const production = config.environment === PRODUCTION;
  const softwareRepository = withBranch(config.softwareDelivery.repository);
  const hostname =
    config.hostname ?? (platform ? `${config.customer}-${config.environment}.${platform.domain}` : undefined);
  return {
    ...config,
    ...(hostname !== undefined ? { hostname } : {}),
    production,
    approvalEmails: [...(config.approvalEmails ?? [])],
    compute: resolveCompute(config.compute, production),
    healthCheck: resolveHealthCheck(config.healthCheck),
    database:
      config.database && resolveDatabase(config.database, production, `${config.customer}-${config.environment}`),
    ami: {
      provisionScript: 'packer/provision.sh',
      buildInstanceType: DEFAULT_INSTANCE_TYPE,
      keepImages: DEFAULT_KEEP_IMAGES,
      ...config.ami,
      baseImage: config.ami?.baseImage ?? { ssmParameter: DEFAULT_BASE_IMAGE_PARAMETER },
      repository: config.ami?.repository ? withBranch(config.ami.repository) : softwareRepository,
    },
    softwareDelivery: {
      deploymentConfig: DeploymentStrategy.ONE_AT_A_TIME,
      ...config.softwareDelivery,
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
  return {
    ...config,
    production: config.environment === PRODUCTION,
    vpc: {
      cidr: '10.10.0.0/16',
      natInstances: true,
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
