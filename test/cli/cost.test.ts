/*
 * paas-vending cost: each environment's estimate computed here by hand from the price table's own values and the
 * assumptions, the shared load balancer's hours split by placement.yaml, a dedicated against a shared environment,
 * multi-AZ doubling the database, cost-assumptions.yaml overriding the defaults, bad input refused with the file,
 * field, value and what is expected, the JSON a machine reads, and --diff against a fleet directory and a git ref.
 */
import { execFileSync } from 'child_process';
import { writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { EXIT_INVALID, EXIT_OK, EXIT_USAGE, Io, run } from '../../src/cli/cli';
import { defaultAssumptions, parseAssumptions } from '../../src/cli/cost/assumptions';
import {
  ALARM_METRICS_PER_ENVIRONMENT,
  FLEET_OVERVIEW_ENVIRONMENTS_PER_DASHBOARD,
  lcusOf,
  NAT_INSTANCE_TYPE,
} from '../../src/cli/cost/estimate';
import { PRICES } from '../../src/cli/cost/prices';
import { estimateOf } from '../../src/cli/cost-command';
import { readFleet } from '../../src/config/loader';
import { ALARMS_PER_WIDGET, FLEET_WIDGETS_PER_DASHBOARD } from '../../src/platform/fleet-overview';
import { platform, productionCustomer, stagingCustomer, writeFleet } from '../config/fixtures';

function cli(argv: string[], cwd = tmpdir()) {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = { out: (t) => out.push(t), err: (t) => err.push(t), cwd, env: { PAAS_VENDING_CACHE: 'off' } };
  const code = run(argv, io);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

function costJson(argv: string[]): any {
  const result = cli([...argv, '--json']);
  expect(result.err).toBe('');
  expect(result.code).toBe(EXIT_OK);
  return JSON.parse(result.out);
}

const P = PRICES.regions['eu-west-1'];
const A = defaultAssumptions();
const H = A.hoursPerMonth;
const cents = (v: number) => Math.round(v * 100) / 100;
const lineOf = (env: any, component: string) => env.lines.find((l: any) => l.component === component);
const envOf = (json: any, stack: string) => json.environments.find((e: any) => e.stack === stack);

/**
 * The platform's own health, counted by hand: 2 alarm metrics per NAT (gateway or instance), the allocator's 2, each
 * shared load balancer's 2; its composite alarm; its dashboard (the fleet overview's first page).
 */
const platformHealth = (nats: number, sharedLoadBalancers: number) =>
  (2 * nats + 2 + 2 * sharedLoadBalancers) * P.alarmMetricMonth + 0.5 + P.dashboardMonth;
/** The platform's fixed costs but NAT: its key, its buckets, its health (a production platform: 3 NATs, 1 ALB). */
const PLATFORM_FIXED = P.kmsKeyMonth + A.platformBucketsGiB * P.s3GbMonth + platformHealth(3, 1);

/** A customer on shared ingress, named. */
function shared(customer: string, extra: any = {}): any {
  return { ...stagingCustomer(), customer, ...extra };
}

describe('the estimate of one environment', () => {
  test('a staging environment without a database: every line from the table and the assumptions', () => {
    const dir = writeFleet(platform(), { 'acme-staging.yaml': stagingCustomer() });
    const env = envOf(costJson(['cost', dir]), 'acme-staging');
    // Defaults: t3.small, 1 to 4 instances of 20 GiB; production platform without zones named: 3 zones, 3 NAT gateways.
    const ec2 = P.ec2Hour['t3.small'];
    const lcu = Math.max(
      (A.requestsPerMonth * A.averageResponseKiB) / 1024 / 1024 / H,
      A.requestsPerMonth / (H * 3600) / 25,
    );
    const expected = {
      instances: [ec2 * H * 1, ec2 * H * 4],
      volumes: [20 * P.ebsGp3GbMonth, 20 * P.ebsGp3GbMonth * 4],
      'load balancer': [(P.albHour + 3 * P.publicIpv4Hour) * H + lcu * P.albLcuHour * H],
      'NAT share': [3 * (P.natGatewayHour + P.publicIpv4Hour) * H + A.natGiBPerEnvironment * P.natGatewayGb],
      'platform share': [PLATFORM_FIXED],
      'build minutes': [
        (A.buildMinutesPerDeploy * A.deploysPerMonth + A.bakeMinutes * A.bakesPerMonth) * P.codeBuildSmallMinute,
      ],
      'pipeline minutes': [
        ((A.buildMinutesPerDeploy + A.deployMinutesPerDeploy) * A.deploysPerMonth + A.bakeMinutes * A.bakesPerMonth) *
          P.codePipelineV2ActionMinute,
      ],
      'bake instance': [((A.bakeMinutes * A.bakesPerMonth) / 60) * P.ec2Hour['t3.small']],
      'data bucket': [A.dataBucketGiB * P.s3GbMonth],
      // The deployment's 5xx rate (2 metrics) and unhealthy hosts, the CPU scaling's 2; the health's 5xx rate (2),
      // unhealthy hosts, no healthy host, p99 latency, CPU (6 metrics); its 3 composite alarms and its dashboard.
      'alarms and dashboard': [(5 + 6) * P.alarmMetricMonth + 3 * 0.5 + P.dashboardMonth],
    };
    expect(env.lines.map((l: any) => l.component)).toEqual(Object.keys(expected));
    let min = 0;
    let max = 0;
    for (const [component, [lo, hi]] of Object.entries(expected)) {
      expect([component, lineOf(env, component).min]).toEqual([component, cents(lo)]);
      expect([component, lineOf(env, component).max]).toEqual([component, cents(hi ?? lo)]);
      min += lo;
      max += hi ?? lo;
    }
    expect(env.total).toEqual({ min: cents(min), max: cents(max) });
    expect(env.total.max).toBeGreaterThan(env.total.min);
  });

  test('a database: instance, storage, backups beyond the free share and its secret; multi-AZ doubles the instance', () => {
    const db = (multiAz: boolean) =>
      shared('acme', { database: { engine: 'postgres', version: '16', multiAz, backupRetentionDays: 30 } });
    const single = envOf(
      costJson(['cost', writeFleet(platform(), { 'acme-staging.yaml': db(false) })]),
      'acme-staging',
    );
    const multi = envOf(costJson(['cost', writeFleet(platform(), { 'acme-staging.yaml': db(true) })]), 'acme-staging');
    const classes = P.rdsHour.postgres['db.t4g.medium'];
    expect(lineOf(single, 'database').min).toBe(cents(classes.singleAz * H));
    expect(lineOf(multi, 'database').min).toBe(cents(classes.multiAz * H));
    expect(classes.multiAz).toBe(classes.singleAz * 2);
    expect(lineOf(single, 'database storage').min).toBe(cents(20 * P.rdsGp3GbMonth.singleAz));
    expect(lineOf(multi, 'database storage').min).toBe(cents(20 * P.rdsGp3GbMonth.multiAz));
    // 20 GiB of data and 2 GiB changed a month, kept 30 days: 2 GiB beyond the 20 GiB provisioned.
    expect(lineOf(single, 'database backups').min).toBe(cents(2 * P.backupGbMonth.rds));
    expect(lineOf(single, 'database secret').min).toBe(P.secretMonth);
    expect(multi.total.min - single.total.min).toBeCloseTo(
      classes.singleAz * H + 20 * (P.rdsGp3GbMonth.multiAz - P.rdsGp3GbMonth.singleAz),
      1,
    );
  });

  test('Aurora: a writer, and a reader when multi-AZ', () => {
    const aurora = (multiAz: boolean) =>
      shared('acme', { database: { engine: 'aurora-postgresql', version: '16', instanceType: 'r7g.large', multiAz } });
    const one = envOf(
      costJson(['cost', writeFleet(platform(), { 'acme-staging.yaml': aurora(false) })]),
      'acme-staging',
    );
    const two = envOf(
      costJson(['cost', writeFleet(platform(), { 'acme-staging.yaml': aurora(true) })]),
      'acme-staging',
    );
    const hour = P.auroraHour['aurora-postgresql']['db.r7g.large'];
    expect(lineOf(one, 'database').min).toBe(cents(hour * H));
    expect(lineOf(two, 'database').min).toBe(cents(2 * hour * H));
    expect(lineOf(one, 'database storage').min).toBe(cents(A.databaseDataGiB * P.auroraStorageGbMonth));
  });
});

describe('shared costs', () => {
  test("the shared load balancer's hours split among the environments placement.yaml puts on it", () => {
    const dir = writeFleet(
      { ...platform(), maxSharedLoadBalancers: 2 },
      {
        'aaa-staging.yaml': shared('aaa'),
        'bbb-staging.yaml': shared('bbb'),
        'ccc-staging.yaml': shared('ccc'),
      },
    );
    writeFileSync(
      join(dir, 'placement.yaml'),
      'loadBalancers: 2\nenvironments:\n  aaa-staging: 1\n  bbb-staging: 1\n  ccc-staging: 2\n',
    );
    const json = costJson(['cost', dir]);
    const hours = (P.albHour + 3 * P.publicIpv4Hour) * H;
    const lcus = lcusOf(A) * P.albLcuHour * H;
    expect(lineOf(envOf(json, 'aaa-staging'), 'load balancer').min).toBe(cents(hours / 2 + lcus));
    expect(lineOf(envOf(json, 'bbb-staging'), 'load balancer').min).toBe(cents(hours / 2 + lcus));
    expect(lineOf(envOf(json, 'ccc-staging'), 'load balancer').min).toBe(cents(hours + lcus));
    expect(envOf(json, 'aaa-staging').loadBalancer).toBe(1);
    expect(envOf(json, 'ccc-staging').loadBalancer).toBe(2);
    // The NAT is split evenly among all three.
    expect(lineOf(envOf(json, 'ccc-staging'), 'NAT share').min).toBe(
      cents((3 * (P.natGatewayHour + P.publicIpv4Hour) * H) / 3 + A.natGiBPerEnvironment * P.natGatewayGb),
    );
  });

  test('a dedicated load balancer is all its own; the shared one is split among the shared environments only', () => {
    const dir = writeFleet(platform(), {
      'acme-production.yaml': productionCustomer(),
      'acme-staging.yaml': stagingCustomer(),
    });
    const json = costJson(['cost', dir]);
    const prod = envOf(json, 'acme-production');
    const staging = envOf(json, 'acme-staging');
    expect(prod.ingress).toBe('dedicated');
    expect(prod.loadBalancer).toBeNull();
    expect(staging.ingress).toBe('shared');
    const hours = (P.albHour + 3 * P.publicIpv4Hour) * H;
    const lcus = lcusOf(A) * P.albLcuHour * H;
    expect(lineOf(prod, 'load balancer').min).toBe(cents(hours + lcus));
    expect(lineOf(staging, 'load balancer').min).toBe(cents(hours + lcus));
    expect(lineOf(prod, 'load balancer').detail).toMatch(/^dedicated ALB/);
    expect(lineOf(staging, 'load balancer').detail).toMatch(/^1\/1 of shared ALB 1/);
    // Platform fixed costs: half each.
    expect(lineOf(prod, 'platform share').min).toBe(cents(PLATFORM_FIXED / 2));
    expect(json.total.min).toBeCloseTo(prod.total.min + staging.total.min, 1);
  });

  test('NAT instances: their hours, addresses and recovery alarms, no charge per GB', () => {
    const dir = writeFleet(
      {
        ...platform(),
        environment: 'staging',
        vpc: { natInstances: true, natInstanceImageId: 'ami-0123456789abcdef0' },
      },
      { 'acme-staging.yaml': stagingCustomer() },
    );
    const env = envOf(costJson(['cost', dir]), 'acme-staging');
    // A staging platform has one NAT.
    expect(lineOf(env, 'NAT share').min).toBe(
      cents((P.ec2Hour[NAT_INSTANCE_TYPE] + P.publicIpv4Hour) * H + P.alarmMetricMonth),
    );
  });
  test('a shared load balancer without environments is a platform cost; a fleet without environments, the total', () => {
    const dir = writeFleet({ ...platform(), maxSharedLoadBalancers: 2 }, { 'acme-staging.yaml': stagingCustomer() });
    writeFileSync(join(dir, 'placement.yaml'), 'loadBalancers: 2\nenvironments:\n  acme-staging: 1\n');
    const json = costJson(['cost', dir]);
    const hours = (P.albHour + 3 * P.publicIpv4Hour) * H;
    expect(json.platformCosts.map((l: any) => l.component)).toEqual([
      'NAT',
      'platform key',
      'platform buckets',
      'allocator',
      'platform health',
      'idle shared load balancers',
    ]);
    // Two shared load balancers: 4 of the health's alarm metrics are theirs.
    expect(json.platformCosts.find((l: any) => l.component === 'platform health')).toMatchObject({
      monthly: cents(platformHealth(3, 2)),
      detail:
        '12 alarm metrics (3 NAT gateway(s), the allocator, 2 shared load balancer(s)), 1 composite alarm, 1 dashboard(s)',
    });
    expect(lineOf(envOf(json, 'acme-staging'), 'platform share').min).toBe(
      cents(P.kmsKeyMonth + A.platformBucketsGiB * P.s3GbMonth + platformHealth(3, 2) + hours),
    );
    const empty = costJson(['cost', writeFleet(platform(), {})]);
    expect(empty.environments).toEqual([]);
    // The platform's first shared load balancer exists with or without environments.
    expect(empty.total.min).toBe(cents(3 * (P.natGatewayHour + P.publicIpv4Hour) * H + PLATFORM_FIXED + hours));
    expect(empty.total.max).toBe(empty.total.min);
  });
});

test("the platform health's dashboards follow the fleet overview's pages", () => {
  expect(FLEET_OVERVIEW_ENVIRONMENTS_PER_DASHBOARD).toBe(ALARMS_PER_WIDGET * FLEET_WIDGETS_PER_DASHBOARD);
});

describe('assumptions', () => {
  test('cost-assumptions.yaml overrides the defaults it names and keeps the others', () => {
    const dir = writeFleet(platform(), { 'acme-staging.yaml': stagingCustomer() });
    writeFileSync(join(dir, 'cost-assumptions.yaml'), 'hoursPerMonth: 100\ndeploysPerMonth: 0\nbakesPerMonth: 0\n');
    const json = costJson(['cost', dir]);
    expect(json.assumptions).toEqual({ ...A, hoursPerMonth: 100, deploysPerMonth: 0, bakesPerMonth: 0 });
    expect(json.assumptionsFile).toMatch(/cost-assumptions\.yaml$/);
    const env = envOf(json, 'acme-staging');
    expect(lineOf(env, 'instances').min).toBe(cents(P.ec2Hour['t3.small'] * 100));
    expect(lineOf(env, 'build minutes').min).toBe(0);
    expect(lineOf(env, 'pipeline minutes').min).toBe(0);
  });

  test('a wrong key, with the key it resembles, and a wrong value: file, field, received and expected', () => {
    const dir = writeFleet(platform(), { 'acme-staging.yaml': stagingCustomer() });
    writeFileSync(
      join(dir, 'cost-assumptions.yaml'),
      'hoursPerMonht: 730\nrequestsPerMonth: lots\ndeploysPerMonth: -1\n',
    );
    const result = cli(['cost', dir]);
    expect(result.code).toBe(EXIT_INVALID);
    expect(result.out).toBe('');
    expect(result.err).toContain('3 problems');
    expect(result.err).toMatch(
      /cost-assumptions\.yaml: hoursPerMonht: unknown key "hoursPerMonht" \(did you mean "hoursPerMonth"\?\); expected one of hoursPerMonth, /,
    );
    expect(result.err).toMatch(
      /cost-assumptions\.yaml: requestsPerMonth: received "lots"; expected a number from 0 to /,
    );
    expect(result.err).toMatch(
      /cost-assumptions\.yaml: deploysPerMonth: received -1; expected a number from 0 to 100000/,
    );
    expect(result.err).not.toMatch(/\n\s+at /);
  });

  test('a file that is not a mapping, or not YAML', () => {
    expect(() => parseAssumptions('- 1\n', 'a.yaml')).toThrow(
      /a\.yaml: received \[1\]; expected a mapping of assumptions/,
    );
    expect(() => parseAssumptions('a: [1\n', 'a.yaml')).toThrow(/a\.yaml: is not valid YAML/);
    expect(parseAssumptions('', 'a.yaml')).toEqual(A);
  });
});

describe('bad input', () => {
  test('an instance type, database class or bake type missing from the table, named with file and field', () => {
    const dir = writeFleet(platform(), {
      'acme-staging.yaml': shared('acme', {
        compute: { instanceType: 'c5.xlarge' },
        database: { engine: 'mysql', version: '8.0', instanceType: 'm5.large' },
      }),
    });
    const result = cli(['cost', dir]);
    expect(result.code).toBe(EXIT_INVALID);
    expect(result.err).toMatch(
      /customers\/acme-staging\.yaml: compute\.instanceType: received "c5\.xlarge"; expected an instance type of the price table src\/cli\/cost\/prices\.ts \(as of \d{4}-\d\d-\d\d\) for eu-west-1: t3\.nano, /,
    );
    expect(result.err).toMatch(
      /customers\/acme-staging\.yaml: database\.instanceType: received "db\.m5\.large"; expected a class of mysql of /,
    );
    expect(result.err).not.toMatch(/\n\s+at /);
  });

  test('a region missing from the table', () => {
    const dir = writeFleet(
      {
        ...platform(),
        region: 'ap-south-2',
        certificateArn: 'arn:aws:acm:ap-south-2:123456789012:certificate/11111111-2222-3333-4444-555555555555',
      },
      {},
    );
    const result = cli(['cost', dir]);
    expect(result.code).toBe(EXIT_INVALID);
    expect(result.err).toMatch(
      /platform\.yaml: region: received "ap-south-2"; expected a region of the price table src\/cli\/cost\/prices\.ts \(as of [\d-]+\): eu-west-1, us-east-1/,
    );
  });

  test('a database engine or class the table does not price', () => {
    const dir = writeFleet(platform(), {
      'hooli-staging.yaml': shared('hooli', { database: { engine: 'mariadb', version: '10.11' } }),
      'initech-staging.yaml': shared('initech', {
        database: { engine: 'aurora-mysql', version: '3.10.6', instanceType: 'r5.large' },
      }),
    });
    const region = PRICES.regions['eu-west-1'];
    const { mariadb, ...rdsHour } = region.rdsHour;
    void mariadb;
    const table = { ...PRICES, regions: { 'eu-west-1': { ...region, rdsHour } } };
    expect(() => estimateOf(readFleet(dir, { PAAS_VENDING_CACHE: 'off' }), A, table)).toThrow(
      /hooli-staging\.yaml: database\.instanceType: received "db\.t4g\.medium"; expected a class of mariadb of the price table [^:]+: \n/,
    );
    expect(() => estimateOf(readFleet(dir, { PAAS_VENDING_CACHE: 'off' }), A, table)).toThrow(
      /initech-staging\.yaml: database\.instanceType: received "db\.r5\.large"; expected an Aurora class of aurora-mysql of .*: db\.t4g\.medium, db\.r6g\.large, db\.r7g\.large/,
    );
  });

  test('--diff names a fleet directory or a ref', () => {
    const dir = writeFleet(platform(), { 'acme-staging.yaml': stagingCustomer() });
    const notFleet = cli(['cost', dir, '--diff', join(dir, 'customers')]);
    expect(notFleet.code).toBe(EXIT_USAGE);
    expect(notFleet.err).toMatch(
      /cost: --diff .*customers: .*customers holds no platform\.yaml; expected a fleet directory or a git ref/,
    );
    // A fleet in a folder of a repository whose older commit does not have it yet.
    const repo = writeFleet(undefined, {});
    const git = (...argv: string[]) =>
      execFileSync('git', ['-C', repo, '-c', 'user.email=t@example.com', '-c', 'user.name=t', ...argv], {
        stdio: 'pipe',
      });
    git('init', '-q');
    git('add', '-A');
    git('commit', '-qm', 'empty', '--allow-empty');
    const fleet = join(repo, 'fleet');
    execFileSync('cp', ['-r', dir, fleet]);
    const missing = cli(['cost', fleet, '--diff', 'HEAD']);
    expect(missing.code).toBe(EXIT_USAGE);
    expect(missing.err).toContain('cost: --diff HEAD: fleet/ holds no platform.yaml at HEAD; expected the fleet there');
    // The folder at a commit, without its platform file.
    git('add', 'fleet/customers');
    git('commit', '-qm', 'customers only');
    const noPlatform = cli(['cost', fleet, '--diff', 'HEAD']);
    expect(noPlatform.code).toBe(EXIT_USAGE);
    expect(noPlatform.err).toContain(
      'cost: --diff HEAD: fleet/ holds no platform.yaml at HEAD; expected the fleet there',
    );
    expect(cli(['cost', fleet, '--diff', 'HEAD~1']).err).toContain('fleet/ holds no platform.yaml at HEAD~1');
  });

  test('--help says what is counted and where the prices and assumptions come from', () => {
    const result = cli(['cost', '--help']);
    expect(result.code).toBe(EXIT_OK);
    expect(result.out).toMatch(/^Usage: paas-vending cost \[DIR\] \[--stack NAME\] \[--json\] \[--diff REF_OR_DIR\]/);
    expect(result.out).toContain('src/cli/cost/prices.ts');
    expect(result.out).toContain('DIR/cost-assumptions.yaml');
  });

  test('a wrong key unlike any other', () => {
    expect(() => parseAssumptions('zzz: 1\n', 'a.yaml')).toThrow(
      /a\.yaml: zzz: unknown key "zzz"; expected one of hoursPerMonth, /,
    );
  });

  test('--stack names an environment of the fleet', () => {
    const dir = writeFleet(platform(), { 'acme-staging.yaml': stagingCustomer() });
    const result = cli(['cost', dir, '--stack', 'acme-stagin']);
    expect(result.code).toBe(EXIT_USAGE);
    expect(result.err).toContain(
      'cost: --stack acme-stagin: no such environment (did you mean "acme-staging"?); expected one of acme-staging',
    );
  });
});

describe('output', () => {
  test('the example fleet: every environment, a fleet total that is their sum, --stack for one', () => {
    const json = costJson(['cost', join(__dirname, '..', '..', 'examples', 'fleet')]);
    expect(json).toMatchObject({ platform: 'vending', region: 'eu-west-1', currency: 'USD', pricesAsOf: PRICES.asOf });
    expect(json.environments.map((e: any) => e.stack)).toEqual([
      'acme-production',
      'acme-staging',
      'globex-production',
      'hooli-staging',
      'initech-production',
      'piedpiper-development',
    ]);
    for (const env of json.environments) {
      expect(Object.keys(env)).toEqual([
        'stack',
        'customer',
        'environment',
        'ingress',
        'loadBalancer',
        'file',
        'lines',
        'total',
      ]);
      const sum = env.lines.reduce((t: number, l: any) => t + l.min, 0);
      expect(env.total.min).toBeCloseTo(sum, 1);
      expect(env.total.max).toBeGreaterThanOrEqual(env.total.min);
    }
    const total = json.environments.reduce((t: number, e: any) => t + e.total.min, 0);
    expect(json.total.min).toBeCloseTo(total, 1);
    // globex scales on requests too: two more alarms; its health on shared ingress with an Aurora writer and reader:
    // 6 metrics as any, and the database's CPU and the reader's lag; 3 composite alarms, a dashboard.
    expect(lineOf(envOf(json, 'globex-production'), 'alarms and dashboard').min).toBe(
      cents((ALARM_METRICS_PER_ENVIRONMENT + 2 + 6 + 2) * P.alarmMetricMonth + 3 * 0.5 + P.dashboardMonth),
    );
    // piedpiper runs no instance at minimum capacity.
    expect(lineOf(envOf(json, 'piedpiper-development'), 'instances').min).toBe(0);
    const one = costJson(['cost', join(__dirname, '..', '..', 'examples', 'fleet'), '--stack', 'acme-staging']);
    expect(one.environments).toEqual([envOf(json, 'acme-staging')]);
    expect(one.total).toEqual(envOf(json, 'acme-staging').total);
  });

  test('the text: a table per environment with both capacities and the fleet total', () => {
    const dir = writeFleet(platform(), { 'acme-staging.yaml': stagingCustomer() });
    const json = costJson(['cost', dir]);
    const result = cli(['cost', dir]);
    expect(result.code).toBe(EXIT_OK);
    expect(result.out).toContain(`prices as of ${PRICES.asOf}`);
    expect(result.out).toMatch(/acme-staging \(shared load balancer 1; .*customers\/acme-staging\.yaml\)/);
    expect(result.out).toMatch(/COMPONENT\s+DETAIL\s+MIN CAPACITY\s+MAX CAPACITY/);
    expect(result.out).toMatch(
      new RegExp(
        `instances\\s+1 to 4 × t3\\.small\\s+${lineOf(envOf(json, 'acme-staging'), 'instances').min.toFixed(2)}`,
      ),
    );
    expect(result.out).toContain(
      `Fleet: 1 environment, ${json.total.min.toFixed(2)} to ${json.total.max.toFixed(2)} USD per month`,
    );
  });
});

describe('--diff', () => {
  test('against another fleet directory: old, new and the change per environment, added and removed', () => {
    const before = writeFleet(platform(), { 'aaa-staging.yaml': shared('aaa'), 'bbb-staging.yaml': shared('bbb') });
    const after = writeFleet(platform(), {
      'aaa-staging.yaml': shared('aaa', { compute: { instanceType: 't3.medium' } }),
      'ccc-staging.yaml': shared('ccc'),
    });
    const old = costJson(['cost', before]);
    const now = costJson(['cost', after]);
    const diff = costJson(['cost', after, '--diff', before]);
    const a = diff.environments.find((e: any) => e.stack === 'aaa-staging');
    expect(a.before).toEqual(envOf(old, 'aaa-staging').total);
    expect(a.after).toEqual(envOf(now, 'aaa-staging').total);
    expect(a.delta.max).toBeCloseTo(4 * (P.ec2Hour['t3.medium'] - P.ec2Hour['t3.small']) * H, 1);
    expect(diff.environments.find((e: any) => e.stack === 'bbb-staging').after).toBeNull();
    expect(diff.environments.find((e: any) => e.stack === 'ccc-staging').before).toBeNull();
    expect(diff.total.delta.min).toBeCloseTo(now.total.min - old.total.min, 1);
    const text = cli(['cost', after, '--diff', before]);
    expect(text.code).toBe(EXIT_OK);
    expect(text.out).toMatch(/aaa-staging\s+[\d.]+ to [\d.]+\s+[\d.]+ to [\d.]+\s+\+[\d.]+ to \+[\d.]+\s+changed/);
    expect(text.out).toMatch(/bbb-staging\s+[\d.]+ to [\d.]+\s+-\s+-[\d.]+ to -[\d.]+\s+removed/);
    expect(text.out).toMatch(/ccc-staging\s+-\s+[\d.]+ to [\d.]+\s+\+[\d.]+ to \+[\d.]+\s+added/);
    // A new environment, alone: nothing before it.
    const added = costJson(['cost', after, '--diff', before, '--stack', 'ccc-staging']);
    expect(added.environments).toEqual([
      {
        stack: 'ccc-staging',
        before: null,
        after: envOf(now, 'ccc-staging').total,
        delta: envOf(now, 'ccc-staging').total,
      },
    ]);
    // A removed environment, alone: nothing after it; a stack in neither fleet is refused.
    const removed = costJson(['cost', after, '--diff', before, '--stack', 'bbb-staging']);
    expect(removed.environments).toMatchObject([
      { stack: 'bbb-staging', before: envOf(old, 'bbb-staging').total, after: null },
    ]);
    expect(cli(['cost', after, '--diff', before, '--stack', 'zzz-staging']).code).toBe(EXIT_USAGE);
    // The same fleet: nothing changes.
    expect(cli(['cost', after, '--diff', after]).out).toMatch(
      /aaa-staging\s+([\d.]+ to [\d.]+)\s+\1\s+0\.00\s+unchanged/,
    );
  });

  test('against a git ref of the fleet repository', () => {
    const dir = writeFleet(platform(), { 'acme-staging.yaml': stagingCustomer() });
    const git = (...argv: string[]) =>
      execFileSync('git', ['-C', dir, '-c', 'user.email=t@example.com', '-c', 'user.name=t', ...argv], {
        stdio: 'pipe',
      });
    git('init', '-q');
    git('add', '-A');
    git('commit', '-qm', 'fleet');
    const before = costJson(['cost', dir]);
    writeFileSync(
      join(dir, 'customers', 'acme-staging.yaml'),
      JSON.stringify({ ...stagingCustomer(), compute: { maxCapacity: 8 } }),
    );
    const diff = costJson(['cost', dir, '--diff', 'HEAD']);
    expect(diff.against).toBe('HEAD');
    const [env] = diff.environments;
    expect(env.before).toEqual(envOf(before, 'acme-staging').total);
    expect(env.delta.min).toBe(0);
    expect(env.delta.max).toBeCloseTo(4 * (P.ec2Hour['t3.small'] * H + 20 * P.ebsGp3GbMonth), 1);
    const unknown = cli(['cost', dir, '--diff', 'no-such-ref']);
    expect(unknown.code).toBe(EXIT_USAGE);
    expect(unknown.err).toContain('cost: --diff no-such-ref: not a directory, and not a commit of the git repository');
  });
});
