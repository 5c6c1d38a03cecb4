import { isMap, isScalar, isSeq, Pair, YAMLMap } from 'yaml';
import { AppSpecDocument, Path } from './document';
import { FILE_KEYS, LIFECYCLE_ORDER, PERMISSION_KEYS, RESERVED_EVENTS, SCRIPT_KEYS, TOP_KEYS } from './rules';
import { closest } from '../config/schema';

/*
 * Keys that are not allowed where they are. Indentation mistakes leave keys at the wrong level (a lifecycle event
 * at the top level, `timeout` beside `hooks`): such a key is reported where it is, with where it belongs; other
 * keys get the closest allowed one, or the list of those.
 */

/** Keys of a mapping that are not allowed there. */
export function keysOf(doc: AppSpecDocument, map: YAMLMap, path: Path, allowed: string[]): void {
  for (const pair of map.items) {
    const { name, offset } = doc.keyAt(pair);
    if (!allowed.includes(name)) unknownKey(doc, name, offset, [...path, name], allowed);
  }
}

/** A key that is not allowed here: a typo, a key of another section, or unknown. */
export function unknownKey(
  doc: AppSpecDocument,
  name: string,
  offset: number,
  path: Path,
  allowed: string[],
  context: { hooksPair?: Pair; filesPair?: Pair } = {},
): void {
  const guess = closest(name, allowed);
  let message: string;
  if (guess && guess.toLowerCase() === name.toLowerCase()) {
    message = `received the key "${name}"; expected ${guess} (keys are case-sensitive)`;
  } else if (guess) {
    message = `received the key "${name}" (did you mean "${guess}"?); expected one of ${allowed.join(', ')}`;
  } else {
    message = `received the key "${name}"${belongsElsewhere(doc, name, offset, allowed === TOP_KEYS ? 'at the top level' : 'here', context) ?? `; expected one of ${allowed.join(', ')}`}`;
  }
  doc.report(offset, path, message);
}

/** Where a key that is misplaced here belongs, as the end of a message. */
export function belongsElsewhere(
  doc: AppSpecDocument,
  name: string,
  offset: number,
  here: string,
  context: { hooksPair?: Pair; filesPair?: Pair },
): string | undefined {
  if (LIFECYCLE_ORDER.includes(name) || RESERVED_EVENTS[name]) {
    const hooks = context.hooksPair ? ` (line ${doc.at(doc.keyAt(context.hooksPair).offset).line})` : '';
    return ` ${here}, a lifecycle event; expected it indented under hooks${hooks}`;
  }
  if (SCRIPT_KEYS.includes(name)) {
    const location = [...doc.locations].reverse().find((l) => l < offset);
    const where = location !== undefined ? doc.at(location) : undefined;
    return where
      ? ` ${here}, a key of a hook script; expected it indented under the script's location (line ${where.line}), at column ${where.column}`
      : ` ${here}, a key of a hook script; expected it under a lifecycle event in hooks, as in - location: …`;
  }
  if (FILE_KEYS.includes(name)) {
    const files = context.filesPair?.value;
    const last = isSeq(files) ? files.items[files.items.length - 1] : undefined;
    const source = isMap(last) ? last.items.find((p) => isScalar(p.key) && p.key.value === 'source') : undefined;
    const where = source ? doc.at(doc.keyAt(source).offset) : undefined;
    return where
      ? ` ${here}, a key of a files entry; expected it indented under source (line ${where.line}), at column ${where.column}`
      : ` ${here}, a key of a files entry; expected it under files, as in - source: …`;
  }
  if (PERMISSION_KEYS.includes(name)) {
    return ` ${here}, a key of a permissions entry; expected it under permissions, as in - object: …`;
  }
  if (TOP_KEYS.includes(name)) return ` ${here}, a top-level key; expected it at column 1`;
  if (name === 'Resources') {
    return ' (the AppSpec of an ECS or Lambda deployment); expected an EC2/On-Premises AppSpec with version, os, files and hooks';
  }
  return undefined;
}
