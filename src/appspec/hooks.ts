import { isMap, isScalar, isSeq, Pair, YAMLMap } from 'yaml';
import { AppSpecDocument, isEmpty, Path, received } from './document';
import { belongsElsewhere, keysOf } from './misplaced-keys';
import { checkRevisionPath } from './revision';
import { LIFECYCLE_ORDER, LIFECYCLE_TEXT, LINUX_USER, MAX_HOOK_SECONDS, RESERVED_EVENTS, SCRIPT_KEYS } from './rules';
import { closest } from '../config/schema';

/*
 * The hooks section. The agent runs only the lifecycle events CodeDeploy sends it: a misspelled one is silently
 * never run, hence an error with a suggestion. CodeDeploy runs them in the lifecycle order whatever the order of
 * the file (the run-order diagram of the AppSpec reference, and the agent's own `codedeploy-local` list): a file in
 * another order misleads its reader, hence an error too. The scripts of one event share CodeDeploy's limit.
 */

/** The hooks section: lifecycle events in the order CodeDeploy runs them, each with its scripts. */
export function checkHooks(doc: AppSpecDocument, pair: Pair, root: YAMLMap): void {
  const value = pair.value;
  if (isEmpty(value)) {
    const stray = root.items
      .map((p) => doc.keyAt(p))
      .filter((k) => LIFECYCLE_ORDER.includes(k.name) || RESERVED_EVENTS[k.name]);
    const hint = stray.length
      ? `; ${stray.map((k) => `${k.name} (line ${doc.at(k.offset).line})`).join(', ')} ${stray.length === 1 ? 'is' : 'are'} at the top level instead`
      : '';
    doc.report(
      doc.keyAt(pair).offset,
      ['hooks'],
      `received nothing; expected lifecycle events indented under hooks, each with its scripts${hint}`,
    );
    return;
  }
  if (isSeq(value)) {
    doc.report(
      doc.nodeAt(value, 0),
      ['hooks'],
      'received a list (the hooks of an ECS or Lambda AppSpec); expected a mapping of lifecycle events to scripts, such as BeforeInstall: followed by - location: …',
    );
    return;
  }
  if (!isMap(value)) {
    doc.report(
      doc.nodeAt(value, 0),
      ['hooks'],
      `received ${received(value)}; expected a mapping of lifecycle events to scripts`,
    );
    return;
  }
  let latest: { name: string; index: number; line: number } | undefined;
  for (const hook of value.items) {
    const { name, offset } = doc.keyAt(hook);
    const path = ['hooks', name];
    const reserved = RESERVED_EVENTS[name];
    if (reserved) {
      doc.report(
        offset,
        path,
        `received ${name}, an event reserved for CodeDeploy (${reserved.what}) that cannot run scripts; expected the scripts in ${reserved.instead}`,
      );
      continue;
    }
    const index = LIFECYCLE_ORDER.indexOf(name);
    const elsewhere =
      index < 0 && !closest(name, LIFECYCLE_ORDER)
        ? belongsElsewhere(doc, name, offset, 'among the lifecycle events', {})
        : undefined;
    if (elsewhere) {
      // A key of a script or a section, at the level of the lifecycle events: an indentation mistake.
      doc.report(offset, path, `received the key "${name}"${elsewhere}`);
      continue;
    }
    if (index < 0) {
      const guess = closest(name, LIFECYCLE_ORDER);
      doc.report(
        offset,
        path,
        `received the lifecycle event "${name}"${guess ? ` (did you mean "${guess}"?)` : ''}; expected one of ${LIFECYCLE_TEXT} (CodeDeploy never runs the scripts of an unknown event)`,
      );
    } else if (latest && index < latest.index) {
      doc.report(
        offset,
        path,
        `received ${name} after ${latest.name} (line ${latest.line}); expected the hooks in the order CodeDeploy runs them, whatever the order of the file: ${LIFECYCLE_TEXT}`,
      );
    } else {
      latest = { name, index, line: doc.at(offset).line };
    }
    checkScripts(doc, hook, path);
  }
}

/** The scripts of one lifecycle event: location, timeout and runas of each, and their total time. */
function checkScripts(doc: AppSpecDocument, hook: Pair, path: Path): void {
  const value = hook.value;
  if (isMap(value)) {
    doc.report(
      doc.nodeAt(value, 0),
      path,
      `received a mapping; expected a list of scripts, each starting with a dash: - location: …`,
    );
    return;
  }
  const items = doc.listOf(hook, path, 'a list of scripts, each starting with a dash: - location: …');
  if (!items) return;
  let total = 0;
  let defaulted = 0;
  let known = true;
  items.forEach((item, i) => {
    const scriptPath = [...path, i];
    const script = doc.mapItem(item, scriptPath, 'a mapping with location, timeout and runas');
    // What the parser made of a line with a syntax error is no ground for a total.
    if (doc.syntaxLines.has(doc.at(doc.nodeAt(item, 0)).line)) known = false;
    if (!script) {
      known = false;
      return;
    }
    keysOf(doc, script, scriptPath, SCRIPT_KEYS);
    const location = doc.required(script, 'location', scriptPath, 'the path of the script in the revision');
    if (location) {
      const where = doc.stringValue(
        location,
        [...scriptPath, 'location'],
        'a path in the revision such as deployScript/start.sh',
      );
      if (where !== undefined) checkRevisionPath(doc, location, [...scriptPath, 'location'], where, 'location');
    }
    const timeout = doc.field(script, 'timeout');
    if (!timeout) {
      defaulted++;
      total += MAX_HOOK_SECONDS;
    } else {
      const seconds = checkTimeout(doc, timeout, [...scriptPath, 'timeout']);
      if (seconds === undefined) known = false;
      else total += seconds;
    }
    const runas = doc.field(script, 'runas');
    if (runas) checkRunas(doc, runas, [...scriptPath, 'runas']);
  });
  if (known && items.length > 1 && total > MAX_HOOK_SECONDS) {
    const note = defaulted ? ` (a script without timeout counts ${MAX_HOOK_SECONDS}, CodeDeploy's default)` : '';
    doc.report(
      doc.keyAt(hook).offset,
      path,
      `received scripts that may run ${total} seconds in all${note}; expected at most ${MAX_HOOK_SECONDS} seconds for the scripts of one lifecycle event`,
    );
  }
}

function checkTimeout(doc: AppSpecDocument, pair: Pair, path: Path): number | undefined {
  const value = pair.value;
  if (isScalar(value) && typeof value.value === 'number' && Number.isInteger(value.value)) {
    if (value.value >= 1 && value.value <= MAX_HOOK_SECONDS) return value.value;
  }
  doc.report(
    doc.nodeAt(value, doc.keyAt(pair).offset),
    path,
    `received ${received(value)}; expected a whole number of seconds from 1 to ${MAX_HOOK_SECONDS}, without unit or quotes`,
  );
  return undefined;
}

function checkRunas(doc: AppSpecDocument, pair: Pair, path: Path): void {
  const offset = doc.nodeAt(pair.value, doc.keyAt(pair).offset);
  if (doc.os === 'windows') {
    doc.report(offset, path, 'received runas with os: windows; expected runas on Linux instances only');
    return;
  }
  const value = pair.value;
  if (isScalar(value) && typeof value.value === 'string' && LINUX_USER.test(value.value)) return;
  doc.report(offset, path, `received ${received(value)}; expected a Linux user name such as root or ec2-user`);
}
