/*
 * Moving code must not move resources. CloudFormation replaces a resource whose logical id changes: for a bucket,
 * a database, a key, a log group or the allocator's table that loses a customer's data; for a load balancer, the
 * VPC or a subnet it breaks every site on it; for the AMI parameter it writes the stock image back over the baked
 * one. This test compares the logical ids of those resources in the example fleet with the committed list
 * data-resources.json.
 *
 * When it fails, a change moved such a resource. Keep the id (an `overrideLogicalId`, or the construct id and
 * scope it had). Only when a replacement is intended and safe, edit data-resources.json by hand in the same commit,
 * and say in the commit message and CHANGELOG what happens to deployed stacks.
 */
import { readFileSync } from 'fs';
import { join } from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { CustomerEnvironment, VendingFleet } from '../../src';

const FLEET = join(__dirname, '..', '..', 'examples', 'fleet');
const COMMITTED = join(__dirname, 'data-resources.json');

/** The resource types whose replacement loses data or traffic. */
const DATA_TYPES = new Set([
  'AWS::S3::Bucket',
  'AWS::RDS::DBCluster',
  'AWS::RDS::DBInstance',
  'AWS::KMS::Key',
  'AWS::DynamoDB::Table',
  'AWS::Logs::LogGroup',
  'AWS::ElasticLoadBalancingV2::LoadBalancer',
  'AWS::EC2::VPC',
  'AWS::EC2::Subnet',
]);

type Resources = Record<string, { Type: string; Properties?: { Name?: unknown }; DeletionPolicy?: string }>;

let synthesized: { stack: Stack; resources: Resources }[] | undefined;
/** The example fleet's stacks and their templates' resources, synthesized once for the file. */
function fleetTemplates(): { stack: Stack; resources: Resources }[] {
  if (synthesized) return synthesized;
  const app = new App({ context: { 'aws:cdk:enable-path-metadata': false } });
  VendingFleet.fromDirectory(app, FLEET, { frozenPlacement: true });
  const assembly = app.synth();
  synthesized = app.node.children
    .filter((c): c is Stack => Stack.isStack(c))
    .map((stack) => ({
      stack,
      resources: assembly.getStackArtifact(stack.artifactId).template.Resources as Resources,
    }));
  return synthesized;
}

/** Per stack, each data-bearing resource's logical id and type, sorted. */
function dataResources(): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  for (const { stack, resources } of fleetTemplates()) {
    const ids = Object.entries(resources)
      .filter(([, r]) => DATA_TYPES.has(r.Type) || isAmiParameter(r))
      .map(([id, r]) => [id, r.Type] as const)
      .sort(([a], [b]) => (a < b ? -1 : 1));
    out[stack.stackName] = Object.fromEntries(ids);
  }
  return out;
}

/** The parameter that holds an environment's baked image, which its rollout owns. */
function isAmiParameter(resource: { Type: string; Properties?: { Name?: unknown } }): boolean {
  // The custom resource of the platform's function: a new logical id would create a second owner of the parameter.
  if (resource.Type === 'Custom::WebAmiParameter') return true;
  return (
    resource.Type === 'AWS::SSM::Parameter' &&
    typeof resource.Properties?.Name === 'string' &&
    resource.Properties.Name.endsWith('/ami-id')
  );
}

test('the logical ids of data-bearing resources in the example fleet are the committed ones', () => {
  const committed = JSON.parse(readFileSync(COMMITTED, 'utf-8')) as Record<string, Record<string, string>>;
  const actual = dataResources();
  const moved: string[] = [];
  for (const stack of new Set([...Object.keys(committed), ...Object.keys(actual)])) {
    const before = committed[stack] ?? {};
    const now = actual[stack] ?? {};
    for (const id of Object.keys(before)) if (!(id in now)) moved.push(`${stack}: ${id} (${before[id]}) is gone`);
    for (const id of Object.keys(now)) if (!(id in before)) moved.push(`${stack}: ${id} (${now[id]}) is new`);
  }
  // Every id listed, and the list itself, so that a type change shows too.
  expect(moved).toEqual([]);
  expect(actual).toEqual(committed);
});

test('the list covers every kind of data-bearing resource the fleet has', () => {
  const committed = JSON.parse(readFileSync(COMMITTED, 'utf-8')) as Record<string, Record<string, string>>;
  const types = new Set(Object.values(committed).flatMap((ids) => Object.values(ids)));
  expect([...types].sort()).toEqual([...DATA_TYPES, 'AWS::SSM::Parameter', 'Custom::WebAmiParameter'].sort());
  expect(Object.values(committed).filter((ids) => Object.values(ids).includes('AWS::SSM::Parameter'))).toHaveLength(6);
  // Each environment's image parameter, as the platform function's custom resource (the earlier one kept, retained).
  expect(Object.values(committed).filter((ids) => Object.values(ids).includes('Custom::WebAmiParameter'))).toHaveLength(
    6,
  );
});

test('what a deleted customer stack leaves: every database a final snapshot, production data buckets retained', () => {
  // Offboarding an environment (paas-vending offboard, then cdk destroy) relies on these deletion policies.
  const found: string[] = [];
  for (const { stack, resources } of fleetTemplates()) {
    if (!(stack instanceof CustomerEnvironment)) continue;
    for (const [, r] of Object.entries(resources)) {
      const policies = `${r.DeletionPolicy}/${(r as { UpdateReplacePolicy?: string }).UpdateReplacePolicy}`;
      const clusterMember = (r.Properties as { DBClusterIdentifier?: unknown })?.DBClusterIdentifier !== undefined;
      if (r.Type === 'AWS::S3::Bucket') found.push(`${stack.stackName} ${r.Type} ${policies}`);
      if (r.Type === 'AWS::RDS::DBCluster' || (r.Type === 'AWS::RDS::DBInstance' && !clusterMember)) {
        found.push(`${stack.stackName} ${r.Type} ${policies}`);
      }
    }
  }
  expect(found.sort()).toEqual([
    'acme-production AWS::RDS::DBInstance Snapshot/Snapshot',
    'acme-production AWS::S3::Bucket Retain/Retain',
    'acme-staging AWS::RDS::DBInstance Snapshot/Snapshot',
    'acme-staging AWS::S3::Bucket Delete/Delete',
    'globex-production AWS::RDS::DBCluster Snapshot/Snapshot',
    'globex-production AWS::S3::Bucket Retain/Retain',
    'hooli-staging AWS::RDS::DBInstance Snapshot/Snapshot',
    'hooli-staging AWS::S3::Bucket Delete/Delete',
    'initech-production AWS::RDS::DBCluster Snapshot/Snapshot',
    'initech-production AWS::S3::Bucket Retain/Retain',
    'piedpiper-development AWS::S3::Bucket Delete/Delete',
  ]);
});
