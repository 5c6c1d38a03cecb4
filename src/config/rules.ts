import { retentionProblems, settingsProblems } from './app-rules';
import {
  DEFAULT_BASE_IMAGE_PARAMETER,
  DEFAULT_HEALTH_CHECK,
  defaultMaxCapacity,
  defaultMinCapacity,
  DEFAULT_ENVIRONMENTS,
  environmentsOf,
  DEFAULT_INSTANCE_TYPE,
  ARCHITECTURE_DEFAULTS,
  architectureOf,
  imageArchitectureOf,
  productionIn,
  resolveDeployment,
} from './defaults';
import { instanceClassProblem, versionProblem } from './engines';
import { describeValue } from './errors';
import { closest, FieldPath, RawProblem } from './schema';
import { DeploymentPolicy, DeploymentStrategy, EnvironmentConfig, PlatformConfig } from './types';
import { approversProblem } from './values';

/*
 * Rules the JSON Schema cannot say: relations between fields and production safeguards. They run
 * on any input, so every read is guarded: a value of the wrong type was already reported by the
 * schema and must not throw here.
 */

type Doc = { [key: string]: unknown };

const isObject = (v: unknown): v is Doc => typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const obj = (v: unknown): Doc => (isObject(v) ? v : {});

/** Parses an ARN into its region and account, if it looks like one. */
export function arnParts(arn: string): { region: string; account: string } | undefined {
  const parts = arn.split(':');
  return parts.length >= 6 ? { region: parts[3], account: parts[4] } : undefined;
}

/**
 * The rules of a customer document. `environments` are those its platform offers (`platform`, when known, names
 * it in messages).
 */
export function customerRules(
  doc: unknown,
  environments: readonly EnvironmentConfig[] = DEFAULT_ENVIRONMENTS,
  platform?: string,
): RawProblem[] {
  if (!isObject(doc)) return [];
  const problems: RawProblem[] = [];
  const environment = str(doc.environment);
  const production = environment !== undefined && productionIn(environment, environments);
  const add = (path: FieldPath, message: string) => problems.push({ path, message });

  // The environment is one the platform offers.
  const offered = platform ? `an environment of platform ${platform}` : 'one of the default environments';
  const unknown = environmentProblem(environment, environments, offered);
  if (unknown) add(['environment'], `${unknown} (environments in platform.yaml)`);

  // Approvals and capacity in production.
  const approvers = approversProblem(doc.approvalEmails, production, 'releases');
  if (approvers) add(['approvalEmails'], approvers);
  // Capacity, with the defaults a missing bound gets: what the fleet will really run.
  const compute = obj(doc.compute);
  const givenMin = num(compute.minCapacity);
  const givenMax = num(compute.maxCapacity);
  const min = givenMin ?? defaultMinCapacity(production);
  const max = givenMax ?? defaultMaxCapacity(min);
  if (production && givenMin !== undefined && givenMin < 2) {
    add(
      ['compute', 'minCapacity'],
      `received ${givenMin}; expected at least 2 in production, so that instances run in two Availability Zones`,
    );
  } else if (min > max && givenMin !== undefined) {
    add(
      ['compute', 'minCapacity'],
      `received ${min}, more than maxCapacity (${max}); expected minCapacity <= maxCapacity`,
    );
  } else if (min > max) {
    const where = production ? ' in production' : '';
    add(
      ['compute', 'maxCapacity'],
      `received ${max}, less than the default minCapacity (${min}${where}); expected at least ${min}, or a lower minCapacity`,
    );
  }

  // Health check timing: the load balancer rejects a timeout that is not shorter than the interval.
  const health = obj(doc.healthCheck);
  const interval = num(health.intervalSeconds) ?? DEFAULT_HEALTH_CHECK.intervalSeconds;
  const timeout = num(health.timeoutSeconds) ?? DEFAULT_HEALTH_CHECK.timeoutSeconds;
  if (timeout >= interval) {
    add(
      ['healthCheck', health.timeoutSeconds !== undefined ? 'timeoutSeconds' : 'intervalSeconds'],
      `timeoutSeconds (${timeout}) must be less than intervalSeconds (${interval})`,
    );
  }
  const codes = str(health.healthyHttpCodes);
  if (codes && /^[\d,-]+$/.test(codes)) {
    for (const range of codes.split(',')) {
      const [low, high] = range.split('-').map(Number);
      if (high !== undefined && low > high) {
        add(
          ['healthCheck', 'healthyHttpCodes'],
          `received "${codes}"; the range ${range} runs backwards, expected low-high such as 200-399`,
        );
      }
    }
  }

  // Custom domain: not the same as the shared host name.
  const domain = obj(doc.customDomain);
  if (typeof domain.name === 'string' && domain.name === doc.hostname) {
    add(
      ['customDomain', 'name'],
      `received "${domain.name}", the same as hostname; expected the customer's own domain`,
    );
  }

  if (isObject(doc.database)) problems.push(...databaseRules(doc.database));
  const software = obj(doc.software);
  if (isObject(software.repository)) problems.push(...repositoryRules(software.repository, ['software', 'repository']));
  problems.push(...deploymentRules(software, min, max));
  const ami = obj(doc.ami);
  if (isObject(ami.repository)) problems.push(...repositoryRules(ami.repository, ['ami', 'repository']));
  if (isObject(ami.baseImage)) problems.push(...baseImageRules(ami.baseImage));
  problems.push(...architectureRules(str(compute.instanceType) ?? DEFAULT_INSTANCE_TYPE, ami));

  const tags = obj(doc.tags);
  for (const [key, value] of Object.entries(tags)) {
    if (typeof value === 'string' && value.length > 256) {
      add(['tags', key], `received a value of ${value.length} characters; expected at most 256`);
    } else if (typeof value === 'string' && !/^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u.test(value)) {
      add(['tags', key], `received ${describeValue(value)}; expected letters, digits, spaces or _.:/=+-@`);
    }
  }

  // The instances' logs and the application's settings (app-rules.ts, shared with CustomerWebTier's props).
  problems.push(...retentionProblems(obj(doc.logs).retentionDays, ['logs', 'retentionDays']));
  problems.push(...settingsProblems(doc.settings, doc.secrets));
  // A database's health threshold without a database would be silently ignored: said instead.
  if (doc.database === undefined) {
    const thresholds = obj(doc.health);
    for (const key of Object.keys(thresholds).filter((k) => k.startsWith('db') && thresholds[k] !== undefined)) {
      add(
        ['health', key],
        `received ${describeValue(thresholds[key])}, but the environment has no database; expected database ` +
          'thresholds only with a database: block (remove it, or add the database)',
      );
    }
  }

  // The schema checks the form; EventBridge also wants "?" in exactly one of the two day fields.
  const schedule = str(ami.rebuildSchedule);
  const problem = schedule !== undefined && SCHEDULE.test(schedule) ? scheduleExpressionProblem(schedule) : undefined;
  if (problem) add(['ami', 'rebuildSchedule'], problem);
  return problems;
}

/** The keys of `software.deployment` that size a rolling deployment's batches: at most one of them is set. */
export const BATCH_KEYS = ['batchSize', 'batchSizePercent', 'minimumHealthyHosts', 'minimumHealthyPercent'] as const;

/**
 * Policies a customer file may name but the library cannot deploy yet, with why (README's "Deployment policies"
 * holds their design).
 */
export const UNAVAILABLE_POLICIES: { readonly [policy: string]: string } = {};

/** The batch keys each available policy takes (`all-at-once` none). */
const BATCH_KEYS_OF: { readonly [policy: string]: readonly string[] } = {
  [DeploymentPolicy.ROLLING]: BATCH_KEYS,
  [DeploymentPolicy.ROLLING_WITH_ADDITIONAL_BATCH]: ['batchSize', 'batchSizePercent'],
  [DeploymentPolicy.ALL_AT_ONCE]: [],
  [DeploymentPolicy.IMMUTABLE]: [],
  [DeploymentPolicy.TRAFFIC_SPLITTING]: [],
};

/** The keys of `software.deployment` that only traffic splitting takes. */
const CANARY_KEYS = ['canaryPercent', 'evaluationMinutes'] as const;

/**
 * The rules of `software.deployment`: not beside `deploymentConfig`, a policy the library deploys, at most one batch
 * key and only one its policy takes, for `rolling` a batch that leaves an instance to update when the group runs at
 * its minimum (`minCapacity`, with its default), for `rolling-with-additional-batch` an extra batch no larger than
 * the group's `maxCapacity`.
 */
function deploymentRules(software: Doc, minCapacity: number, maxCapacity: number): RawProblem[] {
  if (!isObject(software.deployment)) return [];
  const problems: RawProblem[] = [];
  const at = ['software', 'deployment'];
  const add = (path: FieldPath, message: string) => problems.push({ path, message });
  const deployment = software.deployment;
  const policy = str(deployment.policy) ?? DeploymentPolicy.ROLLING;
  // Both keys are accepted when they say the same (a resolved config holds both), never when they differ.
  const preset = str(software.deploymentConfig);
  if (software.deploymentConfig !== undefined) {
    const known = (Object.values(DeploymentStrategy) as string[]).includes(preset ?? '');
    const read = (key: string) => num(deployment[key]);
    const same =
      known &&
      JSON.stringify(resolveDeployment(undefined, preset as DeploymentStrategy, minCapacity)) ===
        JSON.stringify(
          resolveDeployment(
            {
              policy: policy as DeploymentPolicy,
              batchSize: read('batchSize'),
              batchSizePercent: read('batchSizePercent'),
              minimumHealthyHosts: read('minimumHealthyHosts'),
              minimumHealthyPercent: read('minimumHealthyPercent'),
            },
            undefined,
            minCapacity,
          ),
        );
    if (!same) {
      add(
        ['software', 'deploymentConfig'],
        `received ${describeValue(software.deploymentConfig)} beside software.deployment; expected one of the two ` +
          '(one-at-a-time is deployment.policy rolling alone, half-at-a-time is rolling with batchSizePercent 50, ' +
          'all-at-once is policy all-at-once)',
      );
    }
  }
  const unavailable = Object.prototype.hasOwnProperty.call(UNAVAILABLE_POLICIES, policy)
    ? UNAVAILABLE_POLICIES[policy]
    : undefined;
  if (unavailable) {
    add(
      [...at, 'policy'],
      `received "${policy}", which is not yet available (${unavailable}; README's "Deployment policies" has its ` +
        'design); expected all-at-once, rolling, rolling-with-additional-batch, immutable or traffic-splitting',
    );
  }
  const given = BATCH_KEYS.filter((key) => deployment[key] !== undefined);
  const takes = Object.prototype.hasOwnProperty.call(BATCH_KEYS_OF, policy) ? BATCH_KEYS_OF[policy] : undefined;
  if (given.length > 1) {
    add(
      [...at, given[1]],
      `received ${given.join(' and ')}; expected at most one of ${(takes && takes.length > 0 ? takes : BATCH_KEYS).join(', ')} (each says how many ` +
        'instances CodeDeploy updates at a time)',
    );
  } else if (given.length === 1 && takes && !takes.includes(given[0])) {
    add(
      [...at, given[0]],
      takes.length === 0
        ? `received ${given[0]} with policy ${policy}; expected it with policy rolling or ` +
            `rolling-with-additional-batch only (${policy === DeploymentPolicy.IMMUTABLE || policy === DeploymentPolicy.TRAFFIC_SPLITTING ? `${policy} deploys to new instances first, then to the group's` : `${policy} updates every instance at once`})`
        : `received ${given[0]} with policy ${policy}; expected ${takes.join(' or ')} (the extra batch's size: ` +
            `as many instances as ran before stay in service), or ${given[0]} with policy rolling`,
    );
  }
  for (const key of CANARY_KEYS) {
    if (deployment[key] !== undefined && policy !== DeploymentPolicy.TRAFFIC_SPLITTING) {
      add([...at, key], `received ${key} with policy ${policy}; expected it with policy traffic-splitting only`);
    }
  }
  const batch = num(deployment.batchSize);
  const additional = policy === DeploymentPolicy.ROLLING_WITH_ADDITIONAL_BATCH;
  if (given.length === 1 && batch !== undefined && !additional && batch > minCapacity) {
    add(
      [...at, 'batchSize'],
      `received ${batch}, more than compute.minCapacity (${minCapacity}); expected at most ${minCapacity} ` +
        '(CodeDeploy keeps minCapacity minus batchSize instances in service)',
    );
  }
  if (given.length === 1 && batch !== undefined && additional && batch > maxCapacity) {
    add(
      [...at, 'batchSize'],
      `received ${batch}, more than compute.maxCapacity (${maxCapacity}); expected at most ${maxCapacity} ` +
        '(the extra batch is launched beside the running instances, and updated at a time)',
    );
  }
  const healthy = num(deployment.minimumHealthyHosts);
  if (given.length === 1 && healthy !== undefined && policy === DeploymentPolicy.ROLLING && healthy >= minCapacity) {
    add(
      [...at, 'minimumHealthyHosts'],
      `received ${healthy}, not less than compute.minCapacity (${minCapacity}); expected at most ` +
        `${minCapacity - 1}, so that CodeDeploy has an instance to update while the group runs at its minimum`,
    );
  }
  return problems;
}

/** The schema's rule of an environment name: a name that breaks it is reported by the schema alone. */
const ENVIRONMENT_NAME = /^[a-z][a-z0-9]{1,15}$/;

/**
 * Why `environment` is not one of `environments` (`offered` says whose they are), with the name it most likely
 * meant; undefined when it is one, or when it is no environment name at all (the schema reports that).
 */
export function environmentProblem(
  environment: string | undefined,
  environments: readonly EnvironmentConfig[],
  offered: string,
): string | undefined {
  if (environment === undefined || !ENVIRONMENT_NAME.test(environment)) return undefined;
  const names = environments.map((e) => e.name).filter((n): n is string => typeof n === 'string');
  if (names.includes(environment)) return undefined;
  const guess =
    names.find((n) => environment.length >= 3 && (n.startsWith(environment) || environment.startsWith(n))) ??
    closest(environment, names);
  const hint = guess ? ` (did you mean "${guess}"?)` : '';
  return `received "${environment}"${hint}; expected ${offered}: ${listOf(names)}`;
}

function listOf(values: readonly string[]): string {
  return values.length <= 1
    ? (values[0] ?? 'none')
    : `${values.slice(0, -1).join(', ')} or ${values[values.length - 1]}`;
}

/** The platform's environments: each name once, the platform's own among them. */
function environmentsRules(doc: Doc): RawProblem[] {
  const problems: RawProblem[] = [];
  const declared = Array.isArray(doc.environments) ? doc.environments : undefined;
  const environments: EnvironmentConfig[] = (declared ?? DEFAULT_ENVIRONMENTS).filter(
    (e): e is EnvironmentConfig => isObject(e) && typeof e.name === 'string',
  );
  const seen = new Map<string, number>();
  (declared ?? []).forEach((e, i) => {
    const name = str(obj(e).name);
    if (name === undefined) return;
    const first = seen.get(name);
    if (first !== undefined) {
      problems.push({
        path: ['environments', i, 'name'],
        message: `received "${name}", already declared in environments[${first}]; expected each environment once`,
      });
    } else {
      seen.set(name, i);
    }
  });
  if (environments.length > 0) {
    const unknown = environmentProblem(
      str(doc.environment),
      [...new Map(environments.map((e) => [e.name, e])).values()],
      declared ? 'one of the environments the platform declares' : 'one of the default environments',
    );
    if (unknown) problems.push({ path: ['environment'], message: unknown });
  }
  return problems;
}

/** An EventBridge schedule expression: rate(N unit) or cron with six fields (the schema's pattern of rebuildSchedule). */
const SCHEDULE = /^(rate\((1 (minute|hour|day)|([2-9]|[1-9]\d+) (minutes|hours|days))\)|cron\(\S+( \S+){5}\))$/;

/** Why EventBridge would refuse a schedule expression, or undefined when it accepts it. */
export function scheduleExpressionProblem(schedule: string): string | undefined {
  if (!SCHEDULE.test(schedule)) {
    return `received "${schedule}"; expected an EventBridge schedule such as rate(7 days) or cron(0 3 ? * SUN *)`;
  }
  const cron = schedule.match(/^cron\((\S+) (\S+) (\S+) (\S+) (\S+) (\S+)\)$/);
  if (cron && (cron[3] === '?') === (cron[5] === '?')) {
    return `received "${schedule}"; expected "?" in exactly one of day-of-month (3rd field) and day-of-week (5th), such as cron(0 3 ? * SUN *)`;
  }
  return undefined;
}

/** User names RDS keeps for its own administration. */
const RESERVED_USERNAMES = ['rdsadmin', 'rdsrepladmin', 'rdsproxyadmin', 'rds_superuser', 'rds_replication'];

/** Rules of a database config beyond its schema (also run by CustomerWebTier on props built in code). */
export function databaseRules(db: Doc): RawProblem[] {
  const problems: RawProblem[] = [];
  const engine = str(db.engine);
  const version = str(db.version);
  const versionIssue = engine && version !== undefined ? versionProblem(engine, version) : undefined;
  if (versionIssue && /^\d+(\.\d+){0,2}$/.test(version!)) {
    problems.push({ path: ['database', 'version'], message: `received "${version}" for ${engine}; ${versionIssue}` });
  }
  const type = str(db.instanceType);
  if (type?.startsWith('db.')) {
    problems.push({
      path: ['database', 'instanceType'],
      message: `received "${type}"; expected the class without the db. prefix: "${type.slice(3)}"`,
    });
  } else if (type !== undefined && engine !== undefined) {
    const classIssue = instanceClassProblem(engine, type);
    if (classIssue) {
      problems.push({ path: ['database', 'instanceType'], message: `received "${type}" for ${engine}; ${classIssue}` });
    }
  }
  const user = str(db.masterUsername);
  if (user !== undefined && /^[A-Za-z]\w*$/.test(user)) {
    const limit = engine && /mysql|mariadb/.test(engine) ? 16 : 63;
    if (user.length > limit) {
      problems.push({
        path: ['database', 'masterUsername'],
        message: `received "${user}" (${user.length} characters) for ${engine}; expected at most ${limit} characters`,
      });
    }
    if (RESERVED_USERNAMES.includes(user.toLowerCase())) {
      problems.push({
        path: ['database', 'masterUsername'],
        message: `received "${user}", a name RDS reserves for itself; expected another name, such as app_admin`,
      });
    }
  }
  const window = str(db.preferredBackupWindow);
  const match = window?.match(/^(\d\d):(\d\d)-(\d\d):(\d\d)$/);
  if (match) {
    const [start, end] = [Number(match[1]) * 60 + Number(match[2]), Number(match[3]) * 60 + Number(match[4])];
    const minutes = (end - start + 24 * 60) % (24 * 60);
    if (minutes < 30) {
      problems.push({
        path: ['database', 'preferredBackupWindow'],
        message: `received "${window}", a window of ${minutes} minutes; expected at least 30 minutes`,
      });
    }
  }
  return problems;
}

/** A repository is exactly one of: CodeConnections, CodeCommit, S3 object. */
export function repositoryRules(repo: Doc, at: FieldPath): RawProblem[] {
  const problems: RawProblem[] = [];
  const kinds = [
    repo.connectionArn !== undefined && 'connectionArn',
    repo.codeCommitRepository !== undefined && 'codeCommitRepository',
    repo.s3Bucket !== undefined && 's3Bucket',
  ].filter((k): k is string => typeof k === 'string');
  if (kinds.length === 0) {
    problems.push({
      path: at,
      message: `received ${describeValue(repo)}; expected one kind of source: connectionArn with owner and name, codeCommitRepository, or s3Bucket with s3ObjectKey`,
    });
  } else if (kinds.length > 1) {
    problems.push({ path: at, message: `sets ${kinds.join(' and ')}; expected exactly one kind of source` });
  }
  const needs = (present: string, required: string[]) => {
    if (repo[present] === undefined) {
      for (const key of required) {
        if (repo[key] !== undefined) {
          problems.push({
            path: [...at, key],
            atKey: true,
            message: `only applies with ${present}; expected ${present} too, or remove ${key}`,
          });
        }
      }
      return;
    }
    for (const key of required) {
      if (repo[key] === undefined) {
        problems.push({ path: [...at, key], message: `is missing; ${present} needs ${required.join(' and ')}` });
      }
    }
  };
  needs('connectionArn', ['owner', 'name']);
  needs('s3Bucket', ['s3ObjectKey']);
  if (repo.s3Bucket !== undefined && repo.branch !== undefined) {
    problems.push({
      path: [...at, 'branch'],
      atKey: true,
      message: 'does not apply to an S3 source (the object key names the version); remove it',
    });
  }
  return problems;
}

/** The bake's instance and base image run the web servers' architecture, or no baked image could ever boot. */
function architectureRules(instanceType: string, ami: Doc): RawProblem[] {
  if (!INSTANCE_TYPE.test(instanceType)) return [];
  const problems: RawProblem[] = [];
  const wanted = architectureOf(instanceType);
  if (wanted === undefined) return [];
  const defaults = ARCHITECTURE_DEFAULTS[wanted];
  const forServers = `for web servers of type ${instanceType} (${wanted})`;
  const build = str(ami.buildInstanceType);
  if (build !== undefined && INSTANCE_TYPE.test(build) && (architectureOf(build) ?? wanted) !== wanted) {
    problems.push({
      path: ['ami', 'buildInstanceType'],
      message: `received "${build}" (${architectureOf(build)}) ${forServers}; expected a build instance of the same architecture, such as ${defaults.buildInstanceType}`,
    });
  }
  const image = obj(ami.baseImage);
  const article = wanted === 'arm64' ? 'an arm64' : 'an x86_64';
  for (const [key, example] of [
    ['ssmParameter', defaults.baseImageParameter],
    ['amiNameFilter', defaults.amiNameFilter],
  ] as const) {
    const name = str(image[key]);
    const named = name === undefined ? undefined : imageArchitectureOf(name);
    if (named !== undefined && named !== wanted) {
      problems.push({
        path: ['ami', 'baseImage', key],
        message: `received "${name}" (${named}) ${forServers}; expected ${article} image, such as ${example}`,
      });
    }
  }
  return problems;
}

/** The schema's pattern of an instance type: another value is reported by the schema alone. */
const INSTANCE_TYPE = /^[a-z][a-z0-9-]*\d[a-z0-9-]*\.[a-z0-9]+$/;

function baseImageRules(image: Doc): RawProblem[] {
  const problems: RawProblem[] = [];
  const at: FieldPath = ['ami', 'baseImage'];
  const bySsm = image.ssmParameter !== undefined;
  const byFilter = image.amiNameFilter !== undefined;
  if (bySsm === byFilter) {
    problems.push({
      path: at,
      message: `received ${describeValue(image)}; expected either ssmParameter (such as ${DEFAULT_BASE_IMAGE_PARAMETER}) or amiNameFilter with amiOwners`,
    });
  }
  if (byFilter && image.amiOwners === undefined) {
    problems.push({
      path: [...at, 'amiOwners'],
      message: 'is missing; amiNameFilter needs the owners of the images, such as [amazon]',
    });
  }
  if (!byFilter && image.amiOwners !== undefined) {
    problems.push({
      path: [...at, 'amiOwners'],
      atKey: true,
      message: 'only applies with amiNameFilter; remove it or add amiNameFilter',
    });
  }
  return problems;
}

export function platformRules(doc: unknown): RawProblem[] {
  if (!isObject(doc)) return [];
  const problems: RawProblem[] = [];
  const vpc = obj(doc.vpc);
  const maxAzs = num(vpc.maxAzs);
  if (maxAzs !== undefined && maxAzs < 2) {
    problems.push({
      path: ['vpc', 'maxAzs'],
      message: `received ${maxAzs}; expected at least 2: a load balancer and a database need two Availability Zones`,
    });
  }
  const zones = Array.isArray(vpc.availabilityZones) ? vpc.availabilityZones.filter((z) => typeof z === 'string') : [];
  const region = str(doc.region);
  zones.forEach((zone, i) => {
    if (region !== undefined && /^[a-z]{2}(-[a-z]+)+-\d[a-z]$/.test(zone) && zone.slice(0, -1) !== region) {
      problems.push({
        path: ['vpc', 'availabilityZones', i],
        message: `received ${JSON.stringify(zone)}; expected an Availability Zone of the platform's region ${region}, such as ${region}a`,
      });
    }
  });
  if (zones.length > 0 && maxAzs !== undefined && maxAzs !== zones.length) {
    problems.push({
      path: ['vpc', 'maxAzs'],
      message: `received ${maxAzs} with ${zones.length} availabilityZones; expected ${zones.length}, or no maxAzs`,
    });
  }
  const cidr = str(vpc.cidr);
  const cidrMatch = cidr?.match(/^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/);
  if (cidrMatch) {
    const address = cidrMatch.slice(1, 5).reduce((acc, octet) => acc * 256 + Number(octet), 0);
    const prefix = Number(cidrMatch[5]);
    const hostBits = 2 ** (32 - prefix);
    if (address % hostBits !== 0) {
      const network = address - (address % hostBits);
      const text = [24, 16, 8, 0].map((shift) => Math.floor(network / 2 ** shift) % 256).join('.');
      problems.push({
        path: ['vpc', 'cidr'],
        message: `received "${cidr}", which has host bits set; expected the network address ${text}/${prefix}`,
      });
    }
  }
  problems.push(...natRules(vpc));
  const fleetPipeline = obj(doc.fleetPipeline);
  if (isObject(fleetPipeline.repository)) {
    problems.push(...repositoryRules(fleetPipeline.repository, ['fleetPipeline', 'repository']));
  }
  problems.push(...certificatePlacement(doc.certificateArn, ['certificateArn'], doc));
  problems.push(...environmentsRules(doc));
  return problems;
}

/** NAT instances run a pinned image (a deploy after each Amazon Linux release would replace them otherwise). */
function natRules(vpc: Doc): RawProblem[] {
  const instances = vpc.natInstances === true;
  if (instances && vpc.natInstanceImageId === undefined) {
    return [
      {
        path: ['vpc', 'natInstanceImageId'],
        message:
          'is missing; expected the AMI id of the NAT instances, such as ami-0123456789abcdef0 (an arm64 Amazon ' +
          'Linux 2023 image for the default t4g.nano): a pinned image, so that no platform deploy replaces them ' +
          'when a newer image is published',
      },
    ];
  }
  if (!instances && vpc.natInstanceImageId !== undefined && typeof vpc.natInstances !== 'string') {
    return [
      {
        path: ['vpc', 'natInstanceImageId'],
        message: 'applies to NAT instances only; expected natInstances: true, or no natInstanceImageId',
      },
    ];
  }
  return [];
}

/** An ALB can only use a certificate from its own region and account. */
export function certificatePlacement(arn: unknown, at: FieldPath, platform: Doc): RawProblem[] {
  const region = str(platform.region);
  const account = str(platform.account);
  // A malformed region or account is reported on its own; comparing with it would only add noise.
  if (
    typeof arn !== 'string' ||
    !region ||
    !/^[a-z]{2}(-[a-z]+)+-\d$/.test(region) ||
    !account ||
    !/^\d{12}$/.test(account)
  ) {
    return [];
  }
  const parts = arnParts(arn);
  if (!parts || !/^arn:aws[a-z-]*:acm:/.test(arn)) return [];
  const problems: RawProblem[] = [];
  if (parts.region !== region) {
    problems.push({
      path: at,
      message: `is in region ${parts.region}; expected a certificate in the platform's region ${region} (a load balancer only uses certificates of its own region)`,
    });
  }
  if (parts.account !== account) {
    problems.push({
      path: at,
      message: `is in account ${parts.account}; expected a certificate in the platform's account ${account}`,
    });
  }
  return problems;
}

/**
 * Rules between a customer and its platform: a host name on the shared load balancer must be covered
 * by the platform's wildcard certificate, and a custom domain certificate must be usable there.
 */
export function platformFitRules(doc: unknown, platform: PlatformConfig | undefined): RawProblem[] {
  if (!isObject(doc) || !platform) return [];
  const problems: RawProblem[] = [];
  const hostname = str(doc.hostname);
  if (hostname && /^[a-z0-9.-]+$/.test(hostname)) {
    const suffix = `.${platform.domain}`;
    const label = hostname.endsWith(suffix) ? hostname.slice(0, -suffix.length) : undefined;
    if (label === undefined || label.includes('.') || label === '') {
      problems.push({
        path: ['hostname'],
        message: `received "${hostname}"; expected one name directly under the platform domain, such as shop${suffix} (the shared load balancer's certificate covers *${suffix}); use customDomain for other names`,
      });
    }
  }
  const domain = obj(doc.customDomain);
  problems.push(...certificatePlacement(domain.certificateArn, ['customDomain', 'certificateArn'], { ...platform }));
  // A dedicated load balancer serves the custom domain only: a hostname beside it would be shown, never served. The
  // platform's default name is what a resolved config holds (configs checked again in code): not the user's.
  const environment = str(doc.environment);
  const production = environment !== undefined && productionIn(environment, environmentsOf(platform));
  const customDomain = str(domain.name);
  const platformDefault = `${str(doc.customer)}-${environment}.${platform.domain}`;
  if (production && customDomain !== undefined && hostname !== undefined && hostname !== platformDefault) {
    problems.push({
      path: ['hostname'],
      message:
        `received ${JSON.stringify(hostname)} with customDomain ${customDomain} in production; expected no hostname: ` +
        'a custom domain in production has a load balancer of its own, which serves customDomain.name only',
    });
  }
  return problems;
}
