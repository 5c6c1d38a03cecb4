import { closeSync, existsSync, openSync, readSync, statSync } from 'fs';
import { isAbsolute, join, normalize } from 'path';
import { Pair } from 'yaml';
import { AppSpecDocument, Path } from './document';
import { describeValue } from '../config/errors';

/*
 * Paths into the revision: a files source or a hook script's location. The agent joins them to the root of the
 * revision, makes a script executable itself when it is not (so the executable bit is not checked), then executes
 * the file directly: without a `#!` line the kernel refuses it and a fallback shell runs it, whichever that is.
 * With a revision root, the file must therefore exist and start with `#!` (and a Unix line ending).
 */

/** A path inside the revision: no way out of it, and present when the revision root is known. */
export function checkRevisionPath(
  doc: AppSpecDocument,
  pair: Pair,
  path: Path,
  value: string,
  kind: 'source' | 'location',
): void {
  const offset = doc.nodeAt(pair.value, 0);
  const relative = kind === 'source' ? value.replace(/^[\\/]+/, '') : value;
  if (kind === 'location' && (isAbsolute(value) || /^[A-Za-z]:[\\/]/.test(value))) {
    doc.report(
      offset,
      path,
      `received ${describeValue(value)}; expected a path relative to the root of the revision, such as deployScript/start.sh (the agent looks for it inside the revision)`,
    );
    return;
  }
  const normalized = normalize(relative === '' ? '.' : relative);
  if (normalized === '..' || normalized.startsWith('../')) {
    doc.report(offset, path, `received ${describeValue(value)}; expected a path inside the revision, without ..`);
    return;
  }
  const root = doc.options.revisionRoot;
  if (root === undefined) return;
  const full = join(root, normalized);
  if (!existsSync(full)) {
    doc.report(
      offset,
      path,
      `received ${describeValue(value)}; expected a ${kind === 'location' ? 'script' : 'file or directory'} of the revision, but ${join(root, normalized)} does not exist`,
    );
    return;
  }
  if (kind === 'location') checkScript(doc, full, offset, path, value);
}

/** A hook script: a regular file that starts with a #! line the kernel can use. */
function checkScript(doc: AppSpecDocument, full: string, offset: number, path: Path, value: string): void {
  if (!statSync(full).isFile()) {
    doc.report(offset, path, `received ${describeValue(value)}, a directory; expected a script file`);
    return;
  }
  const head = Buffer.alloc(256);
  const fd = openSync(full, 'r');
  let size: number;
  try {
    size = readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  const first = head.subarray(0, size).toString('utf-8').split('\n')[0];
  if (!first.startsWith('#!')) {
    doc.report(
      offset,
      path,
      `received ${describeValue(value)}, a script without a #! line; expected a first line such as #!/bin/bash: the agent executes the file itself, and without one it runs under whatever shell falls back`,
    );
  } else if (first.endsWith('\r')) {
    doc.report(
      offset,
      path,
      `received ${describeValue(value)} with Windows line endings; expected Unix line endings (LF): the kernel would look for an interpreter named "${first.slice(2).trim()}\\r"`,
    );
  }
}
