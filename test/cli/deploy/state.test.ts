/*
 * The deploy state directory read and written: a missing one is empty, a bad one is an error naming the file and
 * field, an entry is recorded with its template, sorted, through a temporary file and a rename.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { approvalMessage } from '../../../src/cli/deploy/approval';
import { DeployState } from '../../../src/cli/deploy/state';
import { ConfigError } from '../../../src/config/errors';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'deploy-state-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const HASH = 'a'.repeat(64);

function problemsOf(write: (state: string) => void): string {
  const state = join(dir, 'state');
  write(state);
  try {
    DeployState.read(state);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error('expected a ConfigError');
}

test('a missing directory is an empty state; entries are recorded sorted, with their templates', () => {
  const state = DeployState.read(join(dir, 'new'));
  expect(state.previous().size).toBe(0);
  expect(state.template('acme-staging')).toBeUndefined();
  state.record('b-staging', { fingerprint: HASH, deployedAt: '2026-12-03T12:00:00.000Z' }, '{"Resources":{}}');
  state.record('a-staging', { fingerprint: HASH, deployedAt: '2026-12-03T12:01:00.000Z' }, '{"Resources":{"X":{}}}');
  const text = readFileSync(join(dir, 'new', 'state.json'), 'utf-8');
  expect(Object.keys(JSON.parse(text).stacks)).toEqual(['a-staging', 'b-staging']);
  expect(readdirSync(join(dir, 'new')).sort()).toEqual(['state.json', 'templates']); // no temporary file left
  const again = DeployState.read(join(dir, 'new'));
  expect(again.entry('a-staging')).toEqual({ fingerprint: HASH, deployedAt: '2026-12-03T12:01:00.000Z' });
  expect(again.template('a-staging')).toEqual({ Resources: { X: {} } });
  expect(() => again.record('../escape', { fingerprint: HASH, deployedAt: 'x' }, '{}')).toThrow(
    'deploy state: unexpected stack name "../escape"',
  );
});

test.each([
  [
    'a file where the directory should be',
    (s: string) => writeFileSync(s, ''),
    'state: is not a directory; expected the deploy state directory',
  ],
  [
    'state.json that is not JSON',
    (s: string) => (mkdirSync(s), writeFileSync(join(s, 'state.json'), '{')),
    'state.json: is not JSON (',
  ],
  [
    'state.json that is an array',
    (s: string) => (mkdirSync(s), writeFileSync(join(s, 'state.json'), '[]')),
    'state.json: received []; expected {"version":1,"stacks":',
  ],
  [
    'stacks that is not an object',
    (s: string) => (mkdirSync(s), writeFileSync(join(s, 'state.json'), '{"version":1,"stacks":[]}')),
    'state.json: stacks: received []; expected an object of entries by stack name',
  ],
  [
    'a bad stack name and inputs',
    (s: string) => (
      mkdirSync(s),
      writeFileSync(
        join(s, 'state.json'),
        JSON.stringify({ version: 1, stacks: { '1x': { fingerprint: HASH, deployedAt: '2026-12-03', inputs: 3 } } }),
      )
    ),
    'state.json: stacks.1x: received "1x"; expected a CloudFormation stack name',
  ],
])('%s is an error naming the file and field', (_what, write, message) => {
  expect(problemsOf(write)).toContain(message);
});

test('a deployed template that is not JSON is an error naming it', () => {
  const state = join(dir, 'state');
  mkdirSync(join(state, 'templates'), { recursive: true });
  writeFileSync(join(state, 'templates', 'acme-staging.template.json'), 'not json');
  expect(() => DeployState.read(state).template('acme-staging')).toThrow(
    /acme-staging\.template\.json: is not JSON \(.*\); expected a template/,
  );
});

test('the approval message says when a changed production stack has no deployed template to compare', () => {
  const stack = (name: string, reasons: any[]) => ({
    name,
    wave: 'production' as const,
    fingerprint: HASH,
    inputs: { template: '', assets: '', platform: '', library: '' },
    reasons,
  });
  const text = approvalMessage(
    [stack('acme-production', ['new']), stack('globex-production', ['platform changed'])],
    () => undefined,
    () => ({ Resources: { A: {}, B: {} } }),
  );
  expect(text).toBe(
    [
      '2 production stacks change; 0 replacements.',
      'Other changes:',
      '- acme-production: new stack (2 resources)',
      '- globex-production: platform changed; no deployed template to compare',
    ].join('\n'),
  );
  expect(
    approvalMessage(
      [],
      () => undefined,
      () => ({}),
    ),
  ).toBe('No production stack changes.');
});
