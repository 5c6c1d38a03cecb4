/**
 * Database versions as a user writes them: the major alone where RDS takes it (and picks its current minor), a full
 * version RDS offers, and the clear refusal of a deprecated, unknown or malformed one, naming a version that works.
 * The dated table (src/config/engine-versions.ts) must be what its generator reads from the pinned cfn-lint.
 */
import { execFileSync } from 'child_process';
import { join } from 'path';
import { stringify } from 'yaml';
import { stagingCustomer } from './fixtures';
import { ConfigLoader } from '../../src';
import { ENGINE_VERSIONS, ENGINE_VERSIONS_DATE, ENGINE_VERSIONS_SOURCE } from '../../src/config/engine-versions';
import { ENGINES, majorVersionOf, versionProblem } from '../../src/config/engines';
import { ConfigError } from '../../src/config/errors';

const ROOT = join(__dirname, '..', '..');
const FILE = 'customers/acme-staging.yaml';

/** The customer file with this database, parsed; the error message of the loader when it is refused. */
function load(engine: string, version: unknown): { version?: string; error?: string } {
  try {
    const config = ConfigLoader.parseCustomer(stringify({ ...stagingCustomer(), database: { engine, version } }), FILE);
    return { version: config.database?.version };
  } catch (error) {
    if (error instanceof ConfigError) return { error: error.message };
    throw error;
  }
}

describe('the table of versions RDS offers', () => {
  test("is what scripts/engine-versions.py reads from the pinned cfn-lint's RDS data (refresh: npx projen engine-versions)", () => {
    const generated = JSON.parse(
      execFileSync(join(ROOT, '.venv', 'bin', 'python'), [join(ROOT, 'scripts', 'engine-versions.py'), '--json'], {
        encoding: 'utf8',
      }),
    );
    expect(ENGINE_VERSIONS).toEqual(generated.engines);
    expect(ENGINE_VERSIONS_SOURCE).toContain(`cfn-lint ${generated.cfnLint} `);
    expect(ENGINE_VERSIONS_DATE).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });

  test('offers a current version of every major the library supports, and no version is both current and deprecated', () => {
    for (const [engine, facts] of Object.entries(ENGINES)) {
      const { current, deprecated } = ENGINE_VERSIONS[engine];
      for (const major of facts.majors) {
        expect([engine, major, current.some((v) => majorVersionOf(engine, v) === major)]).toEqual([
          engine,
          major,
          true,
        ]);
      }
      expect(current.filter((v) => deprecated.includes(v))).toEqual([]);
    }
  });
});

describe('accepted', () => {
  test.each([
    ['postgres', ['13', '14', '15', '16', '17']],
    ['mysql', ['8.0', '8.4']],
    ['mariadb', ['10.11', '11.4']],
    ['aurora-postgresql', ['13', '14', '15', '16', '17']],
  ])('%s: every supported major alone, kept as written', (engine, majors) => {
    for (const major of majors) expect(load(engine, major)).toEqual({ version: major });
  });

  test('every current full version of a supported major, for every engine', () => {
    let checked = 0;
    for (const [engine, facts] of Object.entries(ENGINES)) {
      for (const version of ENGINE_VERSIONS[engine].current) {
        if (!facts.majors.includes(majorVersionOf(engine, version))) continue;
        expect([engine, version, versionProblem(engine, version)]).toEqual([engine, version, undefined]);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(40);
    expect(load('mysql', '8.0.43')).toEqual({ version: '8.0.43' });
    expect(load('aurora-mysql', '3.10.6')).toEqual({ version: '3.10.6' });
    expect(load('aurora-postgresql', '16.9')).toEqual({ version: '16.9' });
  });
});

describe('refused, with file, field, the value and a version that works', () => {
  test.each([
    ['mysql', '8.0.39', '8.0', 'MySQL'],
    ['postgres', '16.4', '16', 'PostgreSQL'],
    ['aurora-postgresql', '16.4', '16', 'Aurora PostgreSQL'],
  ])('%s %s, deprecated by RDS: the major or the newest current version', (engine, version, major, label) => {
    expect(ENGINE_VERSIONS[engine].deprecated).toContain(version);
    const current = ENGINE_VERSIONS[engine].current.filter((v) => majorVersionOf(engine, v) === major);
    const newest = current[current.length - 1];
    const { error } = load(engine, version);
    expect(error).toContain(
      `${FILE}:10:12: database.version: received "${version}" for ${engine}; expected a version RDS offers: RDS has ` +
        `deprecated ${label} ${version} and creates no new database at it (as of ${ENGINE_VERSIONS_DATE}); write the ` +
        `major "${major}" (recommended: RDS picks its current minor and keeps it up to date) or a current version ` +
        `such as "${newest}"`,
    );
  });

  test('a deprecated Aurora MySQL version names a current one only (Aurora MySQL has no major alone)', () => {
    const deprecated = ENGINE_VERSIONS['aurora-mysql'].deprecated.find((v) => v.startsWith('3.'))!;
    const current = ENGINE_VERSIONS['aurora-mysql'].current;
    expect(load('aurora-mysql', deprecated).error).toContain(
      `database.version: received "${deprecated}" for aurora-mysql; expected a version RDS offers: RDS has deprecated ` +
        `Aurora MySQL ${deprecated} and creates no new database at it (as of ${ENGINE_VERSIONS_DATE}); write a current ` +
        `version such as "${current[current.length - 1]}"`,
    );
  });

  test('a full version RDS does not list (a typo, or newer than the table): the major or a current one', () => {
    expect(load('mysql', '8.0.99').error).toContain(
      'database.version: received "8.0.99" for mysql; expected a version RDS offers: MySQL 8.0.99 is not among them',
    );
    expect(load('mariadb', '11.4.1').error).toContain('write the major "11.4" (recommended');
  });

  test("Aurora MySQL's major alone, which RDS has no engine version for: a full one", () => {
    const current = ENGINE_VERSIONS['aurora-mysql'].current;
    expect(load('aurora-mysql', '3').error).toContain(
      'database.version: received "3" for aurora-mysql; expected a full version: Aurora MySQL has no engine version ' +
        `of the major alone (RDS names each in full); write "${current[current.length - 1]}"`,
    );
    // Its MySQL-compatible major is not an Aurora MySQL major.
    expect(load('aurora-mysql', '8.0').error).toContain(
      'received "8.0" for aurora-mysql; expected an Aurora MySQL full version of major 3, such as',
    );
  });

  test.each([
    ['postgres', 'latest'],
    ['postgres', '16.'],
    ['mysql', '8.0.39.1'],
    ['mysql', 'v8.0'],
    ['aurora-mysql', '8.0.mysql_aurora.3.08.0'],
  ])('%s "%s": the form the file takes', (engine, version) => {
    expect(load(engine, version).error).toContain(
      `${FILE}:10:12: database.version: received "${version}"; expected an engine version in quotes, such as "16" or "8.0"`,
    );
  });

  test('a major RDS offers but the library does not support, and a version with the wrong number of parts', () => {
    expect(load('mysql', '5.7').error).toContain(
      'received "5.7" for mysql; expected a MySQL major or full version of major 8.0 or 8.4, such as "8.4"',
    );
    expect(load('postgres', '16.9.1').error).toContain(
      'received "16.9.1" for postgres; expected a PostgreSQL major or full version of major 13, 14, 15, 16 or 17',
    );
  });
});
