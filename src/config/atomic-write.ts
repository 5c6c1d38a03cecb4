import { randomBytes } from 'crypto';
import { renameSync, rmSync, writeFileSync } from 'fs';
import { basename, dirname, join } from 'path';
import { ConfigError } from './errors';

/**
 * Internal: writes a file the command owns (placement.yaml, a starter) so that it is never seen half written: the
 * text goes to a temporary file beside it, which then replaces it in one rename. When the write fails (a full disk,
 * a read-only folder), the temporary file is removed, the previous content is kept, and the error names the file.
 * `shownAs` is the path as messages show it.
 */
export function writeFileAtomically(path: string, text: string, shownAs: string = path): void {
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    writeFileSync(temporary, text, { flag: 'wx' });
    renameSync(temporary, path);
  } catch (e) {
    rmSync(temporary, { force: true });
    const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new ConfigError([
      { file: shownAs, path: '', message: `cannot be written (${code}); its previous content is kept` },
    ]);
  }
}
