import { randomBytes } from 'crypto';
import { copyFileSync, existsSync, linkSync, renameSync, rmSync, statSync, writeFileSync } from 'fs';
import { basename, dirname, join } from 'path';
import { ConfigError } from './errors';
import { displayPath } from './fleet';

/**
 * Internal: why the file system refused to write `path`, in words a person can act on: `CODE: what it means`. A part
 * of the path that is a file (ENOTDIR, or EEXIST from a mkdir) is named, shown by `show`.
 */
export function writeRefusal(error: unknown, path: string, show: (path: string) => string = (p) => p): string {
  const code = (error as NodeJS.ErrnoException)?.code;
  const blocking = fileOnTheWay(path);
  if (blocking !== undefined && (code === 'ENOTDIR' || code === 'EEXIST' || code === undefined)) {
    return `ENOTDIR: ${show(blocking)} is a file, not a folder`;
  }
  switch (code) {
    case 'EISDIR':
      return 'EISDIR: it is a folder';
    case 'EACCES':
      return 'EACCES: permission denied; check the owner and mode of the file and its folder';
    case 'EROFS':
      return 'EROFS: a read-only file system';
    case 'EPERM':
      return 'EPERM: the file system refuses it; is it immutable? lsattr shows it';
    case 'ENOSPC':
      return 'ENOSPC: no space left on the device';
    case 'EDQUOT':
      return 'EDQUOT: the disk quota is used up';
    default:
      return code ?? (error as Error)?.message ?? String(error);
  }
}

/** The nearest existing ancestor of a path (the path itself excluded) when it is not a folder. */
function fileOnTheWay(path: string): string | undefined {
  for (let at = dirname(path); ; at = dirname(at)) {
    try {
      if (existsSync(at)) return statSync(at).isDirectory() ? undefined : at;
    } catch {
      return undefined;
    }
    if (dirname(at) === at) return undefined;
  }
}

/**
 * Internal: writes a file the command owns (placement.yaml, a starter) so that it is never seen half written: the
 * text goes to a temporary file beside it, which then replaces it in one rename. When the write fails (a full disk,
 * a read-only folder), the temporary file is removed, the previous content is kept, and the error names the file and
 * why. `shownAs` is the path as messages show it.
 */
export function writeFileAtomically(path: string, text: string, shownAs: string = path): void {
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const existed = existsSync(path);
  try {
    writeFileSync(temporary, text, { flag: 'wx' });
    renameSync(temporary, path);
  } catch (e) {
    rmSync(temporary, { force: true });
    const kept = existed ? 'its previous content is kept' : 'nothing was written';
    throw new ConfigError([
      { file: shownAs, path: '', message: `cannot be written (${writeRefusal(e, path, displayPath)}); ${kept}` },
    ]);
  }
}

/** Internal: a hard link of `from` at `to`, or a copy where the file system refuses links (another device, no links). */
export function linkOrCopy(from: string, to: string): void {
  try {
    linkSync(from, to);
  } catch {
    copyFileSync(from, to);
  }
}
