/*
 * Placement of environments on shared load balancers: deterministic, never moving an environment, adding a load
 * balancer only when all are full, and refusing a bad placement file with the file, line and field.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { dirname, join } from 'path';
import {
  FleetPlacement,
  placeEnvironments,
  PlacementRequest,
  readPlacementFile,
  renderPlacement,
  writePlacementFile,
} from '../../src/environment/placement';
import { problemsOf } from '../config/fixtures';

const names = (n: number, prefix = 'env') =>
  Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(3, '0')}`);
const place = (request: Partial<PlacementRequest> & { environments: string[] }) =>
  placeEnvironments({
    source: 'placement.yaml',
    capacity: 100,
    maximum: 10,
    platformSource: 'platform.yaml',
    ...request,
  });
const loadOf = (placement: FleetPlacement) => {
  const load: Record<number, number> = {};
  for (const n of Object.values(placement.environments)) load[n] = (load[n] ?? 0) + 1;
  return load;
};

describe('placeEnvironments', () => {
  test('a new fleet of up to 100 environments: one load balancer, every environment on it', () => {
    const { placement, changes } = place({ environments: names(100) });
    expect(placement.loadBalancers).toBe(1);
    expect(loadOf(placement)).toEqual({ 1: 100 });
    expect(changes).toHaveLength(100);
    expect(changes[0]).toBe('env000: placed on shared load balancer 1');
  });

  test('101 environments: a second load balancer for the one that does not fit, in name order', () => {
    const { placement, changes } = place({ environments: names(101).reverse() });
    expect(placement.loadBalancers).toBe(2);
    expect(loadOf(placement)).toEqual({ 1: 100, 2: 1 });
    expect(placement.environments.env100).toBe(2);
    expect(changes).toContain('shared load balancers: 1 -> 2');
    // Keys in name order, whatever order the environments came in: the file does not churn.
    expect(Object.keys(placement.environments)).toEqual(names(101));
  });

  test('the same input gives the same placement, whatever the order of the environments', () => {
    const environments = names(250);
    const shuffled = [...environments].sort((a, b) =>
      a.split('').reverse().join('') < b.split('').reverse().join('') ? -1 : 1,
    );
    expect(place({ environments: shuffled }).placement).toEqual(place({ environments }).placement);
  });

  test('adding environments never moves an existing one, even one whose name sorts first', () => {
    let placement = place({ environments: names(150) }).placement;
    for (const added of [['aaa'], ['zzz', 'mmm'], names(60, 'late')]) {
      const before = placement;
      const environments = [...Object.keys(before.environments), ...added];
      const result = place({ previous: before, environments });
      for (const [name, number] of Object.entries(before.environments)) {
        expect(result.placement.environments[name]).toBe(number);
      }
      expect(result.changes.filter((c) => !c.startsWith('shared load balancers'))).toEqual(
        [...added]
          .sort()
          .map((name) => `${name}: placed on shared load balancer ${result.placement.environments[name]}`),
      );
      placement = result.placement;
    }
    expect(placement.loadBalancers).toBe(3);
    expect(loadOf(placement)).toEqual({ 1: 100, 2: 100, 3: 13 });
  });

  test("a removed environment's place is taken by the next new one; the others stay; the count never drops", () => {
    const before = place({ environments: names(101) }).placement;
    const removed = place({ previous: before, environments: names(101).filter((n) => n !== 'env050') });
    expect(removed.changes).toEqual(['env050: removed from shared load balancer 1']);
    expect(removed.placement.loadBalancers).toBe(2);
    const refilled = place({
      previous: removed.placement,
      environments: [...Object.keys(removed.placement.environments), 'new'],
    });
    expect(refilled.placement.environments.new).toBe(1);
    expect(refilled.placement.environments.env100).toBe(2);

    const empty = place({ previous: before, environments: [] });
    expect(empty.placement).toEqual({ loadBalancers: 2, environments: {} });
  });

  test('unchanged: no change reported', () => {
    const { placement } = place({ environments: names(3) });
    expect(place({ previous: placement, environments: names(3) }).changes).toEqual([]);
  });

  test('a smaller capacity per load balancer spreads sooner', () => {
    const { placement } = place({ environments: names(5), capacity: 2 });
    expect(placement).toEqual({
      loadBalancers: 3,
      environments: { env000: 1, env001: 1, env002: 2, env003: 2, env004: 3 },
    });
  });

  test('more than the platform allows: the platform file and field, what was received and what to do', () => {
    expect(problemsOf(() => place({ environments: names(101), maximum: 1 }))).toEqual([
      {
        file: 'platform.yaml',
        path: 'maxSharedLoadBalancers',
        message:
          'received 1: 101 environments on shared ingress need more than 1 load balancer of 100; expected a higher ' +
          'maxSharedLoadBalancers (at most 20), or fewer environments on shared ingress (split the fleet into several platforms)',
      },
    ]);
    expect(() => place({ environments: names(100), maximum: 1 })).not.toThrow();
  });

  test('a maximum below the load balancers already there is refused, not a deletion', () => {
    const { placement } = place({ environments: names(101) });
    expect(problemsOf(() => place({ previous: placement, environments: names(101), maximum: 1 }))[0]).toMatchObject({
      file: 'platform.yaml',
      path: 'maxSharedLoadBalancers',
      message: expect.stringContaining(
        'received 1, but placement.yaml has 2 shared load balancers; expected at least 2',
      ),
    });
  });

  test.each([
    [{ loadBalancers: 0, environments: {} }, 'loadBalancers', 'received 0; expected a whole number from 1 to 20'],
    [{ loadBalancers: 1.5, environments: {} }, 'loadBalancers', 'received 1.5; expected a whole number from 1 to 20'],
    [
      { loadBalancers: 2, environments: { a: 3 } },
      'environments.a',
      'received 3; expected a shared load balancer number from 1 to 2 (loadBalancers)',
    ],
    [
      { loadBalancers: 2, environments: { a: 0 } },
      'environments.a',
      'received 0; expected a shared load balancer number from 1 to 2 (loadBalancers)',
    ],
    [
      { loadBalancers: 2, environments: { a: '1' } },
      'environments.a',
      'received "1"; expected a shared load balancer number from 1 to 2 (loadBalancers)',
    ],
    [
      { loadBalancers: 2, environments: [] },
      'environments',
      'received []; expected a map of environment to load balancer number',
    ],
    [
      { loadBalancers: 1, environments: { a: 1, b: 1, c: 1 } },
      'environments',
      'received 3 environments on shared load balancer 1; expected at most 2: move 1 of them to another load balancer',
    ],
  ])('a bad previous placement %j is refused at %s', (previous, path, message) => {
    expect(
      problemsOf(() => place({ previous: previous as unknown as FleetPlacement, environments: ['a'], capacity: 2 })),
    ).toEqual([{ file: 'placement.yaml', path, message }]);
  });
});

describe('placement.yaml', () => {
  const dir = mkdtempSync(join(tmpdir(), 'placement-'));
  const file = (name: string, text?: string) => {
    const path = join(dir, name);
    if (text !== undefined) writeFileSync(path, text);
    return path;
  };

  test('none yet: undefined', () => {
    expect(readPlacementFile(file('absent.yaml'), 'absent.yaml', 100)).toBeUndefined();
  });

  test('rendered with a header, in name order, and read back the same', () => {
    const placement = { loadBalancers: 2, environments: { 'b-staging': 2, 'a-production': 1 } };
    const text = renderPlacement(placement);
    expect(text).toBe(
      [
        '# Which shared load balancer serves each customer environment of this fleet, from 1.',
        '# Written by paas-vending synth (VendingFleet.fromDirectory); commit it with the fleet.',
        '# An environment stays where it is; a new one goes to the first load balancer with room.',
        'loadBalancers: 2',
        'environments:',
        '  a-production: 1',
        '  b-staging: 2',
        '',
      ].join('\n'),
    );
    expect(readPlacementFile(file('round.yaml', text), 'round.yaml', 100)).toEqual(placement);
    expect(renderPlacement({ loadBalancers: 1, environments: {} })).toMatch(/\nenvironments: \{\}\n$/);
    expect(readPlacementFile(file('empty.yaml', 'loadBalancers: 1\n'), 'empty.yaml', 100)).toEqual({
      loadBalancers: 1,
      environments: {},
    });
  });

  test('written when missing or changed, left alone (with its comments) when not', () => {
    const path = file('write.yaml');
    const result = place({ environments: ['a'] });
    expect(writePlacementFile(path, result)).toBe(true);
    writeFileSync(path, `# kept\n${readFileSync(path, 'utf-8')}`);
    const same = place({ previous: readPlacementFile(path, 'write.yaml', 100), environments: ['a'] });
    expect(writePlacementFile(path, same)).toBe(false);
    expect(readFileSync(path, 'utf-8')).toMatch(/^# kept\n/);
    const more = place({ previous: same.placement, environments: ['a', 'b'] });
    expect(writePlacementFile(path, more)).toBe(true);
    expect(readFileSync(path, 'utf-8')).toContain('  b: 1\n');
  });

  test('a write that fails half way (a full disk) keeps the previous file whole and names it', () => {
    const path = file('full-disk.yaml');
    expect(writePlacementFile(path, place({ environments: ['a'] }))).toBe(true);
    const before = readFileSync(path, 'utf-8');
    // The disk fills after the first 16 bytes of any file written.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const nodeFs = require('fs') as typeof import('fs');
    const real = nodeFs.writeFileSync;
    const spy = jest.spyOn(nodeFs, 'writeFileSync').mockImplementation(((target: string, data: string) => {
      real(target, data.slice(0, 16));
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    }) as typeof nodeFs.writeFileSync);
    let message = '';
    try {
      writePlacementFile(path, place({ previous: readPlacementFile(path, 'x', 100), environments: ['a', 'b'] }));
    } catch (e) {
      message = (e as Error).message;
    } finally {
      spy.mockRestore();
    }
    expect(readFileSync(path, 'utf-8')).toBe(before);
    expect(message).toContain(
      'full-disk.yaml: cannot be written (ENOSPC: no space left on the device); its previous content is kept',
    );
    // Nothing is left beside it.
    expect(nodeFs.readdirSync(dirname(path)).filter((name) => name.includes('full-disk'))).toEqual(['full-disk.yaml']);
  });

  test.each([
    ['loadBalancers: 1\nenvironments:\n  a: 2\n', [{ path: 'environments.a', line: 3, column: 6 }]],
    ['loadBalancers: 1\nenvironment: {}\n', [{ path: 'environment', line: 2, column: 1 }]],
    ['loadBalancers: [1\n', [{ path: '', line: 2 }]],
    ['- 1\n', [{ path: '', message: 'received [1]; expected loadBalancers and environments' }]],
    ['loadBalancers: 1\nenvironments:\n  a: 1\n  a: 1\n', [{ path: '', line: 4 }]],
  ])('a bad file %j: the file, line and field', (text, expected) => {
    const problems = problemsOf(() => readPlacementFile(file('bad.yaml', text), 'fleet/placement.yaml', 100));
    expect(problems).toEqual(expected.map((p) => expect.objectContaining({ file: 'fleet/placement.yaml', ...p })));
  });
});
