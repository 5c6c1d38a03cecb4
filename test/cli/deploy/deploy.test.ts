/*
 * paas-vending deploy on a copy of the example fleet with a fake StackDeployer (no AWS): the state is updated for the
 * stacks that deployed only, a failed stack is selected again next time, the summary table and --report, the gate
 * before production, and the production approval message. One test reads the assembly with toolkit-lib itself.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { run, runAsync } from '../../../src/cli/cli';
import { APPROVAL_MESSAGE_LIMIT, fit } from '../../../src/cli/deploy/approval';
import { deployCommand, DeployHooks } from '../../../src/cli/deploy/deploy-command';
import { ToolkitDeployer } from '../../../src/cli/deploy/toolkit-deployer';
import type { StackDeployer } from '../../../src/cli/deploy/waves';
import type { Io } from '../../../src/cli/io';

const EXAMPLE = join(__dirname, '..', '..', '..', 'examples', 'fleet');

let work: string;
let fleet: string;
let app: string;

function io(extra: Partial<Io> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    io: { out: (t: string) => out.push(t), err: (t: string) => err.push(t), cwd: work, ...extra } as Io,
  };
}

/** A deployer that fails the stacks named, and records what it was asked to deploy. */
function fake(failing: Record<string, string> = {}): { hooks: DeployHooks; asked: string[] } {
  const asked: string[] = [];
  const deployer: StackDeployer = {
    deploy: async (stack) => {
      asked.push(stack);
      return failing[stack] ? { result: 'failed', reason: failing[stack] } : { result: 'deployed' };
    },
  };
  return { hooks: { deployer: () => deployer, now: () => new Date('2026-12-03T12:00:00.000Z') }, asked };
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'deploy-run-'));
  fleet = join(work, 'fleet');
  app = join(work, 'cdk.out');
  cpSync(EXAMPLE, fleet, { recursive: true });
  const quiet = io();
  expect(run(['synth', fleet, '--out', app], quiet.io)).toBe(0);
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

test('the state is written for the stacks that deployed only; a failed stack is selected again next run', async () => {
  const state = join(work, 'state-failure');
  const reason = 'WebDatabase (AWS::RDS::DBInstance): DB instance quota exceeded';
  const first = fake({ 'acme-staging': reason });
  const run1 = io();
  const code = await deployCommand(
    [fleet, '--app', app, '--state', state, '--group', 'nonproduction', '--report', join(work, 'report.json')],
    run1.io,
    first.hooks,
  );
  expect(code).toBe(1);
  expect(first.asked).toEqual(['acme-staging', 'hooli-staging', 'piedpiper-development']);
  const recorded = JSON.parse(readFileSync(join(state, 'state.json'), 'utf-8'));
  expect(Object.keys(recorded.stacks)).toEqual(['hooli-staging', 'piedpiper-development']);
  expect(recorded.stacks['hooli-staging'].deployedAt).toBe('2026-12-03T12:00:00.000Z');
  expect(existsSync(join(state, 'templates', 'acme-staging.template.json'))).toBe(false);
  expect(readFileSync(join(state, 'templates', 'hooli-staging.template.json'), 'utf-8')).toBe(
    readFileSync(join(app, 'hooli-staging.template.json'), 'utf-8'),
  );
  // Progress on stderr, one line per event; the summary table on stdout.
  expect(run1.err).toEqual(
    expect.arrayContaining([
      'acme-staging: started (new)',
      `acme-staging: failed: ${reason}`,
      'hooli-staging: deployed',
    ]),
  );
  const table = run1.out.join('\n');
  expect(table).toMatch(/^STACK\s+WAVE\s+RESULT\s+REASON$/m);
  expect(table).toMatch(
    new RegExp(`^acme-staging\\s+nonproduction\\s+failed\\s+${reason.replace(/[()]/g, '\\$&')}$`, 'm'),
  );
  expect(table).toMatch(/^hooli-staging\s+nonproduction\s+deployed\s+new$/m);
  expect(table).toContain('2 deployed, 0 unchanged, 1 failed, 0 skipped.');
  expect(JSON.parse(readFileSync(join(work, 'report.json'), 'utf-8'))).toEqual({
    group: 'nonproduction',
    results: [
      { stack: 'acme-staging', wave: 'nonproduction', result: 'failed', reason },
      { stack: 'hooli-staging', wave: 'nonproduction', result: 'deployed', reason: 'new' },
      { stack: 'piedpiper-development', wave: 'nonproduction', result: 'deployed', reason: 'new' },
    ],
    removed: [],
  });
  // The next run retries the failed stack only.
  const second = fake();
  const run2 = io();
  expect(
    await deployCommand([fleet, '--app', app, '--state', state, '--group', 'nonproduction'], run2.io, second.hooks),
  ).toBe(0);
  expect(second.asked).toEqual(['acme-staging']);
  expect(run2.out.join('\n')).toMatch(/^hooli-staging\s+nonproduction\s+unchanged\s+fingerprint as deployed/m);
});

test('--plan writes nothing to the state and calls no deployer', async () => {
  const state = join(work, 'state-plan');
  const spy = fake();
  const result = io();
  expect(await deployCommand([fleet, '--app', app, '--state', state, '--plan'], result.io, spy.hooks)).toBe(0);
  expect(spy.asked).toEqual([]);
  expect(existsSync(state)).toBe(false);
});

test('--group all: production only after non-production succeeded, and not without an approval', async () => {
  // Not a terminal, --require-approval broadening (the default): production is skipped, not failed.
  const state = join(work, 'state-gate');
  const noTerminal = fake();
  const held = io();
  expect(await deployCommand([fleet, '--app', app, '--state', state], held.io, noTerminal.hooks)).toBe(0);
  expect(noTerminal.asked).toEqual(['vending-platform', 'acme-staging', 'hooli-staging', 'piedpiper-development']);
  expect(held.out.join('\n')).toMatch(
    /^acme-production\s+production\s+skipped\s+--group all deploys production only with/m,
  );
  // On a terminal, a yes deploys it.
  const questions: string[] = [];
  const approved = fake();
  const yes = io({ inIsTTY: true, ask: (q) => (questions.push(q), 'y') });
  expect(await deployCommand([fleet, '--app', app, '--state', state], yes.io, approved.hooks)).toBe(0);
  expect(approved.asked).toEqual(['acme-production', 'globex-production', 'initech-production']);
  expect(questions).toEqual(['Deploy 3 production stack(s) now? (y/N) ']);
  // A failed non-production stack holds production, whatever --require-approval says.
  const failing = fake({ 'hooli-staging': 'failed' });
  const fresh = io();
  expect(
    await deployCommand(
      [fleet, '--app', app, '--state', join(work, 'state-gate-2'), '--require-approval', 'never'],
      fresh.io,
      failing.hooks,
    ),
  ).toBe(1);
  expect(failing.asked).not.toContain('acme-production');
  expect(fresh.out.join('\n')).toMatch(/^acme-production\s+production\s+skipped\s+non-production did not all deploy/m);
});

test("the approval message: production stacks that change, replacements first, within CodePipeline's limit", async () => {
  const state = join(work, 'state-approval');
  // Everything deployed as the example is.
  expect(
    await deployCommand([fleet, '--app', app, '--state', state, '--require-approval', 'never'], io().io, fake().hooks),
  ).toBe(0);
  // A new master user name replaces acme-production's database; a new instance type changes globex in place.
  const edits: [string, string, string][] = [
    ['acme-production.yaml', 'masterUsername: app_admin', 'masterUsername: app_owner'],
    ['globex-production.yaml', /instanceType: [\w.]+/.source, 'instanceType: m7g.large'],
  ];
  const originals = edits.map(([file]) => readFileSync(join(fleet, 'customers', file), 'utf-8'));
  try {
    for (const [file, from, to] of edits) {
      const path = join(fleet, 'customers', file);
      const text = readFileSync(path, 'utf-8');
      const next = text.replace(new RegExp(from), to);
      expect(next).not.toBe(text);
      writeFileSync(path, next);
    }
    const message = join(work, 'approval.txt');
    const plan = io();
    expect(
      await deployCommand(
        [fleet, '--state', state, '--group', 'production', '--plan', '--approval-message', message],
        plan.io,
      ),
    ).toBe(0);
    const text = readFileSync(message, 'utf-8').trimEnd();
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^2 production stacks change; [1-9]\d* replacements?\.$/);
    expect(lines[1]).toBe('Replacements:');
    expect(lines[2]).toMatch(/^- acme-production: replaced AWS::RDS::DBInstance WebDatabase\w+ \[data\]$/);
    const others = lines.indexOf('Other changes:');
    expect(others).toBeGreaterThan(2);
    // Every replacement is listed before the first other change.
    expect(lines.slice(2, others).every((l) => / (replaced|may be replaced) /.test(l))).toBe(true);
    expect(lines.slice(others + 1).some((l) => l.startsWith('- globex-production: '))).toBe(true);
    expect(text.length).toBeLessThanOrEqual(APPROVAL_MESSAGE_LIMIT);
  } finally {
    edits.forEach(([file], i) => writeFileSync(join(fleet, 'customers', file), originals[i]));
  }
});

test('an approval message too long is cut at whole lines with "… and N more", never past the limit', () => {
  const lines = ['40 production stacks change; 30 replacements.', 'Replacements:'];
  for (let i = 0; i < 30; i++) {
    lines.push(`- customer${i}-production: replaced AWS::RDS::DBInstance WebDatabase${i}ABCDEF [data]`);
  }
  lines.push('Other changes:');
  for (let i = 0; i < 10; i++) lines.push(`- other${i}-production: resources updated in place`);
  const text = fit(lines, APPROVAL_MESSAGE_LIMIT);
  expect(text.length).toBeLessThanOrEqual(APPROVAL_MESSAGE_LIMIT);
  const kept = text.split('\n');
  expect(kept[0]).toBe(lines[0]);
  const listed = kept.filter((l) => l.startsWith('- ')).length;
  expect(kept[kept.length - 1]).toBe(`… and ${40 - listed} more`);
  expect(kept.slice(0, -1)).toEqual(lines.slice(0, kept.length - 1));
  expect(fit(['short', '- a'], 100)).toBe('short\n- a');
  expect(fit(['x'.repeat(50), '- a', '- b'], 20).length).toBeLessThanOrEqual(20);
});

test('the real deployer reads the example assembly with toolkit-lib (no AWS call): every stack, customers after the platform', async () => {
  const deployer = new ToolkitDeployer({ assembly: app, requireApproval: 'never' });
  const stacks = await deployer.list();
  expect(stacks.map((s) => s.name).sort()).toEqual(
    [
      'vending-platform',
      'acme-production',
      'acme-staging',
      'globex-production',
      'hooli-staging',
      'initech-production',
      'piedpiper-development',
      'vending-fleet-pipeline',
    ].sort(),
  );
  // The customers depend on the platform; the fleet pipeline on nothing (it is deployed first, on its own).
  for (const s of stacks.filter((x) => !['vending-platform', 'vending-fleet-pipeline'].includes(x.name))) {
    expect(s.dependencies).toEqual(['vending-platform']);
  }
  expect(stacks.find((s) => s.name === 'vending-fleet-pipeline')?.dependencies).toEqual([]);
});

test('runAsync runs deploy --help and reports a bad option as a usage error', async () => {
  const help = io();
  expect(await runAsync(['deploy', '--help'], help.io)).toBe(0);
  expect(help.out[0]).toMatch(/^Usage: paas-vending deploy \[DIR\] \[--app CDK_OUT_DIR\]/);
  const bad = io();
  expect(await runAsync(['deploy', fleet, '--group', 'staging'], bad.io)).toBe(2);
  expect(bad.err[0]).toBe(
    'paas-vending: deploy: --group: received "staging"; expected one of platform, nonproduction, production, all\nRun "paas-vending --help" for usage.',
  );
  const both = io();
  expect(await runAsync(['deploy', fleet, '--app', app, '--state', 's', '--changed-since', 'HEAD'], both.io)).toBe(2);
  expect(both.err[0]).toMatch(/--state and --changed-since: received both; expected one baseline/);
});

test.each([
  [['--concurrency', '0'], 'deploy: --concurrency: received "0"; expected a whole number from 1 to 100'],
  [['--concurrency', 'ten'], 'deploy: --concurrency: received "ten"; expected a whole number from 1 to 100'],
  [
    ['--require-approval', 'always'],
    'deploy: --require-approval: received "always"; expected one of never, any-change, broadening',
  ],
  [['--method', 'stack'], 'deploy: --method: received "stack"; expected one of change-set, direct'],
  [['--json'], 'deploy: --json goes with --plan (a deploy reports with --report FILE)'],
  [
    ['--approval-message', 'a.txt'],
    'deploy: --approval-message goes with --plan (a deploy reports with --report FILE)',
  ],
  [['--plan', '--report', 'r.json'], 'deploy: --report goes with a deploy; --plan --json prints the plan as JSON'],
  [
    ['--plan', '--app', 'nowhere'],
    'deploy: --app nowhere: holds no manifest.json; expected a cloud assembly directory',
  ],
])('deploy %j is a usage error naming the flag', async (argv, message) => {
  const result = io();
  expect(await runAsync(['deploy', fleet, ...argv], result.io)).toBe(2);
  expect(result.err[0]).toContain(`paas-vending: ${message}`);
});
