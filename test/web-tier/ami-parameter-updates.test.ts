/**
 * The baked image stays: no CloudFormation update of a web tier writes the image parameter's value. Each scenario is
 * the change CloudFormation computes between two syntheses (@aws-cdk/cloudformation-diff, as `paas-vending diff`
 * uses it). A resource that writes the value is an AWS::SSM::Parameter of that name updated, replaced or deleted;
 * the Custom::WebAmiParameter may change (its handler never writes an existing value: environment-resources.integ).
 */
import { fullDiff, ResourceImpact } from '@aws-cdk/cloudformation-diff';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Props, synth } from './fixture';

const NAME = '/vending/acme/staging/ami-id';

function template(props: Props = {}, withToken = true): any {
  return synth(({ platform }) => ({
    ...(withToken ? { amiParameterServiceToken: platform.environmentResourcesServiceToken } : {}),
    ...props,
  })).template.toJSON();
}

/** The resources of the update from `old` to `next` that write or delete the image parameter, with what they do. */
function valueWrites(old: any, next: any): string[] {
  const writes: string[] = [];
  fullDiff(old, next).resources.forEachDifference((logicalId, change) => {
    const type = change.newResourceType ?? change.oldResourceType;
    const named = [change.oldValue, change.newValue].some((r: any) => r?.Properties?.Name === NAME);
    if (type !== 'AWS::SSM::Parameter' || !named) return;
    const impact = change.changeImpact;
    const propertiesChange = Object.keys(change.propertyUpdates).length > 0;
    if (impact === ResourceImpact.WILL_DESTROY || impact === ResourceImpact.WILL_REPLACE) {
      writes.push(`${logicalId}: ${impact}`);
    } else if (impact === ResourceImpact.WILL_UPDATE && propertiesChange) {
      writes.push(`${logicalId}: ${impact} ${Object.keys(change.propertyUpdates).join(', ')}`);
    }
  });
  return writes;
}

const ARM = { instanceType: new ec2.InstanceType('t4g.small') };
const CHANGES: [string, Props, Props][] = [
  ['initialImageId set', {}, { initialImageId: 'ami-0123456789abcdef0' }],
  ['initialImageId changed', { initialImageId: 'ami-0123456789abcdef0' }, { initialImageId: 'ami-0fedcba9876543210' }],
  ['initialImageId removed', { initialImageId: 'ami-0123456789abcdef0' }, {}],
  ['x86_64 to arm64', {}, ARM],
  ['arm64 to x86_64', ARM, {}],
  ['tags', { tags: { team: 'web' } }, { tags: { team: 'platform', cost: 'acme' } }],
];

describe('once the earlier parameter is gone (keepEarlierAmiParameter: false)', () => {
  test.each(CHANGES)('%s: nothing writes the parameter, only the custom resource changes', (_name, before, after) => {
    const old = template({ ...before, keepEarlierAmiParameter: false });
    const next = template({ ...after, keepEarlierAmiParameter: false });
    expect(valueWrites(old, next)).toEqual([]);
    // The change reaches the custom resource (its Update keeps the value and sets the tags).
    const changed: string[] = [];
    fullDiff(old, next).resources.forEachDifference((_id, change) => {
      if (change.newResourceType === 'Custom::WebAmiParameter') changed.push(...Object.keys(change.propertyUpdates));
    });
    expect(changed).toEqual([expect.stringMatching(/^(InitialValue|Tags)$/)]);
  });

  test('the template holds no AWS::SSM::Parameter of that name, and the launch template waits for the custom one', () => {
    const t = template({ keepEarlierAmiParameter: false });
    const named = Object.values(t.Resources).filter(
      (r: any) => r.Type === 'AWS::SSM::Parameter' && r.Properties.Name === NAME,
    );
    expect(named).toEqual([]);
    const [customId, custom] = Object.entries(t.Resources).find(([, r]: any) => r.Type === 'Custom::WebAmiParameter')!;
    expect(customId).toMatch(/^WebImageParameter/);
    expect((custom as any).Properties).toMatchObject({
      ParameterName: NAME,
      InitialValue: '{{resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64}}',
      Tags: { 'vending:customer': 'acme', 'vending:environment': 'staging' },
    });
    const launchTemplate: any = Object.values(t.Resources).find((r: any) => r.Type === 'AWS::EC2::LaunchTemplate');
    expect(launchTemplate.DependsOn).toContain(customId);
  });
});

describe('the migration from the plain AWS::SSM::Parameter of earlier releases', () => {
  const EARLIER = 'WebAmiParameterB85AD722';

  test('first deploy: the earlier resource keeps its id and properties (no write), gains RETAIN, the custom resource comes after it', () => {
    const old = template({}, false);
    const next = template();
    expect(valueWrites(old, next)).toEqual([]);
    expect(next.Resources[EARLIER].Properties).toEqual(old.Resources[EARLIER].Properties);
    expect(next.Resources[EARLIER]).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    const [, custom]: any = Object.entries(next.Resources).find(([, r]: any) => r.Type === 'Custom::WebAmiParameter');
    expect(custom.DependsOn).toContain(EARLIER);
    const added: string[] = [];
    fullDiff(old, next).resources.forEachDifference((id, change) => {
      if (change.changeImpact === ResourceImpact.WILL_CREATE) added.push(change.newResourceType!);
      if (change.changeImpact === ResourceImpact.WILL_DESTROY) added.push(`destroyed ${id}`);
    });
    // Outside production the platform's function also brings the data bucket's cleanup; nothing is destroyed.
    expect(added).toEqual(['Custom::WebAmiParameter', 'Custom::DataBucketCleanup']);
  });

  test('second deploy (keepEarlierAmiParameter: false): the earlier resource is orphaned, not deleted', () => {
    const old = template();
    const next = template({ keepEarlierAmiParameter: false });
    expect(valueWrites(old, next)).toEqual([]);
    const impacts: Record<string, string> = {};
    fullDiff(old, next).resources.forEachDifference((id, change) => (impacts[id] = change.changeImpact));
    expect(impacts[EARLIER]).toBe(ResourceImpact.WILL_ORPHAN);
  });

  test('without the platform function (the earlier design), an architecture change writes the stock image', () => {
    expect(valueWrites(template({}, false), template(ARM, false))).toEqual([
      `${EARLIER}: ${ResourceImpact.WILL_UPDATE} Value`,
    ]);
  });
});
