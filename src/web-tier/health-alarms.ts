import { Duration } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { Construct } from 'constructs';
import type { CustomerWebTier } from './customer-web-tier';

/*
 * Internal (not re-exported by the package): the metrics of a customer environment and its alarms, by level. The
 * EnvironmentHealth construct puts them on its dashboard and under its composite alarms.
 */

/** How bad a member alarm in ALARM is for the environment (README, "See an environment's health"). */
export type HealthLevel = 'warning' | 'degraded' | 'severe';

/** Thresholds in the metrics' own units. */
export interface HealthThresholds {
  readonly serverErrorPercent: number;
  readonly latencyP99Seconds: number;
  readonly unhealthyHosts: number;
  readonly cpuPercent: number;
  readonly databaseCpuPercent: number;
  readonly databaseFreeStorageBytes: number;
  readonly replicaLagMilliseconds: number;
}

/** A member alarm of the environment's health, and its level. */
export interface MemberAlarm {
  readonly alarm: cloudwatch.Alarm;
  readonly level: HealthLevel;
}

/** The metrics a dashboard shows, grouped as its graphs. */
export interface EnvironmentMetrics {
  readonly requests: cloudwatch.IMetric;
  readonly target5xx: cloudwatch.IMetric;
  /** The load balancer's own 5xx: the environment's for a dedicated one, every environment's for a shared one. */
  readonly loadBalancer5xx?: cloudwatch.IMetric;
  readonly latencyP50: cloudwatch.IMetric;
  readonly latencyP99: cloudwatch.IMetric;
  readonly healthyHosts: cloudwatch.IMetric;
  readonly unhealthyHosts: cloudwatch.IMetric;
  readonly cpu: cloudwatch.IMetric;
  readonly databaseCpu?: cloudwatch.IMetric;
  readonly databaseConnections?: cloudwatch.IMetric;
  readonly databaseFreeStorage?: cloudwatch.IMetric;
  readonly replicaLag?: cloudwatch.IMetric;
}

const MINUTE = Duration.minutes(1);
const FIVE_MINUTES = Duration.minutes(5);

/** Whether the load balancer in front serves this environment alone (a dedicated one). */
export function isDedicated(webTier: CustomerWebTier): boolean {
  return webTier.sharedRule === undefined && webTier.loadBalancer !== undefined;
}

/**
 * The environment's metrics. The target group's carry both of its dimensions, TargetGroup and LoadBalancer, on a
 * shared load balancer as on a dedicated one: they are the environment's own either way.
 */
export function environmentMetrics(where: string, webTier: CustomerWebTier): EnvironmentMetrics {
  let metrics: elbv2.IApplicationTargetGroupMetrics;
  try {
    metrics = webTier.targetGroup.metrics;
  } catch {
    throw new Error(
      `${where}: webTier: received a web tier whose target group is attached to no load balancer; expected one ` +
        "behind a listener (the health alarms read the load balancer's metrics of its target group)",
    );
  }
  const sum = { period: MINUTE, statistic: cloudwatch.Stats.SUM };
  const result: EnvironmentMetrics = {
    requests: metrics.requestCount({ ...sum, label: 'Requests' }),
    target5xx: metrics.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, { ...sum, label: '5xx of the instances' }),
    loadBalancer5xx: webTier.loadBalancer?.metrics.httpCodeElb(elbv2.HttpCodeElb.ELB_5XX_COUNT, {
      ...sum,
      label: isDedicated(webTier)
        ? '5xx of the load balancer'
        : '5xx of the shared load balancer (every environment on it)',
    }),
    latencyP50: metrics.targetResponseTime({ period: MINUTE, statistic: cloudwatch.Stats.p(50), label: 'p50' }),
    latencyP99: metrics.targetResponseTime({ period: MINUTE, statistic: cloudwatch.Stats.p(99), label: 'p99' }),
    healthyHosts: metrics.healthyHostCount({ period: MINUTE, statistic: cloudwatch.Stats.MINIMUM, label: 'Healthy' }),
    unhealthyHosts: metrics.unhealthyHostCount({
      period: MINUTE,
      statistic: cloudwatch.Stats.MAXIMUM,
      label: 'Unhealthy',
    }),
    cpu: new cloudwatch.Metric({
      namespace: 'AWS/EC2',
      metricName: 'CPUUtilization',
      dimensionsMap: { AutoScalingGroupName: webTier.autoScalingGroup.autoScalingGroupName },
      period: FIVE_MINUTES,
      statistic: cloudwatch.Stats.AVERAGE,
      label: 'Instances CPU (%)',
    }),
  };
  const instance = webTier.databaseInstance;
  const cluster = webTier.databaseCluster;
  const database = { period: FIVE_MINUTES };
  if (instance) {
    return {
      ...result,
      databaseCpu: instance.metricCPUUtilization({ ...database, label: 'Database CPU (%)' }),
      databaseConnections: instance.metricDatabaseConnections({ ...database, label: 'Connections' }),
      databaseFreeStorage: instance.metricFreeStorageSpace({
        ...database,
        statistic: cloudwatch.Stats.MINIMUM,
        label: 'Free storage (bytes)',
      }),
    };
  }
  if (cluster) {
    return {
      ...result,
      databaseCpu: cluster.metricCPUUtilization({ ...database, label: 'Database CPU (%)' }),
      databaseConnections: cluster.metricDatabaseConnections({ ...database, label: 'Connections' }),
      // A reader exists with multiAz only: the writer alone reports no lag.
      replicaLag:
        cluster.instanceIdentifiers.length > 1
          ? cluster.metric('AuroraReplicaLagMaximum', {
              period: MINUTE,
              statistic: cloudwatch.Stats.MAXIMUM,
              label: 'Reader lag (ms)',
            })
          : undefined,
    };
  }
  return result;
}

/** The share of `requests` answered with `errors`, in percent, counted from 10 requests a minute on. */
function errorRate(requests: cloudwatch.IMetric, errors: cloudwatch.IMetric, label: string): cloudwatch.MathExpression {
  return new cloudwatch.MathExpression({
    // Under 10 requests a minute, a single error would be a large share.
    expression: 'IF(requests >= 10, 100 * FILL(errors, 0) / requests, 0)',
    usingMetrics: { requests, errors },
    period: MINUTE,
    label,
  });
}

/**
 * The member alarms, each in `scope` under its own id: what the environment's health is made of. A threshold that
 * does not apply (no database, Aurora's storage, a cluster without a reader, a group that may scale to zero) makes
 * no alarm.
 */
export function createMemberAlarms(
  scope: Construct,
  webTier: CustomerWebTier,
  metrics: EnvironmentMetrics,
  thresholds: HealthThresholds,
): MemberAlarm[] {
  const label = `${webTier.customer}-${webTier.environment}`;
  const members: MemberAlarm[] = [];
  const add = (id: string, level: HealthLevel, props: cloudwatch.CreateAlarmOptions & { metric: cloudwatch.IMetric }) =>
    members.push({
      level,
      alarm: new cloudwatch.Alarm(scope, id, { treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING, ...props }),
    });
  const t = thresholds;

  add('ServerErrorsAlarm', 'degraded', {
    alarmDescription: `${label} is Degraded: more than ${t.serverErrorPercent}% of its requests answered with 5xx by its instances`,
    metric: errorRate(metrics.requests, metrics.target5xx, 'Requests answered with 5xx by the instances (%)'),
    threshold: t.serverErrorPercent,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    evaluationPeriods: 3,
    datapointsToAlarm: 2,
  });
  if (isDedicated(webTier) && metrics.loadBalancer5xx) {
    const lb = webTier.loadBalancer!.metrics;
    add('LoadBalancerErrorsAlarm', 'degraded', {
      alarmDescription: `${label} is Degraded: more than ${t.serverErrorPercent}% of its requests answered with 5xx by its load balancer`,
      metric: errorRate(
        lb.requestCount({ period: MINUTE, statistic: cloudwatch.Stats.SUM }),
        metrics.loadBalancer5xx,
        'Requests answered with 5xx by the load balancer (%)',
      ),
      threshold: t.serverErrorPercent,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
    });
  }
  add('UnhealthyHostsAlarm', 'degraded', {
    alarmDescription: `${label} is Degraded: ${t.unhealthyHosts} or more of its instances fail the load balancer's health check`,
    metric: metrics.unhealthyHosts,
    threshold: t.unhealthyHosts,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    evaluationPeriods: 2,
    datapointsToAlarm: 2,
  });
  if (mayHaveNoInstance(webTier.autoScalingGroup) === false) {
    add('NoHealthyHostAlarm', 'severe', {
      alarmDescription: `${label} is Severe: no instance passes the load balancer's health check, visitors get errors`,
      metric: metrics.healthyHosts,
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: 2,
      datapointsToAlarm: 2,
    });
  }
  add('LatencyAlarm', 'warning', {
    alarmDescription: `${label} is in Warning: its instances' p99 response time is above ${t.latencyP99Seconds * 1000} ms`,
    metric: metrics.latencyP99,
    threshold: t.latencyP99Seconds,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    evaluationPeriods: 5,
    datapointsToAlarm: 3,
  });
  add('CpuAlarm', 'warning', {
    alarmDescription: `${label} is in Warning: its instances' average CPU is above ${t.cpuPercent}%`,
    metric: metrics.cpu,
    threshold: t.cpuPercent,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    evaluationPeriods: 3,
    datapointsToAlarm: 3,
  });
  if (metrics.databaseCpu) {
    add('DatabaseCpuAlarm', 'warning', {
      alarmDescription: `${label} is in Warning: its database's CPU is above ${t.databaseCpuPercent}%`,
      metric: metrics.databaseCpu,
      threshold: t.databaseCpuPercent,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 3,
    });
  }
  if (metrics.databaseFreeStorage) {
    add('DatabaseFreeStorageAlarm', 'warning', {
      alarmDescription: `${label} is in Warning: its database has less than ${t.databaseFreeStorageBytes / 1024 ** 3} GiB of free storage`,
      metric: metrics.databaseFreeStorage,
      threshold: t.databaseFreeStorageBytes,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: 1,
    });
  }
  if (metrics.replicaLag) {
    add('ReplicaLagAlarm', 'warning', {
      alarmDescription: `${label} is in Warning: its database's reader lags more than ${t.replicaLagMilliseconds / 1000} s behind the writer`,
      metric: metrics.replicaLag,
      threshold: t.replicaLagMilliseconds,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 5,
      datapointsToAlarm: 3,
    });
  }
  return members;
}

/**
 * Whether the group may run no instance at all (a minimum of 0: no healthy host is then no failure), undefined when
 * its minimum is a token.
 */
function mayHaveNoInstance(group: autoscaling.AutoScalingGroup): boolean | undefined {
  const cfn = group.node.defaultChild as autoscaling.CfnAutoScalingGroup;
  const min = Number(cfn.minSize);
  return Number.isNaN(min) ? undefined : min === 0;
}
