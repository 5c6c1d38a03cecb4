import * as fc from 'fast-check';
import { stringify } from 'yaml';
import { asStruct, CERTIFICATE_ARN, CONNECTION_ARN, platform, productionCustomer, stagingCustomer } from './fixtures';
import { ConfigLoader } from '../../src';
import { ConfigError } from '../../src/config/errors';

/*
 * Throws generated and mutated configs at the loader. Each must end as a valid config (which then
 * validates again, unchanged) or as a ConfigError whose every problem names a file and says what
 * was expected. A TypeError, a RangeError or any other exception is a bug.
 */

const name = fc.stringMatching(/^[a-z][a-z0-9-]{1,30}[a-z0-9]$/).filter((n) => !n.includes('--'));
// Names of the default environments: another one is refused unless its platform declares it.
const environment = fc.constantFrom('production', 'staging', 'development');
const engineVersion = fc.constantFrom(
  ['postgres', '16'],
  ['mysql', '8.0'],
  ['mariadb', '10.11.9'],
  ['aurora-postgresql', '16'],
  ['aurora-mysql', '3.08.0'],
);

/** Valid configs of many shapes. */
const validCustomer = fc
  .record({
    customer: name,
    environment,
    minCapacity: fc.integer({ min: 2, max: 10 }),
    extra: fc.integer({ min: 0, max: 10 }),
    database: fc.option(engineVersion, { nil: undefined }),
    customDomain: fc.boolean(),
    repository: fc.constantFrom<any>(
      { connectionArn: CONNECTION_ARN, owner: 'acme', name: 'website' },
      { codeCommitRepository: 'acme-web', branch: 'release' },
      { s3Bucket: 'acme-sources', s3ObjectKey: 'web/main.zip' },
    ),
    emails: fc.uniqueArray(fc.constantFrom('ops@acme.com', 'a.b@example.org', 'x+y@sub.example.co'), { minLength: 1 }),
  })
  .map((r) => ({
    customer: r.customer,
    environment: r.environment,
    approvalEmails: r.emails,
    compute: { minCapacity: r.minCapacity, maxCapacity: r.minCapacity + r.extra },
    ...(r.database ? { database: { engine: r.database[0], version: r.database[1] } } : {}),
    ...(r.customDomain ? { customDomain: { name: 'www.example.com', certificateArn: CERTIFICATE_ARN } } : {}),
    software: { repository: r.repository },
  }));

const anyBase = fc.oneof(validCustomer, fc.constant(productionCustomer()), fc.constant(stagingCustomer()));

/** All paths to values in a document. */
function paths(doc: unknown, at: (string | number)[] = []): (string | number)[][] {
  const out: (string | number)[][] = [at];
  if (Array.isArray(doc)) doc.forEach((v, i) => out.push(...paths(v, [...at, i])));
  else if (doc && typeof doc === 'object') Object.entries(doc).forEach(([k, v]) => out.push(...paths(v, [...at, k])));
  return out;
}

type Mutation = { kind: 'delete' | 'set' | 'add-key'; pick: number; value: unknown; key: string };

const mutation: fc.Arbitrary<Mutation> = fc.record({
  kind: fc.constantFrom('delete', 'set', 'add-key'),
  pick: fc.nat(),
  value: fc.oneof(
    fc.anything({ maxDepth: 2 }),
    fc.string(),
    fc.integer(),
    fc.integer({ min: -1, max: 3 }), // capacity bounds live here
    fc.double(),
    fc.constantFrom('production', '', '-', 'postgres', '../x', 'arn:aws:acm:eu-west-1:1:certificate/x', null, [], {}),
  ),
  key: fc.oneof(
    fc.string({ maxLength: 12 }),
    fc.constantFrom('__proto__', 'constructor', 'toString', 'instanceType', 'minCapacity'),
  ),
});

function mutate(doc: any, mutations: Mutation[]): any {
  const copy = structuredClone(doc);
  let root = copy;
  for (const m of mutations) {
    // A fresh copy each time: a generated value reused in two places would make a cycle.
    const value = structuredClone(m.value);
    const all = paths(root);
    const path = all[m.pick % all.length];
    if (path.length === 0) {
      if (m.kind === 'set') root = value;
      continue;
    }
    const parent = path.slice(0, -1).reduce((at: any, k) => at[k], root);
    const last = path[path.length - 1];
    if (m.kind === 'delete') {
      if (Array.isArray(parent)) parent.splice(last as number, 1);
      else delete parent[last];
    } else if (m.kind === 'set') {
      parent[last] = value;
    } else {
      const target = parent[last];
      if (target && typeof target === 'object' && !Array.isArray(target)) {
        Object.defineProperty(target, m.key, { value, enumerable: true, writable: true, configurable: true });
      }
    }
  }
  return root;
}

type Encoding = { kind: 'yaml' | 'json' | 'cut' | 'noise'; at: number; noise: string };

const encoding: fc.Arbitrary<Encoding> = fc.record({
  kind: fc.constantFrom('yaml', 'json', 'cut', 'noise'),
  at: fc.nat(),
  noise: fc.oneof(
    fc.string({ maxLength: 8 }),
    fc.constantFrom(':', '- ', '\t', '{', ']', '"', '&a', '*a', '!!binary', '%YAML 1.1\n---\n', '\n  '),
  ),
});

function encode(doc: unknown, how: Encoding): string {
  let text: string;
  try {
    text = (how.kind === 'json' ? JSON.stringify(doc) : stringify(doc)) ?? '';
  } catch {
    text = String(doc);
  }
  const at = text.length === 0 ? 0 : how.at % text.length;
  if (how.kind === 'cut') return text.slice(0, at);
  if (how.kind === 'noise') return text.slice(0, at) + how.noise + text.slice(at);
  return text;
}

function expectValidOrClearError(call: () => unknown): void {
  let result: unknown;
  try {
    result = call();
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    expect(e.problems.length).toBeGreaterThan(0);
    for (const problem of e.problems) {
      expect(problem.file).toMatch(/\S/);
      expect(problem.message).toMatch(/expected|YAML|is missing|must be less than|runs backwards|remove it/);
    }
    return;
  }
  // Accepted: what came out validates again, unchanged (defaults are applied once, idempotently).
  expect(ConfigLoader.validateCustomer(result as any, { platform: platform() })).toEqual(result);
}

const RUNS = 5_000;

describe('the loader never fails with anything but a clear config error', () => {
  test('valid generated configs are accepted', () => {
    fc.assert(
      fc.property(validCustomer, (doc) => {
        const config = ConfigLoader.parseCustomer(stringify(doc), 'generated.yaml', { platform: platform() });
        expect(config.customer).toBe(doc.customer);
        expect(config.compute?.minCapacity).toBe(doc.compute.minCapacity);
      }),
      { numRuns: 500 },
    );
  });

  test(`${RUNS} mutated configs as text (YAML, JSON, cut short, with noise)`, () => {
    fc.assert(
      fc.property(anyBase, fc.array(mutation, { minLength: 0, maxLength: 4 }), encoding, (base, mutations, how) => {
        const text = encode(mutate(base, mutations), how);
        expectValidOrClearError(() =>
          ConfigLoader.parseCustomer(text, 'customers/generated.yaml', { platform: platform() }),
        );
      }),
      { numRuns: RUNS },
    );
  });

  test(`${RUNS} mutated configs as objects built in code`, () => {
    fc.assert(
      fc.property(anyBase, fc.array(mutation, { minLength: 1, maxLength: 4 }), (base, mutations) => {
        const doc = asStruct(mutate(base, mutations));
        expectValidOrClearError(() => {
          const config = ConfigLoader.validateCustomer(doc, { platform: platform() });
          // Accepted: every value given comes out unchanged (defaults only fill what is missing).
          // (An undefined value is a missing key, as in JSON.)
          expect(config).toMatchObject(JSON.parse(JSON.stringify(doc)));
          return config;
        });
      }),
      { numRuns: RUNS },
    );
  });

  test('mutated platform files', () => {
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 3 }), encoding, (mutations, how) => {
        const text = encode(mutate(platform(), mutations), how);
        try {
          ConfigLoader.parsePlatform(text, 'platform.yaml');
        } catch (e) {
          if (!(e instanceof ConfigError)) throw e;
        }
      }),
      { numRuns: 2_000 },
    );
  });
});
