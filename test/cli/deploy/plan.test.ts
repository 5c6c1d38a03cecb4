/*
 * paas-vending deploy --plan on copies of the example fleet: which stacks a change selects against the state a
 * deploy recorded (a platform change, one customer file, the library version, a removed file), the waves, --json.
 */
import { execFileSync } from 'child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { run } from '../../../src/cli/cli';
import { deployCommand, DeployHooks } from '../../../src/cli/deploy/deploy-command';
import type { StackDeployer } from '../../../src/cli/deploy/waves';

const EXAMPLE = join(__dirname, '..', '..', '..', 'examples', 'fleet');
const ALL = [
  'vending-platform',
  'acme-staging',
  'hooli-staging',
  'piedpiper-development',
  'acme-production',
  'globex-production',
  'initech-production',
];

let work: string;
let fleet: string;
let state: string;

async function deploy(argv: string[], hooks: DeployHooks = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await deployCommand(argv, { out: (t) => out.push(t), err: (t) => err.push(t), cwd: work }, hooks);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** A deployer that deploys everything it is asked to. */
const accepting: DeployHooks = {
  deployer: (): StackDeployer => ({ deploy: async () => ({ result: 'deployed' }) }),
};

async function planOf(argv: string[], hooks: DeployHooks = {}) {
  const result = await deploy([fleet, '--plan', '--json', ...argv], hooks);
  expect(result.code).toBe(0);
  return JSON.parse(result.out);
}

function selected(plan: any): Record<string, string[]> {
  return Object.fromEntries(plan.waves.flatMap((w: any) => w.stacks.map((s: any) => [s.stack, s.reasons])));
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'deploy-plan-'));
  fleet = join(work, 'fleet');
  state = join(work, 'state');
  cpSync(EXAMPLE, fleet, { recursive: true });
  // The first deploy of the fleet, recorded in the state.
  const first = await deploy([fleet, '--state', state, '--require-approval', 'never'], accepting);
  expect(first.code).toBe(0);
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

function edit(file: string, from: string | RegExp, to: string): () => void {
  const path = join(fleet, file);
  const text = readFileSync(path, 'utf-8');
  const next = text.replace(from, to);
  expect(next).not.toBe(text);
  writeFileSync(path, next);
  return () => writeFileSync(path, text);
}

test('the first deploy recorded every stack; the same fleet again selects nothing', async () => {
  const recorded = JSON.parse(readFileSync(join(state, 'state.json'), 'utf-8'));
  expect(recorded.version).toBe(1);
  expect(Object.keys(recorded.stacks).sort()).toEqual([...ALL].sort());
  expect(recorded.stacks['acme-staging']).toEqual({
    fingerprint: expect.stringMatching(/^[0-9a-f]{64}$/),
    deployedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    inputs: expect.objectContaining({ template: expect.stringMatching(/^[0-9a-f]{64}$/) }),
  });
  expect(readdirSync(join(state, 'templates')).sort()).toEqual(ALL.map((s) => `${s}.template.json`).sort());
  const plan = await planOf(['--state', state]);
  expect(plan.waves).toEqual([]);
  expect(plan.counts).toEqual({ selected: 0, unchanged: 7, removed: 0 });
});

test('one customer file selects that stack only, for its template', async () => {
  const undo = edit('customers/acme-staging.yaml', 'maxCapacity: 2', 'maxCapacity: 3');
  try {
    const plan = await planOf(['--state', state]);
    expect(plan.waves).toEqual([
      {
        wave: 'nonproduction',
        stacks: [
          {
            stack: 'acme-staging',
            reasons: ['template changed'],
            fingerprint: expect.stringMatching(/^[0-9a-f]{64}$/),
          },
        ],
      },
    ]);
    expect(plan.counts).toEqual({ selected: 1, unchanged: 6, removed: 0 });
  } finally {
    undo();
  }
});

test('a platform change selects every stack, platform first, and says why', async () => {
  const undo = edit('platform.yaml', /^name: vending$/m, 'name: vending\nmaxSharedLoadBalancers: 5');
  try {
    const result = await deploy([fleet, '--plan', '--state', state]);
    expect(result.code).toBe(0);
    const rows = result.out.split('\n').filter((l) => /^\S+\s+(platform|nonproduction|production)\s/.test(l));
    expect(rows.map((r) => r.split(/\s+/)[0])).toEqual(ALL);
    for (const row of rows) expect(row).toMatch(/platform changed/);
    expect(result.out).toMatch(/7 stacks to deploy \(platform 1, nonproduction 3, production 3\); 0 unchanged\./);
  } finally {
    undo();
  }
});

test('a new library version selects every stack (an assembly given with --app)', async () => {
  const app = join(work, 'cdk.out');
  const out: string[] = [];
  expect(run(['synth', fleet, '--out', app], { out: (t) => out.push(t), err: () => undefined, cwd: work })).toBe(0);
  expect((await planOf(['--state', state, '--app', app])).counts.selected).toBe(0);
  const plan = await planOf(['--state', state, '--app', app], { library: '99.0.0' });
  expect(selected(plan)).toEqual(Object.fromEntries(ALL.map((s) => [s, ['library changed']])));
});

test('a removed customer file selects no customer stack and names its stack for cdk destroy', async () => {
  const file = join(fleet, 'customers', 'hooli-staging.yaml');
  const text = readFileSync(file, 'utf-8');
  rmSync(file);
  try {
    const result = await deploy([fleet, '--plan', '--state', state]);
    expect(result.code).toBe(0);
    // The platform's fleet overview (its dashboard of every environment's health) loses the environment: the
    // platform stack changes, no customer stack does.
    expect(result.out).toMatch(/^vending-platform\s+platform\s+template changed/m);
    expect(result.out).toMatch(/1 stack to deploy \(platform 1\); 5 unchanged\./);
    expect(result.out).toContain(
      'Offboarded/removed: hooli-staging: no longer in the fleet; a deploy does not delete a stack: destroy it with cdk destroy',
    );
    const plan = await planOf(['--state', state, '--group', 'nonproduction']);
    expect(plan.removed).toEqual(['hooli-staging']);
    expect(plan.unchanged).toEqual(['acme-staging', 'piedpiper-development']);
  } finally {
    writeFileSync(file, text);
  }
});

test('a state.json that is not the expected shape is an error naming the file and fields', async () => {
  const bad = join(work, 'bad-state');
  cpSync(state, bad, { recursive: true });
  writeFileSync(
    join(bad, 'state.json'),
    JSON.stringify({ version: 2, stacks: { 'acme-staging': { fingerprint: 'x', deployedAt: 'yesterday' } } }),
  );
  const result = await deploy([fleet, '--plan', '--app', join(work, 'cdk.out'), '--state', bad]).catch((e) => e);
  expect(result.message).toContain('state.json: version: received 2; expected 1');
  expect(result.message).toContain('stacks.acme-staging.fingerprint: received "x"; expected a SHA-256 in hex');
  expect(result.message).toContain('stacks.acme-staging.deployedAt: received "yesterday"; expected an ISO 8601 date');
});

test('--changed-since REF compares with the fleet at a git ref: one customer file selects its stack only', async () => {
  const git = (...argv: string[]) =>
    execFileSync('git', ['-C', fleet, '-c', 'user.email=t@example.com', '-c', 'user.name=t', ...argv], {
      stdio: 'pipe',
    });
  git('init', '-q');
  git('add', '.');
  git('commit', '-q', '-m', 'fleet');
  const undo = edit('customers/globex-production.yaml', /instanceType: [\w.]+/, 'instanceType: m7g.large');
  try {
    const plan = await planOf(['--changed-since', 'HEAD']);
    expect(plan.baseline).toBe('the fleet at HEAD');
    // The instance type is also the Packer build's (the AMI pipeline's template asset).
    expect(selected(plan)).toEqual({ 'globex-production': ['template changed', 'assets changed'] });
    expect(plan.counts).toEqual({ selected: 1, unchanged: 6, removed: 0 });
    const bad = await deploy([fleet, '--plan', '--changed-since', 'no-such-ref']).catch((e) => e);
    expect(bad.message).toMatch(/^deploy: --changed-since no-such-ref: not a commit of the git repository of /);
  } finally {
    undo();
  }
});
