/*
 * EnvironmentHealth: the alarms, composite alarms, alert topic and dashboard of an environment on the shared load
 * balancer and on one of its own, with and without a database, thresholds from props and from a customer file, and
 * the compliance gate on the new resources.
 */
import { Duration, Size, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { addWebTier, dedicatedIngress, Fixture, newPlatform, Props, sharedIngress } from './fixture';
import {
  ConfigLoader,
  CustomerWebTier,
  DatabaseEngine,
  EnvironmentHealth,
  EnvironmentHealthProps,
  SharedPlatform,
  WebTierIngress,
} from '../../src';
import { asStruct, platform as platformFile, problemsOf, stagingCustomer } from '../config/fixtures';
import { expectCompliant, newTestApp } from '../support/compliance';
import { acknowledgeDatabase, acknowledgeWebTier, ENV, platformStack } from '../support/platform-fixture';

let fixture: Fixture;
let count = 0;
beforeAll(() => {
  fixture = newPlatform();
});

interface Built {
  readonly stack: Stack;
  readonly web: CustomerWebTier;
  readonly health: EnvironmentHealth;
  readonly template: Template;
}

/** A web tier (staging on the shared load balancer unless told) and its health, in a stack of its own. */
function build(web: Props | ((stack: Stack) => Props) = {}, health: Partial<EnvironmentHealthProps> = {}): Built {
  // A platform per template: an App synthesizes once. The shared rule names the shared load balancer, as fromConfig's.
  const own = newPlatform();
  const { stack, web: tier } = addWebTier(own, 'Customer', ({ stack: s, platform }) => ({
    ingress: sharedIngress(platform, { loadBalancer: platform.loadBalancer }),
    ...(typeof web === 'function' ? web(s) : web),
  }));
  const built = new EnvironmentHealth(stack, 'Health', { webTier: tier, encryptionKey: own.platform.key, ...health });
  return { stack, web: tier, health: built, template: Template.fromStack(stack) };
}

/** The member alarms by construct id (the last part of their logical id's path). */
function alarms(template: Template): Record<string, any> {
  const out: Record<string, any> = {};
  for (const [id, resource] of Object.entries(template.findResources('AWS::CloudWatch::Alarm'))) {
    out[id.replace(/^Health/, '').replace(/[0-9A-F]{8}$/, '')] = resource.Properties;
  }
  return out;
}

function logicalIdOf(stack: Stack, construct: { node: { defaultChild?: any } }): string {
  return stack.resolve(construct.node.defaultChild.logicalId);
}

/** A composite alarm's rule as text, with each alarm it names written as ALARM(<logical id>). */
function ruleOf(stack: Stack, alarm: { node: { defaultChild?: any } }): string {
  const rule = stack.resolve(alarm.node.defaultChild.alarmRule);
  const parts: any[] = rule['Fn::Join'] ? rule['Fn::Join'][1] : [rule];
  return parts.map((p) => (typeof p === 'string' ? p : p['Fn::GetAtt'][0])).join('');
}

/** The statistic of an alarm's one metric. */
function statOf(alarm: any): string {
  return alarm.Metrics ? alarm.Metrics[0].MetricStat.Stat : (alarm.ExtendedStatistic ?? alarm.Statistic);
}

/** The dimensions of each metric a member alarm reads, by the metric's name. */
function dimensionsOf(alarm: any): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  const metrics = alarm.Metrics
    ? alarm.Metrics.filter((m: any) => m.MetricStat).map((m: any) => m.MetricStat.Metric)
    : [alarm];
  for (const m of metrics) out[m.MetricName] = (m.Dimensions ?? []).map((d: any) => d.Name).sort();
  return out;
}

describe('an environment on the shared load balancer, without a database', () => {
  let built: Built;
  beforeAll(() => {
    built = build({}, { alertEmails: ['ops@acme.com', 'oncall@acme.com', 'ops@acme.com'] });
  });

  test('its alarms read its target group by TargetGroup and LoadBalancer, with the default thresholds', () => {
    const found = alarms(built.template);
    expect(Object.keys(found).sort()).toEqual([
      'CpuAlarm',
      'LatencyAlarm',
      'NoHealthyHostAlarm',
      'ServerErrorsAlarm',
      'UnhealthyHostsAlarm',
    ]);
    expect(dimensionsOf(found.ServerErrorsAlarm)).toEqual({
      RequestCount: ['LoadBalancer', 'TargetGroup'],
      HTTPCode_Target_5XX_Count: ['LoadBalancer', 'TargetGroup'],
    });
    expect(dimensionsOf(found.LatencyAlarm)).toEqual({ TargetResponseTime: ['LoadBalancer', 'TargetGroup'] });
    expect(dimensionsOf(found.UnhealthyHostsAlarm)).toEqual({ UnHealthyHostCount: ['LoadBalancer', 'TargetGroup'] });
    expect(dimensionsOf(found.CpuAlarm)).toEqual({ CPUUtilization: ['AutoScalingGroupName'] });
    expect(found.ServerErrorsAlarm.Threshold).toBe(5);
    expect(found.LatencyAlarm.Threshold).toBe(2);
    expect(statOf(found.LatencyAlarm)).toBe('p99');
    expect(found.UnhealthyHostsAlarm.Threshold).toBe(1);
    expect(found.CpuAlarm.Threshold).toBe(85);
    expect(found.NoHealthyHostAlarm).toMatchObject({ Threshold: 1, ComparisonOperator: 'LessThanThreshold' });
    // The shared load balancer's own 5xx are every environment's: no alarm of this one reads them.
    expect(JSON.stringify(found)).not.toContain('HTTPCode_ELB_5XX_Count');
  });

  test('the composite alarms nest Severe in Degraded in the health, and the health has its fixed name', () => {
    const { stack, health } = built;
    const id = (c: any) => logicalIdOf(stack, c);
    const member = (name: string) => id(health.memberAlarms.find((a) => a.node.id === name)!);
    expect(ruleOf(stack, health.severeAlarm!)).toBe(`(ALARM("${member('NoHealthyHostAlarm')}"))`);
    expect(ruleOf(stack, health.degradedAlarm)).toBe(
      `(ALARM("${id(health.severeAlarm)}") OR ALARM("${member('ServerErrorsAlarm')}") OR ALARM("${member('UnhealthyHostsAlarm')}"))`,
    );
    expect(ruleOf(stack, health.alarm)).toBe(
      `(ALARM("${id(health.degradedAlarm)}") OR ALARM("${member('LatencyAlarm')}") OR ALARM("${member('CpuAlarm')}"))`,
    );
    built.template.hasResourceProperties('AWS::CloudWatch::CompositeAlarm', {
      AlarmName: 'acme-staging-health',
      OKActions: [{ Ref: logicalIdOf(stack, health.topic) }],
    });
    expect(EnvironmentHealth.healthAlarmName('acme', 'staging')).toBe('acme-staging-health');
    for (const props of Object.values(alarms(built.template))) {
      expect(props.AlarmActions).toEqual([{ Ref: logicalIdOf(stack, health.topic) }]);
    }
  });

  test('the alert topic is encrypted with the platform key, TLS-only, with one subscription per address', () => {
    const template = built.template;
    template.hasResourceProperties('AWS::SNS::Topic', {
      DisplayName: 'Health of acme-staging',
      KmsMasterKeyId: Match.anyValue(),
    });
    const topic = Object.values(
      template.findResources('AWS::SNS::Topic', { Properties: { DisplayName: 'Health of acme-staging' } }),
    )[0];
    expect(JSON.stringify(topic.Properties.KmsMasterKeyId)).toContain('ImportValue');
    expect(JSON.stringify(topic.Properties.KmsMasterKeyId)).toMatch(/Key/);
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
    const subscriptions = Object.values(template.findResources('AWS::SNS::Subscription')).map((s) => s.Properties);
    expect(subscriptions.map((s) => [s.Protocol, s.Endpoint]).sort()).toEqual([
      ['email', 'oncall@acme.com'],
      ['email', 'ops@acme.com'],
    ]);
  });

  test('the dashboard shows requests, 5xx, latency, hosts and CPU, and the health of every alarm', () => {
    const dashboard = Object.values(built.template.findResources('AWS::CloudWatch::Dashboard'))[0].Properties;
    expect(dashboard.DashboardName).toBe('acme-staging-eu-west-1');
    const body = JSON.stringify(built.stack.resolve(dashboard.DashboardBody));
    for (const metric of [
      'RequestCount',
      'HTTPCode_Target_5XX_Count',
      'HTTPCode_ELB_5XX_Count',
      'p50',
      'p99',
      'HealthyHostCount',
      'UnHealthyHostCount',
      'CPUUtilization',
    ]) {
      expect(body).toContain(metric);
    }
    expect(body).toContain('5xx of the shared load balancer (every environment on it)');
    expect(body).not.toContain('DatabaseConnections');
  });
});

test('a dedicated load balancer with an RDS instance: its 5xx alarm and the database alarms, thresholds as given', () => {
  const { template, health } = build(
    (stack) => ({
      environment: 'production',
      ingress: dedicatedIngress(stack),
      database: { engine: DatabaseEngine.POSTGRES, version: '16' },
    }),
    {
      serverErrorPercent: 2,
      latencyP99: Duration.millis(800),
      unhealthyHosts: 2,
      cpuPercent: 70,
      databaseCpuPercent: 60,
      databaseFreeStorage: Size.gibibytes(10),
    },
  );
  const found = alarms(template);
  expect(dimensionsOf(found.LoadBalancerErrorsAlarm)).toEqual({
    RequestCount: ['LoadBalancer'],
    HTTPCode_ELB_5XX_Count: ['LoadBalancer'],
  });
  expect(found.LoadBalancerErrorsAlarm.Threshold).toBe(2);
  expect(found.ServerErrorsAlarm.Threshold).toBe(2);
  expect(found.LatencyAlarm.Threshold).toBe(0.8);
  expect(found.UnhealthyHostsAlarm.Threshold).toBe(2);
  expect(found.CpuAlarm.Threshold).toBe(70);
  expect(found.DatabaseCpuAlarm.Threshold).toBe(60);
  expect(dimensionsOf(found.DatabaseCpuAlarm)).toEqual({ CPUUtilization: ['DBInstanceIdentifier'] });
  expect(found.DatabaseFreeStorageAlarm).toMatchObject({
    Threshold: 10 * 1024 ** 3,
    ComparisonOperator: 'LessThanThreshold',
  });
  expect(dimensionsOf(found.DatabaseFreeStorageAlarm)).toEqual({ FreeStorageSpace: ['DBInstanceIdentifier'] });
  expect(found.ReplicaLagAlarm).toBeUndefined();
  expect(health.degradedAlarm.node.id).toBe('DegradedAlarm');
  const body = JSON.stringify(Object.values(template.findResources('AWS::CloudWatch::Dashboard'))[0].Properties);
  expect(body).toContain('DatabaseConnections');
  expect(body).toContain('FreeStorageSpace');
  expect(body).toContain('5xx of the load balancer');
});

test('an Aurora cluster with a reader: the reader lag alarm, no storage alarm', () => {
  const { template } = build(
    { database: { engine: DatabaseEngine.AURORA_POSTGRESQL, version: '16', multiAz: true } },
    { replicaLag: Duration.seconds(5) },
  );
  const found = alarms(template);
  expect(found.ReplicaLagAlarm.Threshold).toBe(5000);
  expect(dimensionsOf(found.ReplicaLagAlarm)).toEqual({ AuroraReplicaLagMaximum: ['DBClusterIdentifier'] });
  expect(dimensionsOf(found.DatabaseCpuAlarm)).toEqual({ CPUUtilization: ['DBClusterIdentifier'] });
  expect(found.DatabaseFreeStorageAlarm).toBeUndefined();
});

test('a group that may scale to zero has no Severe alarm: the health is made of Degraded and Warning', () => {
  const { health, template } = build({ minCapacity: 0 });
  expect(health.severeAlarm).toBeUndefined();
  expect(alarms(template).NoHealthyHostAlarm).toBeUndefined();
  template.resourceCountIs('AWS::CloudWatch::CompositeAlarm', 2);
});

test('thresholds out of range and bad addresses are refused with the rule of the config file', () => {
  const { stack, web } = addWebTier(fixture, `Refused${count++}`);
  const key = fixture.platform.key;
  const refuse = (props: Partial<EnvironmentHealthProps>) => () =>
    new EnvironmentHealth(stack, `Health${count++}`, { webTier: web, encryptionKey: key, ...props });
  expect(refuse({ latencyP99: Duration.millis(5) })).toThrow(
    /EnvironmentHealth Refused\d+\/Health\d+: latencyP99: received 5 ms; expected an integer from 10 to 600000 ms/,
  );
  expect(refuse({ serverErrorPercent: 0 })).toThrow(
    /serverErrorPercent: received 0; expected an integer from 1 to 100/,
  );
  expect(refuse({ databaseFreeStorage: Size.mebibytes(512) })).toThrow(/databaseFreeStorage: received 0.5 GiB/);
  expect(refuse({ alertEmails: ['ops@acme.com', 'not an address'] })).toThrow(
    /alertEmails\[1\]: received "not an address"; expected an email address such as ops@example.com/,
  );
});

describe("the file's health", () => {
  const validate = (health: any, extra: any = {}) => {
    const doc = { ...stagingCustomer(), ...extra, health };
    return () => ConfigLoader.validateCustomer(asStruct(doc), { platform: platformFile() });
  };

  test('thresholds and addresses reach the alarms and the topic', () => {
    const config = validate({ alertEmails: ['ops@acme.com'], http5xxPercent: 3, latencyP99Ms: 1500, cpuPercent: 90 })();
    const own = newPlatform();
    const { stack, web } = addWebTier(own, 'FromConfig');
    EnvironmentHealth.fromConfig(stack, 'Health', config, own.platform, web);
    const template = Template.fromStack(stack);
    const found = alarms(template);
    expect(found.ServerErrorsAlarm.Threshold).toBe(3);
    expect(found.LatencyAlarm.Threshold).toBe(1.5);
    expect(found.CpuAlarm.Threshold).toBe(90);
    expect(found.UnhealthyHostsAlarm.Threshold).toBe(1);
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@acme.com' });
  });

  test('a bad address or threshold is a problem at its field, naming what was received and what is expected', () => {
    const database = { database: { engine: 'postgres', version: '16' } };
    const problems = problemsOf(validate({ alertEmails: ['ops@'], dbFreeStorageGib: 0, latencyP99Ms: 1.5 }, database));
    const byPath = Object.fromEntries(problems.map((p) => [p.path, p.message]));
    expect(byPath['health.alertEmails[0]']).toBe('received "ops@"; expected an email address such as ops@example.com');
    expect(byPath['health.dbFreeStorageGib']).toMatch(/^received 0; expected .*1.*65536/);
    expect(byPath['health.latencyP99Ms']).toMatch(/^received 1\.5/);
  });

  test("a database's threshold without a database is refused, not ignored", () => {
    const problems = problemsOf(validate({ dbCpuPercent: 80, cpuPercent: 90 }));
    expect(problems.map((p) => [p.path, p.message])).toEqual([
      [
        'health.dbCpuPercent',
        'received 80, but the environment has no database; expected database thresholds only with a database: block ' +
          '(remove it, or add the database)',
      ],
    ]);
    const withDatabase = validate({ dbCpuPercent: 80 }, { database: { engine: 'postgres', version: '16' } })();
    expect(withDatabase.health).toMatchObject({ dbCpuPercent: 80, dbFreeStorageGib: 2, dbReplicaLagSeconds: 30 });
  });
});

test('the health of a shared staging and of a dedicated production environment with Aurora pass every check', () => {
  const app = newTestApp();
  const { stack: platformScope, platform } = platformStack(app, { production: true });
  const base = { vpc: platform.vpc, encryptionKey: platform.key, logsBucket: platform.logsBucket };
  const staging = new Stack(app, 'AcmeStaging', { env: ENV });
  const stagingWeb = new CustomerWebTier(staging, 'Web', {
    ...base,
    customer: 'acme',
    environment: 'staging',
    ingress: sharedRuleOf(platform, 'acme-staging.apps.example.com'),
  });
  acknowledgeWebTier(stagingWeb);
  new EnvironmentHealth(staging, 'Health', {
    webTier: stagingWeb,
    encryptionKey: platform.key,
    alertEmails: ['ops@acme.com'],
  });
  const production = new Stack(app, 'AcmeProduction', { env: ENV });
  const productionWeb = new CustomerWebTier(production, 'Web', {
    ...base,
    customer: 'acme',
    environment: 'production',
    ingress: dedicatedIngress(production),
    database: { engine: DatabaseEngine.AURORA_MYSQL, version: '3.08.0' },
  });
  acknowledgeWebTier(productionWeb);
  acknowledgeDatabase(productionWeb);
  new EnvironmentHealth(production, 'Health', { webTier: productionWeb, encryptionKey: platform.key });
  expectCompliant([platformScope, staging, production]);
});

function sharedRuleOf(platform: SharedPlatform, host: string): WebTierIngress {
  return WebTierIngress.sharedRule({
    listener: platform.httpsListener,
    allocator: platform.allocator,
    hostnames: [host],
  });
}
