/*
 * PlatformHealth: the platform's alarms (NAT gateways or instances, the allocator, the shared load balancers' own
 * 5xx), its composite health, its topic, the fleet overview's split into widgets and dashboards, and the compliance
 * gate on the new resources.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { PlatformHealth, PlatformHealthProps, SharedPlatform, SharedPlatformProps } from '../../src';
import { ALARMS_PER_WIDGET, fleetOverviewPages } from '../../src/platform/fleet-overview';
import { expectCompliant, newTestApp } from '../support/compliance';
import { ENV, PLATFORM_CERTIFICATE_ARN, platformStack } from '../support/platform-fixture';

const NAT_IMAGE = ec2.MachineImage.genericLinux({ 'eu-west-1': 'ami-0123456789abcdef0' });

function synth(platformProps: Partial<SharedPlatformProps> = {}, health: Partial<PlatformHealthProps> = {}) {
  const app = new App();
  const stack = new Stack(app, 'Platform', { env: ENV });
  const platform = new SharedPlatform(stack, 'Platform', {
    platformName: 'acme',
    certificate: acm.Certificate.fromCertificateArn(stack, 'Wildcard', PLATFORM_CERTIFICATE_ARN),
    ...platformProps,
  });
  const built = new PlatformHealth(stack, 'Health', { platform, ...health });
  return { stack, health: built, template: Template.fromStack(stack) };
}

/** Alarm construct ids by their metric's names and their threshold. */
function alarmsOf(template: Template): Record<string, { metrics: string[]; threshold: number }> {
  const out: Record<string, { metrics: string[]; threshold: number }> = {};
  for (const [id, r] of Object.entries(template.findResources('AWS::CloudWatch::Alarm'))) {
    if (!id.startsWith('Health')) continue;
    const p = r.Properties;
    const metrics = p.Metrics
      ? p.Metrics.filter((m: any) => m.MetricStat).map((m: any) => m.MetricStat.Metric.MetricName)
      : [p.MetricName];
    out[id.replace(/^Health/, '').replace(/[0-9A-F]{8}$/, '')] = { metrics: metrics.sort(), threshold: p.Threshold };
  }
  return out;
}

describe('the fleet overview splits the environments 100 to a widget', () => {
  const names = (n: number) => Array.from({ length: n }, (_, i) => `customer${i}-staging-health`);

  test('250 environments: one dashboard of three widgets of 100, 100 and 50, in the order given', () => {
    const pages = fleetOverviewPages(names(250));
    expect(pages.length).toBe(1);
    expect(pages[0].map((w) => w.length)).toEqual([100, 100, 50]);
    expect(pages[0][2][0]).toBe('customer200-staging-health');
    expect(pages.flat(2)).toEqual(names(250));
  });

  test('1,000 environments: 10 widgets; beyond 5,000 a second dashboard', () => {
    expect(fleetOverviewPages(names(1000))[0].length).toBe(10);
    const pages = fleetOverviewPages(names(5001));
    expect(pages.map((p) => p.length)).toEqual([50, 1]);
    expect(pages[1][0]).toEqual(['customer5000-staging-health']);
    expect(fleetOverviewPages([])).toEqual([]);
    expect(
      Math.max(
        ...fleetOverviewPages(names(1000))
          .flat()
          .map((w) => w.length),
      ),
    ).toBe(ALARMS_PER_WIDGET);
  });
});

test('NAT gateways, the allocator and the shared load balancer are watched; the overview names the alarms by ARN', () => {
  const { template, stack, health } = synth(
    {},
    {
      alertEmails: ['platform@acme.com', 'platform@acme.com'],
      environmentHealthAlarms: Array.from({ length: 250 }, (_, i) => `customer${i}-staging-health`),
    },
  );
  expect(alarmsOf(template)).toEqual({
    NatGateway1PortAllocationAlarm: { metrics: ['ErrorPortAllocation'], threshold: 0 },
    NatGateway1PacketsDroppedAlarm: { metrics: ['PacketsDropCount'], threshold: 100 },
    AllocatorErrorsAlarm: { metrics: ['Errors', 'Throttles'], threshold: 0 },
    SharedLoadBalancer1ErrorsAlarm: { metrics: ['HTTPCode_ELB_5XX_Count', 'RequestCount'], threshold: 5 },
  });
  template.hasResourceProperties('AWS::CloudWatch::CompositeAlarm', { AlarmName: 'acme-platform-health' });
  expect(health.memberAlarms.length).toBe(4);
  template.hasResourceProperties('AWS::SNS::Topic', {
    DisplayName: 'Health of platform acme',
    KmsMasterKeyId: Match.anyValue(),
  });
  template.resourceCountIs('AWS::SNS::Subscription', 1);
  template.hasResourceProperties('AWS::SNS::TopicPolicy', {
    PolicyDocument: {
      Statement: Match.arrayWith([
        Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      ]),
    },
  });

  const dashboard = Object.values(template.findResources('AWS::CloudWatch::Dashboard'))[0].Properties;
  expect(dashboard.DashboardName).toBe('acme-fleet-eu-west-1');
  const body = JSON.parse(
    (stack.resolve(dashboard.DashboardBody)['Fn::Join'][1] as any[])
      .map((part) => (typeof part === 'string' ? part : 'aws'))
      .join(''),
  );
  const overview = body.widgets.filter((w: any) => w.type === 'alarm' && w.properties.title.startsWith('Environments'));
  expect(overview.map((w: any) => [w.properties.title, w.properties.alarms.length])).toEqual([
    ['Environments 1 to 100', 100],
    ['Environments 101 to 200', 100],
    ['Environments 201 to 250', 50],
  ]);
  expect(overview[2].properties.alarms[49]).toBe(
    'arn:aws:cloudwatch:eu-west-1:123456789012:alarm:customer249-staging-health',
  );
});

test('NAT instances: their status checks and CPU, one pair per instance', () => {
  const { template } = synth({ natInstances: true, natInstanceImage: NAT_IMAGE });
  const alarms = alarmsOf(template);
  expect(alarms.NatInstance1StatusAlarm).toEqual({ metrics: ['StatusCheckFailed'], threshold: 1 });
  expect(alarms.NatInstance1CpuAlarm).toEqual({ metrics: ['CPUUtilization'], threshold: 90 });
  expect(Object.keys(alarms).filter((id) => id.startsWith('NatGateway'))).toEqual([]);
});

test('the platform key lets CloudWatch publish to the topics it encrypts', () => {
  const { template } = synth();
  template.hasResourceProperties('AWS::KMS::Key', {
    KeyPolicy: {
      Statement: Match.arrayWith([
        Match.objectLike({
          Sid: 'CloudWatchAlarmsToEncryptedTopics',
          Principal: { Service: 'cloudwatch.amazonaws.com' },
          Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          // Only this account's alarms, in this region: no confused deputy through CloudWatch.
          Condition: {
            StringEquals: { 'aws:SourceAccount': '123456789012' },
            ArnLike: {
              'aws:SourceArn': {
                'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':cloudwatch:eu-west-1:123456789012:alarm:*']],
              },
            },
          },
        }),
      ]),
    },
  });
});

test('a bad address is refused with the rule of the config file', () => {
  expect(() => synth({}, { alertEmails: ['platform@'] })).toThrow(
    /PlatformHealth Platform\/Health: alertEmails\[0\]: received "platform@"; expected an email address such as ops@example.com/,
  );
});

test('the platform with its health passes every check, in production with NAT instances', () => {
  const app = newTestApp();
  const { stack, platform } = platformStack(app, { production: true, natInstances: true, natInstanceImage: NAT_IMAGE });
  new PlatformHealth(stack, 'Health', {
    platform,
    alertEmails: ['platform@acme.com'],
    environmentHealthAlarms: ['acme-production-health', 'acme-staging-health'],
  });
  expectCompliant([stack]);
});
