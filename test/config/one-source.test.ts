/*
 * One source of rules: a value a config file may not hold is refused in the props of every construct that takes
 * it, with the same words, and a value a file may hold is taken by them. The rules are the JSON Schema's (from the
 * tags of src/config/types.ts), read by src/config/values.ts; nothing else states them.
 */
import { readFileSync } from 'fs';
import { join } from 'path';
import { Duration, Size, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { asStruct, platform, problemsOf, stagingCustomer } from './fixtures';
import {
  ConfigLoader,
  CustomerAmiPipeline,
  CustomerWebTier,
  DatabaseEngine,
  PipelineSource,
  SoftwareDeliveryPipeline,
} from '../../src';
import { valueRule, ValueRuleName } from '../../src/config/values';
import { defaultProps } from '../delivery-pipeline/fixture';
import { addWebTier, Fixture, newPlatform } from '../web-tier/fixture';

const SCHEMA = JSON.parse(readFileSync(join(__dirname, '..', '..', 'schema', 'customer-config.schema.json'), 'utf-8'));
const CONNECTION = 'arn:aws:codeconnections:eu-west-1:123456789012:connection/0a1b2c3d-4e5f-6789-abcd-ef0123456789';

/** What a file says about a value of a field (the first problem's message), or undefined when it takes it. */
function fileSays(set: (doc: any) => void): string | undefined {
  const doc = stagingCustomer();
  set(doc);
  // The rule of a name is the same for every environment a platform declares.
  const declared = [{ name: 'production', production: true }];
  if (doc.environment !== 'production') declared.push({ name: doc.environment, production: false });
  const options = { platform: { ...platform(), environments: declared } };
  try {
    ConfigLoader.validateCustomer(asStruct(doc), options);
    return undefined;
  } catch {
    return problemsOf(() => ConfigLoader.validateCustomer(asStruct(doc), options))[0].message;
  }
}

/** What a construct says about its props, without the path and prop prefix; undefined when it takes them. */
function constructSays(build: () => unknown): string | undefined {
  try {
    build();
    return undefined;
  } catch (e) {
    return (e as Error).message.replace(/^[^:]+: [^:]+: /, '');
  }
}

let fixture: Fixture;
let count = 0;
beforeAll(() => {
  fixture = newPlatform();
});

function ami(stack: Stack, web: CustomerWebTier, props: object) {
  return new CustomerAmiPipeline(stack, `Ami${count++}`, {
    customer: 'acme',
    environment: 'staging',
    source: PipelineSource.codeConnections({ connectionArn: CONNECTION, owner: 'acme', repository: 'infrastructure' }),
    vpc: fixture.platform.vpc,
    artifactsBucket: fixture.platform.artifactsBucket,
    amiParameter: web.amiParameter,
    autoScalingGroup: web.autoScalingGroup,
    ...props,
  });
}

const NAMES: [ValueRuleName & ('customer' | 'environment'), string[], string[]][] = [
  ['customer', ['ab', 'Acme', 'a--b', 'acme-', '1acme', 'a'.repeat(33)], ['abc', 'acme-web', 'a'.repeat(32)]],
  ['environment', ['s', 'staging-', 'pre-prod', 'Staging', 'a'.repeat(17)], ['qa', 'staging2', 'a'.repeat(16)]],
];

describe.each(NAMES)('%s names', (field, refused, taken) => {
  test.each(refused)('"%s" is refused by the file and by every construct, in the same words', (value) => {
    const file = fileSays((doc) => (doc[field] = value));
    expect(file).toBeDefined();
    const { stack, web } = addWebTier(fixture, `Names${count++}`);
    const says = [
      constructSays(() => addWebTier(fixture, `Web${count++}`, { [field]: value })),
      constructSays(
        () =>
          new SoftwareDeliveryPipeline(stack, `Software${count++}`, {
            ...defaultProps(web, fixture.platform),
            [field]: value,
          }),
      ),
      constructSays(() => ami(stack, web, { [field]: value })),
    ];
    expect(says).toEqual([file, file, file]);
  });

  test.each(taken)('"%s" is taken by the file and by every construct', (value) => {
    expect(fileSays((doc) => (doc[field] = value))).toBeUndefined();
    const { stack, web } = addWebTier(fixture, `Names${count++}`);
    expect(constructSays(() => addWebTier(fixture, `Web${count++}`, { [field]: value }))).toBeUndefined();
    expect(
      constructSays(
        () =>
          new SoftwareDeliveryPipeline(stack, `Software${count++}`, {
            ...defaultProps(web, fixture.platform),
            [field]: value,
          }),
      ),
    ).toBeUndefined();
    expect(constructSays(() => ami(stack, web, { [field]: value }))).toBeUndefined();
  });
});

describe('other values', () => {
  test.each(['t3', 'tsmall.x', 'T3.small', 't3.small.x', 'db.t3.small'])(
    'instance type "%s" is refused by the file and by the web tier, in the same words',
    (value) => {
      const file = fileSays((doc) => (doc.compute = { instanceType: value }));
      expect(file).toBeDefined();
      expect(
        constructSays(() => addWebTier(fixture, `Web${count++}`, { instanceType: new ec2.InstanceType(value) })),
      ).toBe(file);
    },
  );

  test.each(['ops', 'ops@', 'ops@example', 'o ps@example.com'])(
    'approver "%s" is refused by the file and by both pipelines, in the same words',
    (value) => {
      const file = fileSays((doc) => (doc.approvalEmails = [value]));
      expect(file).toBeDefined();
      const { stack, web } = addWebTier(fixture, `Emails${count++}`);
      const says = [
        constructSays(
          () =>
            new SoftwareDeliveryPipeline(stack, `Software${count++}`, {
              ...defaultProps(web, fixture.platform),
              approvalEmails: [value],
            }),
        ),
        constructSays(() => ami(stack, web, { approvalEmails: [value] })),
      ];
      expect(says).toEqual([file, file]);
    },
  );

  test('production without approvers is refused by the file and by both pipelines', () => {
    const file = fileSays((doc) => {
      doc.environment = 'production';
      doc.approvalEmails = [];
      doc.compute = { minCapacity: 2 };
    });
    expect(file).toBe("received []; expected at least one address: production releases wait for a person's approval");
    const { stack, web } = addWebTier(fixture, `Approvers${count++}`, { environment: 'production' });
    const software = constructSays(
      () =>
        new SoftwareDeliveryPipeline(stack, `Software${count++}`, {
          ...defaultProps(web, fixture.platform),
          environment: 'production',
          approvalEmails: [],
        }),
    );
    const images = constructSays(() => ami(stack, web, { environment: 'production', approvalEmails: [] }));
    expect(software).toBe(file);
    expect(images).toBe(file!.replace('releases', 'images'));
  });

  test('secret names and setting values follow the same rules in a file and in the web tier', () => {
    const name = fileSays((doc) => (doc.secrets = ['9LIVES']));
    expect(name).toBe(`received "9LIVES"; expected ${valueRule('settingName').expected}`);
    expect(constructSays(() => addWebTier(fixture, `Web${count++}`, { secrets: ['9LIVES'] }))).toBe(name);
    const long = fileSays((doc) => (doc.settings = { API_URL: 'x'.repeat(4097) }));
    expect(long).toBe('received a value of 4097 characters; expected at most 4096');
    const props = { settings: { API_URL: 'x'.repeat(4097) } };
    expect(constructSays(() => addWebTier(fixture, `Web${count++}`, props))).toBe(long);
  });

  test('a host name and an image id follow the schema in the web tier too', () => {
    const host = fileSays((doc) => (doc.hostname = 'www.acme.com/shop'));
    expect(host).toBe(`received "www.acme.com/shop"; expected ${valueRule('hostname').expected}`);
    const image = fileSays((doc) => (doc.ami = { initialImageId: 'ami-xyz' }));
    expect(constructSays(() => addWebTier(fixture, `Web${count++}`, { initialImageId: 'ami-xyz' }))).toBe(image);
  });
});

test('each rule the constructs apply is the pattern and the words of the JSON Schema', () => {
  const places: Record<ValueRuleName, any> = {
    customer: SCHEMA.definitions.CustomerConfig.properties.customer,
    environment: SCHEMA.definitions.CustomerConfig.properties.environment,
    hostname: SCHEMA.definitions.CustomerConfig.properties.hostname,
    instanceType: SCHEMA.definitions.ComputeConfig.properties.instanceType,
    buildInstanceType: SCHEMA.definitions.AmiConfig.properties.buildInstanceType,
    email: SCHEMA.definitions.CustomerConfig.properties.approvalEmails.items,
    alertEmail: SCHEMA.definitions.HealthConfig.properties.alertEmails.items,
    imageId: SCHEMA.definitions.AmiConfig.properties.initialImageId,
    databaseInstanceType: SCHEMA.definitions.DatabaseConfig.properties.instanceType,
    masterUsername: SCHEMA.definitions.DatabaseConfig.properties.masterUsername,
    databaseIdentifier: SCHEMA.definitions.DatabaseConfig.properties.clusterName,
    backupWindow: SCHEMA.definitions.DatabaseConfig.properties.preferredBackupWindow,
    securityGroupId: SCHEMA.definitions.DatabaseConfig.properties.securityGroupIds.items,
    healthCheckPath: SCHEMA.definitions.HealthCheckConfig.properties.path,
    healthyHttpCodes: SCHEMA.definitions.HealthCheckConfig.properties.healthyHttpCodes,
    settingName: SCHEMA.definitions.CustomerConfig.properties.secrets.items,
  };
  // Setting names (the keys of settings) and secret names are one rule, written twice in types.ts.
  const { pattern, expected } = places.settingName;
  expect(SCHEMA.definitions.CustomerConfig.properties.settings.propertyNames).toEqual({ pattern, expected });
  for (const [name, node] of Object.entries(places)) {
    const rule = valueRule(name as ValueRuleName);
    expect({ name, pattern: rule.pattern.source, expected: rule.expected }).toEqual({
      name,
      pattern: node.pattern,
      expected: node.expected,
    });
  }
});

/**
 * Numbers: each config key's range in a file, and the prop that says the same in code (in its own unit). A value
 * just outside the range is refused by both in the same words (the unit aside), and the bound itself is taken.
 */
const NUMBERS: [string, (doc: any, n: number) => void, (n: number) => object, number, number][] = [
  [
    'compute.minCapacity',
    (d, n) => (d.compute = { minCapacity: n, maxCapacity: 100 }),
    (n) => ({ minCapacity: n, maxCapacity: 100 }),
    0,
    100,
  ],
  [
    'compute.maxCapacity',
    (d, n) => (d.compute = { minCapacity: 1, maxCapacity: n }),
    (n) => ({ minCapacity: 1, maxCapacity: n }),
    1,
    100,
  ],
  [
    'compute.targetCpuPercent',
    (d, n) => (d.compute = { targetCpuPercent: n }),
    (n) => ({ targetCpuUtilizationPercent: n }),
    10,
    90,
  ],
  [
    'compute.targetRequestsPerInstance',
    (d, n) => (d.compute = { targetRequestsPerInstance: n }),
    (n) => ({ targetRequestsPerMinute: n }),
    1,
    1_000_000,
  ],
  [
    'compute.rootVolumeGib',
    (d, n) => (d.compute = { rootVolumeGib: n }),
    (n) => ({ rootVolumeSize: Size.gibibytes(n) }),
    8,
    16384,
  ],
  [
    'healthCheck.intervalSeconds',
    (d, n) => (d.healthCheck = { intervalSeconds: n, timeoutSeconds: 2 }),
    (n) => ({ healthCheck: { interval: Duration.seconds(n), timeout: Duration.seconds(2) } }),
    5,
    300,
  ],
  [
    'healthCheck.timeoutSeconds',
    (d, n) => (d.healthCheck = { intervalSeconds: 300, timeoutSeconds: n }),
    (n) => ({ healthCheck: { interval: Duration.seconds(300), timeout: Duration.seconds(n) } }),
    2,
    120,
  ],
  [
    'healthCheck.healthyThreshold',
    (d, n) => (d.healthCheck = { healthyThreshold: n }),
    (n) => ({ healthCheck: { healthyThresholdCount: n } }),
    2,
    10,
  ],
  [
    'healthCheck.unhealthyThreshold',
    (d, n) => (d.healthCheck = { unhealthyThreshold: n }),
    (n) => ({ healthCheck: { unhealthyThresholdCount: n } }),
    2,
    10,
  ],
  [
    'database.backupRetentionDays',
    (d, n) => (d.database = { engine: 'postgres', version: '16', backupRetentionDays: n }),
    (n) => ({ database: { engine: DatabaseEngine.POSTGRES, version: '16', backupRetention: Duration.days(n) } }),
    1,
    35,
  ],
];

describe.each(NUMBERS)('%s', (_key, setFile, props, minimum, maximum) => {
  test.each([minimum - 1, maximum + 1, minimum + 0.5])(
    '%d is refused by the file and by the web tier, in the same words',
    (n) => {
      const file = fileSays((doc) => setFile(doc, n));
      expect(file).toMatch(/^received .*; expected /);
      const says = constructSays(() => addWebTier(fixture, `Web${count++}`, props(n)));
      // The prop may carry a unit (seconds, GiB, days) after each number: the words are otherwise the file's.
      expect(says?.replace(/ (seconds|GiB|days)\b/g, '')).toBe(file);
    },
  );

  test.each([minimum, maximum])('%d is taken by the file and by the web tier', (n) => {
    expect(fileSays((doc) => setFile(doc, n))).toBeUndefined();
    expect(constructSays(() => addWebTier(fixture, `Web${count++}`, props(n)))).toBeUndefined();
  });
});

test('keepImages is refused out of its range by the file and by the AMI pipeline, in the same words', () => {
  const file = fileSays((doc) => (doc.ami = { keepImages: 101 }));
  const { stack, web } = addWebTier(fixture, `Keep${count++}`);
  expect(constructSays(() => ami(stack, web, { keepImages: 101 }))).toBe(
    `${file} (the image in use is always kept too)`,
  );
});
