/*
 * Health through VendingFleet and CustomerEnvironment: every environment of the example fleet has its health alarm
 * under its fixed name, and the platform's fleet overview names every environment's, built or not.
 */
import { join } from 'path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ConfigLoader, EnvironmentHealth, VendingFleet } from '../../src';

const FLEET = join(__dirname, '..', '..', 'examples', 'fleet');

test('each environment has its health, and the fleet overview shows every environment of the fleet', () => {
  const fleet = ConfigLoader.loadFleet(FLEET);
  const names = fleet.customers.map((c) => EnvironmentHealth.healthAlarmName(c.customer, c.environment));
  expect(names).toContain('acme-production-health');
  const app = new App();
  // The platform and one environment: the overview still names all six.
  const vending = new VendingFleet(app, fleet, { stacks: ['vending-platform', 'acme-production'] });
  const [production] = vending.environments;
  expect(production.health.alarm.node.path).toBe('acme-production/Health/HealthAlarm');
  const template = Template.fromStack(production);
  template.hasResourceProperties('AWS::CloudWatch::CompositeAlarm', { AlarmName: 'acme-production-health' });
  // The example file's health: one address, a p99 of 1,500 ms.
  template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@acme.com' });
  const latency = production.health.memberAlarms.find((a) => a.node.id === 'LatencyAlarm')!;
  expect(production.resolve((latency.node.defaultChild as any).threshold)).toBe(1.5);

  const platform = Template.fromStack(vending.platformStack!);
  platform.hasResourceProperties('AWS::CloudWatch::CompositeAlarm', { AlarmName: 'vending-platform-health' });
  const dashboard = Object.values(platform.findResources('AWS::CloudWatch::Dashboard'))[0].Properties;
  expect(dashboard.DashboardName).toBe('vending-fleet-eu-west-1');
  const body = JSON.stringify(dashboard.DashboardBody);
  for (const name of names) expect(body).toContain(`:cloudwatch:eu-west-1:123456789012:alarm:${name}\\"`);
  // The example platform's NAT gateways, one per zone: two alarms each.
  expect(
    vending.platformHealth!.memberAlarms.map((a) => a.node.id).filter((id) => id.startsWith('NatGateway')),
  ).toHaveLength(6);
});
