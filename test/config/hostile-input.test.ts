/*
 * The loader under hostile input: error reports stay bounded (work per error, number of errors, length of every
 * quoted value), and only plain objects and arrays count as mappings and lists in configs built in code.
 */
import { stringify } from 'yaml';
import { platform, problemsOf, stagingCustomer } from './fixtures';
import { ConfigLoader } from '../../src';
import { ConfigError } from '../../src/config/errors';

const withUnknownKeys = (count: number) => {
  const doc: any = stagingCustomer();
  for (let i = 0; i < count; i++) doc[`unknown${i}`] = i;
  return stringify(doc);
};

describe('bounded error reports', () => {
  test('5,000 unknown keys: the first 100 problems, then a count', () => {
    const problems = problemsOf(() => ConfigLoader.parseCustomer(withUnknownKeys(5_000), 'keys.yaml'));
    expect(problems).toHaveLength(101);
    expect(problems.filter((p) => p.message.startsWith('unknown key "unknown'))).toHaveLength(100);
    expect(problems.find((p) => p.path === '')).toMatchObject({
      file: 'keys.yaml',
      path: '',
      message: 'and 4900 more problems not shown; expected the ones above fixed first',
    });
  });

  test("the error's message lists at most 100 problems of a fleet's files", () => {
    const problems = Array.from({ length: 250 }, (_, i) => ({ file: `f${i}.yaml`, path: 'x', message: 'bad' }));
    const lines = new ConfigError(problems).message.split('\n');
    expect(lines[0]).toBe('Invalid config (250 problems):');
    expect(lines).toHaveLength(102);
    expect(lines[101]).toBe('  … and 150 more problems');
  });

  test('a huge value is quoted cut to 80 characters, with its length', () => {
    const doc = { ...stagingCustomer(), compute: { instanceType: 'x'.repeat(1_000_000) } };
    const [problem] = problemsOf(() => ConfigLoader.parseCustomer(stringify(doc), 'big.yaml'));
    expect(problem.path).toBe('compute.instanceType');
    expect(problem.message).toContain(`received "${'x'.repeat(80)}…" (1000000 characters); expected`);
    expect(problem.message.length).toBeLessThan(400);
  });

  test("a rule's message quoting a huge value is cut too", () => {
    const doc = { ...stagingCustomer(), database: { engine: 'postgres', version: '9'.repeat(100_000) } };
    const problems = problemsOf(() => ConfigLoader.parseCustomer(stringify(doc), 'big.yaml'));
    for (const p of problems) expect(p.message.length).toBeLessThan(600);
    expect(problems.map((p) => p.path)).toContain('database.version');
  });

  test('a huge unknown key is cut in its message, and an anchored value aliased 99 times is reported briefly', () => {
    const key = 'k'.repeat(200_000);
    const long = [
      'customer: acme',
      'environment: staging',
      'software: { repository: { codeCommitRepository: web } }',
      `? ${key}\n: 1`,
      `anchor: &big "${'v'.repeat(10_000)}"`,
      ...Array.from({ length: 99 }, (_, i) => `alias${i}: *big`),
    ].join('\n');
    const error = (() => {
      try {
        ConfigLoader.parseCustomer(long, 'aliases.yaml');
      } catch (e) {
        return e as ConfigError;
      }
      throw new Error('accepted');
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message.length).toBeLessThan(100_000);
    expect(error.problems.find((p) => p.message.startsWith('unknown key "k'))?.message).toMatch(
      /^unknown key "k{80}…" \(200000 characters\); expected one of/,
    );
  });
});

describe('only plain objects and arrays are mappings and lists in code', () => {
  class Compute {
    public readonly minCapacity = 2;
  }
  test.each([
    ['compute', 'a Map', new Map([['minCapacity', 5]])],
    ['compute', 'a Compute', new Compute()],
    ['tags', 'a Set', new Set(['a'])],
    ['tags', 'a Date', new Date(0)],
    ['tags', 'a RegExp', /x/],
  ])('%s as %s is refused, naming the field', (field, what, value) => {
    const config = { ...stagingCustomer(), software: undefined, softwareDelivery: stagingCustomer().software };
    config[field] = value;
    expect(problemsOf(() => ConfigLoader.validateCustomer(config, { platform: platform() }))).toEqual([
      {
        file: 'CustomerConfig',
        path: field,
        message: `received ${what}; expected a mapping of keys to values (a plain object) or a list (an array)`,
      },
    ]);
  });

  test('a Map deep inside a list is named by its path', () => {
    const config: any = { ...stagingCustomer(), software: undefined, softwareDelivery: stagingCustomer().software };
    config.approvalEmails = ['ops@acme.com', new Map()];
    expect(problemsOf(() => ConfigLoader.validateCustomer(config)).map((p) => p.path)).toEqual(['approvalEmails[1]']);
  });
});
