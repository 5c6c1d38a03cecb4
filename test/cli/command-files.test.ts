/*
 * The command's own files under ordinary faults of the file system: a missing or unreadable customers/ folder, a
 * fleet that lost all its environments, output paths under a file or on a folder that refuses writes, a placement
 * file that is a folder or an alias bomb, editor temp files among the customer files. Each ends with exit 1 and a
 * message naming the path and what to do, never the "unexpected error" of a bug (exit 70), and nothing the command
 * owns is left half written.
 */
import { execFileSync, spawnSync } from 'child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { EXIT_INVALID, EXIT_OK, Io, run } from '../../src/cli/cli';
import { platform, stagingCustomer, writeFleet } from '../config/fixtures';

function cli(argv: string[], io: Partial<Io> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = run(argv, {
    out: (t) => out.push(t),
    err: (t) => err.push(t),
    cwd: io.cwd ?? tmpdir(),
    errIsTTY: false,
    env: { PAAS_VENDING_JOBS: process.env.PAAS_VENDING_JOBS }, // the jest setup's (test/support/jest-setup.ts)
  });
  // Paths as the user sees them from the fleet directory (the in-process run shows others in full).
  const shown = (text: string) => (io.cwd ? text.split(`${io.cwd}/`).join('') : text);
  return { code, out: out.join('\n'), err: shown(err.join('\n')) };
}

const PLACED = 'loadBalancers: 1\nenvironments:\n  acme-staging: 1\n';

/** chattr +i works as root on ext4 and tmpfs; the immutable cases are skipped where it does not. */
function immutable(path: string): boolean {
  return spawnSync('chattr', ['+i', path]).status === 0;
}
const immutables: string[] = [];
afterEach(() => {
  for (const path of immutables.splice(0)) spawnSync('chattr', ['-i', path]);
});

describe('customers/ must be there and readable', () => {
  test('a fleet without customers/ is an error, not an empty fleet', () => {
    const dir = writeFleet(platform(), {});
    rmSync(join(dir, 'customers'), { recursive: true });
    writeFileSync(join(dir, 'placement.yaml'), PLACED);
    for (const command of ['validate', 'list', 'synth']) {
      const result = cli([command, dir], { cwd: dir });
      expect(result.code).toBe(EXIT_INVALID);
      expect(result.err).toContain(
        'customers: is missing; expected the folder of customer files (create it, even empty, for a fleet with none)',
      );
    }
    expect(readFileSync(join(dir, 'placement.yaml'), 'utf-8')).toBe(PLACED);
  });

  test('a customers/ that cannot be listed is an error and placement.yaml is kept', () => {
    const dir = writeFleet(platform(), {});
    rmSync(join(dir, 'customers'), { recursive: true });
    writeFileSync(join(dir, 'customers'), 'not a folder');
    writeFileSync(join(dir, 'placement.yaml'), PLACED);
    const result = cli(['synth', dir, '--out', join(dir, 'out')], { cwd: dir });
    expect(result.code).toBe(EXIT_INVALID);
    expect(result.err).toContain('customers: cannot be read (ENOTDIR); expected a directory of config files');
    expect(readFileSync(join(dir, 'placement.yaml'), 'utf-8')).toBe(PLACED);
  });
});

describe('a fleet that had environments and has none needs --allow-empty', () => {
  test('validate and synth refuse, naming the placement file and the flag; nothing is written', () => {
    const dir = writeFleet(platform(), {});
    writeFileSync(join(dir, 'placement.yaml'), PLACED);
    for (const command of ['validate', 'synth']) {
      const result = cli([command, dir, ...(command === 'synth' ? ['--out', join(dir, 'out')] : [])], { cwd: dir });
      expect(result.code).toBe(EXIT_INVALID);
      expect(result.err).toBe(
        `paas-vending: ${command}: customers has no customer files, but placement.yaml places 1 environment ` +
          '(acme-staging); expected its files in customers/: restore them, or run again with --allow-empty to ' +
          'remove every environment',
      );
    }
    expect(readFileSync(join(dir, 'placement.yaml'), 'utf-8')).toBe(PLACED);
    expect(existsSync(join(dir, 'out'))).toBe(false);
  });

  test('with --allow-empty, validate passes; synth holds the slot of a file deleted by hand until it is offboarded', () => {
    const dir = writeFleet({ ...platform(), vpc: { availabilityZones: ['eu-west-1a', 'eu-west-1b'] } }, {});
    writeFileSync(join(dir, 'placement.yaml'), PLACED);
    expect(cli(['validate', dir, '--allow-empty'], { cwd: dir })).toMatchObject({ code: EXIT_OK });
    const result = cli(['synth', dir, '--allow-empty', '--out', join(dir, 'out')], { cwd: dir });
    expect(result.code).toBe(EXIT_OK);
    expect(result.err).toContain('warning: acme-staging: is in placement.yaml but has no file in customers');
    expect(readFileSync(join(dir, 'placement.yaml'), 'utf-8')).toBe(PLACED);
    // Offboarded (its stack is to be destroyed): the slot is freed.
    mkdirSync(join(dir, 'offboarded'));
    writeFileSync(join(dir, 'offboarded', 'acme-staging.yaml'), JSON.stringify(stagingCustomer()));
    writeFileSync(
      join(dir, 'offboarded.yaml'),
      "environments:\n  acme-staging: { file: offboarded/acme-staging.yaml, offboardedAt: '2026-12-03T08:00:00Z' }\n",
    );
    const freed = cli(['synth', dir, '--allow-empty', '--out', join(dir, 'out')], { cwd: dir });
    expect(freed.code).toBe(EXIT_OK);
    expect(freed.err).toContain('acme-staging: removed from shared load balancer 1');
    expect(readFileSync(join(dir, 'placement.yaml'), 'utf-8')).toContain('environments: {}');
  });

  test('a new fleet with no environments yet needs no flag', () => {
    const dir = writeFleet(platform(), {});
    expect(cli(['validate', dir], { cwd: dir })).toMatchObject({ code: EXIT_OK });
  });
});

describe('output paths that cannot be written', () => {
  test('synth --out under a file: exit 1 naming the path', () => {
    const dir = writeFleet(platform(), { 'acme-staging.yaml': stagingCustomer() });
    writeFileSync(join(dir, 'placement.yaml'), PLACED);
    writeFileSync(join(dir, 'file'), 'x');
    const result = cli(['synth', dir, '--out', 'file/out'], { cwd: dir });
    expect(result.code).toBe(EXIT_INVALID);
    expect(result.err).toBe(
      'paas-vending: synth: file/out: cannot be written (ENOTDIR: file is a file, not a folder); ' +
        'expected a folder for the cloud assembly (--out): choose another path',
    );
  });

  test('synth --out on an immutable folder: exit 1 naming the path', () => {
    const dir = writeFleet(platform(), { 'acme-staging.yaml': stagingCustomer() });
    writeFileSync(join(dir, 'placement.yaml'), PLACED);
    mkdirSync(join(dir, 'out'));
    if (!immutable(join(dir, 'out'))) return;
    immutables.push(join(dir, 'out'));
    const result = cli(['synth', dir, '--out', 'out'], { cwd: dir });
    expect(result.code).toBe(EXIT_INVALID);
    expect(result.err).toMatch(
      /^paas-vending: synth: out: cannot be written \(EPERM: the file system refuses it; is it immutable\? lsattr shows it\); expected a folder for the cloud assembly \(--out\): choose another path$/,
    );
  });

  test('an immutable placement.yaml: exit 1, the file named and its content kept', () => {
    const dir = writeFleet(platform(), { 'acme-staging.yaml': stagingCustomer() });
    const previous = 'loadBalancers: 1\nenvironments: {}\n';
    writeFileSync(join(dir, 'placement.yaml'), previous);
    if (!immutable(join(dir, 'placement.yaml'))) return;
    immutables.push(join(dir, 'placement.yaml'));
    const result = cli(['synth', dir, '--out', join(dir, 'out')], { cwd: dir });
    expect(result.code).toBe(EXIT_INVALID);
    expect(result.err).toContain(
      'placement.yaml: cannot be written (EPERM: the file system refuses it; is it immutable? lsattr shows it); ' +
        'its previous content is kept',
    );
    expect(readFileSync(join(dir, 'placement.yaml'), 'utf-8')).toBe(previous);
  });

  test('diagram --out under a file', () => {
    const dir = writeFleet(platform(), { 'acme-staging.yaml': stagingCustomer() });
    writeFileSync(join(dir, 'file'), 'x');
    const result = cli(['diagram', dir, '--out', 'file/d.md'], { cwd: dir });
    expect(result.code).toBe(EXIT_INVALID);
    expect(result.err).toBe(
      'file/d.md: cannot be written (ENOTDIR: file is a file, not a folder); expected a file path for --out',
    );
  });

  test('init --force onto a folder: exit 1 naming it, the folder left alone', () => {
    const dir = writeFleet(platform(), {});
    mkdirSync(join(dir, 'customers', 'acme-staging.yaml'));
    writeFileSync(join(dir, 'customers', 'acme-staging.yaml', 'keep'), 'x');
    const result = cli(['init', 'acme', 'staging', dir, '--force'], { cwd: dir });
    expect(result.code).toBe(EXIT_INVALID);
    expect(result.err).toBe(
      'customers/acme-staging.yaml: is a folder; expected a file to write the starter to: move the folder away, ' +
        'or choose another CUSTOMER or ENVIRONMENT',
    );
    expect(readFileSync(join(dir, 'customers', 'acme-staging.yaml', 'keep'), 'utf-8')).toBe('x');
  });

  test('init into an immutable customers/: exit 1, the file named', () => {
    const dir = writeFleet(platform(), {});
    if (!immutable(join(dir, 'customers'))) return;
    immutables.push(join(dir, 'customers'));
    const result = cli(['init', 'acme', 'staging', dir], { cwd: dir });
    expect(result.code).toBe(EXIT_INVALID);
    expect(result.err).toContain('customers/acme-staging.yaml: cannot be written (EPERM');
  });
});

describe('placement.yaml that cannot be a placement', () => {
  test('a folder: exit 1 naming it', () => {
    const dir = writeFleet(platform(), { 'acme-staging.yaml': stagingCustomer() });
    mkdirSync(join(dir, 'placement.yaml'));
    for (const argv of [
      ['synth', dir, '--out', join(dir, 'out')],
      ['diagram', dir],
    ]) {
      const result = cli(argv, { cwd: dir });
      expect(result.code).toBe(EXIT_INVALID);
      expect(result.err).toContain('placement.yaml: is not a regular file (a directory); expected a config file');
    }
  });

  test('an alias bomb: exit 1 naming it, quickly', () => {
    const dir = writeFleet(platform(), { 'acme-staging.yaml': stagingCustomer() });
    const levels = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 9; i++) {
      const prev = String.fromCharCode(96 + i);
      levels.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill(`*${prev}`)}]`);
    }
    writeFileSync(join(dir, 'placement.yaml'), `${levels.join('\n')}\nloadBalancers: 1\nenvironments: {}\n`);
    const started = Date.now();
    const result = cli(['diagram', dir], { cwd: dir });
    expect(result.code).toBe(EXIT_INVALID);
    expect(result.err).toMatch(/placement\.yaml:1:1: YAML could not be read: .*alias/i);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

describe('editor temp files in customers/', () => {
  test('are skipped, and the command says which', () => {
    const dir = writeFleet(platform(), { 'acme-staging.yaml': stagingCustomer() });
    for (const name of ['acme-staging.yaml.tmp~', '.acme-staging.yaml.swp', 'acme-staging.yaml~', 'notes.txt']) {
      writeFileSync(join(dir, 'customers', name), 'customer: [unclosed\n');
    }
    const result = cli(['validate', dir], { cwd: dir });
    expect(result.code).toBe(EXIT_OK);
    expect(result.out).toContain('and 1 customer environment in');
    expect(result.err).toBe(
      'paas-vending: skipped 4 files of customers/ that are not customer files (*.yaml, *.yml, *.json): ' +
        '.acme-staging.yaml.swp, acme-staging.yaml.tmp~, acme-staging.yaml~, notes.txt',
    );
  });
});

describe('check-appspec reads regular files only', () => {
  test('a FIFO is refused at once', () => {
    const dir = mkdtempSync(join(tmpdir(), 'appspec-'));
    execFileSync('mkfifo', [join(dir, 'appspec.yml')]);
    const started = Date.now();
    const result = cli(['check-appspec', 'appspec.yml'], { cwd: dir });
    expect(result.code).toBe(EXIT_INVALID);
    expect(result.err).toBe('appspec.yml: is not a regular file (a FIFO); expected the appspec.yml of a revision');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  test('a folder and a missing file are named as such', () => {
    const dir = mkdtempSync(join(tmpdir(), 'appspec-'));
    mkdirSync(join(dir, 'appspec.yml'));
    expect(cli(['check-appspec', 'appspec.yml'], { cwd: dir }).err).toBe(
      'appspec.yml: is not a regular file (a directory); expected the appspec.yml of a revision',
    );
    expect(cli(['check-appspec', 'none.yml'], { cwd: dir }).err).toBe(
      'none.yml: cannot be read: no such file; expected the appspec.yml of a revision',
    );
  });
});
