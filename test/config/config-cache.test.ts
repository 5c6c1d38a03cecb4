/*
 * The cache of validated customer configs (src/config/config-cache.ts): a fleet read from it gives exactly what a
 * fresh validation gives, every input of a result invalidates it, and a cache never decides whether a run succeeds.
 */
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { run } from '../../src/cli/cli';
import * as documents from '../../src/config/documents';
import { ConfigError } from '../../src/config/errors';
import { readFleet } from '../../src/config/loader';

const EXAMPLE = join(__dirname, '..', '..', 'examples', 'fleet');

let work: string;
let fleetDir: string;
let env: NodeJS.ProcessEnv;

beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), 'config-cache-'));
  fleetDir = join(work, 'fleet');
  cpSync(EXAMPLE, fleetDir, { recursive: true });
  env = { ...process.env, PAAS_VENDING_CACHE_DIR: join(work, 'cache') };
  delete env.PAAS_VENDING_CACHE;
});

afterEach(() => {
  jest.restoreAllMocks();
  rmSync(work, { recursive: true, force: true });
});

/** The fleet read, with how many customer files were validated (not taken from the cache). */
function read(withEnv: NodeJS.ProcessEnv = env) {
  const validate = jest.spyOn(documents, 'readCustomer');
  try {
    const fleet = readFleet(fleetDir, withEnv);
    return { fleet, validated: validate.mock.calls.length };
  } finally {
    validate.mockRestore();
  }
}

function cacheFiles(): string[] {
  const dir = join(work, 'cache');
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.json')) : [];
}

function edit(file: string, change: (text: string) => string): void {
  const path = join(fleetDir, file);
  writeFileSync(path, change(readFileSync(path, 'utf-8')));
}

test('a fleet read from the cache is exactly the fleet a fresh validation gives', () => {
  const fresh = readFleet(fleetDir, { ...env, PAAS_VENDING_CACHE: 'off' });
  expect(cacheFiles()).toEqual([]);
  const first = read();
  expect(first.validated).toBe(fresh.customers.length);
  expect(cacheFiles()).toHaveLength(1);
  const second = read();
  expect(second.validated).toBe(0);
  // Strict: no property lost or added by the round trip through JSON (undefined values included).
  expect(second.fleet.customers).toStrictEqual(fresh.customers);
  expect(second.fleet.files).toEqual(fresh.files);
  expect(second.fleet.platform).toStrictEqual(fresh.platform);
});

test('a changed customer file is validated again, and only that one', () => {
  read();
  edit('customers/acme-staging.yaml', (t) => t.replace(/maxCapacity: \d+/, 'maxCapacity: 7'));
  const after = read();
  expect(after.validated).toBe(1);
  const acme = after.fleet.customers.find((c) => c.customer === 'acme' && c.environment === 'staging')!;
  expect(acme.compute.maxCapacity).toBe(7);
});

test('a changed platform config validates every customer file again', () => {
  const before = read();
  // A platform domain that makes a cached file invalid: the cache must not hide it.
  edit('platform.yaml', (t) => t.replace(/^(\s*domain:\s*)(\S+)/m, '$1other.example.net'));
  expect(() => readFleet(fleetDir, env)).toThrow(
    /globex-production\.yaml.*hostname: received "globex\.apps\.example\.com"/,
  );
  edit('platform.yaml', (t) => t.replace(/^(\s*domain:\s*)(\S+)/m, '$1apps.example.com'));
  const domainOf = (fleet: typeof before.fleet) => fleet.customers.find((c) => c.customer === 'hooli')!.hostname;
  edit('platform.yaml', (t) => t.replace(/^(\s*domain:\s*)(\S+)/m, '$1other.example.net'));
  edit('customers/globex-production.yaml', (t) => t.replaceAll('apps.example.com', 'other.example.net'));
  const after = read();
  expect(after.validated).toBe(before.fleet.customers.length);
  expect(domainOf(after.fleet)).toMatch(/other\.example\.net$/);
  expect(domainOf(after.fleet)).not.toBe(domainOf(before.fleet));
});

test('a comment in platform.yaml keeps the cache: the key is the platform config, not its text', () => {
  read();
  edit('platform.yaml', (t) => `# a comment\n${t}`);
  expect(read().validated).toBe(0);
});

test('a file that became invalid is reported as the validator reports it, every time', () => {
  read();
  edit('customers/acme-staging.yaml', (t) => t.replace(/maxCapacity: \d+/, 'maxCapacity: 999'));
  const messageOf = () => {
    try {
      readFleet(fleetDir, env);
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      return (e as ConfigError).message;
    }
    throw new Error('expected a ConfigError');
  };
  const first = messageOf();
  expect(first).toMatch(/acme-staging\.yaml.*maxCapacity/s);
  expect(messageOf()).toBe(first);
  const uncached = (() => {
    try {
      readFleet(fleetDir, { ...env, PAAS_VENDING_CACHE: 'off' });
    } catch (e) {
      return (e as ConfigError).message;
    }
    return '';
  })();
  expect(first).toBe(uncached);
});

test('results of other library code are not used: the cache file of another fingerprint is ignored', () => {
  read();
  const [file] = cacheFiles();
  const path = join(work, 'cache', file);
  const content = JSON.parse(readFileSync(path, 'utf-8'));
  const key = Object.keys(content.entries)[0];
  content.code = 'another build of the library';
  content.entries[key].compute.maxCapacity = 99;
  writeFileSync(path, JSON.stringify(content));
  const after = read();
  expect(after.validated).toBe(after.fleet.customers.length);
  expect(after.fleet.customers.map((c) => c.compute.maxCapacity)).not.toContain(99);
});

test('a damaged or unwritable cache costs time, never the run', () => {
  read();
  const [file] = cacheFiles();
  writeFileSync(join(work, 'cache', file), '{"format": 1, "code": tru');
  const damaged = read();
  expect(damaged.validated).toBe(damaged.fleet.customers.length);
  expect(read().validated).toBe(0);

  // A cache folder that is a file: nothing can be written, and the fleet is read all the same.
  const blocked = { ...env, PAAS_VENDING_CACHE_DIR: join(fleetDir, 'platform.yaml') };
  expect(read(blocked).fleet.customers).toHaveLength(damaged.fleet.customers.length);

  if (process.getuid?.() !== 0) {
    chmodSync(join(work, 'cache'), 0o500);
    edit('customers/acme-staging.yaml', (t) => `${t}\n# edited\n`);
    expect(read().validated).toBe(1);
    chmodSync(join(work, 'cache'), 0o700);
  }
});

test('an unchanged fleet does not rewrite its cache file, and entries of removed files are dropped', () => {
  read();
  const [file] = cacheFiles();
  const path = join(work, 'cache', file);
  const written = statSync(path).mtimeMs;
  const entries = () => Object.keys(JSON.parse(readFileSync(path, 'utf-8')).entries).length;
  const count = entries();
  read();
  expect(statSync(path).mtimeMs).toBe(written);
  rmSync(join(fleetDir, 'customers', 'hooli-staging.yaml'));
  read();
  expect(entries()).toBe(count - 1);
});

test('PAAS_VENDING_CACHE=off reads every file and writes nothing', () => {
  const off = read({ ...env, PAAS_VENDING_CACHE: 'off' });
  expect(off.validated).toBe(off.fleet.customers.length);
  expect(cacheFiles()).toEqual([]);
});

test.each([['validate'], ['list'], ['synth']])(
  'paas-vending %s --no-cache validates every file and writes no cache',
  (command) => {
    const io = (extra: string[] = []) => {
      const err: string[] = [];
      const args =
        command === 'synth' ? [command, fleetDir, '--stack', 'nobody', ...extra] : [command, fleetDir, ...extra];
      const code = run(args, { out: () => undefined, err: (t) => err.push(t), cwd: work, env });
      return { code, err: err.join('\n') };
    };
    if (command === 'synth') {
      // A stack that does not exist: refused after the fleet was read, before anything is built.
      expect(io(['--no-cache']).err).toMatch(/nobody/);
    } else {
      expect(io(['--no-cache']).code).toBe(0);
    }
    expect(cacheFiles()).toEqual([]);
    io();
    expect(cacheFiles()).toHaveLength(1);
  },
);
