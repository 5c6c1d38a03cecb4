import { closeSync, existsSync, openSync, readSync, statSync } from 'fs';
import { isAbsolute, join, normalize } from 'path';
import { isAlias, isMap, isScalar, isSeq, LineCounter, Node, Pair, parseDocument, YAMLError, YAMLMap } from 'yaml';
import { describeValue } from '../config/errors';
import { closest } from '../config/schema';

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
 * - Hook names: the agent runs only the lifecycle events CodeDeploy sends it; a misspelled one is
 *   silently never run, hence an error with a suggestion. CodeDeploy runs them in the lifecycle order
 *   whatever the order of the file (the run-order diagram of the reference, and the agent's own
 *   `codedeploy-local` list): a file in another order misleads its reader, hence an error too.
 * - Scripts: the agent joins `location` to the root of the revision, makes the file executable
 *   itself when it is not (so the executable bit is not checked), then executes the file directly:
 *   without a `#!` line the kernel refuses it and a fallback shell runs it, whichever that is. With a
 *   revision root, the file must therefore exist and start with `#!` (and a Unix line ending).
 * - Indentation mistakes leave keys at the wrong level: a lifecycle event at the top level, `timeout`
 *   beside `hooks`. Such a key is reported where it is, with where it belongs.
 */

/** One problem found in an AppSpec file. */
export interface AppSpecProblem {
  /** Line of the problem, from 1. */
  readonly line: number;
  /** Column of the problem, from 1. */
  readonly column: number;
  /** Dotted path of the field, such as `hooks.ApplicationStart[0].timeout`; empty for the file itself. */
  readonly path: string;
  /** What is wrong: the value received and what was expected. */
  readonly message: string;
}

export interface AppSpecCheckOptions {
  /** Name of the file, for messages. */
  readonly fileName: string;
  /**
   * Root of the revision as CodeDeploy receives it (where appspec.yml sits): when given, script
   * locations and file sources must exist there.
   * @default - paths are not checked against files
   */
  readonly revisionRoot?: string;
}

/** The lifecycle events of an in-place deployment behind a load balancer that run scripts, in the order CodeDeploy runs them. */
export const LIFECYCLE_ORDER = [
  'BeforeBlockTraffic',
  'AfterBlockTraffic',
  'ApplicationStop',
  'BeforeInstall',
  'AfterInstall',
  'ApplicationStart',
  'ValidateService',
  'BeforeAllowTraffic',
  'AfterAllowTraffic',
];

/** Events reserved for CodeDeploy: what happens during each, and where a script goes instead. */
const RESERVED_EVENTS: Record<string, { what: string; instead: string }> = {
  Start: { what: 'the deployment starts', instead: 'BeforeBlockTraffic' },
  DownloadBundle: { what: 'the agent downloads the revision', instead: 'ApplicationStop or BeforeInstall' },
  Install: { what: 'the agent copies the files section to the instance', instead: 'BeforeInstall or AfterInstall' },
  BlockTraffic: {
    what: 'the load balancer stops sending requests',
    instead: 'BeforeBlockTraffic or AfterBlockTraffic',
  },
  AllowTraffic: { what: 'the load balancer sends requests again', instead: 'BeforeAllowTraffic or AfterAllowTraffic' },
  End: { what: 'the deployment ends', instead: 'ValidateService or AfterAllowTraffic' },
};

/** CodeDeploy's limit for the scripts of one lifecycle event, and the timeout of a script that sets none. */
export const MAX_HOOK_SECONDS = 3600;

const TOP_KEYS = ['version', 'os', 'files', 'file_exists_behavior', 'permissions', 'hooks'];
const FILE_KEYS = ['source', 'destination'];
const PERMISSION_KEYS = ['object', 'pattern', 'except', 'owner', 'group', 'mode', 'acls', 'context', 'type'];
const CONTEXT_KEYS = ['user', 'type', 'range'];
const SCRIPT_KEYS = ['location', 'timeout', 'runas'];
const FILE_EXISTS_BEHAVIORS = ['DISALLOW', 'OVERWRITE', 'RETAIN'];
const PERMISSION_TYPES = ['file', 'directory'];
const LINUX_USER = /^[a-z_][a-z0-9_.-]{0,31}$/i;
const LIFECYCLE_TEXT = LIFECYCLE_ORDER.join(', ');

/** Checks the text of an appspec.yml; returns every problem found, in line order (none when valid). */
export function checkAppSpec(text: string, options: AppSpecCheckOptions): AppSpecProblem[] {
  return new Checker(text, options).run();
}

type Path = (string | number)[];

function pathText(path: Path): string {
  return path.map((seg, i) => (typeof seg === 'number' ? `[${seg}]` : `${i > 0 ? '.' : ''}${seg}`)).join('');
}

function keyName(pair: Pair): string {
  if (isScalar(pair.key)) return String(pair.key.value);
  if (isAlias(pair.key)) return `*${pair.key.source}`;
  return describeValue((pair.key as Node | null)?.toJSON());
}

/** A node or a missing value, described as a message shows it. */
function received(node: unknown): string {
  if (node === null || node === undefined || (isScalar(node) && node.value === null)) return 'nothing';
  if (isMap(node)) return 'a mapping';
  if (isSeq(node)) return 'a list';
  if (isScalar(node)) {
    return node.type === 'PLAIN' && typeof node.value !== 'string' && node.source
      ? node.source
      : describeValue(node.value);
  }
  return 'an alias';
}

function isEmpty(node: unknown): boolean {
  return node === null || node === undefined || (isScalar(node) && node.value === null);
}

class Checker {
  private readonly lines = new LineCounter();
  private readonly problems: AppSpecProblem[] = [];
  /** Lines with a YAML syntax error: what the parser made of them is not reported again. */
  private readonly syntaxLines = new Set<number>();
  private readonly textLines: string[];
  /** Offsets of every `location` key, to say which script a stray key belongs to. */
  private readonly locations: number[] = [];
  private os: string | undefined;

  constructor(
    private readonly text: string,
    private readonly options: AppSpecCheckOptions,
  ) {
    this.textLines = text.split('\n').map((l) => l.replace(/\r$/, ''));
  }

  run(): AppSpecProblem[] {
    const doc = parseDocument(this.text, {
      lineCounter: this.lines,
      prettyErrors: false,
      uniqueKeys: false, // duplicates are reported below, with the line of the first one
      version: '1.1',
    });
    for (const error of [...doc.errors, ...doc.warnings]) this.syntax(error);
    const root = doc.contents;
    if (isEmpty(root)) {
      if (this.problems.length === 0) {
        this.report(0, [], 'the file is empty; expected an AppSpec file with version: 0.0, os: linux, files and hooks');
      }
      return this.sorted();
    }
    this.walk(root, []);
    if (!isMap(root)) {
      this.report(
        this.nodeAt(root, 0),
        [],
        `received ${received(root)}; expected a mapping with the keys version, os, files and hooks`,
      );
      return this.sorted();
    }
    this.top(root);
    return this.sorted();
  }

  // --- positions and reporting ---------------------------------------------------------------

  private at(offset: number) {
    const { line, col } = this.lines.linePos(offset);
    return { line, column: col };
  }

  private report(offset: number, path: Path, message: string, syntax = false): void {
    const { line, column } = this.at(offset);
    if (syntax) {
      this.syntaxLines.add(line);
    } else if (this.syntaxLines.has(line)) {
      return;
    }
    const problem = { line, column, path: pathText(path), message };
    // One problem per place: the first is the most specific (an alias before the value it stands for).
    const same = (p: AppSpecProblem) =>
      p.line === line && (p.message === message || (p.column === column && p.path === problem.path));
    if (!this.problems.some(same)) this.problems.push(problem);
  }

  private sorted(): AppSpecProblem[] {
    return [...this.problems].sort((a, b) => a.line - b.line || a.column - b.column);
  }

  /** Where a key starts. A key the parser joined over several lines is the text of its last line. */
  private keyAt(pair: Pair): { name: string; offset: number } {
    const key = pair.key as Node | null;
    const name = keyName(pair);
    const range = key?.range;
    if (!range) return { name, offset: 0 };
    if (!isScalar(key) || key.type !== 'PLAIN') return { name, offset: range[0] };
    const source = this.text.slice(range[0], range[1]);
    const lastBreak = source.lastIndexOf('\n');
    if (lastBreak < 0) return { name, offset: range[0] };
    const last = source.slice(lastBreak + 1);
    const indent = last.length - last.trimStart().length;
    return { name: last.trim(), offset: range[0] + lastBreak + 1 + indent };
  }

  private nodeAt(node: unknown, fallback: number): number {
    return (node as Node | null)?.range?.[0] ?? fallback;
  }

  private lineText(line: number): string {
    return this.textLines[line - 1];
  }

  // --- YAML syntax, in words ---------------------------------------------------------------------

  private syntax(error: YAMLError): void {
    const offset = error.pos[0];
    const { line } = this.at(offset);
    const text = this.lineText(line);
    const trimmed = text.trim();
    const indent = text.length - text.trimStart().length;
    let message: string;
    if (trimmed.startsWith('```')) {
      message =
        'received a Markdown code fence (```); expected YAML only: delete this line (was the file copied from a web page?)';
      this.report(this.lines.lineStarts[line - 1], [], message, true);
      return;
    }
    switch (error.code) {
      case 'MULTILINE_IMPLICIT_KEY': {
        // A line without a colon: the parser joins it to the key of the next line.
        if (!/:(\s|$)/.test(trimmed)) {
          message = `received a line of text that is not "key: value" (${describeValue(trimmed)}); expected a key followed by a colon, or a comment starting with #`;
          break;
        }
        const deeper = this.overIndented(line);
        if (deeper) {
          this.syntaxLines.add(line);
          this.report(deeper.offset, [], deeper.message, true);
          return;
        }
        message = `YAML syntax error: ${firstLine(error.message)}`;
        break;
      }
      case 'MISSING_CHAR':
        message = this.misalignedKey(line, indent, trimmed) ?? `YAML syntax error: ${firstLine(error.message)}`;
        break;
      case 'BAD_INDENT':
        message =
          (trimmed.startsWith('-')
            ? this.misalignedItem(line, indent, trimmed)
            : this.misalignedKey(line, indent, trimmed)) ?? `YAML syntax error: ${firstLine(error.message)}`;
        break;
      case 'BLOCK_AS_IMPLICIT_KEY': {
        const keys = trimmed.replace(/^-\s*/, '').match(/[A-Za-z_][\w-]*:(?=\s|$)/g) ?? [];
        if (keys.length > 1) {
          message = `received ${keys.length} keys on one line (${describeValue(trimmed.replace(/^-\s*/, ''))}); expected one key per line, each under the previous one`;
          break;
        }
        // The parser read a key indented further than its siblings as the rest of the value above it.
        const deeper = this.overIndented(line);
        if (deeper) {
          this.syntaxLines.add(line);
          this.report(deeper.offset, [], deeper.message, true);
          return;
        }
        message = `YAML syntax error: ${firstLine(error.message)}`;
        break;
      }
      case 'TAB_AS_INDENT':
        message = 'received a tab in the indentation; expected spaces only (YAML forbids tabs for indentation)';
        break;
      default:
        message = `YAML ${error.name === 'YAMLWarning' ? 'problem' : 'syntax error'}: ${firstLine(error.message)}`;
    }
    this.report(offset, [], message, true);
  }

  /** The content line above a line, skipping blank lines and comments. */
  private previousContent(line: number): { line: number; text: string } | undefined {
    for (let l = line - 1; l >= 1; l--) {
      const text = this.lineText(l);
      if (text.trim() !== '' && !text.trim().startsWith('#')) return { line: l, text };
    }
    return undefined;
  }

  /** A key indented less than the keys of the list item above it (` timeout:` under `- location:`). */
  private misalignedKey(line: number, indent: number, trimmed: string): string | undefined {
    const key = trimmed.match(/^([^\s:]+):/)?.[1];
    const item = this.itemAbove(line, indent);
    if (!key || !item || indent + 1 >= item.column) return undefined;
    return (
      `received ${key} at column ${indent + 1}, left of ${item.key} (line ${item.line}, column ${item.column}) of the same list item; ` +
      `expected the keys of one item aligned: ${key} at column ${item.column}, under ${item.key}`
    );
  }

  /** The list item (`- key: …`) a line belongs to: the nearest above, past lines indented at least as much. */
  private itemAbove(line: number, indent: number): { line: number; key: string; column: number } | undefined {
    for (let above = this.previousContent(line); above; above = this.previousContent(above.line)) {
      const item = above.text.match(/^(\s*)(-\s+)([^\s:]+):/);
      if (item) return { line: above.line, key: item[3], column: item[1].length + item[2].length + 1 };
      if (above.text.length - above.text.trimStart().length < indent) return undefined;
    }
    return undefined;
  }

  /** A `key:` line indented further than the key of the line above it, which the parser took as a value. */
  private overIndented(line: number): { offset: number; message: string } | undefined {
    const here = this.lineText(line);
    const sibling = here.match(/^(\s*(?:-\s+)?)([\w-]+):/);
    const next = this.nextContent(line);
    const key = next?.text.match(/^(\s*)([\w-]+):/);
    if (!sibling || !next || !key || key[1].length <= sibling[1].length) return undefined;
    return {
      offset: this.lines.lineStarts[next.line - 1] + key[1].length,
      message:
        `received ${key[2]} at column ${key[1].length + 1}, right of ${sibling[2]} (line ${line}, column ${sibling[1].length + 1}), ` +
        `so YAML reads it as part of the value of ${sibling[2]}; expected ${key[2]} at column ${sibling[1].length + 1}, under ${sibling[2]}`,
    };
  }

  /** A list item that starts at another column than the list above it (` - timeout:` under `- location:`). */
  private misalignedItem(line: number, indent: number, trimmed: string): string | undefined {
    let above = this.previousContent(line);
    while (above && !/^\s*-(\s|$)/.test(above.text)) above = this.previousContent(above.line);
    if (!above) return undefined;
    const aboveIndent = above.text.length - above.text.trimStart().length;
    const key = trimmed.replace(/^-\s*/, '').match(/^([^\s:]+):/)?.[1];
    const hint =
      key && SCRIPT_KEYS.includes(key)
        ? `expected ${key} as a key of the script above: no dash, aligned under ${above.text.trim().replace(/^-\s*/, '').split(':')[0]}`
        : `expected every item of one list at the same column`;
    return `received a list item at column ${indent + 1} while the list above starts at column ${aboveIndent + 1} (line ${above.line}); ${hint}`;
  }

  // --- the document ------------------------------------------------------------------------------

  /** Every mapping: duplicate keys and aliases, anywhere; and where the `location` keys are. */
  private walk(node: unknown, path: Path): void {
    if (isAlias(node)) {
      this.report(
        this.nodeAt(node, 0),
        path,
        `received the alias *${node.source}; expected the value written out: the CodeDeploy agent's YAML reader (Ruby Psych 4) refuses aliases`,
      );
    } else if (isMap(node)) {
      const seen = new Map<string, number>();
      for (const pair of node.items) {
        const { name, offset } = this.keyAt(pair);
        if (isAlias(pair.key)) this.walk(pair.key, [...path, name]);
        if (name === 'location') this.locations.push(offset);
        const first = seen.get(name);
        if (first !== undefined) {
          this.report(
            offset,
            [...path, name],
            `received ${name} a second time (first at line ${this.at(first).line}); expected each key once: CodeDeploy's YAML reader keeps only the last one`,
          );
        } else {
          seen.set(name, offset);
        }
        this.walk(pair.value, [...path, name]);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => this.walk(item, [...path, i]));
    }
  }

  private top(root: YAMLMap): void {
    const get = (key: string) => root.items.find((p) => isScalar(p.key) && p.key.value === key);
    const os = get('os');
    this.version(get('version'));
    this.checkOs(os);
    const hooksPair = get('hooks');
    const filesPair = get('files');
    for (const pair of root.items) {
      const { name, offset } = this.keyAt(pair);
      if (!TOP_KEYS.includes(name)) this.unknownKey(name, offset, [name], TOP_KEYS, { hooksPair, filesPair });
    }
    if (filesPair) this.files(filesPair);
    const behavior = get('file_exists_behavior');
    if (behavior) this.oneOf(behavior, ['file_exists_behavior'], FILE_EXISTS_BEHAVIORS);
    const permissions = get('permissions');
    if (permissions) this.permissions(permissions);
    if (hooksPair) this.hooks(hooksPair, root);
  }

  private version(pair: Pair | undefined): void {
    if (!pair) {
      this.report(0, ['version'], 'is missing; expected version: 0.0, the only version CodeDeploy accepts');
      return;
    }
    const value = pair.value;
    if (isScalar(value) && value.value === 0 && typeof value.value === 'number') return;
    const quoted = isScalar(value) && typeof value.value === 'string' && Number(value.value) === 0;
    this.report(
      this.nodeAt(value, this.keyAt(pair).offset),
      ['version'],
      `received ${received(value)}${quoted ? ' (a string: quoted)' : ''}; expected 0.0, unquoted: the only version CodeDeploy accepts`,
    );
  }

  private checkOs(pair: Pair | undefined): void {
    if (!pair) {
      this.report(0, ['os'], 'is missing; expected os: linux (or windows for Windows Server instances)');
      return;
    }
    const value = pair.value;
    if (isScalar(value) && (value.value === 'linux' || value.value === 'windows')) {
      this.os = value.value;
      return;
    }
    const guess =
      isScalar(value) && typeof value.value === 'string' ? closest(value.value, ['linux', 'windows']) : undefined;
    this.report(
      this.nodeAt(value, this.keyAt(pair).offset),
      ['os'],
      `received ${received(value)}${guess ? ` (did you mean "${guess}"?)` : ''}; expected linux or windows, in lower case`,
    );
  }

  /** A key that is not allowed here: a typo, a key of another section, or unknown. */
  private unknownKey(
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
      message = `received the key "${name}"${this.belongsElsewhere(name, offset, allowed === TOP_KEYS ? 'at the top level' : 'here', context) ?? `; expected one of ${allowed.join(', ')}`}`;
    }
    this.report(offset, path, message);
  }

  /** Where a key that is misplaced here belongs, as the end of a message. */
  private belongsElsewhere(
    name: string,
    offset: number,
    here: string,
    context: { hooksPair?: Pair; filesPair?: Pair },
  ): string | undefined {
    if (LIFECYCLE_ORDER.includes(name) || RESERVED_EVENTS[name]) {
      const hooks = context.hooksPair ? ` (line ${this.at(this.keyAt(context.hooksPair).offset).line})` : '';
      return ` ${here}, a lifecycle event; expected it indented under hooks${hooks}`;
    }
    if (SCRIPT_KEYS.includes(name)) {
      const location = [...this.locations].reverse().find((l) => l < offset);
      const where = location !== undefined ? this.at(location) : undefined;
      return where
        ? ` ${here}, a key of a hook script; expected it indented under the script's location (line ${where.line}), at column ${where.column}`
        : ` ${here}, a key of a hook script; expected it under a lifecycle event in hooks, as in - location: …`;
    }
    if (FILE_KEYS.includes(name)) {
      const files = context.filesPair?.value;
      const last = isSeq(files) ? files.items[files.items.length - 1] : undefined;
      const source = isMap(last) ? last.items.find((p) => isScalar(p.key) && p.key.value === 'source') : undefined;
      const where = source ? this.at(this.keyAt(source).offset) : undefined;
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

  /** Keys of a mapping that are not allowed there. */
  private keysOf(map: YAMLMap, path: Path, allowed: string[]): void {
    for (const pair of map.items) {
      const { name, offset } = this.keyAt(pair);
      if (!allowed.includes(name)) this.unknownKey(name, offset, [...path, name], allowed);
    }
  }

  private field(map: YAMLMap, key: string): Pair | undefined {
    return map.items.find((p) => isScalar(p.key) && p.key.value === key);
  }

  private oneOf(pair: Pair, path: Path, values: string[]): void {
    const value = pair.value;
    if (isScalar(value) && typeof value.value === 'string' && values.includes(value.value)) return;
    this.report(
      this.nodeAt(value, this.keyAt(pair).offset),
      path,
      `received ${received(value)}; expected one of ${values.join(', ')}`,
    );
  }

  /** A section written with nothing under it: almost always its content is not indented under it. */
  private emptySection(pair: Pair, path: Path, expected: string): void {
    const { offset } = this.keyAt(pair);
    const next = this.nextContent(this.at(offset).line);
    const hint =
      next && next.text.length - next.text.trimStart().length <= this.at(offset).column - 1
        ? ` indented under it (line ${next.line} is at column ${next.text.length - next.text.trimStart().length + 1}, the column of ${path[path.length - 1]})`
        : ' indented under it';
    this.report(offset, path, `received nothing; expected ${expected}${hint}`);
  }

  private nextContent(line: number): { line: number; text: string } | undefined {
    const count = this.lines.lineStarts.length;
    for (let l = line + 1; l <= count; l++) {
      const text = this.lineText(l);
      if (text.trim() !== '' && !text.trim().startsWith('#')) return { line: l, text };
    }
    return undefined;
  }

  private stringValue(pair: Pair, path: Path, expected: string): string | undefined {
    const value = pair.value;
    if (isScalar(value) && typeof value.value === 'string' && value.value.trim() !== '') return value.value;
    this.report(this.nodeAt(value, this.keyAt(pair).offset), path, `received ${received(value)}; expected ${expected}`);
    return undefined;
  }

  private required(map: YAMLMap, key: string, path: Path, expected: string): Pair | undefined {
    const pair = this.field(map, key);
    if (!pair) this.report(this.nodeAt(map, 0), [...path, key], `is missing; expected ${expected}`);
    return pair;
  }

  private listOf(pair: Pair, path: Path, expected: string): Node[] | undefined {
    const value = pair.value;
    if (isEmpty(value)) {
      this.emptySection(pair, path, expected);
      return undefined;
    }
    if (!isSeq(value)) {
      this.report(this.nodeAt(value, 0), path, `received ${received(value)}; expected ${expected}`);
      return undefined;
    }
    return value.items as Node[];
  }

  private mapItem(item: Node, path: Path, expected: string): YAMLMap | undefined {
    if (isMap(item)) return item;
    this.report(this.nodeAt(item, 0), path, `received ${received(item)}; expected ${expected}`);
    return undefined;
  }

  // --- files -------------------------------------------------------------------------------------

  private files(pair: Pair): void {
    const items = this.listOf(pair, ['files'], 'a list of - source: … destination: … entries');
    items?.forEach((item, i) => {
      const path = ['files', i];
      const entry = this.mapItem(item, path, 'a mapping with source and destination');
      if (!entry) return;
      this.keysOf(entry, path, FILE_KEYS);
      const source = this.required(entry, 'source', path, 'a file or directory of the revision, or / for all of it');
      const destination = this.required(
        entry,
        'destination',
        path,
        'the directory on the instance to copy source into, such as /var/www/html',
      );
      if (source) {
        const value = this.stringValue(source, [...path, 'source'], 'a path in the revision, or / for all of it');
        if (value !== undefined) this.revisionPath(source, [...path, 'source'], value, 'source');
      }
      if (destination) {
        const value = this.stringValue(destination, [...path, 'destination'], 'an absolute path on the instance');
        const absolute = this.os === 'windows' ? /^[A-Za-z]:[\\/]/ : /^\//;
        if (value !== undefined && !absolute.test(value)) {
          this.report(
            this.nodeAt(destination.value, 0),
            [...path, 'destination'],
            `received ${describeValue(value)}; expected an absolute path on the instance, such as ${this.os === 'windows' ? 'C:\\inetpub\\wwwroot' : '/var/www/html'}`,
          );
        }
      }
    });
  }

  /** A path inside the revision: no way out of it, and present when the revision root is known. */
  private revisionPath(pair: Pair, path: Path, value: string, kind: 'source' | 'location'): void {
    const offset = this.nodeAt(pair.value, 0);
    const relative = kind === 'source' ? value.replace(/^[\\/]+/, '') : value;
    if (kind === 'location' && (isAbsolute(value) || /^[A-Za-z]:[\\/]/.test(value))) {
      this.report(
        offset,
        path,
        `received ${describeValue(value)}; expected a path relative to the root of the revision, such as deployScript/start.sh (the agent looks for it inside the revision)`,
      );
      return;
    }
    const normalized = normalize(relative === '' ? '.' : relative);
    if (normalized === '..' || normalized.startsWith('../')) {
      this.report(offset, path, `received ${describeValue(value)}; expected a path inside the revision, without ..`);
      return;
    }
    const root = this.options.revisionRoot;
    if (root === undefined) return;
    const full = join(root, normalized);
    if (!existsSync(full)) {
      this.report(
        offset,
        path,
        `received ${describeValue(value)}; expected a ${kind === 'location' ? 'script' : 'file or directory'} of the revision, but ${join(root, normalized)} does not exist`,
      );
      return;
    }
    if (kind === 'location') this.script(full, offset, path, value);
  }

  /** A hook script: a regular file that starts with a #! line the kernel can use. */
  private script(full: string, offset: number, path: Path, value: string): void {
    if (!statSync(full).isFile()) {
      this.report(offset, path, `received ${describeValue(value)}, a directory; expected a script file`);
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
      this.report(
        offset,
        path,
        `received ${describeValue(value)}, a script without a #! line; expected a first line such as #!/bin/bash: the agent executes the file itself, and without one it runs under whatever shell falls back`,
      );
    } else if (first.endsWith('\r')) {
      this.report(
        offset,
        path,
        `received ${describeValue(value)} with Windows line endings; expected Unix line endings (LF): the kernel would look for an interpreter named "${first.slice(2).trim()}\\r"`,
      );
    }
  }

  // --- permissions -------------------------------------------------------------------------------

  private permissions(pair: Pair): void {
    if (this.os === 'windows') {
      this.report(
        this.keyAt(pair).offset,
        ['permissions'],
        'received permissions with os: windows; expected permissions on Linux instances only (CodeDeploy refuses them on Windows)',
      );
      return;
    }
    const items = this.listOf(pair, ['permissions'], 'a list of - object: … entries');
    items?.forEach((item, i) => {
      const path = ['permissions', i];
      const entry = this.mapItem(item, path, 'a mapping with object and the permissions to set');
      if (!entry) return;
      this.keysOf(entry, path, PERMISSION_KEYS);
      const object = this.required(entry, 'object', path, 'the installed file or directory the permissions apply to');
      if (object) {
        const value = this.stringValue(object, [...path, 'object'], 'an absolute path on the instance');
        if (value !== undefined && !value.startsWith('/')) {
          this.report(
            this.nodeAt(object.value, 0),
            [...path, 'object'],
            `received ${describeValue(value)}; expected an absolute path on the instance, such as /var/www/html`,
          );
        }
      }
      for (const key of ['pattern', 'owner', 'group']) {
        const field = this.field(entry, key);
        if (field) this.stringValue(field, [...path, key], key === 'pattern' ? 'a glob such as **/*.html' : 'a name');
      }
      for (const key of ['except', 'acls']) {
        const field = this.field(entry, key);
        if (!field) continue;
        const list = this.listOf(field, [...path, key], 'a list of strings');
        list?.forEach((v, j) => {
          if (!isScalar(v) || typeof v.value !== 'string') {
            this.report(this.nodeAt(v, 0), [...path, key, j], `received ${received(v)}; expected a string`);
          }
        });
      }
      const type = this.field(entry, 'type');
      if (type) {
        this.listOf(type, [...path, 'type'], 'a list of file, directory')?.forEach((v, j) => {
          if (!isScalar(v) || !PERMISSION_TYPES.includes(v.value as string)) {
            this.report(this.nodeAt(v, 0), [...path, 'type', j], `received ${received(v)}; expected file or directory`);
          }
        });
      }
      const mode = this.field(entry, 'mode');
      if (mode) this.mode(mode, [...path, 'mode']);
      const context = this.field(entry, 'context');
      if (context) {
        const value = context.value;
        if (!isMap(value)) {
          this.report(
            this.nodeAt(value, this.keyAt(context).offset),
            [...path, 'context'],
            `received ${received(value)}; expected a mapping of SELinux user, type and range`,
          );
        } else {
          this.keysOf(value, [...path, 'context'], CONTEXT_KEYS);
        }
      }
    });
  }

  private mode(pair: Pair, path: Path): void {
    const value = pair.value;
    const offset = this.nodeAt(value, this.keyAt(pair).offset);
    const text = isScalar(value) ? String(value.value) : '';
    const source = isScalar(value) && value.type === 'PLAIN' ? String(value.source) : '';
    if (/^0[0-7]+$/.test(source)) {
      this.report(
        offset,
        path,
        `received ${source}: CodeDeploy's YAML 1.1 reader takes a leading zero for an octal number and would set mode ${text}; expected the mode without the leading zero, such as ${source.replace(/^0+/, '')}`,
      );
    } else if (!/^[0-7]{3,4}$/.test(text)) {
      this.report(
        offset,
        path,
        `received ${received(value)}; expected an octal mode of 3 or 4 digits, such as 644 or 2775`,
      );
    }
  }

  // --- hooks -------------------------------------------------------------------------------------

  private hooks(pair: Pair, root: YAMLMap): void {
    const value = pair.value;
    if (isEmpty(value)) {
      const stray = root.items
        .map((p) => this.keyAt(p))
        .filter((k) => LIFECYCLE_ORDER.includes(k.name) || RESERVED_EVENTS[k.name]);
      const hint = stray.length
        ? `; ${stray.map((k) => `${k.name} (line ${this.at(k.offset).line})`).join(', ')} ${stray.length === 1 ? 'is' : 'are'} at the top level instead`
        : '';
      this.report(
        this.keyAt(pair).offset,
        ['hooks'],
        `received nothing; expected lifecycle events indented under hooks, each with its scripts${hint}`,
      );
      return;
    }
    if (isSeq(value)) {
      this.report(
        this.nodeAt(value, 0),
        ['hooks'],
        'received a list (the hooks of an ECS or Lambda AppSpec); expected a mapping of lifecycle events to scripts, such as BeforeInstall: followed by - location: …',
      );
      return;
    }
    if (!isMap(value)) {
      this.report(
        this.nodeAt(value, 0),
        ['hooks'],
        `received ${received(value)}; expected a mapping of lifecycle events to scripts`,
      );
      return;
    }
    let latest: { name: string; index: number; line: number } | undefined;
    for (const hook of value.items) {
      const { name, offset } = this.keyAt(hook);
      const path = ['hooks', name];
      const reserved = RESERVED_EVENTS[name];
      if (reserved) {
        this.report(
          offset,
          path,
          `received ${name}, an event reserved for CodeDeploy (${reserved.what}) that cannot run scripts; expected the scripts in ${reserved.instead}`,
        );
        continue;
      }
      const index = LIFECYCLE_ORDER.indexOf(name);
      const elsewhere =
        index < 0 && !closest(name, LIFECYCLE_ORDER)
          ? this.belongsElsewhere(name, offset, 'among the lifecycle events', {})
          : undefined;
      if (elsewhere) {
        // A key of a script or a section, at the level of the lifecycle events: an indentation mistake.
        this.report(offset, path, `received the key "${name}"${elsewhere}`);
        continue;
      }
      if (index < 0) {
        const guess = closest(name, LIFECYCLE_ORDER);
        this.report(
          offset,
          path,
          `received the lifecycle event "${name}"${guess ? ` (did you mean "${guess}"?)` : ''}; expected one of ${LIFECYCLE_TEXT} (CodeDeploy never runs the scripts of an unknown event)`,
        );
      } else if (latest && index < latest.index) {
        this.report(
          offset,
          path,
          `received ${name} after ${latest.name} (line ${latest.line}); expected the hooks in the order CodeDeploy runs them, whatever the order of the file: ${LIFECYCLE_TEXT}`,
        );
      } else {
        latest = { name, index, line: this.at(offset).line };
      }
      this.scripts(hook, path);
    }
  }

  private scripts(hook: Pair, path: Path): void {
    const value = hook.value;
    if (isMap(value)) {
      this.report(
        this.nodeAt(value, 0),
        path,
        `received a mapping; expected a list of scripts, each starting with a dash: - location: …`,
      );
      return;
    }
    const items = this.listOf(hook, path, 'a list of scripts, each starting with a dash: - location: …');
    if (!items) return;
    let total = 0;
    let defaulted = 0;
    let known = true;
    items.forEach((item, i) => {
      const scriptPath = [...path, i];
      const script = this.mapItem(item, scriptPath, 'a mapping with location, timeout and runas');
      // What the parser made of a line with a syntax error is no ground for a total.
      if (this.syntaxLines.has(this.at(this.nodeAt(item, 0)).line)) known = false;
      if (!script) {
        known = false;
        return;
      }
      this.keysOf(script, scriptPath, SCRIPT_KEYS);
      const location = this.required(script, 'location', scriptPath, 'the path of the script in the revision');
      if (location) {
        const where = this.stringValue(
          location,
          [...scriptPath, 'location'],
          'a path in the revision such as deployScript/start.sh',
        );
        if (where !== undefined) this.revisionPath(location, [...scriptPath, 'location'], where, 'location');
      }
      const timeout = this.field(script, 'timeout');
      if (!timeout) {
        defaulted++;
        total += MAX_HOOK_SECONDS;
      } else {
        const seconds = this.timeout(timeout, [...scriptPath, 'timeout']);
        if (seconds === undefined) known = false;
        else total += seconds;
      }
      const runas = this.field(script, 'runas');
      if (runas) this.runas(runas, [...scriptPath, 'runas']);
    });
    if (known && items.length > 1 && total > MAX_HOOK_SECONDS) {
      const note = defaulted ? ` (a script without timeout counts ${MAX_HOOK_SECONDS}, CodeDeploy's default)` : '';
      this.report(
        this.keyAt(hook).offset,
        path,
        `received scripts that may run ${total} seconds in all${note}; expected at most ${MAX_HOOK_SECONDS} seconds for the scripts of one lifecycle event`,
      );
    }
  }

  private timeout(pair: Pair, path: Path): number | undefined {
    const value = pair.value;
    if (isScalar(value) && typeof value.value === 'number' && Number.isInteger(value.value)) {
      if (value.value >= 1 && value.value <= MAX_HOOK_SECONDS) return value.value;
    }
    this.report(
      this.nodeAt(value, this.keyAt(pair).offset),
      path,
      `received ${received(value)}; expected a whole number of seconds from 1 to ${MAX_HOOK_SECONDS}, without unit or quotes`,
    );
    return undefined;
  }

  private runas(pair: Pair, path: Path): void {
    const offset = this.nodeAt(pair.value, this.keyAt(pair).offset);
    if (this.os === 'windows') {
      this.report(offset, path, 'received runas with os: windows; expected runas on Linux instances only');
      return;
    }
    const value = pair.value;
    if (isScalar(value) && typeof value.value === 'string' && LINUX_USER.test(value.value)) return;
    this.report(offset, path, `received ${received(value)}; expected a Linux user name such as root or ec2-user`);
  }
}

function firstLine(message: string): string {
  return message.split('\n')[0];
}
