/**
 * The example customer application (examples/customer-app/): what a customer copies into their
 * repository. Its hook scripts pass bash -n and shellcheck and do what they say against stand-ins for
 * httpd and systemd; its buildspec is run for real, with bash, the way CodeBuild runs it, and the
 * revision it produces (not the source folder) is what the appspec checker must accept.
 */
import { execFile, spawnSync, SpawnSyncReturns } from 'child_process';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'fs';
import { createServer, Server } from 'http';
import { AddressInfo } from 'net';
import { tmpdir } from 'os';
import { join, relative } from 'path';
import { parse } from 'yaml';
import { checkAppSpec } from '../../src/appspec/appspec';
import { toolPath } from '../support/tools';

const APP = join(__dirname, '..', '..', 'examples', 'customer-app');
const SCRIPTS = readdirSync(join(APP, 'deployScript'))
  .filter((f) => f.endsWith('.sh'))
  .sort();
const COMMIT = '0123456789abcdef0123456789abcdef01234567';

function run(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  return spawnSync(command, args, { encoding: 'utf-8', timeout: 60_000, ...options });
}

/** Fails (never skips) when a tool the tests need is missing, saying how to get it. */
function requireTool(tool: string, install: string): void {
  if (run('sh', ['-c', `command -v ${tool}`]).status !== 0) {
    throw new Error(`${tool} is not installed; ${install}`);
  }
}

function explain(result: SpawnSyncReturns<string>): string {
  return `exit ${result.status}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`;
}

/** The permission bits of a file, in octal, such as 644. */
const mode = (path: string) => statSync(path).mode.toString(8).slice(-3);

/** Every file under a directory, as relative paths. */
function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const full = join(d, entry.name);
      if (entry.isDirectory()) walk(full);
      else out.push(relative(dir, full));
    }
  };
  walk(dir);
  return out.sort();
}

/** A CodeBuild artifact `files` pattern as a regular expression (`**` any depth, `*` within a name). */
function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    if (glob.startsWith('**/', i)) {
      re += '(?:.*/)?';
      i += 2;
    } else if (glob[i] === '*') {
      re += '[^/]*';
    } else {
      re += glob[i].replace(/[.+?^${}()|[\]\\]/g, '\\$&');
    }
  }
  return new RegExp(`^${re}$`);
}

interface BuildSpec {
  version: number;
  env?: { shell?: string; variables?: Record<string, string> };
  phases: Record<string, { commands: string[] }>;
  artifacts: { 'base-directory': string; files: string[] };
}

const buildspec = (): BuildSpec => parse(readFileSync(join(APP, 'buildspec.yml'), 'utf-8'));

/**
 * Runs the buildspec's phases in a copy of the application, as CodeBuild does with version 0.2: the
 * commands of every phase in one bash shell (env.shell), in order, stopping at the first failing
 * command (bash -e), with the buildspec's variables and CodeBuild's own. CodeBuild also runs
 * post_build after a failed build; this stops at the failure instead, which is all a test needs.
 */
function runBuildSpec(dir: string): SpawnSyncReturns<string> {
  const spec = buildspec();
  const script = ['set -e']
    .concat(
      ['install', 'pre_build', 'build', 'post_build'].flatMap((phase) => [
        `echo "== phase ${phase}"`,
        ...spec.phases[phase].commands,
      ]),
    )
    .join('\n');
  return run('bash', ['-c', script], {
    cwd: dir,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      ...spec.env?.variables,
      CODEBUILD_SRC_DIR: dir,
      CODEBUILD_RESOLVED_SOURCE_VERSION: COMMIT,
      CODEBUILD_BUILD_NUMBER: '42',
      CODEBUILD_BUILD_SUCCEEDING: '1',
    },
  });
}

function copyOfApp(): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'customer-app-')), 'repo');
  cpSync(APP, dir, { recursive: true });
  return dir;
}

describe('the hook scripts', () => {
  test.each(SCRIPTS)('%s passes bash -n and shellcheck', (script) => {
    const path = join(APP, 'deployScript', script);
    const syntax = run('bash', ['-n', path]);
    expect(syntax.stderr).toBe('');
    expect(syntax.status).toBe(0);
    const lint = run(toolPath('shellcheck'), ['--shell=bash', '--severity=style', path]);
    expect(lint.stdout).toBe('');
    expect(lint.status).toBe(0);
  });

  test.each(SCRIPTS)('%s starts with #!/bin/bash and set -euo pipefail, and has Unix line endings', (script) => {
    const text = readFileSync(join(APP, 'deployScript', script), 'utf-8');
    expect(text.split('\n')[0]).toBe('#!/bin/bash');
    expect(text).toMatch(/^set -euo pipefail$/m);
    expect(text).not.toContain('\r');
  });

  test('appspec.yml runs every script, and only scripts that exist', () => {
    const appspec = parse(readFileSync(join(APP, 'appspec.yml'), 'utf-8'));
    const locations = Object.values(appspec.hooks as Record<string, { location: string }[]>).flatMap((scripts) =>
      scripts.map((s) => s.location),
    );
    expect(locations.sort()).toEqual(SCRIPTS.map((s) => `deployScript/${s}`));
  });
});

describe('buildspec.yml', () => {
  let repo: string;
  let build: SpawnSyncReturns<string>;
  let revision: string;

  beforeAll(() => {
    requireTool('python3', 'install it (apt-get install python3, as CI does): the buildspec checks the site with it');
    repo = copyOfApp();
    build = runBuildSpec(repo);
    revision = join(repo, buildspec().artifacts['base-directory']);
  });

  test('is a CodeBuild 0.2 buildspec with the four phases and an artifact', () => {
    const spec = buildspec();
    expect(spec.version).toBe(0.2);
    expect(spec.env?.shell).toBe('bash');
    expect(Object.keys(spec.phases)).toEqual(['install', 'pre_build', 'build', 'post_build']);
    for (const phase of Object.values(spec.phases)) expect(phase.commands.length).toBeGreaterThan(0);
    expect(spec.artifacts).toEqual({ 'base-directory': 'build/revision', files: ['**/*'] });
  });

  test('runs: every phase succeeds', () => {
    if (build.status !== 0) throw new Error(`the buildspec failed: ${explain(build)}`);
    expect(build.stdout).toContain('3 page(s) checked');
    expect(build.stdout).toMatch(/== phase post_build\n(.*\n)*build\/revision\/appspec\.yml\n/);
  });

  test('the artifact is the revision CodeDeploy needs: appspec.yml at its root, site, settings and scripts', () => {
    const patterns = buildspec().artifacts.files.map(globToRegExp);
    const artifact = filesUnder(revision).filter((f) => patterns.some((p) => p.test(f)));
    expect(artifact).toEqual([
      'appspec.yml',
      'config/httpd/customer-app.conf',
      ...SCRIPTS.map((s) => `deployScript/${s}`),
      'site/404.html',
      'site/about.html',
      'site/css/site.css',
      'site/health',
      'site/index.html',
      'site/version.txt',
    ]);
    for (const script of SCRIPTS) {
      expect(mode(join(revision, 'deployScript', script))).toBe('755');
    }
  });

  test('the health page and version.txt name the commit built', () => {
    expect(readFileSync(join(revision, 'site', 'health'), 'utf-8')).toBe(`ok ${COMMIT.slice(0, 12)}\n`);
    expect(readFileSync(join(revision, 'site', 'version.txt'), 'utf-8')).toMatch(
      new RegExp(`^commit=${COMMIT}\nbuild=42\nbuilt=\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ\n$`),
    );
  });

  test('the appspec.yml of the revision passes check-appspec, with the revision as root', () => {
    const file = join(revision, 'appspec.yml');
    expect(checkAppSpec(readFileSync(file, 'utf-8'), { fileName: file, revisionRoot: revision })).toEqual([]);
  });

  test('a broken link fails the build in pre_build, before anything is packaged', () => {
    const broken = copyOfApp();
    const index = join(broken, 'site', 'index.html');
    writeFileSync(index, readFileSync(index, 'utf-8').replace('about.html', 'abuot.html'));
    const result = runBuildSpec(broken);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('index.html:12: abuot.html points at a file that does not exist');
    expect(result.stdout).not.toContain('== phase build');
    expect(existsSync(join(broken, 'build'))).toBe(false);
  });
});

describe('the hook scripts at work, against stand-ins for httpd and systemd', () => {
  /** A PATH of the given real tools, plus stand-ins that log their arguments to calls.log. */
  function sandbox(real: string[], fakes: Record<string, string> = {}) {
    const dir = mkdtempSync(join(tmpdir(), 'hook-'));
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    for (const tool of real) {
      symlinkSync(run('sh', ['-c', `command -v ${tool}`]).stdout.trim(), join(bin, tool));
    }
    for (const [tool, body] of Object.entries(fakes)) {
      writeFileSync(join(bin, tool), `#!/bin/sh\necho "${tool} $*" >>"${dir}/calls.log"\n${body}\n`);
      chmodSync(join(bin, tool), 0o755);
    }
    const calls = () => (existsSync(join(dir, 'calls.log')) ? readFileSync(join(dir, 'calls.log'), 'utf-8') : '');
    const hook = (script: string, env: Record<string, string> = {}) =>
      run('/bin/bash', [join(APP, 'deployScript', script)], {
        env: { PATH: bin, DEPLOYMENT_ID: 'd-TEST12345', ...env },
      });
    return { dir, calls, hook };
  }

  describe('beforeInstall.sh', () => {
    test('empties the document root, hidden files included, and removes only the site’s httpd settings', () => {
      const { dir, hook } = sandbox(['find', 'rm', 'mkdir', 'grep'], { httpd: 'exit 0' });
      const site = join(dir, 'html');
      mkdirSync(join(site, 'old', 'deep'), { recursive: true });
      writeFileSync(join(site, 'index.html'), 'old');
      writeFileSync(join(site, '.hidden'), 'x');
      writeFileSync(join(site, 'old', 'deep', 'page.html'), 'x');
      writeFileSync(join(site, 'version.txt'), `commit=${COMMIT}\nbuild=41\n`);
      const conf = join(dir, 'conf.d');
      mkdirSync(conf);
      writeFileSync(join(conf, 'customer-app.conf'), '#');
      writeFileSync(join(conf, 'ssl.conf'), '#');
      const result = hook('beforeInstall.sh', { SITE_ROOT: site, HTTPD_CONF_DIR: conf });
      expect(result.status).toBe(0);
      expect(result.stdout).toContain(`[BeforeInstall d-TEST12345] replacing commit=${COMMIT}`);
      expect(readdirSync(site)).toEqual([]);
      expect(readdirSync(conf)).toEqual(['ssl.conf']);
    });

    test('fails with a clear message when the AMI has no httpd', () => {
      const { dir, hook } = sandbox(['find', 'rm', 'mkdir', 'grep']);
      const result = hook('beforeInstall.sh', { SITE_ROOT: join(dir, 'html') });
      expect(result.status).toBe(1);
      expect(result.stderr).toContain('BeforeInstall failed: httpd is not installed on this instance');
      expect(existsSync(join(dir, 'html'))).toBe(false);
    });
  });

  describe('afterInstall.sh', () => {
    test('sets modes, hands the files to root and records the deployment', () => {
      const { dir, calls, hook } = sandbox(['find', 'chmod', 'mkdir', 'date', 'cat', 'wc'], { chown: 'exit 0' });
      const site = join(dir, 'html');
      mkdirSync(join(site, 'css'), { recursive: true });
      writeFileSync(join(site, 'index.html'), 'x');
      writeFileSync(join(site, 'version.txt'), `commit=${COMMIT}\n`);
      chmodSync(join(site, 'index.html'), 0o600);
      chmodSync(join(site, 'css'), 0o700);
      const state = join(dir, 'state');
      const result = hook('afterInstall.sh', { SITE_ROOT: site, STATE_DIR: state, DEPLOYMENT_GROUP_NAME: 'acme-prod' });
      expect(result.status).toBe(0);
      expect(calls()).toBe(`chown -R root:root ${site}\n`);
      expect(mode(join(site, 'index.html'))).toBe('644');
      expect(mode(join(site, 'css'))).toBe('755');
      expect(readFileSync(join(state, 'deployed'), 'utf-8')).toMatch(
        new RegExp(`^deployment=d-TEST12345\ndeployment_group=acme-prod\ninstalled=\\S+Z\ncommit=${COMMIT}\n$`),
      );
      expect(result.stdout).toContain('installed 2 files');
    });

    test("on a platform's instance it writes the application's settings for httpd first", () => {
      const { dir, calls, hook } = sandbox(['find', 'chmod', 'mkdir', 'date', 'cat', 'wc'], {
        chown: 'exit 0',
        'vending-app-env': 'exit 0',
      });
      const site = join(dir, 'html');
      mkdirSync(site, { recursive: true });
      writeFileSync(join(site, 'index.html'), 'x');
      const result = hook('afterInstall.sh', { SITE_ROOT: site, STATE_DIR: join(dir, 'state') });
      expect(result.status).toBe(0);
      expect(calls()).toBe(`chown -R root:root ${site}\nvending-app-env --owner apache\n`);
      expect(result.stdout).toContain('application settings written to /etc/vending/app.env');
    });

    test('a failing vending-app-env (a declared secret not put) fails the deployment', () => {
      const { dir, hook } = sandbox(['find', 'chmod', 'mkdir'], { chown: 'exit 0', 'vending-app-env': 'exit 1' });
      const site = join(dir, 'html');
      mkdirSync(site, { recursive: true });
      writeFileSync(join(site, 'index.html'), 'x');
      const result = hook('afterInstall.sh', { SITE_ROOT: site, STATE_DIR: join(dir, 'state') });
      expect(result.status).toBe(1);
      expect(existsSync(join(dir, 'state', 'deployed'))).toBe(false);
    });

    test('fails when the revision had no site', () => {
      const { dir, hook } = sandbox(['find'], { chown: 'exit 0' });
      mkdirSync(join(dir, 'html'));
      const result = hook('afterInstall.sh', { SITE_ROOT: join(dir, 'html') });
      expect(result.status).toBe(1);
      expect(result.stderr).toContain('index.html is missing');
    });
  });

  describe('applicationStart.sh', () => {
    test.each([
      [
        'reloads a running httpd',
        'exit 0',
        'systemctl enable httpd.service\nsystemctl is-active --quiet httpd.service\nsystemctl reload httpd.service\n',
        'httpd reloaded',
      ],
      [
        'starts a stopped httpd',
        '[ "$1" = is-active ] && exit 3; exit 0',
        'systemctl enable httpd.service\nsystemctl is-active --quiet httpd.service\nsystemctl start httpd.service\n',
        'httpd started',
      ],
    ])('%s, after testing its configuration', (_name, systemctl, expected, said) => {
      const { calls, hook } = sandbox([], { apachectl: 'echo "Syntax OK"', systemctl });
      const result = hook('applicationStart.sh');
      expect(result.status).toBe(0);
      expect(calls()).toBe(`apachectl configtest\n${expected}`);
      expect(result.stdout).toContain(`[ApplicationStart d-TEST12345] ${said}`);
    });

    test('a broken configuration fails the deployment with httpd’s message, and httpd is left alone', () => {
      const { calls, hook } = sandbox([], {
        apachectl: 'echo "AH00526: Syntax error on line 3 of customer-app.conf" >&2; exit 1',
        systemctl: 'exit 0',
      });
      const result = hook('applicationStart.sh');
      expect(result.status).toBe(1);
      expect(result.stderr).toContain(
        'ApplicationStart failed: the httpd configuration is invalid:\nAH00526: Syntax error',
      );
      expect(calls()).toBe('apachectl configtest\n');
    });
  });

  describe('validateService.sh', () => {
    let server: Server;
    let base: string;
    let site: string;

    beforeAll(async () => {
      toolPath('curl');
      site = mkdtempSync(join(tmpdir(), 'site-'));
      writeFileSync(join(site, 'health'), `ok ${COMMIT.slice(0, 12)}\n`);
      writeFileSync(join(site, 'starting'), 'starting\n');
      server = createServer((req, res) => {
        const file = join(site, new URL(req.url ?? '/', 'http://x').pathname);
        if (existsSync(file) && statSync(file).isFile()) res.writeHead(200).end(readFileSync(file));
        else res.writeHead(404).end('not found\n');
      });
      await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(() => new Promise<void>((done) => server.close(() => done())));

    /** Runs the hook without blocking the event loop: the server above answers in this process. */
    const validate = (env: Record<string, string>) =>
      new Promise<{ status: number; stdout: string; stderr: string }>((done) => {
        execFile(
          '/bin/bash',
          [join(APP, 'deployScript', 'validateService.sh')],
          { env: { PATH: process.env.PATH, DEPLOYMENT_ID: 'd-TEST12345', ...env }, timeout: 30_000 },
          (error, stdout, stderr) => done({ status: error ? Number(error.code) : 0, stdout, stderr }),
        );
      });

    test('passes as soon as /health answers 200 with ok', async () => {
      const result = await validate({ HEALTH_URL: `${base}/health` });
      expect(result).toEqual({
        status: 0,
        stdout: `[ValidateService d-TEST12345] healthy after 1 attempt(s): ${base}/health answered 200: ok ${COMMIT.slice(0, 12)}\n`,
        stderr: '',
      });
    });

    test('retries until the deadline, then fails with the last answer', async () => {
      // Bash's SECONDS ticks in whole seconds from the shell's start: a 1-second deadline can end after one try.
      const result = await validate({ HEALTH_URL: `${base}/starting`, DEADLINE_SECONDS: '3', RETRY_SECONDS: '0.2' });
      expect(result.status).toBe(1);
      expect(result.stderr).toMatch(
        new RegExp(
          `^ValidateService failed: ${base}/starting did not answer 200 with a body starting with "ok" within 3 seconds \\(([2-9]|[1-9]\\d+) attempt\\(s\\); last: HTTP 200: starting\\)\\. See /var/log/httpd/error_log on the instance\\.\n$`,
        ),
      );
    });

    test('says when nothing answers at all, or the page is missing', async () => {
      const closed = await validate({ HEALTH_URL: 'http://127.0.0.1:9/health', DEADLINE_SECONDS: '0' });
      expect(closed.status).toBe(1);
      expect(closed.stderr).toContain('(1 attempt(s); last: nothing answered)');
      const missing = await validate({ HEALTH_URL: `${base}/nope`, DEADLINE_SECONDS: '0' });
      expect(missing.stderr).toContain('(1 attempt(s); last: HTTP 404: not found)');
    });
  });
});
