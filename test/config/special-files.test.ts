/*
 * Config files are regular files of a sensible size. A FIFO, a device, a folder or a file of many megabytes named
 * as a customer file, placement.yaml or the platform file is a problem naming the file, reported at once with the
 * fleet's other problems; nothing is opened that could block or grow without end.
 */
import { execFileSync } from 'child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'fs';
import { createServer } from 'net';
import { tmpdir } from 'os';
import { basename, join } from 'path';
import { stringify } from 'yaml';
import { platform, problemsOf, stagingCustomer } from './fixtures';
import { ConfigLoader } from '../../src';
import { MAX_CONFIG_BYTES } from '../../src/config/fleet';
import { readPlacementFile } from '../../src/environment/placement';

function fleet(): string {
  const dir = mkdtempSync(join(tmpdir(), 'special-files-'));
  mkdirSync(join(dir, 'customers'));
  writeFileSync(join(dir, 'platform.yaml'), stringify(platform()));
  writeFileSync(join(dir, 'customers', 'acme-staging.yaml'), stringify(stagingCustomer()));
  return dir;
}

const messagesOf = (dir: string) =>
  problemsOf(() => ConfigLoader.loadFleet(dir)).map((p) => `${p.file.split('/').slice(-2).join('/')}: ${p.message}`);

test('a FIFO as a customer file is refused without being opened (it would block forever)', () => {
  const dir = fleet();
  execFileSync('mkfifo', [join(dir, 'customers', 'globex-staging.yaml')]);
  const started = Date.now();
  expect(messagesOf(dir)).toEqual([
    'customers/globex-staging.yaml: is not a regular file (a FIFO); expected a config file',
  ]);
  expect(Date.now() - started).toBeLessThan(5_000);
});

test('a link to a device is refused by what it points at', () => {
  const dir = fleet();
  symlinkSync('/dev/zero', join(dir, 'customers', 'zero-staging.yaml'));
  expect(messagesOf(dir)).toEqual([
    'customers/zero-staging.yaml: is not a regular file (a character device); expected a config file',
  ]);
});

test('a file larger than a config file can be is refused before it is read', () => {
  const dir = fleet();
  writeFileSync(join(dir, 'customers', 'big-staging.yaml'), `# ${'x'.repeat(MAX_CONFIG_BYTES)}\n`);
  expect(messagesOf(dir)).toEqual([
    `customers/big-staging.yaml: is ${MAX_CONFIG_BYTES + 3} bytes; expected a config file of at most 1 MiB`,
  ]);
});

test('the platform file and placement.yaml follow the same rule', () => {
  const dir = fleet();
  const file = join(dir, 'placement.yaml');
  execFileSync('mkfifo', [file]);
  expect(problemsOf(() => readPlacementFile(file, 'placement.yaml', 100)).map((p) => p.message)).toEqual([
    'is not a regular file (a FIFO); expected a config file',
  ]);
  const other = fleet();
  const platformFile = join(other, 'platform.yaml');
  rmSync(platformFile);
  symlinkSync('/dev/zero', platformFile);
  expect(messagesOf(other)).toContain(
    `${basename(other)}/platform.yaml: is not a regular file (a character device); expected a config file`,
  );
});

test('a folder as placement.yaml and a socket as a customer file are named for what they are', async () => {
  const dir = fleet();
  const file = join(dir, 'placement.yaml');
  mkdirSync(file);
  expect(problemsOf(() => readPlacementFile(file, 'placement.yaml', 100)).map((p) => p.message)).toEqual([
    'is not a regular file (a directory); expected a config file',
  ]);
  const socketPath = join(dir, 'customers', 'sock-staging.yaml');
  const server = createServer();
  await new Promise<void>((done) => server.listen(socketPath, done));
  try {
    expect(messagesOf(dir)).toEqual([
      'customers/sock-staging.yaml: is not a regular file (a socket); expected a config file',
    ]);
  } finally {
    await new Promise<void>((done) => server.close(() => done()));
  }
});
