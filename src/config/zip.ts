/* eslint-disable no-bitwise -- the zip format is bit fields (versions, modes, flags) and CRC-32 is bit arithmetic */
import { inflateRawSync } from 'zlib';

/** One file of a zip archive: its name (`/` separated, no leading `/`), content and Unix mode (permission bits). */
export interface ZipEntry {
  readonly name: string;
  readonly content: Buffer;
  readonly mode?: number;
}

const LOCAL_HEADER = 0x04034b50;
const CENTRAL_HEADER = 0x02014b50;
const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
/** Bit 11 of the general purpose flags: names are UTF-8. */
const UTF8_NAMES = 0x0800;
/** Version 2.0 of the format, made on Unix (the upper byte, 3), so that unzip tools read the mode. */
const VERSION_NEEDED = 20;
const VERSION_MADE_BY = (3 << 8) | VERSION_NEEDED;
/** 1980-01-01 00:00 in MS-DOS date format: a fixed time, so that the same files give the same bytes. */
const DOS_DATE = (1 << 5) | 1;
const REGULAR_FILE = 0o100000;

let crcTable: Uint32Array | undefined;

/** CRC-32 (ISO 3309, as zip uses it). */
export function crc32(data: Buffer): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (let i = 0; i < data.length; i++) crc = crcTable[(crc ^ data[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/**
 * Internal: a zip archive of `entries`, in their order, stored without compression, every entry dated 1980-01-01 and
 * carrying its Unix mode (0644 when none is given): the same entries give the same bytes on every machine and
 * version of Node.js. Small archives only (no zip64: under 4 GiB and 65,535 entries), names as given.
 */
export function storedZip(entries: readonly ZipEntry[]): Buffer {
  if (entries.length > 0xffff) {
    throw new Error(`storedZip: received ${entries.length} entries; expected at most 65,535`);
  }
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = Buffer.from(entry.name, 'utf-8');
    const crc = crc32(entry.content);
    const size = entry.content.length;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(LOCAL_HEADER, 0);
    local.writeUInt16LE(VERSION_NEEDED, 4);
    local.writeUInt16LE(UTF8_NAMES, 6);
    local.writeUInt16LE(0, 8); // stored
    local.writeUInt16LE(0, 10); // time 00:00:00
    local.writeUInt16LE(DOS_DATE, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(size, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    locals.push(local, name, entry.content);

    const central = Buffer.alloc(46);
    central.writeUInt32LE(CENTRAL_HEADER, 0);
    central.writeUInt16LE(VERSION_MADE_BY, 4);
    central.writeUInt16LE(VERSION_NEEDED, 6);
    central.writeUInt16LE(UTF8_NAMES, 8);
    central.writeUInt16LE(0, 10);
    central.writeUInt16LE(0, 12);
    central.writeUInt16LE(DOS_DATE, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(size, 20);
    central.writeUInt32LE(size, 24);
    central.writeUInt16LE(name.length, 28);
    // Extra field, comment, disk number, internal attributes: none.
    central.writeUInt32LE(((REGULAR_FILE | ((entry.mode ?? 0o644) & 0o7777)) << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name);
    offset += local.length + name.length + size;
  }
  const directorySize = centrals.reduce((sum, part) => sum + part.length, 0);
  if (offset + directorySize > 0xffffffff) throw new Error('storedZip: the archive would exceed 4 GiB');
  const end = Buffer.alloc(22);
  end.writeUInt32LE(END_OF_CENTRAL_DIRECTORY, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directorySize, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, ...centrals, end]);
}

/**
 * Internal: the files of a zip archive (stored or deflated entries; folders left out), with their Unix modes where
 * the archive was made on Unix. Throws, naming what it found, on anything else: another compression method, zip64,
 * a damaged archive.
 */
export function zipEntries(archive: Buffer): ZipEntry[] {
  const bad = (what: string) => new Error(`zipEntries: not a zip archive this reader supports: ${what}`);
  // The end record is the last 22 bytes, unless a comment (at most 65,535 bytes) follows it.
  let end = -1;
  for (let at = archive.length - 22; at >= Math.max(0, archive.length - 22 - 0xffff); at--) {
    if (archive.readUInt32LE(at) === END_OF_CENTRAL_DIRECTORY) {
      end = at;
      break;
    }
  }
  if (end < 0) throw bad('no end of central directory record');
  const count = archive.readUInt16LE(end + 10);
  let at = archive.readUInt32LE(end + 16);
  const entries: ZipEntry[] = [];
  for (let i = 0; i < count; i++) {
    if (at + 46 > archive.length || archive.readUInt32LE(at) !== CENTRAL_HEADER) {
      throw bad(`entry ${i + 1} of ${count}`);
    }
    const madeOnUnix = archive.readUInt16LE(at + 4) >> 8 === 3;
    const method = archive.readUInt16LE(at + 10);
    const compressedSize = archive.readUInt32LE(at + 20);
    const size = archive.readUInt32LE(at + 24);
    const nameLength = archive.readUInt16LE(at + 28);
    const extraLength = archive.readUInt16LE(at + 30);
    const commentLength = archive.readUInt16LE(at + 32);
    const attributes = archive.readUInt32LE(at + 38);
    const localAt = archive.readUInt32LE(at + 42);
    const name = archive.subarray(at + 46, at + 46 + nameLength).toString('utf-8');
    at += 46 + nameLength + extraLength + commentLength;
    if (name.endsWith('/')) continue;
    if (compressedSize === 0xffffffff || localAt === 0xffffffff) throw bad(`${name} is in zip64`);
    if (localAt + 30 > archive.length || archive.readUInt32LE(localAt) !== LOCAL_HEADER) throw bad(`${name}'s header`);
    const dataAt = localAt + 30 + archive.readUInt16LE(localAt + 26) + archive.readUInt16LE(localAt + 28);
    const data = archive.subarray(dataAt, dataAt + compressedSize);
    let content: Buffer;
    if (method === 0) content = Buffer.from(data);
    else if (method === 8) content = inflateRawSync(data);
    else throw bad(`${name} is compressed with method ${method}; expected 0 (stored) or 8 (deflated)`);
    if (content.length !== size) throw bad(`${name} holds ${content.length} bytes; its header says ${size}`);
    entries.push(madeOnUnix ? { name, content, mode: (attributes >>> 16) & 0o7777 } : { name, content });
  }
  return entries;
}
