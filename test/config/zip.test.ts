/**
 * The zip archives the library writes into a cloud assembly (the Packer template asset) and reads back (the synth
 * cache's asset inputs): read by other tools as they are written, and the archives of other tools read.
 */
import { execFileSync } from 'child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { crc32 as zlibCrc32 } from 'zlib';
import { crc32, storedZip, zipEntries } from '../../src/config/zip';

const python = (script: string, ...args: string[]) => execFileSync('python3', ['-c', script, ...args]).toString();

describe('storedZip', () => {
  const entries = [
    { name: 'bake.sh', content: Buffer.from('#!/bin/bash\necho bake\n'), mode: 0o755 },
    { name: 'build.pkr.hcl', content: Buffer.from('source "amazon-ebs" "x" {}\n') },
    { name: 'empty', content: Buffer.alloc(0) },
    { name: 'dir/é-utf8.txt', content: Buffer.from('ünïcode') },
    { name: 'binary.bin', content: Buffer.from([0, 255, 13, 10, 0]) },
  ];

  test("is read by Python's zipfile: names, bytes, modes and CRCs as given, stored, dated 1980-01-01, in their order", () => {
    const file = join(mkdtempSync(join(tmpdir(), 'zip-')), 'a.zip');
    writeFileSync(file, storedZip(entries));
    const read = JSON.parse(
      python(
        'import json, sys, zipfile\n' +
          'z = zipfile.ZipFile(sys.argv[1])\n' +
          'assert z.testzip() is None\n' +
          'print(json.dumps([[i.filename, i.external_attr >> 16, i.compress_type, i.date_time[:3], z.read(i).hex()] ' +
          'for i in z.infolist()]))',
        file,
      ),
    );
    expect(read).toEqual(
      entries.map((e) => [e.name, 0o100000 + (e.mode ?? 0o644), 0, [1980, 1, 1], e.content.toString('hex')]),
    );
  });

  test('the same entries give the same bytes; any change of a name, content or mode gives others', () => {
    const bytes = storedZip(entries);
    expect(storedZip(entries.map((e) => ({ ...e, content: Buffer.from(e.content) })))).toEqual(bytes);
    expect(storedZip([{ ...entries[0], mode: 0o700 }, ...entries.slice(1)])).not.toEqual(bytes);
    expect(storedZip([{ ...entries[0], name: 'bake2.sh' }, ...entries.slice(1)])).not.toEqual(bytes);
    expect(storedZip([{ ...entries[0], content: Buffer.from('x') }, ...entries.slice(1)])).not.toEqual(bytes);
  });

  test('round-trips through zipEntries, and an empty archive is the 22 bytes of an end record', () => {
    expect(zipEntries(storedZip(entries))).toEqual(entries.map((e) => ({ ...e, mode: e.mode ?? 0o644 })));
    expect(storedZip([])).toHaveLength(22);
    expect(zipEntries(storedZip([]))).toEqual([]);
  });
});

describe('zipEntries', () => {
  test("reads another tool's archive: deflated entries, folders left out, a comment after the end record", () => {
    const file = join(mkdtempSync(join(tmpdir(), 'zip-')), 'b.zip');
    python(
      'import sys, zipfile\n' +
        'with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:\n' +
        '  z.writestr("folder/", "")\n' +
        '  i = zipfile.ZipInfo("folder/script.sh"); i.external_attr = 0o100750 << 16; i.create_system = 3\n' +
        '  z.writestr(i, "echo hi\\n" * 100, zipfile.ZIP_DEFLATED)\n' +
        '  z.writestr("stored.txt", "plain", zipfile.ZIP_STORED)\n' +
        '  z.comment = b"made by python"\n',
      file,
    );
    const read = zipEntries(readFileSync(file));
    expect(read.map((e) => [e.name, e.content.toString()])).toEqual([
      ['folder/script.sh', 'echo hi\n'.repeat(100)],
      ['stored.txt', 'plain'],
    ]);
    expect(read[0].mode).toBe(0o750);
  });

  test('an archive made elsewhere than Unix has no modes', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'zip-')), 'c.zip');
    python(
      'import sys, zipfile\n' +
        'with zipfile.ZipFile(sys.argv[1], "w") as z:\n' +
        '  i = zipfile.ZipInfo("a.txt"); i.create_system = 0\n' +
        '  z.writestr(i, "dos")\n',
      file,
    );
    expect(zipEntries(readFileSync(file))).toEqual([{ name: 'a.txt', content: Buffer.from('dos') }]);
  });

  test('refuses what it cannot read, and says what it found', () => {
    expect(() => zipEntries(Buffer.from('not a zip at all, longer than twenty-two bytes'))).toThrow(
      'zipEntries: not a zip archive this reader supports: no end of central directory record',
    );
    const archive = storedZip([{ name: 'a.txt', content: Buffer.from('abc') }]);
    // The method field of the central header (offset 10 from its start): 12 is bzip2.
    const centralAt = archive.length - 22 - (46 + 'a.txt'.length);
    const bzip2 = Buffer.from(archive);
    bzip2.writeUInt16LE(12, centralAt + 10);
    expect(() => zipEntries(bzip2)).toThrow(
      'zipEntries: not a zip archive this reader supports: a.txt is compressed with method 12; expected 0 (stored) or 8 (deflated)',
    );
    const truncated = Buffer.from(archive);
    truncated.writeUInt32LE(0, centralAt);
    expect(() => zipEntries(truncated)).toThrow('zipEntries: not a zip archive this reader supports: entry 1 of 1');
    const sized = Buffer.from(archive);
    sized.writeUInt32LE(4, centralAt + 24);
    expect(() => zipEntries(sized)).toThrow('a.txt holds 3 bytes; its header says 4');
  });
});

describe('crc32', () => {
  test('gives the check value of CRC-32/ISO-HDLC, and that of zlib', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    expect(crc32(Buffer.alloc(0))).toBe(0);
    const data = Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7919) % 256));
    expect(crc32(data)).toBe(zlibCrc32(data));
  });
});
