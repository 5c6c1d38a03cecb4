import { execFileSync, spawnSync } from 'child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { stringify } from 'yaml';
import { ConfigLoader } from '../../src';
import { BUNDLED_FLEET, EXIT_INTERNAL, EXIT_INVALID, EXIT_OK, EXIT_USAGE, run, versionText } from '../../src/cli/cli';
import { platform, productionCustomer, stagingCustomer, writeFleet } from '../config/fixtures';

/** Runs the command in-process and captures what a user would see. */
function cli(argv: string[], cwd = tmpdir()) {
  const out: string[] = [];
  const err: string[] = [];
  const code = run(argv, { out: (t) => out.push(t), err: (t) => err.push(t), cwd });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('paas-vending validate', () => {
  test('a valid fleet exits 0 and says what it checked', () => {
    const dir = writeFleet(platform(), {
      'acme-production.yaml': productionCustomer(),
      'acme-staging.yaml': stagingCustomer(),
    });
    const result = cli(['validate', dir]);
    expect(result).toMatchObject({ code: EXIT_OK, err: '' });
    expect(result.out).toMatch(
      /^Valid: platform vending \(production, eu-west-1\) and 2 customer environments in .*fleet-/,
    );
  });

  test('an invalid fleet exits 1 and lists every problem of every file', () => {
    const bad = { ...stagingCustomer(), compute: { minCapacity: 3, maxCapacity: 1 } };
    const dir = writeFleet(platform(), { 'a.yaml': bad, 'b.yaml': { ...stagingCustomer(), customer: 'B' } });
    const result = cli(['validate', dir]);
    expect(result.code).toBe(EXIT_INVALID);
    expect(result.out).toBe('');
    expect(result.err).toMatch(/^Invalid config \(2 problems\):/);
    expect(result.err).toMatch(
      /customers\/a\.yaml:\d+:\d+: compute\.minCapacity: received 3, more than maxCapacity \(1\)/,
    );
    expect(result.err).toMatch(/customers\/b\.yaml:\d+:\d+: customer: received "B"/);
  });

  test('without DIR: the current directory when it is a fleet, else the bundled example fleet', () => {
    const dir = writeFleet(platform(), { 'acme-staging.yaml': stagingCustomer() });
    expect(cli(['validate'], dir).out).toContain('and 1 customer environment in');
    const bundled = cli(['validate'], tmpdir());
    expect(bundled.code).toBe(EXIT_OK);
    expect(bundled.err).toBe(`No platform.yaml here; using the bundled example fleet (${BUNDLED_FLEET}).`);
    expect(bundled.out).toContain('and 6 customer environments');
  });

  test('a folder with customers/ but a misnamed platform file is checked, not replaced by the example', () => {
    const dir = writeFleet(undefined, { 'acme-staging.yaml': stagingCustomer() });
    writeFileSync(join(dir, 'platfrom.yaml'), 'name: x\n');
    const result = cli(['validate'], dir);
    expect(result.code).toBe(EXIT_INVALID);
    expect(result.err).toContain('platform.yaml: is missing; expected the platform config of the fleet');
  });

  test('unreadable entries are config problems, not crashes', () => {
    const dir = writeFleet(platform(), {});
    mkdirSync(join(dir, 'customers', 'nested'));
    symlinkSync(join(dir, 'nowhere.yaml'), join(dir, 'customers', 'broken.yaml'));
    const result = cli(['validate', dir]);
    expect(result.code).toBe(EXIT_INVALID);
    expect(result.err).toMatch(/customers\/broken\.yaml: cannot be read: no such file/);
    expect(result.err).toMatch(/customers\/nested: is a directory; expected config files directly in customers\//);
    const fileNotDir = writeFleet(platform(), {});
    rmSync(join(fileNotDir, 'customers'), { recursive: true });
    writeFileSync(join(fileNotDir, 'customers'), 'x');
    expect(cli(['validate', fileNotDir]).err).toMatch(
      /customers: cannot be read \(ENOTDIR\); expected a directory of config files/,
    );
  });

  test('an unexpected failure is reported in one line with its own exit code, not a stack trace', () => {
    const result = run(['validate'], {
      out: () => undefined,
      err: (t) => errors.push(t),
      get cwd(): string {
        throw new TypeError('boom');
      },
    });
    expect(result).toBe(EXIT_INTERNAL);
    expect(errors.join('\n')).toBe(
      'paas-vending: unexpected error: boom\nThis is a bug in paas-vending; please report it with the command you ran.',
    );
  });
  const errors: string[] = [];

  test('a directory that does not exist', () => {
    const result = cli(['validate', '/nonexistent-fleet']);
    expect(result).toMatchObject({ code: EXIT_INVALID });
    expect(result.err).toContain(
      '/nonexistent-fleet: is not a directory; expected a fleet directory with platform.yaml and customers/',
    );
  });
});

describe('paas-vending list', () => {
  test('a table of the bundled fleet with ingress, database, instance type and capacity', () => {
    const result = cli(['list', BUNDLED_FLEET]);
    expect(result.code).toBe(EXIT_OK);
    const lines = result.out.split('\n');
    expect(lines[0].split(/\s{2,}/)).toEqual([
      'CUSTOMER',
      'ENVIRONMENT',
      'HOSTNAME',
      'INGRESS',
      'DATABASE',
      'INSTANCE',
      'CAPACITY',
    ]);
    const rows = lines.slice(1, 7).map((l) => l.split(/\s{2,}/));
    // Its own load balancer serves the custom domain only: the platform host name is not shown.
    expect(rows[0]).toEqual([
      'acme',
      'production',
      'www.acme.com',
      'dedicated',
      'postgres 16 multi-AZ',
      't3.small',
      '2-6',
    ]);
    expect(rows[1]).toEqual([
      'acme',
      'staging',
      'acme-staging.apps.example.com',
      'shared',
      'mysql 8.0',
      't3.micro',
      '1-2',
    ]);
    expect(rows[5]).toEqual([
      'piedpiper',
      'development',
      'piedpiper-development.apps.example.com',
      'shared',
      '-',
      't3.micro',
      '0-1',
    ]);
    expect(result.out).toContain('6 customer environment(s) on platform vending (eu-west-1).');
  });

  test('--json gives the same facts as data', () => {
    const rows = JSON.parse(cli(['list', BUNDLED_FLEET, '--json']).out);
    expect(rows).toHaveLength(6);
    expect(rows[0]).toEqual({
      customer: 'acme',
      environment: 'production',
      hostname: null,
      hosts: ['www.acme.com'],
      ingress: 'dedicated',
      database: { engine: 'postgres', version: '16', multiAz: true },
      instanceType: 't3.small',
      minCapacity: 2,
      maxCapacity: 6,
      file: expect.stringMatching(/examples\/fleet\/customers\/acme-production\.yaml$/),
    });
    // A custom domain outside production stays on the shared load balancer.
    const dir = writeFleet(platform(), { 'acme-staging.yaml': { ...productionCustomer(), environment: 'staging' } });
    expect(JSON.parse(cli(['list', dir, '--json']).out)[0]).toMatchObject({
      ingress: 'shared',
      hostname: 'acme-staging.apps.example.com',
      hosts: ['www.acme.com', 'acme-staging.apps.example.com'],
    });
  });

  test('an invalid fleet exits 1', () => {
    const dir = writeFleet({ ...platform(), account: 'x' }, {});
    expect(cli(['list', dir, '--json'])).toMatchObject({ code: EXIT_INVALID, out: '' });
  });
});

describe('paas-vending init', () => {
  /** The starter with each placeholder replaced by a value a user would write. */
  const replaced = (text: string) =>
    text
      .replace(/"<REPLACE: [^>]*e-mail[^>]*>"/g, 'ops@newco.example')
      .replace(/<REPLACE: [^>]*connection id[^>]*>/g, '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d');

  test.each([['production'], ['staging']])(
    'writes a commented %s starter that fails validation, naming each placeholder, until they are replaced',
    (environment) => {
      const dir = writeFleet(platform(), {});
      const result = cli(['init', 'newco', environment, dir]);
      expect(result.code).toBe(EXIT_OK);
      const file = join(dir, 'customers', `newco-${environment}.yaml`);
      expect(result.out).toContain(`newco-${environment}.yaml`);
      expect(result.out).toContain('replace each <REPLACE: …> placeholder');
      const text = readFileSync(file, 'utf-8');
      expect(text).toMatch(/^# yaml-language-server: \$schema=.*schema\/customer-config\.schema\.json$/m);
      // The schema path written for editors really points at the schema.
      const schemaPath = text.split('\n')[0].split('$schema=')[1];
      expect(JSON.parse(readFileSync(join(dir, 'customers', schemaPath), 'utf-8')).title).toBe(
        'cdk-paas-vending customer environment',
      );

      const before = cli(['validate', dir]);
      expect(before.code).toBe(EXIT_INVALID);
      const placeholders = environment === 'production' ? 2 : 1;
      expect(before.err).toMatch(new RegExp(`^Invalid config \\(${placeholders} problems?\\):`));
      expect(before.err).toMatch(
        /customers\/newco-\w+\.yaml:\d+:\d+: software\.repository\.connectionArn: received the placeholder "<REPLACE: connection id>"; expected a real value in its place/,
      );
      if (environment === 'production') {
        expect(before.err).toMatch(
          /customers\/newco-production\.yaml:\d+:\d+: approvalEmails\[0\]: received the placeholder "<REPLACE: an approver's e-mail address>"; expected a real value in its place/,
        );
      }

      writeFileSync(file, replaced(text));
      expect(cli(['validate', dir])).toMatchObject({ code: EXIT_OK, err: '' });
      const config = ConfigLoader.loadCustomerFile(file, {
        platform: ConfigLoader.loadPlatformFile(join(dir, 'platform.yaml')),
      });
      expect(config.hostname).toBe(`newco-${environment}.apps.example.com`);
    },
  );

  test('a placeholder left in a commented block fails once the block is uncommented', () => {
    const dir = writeFleet(platform(), {});
    expect(cli(['init', 'newco', 'production', dir]).code).toBe(EXIT_OK);
    const file = join(dir, 'customers', 'newco-production.yaml');
    const text = replaced(readFileSync(file, 'utf-8'))
      .replace('# customDomain:', 'customDomain:')
      .replace(/# {3}(name|certificateArn): /g, '  $1: ');
    writeFileSync(file, text);
    const result = cli(['validate', dir]);
    expect(result.code).toBe(EXIT_INVALID);
    expect(result.err).toMatch(
      /customDomain\.certificateArn: received the placeholder "<REPLACE: certificate id>"; expected a real value/,
    );
  });

  test('only a production starter asks for approvers, by the environments the platform declares', () => {
    const dir = writeFleet(
      {
        ...platform(),
        environments: [
          { name: 'production', production: true },
          { name: 'staging' },
          { name: 'live', production: true },
        ],
      },
      {},
    );
    const starter = (environment: string) => {
      expect(cli(['init', 'newco', environment, dir]).code).toBe(EXIT_OK);
      return readFileSync(join(dir, 'customers', `newco-${environment}.yaml`), 'utf-8');
    };
    expect(starter('staging')).not.toMatch(/^approvalEmails:/m);
    expect(starter('live')).toMatch(/^approvalEmails: /m);
    expect(starter('production')).toMatch(/^approvalEmails: /m);
  });

  test('uses the platform region and account, refuses to overwrite, and --force overwrites', () => {
    const dir = writeFleet(
      {
        ...platform(),
        region: 'us-west-2',
        account: '210987654321',
        certificateArn: 'arn:aws:acm:us-west-2:210987654321:certificate/11111111-2222-3333-4444-555555555555',
      },
      {},
    );
    expect(cli(['init', 'newco', 'staging', dir]).code).toBe(EXIT_OK);
    const file = join(dir, 'customers', 'newco-staging.yaml');
    expect(readFileSync(file, 'utf-8')).toContain('arn:aws:codeconnections:us-west-2:210987654321:connection/');
    writeFileSync(file, 'edited');
    const again = cli(['init', 'newco', 'staging', dir]);
    expect(again).toMatchObject({ code: EXIT_INVALID });
    expect(again.err).toMatch(/newco-staging\.yaml already exists; use --force to overwrite it\.$/);
    expect(readFileSync(file, 'utf-8')).toBe('edited');
    expect(cli(['init', 'newco', 'staging', dir, '--force']).code).toBe(EXIT_OK);
    expect(readFileSync(file, 'utf-8')).not.toBe('edited');
  });

  test('without a platform file it still writes a starter, valid once its placeholders are replaced, into the current directory', () => {
    const dir = mkdtempSync(join(tmpdir(), 'init-'));
    expect(cli(['init', 'newco', 'staging'], dir).code).toBe(EXIT_OK);
    const file = join(dir, 'customers', 'newco-staging.yaml');
    writeFileSync(file, replaced(readFileSync(file, 'utf-8')));
    expect(ConfigLoader.loadCustomerFile(file).customer).toBe('newco');
  });

  test('names are checked before they become a path: no file is written outside customers/', () => {
    const dir = mkdtempSync(join(tmpdir(), 'init-'));
    const result = cli(['init', 'acme #/../../../x', 'staging', dir]);
    expect(result.code).toBe(EXIT_INVALID);
    expect(result.err).toContain(
      'paas-vending init: customer: received "acme #/../../../x"; expected 3 to 32 lower-case letters',
    );
    expect(readdirSync(dir)).toEqual([]);
    expect(cli(['init', 'acme', 'staging #x', dir]).err).toContain('environment: received "staging #x"');
    expect(readdirSync(dir)).toEqual([]);
  });

  test('a customer or environment name that breaks the rules is refused with the rule', () => {
    const dir = mkdtempSync(join(tmpdir(), 'init-'));
    const result = cli(['init', 'New_Co', 'Prod', dir]);
    expect(result.code).toBe(EXIT_INVALID);
    expect(result.err).toContain('customer: received "New_Co"; expected 3 to 32 lower-case letters');
    expect(result.err).toContain('environment: received "Prod"; expected 2 to 16 lower-case letters or digits');
  });
});

describe('paas-vending check-appspec', () => {
  const EXAMPLE_APP = join(__dirname, '../../examples/customer-app');
  const ARTICLE = join(__dirname, '../appspec/fixtures/article-appspec.yml');

  test('the example application is valid, with its folder as the revision root', () => {
    const result = cli(['check-appspec', join(EXAMPLE_APP, 'appspec.yml')]);
    expect(result).toMatchObject({ code: EXIT_OK, err: '' });
    expect(result.out).toMatch(
      /^Valid: .*examples\/customer-app\/appspec\.yml \(revision root .*examples\/customer-app\)\.$/,
    );
  });

  test('the sample of the article is invalid: every problem as file:line:column: field: message', () => {
    const result = cli(['check-appspec', ARTICLE]);
    expect(result).toMatchObject({ code: EXIT_INVALID, out: '' });
    const lines = result.err.split('\n');
    expect(lines[0]).toBe('Invalid AppSpec file (15 problems):');
    expect(lines).toHaveLength(16);
    expect(lines).toContain(
      '  test/appspec/fixtures/article-appspec.yml:4:7: files[0].destination: is missing; expected the directory on the instance to copy source into, such as /var/www/html',
    );
    expect(lines).toContain(
      '  test/appspec/fixtures/article-appspec.yml:5:1: received a Markdown code fence (```); expected YAML only: delete this line (was the file copied from a web page?)',
    );
    expect(lines).toContain(
      `  test/appspec/fixtures/article-appspec.yml:28:1: timeout: received the key "timeout" at the top level, a key of a hook script; expected it indented under the script's location (line 26), at column 3`,
    );
    // The scripts of the sample are not beside it: they are reported once the YAML is fixed.
    expect(result.err).not.toContain('does not exist');
  });

  test('--json prints the problems as data, and [] for a valid file', () => {
    const invalid = cli(['check-appspec', ARTICLE, '--json']);
    expect(invalid.code).toBe(EXIT_INVALID);
    const problems = JSON.parse(invalid.out);
    expect(problems).toHaveLength(15);
    expect(problems[0]).toEqual({
      file: 'test/appspec/fixtures/article-appspec.yml',
      line: 4,
      column: 7,
      path: 'files[0].destination',
      message: 'is missing; expected the directory on the instance to copy source into, such as /var/www/html',
    });
    expect(cli(['check-appspec', join(EXAMPLE_APP, 'appspec.yml'), '--json'])).toEqual({
      code: EXIT_OK,
      out: '[]',
      err: '',
    });
  });

  test('--root names the revision: its scripts must be there', () => {
    const dir = mkdtempSync(join(tmpdir(), 'revision-'));
    mkdirSync(join(dir, 'site'));
    const result = cli(['check-appspec', join(EXAMPLE_APP, 'appspec.yml'), '--root', dir]);
    expect(result.code).toBe(EXIT_INVALID);
    expect(result.err).toMatch(/^Invalid AppSpec file \(5 problems\):/);
    expect(result.err).toContain(
      `appspec.yml:12:13: files[1].source: received "config/httpd/customer-app.conf"; expected a file or directory of the revision, but ${join(dir, 'config/httpd/customer-app.conf')} does not exist`,
    );
    expect(result.err).toContain(`hooks.BeforeInstall[0].location: received "deployScript/beforeInstall.sh"`);
  });

  test('a relative FILE and --root are read from the current directory', () => {
    expect(cli(['check-appspec', 'appspec.yml', '--root', '.'], EXAMPLE_APP).code).toBe(EXIT_OK);
  });

  test.each([
    [
      ['check-appspec', '/nowhere/appspec.yml'],
      '/nowhere/appspec.yml: cannot be read: no such file; expected the appspec.yml of a revision',
    ],
    [
      ['check-appspec', tmpdir()],
      `${tmpdir()}: is not a regular file (a directory); expected the appspec.yml of a revision`,
    ],
    [
      ['check-appspec', ARTICLE, '--root', '/nowhere'],
      '/nowhere: is not a directory; expected the root of the revision (--root)',
    ],
  ])('%j: a clear message, exit 1', (argv, message) => {
    expect(cli(argv)).toEqual({ code: EXIT_INVALID, out: '', err: message });
  });
});

describe('usage', () => {
  test.each([
    [['validate', '--help'], 'Usage: paas-vending validate [DIR] [--allow-empty] [--no-cache]'],
    [['list', '-h'], 'Usage: paas-vending list [DIR] [--json] [--no-cache]'],
    [['init', '--help'], 'Usage: paas-vending init CUSTOMER ENVIRONMENT [DIR] [--force]'],
    [['check-appspec', '--help'], 'Usage: paas-vending check-appspec FILE [--root DIR] [--json]'],
    [
      ['diagram', '-h'],
      'Usage: paas-vending diagram [DIR] [--customer C] [--environment E] [--format mermaid|svg] [--out FILE]',
    ],
    [['--help'], 'Usage: paas-vending <command> [options]'],
  ])('%j prints help and exits 0', (argv, first) => {
    const result = cli(argv);
    expect(result.code).toBe(EXIT_OK);
    expect(result.out.split('\n')[0]).toBe(first);
    expect(result.out).toContain('Exit codes:');
  });

  test.each([
    [
      ['apply'],
      'paas-vending: unknown command "apply"; expected validate, list, synth, diff, deploy, cost, offboard, init, check-appspec or diagram',
    ],
    [
      ['check-appspec'],
      'paas-vending: check-appspec: expected FILE, such as: paas-vending check-appspec build/revision/appspec.yml',
    ],
    [['check-appspec', 'appspec.yml', '--root'], "paas-vending: Option '--root <value>' argument missing"],
    [['check-appspec', 'a.yml', 'b.yml'], 'paas-vending: check-appspec: unexpected argument "b.yml"'],
    [['list', '--yaml'], "paas-vending: Unknown option '--yaml'"],
    [['validate', 'a', 'b'], 'paas-vending: validate: unexpected argument "b"'],
    [
      ['init', 'acme'],
      'paas-vending: init: expected CUSTOMER and ENVIRONMENT, such as: paas-vending init acme staging',
    ],
  ])('%j is a usage error (exit 2)', (argv, message) => {
    const result = cli(argv);
    expect(result.code).toBe(EXIT_USAGE);
    expect(result.err).toContain(message);
    expect(result.err).toContain('Run "paas-vending --help" for usage.');
  });

  test('no command prints help and exits 2; --version prints the package version, and says when it is no release', () => {
    expect(cli([])).toMatchObject({ code: EXIT_USAGE, out: '', err: expect.stringContaining('Commands:') });
    const version = JSON.parse(readFileSync(join(__dirname, '../../package.json'), 'utf-8')).version;
    expect(cli(['--version'])).toMatchObject({ code: EXIT_OK, out: versionText(version) });
    expect(versionText('0.0.0')).toBe(
      '0.0.0 (not a release: a build from a checkout; released packages carry their version, see CHANGELOG.md)',
    );
    expect(versionText('0.2.1')).toBe('0.2.1');
  });
});

describe('the installed entry point', () => {
  // The real bin script in a child process: exit codes and streams as a shell sees them.
  const main = join(__dirname, '../../src/cli/main.ts');
  const node = (args: string[], cwd = tmpdir()) =>
    spawnSync(process.execPath, ['-r', require.resolve('ts-node/register/transpile-only'), main, ...args], {
      cwd,
      encoding: 'utf-8',
      env: { ...process.env, TS_NODE_PROJECT: join(__dirname, '../../tsconfig.dev.json') },
    });

  test('exit codes and streams', () => {
    const ok = node(['list', BUNDLED_FLEET]);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toContain('acme       production');
    const dir = writeFleet(platform(), { 'a.yaml': 'customer: [' });
    const bad = node(['validate', dir]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/customers\/a\.yaml:1:\d+: YAML syntax error/);
    expect(bad.stderr).not.toMatch(/at .*\.ts:\d+/); // no stack trace
    expect(node(['nope']).status).toBe(2);
    const appspec = node(['check-appspec', join(__dirname, '../appspec/fixtures/article-appspec.yml')]);
    expect(appspec.status).toBe(1);
    expect(appspec.stderr).toMatch(/article-appspec\.yml:5:1: received a Markdown code fence/);
    // deploy, the asynchronous command: main.ts waits for its exit code.
    const deployHelp = node(['deploy', '--help']);
    expect(deployHelp.status).toBe(0);
    expect(deployHelp.stdout).toMatch(/^Usage: paas-vending deploy /);
    const deployBad = node(['deploy', BUNDLED_FLEET, '--shard', '3/2']);
    expect(deployBad.status).toBe(2);
    expect(deployBad.stderr).toMatch(/^paas-vending: deploy: --shard: received "3\/2"; expected I\/N/);
  });

  test('the bin script starts with a shebang', () => {
    expect(execFileSync('head', ['-1', main], { encoding: 'utf-8' }).trim()).toBe('#!/usr/bin/env node');
  });

  test('config files written with stringify round-trip through validate', () => {
    const dir = writeFleet(stringify(platform()), { 'acme-staging.yaml': stringify(stagingCustomer()) });
    expect(node(['validate', dir]).status).toBe(0);
  });
});
