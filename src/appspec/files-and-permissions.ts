import { isMap, isScalar, Pair } from 'yaml';
import { AppSpecDocument, Path, received } from './document';
import { keysOf } from './misplaced-keys';
import { checkRevisionPath } from './revision';
import { CONTEXT_KEYS, FILE_KEYS, PERMISSION_KEYS, PERMISSION_TYPES } from './rules';
import { describeValue } from '../config/errors';

/*
 * The files and permissions sections: what the Install event copies from the revision to the instance, and the
 * owners and modes it sets on what it installed.
 */

/** The files section: entries of a source in the revision and an absolute destination on the instance. */
export function checkFiles(doc: AppSpecDocument, pair: Pair): void {
  const items = doc.listOf(pair, ['files'], 'a list of - source: … destination: … entries');
  items?.forEach((item, i) => {
    const path = ['files', i];
    const entry = doc.mapItem(item, path, 'a mapping with source and destination');
    if (!entry) return;
    keysOf(doc, entry, path, FILE_KEYS);
    const source = doc.required(entry, 'source', path, 'a file or directory of the revision, or / for all of it');
    const destination = doc.required(
      entry,
      'destination',
      path,
      'the directory on the instance to copy source into, such as /var/www/html',
    );
    if (source) {
      const value = doc.stringValue(source, [...path, 'source'], 'a path in the revision, or / for all of it');
      if (value !== undefined) checkRevisionPath(doc, source, [...path, 'source'], value, 'source');
    }
    if (destination) {
      const value = doc.stringValue(destination, [...path, 'destination'], 'an absolute path on the instance');
      const absolute = doc.os === 'windows' ? /^[A-Za-z]:[\\/]/ : /^\//;
      if (value !== undefined && !absolute.test(value)) {
        doc.report(
          doc.nodeAt(destination.value, 0),
          [...path, 'destination'],
          `received ${describeValue(value)}; expected an absolute path on the instance, such as ${doc.os === 'windows' ? 'C:\\inetpub\\wwwroot' : '/var/www/html'}`,
        );
      }
    }
  });
}

/** The permissions section, on Linux only: each entry an absolute object and the permissions to set. */
export function checkPermissions(doc: AppSpecDocument, pair: Pair): void {
  if (doc.os === 'windows') {
    doc.report(
      doc.keyAt(pair).offset,
      ['permissions'],
      'received permissions with os: windows; expected permissions on Linux instances only (CodeDeploy refuses them on Windows)',
    );
    return;
  }
  const items = doc.listOf(pair, ['permissions'], 'a list of - object: … entries');
  items?.forEach((item, i) => {
    const path = ['permissions', i];
    const entry = doc.mapItem(item, path, 'a mapping with object and the permissions to set');
    if (!entry) return;
    keysOf(doc, entry, path, PERMISSION_KEYS);
    const object = doc.required(entry, 'object', path, 'the installed file or directory the permissions apply to');
    if (object) {
      const value = doc.stringValue(object, [...path, 'object'], 'an absolute path on the instance');
      if (value !== undefined && !value.startsWith('/')) {
        doc.report(
          doc.nodeAt(object.value, 0),
          [...path, 'object'],
          `received ${describeValue(value)}; expected an absolute path on the instance, such as /var/www/html`,
        );
      }
    }
    for (const key of ['pattern', 'owner', 'group']) {
      const field = doc.field(entry, key);
      if (field) doc.stringValue(field, [...path, key], key === 'pattern' ? 'a glob such as **/*.html' : 'a name');
    }
    for (const key of ['except', 'acls']) {
      const field = doc.field(entry, key);
      if (!field) continue;
      const list = doc.listOf(field, [...path, key], 'a list of strings');
      list?.forEach((v, j) => {
        if (!isScalar(v) || typeof v.value !== 'string') {
          doc.report(doc.nodeAt(v, 0), [...path, key, j], `received ${received(v)}; expected a string`);
        }
      });
    }
    const type = doc.field(entry, 'type');
    if (type) {
      doc.listOf(type, [...path, 'type'], 'a list of file, directory')?.forEach((v, j) => {
        if (!isScalar(v) || !PERMISSION_TYPES.includes(v.value as string)) {
          doc.report(doc.nodeAt(v, 0), [...path, 'type', j], `received ${received(v)}; expected file or directory`);
        }
      });
    }
    const mode = doc.field(entry, 'mode');
    if (mode) checkMode(doc, mode, [...path, 'mode']);
    const context = doc.field(entry, 'context');
    if (context) {
      const value = context.value;
      if (!isMap(value)) {
        doc.report(
          doc.nodeAt(value, doc.keyAt(context).offset),
          [...path, 'context'],
          `received ${received(value)}; expected a mapping of SELinux user, type and range`,
        );
      } else {
        keysOf(doc, value, [...path, 'context'], CONTEXT_KEYS);
      }
    }
  });
}

/** A mode as CodeDeploy reads it: octal digits, without the leading zero that YAML 1.1 takes for an octal number. */
function checkMode(doc: AppSpecDocument, pair: Pair, path: Path): void {
  const value = pair.value;
  const offset = doc.nodeAt(value, doc.keyAt(pair).offset);
  const text = isScalar(value) ? String(value.value) : '';
  const source = isScalar(value) && value.type === 'PLAIN' ? String(value.source) : '';
  if (/^0[0-7]+$/.test(source)) {
    doc.report(
      offset,
      path,
      `received ${source}: CodeDeploy's YAML 1.1 reader takes a leading zero for an octal number and would set mode ${text}; expected the mode without the leading zero, such as ${source.replace(/^0+/, '')}`,
    );
  } else if (!/^[0-7]{3,4}$/.test(text)) {
    doc.report(
      offset,
      path,
      `received ${received(value)}; expected an octal mode of 3 or 4 digits, such as 644 or 2775`,
    );
  }
}
