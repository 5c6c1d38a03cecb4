/*
 * paas-vending deploy's selection as a pure function: which stacks a baseline selects and why, the waves' order, the
 * filters (--group, --stack, --shard).
 */
import { FingerprintInputs, fingerprintOf } from '../../../src/cli/deploy/fingerprint';
import { FleetStack, parseShard, planDeploy, PreviousStack, shardOf } from '../../../src/cli/deploy/selection';

function inputs(name: string, overrides: Partial<FingerprintInputs> = {}): FingerprintInputs {
  return { template: `t-${name}`, assets: 'a', platform: 'p', library: 'l', ...overrides };
}
function stack(name: string, wave: FleetStack['wave'], overrides: Partial<FingerprintInputs> = {}): FleetStack {
  const i = inputs(name, overrides);
  return { name, wave, inputs: i, fingerprint: fingerprintOf(i) };
}
const FLEET = [
  stack('vending-platform', 'platform'),
  stack('acme-staging', 'nonproduction'),
  stack('acme-production', 'production'),
  stack('hooli-staging', 'nonproduction'),
  stack('globex-production', 'production'),
];
function deployed(stacks: FleetStack[]): Map<string, PreviousStack> {
  return new Map(stacks.map((s) => [s.name, { fingerprint: s.fingerprint, inputs: s.inputs }]));
}

test('without a baseline every stack is selected, platform first, then non-production, then production', () => {
  const plan = planDeploy(FLEET, undefined, { group: 'all' });
  expect(plan.waves.map((w) => [w.wave, w.stacks.map((s) => s.name)])).toEqual([
    ['platform', ['vending-platform']],
    ['nonproduction', ['acme-staging', 'hooli-staging']],
    ['production', ['acme-production', 'globex-production']],
  ]);
  expect(plan.waves.flatMap((w) => w.stacks.map((s) => s.reasons))).toEqual(Array(5).fill(['no baseline']));
  expect(plan.unchanged).toEqual([]);
  expect(plan.removed).toEqual([]);
});

test('against what was deployed: only the changed stacks, each with its reason; the rest counted unchanged', () => {
  const previous = deployed(FLEET);
  const now = FLEET.map((s) => (s.name === 'acme-staging' ? stack(s.name, s.wave, { template: 'edited' }) : s));
  const plan = planDeploy(now, previous, { group: 'all' });
  expect(plan.waves).toEqual([
    {
      wave: 'nonproduction',
      stacks: [expect.objectContaining({ name: 'acme-staging', reasons: ['template changed'] })],
    },
  ]);
  expect(plan.unchanged).toEqual(['vending-platform', 'acme-production', 'hooli-staging', 'globex-production']);
});

test('a platform or library change is named as such; a stack absent from the baseline is new', () => {
  const previous = deployed(FLEET.filter((s) => s.name !== 'hooli-staging'));
  const now = FLEET.map((s) =>
    stack(s.name, s.wave, { platform: 'p2', library: s.wave === 'production' ? 'l2' : 'l' }),
  );
  const reasons = Object.fromEntries(
    planDeploy(now, previous, { group: 'all' }).waves.flatMap((w) => w.stacks.map((s) => [s.name, s.reasons])),
  );
  expect(reasons).toEqual({
    'vending-platform': ['platform changed'],
    'acme-staging': ['platform changed'],
    'hooli-staging': ['new'],
    'acme-production': ['library changed', 'platform changed'],
    'globex-production': ['library changed', 'platform changed'],
  });
});

test('an entry without its parts says the fingerprint changed; stacks only in the baseline are removed', () => {
  const previous = new Map<string, PreviousStack>([
    ['acme-staging', { fingerprint: 'f'.repeat(64) }],
    ['initech-production', { fingerprint: 'e'.repeat(64) }],
    ['a-removed', { fingerprint: 'e'.repeat(64) }],
  ]);
  const plan = planDeploy(FLEET, previous, { group: 'nonproduction' });
  expect(plan.waves[0].stacks.map((s) => [s.name, s.reasons])).toEqual([
    ['acme-staging', ['fingerprint changed']],
    ['hooli-staging', ['new']],
  ]);
  expect(plan.removed).toEqual(['a-removed', 'initech-production']);
});

test('--group and --stack restrict; an unknown --stack names the fleet', () => {
  expect(planDeploy(FLEET, undefined, { group: 'production' }).waves.map((w) => w.wave)).toEqual(['production']);
  expect(planDeploy(FLEET, undefined, { group: 'platform' }).waves[0].stacks.map((s) => s.name)).toEqual([
    'vending-platform',
  ]);
  const only = planDeploy(FLEET, undefined, { group: 'all', only: ['acme-production', 'acme-staging'] });
  expect(only.waves.map((w) => w.stacks.map((s) => s.name))).toEqual([['acme-staging'], ['acme-production']]);
  expect(() => planDeploy(FLEET, undefined, { group: 'all', only: ['acme-prod'] })).toThrow(
    'deploy: --stack: received "acme-prod"; expected stacks of the fleet: vending-platform, acme-staging, acme-production, hooli-staging, globex-production',
  );
});

test('--shard I/N splits the stacks into N disjoint parts that cover them all, stably', () => {
  const names = Array.from({ length: 1000 }, (_, i) => `customer${i}-production`);
  const stacks = names.map((n) => stack(n, 'production'));
  const parts = [1, 2, 3, 4].map((i) =>
    planDeploy(stacks, undefined, { group: 'all', shard: parseShard(`${i}/4`) }).waves.flatMap((w) =>
      w.stacks.map((s) => s.name),
    ),
  );
  expect(parts.flat().sort()).toEqual([...names].sort());
  expect(new Set(parts.flat()).size).toBe(1000);
  // Each part near a quarter (sha256 spreads names evenly).
  for (const part of parts) expect(part.length).toBeGreaterThan(200);
  for (const part of parts) expect(part.length).toBeLessThan(300);
  // A stack's shard depends on its name and N alone.
  expect(shardOf('acme-production', 4)).toBe(shardOf('acme-production', 4));
  expect(parts[shardOf('customer7-production', 4)]).toContain('customer7-production');
  expect(planDeploy(stacks, undefined, { group: 'all', shard: parseShard('1/1') }).waves[0].stacks).toHaveLength(1000);
});

test.each(['0/4', '5/4', '1/0', 'a/b', '2', '-1/3', '1/4/2'])(
  '--shard %s is refused, saying what is expected',
  (text) => {
    expect(() => parseShard(text)).toThrow(
      `deploy: --shard: received "${text}"; expected I/N with 1 <= I <= N <= 9999, such as 2/4 (the second of four shards)`,
    );
  },
);
