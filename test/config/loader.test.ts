import { writeFileSync } from 'fs';
import { join } from 'path';
import { stringify } from 'yaml';
import {
  asStruct,
  CERTIFICATE_ARN,
  CONNECTION_ARN,
  messages,
  platform,
  problemsOf,
  productionCustomer,
  stagingCustomer,
  writeFleet,
} from './fixtures';
import { ConfigLoader, DatabaseEngine, DeploymentStrategy } from '../../src';
import { ConfigError } from '../../src/config/errors';
import { readCustomer } from '../../src/config/loader';

const parse =
  (doc: any, file = 'customers/acme.yaml') =>
  () =>
    ConfigLoader.parseCustomer(stringify(doc), file);

describe('valid customer files', () => {
  test('a minimal staging file gets every default, once', () => {
    const config = ConfigLoader.parseCustomer(stringify(stagingCustomer()), 'acme.yaml', { platform: platform() });
    expect(config.hostname).toBe('acme-staging.apps.example.com');
    expect(config.compute).toEqual({
      instanceType: 't3.small',
      minCapacity: 1,
      maxCapacity: 4,
      targetCpuPercent: 60,
      rootVolumeGib: 20,
    });
    expect(config.healthCheck).toEqual({
      path: '/',
      healthyHttpCodes: '200-399',
      intervalSeconds: 30,
      timeoutSeconds: 5,
      healthyThreshold: 2,
      unhealthyThreshold: 3,
    });
    expect(config.database).toBeUndefined();
    expect(config.approvalEmails).toEqual([]);
    expect(config.softwareDelivery.deploymentConfig).toBe(DeploymentStrategy.ONE_AT_A_TIME);
    expect(config.softwareDelivery.repository.branch).toBe('main');
    // The AMI pipeline reads the software repository unless told otherwise.
    expect(config.ami?.repository).toEqual(config.softwareDelivery.repository);
    expect(config.ami?.baseImage).toEqual({
      ssmParameter: '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64',
    });
  });

  test('production turns on safeguards by default', () => {
    const doc = productionCustomer();
    delete doc.compute;
    const config = ConfigLoader.parseCustomer(stringify(doc), 'acme.yaml');
    expect(config.compute?.minCapacity).toBe(2);
    expect(config.database?.multiAz).toBe(true);
    expect(config.database?.clusterName).toBe('acme-production');
    expect(config.database?.engine).toBe(DatabaseEngine.POSTGRES);
  });

  test('an explicit hostname wins over the platform default, and no platform means no default', () => {
    expect(
      ConfigLoader.parseCustomer(stringify({ ...stagingCustomer(), hostname: 'shop.apps.example.com' }), 'a', {
        platform: platform(),
      }).hostname,
    ).toBe('shop.apps.example.com');
    expect(ConfigLoader.parseCustomer(stringify(stagingCustomer())).hostname).toBeUndefined();
  });

  test('an explicit hostname beside a custom domain in production is refused: its own load balancer would not serve it', () => {
    const doc = { ...productionCustomer(), hostname: 'acme.apps.example.com' };
    expect(
      messages(() => ConfigLoader.parseCustomer(stringify(doc), 'acme-production.yaml', { platform: platform() })),
    ).toEqual([
      'hostname: received "acme.apps.example.com" with customDomain www.acme.com in production; expected no hostname: ' +
        'a custom domain in production has a load balancer of its own, which serves customDomain.name only',
    ]);
    // Outside production both are served by the shared load balancer.
    const staging = { ...doc, environment: 'staging', approvalEmails: undefined };
    const options = { platform: platform() };
    expect(ConfigLoader.parseCustomer(stringify(staging), 'acme-staging.yaml', options).hostname).toBe(
      'acme.apps.example.com',
    );
  });

  test('JSON files are read too, and a $schema key is allowed and dropped', () => {
    const json = JSON.stringify({ $schema: '../schema/customer-config.schema.json', ...productionCustomer() });
    const config = ConfigLoader.parseCustomer(json, 'acme.json');
    expect(config.customer).toBe('acme');
    expect(config).not.toHaveProperty('$schema');
  });

  test('configs built in code are validated the same way (undefined optional keys are ignored)', () => {
    const config = ConfigLoader.validateCustomer({
      ...asStruct(stagingCustomer()),
      hostname: undefined,
      database: undefined,
    });
    expect(config.compute?.maxCapacity).toBe(4);
    expect(messages(() => ConfigLoader.validateCustomer({ ...asStruct(stagingCustomer()), customer: 'A' }))).toEqual([
      'customer: received "A"; expected 3 to 32 lower-case letters, digits or hyphens, starting with a letter, without -- and not ending with -',
    ]);
    const [problem] = problemsOf(() =>
      ConfigLoader.validateCustomer({ ...asStruct(stagingCustomer()), customer: 'A' }),
    );
    expect(problem.file).toBe('CustomerConfig');
    expect(problem.line).toBeUndefined();
  });

  test('the struct says softwareDelivery where the file says software, and problems use the name of each side', () => {
    const fromFile = ConfigLoader.parseCustomer(stringify(stagingCustomer()));
    expect(fromFile.softwareDelivery.repository.connectionArn).toBe(CONNECTION_ARN);
    expect(fromFile).not.toHaveProperty('software');
    expect(
      messages(() =>
        ConfigLoader.validateCustomer({ ...asStruct(stagingCustomer()), softwareDelivery: { repository: {} } }),
      ),
    ).toEqual([expect.stringMatching(/^softwareDelivery\.repository: received \{\}; expected one kind of source/)]);
    expect(
      messages(() => ConfigLoader.parseCustomer(stringify({ ...stagingCustomer(), software: { repository: {} } }))),
    ).toEqual([expect.stringMatching(/^software\.repository: received \{\}; expected one kind of source/)]);
    // The struct name in a file is a typo like any other.
    const { software, ...rest } = stagingCustomer();
    expect(messages(() => ConfigLoader.parseCustomer(stringify({ ...rest, softwareDelivery: software })))).toEqual([
      expect.stringMatching(/^software: is missing/),
      expect.stringMatching(/^softwareDelivery: unknown key "softwareDelivery"/),
    ]);
  });

  test('every database family is accepted with its own version style', () => {
    for (const [engine, version] of [
      ['postgres', '16'],
      ['postgres', '16.9'],
      ['mysql', '8.0'],
      ['mysql', '8.0.43'],
      ['mariadb', '10.11'],
      ['mariadb', '10.11.9'],
      ['aurora-postgresql', '16'],
      ['aurora-postgresql', '15.13'],
      ['aurora-mysql', '3.08.0'],
    ]) {
      const config = ConfigLoader.parseCustomer(stringify({ ...stagingCustomer(), database: { engine, version } }));
      expect(config.database).toMatchObject({ engine, version, multiAz: false, backupRetentionDays: 7 });
    }
  });

  test('CodeCommit and S3 sources; S3 sources have no branch', () => {
    const codeCommit = ConfigLoader.parseCustomer(
      stringify({ ...stagingCustomer(), software: { repository: { codeCommitRepository: 'acme-web' } } }),
    );
    expect(codeCommit.softwareDelivery.repository).toEqual({ codeCommitRepository: 'acme-web', branch: 'main' });
    const s3 = ConfigLoader.parseCustomer(
      stringify({
        ...stagingCustomer(),
        software: { repository: { s3Bucket: 'acme-src', s3ObjectKey: 'web/main.zip' } },
      }),
    );
    expect(s3.softwareDelivery.repository).toEqual({ s3Bucket: 'acme-src', s3ObjectKey: 'web/main.zip' });
  });
});

describe('bad input: one clear error with file, field, value received and what is expected', () => {
  test('unknown keys, with a suggestion for typos', () => {
    const doc = stagingCustomer();
    doc.compute = { instanceTyp: 't3.small' };
    doc.enviroment = 'x';
    expect(messages(parse(doc))).toEqual([
      expect.stringMatching(
        /^compute\.instanceTyp: unknown key "instanceTyp" \(did you mean "instanceType"\?\); expected one of instanceType, minCapacity/,
      ),
      expect.stringMatching(/^enviroment: unknown key "enviroment" \(did you mean "environment"\?\)/),
    ]);
  });

  test('wrong types say what was received and what is expected', () => {
    const doc = stagingCustomer();
    doc.compute = { minCapacity: 'two' };
    doc.database = { engine: 'postgres', version: 16 };
    doc.approvalEmails = 'ops@acme.com';
    expect(messages(parse(doc)).sort()).toEqual([
      'approvalEmails: received "ops@acme.com" (a string); expected a list',
      'compute.minCapacity: received "two" (a string); expected an integer from 0 to 100',
      'database.version: received 16 (an integer); expected an engine version in quotes, such as "16" or "8.0"',
    ]);
  });

  test('an account id written as a number is told to be quoted', () => {
    expect(messages(() => ConfigLoader.parsePlatform(stringify({ ...platform(), account: 123456789012 })))).toEqual([
      'account: received 123456789012 (an integer); expected a 12-digit account id in quotes, such as "123456789012"',
    ]);
  });

  test('bad enum values list the choices', () => {
    const doc = productionCustomer();
    doc.database.engine = 'postgresql';
    doc.software.deploymentConfig = 'canary';
    expect(messages(parse(doc))).toEqual([
      'database.engine: received "postgresql"; expected one of postgres, mysql, mariadb, aurora-postgresql, aurora-mysql',
      'software.deploymentConfig: received "canary"; expected one of one-at-a-time, half-at-a-time, all-at-once',
    ]);
  });

  test.each([
    ['customer', 'Acme_Corp', 'customer: received "Acme_Corp"; expected 3 to 32 lower-case letters'],
    ['customer', 'acme-', 'customer: received "acme-"; expected 3 to 32'],
    ['customer', 'a'.repeat(33), 'customer: received "aaaaaaaa'],
    ['environment', 'prod-eu', 'environment: received "prod-eu"; expected 2 to 16 lower-case letters or digits'],
    ['hostname', 'Shop.Example.com', 'hostname: received "Shop.Example.com"; expected a lower-case DNS name'],
    ['hostname', '-shop.example.com', 'hostname: received "-shop.example.com"; expected a lower-case DNS name'],
  ])('names that break AWS naming rules: %s = %s', (key, value, expected) => {
    expect(messages(parse({ ...stagingCustomer(), [key]: value }))[0]).toContain(expected);
  });

  test.each([
    [
      (d: any) => (d.database.clusterName = 'acme--prod'),
      'database.clusterName: received "acme--prod"; expected 1 to 63 lower-case letters, digits or hyphens, starting with a letter, without --',
    ],
    [(d: any) => (d.database.clusterName = '1acme'), 'database.clusterName: received "1acme"'],
    [
      (d: any) => (d.database.masterUsername = 'app-admin'),
      'database.masterUsername: received "app-admin"; expected letters, digits or underscores, starting with a letter',
    ],
    [
      (d: any) => (d.software.buildImage.ecrRepository = 'Acme_Build'),
      'software.buildImage.ecrRepository: received "Acme_Build"; expected an ECR repository name',
    ],
    [
      (d: any) => (d.software.repository = { s3Bucket: 'Acme..src', s3ObjectKey: 'x.zip' }),
      'software.repository.s3Bucket: received "Acme..src"; expected an S3 bucket name',
    ],
    [
      (d: any) => (d.database.instanceType = 'db.t4g.medium'),
      'database.instanceType: received "db.t4g.medium"; expected the class without the db. prefix: "t4g.medium"',
    ],
    [
      (d: any) => (d.database.version = '9.6'),
      'database.version: received "9.6" for postgres; expected a PostgreSQL major or full version of major 13, 14, 15, 16 or 17, such as "17"',
    ],
    [
      (d: any) => (d.database = { engine: 'aurora-mysql', version: '3.08.0', instanceType: 't4g.small' }),
      'database.instanceType: received "t4g.small" for aurora-mysql; expected a class that Aurora MySQL runs',
    ],
    [
      (d: any) => (d.database = { engine: 'mysql', version: '8.0.39' }),
      'database.version: received "8.0.39" for mysql; expected a version RDS offers: RDS has deprecated MySQL 8.0.39',
    ],
    [
      (d: any) => (d.database.version = '12'),
      'database.version: received "12" for postgres; expected a PostgreSQL major or full version of major 13, 14, 15, 16 or 17',
    ],
    [
      (d: any) => (d.database.preferredBackupWindow = '02:00-02:15'),
      'database.preferredBackupWindow: received "02:00-02:15", a window of 15 minutes; expected at least 30 minutes',
    ],
    [
      (d: any) => (d.database.securityGroupIds = ['sg-123']),
      'database.securityGroupIds[0]: received "sg-123"; expected a security group id such as sg-0123456789abcdef0',
    ],
    [(d: any) => (d.tags = { 'aws:cost': 'x' }), 'tags.aws:cost: key "aws:cost" is not allowed'],
    [
      (d: any) => (d.tags = { Team: 'x'.repeat(257) }),
      'tags.Team: received a value of 257 characters; expected at most 256',
    ],
    [
      (d: any) => (d.ami.provisionScript = '../secrets/provision.sh'),
      'ami.provisionScript: received "../secrets/provision.sh"; expected a path inside the repository',
    ],
    [
      (d: any) => (d.ami.rebuildSchedule = 'every sunday'),
      'ami.rebuildSchedule: received "every sunday"; expected an EventBridge schedule',
    ],
    [
      (d: any) => (d.ami.baseImage = { amiNameFilter: 'al2023-*' }),
      'ami.baseImage.amiOwners: is missing; amiNameFilter needs the owners',
    ],
    [(d: any) => (d.ami.baseImage = {}), 'ami.baseImage: received {}; expected either ssmParameter'],
    [
      (d: any) => (d.database = { engine: 'mysql', version: '8.0', masterUsername: 'a'.repeat(17) }),
      'database.masterUsername: received "aaaaaaaaaaaaaaaaa" (17 characters) for mysql; expected at most 16 characters',
    ],
    [
      (d: any) => (d.database.masterUsername = 'rdsadmin'),
      'database.masterUsername: received "rdsadmin", a name RDS reserves for itself',
    ],
    [(d: any) => (d.tags = { 'AWS:cost': 'x' }), 'tags.AWS:cost: key "AWS:cost" is not allowed'],
    [(d: any) => (d.tags = { Team: 'a;b' }), 'tags.Team: received "a;b"; expected letters, digits, spaces or _.:/=+-@'],
    [
      (d: any) => (d.ami.rebuildSchedule = 'cron(0 3 * * SUN *)'),
      'ami.rebuildSchedule: received "cron(0 3 * * SUN *)"; expected "?" in exactly one of day-of-month',
    ],
    [
      (d: any) => (d.software.repository = { s3Bucket: '192.168.5.4', s3ObjectKey: 'x.zip' }),
      'software.repository.s3Bucket: received "192.168.5.4"; expected an S3 bucket name',
    ],
    [
      (d: any) => (d.software.repository = { s3Bucket: 'acme-s3alias', s3ObjectKey: 'x.zip' }),
      'software.repository.s3Bucket: received "acme-s3alias"',
    ],
    [
      (d: any) => (d.customDomain.name = 'a.-b.example.com'),
      'customDomain.name: received "a.-b.example.com"; expected a lower-case DNS name',
    ],
    [
      (d: any) => (d.approvalEmails = ['.ops..x.@acme.com']),
      'approvalEmails[0]: received ".ops..x.@acme.com"; expected an email address',
    ],
    [
      (d: any) => (d.compute.minCapacity = Infinity),
      'compute.minCapacity: received Infinity (a number); expected an integer from 0 to 100',
    ],
    [
      (d: any) => (d.compute = { maxCapacity: 1 }),
      'compute.maxCapacity: received 1, less than the default minCapacity (2 in production); expected at least 2, or a lower minCapacity',
    ],
    [
      (d: any) => (d.compute = JSON.parse('{"__proto__": {"minCapacity": 5}}')),
      'compute.__proto__: unknown key "__proto__"',
    ],
  ])('AWS rules on names and values (%#)', (mutate, expected) => {
    const doc = productionCustomer();
    mutate(doc);
    const found = messages(parse(doc));
    expect(found).toHaveLength(1);
    expect(found[0]).toContain(expected);
  });

  test.each([
    [
      'customDomain.certificateArn',
      (d: any) => (d.customDomain.certificateArn = 'arn:aws:acm:eu-west-1:1234:certificate/x'),
      'expected an ACM certificate ARN, arn:aws:acm:REGION:ACCOUNT:certificate/UUID',
    ],
    [
      'software.repository.connectionArn',
      (d: any) => (d.software.repository.connectionArn = 'arn:aws:codestar:eu-west-1:123456789012:connection/abc'),
      'expected a connection ARN, arn:aws:codeconnections:REGION:ACCOUNT:connection/UUID',
    ],
    [
      'approvalEmails[1]',
      (d: any) => (d.approvalEmails = ['ops@acme.com', 'ops at acme.com']),
      'received "ops at acme.com"; expected an email address such as ops@example.com',
    ],
    [
      'approvalEmails[1]',
      (d: any) => (d.approvalEmails = ['ops@acme.com', 'ops@localhost']),
      'received "ops@localhost"; expected an email address such as ops@example.com',
    ],
  ])('malformed ARNs and emails: %s', (path, mutate, expected) => {
    const doc = productionCustomer();
    mutate(doc);
    expect(messages(parse(doc))).toEqual([
      `${path}: ${expected.startsWith('received') ? expected : `received ${JSON.stringify(pathValue(doc, path))}; ${expected}`}`,
    ]);
  });

  test('minCapacity greater than maxCapacity', () => {
    const doc = stagingCustomer();
    doc.compute = { minCapacity: 5, maxCapacity: 3 };
    expect(messages(parse(doc))).toEqual([
      'compute.minCapacity: received 5, more than maxCapacity (3); expected minCapacity <= maxCapacity',
    ]);
  });

  test('production without approvalEmails, or with one instance', () => {
    const doc = productionCustomer();
    delete doc.approvalEmails;
    doc.compute.minCapacity = 1;
    expect(messages(parse(doc)).sort()).toEqual([
      "approvalEmails: received nothing; expected at least one address: production releases wait for a person's approval",
      'compute.minCapacity: received 1; expected at least 2 in production, so that instances run in two Availability Zones',
    ]);
    doc.approvalEmails = [];
    expect(messages(parse(doc)).sort()[0]).toBe(
      "approvalEmails: received []; expected at least one address: production releases wait for a person's approval",
    );
  });

  test('a custom domain without certificate', () => {
    const doc = productionCustomer();
    delete doc.customDomain.certificateArn;
    expect(messages(parse(doc))).toEqual([
      'customDomain.certificateArn: is missing; expected an ACM certificate ARN, arn:aws:acm:REGION:ACCOUNT:certificate/UUID',
    ]);
  });

  test('health check timeout not shorter than its interval, and backwards code ranges', () => {
    const doc = stagingCustomer();
    doc.healthCheck = { intervalSeconds: 10, timeoutSeconds: 10, healthyHttpCodes: '399-200' };
    expect(messages(parse(doc))).toEqual([
      'healthCheck.timeoutSeconds: timeoutSeconds (10) must be less than intervalSeconds (10)',
      'healthCheck.healthyHttpCodes: received "399-200"; the range 399-200 runs backwards, expected low-high such as 200-399',
    ]);
  });

  test('a repository of no kind, of two kinds, or with a key of another kind', () => {
    const doc = stagingCustomer();
    doc.software.repository = { branch: 'main' };
    expect(messages(parse(doc))).toEqual([
      'software.repository: received {"branch":"main"}; expected one kind of source: connectionArn with owner and name, codeCommitRepository, or s3Bucket with s3ObjectKey',
    ]);
    doc.software.repository = {
      codeCommitRepository: 'web',
      s3Bucket: 'acme-src',
      s3ObjectKey: 'a.zip',
      branch: 'main',
    };
    expect(messages(parse(doc))).toEqual([
      'software.repository: sets codeCommitRepository and s3Bucket; expected exactly one kind of source',
      'software.repository.branch: does not apply to an S3 source (the object key names the version); remove it',
    ]);
    doc.software.repository = { connectionArn: CONNECTION_ARN, owner: 'acme' };
    expect(messages(parse(doc))).toEqual(['software.repository.name: is missing; connectionArn needs owner and name']);
  });

  test('a YAML syntax error is reported with its line', () => {
    const text = 'customer: acme\nenvironment: staging\n\tcompute: {}\n';
    expect(problemsOf(() => ConfigLoader.parseCustomer(text, 'customers/acme-staging.yaml'))).toEqual([
      {
        file: 'customers/acme-staging.yaml',
        line: 3,
        column: 1,
        path: '',
        message: 'YAML syntax error: Tabs are not allowed as indentation',
      },
    ]);
    const unclosed = 'customer: acme\nenvironment: staging\ncompute: [1, 2\nsoftware: {}\n';
    expect(problemsOf(() => ConfigLoader.parseCustomer(unclosed, 'c.yaml'))).toEqual([
      expect.objectContaining({
        line: 4,
        message: expect.stringMatching(/^YAML syntax error: Flow sequence .* end with a \]$/),
      }),
    ]);
  });

  test('duplicate keys in one file are a syntax error with the line', () => {
    const problems = problemsOf(() => ConfigLoader.parseCustomer('customer: acme\ncustomer: beta\n', 'c.yaml'));
    expect(problems[0]).toMatchObject({ line: 2, message: expect.stringContaining('Map keys must be unique') });
  });

  test('duplicate keys in a nested mapping and in a list item are syntax errors at the second key', () => {
    const text = 'compute:\n  minCapacity: 1\n  "minCapacity": 2\napprovalEmails:\n  - a: 1\n    a: 2\n';
    expect(problemsOf(() => ConfigLoader.parseCustomer(text, 'c.yaml'))).toEqual([
      expect.objectContaining({ line: 3, column: 3, message: 'YAML syntax error: Map keys must be unique' }),
      expect.objectContaining({ line: 6, column: 5, message: 'YAML syntax error: Map keys must be unique' }),
    ]);
  });

  test.each([[''], ['\n\n'], ['# only a comment\n'], ['---\n']])('an empty file (%j)', (text) => {
    expect(problemsOf(() => ConfigLoader.parseCustomer(text, 'customers/empty.yaml'))).toEqual([
      {
        file: 'customers/empty.yaml',
        path: '',
        message: 'the file is empty; expected a customer environment with at least customer, environment and software',
      },
    ]);
  });

  test('a file that is not a mapping', () => {
    expect(messages(() => ConfigLoader.parseCustomer('- customer: acme\n'))).toEqual([
      ': received [{"customer":"acme"}]; expected a customer environment with at least customer, environment and software, as a mapping of keys to values',
    ]);
  });

  test('problems point at the line and column of the field', () => {
    const text = [
      'customer: acme',
      'environment: production',
      'approvalEmails: [ops@acme.com]',
      'compute:',
      '  minCapacity: 3',
      '  maxCapacity: 2',
      'software:',
      '  repository: { codeCommitRepository: web }',
      '  deploymentConfg: one-at-a-time',
    ].join('\n');
    const problems = problemsOf(() => ConfigLoader.parseCustomer(text, 'customers/acme-production.yaml'));
    expect(problems.map((p) => [p.line, p.column, p.path])).toEqual([
      [5, 16, 'compute.minCapacity'],
      [9, 3, 'software.deploymentConfg'],
    ]);
    expect(() => ConfigLoader.parseCustomer(text, 'customers/acme-production.yaml')).toThrow(
      /^Invalid config \(2 problems\):\n {2}customers\/acme-production\.yaml:5:16: compute\.minCapacity: received 3/,
    );
  });

  test('every problem of a file is reported at once', () => {
    const doc = productionCustomer();
    doc.customer = 'X';
    doc.environment = 'Production';
    doc.compute.instanceType = 'large';
    doc.database.engine = 'oracle';
    doc.software.repository.connectionArn = 'nope';
    doc.extra = true;
    expect(problemsOf(parse(doc))).toHaveLength(6);
  });

  test('YAML tags and alias bombs are refused, not evaluated', () => {
    expect(messages(() => ConfigLoader.parseCustomer('customer: !Ref Acme\n'))[0]).toMatch(/^: YAML problem: .*Ref/);
    const bomb = [
      'a: &a [x, x, x, x, x, x, x, x, x, x]',
      'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]',
      'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]',
      'd: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]',
    ].join('\n');
    expect(messages(() => ConfigLoader.parseCustomer(bomb))[0]).toMatch(/^: YAML could not be read: /);
  });

  test('a value that contains itself is refused, from YAML or from code', () => {
    expect(messages(() => ConfigLoader.parseCustomer('customer: &a [*a]\n', 'c.yaml'))).toEqual([
      ': a value contains itself (a YAML alias inside its own anchor?); expected plain data',
    ]);
    const cyclic: any = asStruct(stagingCustomer());
    cyclic.tags = { self: cyclic };
    expect(messages(() => ConfigLoader.validateCustomer(cyclic))).toEqual([
      ': a value contains itself (a YAML alias inside its own anchor?); expected plain data',
    ]);
    // A value used twice is not a cycle.
    const shared =
      'customer: acme\nenvironment: staging\nsoftware: { repository: &r { codeCommitRepository: web } }\nami: { repository: *r }\n';
    expect(ConfigLoader.parseCustomer(shared).ami?.repository).toEqual({ codeCommitRepository: 'web', branch: 'main' });
  });

  test('a missing file names the file', () => {
    expect(messages(() => ConfigLoader.loadCustomerFile('/nonexistent/acme.yaml'))).toEqual([
      ': cannot be read: no such file; expected a config file',
    ]);
    expect(problemsOf(() => ConfigLoader.loadCustomerFile('/nonexistent/acme.yaml'))[0].file).toBe(
      '/nonexistent/acme.yaml',
    );
  });
});

describe('platform files', () => {
  test('defaults for the network', () => {
    const config = ConfigLoader.parsePlatform(stringify(platform()));
    expect(config.vpc).toEqual({ cidr: '10.10.0.0/16', maxAzs: 3, natInstances: false });
    expect(ConfigLoader.validatePlatform(platform()).vpc?.maxAzs).toBe(3);
  });

  test('NAT instances need a pinned image: natInstanceImageId, an AMI id', () => {
    const nat = (vpc: object) => stringify({ ...platform(), vpc });
    expect(messages(() => ConfigLoader.parsePlatform(nat({ natInstances: true }), 'platform.yaml'))).toEqual([
      'vpc.natInstanceImageId: is missing; expected the AMI id of the NAT instances, such as ami-0123456789abcdef0 ' +
        '(an arm64 Amazon Linux 2023 image for the default t4g.nano): a pinned image, so that no platform deploy ' +
        'replaces them when a newer image is published',
    ]);
    expect(
      messages(() => ConfigLoader.parsePlatform(nat({ natInstances: true, natInstanceImageId: 'ami-1' }))),
    ).toEqual(['vpc.natInstanceImageId: received "ami-1"; expected an AMI id such as ami-0123456789abcdef0']);
    expect(messages(() => ConfigLoader.parsePlatform(nat({ natInstanceImageId: 'ami-0123456789abcdef0' })))).toEqual([
      'vpc.natInstanceImageId: applies to NAT instances only; expected natInstances: true, or no natInstanceImageId',
    ]);
    const config = ConfigLoader.parsePlatform(nat({ natInstances: true, natInstanceImageId: 'ami-0123456789abcdef0' }));
    expect(config.vpc).toMatchObject({ natInstances: true, natInstanceImageId: 'ami-0123456789abcdef0' });
  });

  test('region, account and CIDR rules', () => {
    const doc = { ...platform(), region: 'Europe', vpc: { cidr: '10.10.1.0/16', maxAzs: 1 } };
    expect(messages(() => ConfigLoader.parsePlatform(stringify(doc), 'platform.yaml'))).toEqual([
      'region: received "Europe"; expected an AWS region such as eu-west-1',
      'vpc.cidr: received "10.10.1.0/16", which has host bits set; expected the network address 10.10.0.0/16',
      'vpc.maxAzs: received 1; expected at least 2: a load balancer and a database need two Availability Zones',
    ]);
    expect(
      messages(() => ConfigLoader.parsePlatform(stringify({ ...platform(), vpc: { cidr: '10.0.0.0/8' } }))),
    ).toEqual(['vpc.cidr: received "10.0.0.0/8"; expected an IPv4 CIDR from /16 to /20 such as 10.10.0.0/16']);
  });

  test('availability zones by name: in the region, 2 to 6 different ones, maxAzs their number', () => {
    const zones = ['eu-west-1a', 'eu-west-1b'];
    const config = ConfigLoader.parsePlatform(stringify({ ...platform(), vpc: { availabilityZones: zones } }));
    expect(config.vpc).toEqual({ cidr: '10.10.0.0/16', maxAzs: 2, natInstances: false, availabilityZones: zones });
    const bad = { ...platform(), vpc: { availabilityZones: ['eu-west-1a', 'us-east-1b', 'eu-west-1'], maxAzs: 2 } };
    expect(messages(() => ConfigLoader.parsePlatform(stringify(bad), 'platform.yaml'))).toEqual([
      'vpc.availabilityZones[1]: received "us-east-1b"; expected an Availability Zone of the platform\'s region eu-west-1, such as eu-west-1a',
      'vpc.availabilityZones[2]: received "eu-west-1"; expected an Availability Zone name such as eu-west-1a',
      'vpc.maxAzs: received 2 with 3 availabilityZones; expected 3, or no maxAzs',
    ]);
    const same = { ...platform(), vpc: { availabilityZones: ['eu-west-1a', 'eu-west-1a'] } };
    expect(messages(() => ConfigLoader.parsePlatform(stringify(same)))).toEqual([
      'vpc.availabilityZones: items 1 and 0 are the same ("eu-west-1a"); expected each item once',
    ]);
    const one = { ...platform(), vpc: { availabilityZones: ['eu-west-1a'] } };
    expect(messages(() => ConfigLoader.parsePlatform(stringify(one)))).toEqual([
      expect.stringMatching(/^vpc.availabilityZones: received .*; expected at least 2 item/),
    ]);
  });

  test('the certificate must be in the platform region and account', () => {
    const doc = {
      ...platform(),
      certificateArn: 'arn:aws:acm:us-east-1:210987654321:certificate/11111111-2222-3333-4444-555555555555',
    };
    expect(messages(() => ConfigLoader.parsePlatform(stringify(doc)))).toEqual([
      "certificateArn: is in region us-east-1; expected a certificate in the platform's region eu-west-1 (a load balancer only uses certificates of its own region)",
      "certificateArn: is in account 210987654321; expected a certificate in the platform's account 123456789012",
    ]);
  });

  test('an empty platform file', () => {
    expect(messages(() => ConfigLoader.parsePlatform('', 'platform.yaml'))).toEqual([
      ': the file is empty; expected a platform with name, environment, region, account, domain and certificateArn',
    ]);
  });
});

describe('fleets', () => {
  test('the bundled example fleet is valid', () => {
    const fleet = ConfigLoader.loadFleet(join(__dirname, '../../examples/fleet'));
    expect(fleet.platform.name).toBe('vending');
    expect(fleet.customers.map((c) => `${c.customer}/${c.environment}`)).toEqual([
      'acme/production',
      'acme/staging',
      'globex/production',
      'hooli/staging',
      'initech/production',
      'piedpiper/development',
    ]);
    const engines = fleet.customers.map((c) => c.database?.engine).filter((e) => e !== undefined);
    expect(new Set(engines)).toEqual(new Set(Object.values(DatabaseEngine)));
  });

  test('duplicate customer/environment pairs and host names across files', () => {
    const dir = writeFleet(platform(), {
      'acme-staging.yaml': stagingCustomer(),
      'acme-staging.yml': stagingCustomer(),
      'beta-staging.json': JSON.stringify({
        ...stagingCustomer(),
        customer: 'beta',
        hostname: 'acme-staging.apps.example.com',
      }),
    });
    const problems = problemsOf(() => ConfigLoader.loadFleet(dir));
    expect(problems.map((p) => `${p.file.split('/').pop()}: ${p.path}: ${p.message}`)).toEqual([
      expect.stringMatching(
        /^acme-staging\.yml: environment: environment acme\/staging is already used by \S*acme-staging\.yaml; expected each environment once per fleet$/,
      ),
      expect.stringMatching(
        /^acme-staging\.yml: hostname: hostname acme-staging\.apps\.example\.com is already used by .*acme-staging\.yaml/,
      ),
      expect.stringMatching(
        /^beta-staging\.json: hostname: hostname acme-staging\.apps\.example\.com is already used by .*acme-staging\.yaml/,
      ),
    ]);
  });

  test('duplicates are found even when the platform file is broken', () => {
    const dir = writeFleet('name: [', {
      'acme-staging.yaml': stagingCustomer(),
      'acme-staging.yml': stagingCustomer(),
    });
    const problems = problemsOf(() => ConfigLoader.loadFleet(dir));
    expect(problems.map((p) => `${p.file.split('/').pop()}: ${p.path}`)).toEqual([
      'acme-staging.yml: environment',
      'platform.yaml: ',
    ]);
  });

  test('a host name on the shared load balancer must be covered by the platform certificate', () => {
    for (const hostname of ['shop.example.org', 'a.b.apps.example.com', 'apps.example.com']) {
      const doc = stringify({ ...stagingCustomer(), hostname });
      expect(messages(() => ConfigLoader.parseCustomer(doc, 'c', { platform: platform() }))).toEqual([
        `hostname: received "${hostname}"; expected one name directly under the platform domain, such as shop.apps.example.com (the shared load balancer's certificate covers *.apps.example.com); use customDomain for other names`,
      ]);
      // Without a platform there is nothing to compare with.
      expect(ConfigLoader.parseCustomer(doc).hostname).toBe(hostname);
    }
  });

  test('problems of every file are reported together', () => {
    const dir = writeFleet(
      { ...platform(), region: 'nowhere' },
      {
        'a.yaml': { ...stagingCustomer(), customer: 'A' },
        'b.yaml': 'customer: [',
        'notes.txt': 'hello',
        'README.md': '# ignored',
      },
    );
    const problems = problemsOf(() => ConfigLoader.loadFleet(dir));
    expect(problems.map((p) => `${p.file.split('/').slice(-1)[0]}: ${p.path}`)).toEqual([
      'a.yaml: customer',
      'b.yaml: ',
      'platform.yaml: region',
    ]);
    // notes.txt is not a customer file: skipped (the command names it), not a problem of the fleet.
  });

  test('custom domain certificates must be usable by the platform', () => {
    const doc = productionCustomer();
    doc.customDomain.certificateArn = CERTIFICATE_ARN.replace('eu-west-1', 'us-east-1');
    const dir = writeFleet(platform(), { 'acme.yaml': doc });
    expect(messages(() => ConfigLoader.loadFleet(dir))).toEqual([
      "customDomain.certificateArn: is in region us-east-1; expected a certificate in the platform's region eu-west-1 (a load balancer only uses certificates of its own region)",
    ]);
  });

  test('a directory without platform file, or not a directory', () => {
    const dir = writeFleet(undefined, { 'acme-staging.yaml': stagingCustomer() });
    expect(messages(() => ConfigLoader.loadFleet(dir))).toEqual([
      ': is missing; expected the platform config of the fleet',
    ]);
    writeFileSync(join(dir, 'platform.yaml'), stringify(platform()));
    writeFileSync(join(dir, 'platform.json'), JSON.stringify(platform()));
    expect(messages(() => ConfigLoader.loadFleet(dir))[0]).toMatch(
      /platform\.yaml and .*platform\.json; expected one platform file$/,
    );
    expect(messages(() => ConfigLoader.loadFleet(join(dir, 'customers', 'acme-staging.yaml')))).toEqual([
      ': is not a directory; expected a fleet directory with platform.yaml and customers/',
    ]);
  });

  test('the error message lists every problem as file:line:column', () => {
    try {
      readCustomer('customer: acme\nenvironment: staging\nsoftware: {}\n', 'x.yaml');
      throw new Error('accepted');
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as Error).message).toBe(
        'Invalid config (1 problem):\n  x.yaml:3:11: software.repository: is missing; expected a mapping of keys to values',
      );
    }
  });
});

function pathValue(doc: any, path: string): unknown {
  return path
    .split(/\.|\[|\]/)
    .filter(Boolean)
    .reduce((at, key) => at?.[key], doc);
}
