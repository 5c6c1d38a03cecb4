import { isAlias, isMap, isScalar, isSeq, Pair, YAMLMap } from 'yaml';
import { AppSpecCheckOptions, AppSpecDocument, AppSpecProblem, isEmpty, Path, received } from './document';
import { checkFiles, checkPermissions } from './files-and-permissions';
import { checkHooks } from './hooks';
import { unknownKey } from './misplaced-keys';
import { FILE_EXISTS_BEHAVIORS, TOP_KEYS } from './rules';
import { reportSyntaxError } from './syntax-errors';
import { closest } from '../config/schema';

export type { AppSpecCheckOptions, AppSpecProblem } from './document';
export { LIFECYCLE_ORDER, MAX_HOOK_SECONDS } from './rules';

/*
 * Internal (not exported through jsii): checks the appspec.yml of an EC2/On-Premises CodeDeploy
 * revision before it is pushed, so that a mistake costs a second instead of a failed deployment
 * and a rollback. `paas-vending check-appspec` runs it; its rules come from the AppSpec reference
 * (https://docs.aws.amazon.com/codedeploy/latest/userguide/reference-appspec-file.html) and from
 * what the CodeDeploy agent does with the file:
 *
 * - The agent reads the file with Ruby's YAML 1.1 reader (Psych), so the file is parsed as YAML 1.1
 *   here too (`mode: 0644` is an octal number there), and aliases are refused, as Psych 4's
 *   `YAML.load` does.
 * - Hook names and their order, and the time of their scripts: hooks.ts.
 * - Scripts and file sources, which must be in the revision (and a script start with `#!`): revision.ts.
 * - Indentation mistakes leave keys at the wrong level: misplaced-keys.ts says where such a key belongs, and
 *   syntax-errors.ts words the mistakes YAML itself refuses (and what a paste from a web page leaves).
 *
 * This file checks the document as a whole (aliases, duplicate keys, the top-level keys, version and os) and hands
 * each section to its file; document.ts holds positions and reporting, rules.ts what CodeDeploy accepts.
 */

/** Checks the text of an appspec.yml; returns every problem found, in line order (none when valid). */
export function checkAppSpec(text: string, options: AppSpecCheckOptions): AppSpecProblem[] {
  const doc = new AppSpecDocument(text, options);
  const parsed = doc.parse();
  for (const error of [...parsed.errors, ...parsed.warnings]) reportSyntaxError(doc, error);
  const root = parsed.contents;
  if (isEmpty(root)) {
    if (!doc.hasProblems()) {
      doc.report(0, [], 'the file is empty; expected an AppSpec file with version: 0.0, os: linux, files and hooks');
    }
    return doc.sorted();
  }
  walk(doc, root, []);
  if (!isMap(root)) {
    doc.report(
      doc.nodeAt(root, 0),
      [],
      `received ${received(root)}; expected a mapping with the keys version, os, files and hooks`,
    );
    return doc.sorted();
  }
  checkTop(doc, root);
  return doc.sorted();
}

/** Every mapping: duplicate keys and aliases, anywhere; and where the `location` keys are. */
function walk(doc: AppSpecDocument, node: unknown, path: Path): void {
  if (isAlias(node)) {
    doc.report(
      doc.nodeAt(node, 0),
      path,
      `received the alias *${node.source}; expected the value written out: the CodeDeploy agent's YAML reader (Ruby Psych 4) refuses aliases`,
    );
  } else if (isMap(node)) {
    const seen = new Map<string, number>();
    for (const pair of node.items) {
      const { name, offset } = doc.keyAt(pair);
      if (isAlias(pair.key)) walk(doc, pair.key, [...path, name]);
      if (name === 'location') doc.locations.push(offset);
      const first = seen.get(name);
      if (first !== undefined) {
        doc.report(
          offset,
          [...path, name],
          `received ${name} a second time (first at line ${doc.at(first).line}); expected each key once: CodeDeploy's YAML reader keeps only the last one`,
        );
      } else {
        seen.set(name, offset);
      }
      walk(doc, pair.value, [...path, name]);
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, i) => walk(doc, item, [...path, i]));
  }
}

/** The top-level keys, then each section. */
function checkTop(doc: AppSpecDocument, root: YAMLMap): void {
  const get = (key: string) => root.items.find((p) => isScalar(p.key) && p.key.value === key);
  const os = get('os');
  checkVersion(doc, get('version'));
  checkOs(doc, os);
  const hooksPair = get('hooks');
  const filesPair = get('files');
  for (const pair of root.items) {
    const { name, offset } = doc.keyAt(pair);
    if (!TOP_KEYS.includes(name)) unknownKey(doc, name, offset, [name], TOP_KEYS, { hooksPair, filesPair });
  }
  if (filesPair) checkFiles(doc, filesPair);
  const behavior = get('file_exists_behavior');
  if (behavior) doc.oneOf(behavior, ['file_exists_behavior'], FILE_EXISTS_BEHAVIORS);
  const permissions = get('permissions');
  if (permissions) checkPermissions(doc, permissions);
  if (hooksPair) checkHooks(doc, hooksPair, root);
}

function checkVersion(doc: AppSpecDocument, pair: Pair | undefined): void {
  if (!pair) {
    doc.report(0, ['version'], 'is missing; expected version: 0.0, the only version CodeDeploy accepts');
    return;
  }
  const value = pair.value;
  if (isScalar(value) && value.value === 0 && typeof value.value === 'number') return;
  const quoted = isScalar(value) && typeof value.value === 'string' && Number(value.value) === 0;
  doc.report(
    doc.nodeAt(value, doc.keyAt(pair).offset),
    ['version'],
    `received ${received(value)}${quoted ? ' (a string: quoted)' : ''}; expected 0.0, unquoted: the only version CodeDeploy accepts`,
  );
}

function checkOs(doc: AppSpecDocument, pair: Pair | undefined): void {
  if (!pair) {
    doc.report(0, ['os'], 'is missing; expected os: linux (or windows for Windows Server instances)');
    return;
  }
  const value = pair.value;
  if (isScalar(value) && (value.value === 'linux' || value.value === 'windows')) {
    doc.os = value.value;
    return;
  }
  const guess =
    isScalar(value) && typeof value.value === 'string' ? closest(value.value, ['linux', 'windows']) : undefined;
  doc.report(
    doc.nodeAt(value, doc.keyAt(pair).offset),
    ['os'],
    `received ${received(value)}${guess ? ` (did you mean "${guess}"?)` : ''}; expected linux or windows, in lower case`,
  );
}
