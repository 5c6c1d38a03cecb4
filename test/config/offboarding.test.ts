/*
 * The offboarding record (offboarded.yaml) as a file a person edits: read back as written, every mistake named at
 * its line with what was received and expected; and what VendingFleet does with it.
 */
import { mkdirSync, writeFileSync } from 'fs';
import { join } from 'path';
import { App } from 'aws-cdk-lib';
import { stringify } from 'yaml';
import { messages, platform, problemsOf, stagingCustomer, writeFleet } from './fixtures';
import { VendingFleet } from '../../src';
import { readPlatform } from '../../src/config/documents';
import { ConfigError } from '../../src/config/errors';
import {
  readOffboardedEnvironments,
  readOffboardingRecord,
  renderOffboardingRecord,
} from '../../src/config/offboarding';

/** Each problem as the command prints it: file:line:column: path: message. */
const located = (call: () => unknown) =>
  problemsOf(call).map(
    (p) => `${p.file}${p.line ? `:${p.line}:${p.column}` : ''}: ${p.path ? `${p.path}: ` : ''}${p.message}`,
  );

const ZONES = { vpc: { availabilityZones: ['eu-west-1a', 'eu-west-1b'] } };

function fleetWithRecord(
  record: string,
  offboarded: Record<string, unknown> = {},
  customers: Record<string, unknown> = {},
) {
  const dir = writeFleet({ ...platform(), ...ZONES }, customers);
  writeFileSync(join(dir, 'offboarded.yaml'), record);
  mkdirSync(join(dir, 'offboarded'));
  for (const [file, doc] of Object.entries(offboarded)) writeFileSync(join(dir, 'offboarded', file), stringify(doc));
  return dir;
}

test('none: an empty record; what render writes, read gives back', () => {
  expect(readOffboardingRecord(writeFleet(platform(), {}))).toEqual({ environments: {} });
  const record = {
    environments: {
      'globex-staging': { file: 'offboarded/globex-staging.yaml', offboardedAt: '2026-12-03T08:00:00Z' },
      'acme-staging': {
        file: 'offboarded/acme-staging.yaml',
        offboardedAt: '2026-12-01T10:00:00Z',
        sharedLoadBalancer: 2,
      },
    },
  };
  const text = renderOffboardingRecord(record);
  expect(text.indexOf('acme-staging')).toBeLessThan(text.indexOf('globex-staging'));
  expect(readOffboardingRecord(fleetWithRecord(text))).toEqual(record);
});

test('every mistake at its line: unknown keys, a file outside offboarded/, a date that is none, a load balancer out of range', () => {
  const dir = fleetWithRecord(
    [
      'environments:',
      '  acme-staging:',
      '    file: customers/acme-staging.yaml',
      '    offboardedAt: yesterday',
      '    sharedLoadBalancer: 21',
      '    note: gone',
      'removed: []',
    ].join('\n'),
  );
  const shown = join(dir, 'offboarded.yaml');
  expect(located(() => readOffboardingRecord(dir))).toEqual([
    `${shown}:3:11: environments.acme-staging.file: received "customers/acme-staging.yaml"; expected a file in offboarded/`,
    `${shown}:4:19: environments.acme-staging.offboardedAt: received "yesterday"; expected a date and time such as 2026-12-03T08:00:00Z`,
    `${shown}:5:25: environments.acme-staging.sharedLoadBalancer: received 21; expected a shared load balancer number from 1 to 20`,
    `${shown}:6:5: environments.acme-staging.note: is not a key of an offboarded environment; expected file, offboardedAt, sharedLoadBalancer`,
    `${shown}:7:1: removed: is not a key of the offboarding record; expected only environments`,
  ]);

  expect(
    messages(() =>
      readOffboardingRecord(
        fleetWithRecord(
          'environments:\n  ../x: {file: offboarded/../../x.yaml, offboardedAt: "2026-12-03T08:00:00Z"}\n',
        ),
      ),
    ),
  ).toEqual([
    expect.stringMatching(/environments\.\.\.\/x: is not a <customer>-<environment> name/),
    expect.stringMatching(/received "offboarded\/\.\.\/\.\.\/x\.yaml"; expected a file in offboarded\//),
  ]);
});

test('a record of the wrong shape: not a map, environments not a map, an entry not a map; an empty record rendered', () => {
  const shown = (dir: string) => join(dir, 'offboarded.yaml');
  const notMap = fleetWithRecord('- acme-staging\n');
  expect(located(() => readOffboardingRecord(notMap))).toEqual([
    `${shown(notMap)}:1:1: received ["acme-staging"]; expected a map with the key environments`,
  ]);
  const listed = fleetWithRecord('environments: [acme-staging]\n');
  expect(located(() => readOffboardingRecord(listed))).toEqual([
    `${shown(listed)}:1:15: environments: received ["acme-staging"]; expected a map of <customer>-<environment> to entry`,
  ]);
  const entry = fleetWithRecord('environments:\n  acme-staging: yes\n');
  expect(located(() => readOffboardingRecord(entry))).toEqual([
    `${shown(entry)}:2:17: environments.acme-staging: received "yes"; expected file and offboardedAt`,
  ]);
  expect(renderOffboardingRecord({ environments: {} })).toMatch(/\nenvironments: \{\}\n$/);
  expect(readOffboardingRecord(fleetWithRecord(renderOffboardingRecord({ environments: {} })))).toEqual({
    environments: {},
  });
});

test("an offboarded file is validated as a customer file, and must hold its entry's environment", () => {
  const entry = (name: string) =>
    `  ${name}:\n    file: offboarded/${name}.yaml\n    offboardedAt: '2026-12-03T08:00:00Z'\n`;
  const dir = fleetWithRecord(`environments:\n${entry('acme-staging')}${entry('globex-staging')}`, {
    'acme-staging.yaml': { ...stagingCustomer(), compute: { minCapacity: 3, maxCapacity: 1 } },
    'globex-staging.yaml': stagingCustomer(),
  });
  const record = readOffboardingRecord(dir);
  const problems = located(() =>
    readOffboardedEnvironments(dir, record, readPlatform(stringify({ ...platform(), ...ZONES }), 'p')),
  );
  expect(problems).toEqual([
    expect.stringMatching(
      /offboarded\/acme-staging\.yaml:\d+:\d+: compute\.minCapacity: received 3, more than maxCapacity/,
    ),
    `${join(dir, 'offboarded', 'globex-staging.yaml')}: holds acme-staging; expected globex-staging, as offboarded.yaml names it`,
  ]);
});

describe('VendingFleet.fromDirectory and the record', () => {
  const record =
    "environments:\n  acme-staging:\n    file: offboarded/acme-staging.yaml\n    offboardedAt: '2026-12-03T08:00:00Z'\n    sharedLoadBalancer: 1\n";

  test('left out by default; built with includeOffboarded or the context key, outside the placement', () => {
    const dir = fleetWithRecord(record, { 'acme-staging.yaml': stagingCustomer() });
    expect(new Set(VendingFleet.fromDirectory(new App(), dir).stackNames)).toEqual(new Set(['vending-platform']));
    const included = VendingFleet.fromDirectory(new App(), dir, { includeOffboarded: true, stacks: ['acme-staging'] });
    expect(included.offboardedEnvironments.map((s) => s.stackName)).toEqual(['acme-staging']);
    expect(included.placement.environments).toEqual({});
    const app = new App({ context: { 'vending:include-offboarded': 'true', 'vending:stacks': 'acme-staging' } });
    expect(VendingFleet.fromDirectory(app, dir).offboardedEnvironments).toHaveLength(1);
    const fleet = { directory: dir, platform: { ...platform(), ...ZONES }, customers: [] };
    expect(() => new VendingFleet(new App(), fleet, { includeOffboarded: true })).toThrow(
      /includeOffboarded: received true; expected it with VendingFleet.fromDirectory only/,
    );
    const wrong = new App({ context: { 'vending:include-offboarded': 'yes' } });
    expect(() => VendingFleet.fromDirectory(wrong, dir)).toThrow(
      /context vending:include-offboarded: received "yes"; expected true or false$/,
    );
  });

  test('a customer file for an offboarded environment again: refused while both would be built', () => {
    const dir = fleetWithRecord(
      record,
      { 'acme-staging.yaml': stagingCustomer() },
      { 'acme-staging.yaml': stagingCustomer() },
    );
    expect(VendingFleet.fromDirectory(new App(), dir).stackNames).toContain('acme-staging');
    let error: unknown;
    try {
      VendingFleet.fromDirectory(new App(), dir, { includeOffboarded: true });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain(
      'environments.acme-staging: records acme-staging as offboarded, and customers/ has a file for it again; expected one of the two',
    );
  });
});
