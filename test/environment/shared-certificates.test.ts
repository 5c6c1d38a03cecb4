/*
 * Certificates of custom domains on shared ingress: owned once per shared load balancer by the platform, counted by
 * placement against quotas.certificatesPerLoadBalancer. ELB does not count references: a ListenerCertificate that a
 * customer stack deletes removes the certificate from the listener for every environment that uses it.
 */
import { join } from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ConfigLoader, FleetConfig, VendingFleet } from '../../src';

const FLEET = join(__dirname, '..', '..', 'examples', 'fleet');
const CERT = (n: number) => `arn:aws:acm:eu-west-1:123456789012:certificate/bbbbbbbb-0000-4000-8000-00000000000${n}`;

/** The example fleet's non-production environments, each given a custom domain with the certificate named. */
function fleetWith(certificates: { [environment: string]: string }, quotas?: object, maxLoadBalancers?: number) {
  const fleet = ConfigLoader.loadFleet(FLEET);
  const customers = fleet.customers
    .filter((c) => c.environment !== 'production')
    .map((c) => {
      const label = `${c.customer}-${c.environment}`;
      const arn = certificates[label];
      return arn ? { ...c, customDomain: { name: `www.${c.customer}.example`, certificateArn: arn } } : c;
    });
  const platform = {
    ...fleet.platform,
    ...(quotas ? { quotas: { ...fleet.platform.quotas, ...quotas } } : {}),
    ...(maxLoadBalancers ? { maxSharedLoadBalancers: maxLoadBalancers } : {}),
  };
  return { ...fleet, platform, customers } as FleetConfig;
}

function build(fleet: FleetConfig) {
  const app = new App({ context: { 'aws:cdk:enable-path-metadata': false } });
  const vending = new VendingFleet(app, fleet, { placement: undefined });
  const templates = Object.fromEntries(
    app.node.children
      .filter((c): c is Stack => Stack.isStack(c))
      .map((s) => [s.stackName, Template.fromStack(s).toJSON()]),
  );
  return { vending, templates };
}

const listenerCertificates = (template: any) =>
  Object.entries<any>(template.Resources).filter(
    ([, r]) => r.Type === 'AWS::ElasticLoadBalancingV2::ListenerCertificate',
  );

test('two environments with one certificate: the platform holds it once, and deleting either stack keeps it', () => {
  const { templates } = build(fleetWith({ 'acme-staging': CERT(1), 'hooli-staging': CERT(1) }));
  // The platform owns one ListenerCertificate per distinct certificate on the shared listener the two are placed on.
  const owned = listenerCertificates(templates['vending-platform']);
  expect(owned.map(([, r]) => r.Properties.Certificates)).toEqual([[{ CertificateArn: CERT(1) }]]);
  expect(owned[0][1].Properties.ListenerArn).toEqual({
    Ref: expect.stringMatching(/^PlatformLoadBalancerHttps[0-9A-F]{8}$/),
  });
  // A customer stack's deletion never removes the certificate from the shared listener: any ListenerCertificate it
  // still holds is retained on deletion.
  for (const name of ['acme-staging', 'hooli-staging']) {
    for (const [id, resource] of listenerCertificates(templates[name])) {
      expect([name, id, resource.DeletionPolicy, resource.UpdateReplacePolicy]).toEqual([name, id, 'Retain', 'Retain']);
    }
  }
});

test('placement puts no more distinct certificates on a load balancer than quotas.certificatesPerLoadBalancer', () => {
  const certificates = { 'acme-staging': CERT(1), 'hooli-staging': CERT(2), 'piedpiper-development': CERT(1) };
  const { vending, templates } = build(fleetWith(certificates, { certificatesPerLoadBalancer: 1 }));
  // acme-staging and piedpiper-development share CERT(1) on load balancer 1; hooli-staging's CERT(2) moves on.
  expect(vending.placement.environments).toEqual({ 'acme-staging': 1, 'hooli-staging': 2, 'piedpiper-development': 1 });
  expect(
    listenerCertificates(templates['vending-platform'])
      .map(([, r]) => r.Properties.Certificates[0].CertificateArn)
      .sort(),
  ).toEqual([CERT(1), CERT(2)].sort());
});

test('a fleet whose certificates cannot fit its load balancers is refused, naming the quota and the limit', () => {
  const certificates = { 'acme-staging': CERT(1), 'hooli-staging': CERT(2) };
  expect(() => build(fleetWith(certificates, { certificatesPerLoadBalancer: 1 }, 1))).toThrow(
    /certificatesPerLoadBalancer.*received 1: hooli-staging's certificate .*bbbbbbbb-0000-4000-8000-000000000002 would be the 2nd distinct certificate on shared load balancer 1/s,
  );
});
