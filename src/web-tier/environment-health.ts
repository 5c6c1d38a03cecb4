import { Duration, Size, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import type { CustomerWebTier } from './customer-web-tier';
import { createMemberAlarms, environmentMetrics, EnvironmentMetrics, HealthLevel, MemberAlarm } from './health-alarms';
import { leaveOutCreationStackTraces } from '../config/creation-traces';
import { DEFAULT_HEALTH_THRESHOLDS } from '../config/defaults';
import { checkCustomer } from '../config/loader';
import { CustomerConfig } from '../config/types';
import { gibibytesOf, numberProblem, NumberRuleName, secondsOf, valueProblem } from '../config/values';
import { ISharedPlatform } from '../platform/platform-reference';

/** Props of EnvironmentHealth. */
export interface EnvironmentHealthProps {
  /** The environment's web tier: its target group, load balancer, instances and database are watched. */
  readonly webTier: CustomerWebTier;
  /**
   * Key that encrypts the alert topic, e.g. `SharedPlatform.key`: its policy must let CloudWatch
   * (`cloudwatch.amazonaws.com`) use it, as the platform key's does, or alarms cannot publish.
   */
  readonly encryptionKey: kms.IKey;
  /**
   * Addresses subscribed to the alert topic (each confirms its subscription once); an address given twice is
   * subscribed once.
   * @default - none: the topic has no subscriber
   */
  readonly alertEmails?: string[];
  /**
   * Share of the requests answered with 5xx (by the instances, or by a dedicated load balancer) above which the
   * environment is Degraded, in percent (1 to 100).
   * @default 5
   */
  readonly serverErrorPercent?: number;
  /**
   * The instances' p99 response time above which the environment is in Warning (10 ms to 600 s, whole ms).
   * @default Duration.seconds(2)
   */
  readonly latencyP99?: Duration;
  /**
   * Instances failing the health check from which the environment is Degraded (1 to 100).
   * @default 1
   */
  readonly unhealthyHosts?: number;
  /**
   * The instances' average CPU above which the environment is in Warning, in percent (10 to 100).
   * @default 85
   */
  readonly cpuPercent?: number;
  /**
   * The database's CPU above which the environment is in Warning, in percent (10 to 100).
   * @default 85
   */
  readonly databaseCpuPercent?: number;
  /**
   * An RDS instance's free storage below which the environment is in Warning (1 to 65,536 whole GiB).
   * @default Size.gibibytes(2)
   */
  readonly databaseFreeStorage?: Size;
  /**
   * An Aurora reader's lag behind the writer above which the environment is in Warning (1 to 3,600 whole seconds).
   * @default Duration.seconds(30)
   */
  readonly replicaLag?: Duration;
}

/**
 * The health of one customer environment: a CloudWatch dashboard, alarms on its load balancer, instances and
 * database, and three composite alarms that give it Elastic Beanstalk-like states (README, "See an environment's
 * health"): `<customer>-<environment>-severe` (no healthy instance), `…-degraded` (5xx above the threshold,
 * unhealthy instances, or Severe) and `…-health` (any alarm: Warning, Degraded or Severe). Alarms notify the
 * environment's alert topic, encrypted with the given key and TLS-only, to which `alertEmails` are subscribed.
 *
 * @example
 * declare const web: CustomerWebTier;
 * declare const platform: SharedPlatform;
 *
 * new EnvironmentHealth(this, 'Health', {
 *   webTier: web,
 *   encryptionKey: platform.key,
 *   alertEmails: ['ops@example.com'],
 *   latencyP99: Duration.millis(800),
 * });
 */
export class EnvironmentHealth extends Construct {
  /** The name of an environment's health alarm, which the platform's fleet overview shows. */
  public static healthAlarmName(customer: string, environment: string): string {
    return `${customer}-${environment}-health`;
  }

  /**
   * The health of an environment from its customer config (the file's `health`) on a platform, watching its web
   * tier. The config is validated first.
   */
  public static fromConfig(
    scope: Construct,
    id: string,
    config: CustomerConfig,
    platform: ISharedPlatform,
    webTier: CustomerWebTier,
  ): EnvironmentHealth {
    const resolved = checkCustomer(
      config,
      undefined,
      `EnvironmentHealth.fromConfig ${scope.node.path}/${id}`,
      platform,
    );
    const health = resolved.health;
    return new EnvironmentHealth(scope, id, {
      webTier,
      encryptionKey: platform.key,
      alertEmails: health.alertEmails,
      serverErrorPercent: health.http5xxPercent,
      latencyP99: Duration.millis(health.latencyP99Ms),
      unhealthyHosts: health.unhealthyHosts,
      cpuPercent: health.cpuPercent,
      databaseCpuPercent: health.dbCpuPercent,
      databaseFreeStorage: health.dbFreeStorageGib !== undefined ? Size.gibibytes(health.dbFreeStorageGib) : undefined,
      replicaLag: health.dbReplicaLagSeconds !== undefined ? Duration.seconds(health.dbReplicaLagSeconds) : undefined,
    });
  }

  /** The environment's health: in ALARM when any of its alarms is (Warning, Degraded or Severe). */
  public readonly alarm: cloudwatch.CompositeAlarm;
  /** In ALARM when the environment is Degraded or Severe. */
  public readonly degradedAlarm: cloudwatch.CompositeAlarm;
  /**
   * In ALARM when the environment is Severe: no instance passes the health check.
   * @default - none, for a group that may scale to zero instances
   */
  public readonly severeAlarm?: cloudwatch.CompositeAlarm;
  /** The metric alarms the composite alarms are made of. */
  public readonly memberAlarms: cloudwatch.IAlarm[];
  /** The alert topic: alarms in ALARM, and the health back to OK. */
  public readonly topic: sns.Topic;
  /** The environment's dashboard. */
  public readonly dashboard: cloudwatch.Dashboard;

  public constructor(scope: Construct, id: string, props: EnvironmentHealthProps) {
    super(scope, id);
    leaveOutCreationStackTraces(this);
    const where = `EnvironmentHealth ${this.node.path}`;
    const thresholds = checkedThresholds(where, props);
    const emails = [...new Set(props.alertEmails ?? [])];
    for (const [i, email] of emails.entries()) {
      const problem = valueProblem('alertEmail', email);
      if (problem) throw new Error(`${where}: alertEmails[${i}]: ${problem}`);
    }
    const web = props.webTier;
    const label = `${web.customer}-${web.environment}`;

    this.topic = new sns.Topic(this, 'AlertTopic', {
      displayName: `Health of ${label}`,
      masterKey: props.encryptionKey,
      enforceSSL: true,
    });
    for (const email of emails) this.topic.addSubscription(new subscriptions.EmailSubscription(email));
    const notify = new cloudwatchActions.SnsAction(this.topic);

    const metrics = environmentMetrics(where, web);
    const members = createMemberAlarms(this, web, metrics, thresholds);
    // Every member tells what crossed its threshold (AWS Control Tower wants an action on each metric alarm).
    for (const { alarm } of members) alarm.addAlarmAction(notify);
    this.memberAlarms = members.map((m) => m.alarm);
    const of = (level: HealthLevel) => members.filter((m) => m.level === level).map((m) => m.alarm);

    const severe = of('severe');
    if (severe.length > 0) {
      this.severeAlarm = this.composite(
        'SevereAlarm',
        `${label}-severe`,
        severe,
        `${label} is Severe: no instance passes the load balancer's health check`,
      );
      this.severeAlarm.addAlarmAction(notify);
    }
    this.degradedAlarm = this.composite(
      'DegradedAlarm',
      `${label}-degraded`,
      [...(this.severeAlarm ? [this.severeAlarm] : []), ...of('degraded')],
      `${label} is Degraded or Severe: 5xx above ${thresholds.serverErrorPercent}%, unhealthy instances, or none healthy`,
    );
    this.degradedAlarm.addAlarmAction(notify);
    this.alarm = this.composite(
      'HealthAlarm',
      EnvironmentHealth.healthAlarmName(web.customer, web.environment),
      [this.degradedAlarm, ...of('warning')],
      `The health of ${label}: OK, or in ALARM when it is in Warning, Degraded or Severe (README, "See an environment's health")`,
    );
    // Back to OK: the all-clear after the members' mails.
    this.alarm.addOkAction(notify);

    this.dashboard = this.createDashboard(label, metrics, members);
  }

  private composite(
    id: string,
    name: string,
    alarms: cloudwatch.IAlarm[],
    description: string,
  ): cloudwatch.CompositeAlarm {
    return new cloudwatch.CompositeAlarm(this, id, {
      compositeAlarmName: name,
      alarmDescription: description,
      alarmRule: cloudwatch.AlarmRule.anyOf(
        ...alarms.map((a) => cloudwatch.AlarmRule.fromAlarm(a, cloudwatch.AlarmState.ALARM)),
      ),
    });
  }

  private createDashboard(label: string, metrics: EnvironmentMetrics, members: MemberAlarm[]): cloudwatch.Dashboard {
    const region = Stack.of(this).region;
    const graph = (
      title: string,
      left: (cloudwatch.IMetric | undefined)[],
      right: (cloudwatch.IMetric | undefined)[] = [],
    ) =>
      new cloudwatch.GraphWidget({
        title,
        width: 8,
        height: 6,
        left: left.filter((m): m is cloudwatch.IMetric => m !== undefined),
        right: right.filter((m): m is cloudwatch.IMetric => m !== undefined),
      });
    const rows: cloudwatch.IWidget[][] = [
      [
        new cloudwatch.AlarmStatusWidget({
          title: `Health of ${label}`,
          width: 24,
          height: 4,
          alarms: [
            this.alarm,
            this.degradedAlarm,
            ...(this.severeAlarm ? [this.severeAlarm] : []),
            ...members.map((m) => m.alarm),
          ],
        }),
      ],
      [
        graph('Requests and 5xx', [metrics.requests], [metrics.target5xx, metrics.loadBalancer5xx]),
        graph('Response time (s)', [metrics.latencyP50, metrics.latencyP99]),
        graph('Instances', [metrics.healthyHosts, metrics.unhealthyHosts], [metrics.cpu]),
      ],
    ];
    if (metrics.databaseCpu) {
      rows.push([
        graph('Database CPU (%)', [metrics.databaseCpu]),
        graph('Database connections', [metrics.databaseConnections]),
        metrics.replicaLag
          ? graph('Reader lag (ms)', [metrics.replicaLag])
          : graph('Database free storage (bytes)', [metrics.databaseFreeStorage]),
      ]);
    }
    return new cloudwatch.Dashboard(this, 'Dashboard', {
      // Dashboard names are the account's, across regions.
      dashboardName: Token.isUnresolved(region) ? label : `${label}-${region}`,
      widgets: rows,
    });
  }
}

/** The props' thresholds checked with the config file's rules, in the metrics' units. */
function checkedThresholds(where: string, props: EnvironmentHealthProps) {
  const d = DEFAULT_HEALTH_THRESHOLDS;
  const check = (prop: string, rule: NumberRuleName, value: number | undefined, unit?: string) => {
    const problem = value === undefined ? undefined : numberProblem(rule, value, unit);
    if (problem) throw new Error(`${where}: ${prop}: ${problem}`);
  };
  const latencyMs =
    props.latencyP99 && !props.latencyP99.isUnresolved() ? props.latencyP99.toMilliseconds() : undefined;
  const freeGib = gibibytesOf(props.databaseFreeStorage);
  const lagSeconds = secondsOf(props.replicaLag);
  check('serverErrorPercent', 'http5xxPercent', props.serverErrorPercent);
  check('latencyP99', 'latencyP99Ms', latencyMs, 'ms');
  check('unhealthyHosts', 'unhealthyHosts', props.unhealthyHosts);
  check('cpuPercent', 'cpuPercent', props.cpuPercent);
  check('databaseCpuPercent', 'dbCpuPercent', props.databaseCpuPercent);
  check('databaseFreeStorage', 'dbFreeStorageGib', freeGib, 'GiB');
  check('replicaLag', 'dbReplicaLagSeconds', lagSeconds, 'seconds');
  return {
    serverErrorPercent: props.serverErrorPercent ?? d.http5xxPercent,
    latencyP99Seconds: (latencyMs ?? d.latencyP99Ms) / 1000,
    unhealthyHosts: props.unhealthyHosts ?? d.unhealthyHosts,
    cpuPercent: props.cpuPercent ?? d.cpuPercent,
    databaseCpuPercent: props.databaseCpuPercent ?? d.dbCpuPercent,
    databaseFreeStorageBytes: (freeGib ?? d.dbFreeStorageGib) * 1024 ** 3,
    replicaLagMilliseconds: (lagSeconds ?? d.dbReplicaLagSeconds) * 1000,
  };
}
