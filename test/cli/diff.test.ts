/*
 * paas-vending diff: what a change to the fleet replaces, adds or removes, offline, before deploy; a production
 * database, bucket, key or load balancer replaced or deleted fails it unless --allow-replacement.
 */
import { execFileSync } from 'child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { run } from '../../src/cli/cli';

const FLEET = join(__dirname, '..', '..', 'examples', 'fleet');

let repo: string;
let fleet: string;

function cli(...argv: string[]): { code: number; out: string; err: string } {
  const out: string[] = [];
  const err: string[] = [];
  const code = run(argv, { out: (t) => out.push(t), err: (t) => err.push(t), cwd: repo });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

function edit(file: string, from: string | RegExp, to: string): void {
  const path = join(fleet, 'customers', file);
  const text = readFileSync(path, 'utf-8');
  const next = text.replace(from, to);
  expect(next).not.toBe(text);
  writeFileSync(path, next);
}

beforeEach(() => {
  repo = mkdtempSync(join(tmpdir(), 'diff-'));
  fleet = join(repo, 'fleet');
  cpSync(FLEET, fleet, { recursive: true });
  const git = (...argv: string[]) =>
    execFileSync('git', ['-C', repo, '-c', 'user.email=t@example.com', '-c', 'user.name=t', ...argv], {
      stdio: 'pipe',
    });
  git('init', '-q');
  git('add', '.');
  git('commit', '-q', '-m', 'fleet');
});
afterEach(() => rmSync(repo, { recursive: true, force: true }));

test('a production database replaced (a new master user name) fails against HEAD, unless --allow-replacement', () => {
  edit('acme-production.yaml', 'masterUsername: app_admin', 'masterUsername: app_owner');
  const refused = cli('diff', fleet, '--stack', 'acme-production');
  expect(refused.out).toMatch(
    /^acme-production:\n {2}replaced\s+AWS::RDS::DBInstance\s+WebDatabase\w+ {2}\[production data\]/m,
  );
  expect(refused.err).toMatch(
    /diff: 1 production resource\(s\) holding data or an address would be replaced or deleted: acme-production AWS::RDS::DBInstance WebDatabase\w+ \(replaced\); expected none: .*--allow-replacement/,
  );
  expect(refused.code).toBe(1);
  const allowed = cli('diff', fleet, '--stack', 'acme-production', '--allow-replacement');
  expect(allowed.code).toBe(0);
  expect(allowed.out).toMatch(/1 resource\(s\) replaced/);
  // Nothing in the fleet directory was written.
  expect(execFileSync('git', ['-C', repo, 'status', '--porcelain'], { encoding: 'utf-8' }).trim()).toBe(
    'M fleet/customers/acme-production.yaml',
  );
});

test('outside production a replacement is listed and allowed; no change says so', () => {
  expect(cli('diff', fleet, '--stack', 'acme-staging').out).toMatch(
    /^No change to any stack's resources against HEAD\./,
  );
  edit('acme-staging.yaml', 'version: "8.0"', 'version: "8.0"\n  masterUsername: app_owner');
  const result = cli('diff', fleet, '--stack', 'acme-staging', '--json');
  expect(result.code).toBe(0);
  const report = JSON.parse(result.out);
  expect(report.changes).toEqual(
    expect.arrayContaining([
      expect.objectContaining({
        stack: 'acme-staging',
        type: 'AWS::RDS::DBInstance',
        change: 'replaced',
        blocked: false,
      }),
    ]),
  );
});

test('production leaving its dedicated load balancer: the load balancer removed is refused, the DNS target change shown', () => {
  edit('acme-production.yaml', /customDomain:\n(\s+.*\n){2}/, '');
  const result = cli('diff', fleet, '--stack', 'acme-production');
  expect(result.code).toBe(1);
  expect(result.out).toMatch(/removed\s+AWS::ElasticLoadBalancingV2::LoadBalancer\s+\w+ {2}\[production data\]/);
  expect(result.out).toMatch(
    /DNS target changes: acme-production: \w*LoadBalancerDnsName\w*: \{"Fn::GetAtt":\["WebLoadBalancer\w+","DNSName"\]\} -> .*PlatformLoadBalancer1DnsName/,
  );
});

test('against a previous cloud assembly: new stacks and stacks no longer in the fleet', () => {
  const assembly = join(repo, 'before.out');
  expect(cli('synth', fleet, '--out', assembly).code).toBe(0);
  rmSync(join(fleet, 'customers', 'hooli-staging.yaml'));
  cpSync(join(fleet, 'customers', 'acme-staging.yaml'), join(fleet, 'customers', 'zeta-staging.yaml'));
  edit('zeta-staging.yaml', /acme/g, 'zeta');
  const result = cli('diff', fleet, '--against', assembly, '--allow-replacement');
  expect(result.code).toBe(0);
  expect(result.out).toMatch(/^\+ zeta-staging: a new stack$/m);
  expect(result.out).toMatch(
    /^- hooli-staging: no longer in the fleet \(a deploy does not delete it; cdk destroy hooli-staging does\)$/m,
  );
});

test('an --against that is neither a directory nor a commit is a usage error naming what is expected', () => {
  const result = cli('diff', fleet, '--against', 'no-such-ref', '--stack', 'acme-staging');
  expect(result.code).toBe(2);
  expect(result.err).toMatch(
    /--against no-such-ref: not a directory, and not a commit of the git repository .*; expected a cloud assembly directory, a fleet directory or a git ref/,
  );
});
