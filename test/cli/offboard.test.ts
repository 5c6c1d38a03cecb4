/*
 * `paas-vending offboard` and what synth does with an offboarded environment, run in-process on small fleets: the
 * plan it prints (read from the synthesized stack), the confirmation, the files it writes, the stack it keeps
 * destroyable, the slot and certificate it frees, and synth's warning about stacks nothing names any more.
 */
import { spawnSync } from 'child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { parse } from 'yaml';
import { EXIT_INVALID, EXIT_OK, EXIT_USAGE, Io, run } from '../../src/cli/cli';
import { CERTIFICATE_ARN, platform, productionCustomer, stagingCustomer, writeFleet } from '../config/fixtures';

const ZONES = { vpc: { availabilityZones: ['eu-west-1a', 'eu-west-1b'] } };
const OTHER_CERTIFICATE = 'arn:aws:acm:eu-west-1:123456789012:certificate/bbbbbbbb-0000-4000-8000-000000000002';

/** Runs the command in-process and captures what a user would see. */
function cli(argv: string[], io: Partial<Io> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = run(argv, {
    out: (t) => out.push(t),
    err: (t) => err.push(t),
    cwd: io.cwd ?? tmpdir(),
    env: io.env ?? { PAAS_VENDING_CACHE: 'off' },
    inIsTTY: io.inIsTTY,
    ask: io.ask,
  });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** Every file of a folder and its text, to show that nothing changed. */
function contents(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) {
      const path = join(entry.parentPath, entry.name);
      files[path.slice(dir.length + 1)] = readFileSync(path, 'utf-8');
    }
  }
  return files;
}

const tempDir = (prefix: string) => mkdtempSync(join(tmpdir(), prefix));
const templateText = (assembly: string, stack: string) =>
  readFileSync(join(assembly, `${stack}.template.json`), 'utf-8');
const stacksOf = (assembly: string) =>
  Object.entries<any>(JSON.parse(readFileSync(join(assembly, 'manifest.json'), 'utf-8')).artifacts)
    .filter(([, a]) => a.type === 'aws:cloudformation:stack')
    .map(([id]) => id)
    .sort();

describe('paas-vending offboard', () => {
  let fleet: string;
  let cwd: string;
  let stagingText: string;
  let stagingTemplate: string;

  beforeAll(() => {
    const staging = { ...stagingCustomer(), database: { engine: 'postgres', version: '16' } };
    fleet = writeFleet(
      { ...platform(), ...ZONES },
      {
        'acme-production.yaml': productionCustomer(),
        'acme-staging.yaml': staging,
        'globex-staging.yaml': { ...stagingCustomer(), customer: 'globex' },
      },
    );
    stagingText = readFileSync(join(fleet, 'customers', 'acme-staging.yaml'), 'utf-8');
    cwd = tempDir('offboard-');
    // As deployed: the fleet synthesized (placement.yaml written) into cdk.out, the previous assembly.
    expect(cli(['synth', fleet], { cwd }).code).toBe(EXIT_OK);
    stagingTemplate = templateText(join(cwd, 'cdk.out'), 'acme-staging');
  });

  test('prints what is deleted and kept; without a terminal and without --yes it refuses and changes nothing', () => {
    const before = contents(fleet);
    const result = cli(['offboard', fleet, 'acme-production'], { cwd });
    expect(result.code).toBe(EXIT_INVALID);
    expect(result.err).toBe(
      'paas-vending: offboard: acme-production: not offboarded: stdin is not a terminal, so nothing can confirm it; ' +
        'expected --yes, once the plan above is what you want. Nothing was changed',
    );
    const [kept, deleted] = result.out.split('\nKept:\n')[1].split('\nDeleted (');
    expect(kept).toContain('  - the data bucket Web/DataBucket with its objects (retained: production)');
    expect(kept).toContain('  - a final snapshot of the database acme-production (postgres 16)');
    expect(kept).toContain('  - the log group Delivery/BuildLogs with its logs (retained)');
    expect(kept).toContain('  - the AMI parameter /vending/acme/production/ami-id');
    expect(kept).toContain('the tags vending:customer=acme and vending:environment=production');
    expect(kept).toContain('/aws/rds/instance/acme-production/...');
    expect(kept).toContain("the artifacts its pipelines left in the platform's artifacts bucket");
    expect(deleted).toContain('  - the database acme-production (postgres 16) itself (after its final snapshot)');
    expect(deleted).not.toContain('DataBucket');
    // Production's protections, each with the command that lifts it.
    expect(result.out).toContain(
      '--no-enable-termination-protection --stack-name acme-production\n  - the database has deletion protection ' +
        '(production): aws rds modify-db-instance --db-instance-identifier acme-production --no-deletion-protection',
    );
    expect(result.out).toMatch(
      /load balancer Web\/LoadBalancer has deletion protection: aws elbv2 modify-load-balancer-attributes --attributes Key=deletion_protection.enabled,Value=false --load-balancer-arn "\$\(aws cloudformation describe-stack-resource --stack-name acme-production --logical-resource-id WebLoadBalancer\w+ /,
    );
    expect(contents(fleet)).toEqual(before);
  });

  test('on a terminal it asks for the name; another answer changes nothing', () => {
    const before = contents(fleet);
    const asked: string[] = [];
    const result = cli(['offboard', fleet, 'acme-staging'], {
      cwd,
      inIsTTY: true,
      ask: (question) => {
        asked.push(question);
        return 'yes';
      },
    });
    expect(asked).toEqual(['Type acme-staging to offboard it (anything else cancels): ']);
    expect(result.code).toBe(EXIT_INVALID);
    expect(result.err).toContain('acme-staging: not offboarded (the answer was not acme-staging). Nothing was changed');
    // Not production: the bucket goes with the stack, emptied by its cleanup (the plan says so: every version is
    // lost), and the database still leaves its snapshot.
    expect(result.out).toContain('  - a final snapshot of the database acme-staging (postgres 16)');
    expect(result.out).toContain(
      "  - the data bucket Web/DataBucket and every object version in it: the stack's cleanup (Custom::DataBucketCleanup) deletes them all",
    );
    // The plan is this version's template; a stack deployed by an earlier one is to be deployed again first.
    expect(result.out).toContain('deploy it once with this version (cdk deploy acme-staging) before cdk destroy');
    expect(result.out).toContain('  - the log group Delivery/BuildLogs and its logs');
    expect(result.out).not.toContain('Before cdk destroy');
    expect(contents(fleet)).toEqual(before);
  });

  test('confirmed: the file moves unchanged to offboarded/, offboarded.yaml records it, placement.yaml frees it', () => {
    const result = cli(['offboard', fleet, 'acme-staging'], { cwd, inIsTTY: true, ask: () => 'acme-staging' });
    expect(result).toMatchObject({ code: EXIT_OK, err: '' });
    expect(existsSync(join(fleet, 'customers', 'acme-staging.yaml'))).toBe(false);
    expect(readFileSync(join(fleet, 'offboarded', 'acme-staging.yaml'), 'utf-8')).toBe(stagingText);
    const record = parse(readFileSync(join(fleet, 'offboarded.yaml'), 'utf-8'));
    expect(record.environments['acme-staging']).toEqual({
      file: 'offboarded/acme-staging.yaml',
      offboardedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
      sharedLoadBalancer: 1,
    });
    expect(Date.now() - Date.parse(record.environments['acme-staging'].offboardedAt)).toBeLessThan(60_000);
    expect(parse(readFileSync(join(fleet, 'placement.yaml'), 'utf-8'))).toEqual({
      loadBalancers: 1,
      environments: { 'globex-staging': 1 },
    });
    expect(result.out).toContain(`cdk destroy -c vending:include-offboarded=true acme-staging`);
    // Again: nothing to do, said so.
    const again = cli(['offboard', fleet, 'acme-staging'], { cwd, inIsTTY: true, ask: () => 'acme-staging' });
    expect(again.code).toBe(EXIT_INVALID);
    expect(again.err).toMatch(
      /acme-staging: was offboarded at \d{4}-.*Z \(.*offboarded\.yaml\); its last customer file is .*offboarded\/acme-staging\.yaml: nothing to do$/,
    );
  });

  test('synth leaves the stack out without a warning; with the offboarded ones, it is the template it had', () => {
    const placement = readFileSync(join(fleet, 'placement.yaml'), 'utf-8');
    const normal = cli(['synth', fleet], { cwd });
    expect(normal.code).toBe(EXIT_OK);
    expect(normal.err).not.toContain('acme-staging');
    expect(stacksOf(join(cwd, 'cdk.out'))).toEqual(['acme-production', 'globex-staging', 'vending-platform']);

    const included = cli(['synth', fleet, '--include-offboarded', '--out', 'with-offboarded'], { cwd });
    expect(included.code).toBe(EXIT_OK);
    expect(included.out).toContain('Offboarded, built for cdk destroy only (offboarded.yaml): acme-staging.');
    expect(templateText(join(cwd, 'with-offboarded'), 'acme-staging')).toBe(stagingTemplate);
    expect(readFileSync(join(fleet, 'placement.yaml'), 'utf-8')).toBe(placement);

    // As cdk destroy runs it: the context key, given by the CDK CLI in CDK_CONTEXT_JSON.
    const outdir = tempDir('offboard-cdk-');
    const saved = process.env.CDK_CONTEXT_JSON;
    process.env.CDK_CONTEXT_JSON = JSON.stringify({ 'vending:include-offboarded': 'true' });
    try {
      const underCdk = cli(['synth', fleet], { cwd, env: { PAAS_VENDING_CACHE: 'off', CDK_OUTDIR: outdir } });
      expect(underCdk).toMatchObject({ code: EXIT_OK, out: '' });
    } finally {
      if (saved === undefined) delete process.env.CDK_CONTEXT_JSON;
      else process.env.CDK_CONTEXT_JSON = saved;
    }
    expect(stacksOf(outdir)).toContain('acme-staging');
  });

  test('synth warns about a stack whose file was deleted by hand, naming where it is still seen', () => {
    const copy = tempDir('offboard-copy-');
    for (const [file, text] of Object.entries(contents(fleet))) {
      const path = join(copy, file);
      mkdirSync(join(path, '..'), { recursive: true });
      writeFileSync(path, text);
    }
    rmSync(join(copy, 'customers', 'globex-staging.yaml'));
    const assembly = join(cwd, 'cdk.out'); // the previous synthesis holds globex-staging
    const result = cli(['synth', copy, '--out', assembly], { cwd });
    expect(result.code).toBe(EXIT_OK);
    expect(result.err).toContain(
      `paas-vending: synth: warning: globex-staging: is in ${join(assembly, 'manifest.json')} and ` +
        `${join(copy, 'placement.yaml')} but has no file in ${join(copy, 'customers')} and no entry in ` +
        `${join(copy, 'offboarded.yaml')}; if its stack is deployed, this synthesis no longer holds it and cdk destroy ` +
        `cannot name it: restore its customer file (from version control) and run paas-vending offboard ${copy} globex-staging`,
    );
    // The offboarded environment is named in the record: no warning for it.
    expect(result.err).not.toContain('warning: acme-staging');
    // Its slot is held, not given away: placement.yaml keeps it, so the next synthesis (whose previous assembly no
    // longer holds the stack) warns again, until the environment is offboarded or its entry is removed by hand.
    expect(parse(readFileSync(join(copy, 'placement.yaml'), 'utf-8')).environments).toMatchObject({
      'globex-staging': 1,
    });
    const next = cli(['synth', copy, '--out', assembly], { cwd });
    expect(next.code).toBe(EXIT_OK);
    expect(next.err).toContain(
      `paas-vending: synth: warning: globex-staging: is in ${join(copy, 'placement.yaml')} but has no file in`,
    );
    expect(next.err).toContain('its slot on shared load balancer 1 stays held until then');
  });

  test('wrong usage, an unknown environment, help', () => {
    expect(cli(['offboard', fleet]).code).toBe(EXIT_USAGE);
    const unknown = cli(['offboard', fleet, 'initech-production'], { cwd });
    expect(unknown.code).toBe(EXIT_INVALID);
    expect(unknown.err).toMatch(
      /received "initech-production"; expected an environment of the fleet in .*customers \(acme-production, globex-staging\)$/,
    );
    expect(cli(['offboard', '--help']).out).toMatch(/^Usage: paas-vending offboard DIR CUSTOMER-ENVIRONMENT \[--yes\]/);
    expect(cli(['--help']).out).toContain('offboard DIR CUSTOMER-ENVIRONMENT');
  });
});

test('a previous assembly whose manifest cannot be read is said, and the synthesis goes on', () => {
  const fleet = writeFleet({ ...platform(), ...ZONES }, { 'acme-staging.yaml': stagingCustomer() });
  const cwd = tempDir('offboard-manifest-');
  mkdirSync(join(cwd, 'cdk.out'));
  writeFileSync(join(cwd, 'cdk.out', 'manifest.json'), '{ not json');
  const result = cli(['synth', fleet, '--stack', 'vending-platform'], { cwd });
  expect(result.code).toBe(EXIT_OK);
  expect(result.err).toMatch(
    /paas-vending: synth: warning: .*cdk\.out\/manifest\.json: cannot be read \(.*\); the previous stacks are not compared/,
  );
});

test('a bad offboarded.yaml fails the synthesis with its problem, at its line, and writes no assembly', () => {
  const fleet = writeFleet({ ...platform(), ...ZONES }, { 'acme-staging.yaml': stagingCustomer() });
  writeFileSync(join(fleet, 'offboarded.yaml'), 'environments: [acme-staging]\n');
  const cwd = tempDir('offboard-bad-record-');
  const result = cli(['synth', fleet], { cwd });
  expect(result.code).toBe(EXIT_INVALID);
  expect(result.err).toContain(
    `${join(fleet, 'offboarded.yaml')}:1:15: environments: received ["acme-staging"]; expected a map of <customer>-<environment> to entry`,
  );
  expect(existsSync(join(cwd, 'cdk.out', 'manifest.json'))).toBe(false);
});

describe('an offboarding that stopped half-way', () => {
  /** A fleet of two staging environments, synthesized once (placement.yaml written), and the text of acme's file. */
  function deployedFleet() {
    const fleet = writeFleet(
      { ...platform(), ...ZONES },
      {
        'acme-staging.yaml': stagingCustomer(),
        'globex-staging.yaml': { ...stagingCustomer(), customer: 'globex' },
      },
    );
    const cwd = tempDir('offboard-resume-');
    expect(cli(['synth', fleet, '--stack', 'vending-platform'], { cwd }).code).toBe(EXIT_OK);
    return { fleet, cwd, text: readFileSync(join(fleet, 'customers', 'acme-staging.yaml'), 'utf-8') };
  }

  /** What a finished offboarding of acme-staging leaves: the file moved, the record, the freed slot. */
  function expectOffboarded(fleet: string, text: string) {
    expect(existsSync(join(fleet, 'customers', 'acme-staging.yaml'))).toBe(false);
    expect(readFileSync(join(fleet, 'offboarded', 'acme-staging.yaml'), 'utf-8')).toBe(text);
    const record = parse(readFileSync(join(fleet, 'offboarded.yaml'), 'utf-8'));
    expect(Object.keys(record.environments)).toEqual(['acme-staging']);
    expect(record.environments['acme-staging']).toMatchObject({
      file: 'offboarded/acme-staging.yaml',
      sharedLoadBalancer: 1,
    });
    expect(parse(readFileSync(join(fleet, 'placement.yaml'), 'utf-8')).environments).toEqual({ 'globex-staging': 1 });
    return record.environments['acme-staging'];
  }

  test('stopped after the copy: run again, it finishes', () => {
    const { fleet, cwd, text } = deployedFleet();
    mkdirSync(join(fleet, 'offboarded'));
    writeFileSync(join(fleet, 'offboarded', 'acme-staging.yaml'), text);
    const again = cli(['offboard', fleet, 'acme-staging', '--yes'], { cwd });
    expect(again).toMatchObject({ code: EXIT_OK, err: '' });
    expect(again.out).toContain('Resuming the offboarding of acme-staging that stopped half-way');
    expectOffboarded(fleet, text);
  });

  test('stopped after the record, before the customer file was removed: run again, it finishes and keeps the date', () => {
    const { fleet, cwd, text } = deployedFleet();
    expect(cli(['offboard', fleet, 'acme-staging', '--yes'], { cwd }).code).toBe(EXIT_OK);
    const first = expectOffboarded(fleet, text);
    // As if it had stopped before its last step: the customer file is back where it was.
    writeFileSync(join(fleet, 'customers', 'acme-staging.yaml'), text);
    const again = cli(['offboard', fleet, 'acme-staging', '--yes'], { cwd });
    expect(again).toMatchObject({ code: EXIT_OK, err: '' });
    expect(again.out).toContain('Resuming the offboarding of acme-staging that stopped half-way');
    expect(expectOffboarded(fleet, text).offboardedAt).toBe(first.offboardedAt);
  });

  test('a different file in offboarded/ is an earlier offboarding, not this one: refused, nothing changed', () => {
    const { fleet, cwd, text } = deployedFleet();
    mkdirSync(join(fleet, 'offboarded'));
    writeFileSync(join(fleet, 'offboarded', 'acme-staging.yaml'), `${text}# an earlier version\n`);
    const before = contents(fleet);
    const again = cli(['offboard', fleet, 'acme-staging', '--yes'], { cwd });
    expect(again.code).toBe(EXIT_INVALID);
    expect(again.err).toMatch(
      /offboarded\/acme-staging\.yaml: exists already with other content; expected no file there/,
    );
    expect(contents(fleet)).toEqual(before);
  });
});

describe('the place an offboarded environment leaves is taken by the next one', () => {
  test('its slot on the shared load balancer and its certificate room on the listener', () => {
    // One shared load balancer whose listener takes one certificate besides its default one.
    const fleet = writeFleet(
      { ...platform(), ...ZONES, maxSharedLoadBalancers: 1, quotas: { certificatesPerLoadBalancer: 1 } },
      {
        'acme-staging.yaml': {
          ...stagingCustomer(),
          customDomain: { name: 'staging.acme.com', certificateArn: CERTIFICATE_ARN },
        },
      },
    );
    const cwd = tempDir('offboard-reuse-');
    expect(cli(['synth', fleet, '--stack', 'vending-platform'], { cwd }).code).toBe(EXIT_OK);
    writeFileSync(
      join(fleet, 'customers', 'globex-staging.yaml'),
      JSON.stringify({
        ...stagingCustomer(),
        customer: 'globex',
        customDomain: { name: 'staging.globex.com', certificateArn: OTHER_CERTIFICATE },
      }),
    );
    const full = cli(['synth', fleet, '--stack', 'vending-platform'], { cwd });
    expect(full.code).toBe(EXIT_INVALID);
    expect(full.err).toContain("quotas.certificatesPerLoadBalancer: received 1: globex-staging's certificate");

    const offboarded = cli(['offboard', fleet, 'acme-staging', '--yes'], { cwd });
    expect(offboarded.code).toBe(EXIT_OK);
    expect(offboarded.out).toMatch(
      /Kept:\n(  - .*\n)*  - the custom domain's certificate on the shared listener \(Web\/\S+, retained/,
    );
    const placed = cli(['synth', fleet, '--stack', 'vending-platform'], { cwd });
    expect(placed.code).toBe(EXIT_OK);
    expect(placed.err).toContain('globex-staging: placed on shared load balancer 1');
    expect(parse(readFileSync(join(fleet, 'placement.yaml'), 'utf-8'))).toEqual({
      loadBalancers: 1,
      environments: { 'globex-staging': 1 },
    });
    const template = JSON.parse(templateText(join(cwd, 'cdk.out'), 'vending-platform'));
    const certificates = Object.values<any>(template.Resources)
      .filter((r) => r.Type === 'AWS::ElasticLoadBalancingV2::ListenerCertificate')
      .flatMap((r) => r.Properties.Certificates.map((c: any) => c.CertificateArn));
    expect(certificates).toEqual([OTHER_CERTIFICATE]);
  });
});

describe('the installed entry point', () => {
  // The real bin script, with a terminal of its own (a pseudo-terminal from Python's pty), and with stdin piped.
  const main = join(__dirname, '../../src/cli/main.ts');
  const command = [process.execPath, '-r', require.resolve('ts-node/register/transpile-only'), main];
  const env = {
    ...process.env,
    TS_NODE_PROJECT: join(__dirname, '../../tsconfig.dev.json'),
    PAAS_VENDING_CACHE: 'off',
  };
  const ON_A_TERMINAL = [
    'import os, pty, select, sys',
    'pid, fd = pty.fork()',
    'if pid == 0:',
    '    os.execvpe(sys.argv[2], sys.argv[2:], os.environ)',
    'out, sent = b"", False',
    'while True:',
    '    ready, _, _ = select.select([fd], [], [], 120)',
    '    if not ready:',
    '        break',
    '    try:',
    '        data = os.read(fd, 4096)',
    '    except OSError:',
    '        break',
    '    if not data:',
    '        break',
    '    out += data',
    '    if not sent and b"to offboard it" in out:',
    '        os.write(fd, sys.argv[1].encode() + b"\\n")',
    '        sent = True',
    '_, status = os.waitpid(pid, 0)',
    'sys.stdout.write(out.decode("utf-8", "replace"))',
    'sys.exit(os.waitstatus_to_exitcode(status))',
  ].join('\n');

  test('piped without --yes: refused, nothing changed; on a terminal, the typed name offboards', () => {
    const fleet = writeFleet({ ...platform(), ...ZONES }, { 'acme-staging.yaml': stagingCustomer() });
    const piped = spawnSync(command[0], [...command.slice(1), 'offboard', fleet, 'acme-staging'], {
      encoding: 'utf-8',
      env,
      input: 'acme-staging\n',
    });
    expect(piped.status).toBe(EXIT_INVALID);
    expect(piped.stderr).toContain('not offboarded: stdin is not a terminal');
    expect(existsSync(join(fleet, 'customers', 'acme-staging.yaml'))).toBe(true);

    const typed = spawnSync(
      'python3',
      ['-c', ON_A_TERMINAL, 'acme-staging', ...command, 'offboard', fleet, 'acme-staging'],
      {
        encoding: 'utf-8',
        env,
      },
    );
    expect(typed.stdout).toContain('Type acme-staging to offboard it (anything else cancels): ');
    expect(typed.stdout).toContain('Offboarded acme-staging.');
    expect(typed.status).toBe(EXIT_OK);
    expect(existsSync(join(fleet, 'customers', 'acme-staging.yaml'))).toBe(false);
    expect(existsSync(join(fleet, 'offboarded', 'acme-staging.yaml'))).toBe(true);
  });
});
