/*
 * One case of the health library benchmark, run by scripts/bench-health-library.ts in a fresh child process
 * (transpiled to JavaScript first, so the process is `node app.js`, as a user's compiled CDK app is):
 *
 *   node bench-health-library-app.js <none|library|monitoring> <fleet directory> <outdir> <result.json> <lib directory>
 *
 * Each case is `VendingFleet.fromDirectory(app, fleet)` on the compiled library, then `app.synth()` into `outdir`;
 * what differs is the health of each customer environment (`EnvironmentHealth.fromConfig`, replaced in this
 * process only):
 *
 * - library: EnvironmentHealth as the library builds it;
 * - monitoring: the nearest equivalent built with cdk-monitoring-constructs (MonitoringFacade, monitorCustom for the
 *   target group's and instances' metrics, which it has no Auto Scaling group behind a load balancer for,
 *   monitorRdsInstance / monitorAuroraCluster for the database, composite alarms by tag), on the same web tier and
 *   database, with the same metrics, thresholds, topic and alarm names the fleet overview reads;
 * - none: no health at all (the floor: the rest of the fleet).
 *
 * The platform (its own health and the fleet overview) is the library's in every case. Writes to `result.json` the
 * time to load the modules, to build the constructs and to synthesize, and the peak RSS.
 */
import { writeFileSync } from 'fs';
import { join } from 'path';
import { performance } from 'perf_hooks';
import type * as Library from '../src';

type Cdk = typeof import('aws-cdk-lib');
type Cloudwatch = typeof import('aws-cdk-lib/aws-cloudwatch');

const CASES = ['none', 'library', 'monitoring'];
/** Where cdk-monitoring-constructs must be for the monitoring case; it is not a dependency of the project. */
export const MONITORING_PACKAGE = 'cdk-monitoring-constructs';
export const MONITORING_VERSION = '10.2.0';

function main(): void {
  const [kind, fleet, outdir, result, libDirectory] = process.argv.slice(2);
  if (!CASES.includes(kind) || !fleet || !outdir || !result || !libDirectory) {
    throw new Error(
      `usage: bench-health-library-app <${CASES.join('|')}> <fleet> <outdir> <result.json> <lib directory>`,
    );
  }
  /* eslint-disable @typescript-eslint/no-require-imports */
  const cdk: Cdk = require('aws-cdk-lib');
  const library: typeof Library = require(libDirectory);
  const defaults = require(join(libDirectory, 'config', 'defaults'));
  const monitoring = kind === 'monitoring' ? loadMonitoring() : undefined;
  /* eslint-enable @typescript-eslint/no-require-imports */
  const loaded = performance.now();

  const health = library.EnvironmentHealth as any;
  if (kind === 'none') {
    health.fromConfig = () => undefined;
  } else if (monitoring) {
    health.fromConfig = (
      scope: any,
      id: string,
      config: Library.CustomerConfig,
      platform: Library.ISharedPlatform,
      webTier: Library.CustomerWebTier,
    ) =>
      monitoredHealth(
        cdk,
        monitoring,
        scope,
        id,
        defaults.resolveHealth(config.health, !!config.database),
        platform,
        webTier,
      );
  }

  const app = new cdk.App({ outdir });
  library.VendingFleet.fromDirectory(app, fleet);
  const built = performance.now();
  app.synth();
  const synthesized = performance.now();
  writeFileSync(
    result,
    JSON.stringify({
      loadMs: loaded,
      buildMs: built - loaded,
      synthMs: synthesized - built,
      maxRssKib: process.resourceUsage().maxRSS,
    }),
  );
}

/** cdk-monitoring-constructs, or an error that says how to install it (it is not a dependency). */
function loadMonitoring(): any {
  try {
    return require(MONITORING_PACKAGE); // eslint-disable-line @typescript-eslint/no-require-imports
  } catch {
    throw new Error(
      `${MONITORING_PACKAGE} is not installed: npm install --no-save ${MONITORING_PACKAGE}@${MONITORING_VERSION} first`,
    );
  }
}

/** The share of `requests` answered with `errors`, in percent: the library's expression (health-alarms.ts). */
function errorRate(cw: Cloudwatch, cdk: Cdk, requests: any, errors: any, label: string) {
  return new cw.MathExpression({
    expression: 'IF(requests >= 10, 100 * FILL(errors, 0) / requests, 0)',
    usingMetrics: { requests, errors },
    period: cdk.Duration.minutes(1),
    label,
  });
}

/**
 * An environment's health with cdk-monitoring-constructs: the library's topic, metrics and thresholds; its levels
 * as tags (health: every alarm; degraded: 5xx, unhealthy and no healthy host; severe: no healthy host), one
 * composite alarm per tag, named as the library names them.
 */
function monitoredHealth(
  cdk: Cdk,
  m: any,
  scope: any,
  id: string,
  t: any,
  platform: Library.ISharedPlatform,
  web: Library.CustomerWebTier,
): undefined {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const cw: Cloudwatch = require('aws-cdk-lib/aws-cloudwatch');
  const elbv2: typeof import('aws-cdk-lib/aws-elasticloadbalancingv2') = require('aws-cdk-lib/aws-elasticloadbalancingv2');
  const sns: typeof import('aws-cdk-lib/aws-sns') = require('aws-cdk-lib/aws-sns');
  const subscriptions: typeof import('aws-cdk-lib/aws-sns-subscriptions') = require('aws-cdk-lib/aws-sns-subscriptions');
  const actions: typeof import('aws-cdk-lib/aws-cloudwatch-actions') = require('aws-cdk-lib/aws-cloudwatch-actions');
  const { Construct } = require('constructs');
  /* eslint-enable @typescript-eslint/no-require-imports */
  const group = new Construct(scope, id);
  const label = `${web.customer}-${web.environment}`;
  const region = cdk.Stack.of(scope).region;
  const topic = new sns.Topic(group, 'AlertTopic', {
    displayName: `Health of ${label}`,
    masterKey: platform.key,
    enforceSSL: true,
  });
  for (const email of new Set<string>(t.alertEmails)) topic.addSubscription(new subscriptions.EmailSubscription(email));
  const notify = new m.SnsAlarmActionStrategy({ onAlarmTopic: topic });

  const facade = new m.MonitoringFacade(group, 'Monitoring', {
    alarmFactoryDefaults: { actionsEnabled: true, alarmNamePrefix: label, action: notify },
    metricFactoryDefaults: {},
    dashboardFactory: new m.DefaultDashboardFactory(group, 'Dashboards', {
      dashboardNamePrefix: cdk.Token.isUnresolved(region) ? label : `${label}-${region}`,
      createDashboard: true,
      createSummaryDashboard: false,
      createAlarmDashboard: false,
    }),
  });

  const MINUTE = cdk.Duration.minutes(1);
  const sum = { period: MINUTE, statistic: cw.Stats.SUM };
  const tg = web.targetGroup.metrics;
  const dedicated = web.sharedRule === undefined && web.loadBalancer !== undefined;
  const requests = tg.requestCount({ ...sum, label: 'Requests' });
  const target5xx = tg.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, { ...sum, label: '5xx of the instances' });
  const lb5xx = web.loadBalancer?.metrics.httpCodeElb(elbv2.HttpCodeElb.ELB_5XX_COUNT, {
    ...sum,
    label: '5xx of the load balancer',
  });
  const notBreaching = cw.TreatMissingData.NOT_BREACHING;
  const above = cw.ComparisonOperator.GREATER_THAN_THRESHOLD;
  const threshold = (
    name: string,
    value: number,
    comparisonOperator: import('aws-cdk-lib/aws-cloudwatch').ComparisonOperator,
    evaluationPeriods: number,
    datapointsToAlarm: number,
    tags: string[],
  ) => ({
    [name]: {
      threshold: value,
      comparisonOperator,
      evaluationPeriods,
      datapointsToAlarm,
      treatMissingDataOverride: notBreaching,
      customTags: ['health', ...tags],
    },
  });
  const withAlarm = (metric: any, name: string, addAlarm: object) => ({ metric, alarmFriendlyName: name, addAlarm });

  const requestsGroup = [
    requests,
    target5xx,
    ...(lb5xx ? [lb5xx] : []),
    withAlarm(
      errorRate(cw, cdk, requests, target5xx, 'Requests answered with 5xx by the instances (%)'),
      'ServerErrors',
      threshold('Degraded', t.http5xxPercent, above, 3, 2, ['degraded']),
    ),
  ];
  // The load balancer's rate reads other metrics under the same ids: a graph of its own.
  const loadBalancerGroup: any[] = [];
  if (dedicated && lb5xx) {
    loadBalancerGroup.push(
      withAlarm(
        errorRate(
          cw,
          cdk,
          web.loadBalancer!.metrics.requestCount(sum),
          lb5xx,
          'Requests answered with 5xx by the load balancer (%)',
        ),
        'LoadBalancerErrors',
        threshold('Degraded', t.http5xxPercent, above, 3, 2, ['degraded']),
      ),
    );
  }
  const minSize = Number((web.autoScalingGroup.node.defaultChild as any).minSize);
  const healthy = tg.healthyHostCount({ period: MINUTE, statistic: cw.Stats.MINIMUM, label: 'Healthy' });
  facade.monitorCustom({
    alarmFriendlyName: 'web',
    humanReadableName: `Web tier of ${label}`,
    metricGroups: [
      { title: 'Requests and 5xx', metrics: requestsGroup },
      ...(loadBalancerGroup.length > 0 ? [{ title: 'Load balancer 5xx (%)', metrics: loadBalancerGroup }] : []),
      {
        title: 'Response time (s)',
        metrics: [
          tg.targetResponseTime({ period: MINUTE, statistic: cw.Stats.p(50), label: 'p50' }),
          withAlarm(
            tg.targetResponseTime({ period: MINUTE, statistic: cw.Stats.p(99), label: 'p99' }),
            'Latency',
            threshold('Warning', t.latencyP99Ms / 1000, above, 5, 3, []),
          ),
        ],
      },
      {
        title: 'Instances',
        metrics: [
          minSize === 0
            ? healthy
            : withAlarm(
                healthy,
                'NoHealthyHost',
                threshold('Severe', 1, cw.ComparisonOperator.LESS_THAN_THRESHOLD, 2, 2, ['degraded', 'severe']),
              ),
          withAlarm(
            tg.unhealthyHostCount({ period: MINUTE, statistic: cw.Stats.MAXIMUM, label: 'Unhealthy' }),
            'UnhealthyHosts',
            threshold('Degraded', t.unhealthyHosts, cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD, 2, 2, [
              'degraded',
            ]),
          ),
          withAlarm(
            new cw.Metric({
              namespace: 'AWS/EC2',
              metricName: 'CPUUtilization',
              dimensionsMap: { AutoScalingGroupName: web.autoScalingGroup.autoScalingGroupName },
              period: cdk.Duration.minutes(5),
              statistic: cw.Stats.AVERAGE,
              label: 'Instances CPU (%)',
            }),
            'Cpu',
            threshold('Warning', t.cpuPercent, above, 3, 3, []),
          ),
        ],
      },
    ],
  });

  const warning = (name: string, props: object) => ({
    [name]: {
      ...props,
      evaluationPeriods: 3,
      datapointsToAlarm: 3,
      treatMissingDataOverride: notBreaching,
      customTags: ['health'],
    },
  });
  if (web.databaseInstance) {
    facade.monitorRdsInstance({
      instance: web.databaseInstance,
      alarmFriendlyName: 'database',
      addCpuUsageAlarm: warning('Warning', { maxUsagePercent: t.dbCpuPercent }),
      addFreeStorageSpaceAlarm: {
        Warning: {
          minCount: t.dbFreeStorageGib * 1024 ** 3,
          evaluationPeriods: 1,
          datapointsToAlarm: 1,
          treatMissingDataOverride: notBreaching,
          customTags: ['health'],
        },
      },
    });
  } else if (web.databaseCluster) {
    const cluster = web.databaseCluster;
    facade.monitorAuroraCluster({
      cluster,
      alarmFriendlyName: 'database',
      addCpuUsageAlarm: warning('Warning', { maxUsagePercent: t.dbCpuPercent }),
    });
    if (cluster.instanceIdentifiers.length > 1) {
      facade.monitorCustom({
        alarmFriendlyName: 'reader',
        metricGroups: [
          {
            title: 'Reader lag (ms)',
            metrics: [
              withAlarm(
                cluster.metric('AuroraReplicaLagMaximum', {
                  period: MINUTE,
                  statistic: cw.Stats.MAXIMUM,
                  label: 'Reader lag (ms)',
                }),
                'ReplicaLag',
                threshold('Warning', t.dbReplicaLagSeconds * 1000, above, 5, 3, []),
              ),
            ],
          },
        ],
      });
    }
  }

  // The levels as composite alarms, nested by tag (a composite of composites is not what the tags give: the
  // degraded and health tags carry the severe and degraded members themselves, which is the same state).
  const composite = (tag: string, name: string, description: string, action?: any) =>
    facade.createCompositeAlarmUsingTag(tag, {
      disambiguator: tag,
      alarmNameOverride: name,
      alarmDescription: description,
      ...(action ? { actionOverride: action } : {}),
    });
  const severe = minSize === 0 ? undefined : composite('severe', `${label}-severe`, `${label} is Severe`);
  const degraded = composite('degraded', `${label}-degraded`, `${label} is Degraded or Severe`);
  const overall = composite('health', `${label}-health`, `The health of ${label}`, new m.NoopAlarmActionStrategy());
  overall.addOkAction(new actions.SnsAction(topic));
  // The library's dashboard opens with the state of every alarm of the environment.
  facade.addWidget(
    new cw.AlarmStatusWidget({
      title: `Health of ${label}`,
      width: 24,
      height: 4,
      alarms: [overall, degraded, ...(severe ? [severe] : []), ...facade.createdAlarms().map((a: any) => a.alarm)],
    }),
  );
  return undefined;
}

if (require.main === module) main();
