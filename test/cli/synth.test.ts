import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { Annotations, CfnResource, Stack, Stage } from 'aws-cdk-lib';
import { VendingFleet } from '../../src';
import { BUNDLED_FLEET, EXIT_INTERNAL, EXIT_INVALID, EXIT_OK, EXIT_USAGE, Io, run } from '../../src/cli/cli';
import { platform, stagingCustomer, writeFleet } from '../config/fixtures';

/*
 * Each synthesis of the example fleet takes 10 to 20 s here: one is shared by the table's tests, and the other
 * modes run on a fleet of one customer (2 stacks).
 */

/** Runs the command in-process and captures what a user would see. */
function cli(argv: string[], io: Partial<Io> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = run(argv, {
    out: (t) => out.push(t),
    err: (t) => err.push(t),
    cwd: io.cwd ?? tmpdir(),
    errIsTTY: io.errIsTTY ?? false,
    // PAAS_VENDING_JOBS of the jest setup (test/support/jest-setup.ts): one process, where spyOn reaches VendingFleet.
    env: { PAAS_VENDING_JOBS: process.env.PAAS_VENDING_JOBS, ...io.env },
  });
  return { code, out: out.join('\n'), err: err.join('\n'), errLines: err.join('\n').split('\n') };
}

const tempDir = (prefix: string) => mkdtempSync(join(tmpdir(), prefix));
const templateOf = (file: string) => JSON.parse(readFileSync(file, 'utf-8'));
const resourceCount = (file: string) => Object.keys(templateOf(file).Resources).length;
/** aws-cdk-lib's own annotations (a feature-flag recommendation): not ours to assert on. */
const onlyWarnings = (lines: string[]) => lines.filter((l) => l !== '').every((l) => l.startsWith('warning: '));
const PROGRESS = /building|synthesiz/;
/** What a fake VendingFleet needs beyond its stacks. */
const NO_PLACEMENT = { placement: { loadBalancers: 1, environments: {} }, placementChanges: [] };

describe('paas-vending synth: the example fleet', () => {
  let cwd: string;
  let result: ReturnType<typeof cli>;
  let rows: string[][];

  beforeAll(() => {
    cwd = tempDir('synth-');
    result = cli(['synth', BUNDLED_FLEET, '--out', 'assembly'], { cwd });
    rows = result.out
      .split('\n\n')[0]
      .split('\n')
      .map((line) => line.split(/ {2,}/));
  });

  test('exits 0 and prints a table of the 8 stacks, the platform first, the fleet pipeline last', () => {
    expect(result.code).toBe(EXIT_OK);
    expect(rows[0]).toEqual(['STACK', 'CUSTOMER', 'ENVIRONMENT', 'HOSTNAME', 'INGRESS', 'RESOURCES', 'TEMPLATE']);
    expect(rows.slice(1).map((r) => r[0])).toEqual([
      'vending-platform',
      'acme-production',
      'acme-staging',
      'globex-production',
      'hooli-staging',
      'initech-production',
      'piedpiper-development',
      'vending-fleet-pipeline',
    ]);
    expect(rows[1]).toEqual([
      'vending-platform',
      '-',
      '-',
      '-',
      '-',
      expect.stringMatching(/^\d+$/),
      'assembly/vending-platform.template.json',
    ]);
    expect(rows[2].slice(0, 5)).toEqual(['acme-production', 'acme', 'production', 'www.acme.com', 'dedicated']);
    expect(rows[3].slice(0, 5)).toEqual(['acme-staging', 'acme', 'staging', 'acme-staging.apps.example.com', 'shared']);
    expect(rows[8]).toEqual([
      'vending-fleet-pipeline',
      '-',
      '-',
      '-',
      '-',
      expect.stringMatching(/^\d+$/),
      'assembly/vending-fleet-pipeline.template.json',
    ]);
    expect(result.out).toMatch(/\n\n8 stacks in assembly\. Deploy one with: cdk deploy --app assembly STACK$/);
  });

  test('each template exists, relative to the current directory, with the resource count shown', () => {
    for (const row of rows.slice(1)) {
      const file = join(cwd, row[6]);
      expect(row[6]).toBe(`assembly/${row[0]}.template.json`);
      expect(existsSync(file)).toBe(true);
      expect(Number(row[5])).toBe(resourceCount(file));
      expect(Number(row[5])).toBeGreaterThan(row[0] === 'vending-fleet-pipeline' ? 20 : 40);
    }
    expect(existsSync(join(cwd, 'assembly', 'manifest.json'))).toBe(true);
  });

  test('piped (stderr not a terminal): no progress, only the annotations of the stacks', () => {
    expect(result.err).not.toMatch(PROGRESS);
    expect(onlyWarnings(result.errLines)).toBe(true);
  });

  test('--stack builds only the named stacks, each template byte for byte the one of the whole fleet', () => {
    const alone = tempDir('synth-stack-');
    const selected = cli(
      [
        'synth',
        BUNDLED_FLEET,
        '--out',
        'assembly',
        '--stack',
        'hooli-staging',
        '--stack',
        'acme-production,acme-staging',
      ],
      { cwd: alone },
    );
    expect(selected.code).toBe(EXIT_OK);
    const table = selected.out
      .split('\n\n')[0]
      .split('\n')
      .slice(1)
      .map((line) => line.split(/ {2,}/)[0]);
    expect(table).toEqual(['acme-production', 'acme-staging', 'hooli-staging']);
    const written = readdirSync(join(alone, 'assembly')).filter((f) => f.endsWith('.template.json'));
    expect(written.sort()).toEqual([
      'acme-production.template.json',
      'acme-staging.template.json',
      'hooli-staging.template.json',
    ]);
    for (const file of written) {
      expect([file, readFileSync(join(alone, 'assembly', file), 'utf-8')]).toEqual([
        file,
        readFileSync(join(cwd, 'assembly', file), 'utf-8'),
      ]);
    }
    const unknown = cli(['synth', BUNDLED_FLEET, '--out', 'assembly', '--stack', 'acme-prod'], { cwd: alone });
    expect(unknown.code).toBe(EXIT_INVALID);
    expect(unknown.err).toMatch(
      /stacks: received \["acme-prod"\]; expected only stack names of the fleet \(unknown: acme-prod;/,
    );
  });

  test('the availability zones named in platform.yaml: nothing looked up, no placeholder, no warning', () => {
    expect(result.err).not.toContain('placeholders');
    const template = readFileSync(join(cwd, 'assembly', 'vending-platform.template.json'), 'utf-8');
    expect(template).not.toContain('dummy1a');
    for (const zone of ['eu-west-1a', 'eu-west-1b', 'eu-west-1c']) expect(template).toContain(`"${zone}"`);
  });
});

describe('paas-vending synth: other modes, on a fleet of one customer', () => {
  let fleet: string;
  beforeAll(() => {
    fleet = writeFleet(
      { ...platform(), vpc: { availabilityZones: ['eu-west-1a', 'eu-west-1b'] } },
      { 'acme-staging.yaml': stagingCustomer() },
    );
    // Placed once here, so that the runs below find placement.yaml unchanged (its first write is tested apart).
    writeFileSync(join(fleet, 'placement.yaml'), 'loadBalancers: 1\nenvironments:\n  acme-staging: 1\n');
  });

  test('--json prints the rows as a JSON array and no progress, even on a terminal', () => {
    const cwd = tempDir('synth-json-');
    const result = cli(['synth', fleet, '--json'], { cwd, errIsTTY: true });
    expect(result.code).toBe(EXIT_OK);
    expect(result.err).not.toMatch(PROGRESS);
    const rows = JSON.parse(result.out);
    expect(rows).toEqual([
      {
        stack: 'vending-platform',
        customer: null,
        environment: null,
        hostname: null,
        hosts: [],
        ingress: null,
        sharedLoadBalancer: null,
        resources: expect.any(Number),
        template: 'cdk.out/vending-platform.template.json',
      },
      {
        stack: 'acme-staging',
        customer: 'acme',
        environment: 'staging',
        hostname: 'acme-staging.apps.example.com',
        hosts: ['acme-staging.apps.example.com'],
        ingress: 'shared',
        sharedLoadBalancer: 1,
        resources: expect.any(Number),
        template: 'cdk.out/acme-staging.template.json',
      },
    ]);
    for (const row of rows) expect(row.resources).toBe(resourceCount(join(cwd, row.template)));
  });

  // The terminal run builds with the reporting synthesizer, the CDK CLI's run with a plain App: same assembly.
  let terminalOut: string;
  let cdkOut: string;

  test('on a terminal: one line per stack built, then the synthesis and its time', () => {
    const cwd = tempDir('synth-tty-');
    const result = cli(['synth', fleet], { cwd, errIsTTY: true });
    expect(result.code).toBe(EXIT_OK);
    const progress = result.errLines.filter((l) => PROGRESS.test(l));
    expect(progress).toEqual([
      'building vending-platform (1/2)…',
      'building acme-staging (2/2)…',
      'synthesizing 2 stacks…',
      expect.stringMatching(/^synthesized 2 stacks in \d+\.\d s$/),
    ]);
    expect(result.err.indexOf('synthesized 2 stacks')).toBeGreaterThan(result.err.indexOf('synthesizing'));
    expect(result.out).toMatch(/^STACK +CUSTOMER/);
    terminalOut = join(cwd, 'cdk.out');
  });

  test('run by the CDK CLI (CDK_OUTDIR set): writes the assembly there, prints nothing', () => {
    const cwd = tempDir('synth-cdk-');
    cdkOut = join(tempDir('cdk-outdir-'), 'out');
    const result = cli(['synth', fleet], { cwd, errIsTTY: true, env: { CDK_OUTDIR: cdkOut } });
    expect(result).toMatchObject({ code: EXIT_OK, out: '', err: '' });
    const manifest = JSON.parse(readFileSync(join(cdkOut, 'manifest.json'), 'utf-8'));
    expect(Object.keys(manifest.artifacts)).toEqual(expect.arrayContaining(['vending-platform', 'acme-staging']));
    expect(existsSync(join(cwd, 'cdk.out'))).toBe(false);
  });

  test('progress changes nothing in the assembly: templates and asset manifests are identical', () => {
    const files = readdirSync(cdkOut).filter((f) => /\.(template|assets)\.json$/.test(f));
    expect(files.sort()).toEqual([
      'acme-staging.assets.json',
      'acme-staging.template.json',
      'vending-platform.assets.json',
      'vending-platform.template.json',
    ]);
    for (const f of files) {
      expect(readFileSync(join(terminalOut, f), 'utf-8')).toBe(readFileSync(join(cdkOut, f), 'utf-8'));
    }
  });
});

describe('paas-vending synth: refusals', () => {
  const validationOfSetup = process.env.CDK_VALIDATION;
  afterEach(() => {
    jest.restoreAllMocks();
    if (validationOfSetup === undefined) delete process.env.CDK_VALIDATION;
    else process.env.CDK_VALIDATION = validationOfSetup;
  });

  test('a platform without vpc.availabilityZones: exit 1 naming the field, unless the CDK CLI runs it', () => {
    const dir = writeFleet(platform(), { 'acme-staging.yaml': stagingCustomer() });
    const cwd = tempDir('synth-lookup-');
    for (const args of [[], ['--json']]) {
      const result = cli(['synth', dir, ...args], { cwd });
      expect(result.code).toBe(EXIT_INVALID);
      expect(result.out).toBe('');
      expect(result.err).toContain(
        `${join(dir, 'platform.yaml')}: vpc.availabilityZones: is missing; expected the names of the platform's ` +
          'availability zones in eu-west-1 (such as [eu-west-1a, eu-west-1b, eu-west-1c]): without them the ' +
          'templates hold placeholders (dummy1a) for what the AWS CDK CLI looks up in the account ' +
          '(availability-zones:account=123456789012:region=eu-west-1), and cannot be deployed as written',
      );
    }
    // The CDK CLI looks the zones up itself and runs the app again with them: nothing to refuse.
    const cdkOut = join(tempDir('cdk-outdir-'), 'out');
    expect(cli(['synth', dir], { cwd, env: { CDK_OUTDIR: cdkOut } })).toMatchObject({ code: EXIT_OK, err: '' });
    expect(JSON.parse(readFileSync(join(cdkOut, 'manifest.json'), 'utf-8')).missing).toEqual([
      expect.objectContaining({ key: 'availability-zones:account=123456789012:region=eu-west-1' }),
    ]);
  });

  test('an invalid fleet exits 1 with the problems validate prints, and writes nothing', () => {
    const bad = { ...stagingCustomer(), compute: { minCapacity: 3, maxCapacity: 1 } };
    const dir = writeFleet(platform(), { 'a.yaml': bad });
    const cwd = tempDir('synth-invalid-');
    const validate = cli(['validate', dir], { cwd });
    const result = cli(['synth', dir], { cwd, errIsTTY: true });
    expect(result).toMatchObject({ code: EXIT_INVALID, out: '', err: validate.err });
    expect(result.err).toMatch(/^Invalid config \(1 problem\):\n.*compute\.minCapacity: received 3/);
    expect(readdirSync(cwd)).toEqual([]);
    const cdkOut = join(cwd, 'out');
    expect(cli(['synth', dir], { cwd, env: { CDK_OUTDIR: cdkOut } })).toMatchObject({ code: EXIT_INVALID, out: '' });
    expect(existsSync(cdkOut)).toBe(false);
  });

  test('an error thrown by a construct: its message, no stack trace, exit 1', () => {
    const message = 'CustomerWebTier acme-staging/Web: compute: received 0 instances; expected at least 1';
    jest.spyOn(VendingFleet, '_fromReadDirectory').mockImplementation(() => {
      throw new Error(message);
    });
    const cwd = tempDir('synth-throw-');
    const result = cli(['synth', BUNDLED_FLEET], { cwd });
    expect(result).toMatchObject({ code: EXIT_INVALID, out: '', err: `paas-vending: synth: ${message}` });
    // The App made cdk.out: the command removes what it made and did not finish.
    expect(existsSync(join(cwd, 'cdk.out'))).toBe(false);
  });

  test("a failed synthesis keeps the cdk.out it made when aws-cdk-lib's validation report is there", () => {
    const cwd = tempDir('synth-throw-report-');
    jest.spyOn(VendingFleet, '_fromReadDirectory').mockImplementation((scope) => {
      // What aws-cdk-lib does when its validation fails: the report in the assembly, then an error naming it.
      const outdir = (scope as Stage).outdir;
      writeFileSync(join(outdir, 'validation-report.json'), '{}');
      throw new Error(`Validation failed. A copy of this report can be found in: ${outdir}/validation-report.json`);
    });
    expect(cli(['synth', BUNDLED_FLEET], { cwd }).code).toBe(EXIT_INVALID);
    expect(existsSync(join(cwd, 'cdk.out', 'validation-report.json'))).toBe(true);
  });

  test('an error thrown by a construct leaves a cdk.out that was there before in place', () => {
    const cwd = tempDir('synth-throw-kept-');
    mkdirSync(join(cwd, 'cdk.out'));
    writeFileSync(join(cwd, 'cdk.out', 'mine.txt'), 'kept');
    jest.spyOn(VendingFleet, '_fromReadDirectory').mockImplementation(() => {
      throw new Error('refused');
    });
    expect(cli(['synth', BUNDLED_FLEET], { cwd }).code).toBe(EXIT_INVALID);
    expect(readFileSync(join(cwd, 'cdk.out', 'mine.txt'), 'utf-8')).toBe('kept');
  });

  test('a bug (TypeError) stays an internal error, exit 70', () => {
    jest.spyOn(VendingFleet, '_fromReadDirectory').mockImplementation(() => {
      throw new TypeError("Cannot read properties of undefined (reading 'x')");
    });
    const cwd = tempDir('synth-bug-');
    const result = cli(['synth', BUNDLED_FLEET], { cwd });
    expect(result.code).toBe(EXIT_INTERNAL);
    expect(result.err).toMatch(/unexpected error: Cannot read properties/);
    expect(existsSync(join(cwd, 'cdk.out'))).toBe(false);
  });

  test('annotations: warnings on stderr; an error fails the command as it fails cdk synth', () => {
    jest.spyOn(VendingFleet, '_fromReadDirectory').mockImplementation((app) => {
      const stack = new Stack(app, 'vending-platform');
      const topic = new CfnResource(stack, 'Topic', { type: 'AWS::SNS::Topic' });
      Annotations.of(topic).addWarningV2('test:careful', 'be careful');
      Annotations.of(topic).addError('this cannot be deployed');
      return { platformStack: stack, environments: [], ...NO_PLACEMENT } as unknown as VendingFleet;
    });
    const result = cli(['synth', BUNDLED_FLEET, '--json'], { cwd: tempDir('synth-annotations-') });
    expect(result.code).toBe(EXIT_INVALID);
    expect(result.out).toBe('');
    expect(result.err).toContain('warning: vending-platform/Topic: be careful [ack: test:careful]');
    expect(result.err).toContain(
      'paas-vending: synth: 1 error(s) in the synthesized stacks:\nerror: vending-platform/Topic: this cannot be deployed',
    );
  });

  test("aws-cdk-lib's template validation: off alone unless --validate; aws-cdk-lib's default under the CDK CLI", () => {
    // aws-cdk-lib prints its findings itself (console.error) and writes validation-report.json into the assembly.
    const fake = () =>
      jest.spyOn(VendingFleet, '_fromReadDirectory').mockImplementation((app) => {
        const stack = new Stack(app, 'vending-platform');
        new CfnResource(stack, 'Topic', { type: 'AWS::SNS::Topic', properties: { TopicNam: 'misspelled' } });
        return { platformStack: stack, environments: [], ...NO_PLACEMENT } as unknown as VendingFleet;
      });
    const report = (dir: string) => {
      const file = join(dir, 'validation-report.json');
      return existsSync(file) ? readFileSync(file, 'utf-8') : undefined;
    };
    jest.spyOn(console, 'error').mockImplementation(() => undefined);
    // aws-cdk-lib's own default, which the jest setup turns off for the tests' Apps (test/support/jest-setup.ts);
    // afterEach puts the setup's value back.
    delete process.env.CDK_VALIDATION;
    fake();
    const quiet = tempDir('synth-novalidate-');
    expect(cli(['synth', BUNDLED_FLEET, '--json'], { cwd: quiet })).toMatchObject({ code: EXIT_OK, err: '' });
    expect(report(join(quiet, 'cdk.out'))).toBeUndefined();
    fake();
    const checked = tempDir('synth-validate-');
    expect(cli(['synth', BUNDLED_FLEET, '--json', '--validate'], { cwd: checked }).code).toBe(EXIT_OK);
    expect(report(join(checked, 'cdk.out'))).toContain('TopicNam');
    fake();
    const cdkOut = tempDir('synth-cdk-out-');
    expect(cli(['synth', BUNDLED_FLEET], { cwd: tempDir('synth-cdk-'), env: { CDK_OUTDIR: cdkOut } }).code).toBe(
      EXIT_OK,
    );
    expect(report(cdkOut)).toContain('TopicNam');
    expect(cli(['synth', BUNDLED_FLEET, '--validate'], { env: { CDK_OUTDIR: tempDir('out-') } })).toMatchObject({
      code: EXIT_USAGE,
      err: expect.stringContaining('synth: --validate does not apply when the CDK CLI runs the command'),
    });
  });

  test('without lookups, the summary says how to deploy from the assembly', () => {
    jest.spyOn(VendingFleet, '_fromReadDirectory').mockImplementation((app) => {
      const stack = new Stack(app, 'vending-platform');
      new CfnResource(stack, 'Topic', { type: 'AWS::SNS::Topic' });
      return { platformStack: stack, environments: [], ...NO_PLACEMENT } as unknown as VendingFleet;
    });
    const result = cli(['synth', BUNDLED_FLEET], { cwd: tempDir('synth-plain-') });
    expect(result).toMatchObject({ code: EXIT_OK, err: '' });
    expect(result.out).toMatch(
      /^STACK .*\nvending-platform +- +- +- +- +1 +cdk\.out\/vending-platform\.template\.json\n/,
    );
    expect(result.out).toMatch(/\n\n1 stack in cdk\.out\. Deploy one with: cdk deploy --app cdk\.out STACK$/);
  });

  test('--out naming a file exits 1', () => {
    const cwd = tempDir('synth-out-');
    writeFileSync(join(cwd, 'taken'), '');
    const result = cli(['synth', BUNDLED_FLEET, '--out', 'taken'], { cwd });
    expect(result).toMatchObject({
      code: EXIT_INVALID,
      err: 'paas-vending: synth: taken: is not a directory; expected a directory for the cloud assembly',
    });
  });

  test.each([
    [['synth', '--json'], 'synth: --json does not apply when the CDK CLI runs the command (CDK_OUTDIR is set)'],
    [['synth', '--out', 'x'], 'synth: --out does not apply when the CDK CLI runs the command (CDK_OUTDIR is set)'],
  ])('with CDK_OUTDIR set, %j is wrong usage', (argv, message) => {
    const result = cli(argv, { env: { CDK_OUTDIR: join(tmpdir(), 'unused') } });
    expect(result.code).toBe(EXIT_USAGE);
    expect(result.err).toContain(message);
  });

  test('wrong usage and help', () => {
    expect(cli(['synth', 'a', 'b']).code).toBe(EXIT_USAGE);
    expect(cli(['synth', '--out']).code).toBe(EXIT_USAGE);
    const help = cli(['synth', '--help']);
    expect(help).toMatchObject({ code: EXIT_OK, out: expect.stringMatching(/^Usage: paas-vending synth/) });
    expect(help.out).toContain('CDK_OUTDIR');
    expect(cli(['--help']).out).toContain('synth [DIR] [--out DIR]');
  });
});

describe('paas-vending synth: placement.yaml', () => {
  // A platform whose load balancers take one environment each (maxSharedLoadBalancers 2), and three environments
  // on shared ingress: the third does not fit.
  const customers = (names: string[]) =>
    Object.fromEntries(
      names.map((name) => [`${name}-staging.yaml`, { ...stagingCustomer(), customer: name, hostname: undefined }]),
    );

  test('written on the first run, reported on stderr with what changed; then unchanged and not reported', () => {
    const zones = { vpc: { availabilityZones: ['eu-west-1a', 'eu-west-1b'] } };
    const fleet = writeFleet({ ...platform(), ...zones }, customers(['acme', 'globex']));
    const first = cli(['synth', fleet, '--json'], { cwd: tempDir('synth-place-') });
    expect(first.code).toBe(EXIT_OK);
    expect(first.errLines.slice(0, 3)).toEqual([
      `paas-vending: synth: wrote ${join(fleet, 'placement.yaml')} (commit it with the fleet):`,
      '  acme-staging: placed on shared load balancer 1',
      '  globex-staging: placed on shared load balancer 1',
    ]);
    expect(readFileSync(join(fleet, 'placement.yaml'), 'utf-8')).toMatch(
      /\nloadBalancers: 1\nenvironments:\n {2}acme-staging: 1\n {2}globex-staging: 1\n$/,
    );
    const again = cli(['synth', fleet, '--json', '--frozen-placement'], { cwd: tempDir('synth-place-') });
    expect(again.code).toBe(EXIT_OK);
    expect(again.err).not.toContain('placement');
  });

  test('--frozen-placement fails with what would change, and writes nothing', () => {
    const fleet = writeFleet(platform(), customers(['acme']));
    const result = cli(['synth', fleet, '--frozen-placement'], { cwd: tempDir('synth-frozen-') });
    expect(result).toMatchObject({ code: EXIT_INVALID, out: '' });
    expect(result.err).toContain(
      `${join(fleet, 'placement.yaml')}: must change (acme-staging: placed on shared load balancer 1) but the ` +
        'placement is frozen; expected the placement to be committed',
    );
    expect(existsSync(join(fleet, 'placement.yaml'))).toBe(false);
  });

  test('a bad placement.yaml exits 1 with the file, line and field', () => {
    const fleet = writeFleet(platform(), customers(['acme']));
    writeFileSync(join(fleet, 'placement.yaml'), 'loadBalancers: 1\nenvironments:\n  acme-staging: 3\n');
    const result = cli(['synth', fleet], { cwd: tempDir('synth-badplace-') });
    expect(result.code).toBe(EXIT_INVALID);
    expect(result.err).toContain(
      `${join(fleet, 'placement.yaml')}:3:17: environments.acme-staging: received 3; expected a shared load ` +
        'balancer number from 1 to 1 (loadBalancers)',
    );
  });
});
