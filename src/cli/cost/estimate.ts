/*
 * The estimated monthly cost of each environment of a fleet, from its resolved configs, the price table and the
 * assumptions: no synthesis, no AWS call. Each environment carries its own resources (instances at minimum and at
 * maximum capacity, volumes, database, dedicated load balancer, pipelines, alarms, data bucket) and a share of the
 * platform's: the hours of the shared load balancer it is placed on (placement.yaml), split among the environments
 * on it, and the NAT and the platform's fixed costs split evenly among all environments.
 */
import { Assumptions } from './assumptions';
import { PRICE_TABLE_FILE, PriceTable, RegionPrices } from './price-table';
import { ingressOf, ResolvedCustomerConfig } from '../../config/defaults';
import { ConfigError, ConfigProblem } from '../../config/errors';
import { displayPath, platformFilesIn, ResolvedFleet } from '../../config/fleet';
import { DatabaseEngine } from '../../config/types';
import { FleetPlacement } from '../../environment/placement';

/** The NAT instances' type (src/platform/network.ts). */
export const NAT_INSTANCE_TYPE = 't4g.nano';
/** The storage RDS provisions for an instance database (src/web-tier/database.ts). */
export const DATABASE_PROVISIONED_GIB = 20;
/**
 * CloudWatch alarm metrics of an environment outside its health: the deployment's rollback alarms (the 5xx rate, 2
 * metrics; unhealthy hosts, 1) and the CPU scaling's two alarms (src/delivery-pipeline/deployment.ts, the Auto Scaling
 * group's target tracking).
 */
export const ALARM_METRICS_PER_ENVIRONMENT = 5;
/** The request-count scaling's two alarms, when `targetRequestsPerInstance` is set. */
export const REQUEST_SCALING_ALARMS = 2;
/** Dashboards per environment: its health's (EnvironmentHealth). The account's first 3 are free; not counted. */
export const DASHBOARDS_PER_ENVIRONMENT = 1;
/**
 * The platform's own health (PlatformHealth, src/platform/platform-health.ts), as it builds it: 2 alarm metrics per
 * NAT gateway (port allocation errors, packets dropped) or per NAT instance (status checks, CPU), the allocator's
 * errors and throttles (2), each shared load balancer's requests and 5xx (2); one composite alarm; one dashboard,
 * and one more per FLEET_OVERVIEW_ENVIRONMENTS_PER_DASHBOARD environments beyond the first page of the overview.
 */
function platformHealthLine(
  nats: number,
  natInstances: boolean,
  sharedLoadBalancers: number,
  environments: number,
  p: RegionPrices,
): CostLine {
  const metrics = 2 * nats + 2 + 2 * sharedLoadBalancers;
  const dashboards = Math.max(1, Math.ceil(environments / FLEET_OVERVIEW_ENVIRONMENTS_PER_DASHBOARD));
  return line(
    'platform health',
    `${metrics} alarm metrics (${nats} NAT ${natInstances ? 'instance(s)' : 'gateway(s)'}, the allocator, ` +
      `${sharedLoadBalancers} shared load balancer(s)), 1 composite alarm, ${dashboards} dashboard(s)`,
    metrics * p.alarmMetricMonth + COMPOSITE_ALARM_MONTH_USD + dashboards * p.dashboardMonth,
  );
}

/** The environments one page (dashboard) of the fleet overview shows: 50 widgets of 100 alarms. */
export const FLEET_OVERVIEW_ENVIRONMENTS_PER_DASHBOARD = 5000;

/**
 * CloudWatch's price of a composite alarm per month (USD, every region the table holds, public pricing page). Not in
 * the refreshed table: the Price List files carry composite alarms under a usage type the refresh does not read yet.
 */
export const COMPOSITE_ALARM_MONTH_USD = 0.5;

/**
 * The alarm metrics of an environment's health (EnvironmentHealth, src/web-tier/health-alarms.ts), as it builds them
 * from the config: the instances' 5xx rate (2 metrics), a dedicated load balancer's 5xx rate (2), unhealthy hosts,
 * no healthy host (unless the group may scale to zero), p99 latency, CPU; with a database its CPU and, for an RDS
 * instance, its free storage; for Aurora with a reader, the reader's lag. And its composite alarms: Degraded and
 * Health, and Severe when there is a no-healthy-host alarm.
 */
export function healthAlarmsOf(
  c: ResolvedCustomerConfig,
  ingress: 'shared' | 'dedicated',
): { metrics: number; composites: number } {
  const severe = c.compute.minCapacity > 0 ? 1 : 0;
  let metrics = 2 + (ingress === 'dedicated' ? 2 : 0) + 1 + severe + 1 + 1;
  const db = c.database;
  if (db) {
    const aurora = db.engine === DatabaseEngine.AURORA_MYSQL || db.engine === DatabaseEngine.AURORA_POSTGRESQL;
    metrics += 1 + (aurora ? (db.multiAz ? 1 : 0) : 1);
  }
  return { metrics, composites: 2 + severe };
}

/** One line of an estimate: a component, what it is, its monthly cost at minimum and at maximum capacity. */
export interface CostLine {
  readonly component: string;
  readonly detail: string;
  readonly min: number;
  readonly max: number;
}

export interface Range {
  readonly min: number;
  readonly max: number;
}

/** The estimate of one environment. */
export interface EnvironmentEstimate {
  readonly stack: string;
  readonly customer: string;
  readonly environment: string;
  readonly ingress: 'shared' | 'dedicated';
  /** The shared load balancer it is placed on, from 1 (shared ingress only). */
  readonly loadBalancer?: number;
  readonly file: string;
  readonly lines: CostLine[];
  readonly total: Range;
}

/** The estimate of a fleet. */
export interface FleetEstimate {
  readonly platform: string;
  readonly region: string;
  readonly currency: string;
  readonly pricesAsOf: string;
  readonly assumptions: Assumptions;
  /** The platform's own costs before they are split among the environments. */
  readonly platformLines: CostLine[];
  readonly environments: EnvironmentEstimate[];
  readonly total: Range;
}

const line = (component: string, detail: string, min: number, max: number = min): CostLine => ({
  component,
  detail,
  min,
  max,
});
const sum = (lines: CostLine[]): Range => ({
  min: lines.reduce((t, l) => t + l.min, 0),
  max: lines.reduce((t, l) => t + l.max, 0),
});

/** The platform file of a fleet that has been read (it has one), as messages name it. */
function platformFileOf(fleet: ResolvedFleet): string {
  return displayPath(platformFilesIn(fleet.directory)[0]);
}

/** The prices of a fleet's region, or the problem of a region the table does not have. */
function regionOf(fleet: ResolvedFleet, table: PriceTable): RegionPrices {
  const prices = table.regions[fleet.platform.region];
  if (prices === undefined) {
    throw new ConfigError([
      {
        file: platformFileOf(fleet),
        path: 'region',
        message:
          `received "${fleet.platform.region}"; expected a region of the price table ${PRICE_TABLE_FILE} (as of ` +
          `${table.asOf}): ${Object.keys(table.regions).join(', ')} (a region is added by scripts/refresh-prices.ts, ` +
          'CONTRIBUTING.md "The price table")',
      },
    ]);
  }
  return prices;
}

/** The estimate of every environment of a fleet. */
export function estimateFleet(
  fleet: ResolvedFleet,
  placement: FleetPlacement,
  assumptions: Assumptions,
  table: PriceTable,
): FleetEstimate {
  const p = regionOf(fleet, table);
  const h = assumptions.hoursPerMonth;
  const problems: ConfigProblem[] = [];
  const tablePlace = `the price table ${PRICE_TABLE_FILE} (as of ${table.asOf}) for ${fleet.platform.region}`;
  const hourly = (
    prices: Readonly<Record<string, number>>,
    name: string,
    file: string,
    path: string,
    what: string,
  ): number => {
    const price = prices[name];
    if (price === undefined) {
      problems.push({
        file,
        path,
        message: `received "${name}"; expected ${what} of ${tablePlace}: ${Object.keys(prices).join(', ')}`,
      });
      return 0;
    }
    return price;
  };

  const platformFile = platformFileOf(fleet);
  const count = fleet.customers.length;
  const vpc = fleet.platform.vpc;
  const azs = vpc.maxAzs;
  // src/platform/network.ts: a NAT per zone in production, one otherwise.
  const nats = fleet.platform.production ? azs : 1;
  const natLine = vpc.natInstances
    ? line(
        'NAT',
        `${nats} NAT instance(s) ${NAT_INSTANCE_TYPE} with a public IPv4 and a recovery alarm each`,
        nats *
          ((hourly(p.ec2Hour, NAT_INSTANCE_TYPE, platformFile, 'vpc.natInstances', 'an instance type') +
            p.publicIpv4Hour) *
            h +
            p.alarmMetricMonth),
      )
    : line('NAT', `${nats} NAT gateway(s) with a public IPv4 each`, nats * (p.natGatewayHour + p.publicIpv4Hour) * h);
  const lbHours = (p.albHour + azs * p.publicIpv4Hour) * h;
  const onLoadBalancer = new Map<number, number>();
  for (const n of Object.values(placement.environments)) onLoadBalancer.set(n, (onLoadBalancer.get(n) ?? 0) + 1);
  const idle = Array.from({ length: placement.loadBalancers }, (_, i) => i + 1).filter((n) => !onLoadBalancer.has(n));
  const platformLines = [
    natLine,
    line('platform key', 'the platform KMS key', p.kmsKeyMonth),
    line(
      'platform buckets',
      `${assumptions.platformBucketsGiB} GiB S3 Standard (logs, artifacts)`,
      assumptions.platformBucketsGiB * p.s3GbMonth,
    ),
    line('allocator', 'the priority allocator (Lambda, DynamoDB on demand, SSM standard): about 0', 0),
    platformHealthLine(nats, vpc.natInstances === true, placement.loadBalancers, count, p),
    ...(idle.length > 0
      ? [
          line(
            'idle shared load balancers',
            `${idle.length} shared load balancer(s) with no environment`,
            idle.length * lbHours,
          ),
        ]
      : []),
  ];
  const platformFixed = sum(platformLines).min;

  const environments = fleet.customers.map((c, i): EnvironmentEstimate => {
    const file = fleet.files[i];
    const stack = `${c.customer}-${c.environment}`;
    const ingress = ingressOf(c);
    const lines: CostLine[] = [];
    const { instanceType, minCapacity, maxCapacity, rootVolumeGib } = c.compute;
    const ec2 = hourly(p.ec2Hour, instanceType, file, 'compute.instanceType', 'an instance type');
    lines.push(
      line(
        'instances',
        `${minCapacity} to ${maxCapacity} × ${instanceType}`,
        ec2 * h * minCapacity,
        ec2 * h * maxCapacity,
      ),
    );
    lines.push(
      line(
        'volumes',
        `${rootVolumeGib} GiB gp3 per instance`,
        rootVolumeGib * p.ebsGp3GbMonth * minCapacity,
        rootVolumeGib * p.ebsGp3GbMonth * maxCapacity,
      ),
    );
    if (c.database) lines.push(...databaseLines(c, file, p, assumptions, hourly));
    const lcus = lcusOf(assumptions);
    const lcuCost = lcus * p.albLcuHour * h;
    const loadBalancer = ingress === 'shared' ? placement.environments[stack] : undefined;
    if (ingress === 'dedicated') {
      lines.push(line('load balancer', `dedicated ALB (${azs} zones) and ${round(lcus, 3)} LCU`, lbHours + lcuCost));
    } else {
      const sharing = loadBalancer !== undefined ? (onLoadBalancer.get(loadBalancer) ?? 1) : 1;
      lines.push(
        line(
          'load balancer',
          `1/${sharing} of shared ALB ${loadBalancer ?? '(not placed yet)'} and ${round(lcus, 3)} LCU`,
          lbHours / sharing + lcuCost,
        ),
      );
    }
    const natData = vpc.natInstances ? 0 : assumptions.natGiBPerEnvironment * p.natGatewayGb;
    lines.push(
      line(
        'NAT share',
        `1/${count} of ${natLine.detail}${vpc.natInstances ? '' : `, ${assumptions.natGiBPerEnvironment} GiB processed`}`,
        natLine.min / count + natData,
      ),
    );
    lines.push(
      line(
        'platform share',
        `1/${count} of the platform's key, buckets, health and idle load balancers`,
        (platformFixed - natLine.min) / count,
      ),
    );
    const buildMinutes = assumptions.buildMinutesPerDeploy * assumptions.deploysPerMonth;
    const bakeMinutes = assumptions.bakeMinutes * assumptions.bakesPerMonth;
    lines.push(
      line(
        'build minutes',
        `${buildMinutes + bakeMinutes} CodeBuild general1.small minutes (builds and bakes)`,
        (buildMinutes + bakeMinutes) * p.codeBuildSmallMinute,
      ),
    );
    const actionMinutes =
      (assumptions.buildMinutesPerDeploy + assumptions.deployMinutesPerDeploy) * assumptions.deploysPerMonth +
      bakeMinutes;
    lines.push(
      line(
        'pipeline minutes',
        `${actionMinutes} CodePipeline V2 action minutes`,
        actionMinutes * p.codePipelineV2ActionMinute,
      ),
    );
    const bakeType = c.ami.buildInstanceType;
    const bakeHour = hourly(p.ec2Hour, bakeType, file, 'ami.buildInstanceType', 'an instance type');
    lines.push(line('bake instance', `${bakeMinutes} minutes of ${bakeType}`, (bakeMinutes / 60) * bakeHour));
    lines.push(
      line('data bucket', `${assumptions.dataBucketGiB} GiB S3 Standard`, assumptions.dataBucketGiB * p.s3GbMonth),
    );
    const health = healthAlarmsOf(c, ingress);
    const alarms =
      ALARM_METRICS_PER_ENVIRONMENT +
      (c.compute.targetRequestsPerInstance !== undefined ? REQUEST_SCALING_ALARMS : 0) +
      health.metrics;
    lines.push(
      line(
        'alarms and dashboard',
        `${alarms} alarm metrics, ${health.composites} composite alarms, ${DASHBOARDS_PER_ENVIRONMENT} dashboard`,
        alarms * p.alarmMetricMonth +
          health.composites * COMPOSITE_ALARM_MONTH_USD +
          DASHBOARDS_PER_ENVIRONMENT * p.dashboardMonth,
      ),
    );
    return {
      stack,
      customer: c.customer,
      environment: c.environment,
      ingress,
      ...(loadBalancer !== undefined ? { loadBalancer } : {}),
      file,
      lines,
      total: sum(lines),
    };
  });
  if (problems.length > 0) throw new ConfigError(problems);
  const totals = environments.map((e) => e.total);
  return {
    platform: fleet.platform.name,
    region: fleet.platform.region,
    currency: table.currency,
    pricesAsOf: table.asOf,
    assumptions,
    platformLines,
    environments,
    total: {
      // With no environment, the platform's costs are nobody's share: they are the fleet's total.
      min: count === 0 ? platformFixed : totals.reduce((t, r) => t + r.min, 0),
      max: count === 0 ? platformFixed : totals.reduce((t, r) => t + r.max, 0),
    },
  };
}

/**
 * Load balancer capacity units an environment uses: the larger of processed GB per hour and new connections per
 * second / 25 (one connection per request, the upper bound), the two dimensions a web application reaches first.
 */
export function lcusOf(a: Assumptions): number {
  const gbPerHour = (a.requestsPerMonth * a.averageResponseKiB) / (1024 * 1024) / a.hoursPerMonth;
  const connectionsPerSecond = a.requestsPerMonth / (a.hoursPerMonth * 3600);
  return Math.max(gbPerHour, connectionsPerSecond / 25);
}

type Hourly = (
  prices: Readonly<Record<string, number>>,
  name: string,
  file: string,
  path: string,
  what: string,
) => number;

function databaseLines(
  c: ResolvedCustomerConfig,
  file: string,
  p: RegionPrices,
  a: Assumptions,
  hourly: Hourly,
): CostLine[] {
  const db = c.database!;
  const dbClass = `db.${db.instanceType}`;
  const h = a.hoursPerMonth;
  const aurora = db.engine === DatabaseEngine.AURORA_MYSQL || db.engine === DatabaseEngine.AURORA_POSTGRESQL;
  const lines: CostLine[] = [];
  let provisioned: number;
  let backupPrice: number;
  if (aurora) {
    // src/web-tier/database.ts: a writer, and a reader in another zone when multi-AZ.
    const instances = db.multiAz ? 2 : 1;
    const price = hourly(
      p.auroraHour[db.engine] ?? {},
      dbClass,
      file,
      'database.instanceType',
      `an Aurora class of ${db.engine}`,
    );
    lines.push(
      line(
        'database',
        `${instances} × ${dbClass} ${db.engine}${db.multiAz ? ' (writer and reader)' : ''}`,
        instances * price * h,
      ),
    );
    provisioned = a.databaseDataGiB;
    lines.push(line('database storage', `${provisioned} GiB Aurora storage`, provisioned * p.auroraStorageGbMonth));
    backupPrice = p.backupGbMonth.aurora;
  } else {
    const classes = p.rdsHour[db.engine] ?? {};
    const singleAz = Object.fromEntries(Object.entries(classes).map(([k, v]) => [k, v.singleAz]));
    const multiAz = Object.fromEntries(Object.entries(classes).map(([k, v]) => [k, v.multiAz]));
    const price = hourly(
      db.multiAz ? multiAz : singleAz,
      dbClass,
      file,
      'database.instanceType',
      `a class of ${db.engine}`,
    );
    lines.push(line('database', `${dbClass} ${db.engine} ${db.multiAz ? 'multi-AZ' : 'single-AZ'}`, price * h));
    provisioned = Math.max(DATABASE_PROVISIONED_GIB, a.databaseDataGiB);
    const gb = db.multiAz ? p.rdsGp3GbMonth.multiAz : p.rdsGp3GbMonth.singleAz;
    lines.push(line('database storage', `${provisioned} GiB gp3${db.multiAz ? ' multi-AZ' : ''}`, provisioned * gb));
    backupPrice = p.backupGbMonth.rds;
  }
  // Backups: a full copy and the changes of the retention period; free up to 100% of the provisioned storage.
  const backupGib = a.databaseDataGiB + (a.databaseStorageGrowthGiBPerMonth * db.backupRetentionDays) / 30;
  const charged = Math.max(0, backupGib - provisioned);
  lines.push(
    line(
      'database backups',
      `${round(charged, 2)} GiB beyond the free share (${db.backupRetentionDays} days kept)`,
      charged * backupPrice,
    ),
  );
  lines.push(line('database secret', 'the RDS-managed master password in Secrets Manager', p.secretMonth));
  return lines;
}

/** A number rounded to `digits` decimals. */
export function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
