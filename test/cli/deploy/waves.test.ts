/*
 * The waves run with a fake StackDeployer: order, the concurrency bound, one failure isolated within its wave, a
 * failed platform stopping the customer waves, and the gate before production.
 */
import { fingerprintOf } from '../../../src/cli/deploy/fingerprint';
import { DeployPlan, SelectedStack, Wave } from '../../../src/cli/deploy/selection';
import { DeployOutcome, inParallel, runWaves, StackDeployer } from '../../../src/cli/deploy/waves';

function selected(name: string, wave: Wave): SelectedStack {
  const inputs = { template: name, assets: '', platform: '', library: '' };
  return { name, wave, inputs, fingerprint: fingerprintOf(inputs), reasons: ['template changed'] };
}

function planOf(waves: Record<string, string[]>): DeployPlan {
  return {
    waves: Object.entries(waves).map(([wave, names]) => ({
      wave: wave as Wave,
      stacks: names.map((n) => selected(n, wave as Wave)),
    })),
    unchanged: [],
    removed: [],
  };
}

/** A deployer whose stacks take `ms` each and fail when named in `failing`; it records what ran at once. */
function fakeDeployer(failing: Record<string, string> = {}, ms = 5) {
  const started: string[] = [];
  let running = 0;
  let peak = 0;
  const deployer: StackDeployer = {
    deploy: async (stack, events): Promise<DeployOutcome> => {
      started.push(stack);
      running++;
      peak = Math.max(peak, running);
      events('CREATE_IN_PROGRESS');
      await new Promise((r) => setTimeout(r, ms));
      running--;
      if (failing[stack]) return { result: 'failed', reason: failing[stack] };
      return { result: stack.endsWith('-same') ? 'unchanged' : 'deployed' };
    },
  };
  return { deployer, started, peak: () => peak };
}

function options(progress: string[] = [], succeeded: string[] = []) {
  return {
    concurrency: 2,
    progress: (line: string) => progress.push(line),
    succeeded: (s: SelectedStack) => succeeded.push(s.name),
  };
}

const PLAN = planOf({
  platform: ['vending-platform'],
  nonproduction: ['a-staging', 'b-staging', 'c-staging', 'd-staging-same'],
  production: ['a-production', 'b-production'],
});

test('waves run in order, each wave finished before the next starts, at most --concurrency at once', async () => {
  const fake = fakeDeployer();
  const succeeded: string[] = [];
  const results = await runWaves(PLAN, fake.deployer, options([], succeeded));
  expect(fake.started).toEqual([
    'vending-platform',
    'a-staging',
    'b-staging',
    'c-staging',
    'd-staging-same',
    'a-production',
    'b-production',
  ]);
  expect(fake.peak()).toBe(2);
  expect(results.map((r) => [r.stack, r.wave, r.result])).toEqual([
    ['vending-platform', 'platform', 'deployed'],
    ['a-staging', 'nonproduction', 'deployed'],
    ['b-staging', 'nonproduction', 'deployed'],
    ['c-staging', 'nonproduction', 'deployed'],
    ['d-staging-same', 'nonproduction', 'unchanged'],
    ['a-production', 'production', 'deployed'],
    ['b-production', 'production', 'deployed'],
  ]);
  expect(succeeded).toHaveLength(7);
});

test("one stack's failure stops no other stack of its wave; it is reported with CloudFormation's reason", async () => {
  const reason = 'WebDatabase (AWS::RDS::DBInstance): Resource handler returned message: "quota exceeded"';
  const fake = fakeDeployer({ 'b-staging': reason });
  const progress: string[] = [];
  const succeeded: string[] = [];
  const results = await runWaves(PLAN, fake.deployer, options(progress, succeeded));
  expect(results.find((r) => r.stack === 'b-staging')).toEqual({
    stack: 'b-staging',
    wave: 'nonproduction',
    result: 'failed',
    reason,
  });
  expect(results.filter((r) => r.result !== 'failed')).toHaveLength(6);
  expect(succeeded).not.toContain('b-staging');
  expect(progress).toEqual(
    expect.arrayContaining([
      'b-staging: started (template changed)',
      'b-staging: CREATE_IN_PROGRESS',
      `b-staging: failed: ${reason}`,
      'c-staging: deployed',
      'd-staging-same: unchanged',
    ]),
  );
});

test('a failed platform stack skips the customer waves', async () => {
  const fake = fakeDeployer({ 'vending-platform': 'Allocator (AWS::Lambda::Function): failed' });
  const results = await runWaves(PLAN, fake.deployer, options());
  expect(fake.started).toEqual(['vending-platform']);
  expect(results.filter((r) => r.result === 'skipped').map((r) => r.stack)).toEqual([
    'a-staging',
    'b-staging',
    'c-staging',
    'd-staging-same',
    'a-production',
    'b-production',
  ]);
  expect(results[1].reason).toBe('the platform stack failed; customer stacks read its contract');
});

test('a gate holds a wave: its stacks are skipped with the reason, and it sees the results before it', async () => {
  const fake = fakeDeployer({ 'a-staging': 'failed' });
  const seen: string[] = [];
  const results = await runWaves(PLAN, fake.deployer, {
    ...options(),
    gate: async (wave, before) => {
      seen.push(`${wave}:${before.length}`);
      return wave === 'production' && before.some((r) => r.result === 'failed') ? 'non-production failed' : undefined;
    },
  });
  expect(seen).toEqual(['platform:0', 'nonproduction:1', 'production:5']);
  expect(results.slice(-2)).toEqual([
    { stack: 'a-production', wave: 'production', result: 'skipped', reason: 'non-production failed' },
    { stack: 'b-production', wave: 'production', result: 'skipped', reason: 'non-production failed' },
  ]);
});

test('a deployer that throws fails its stack only; a state that cannot be written fails the stack deployed', async () => {
  const deployer: StackDeployer = {
    deploy: async (stack) => {
      if (stack === 'a-staging') throw new Error('credentials expired.\n  Run aws sso login ');
      return { result: 'deployed' };
    },
  };
  const results = await runWaves(planOf({ nonproduction: ['a-staging', 'b-staging', 'c-staging'] }), deployer, {
    ...options(),
    succeeded: (s) => {
      if (s.name === 'c-staging') throw new Error('EROFS: read-only file system');
    },
  });
  expect(results.map((r) => [r.stack, r.result, r.reason])).toEqual([
    ['a-staging', 'failed', 'credentials expired. Run aws sso login'],
    ['b-staging', 'deployed', 'template changed'],
    ['c-staging', 'failed', 'deployed, but not recorded in the state: EROFS: read-only file system'],
  ]);
});

test('inParallel keeps the order of its items and never runs more than the limit', async () => {
  let running = 0;
  let peak = 0;
  const out = await inParallel([5, 1, 4, 2, 3, 1, 1], 3, async (ms) => {
    running++;
    peak = Math.max(peak, running);
    await new Promise((r) => setTimeout(r, ms));
    running--;
    return ms * 10;
  });
  expect(out).toEqual([50, 10, 40, 20, 30, 10, 10]);
  expect(peak).toBe(3);
  expect(await inParallel([], 3, async () => 1)).toEqual([]);
});

test('a deployer that throws, a failure without a reason, a state that cannot be written: each a failed stack, the others go on', async () => {
  const plan = planOf({ nonproduction: ['throws-staging', 'silent-staging', 'unrecorded-staging', 'fine-staging'] });
  const deployer: StackDeployer = {
    deploy: async (stack): Promise<DeployOutcome> => {
      if (stack === 'throws-staging') throw new Error('the toolkit stopped:\n  expired credentials');
      if (stack === 'silent-staging') return { result: 'failed', reason: '  \n ' };
      return { result: 'deployed' };
    },
  };
  const progress: string[] = [];
  const recorded: string[] = [];
  const results = await runWaves(plan, deployer, {
    concurrency: 1,
    progress: (line) => progress.push(line),
    succeeded: (s) => {
      if (s.name === 'unrecorded-staging') throw new Error('EROFS: a read-only file system');
      recorded.push(s.name);
    },
  });
  expect(results).toEqual([
    {
      stack: 'throws-staging',
      wave: 'nonproduction',
      result: 'failed',
      reason: 'the toolkit stopped: expired credentials',
    },
    { stack: 'silent-staging', wave: 'nonproduction', result: 'failed', reason: 'no reason given' },
    {
      stack: 'unrecorded-staging',
      wave: 'nonproduction',
      result: 'failed',
      reason: 'deployed, but not recorded in the state: EROFS: a read-only file system',
    },
    { stack: 'fine-staging', wave: 'nonproduction', result: 'deployed', reason: 'template changed' },
  ]);
  expect(recorded).toEqual(['fine-staging']);
  expect(progress).toContain('throws-staging: failed: the toolkit stopped: expired credentials');
});
