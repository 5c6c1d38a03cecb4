import { ArnFormat, Duration, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { ALARMS_PER_WIDGET, AlarmArnsWidget, FLEET_WIDGETS_PER_DASHBOARD, fleetOverviewPages } from './fleet-overview';
import type { SharedPlatform } from './shared-platform';
import { leaveOutCreationStackTraces } from '../config/creation-traces';
import { valueProblem } from '../config/values';

/** Props of PlatformHealth. */
export interface PlatformHealthProps {
  /** The platform watched: its NAT, its listener-rule allocator, its shared load balancers. */
  readonly platform: SharedPlatform;
  /**
   * Addresses subscribed to the platform's alert topic; an address given twice is subscribed once.
   * @default - none: the topic has no subscriber
   */
  readonly alertEmails?: string[];
  /**
   * The names of the environments' health alarms shown in the fleet overview (`EnvironmentHealth.healthAlarmName`),
   * in the platform's account and region; VendingFleet passes every environment of the fleet.
   * @default - no fleet overview
   */
  readonly environmentHealthAlarms?: string[];
}

/**
 * The health of a platform and the overview of its fleet: alarms on its NAT (gateways' port allocation errors and
 * dropped packets, or the instances' status checks), its listener-rule allocator's errors and its shared load
 * balancers' 5xx, one composite alarm `<platform>-platform-health` of them all, an alert topic encrypted with the
 * platform key and TLS-only, and a dashboard `<platform>-fleet-<region>` with the platform's graphs and the state
 * of every environment's health alarm, 100 to a widget (README, "See an environment's health").
 *
 * @example
 * declare const platform: SharedPlatform;
 *
 * new PlatformHealth(this, 'Health', {
 *   platform,
 *   alertEmails: ['platform-team@example.com'],
 *   environmentHealthAlarms: ['acme-production-health', 'acme-staging-health'],
 * });
 */
export class PlatformHealth extends Construct {
  /** The platform's health: in ALARM when any of its alarms is. */
  public readonly alarm: cloudwatch.CompositeAlarm;
  /** The metric alarms it is made of. */
  public readonly memberAlarms: cloudwatch.IAlarm[];
  /** The alert topic. */
  public readonly topic: sns.Topic;
  /** The platform's dashboard, with the first 5,000 environments of the fleet overview. */
  public readonly dashboard: cloudwatch.Dashboard;
  /** Further dashboards of the fleet overview, for a fleet of more than 5,000 environments. */
  public readonly overflowDashboards: cloudwatch.Dashboard[];

  public constructor(scope: Construct, id: string, props: PlatformHealthProps) {
    super(scope, id);
    leaveOutCreationStackTraces(this);
    const where = `PlatformHealth ${this.node.path}`;
    const emails = [...new Set(props.alertEmails ?? [])];
    for (const [i, email] of emails.entries()) {
      const problem = valueProblem('alertEmail', email);
      if (problem) throw new Error(`${where}: alertEmails[${i}]: ${problem}`);
    }
    const platform = props.platform;
    const name = platform.platformName;
    this.topic = new sns.Topic(this, 'AlertTopic', {
      displayName: `Health of platform ${name}`,
      masterKey: platform.key,
      enforceSSL: true,
    });
    for (const email of emails) this.topic.addSubscription(new subscriptions.EmailSubscription(email));
    const notify = new cloudwatchActions.SnsAction(this.topic);

    const graphs: cloudwatch.IWidget[] = [];
    const members: cloudwatch.Alarm[] = [];
    const alarm = (alarmId: string, alarmProps: cloudwatch.AlarmProps) => {
      const created = new cloudwatch.Alarm(this, alarmId, {
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        ...alarmProps,
      });
      created.addAlarmAction(notify);
      members.push(created);
    };
    const minute = Duration.minutes(1);
    const sum = { period: minute, statistic: cloudwatch.Stats.SUM };

    // NAT: what the platform's own VPC holds (an existing VPC's NAT is its owner's).
    const nat = natOf(platform.vpc);
    nat.gateways.forEach((gateway, i) => {
      const metric = (metricName: string, label: string) =>
        new cloudwatch.Metric({
          namespace: 'AWS/NATGateway',
          metricName,
          dimensionsMap: { NatGatewayId: gateway.attrNatGatewayId },
          ...sum,
          label,
        });
      const ports = metric('ErrorPortAllocation', `NAT ${i + 1}: port allocation errors`);
      const dropped = metric('PacketsDropCount', `NAT ${i + 1}: packets dropped`);
      alarm(`NatGateway${i + 1}PortAllocationAlarm`, {
        alarmDescription: `Platform ${name}: NAT gateway ${i + 1} could not allocate source ports: connections out fail`,
        metric: ports,
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
      });
      alarm(`NatGateway${i + 1}PacketsDroppedAlarm`, {
        alarmDescription: `Platform ${name}: NAT gateway ${i + 1} drops packets`,
        metric: dropped,
        threshold: 100,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 5,
        datapointsToAlarm: 3,
      });
      graphs.push(graph(`NAT gateway ${i + 1}`, [ports, dropped]));
    });
    nat.instances.forEach((instance, i) => {
      const metric = (metricName: string, label: string, statistic: string) =>
        new cloudwatch.Metric({
          namespace: 'AWS/EC2',
          metricName,
          dimensionsMap: { InstanceId: instance.instanceId },
          period: minute,
          statistic,
          label,
        });
      const checks = metric(
        'StatusCheckFailed',
        `NAT instance ${i + 1}: status check failed`,
        cloudwatch.Stats.MAXIMUM,
      );
      const cpu = metric('CPUUtilization', `NAT instance ${i + 1}: CPU (%)`, cloudwatch.Stats.AVERAGE);
      alarm(`NatInstance${i + 1}StatusAlarm`, {
        alarmDescription: `Platform ${name}: NAT instance ${i + 1} fails its status checks: the private subnets of its zone have no way out`,
        metric: checks,
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 2,
        datapointsToAlarm: 2,
      });
      alarm(`NatInstance${i + 1}CpuAlarm`, {
        alarmDescription: `Platform ${name}: NAT instance ${i + 1} runs above 90% CPU: connections out slow down`,
        metric: cpu,
        threshold: 90,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 5,
        datapointsToAlarm: 5,
      });
      graphs.push(graph(`NAT instance ${i + 1}`, [cpu], [checks]));
    });

    // The listener-rule allocator: a failed invocation is a customer stack whose rule was not made or deleted.
    const fn = platform.allocator.function;
    const errors = fn.metricErrors({ ...sum, label: 'Errors' });
    const throttles = fn.metricThrottles({ ...sum, label: 'Throttles' });
    alarm('AllocatorErrorsAlarm', {
      alarmDescription: `Platform ${name}: the listener-rule allocator failed: a customer stack's deployment waits for it or fails`,
      metric: new cloudwatch.MathExpression({
        expression: 'FILL(errors, 0) + FILL(throttles, 0)',
        usingMetrics: { errors, throttles },
        period: minute,
        label: 'Allocator errors and throttles',
      }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
    });
    graphs.push(
      graph('Listener-rule allocator', [fn.metricInvocations({ ...sum, label: 'Invocations' })], [errors, throttles]),
    );

    // The shared load balancers' own 5xx (not their targets'): the platform's front door.
    for (const shared of platform.sharedLoadBalancers) {
      const lb = shared.loadBalancer.metrics;
      const requests = lb.requestCount({ ...sum, label: 'Requests' });
      const elb5xx = lb.httpCodeElb(elbv2.HttpCodeElb.ELB_5XX_COUNT, { ...sum, label: '5xx of the load balancer' });
      alarm(`SharedLoadBalancer${shared.number}ErrorsAlarm`, {
        alarmDescription: `Platform ${name}: shared load balancer ${shared.number} answers more than 5% of its requests with 5xx of its own`,
        metric: new cloudwatch.MathExpression({
          expression: 'IF(requests >= 10, 100 * FILL(errors, 0) / requests, 0)',
          usingMetrics: { requests, errors: elb5xx },
          period: minute,
          label: 'Requests answered with 5xx by the load balancer (%)',
        }),
        threshold: 5,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
      });
      graphs.push(graph(`Shared load balancer ${shared.number}`, [requests], [elb5xx]));
    }
    this.memberAlarms = members;
    this.alarm = new cloudwatch.CompositeAlarm(this, 'HealthAlarm', {
      compositeAlarmName: `${name}-platform-health`,
      alarmDescription: `The health of platform ${name}: in ALARM when its NAT, its allocator or a shared load balancer is`,
      alarmRule: cloudwatch.AlarmRule.anyOf(
        ...members.map((m) => cloudwatch.AlarmRule.fromAlarm(m, cloudwatch.AlarmState.ALARM)),
      ),
    });
    this.alarm.addAlarmAction(notify);
    this.alarm.addOkAction(notify);

    const stack = Stack.of(this);
    const arnOf = (alarmName: string) =>
      stack.formatArn({
        service: 'cloudwatch',
        resource: 'alarm',
        resourceName: alarmName,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      });
    const pages = fleetOverviewPages(props.environmentHealthAlarms ?? []);
    const overview = (page: string[][], first: number) =>
      page.map(
        (names, i) =>
          new AlarmArnsWidget(
            `Environments ${first + i * ALARMS_PER_WIDGET + 1} to ${first + i * ALARMS_PER_WIDGET + names.length}`,
            names.map(arnOf),
          ),
      );
    const region = stack.region;
    const dashboardName = (suffix: string) =>
      Token.isUnresolved(region) ? `${name}-fleet${suffix}` : `${name}-fleet${suffix}-${region}`;
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: dashboardName(''),
      widgets: [
        [new cloudwatch.AlarmStatusWidget({ title: `Platform ${name}`, width: 24, alarms: [this.alarm, ...members] })],
        graphs,
        ...overview(pages[0] ?? [], 0).map((w) => [w]),
      ],
    });
    this.overflowDashboards = pages.slice(1).map(
      (page, p) =>
        new cloudwatch.Dashboard(this, `FleetDashboard${p + 2}`, {
          dashboardName: dashboardName(`-${p + 2}`),
          widgets: overview(page, (p + 1) * FLEET_WIDGETS_PER_DASHBOARD * ALARMS_PER_WIDGET).map((w) => [w]),
        }),
    );
  }
}

function graph(title: string, left: cloudwatch.IMetric[], right: cloudwatch.IMetric[] = []): cloudwatch.GraphWidget {
  return new cloudwatch.GraphWidget({ title, width: 8, height: 6, left, right });
}

/** The NAT gateways and NAT instances the VPC's own constructs hold. */
function natOf(vpc: ec2.IVpc): { gateways: ec2.CfnNatGateway[]; instances: ec2.Instance[] } {
  const all = vpc.node.findAll();
  return {
    gateways: all.filter((c): c is ec2.CfnNatGateway => c instanceof ec2.CfnNatGateway),
    instances: all.filter((c): c is ec2.Instance => c instanceof ec2.Instance && c.node.id === 'NatInstance'),
  };
}
