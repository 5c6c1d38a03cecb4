/*
 * The atomic write of the files the command owns: never half written; a refusal said in words a person can act on,
 * the previous content kept and no temporary file left.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { writeFileAtomically, writeRefusal } from '../../src/config/atomic-write';
import { ConfigError } from '../../src/config/errors';

const dir = () => mkdtempSync(join(tmpdir(), 'atomic-'));
const failure = (code: string) => Object.assign(new Error(`${code}: x`), { code });

test.each([
  ['EISDIR', 'EISDIR: it is a folder'],
  ['EACCES', 'EACCES: permission denied; check the owner and mode of the file and its folder'],
  ['EROFS', 'EROFS: a read-only file system'],
  ['EPERM', 'EPERM: the file system refuses it; is it immutable? lsattr shows it'],
  ['ENOSPC', 'ENOSPC: no space left on the device'],
  ['EDQUOT', 'EDQUOT: the disk quota is used up'],
  ['EIO', 'EIO'],
])('%s is said as "%s"', (code, said) => {
  expect(writeRefusal(failure(code), join(dir(), 'placement.yaml'))).toBe(said);
});

test('an error without a code is its message; a part of the path that is a file is named', () => {
  expect(writeRefusal(new Error('something odd'), join(dir(), 'placement.yaml'))).toBe('something odd');
  const d = dir();
  writeFileSync(join(d, 'fleet'), 'a file');
  expect(writeRefusal(failure('ENOTDIR'), join(d, 'fleet', 'placement.yaml'), (p) => `<${p}>`)).toBe(
    `ENOTDIR: <${join(d, 'fleet')}> is a file, not a folder`,
  );
});

test('a write that fails keeps the previous content, leaves no temporary file, and names the file and why', () => {
  const d = dir();
  // The target is a folder: the rename over it fails after the temporary file was written.
  mkdirSync(join(d, 'placement.yaml'));
  writeFileSync(join(d, 'placement.yaml', 'inside'), 'kept');
  let error: unknown;
  try {
    writeFileAtomically(join(d, 'placement.yaml'), 'new text', 'fleet/placement.yaml');
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(ConfigError);
  expect((error as ConfigError).problems).toEqual([
    {
      file: 'fleet/placement.yaml',
      path: '',
      message: expect.stringMatching(
        /^cannot be written \((EISDIR: it is a folder|ENOTEMPTY|EEXIST)[^)]*\); its previous content is kept$/,
      ),
    },
  ]);
  expect(readdirSync(d)).toEqual(['placement.yaml']);
  expect(readFileSync(join(d, 'placement.yaml', 'inside'), 'utf-8')).toBe('kept');
  // Into a folder that does not exist: nothing was written.
  expect(() => writeFileAtomically(join(d, 'missing', 'x.yaml'), 'text')).toThrow(
    /cannot be written \(ENOENT\); nothing was written/,
  );
});
