import { isAlias, isMap, isScalar, isSeq, LineCounter, Node, Pair, parseDocument, YAMLMap } from 'yaml';
import { describeValue } from '../config/errors';

/*
 * The appspec.yml being checked: its text parsed as the CodeDeploy agent reads it, line and column of every
 * offset, the problems found so far, and the reading of fields that reports what is missing or of the wrong type.
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

/** Where a field is: keys and list indexes from the top of the file. */
export type Path = (string | number)[];

function pathText(path: Path): string {
  return path.map((seg, i) => (typeof seg === 'number' ? `[${seg}]` : `${i > 0 ? '.' : ''}${seg}`)).join('');
}

function keyName(pair: Pair): string {
  if (isScalar(pair.key)) return String(pair.key.value);
  if (isAlias(pair.key)) return `*${pair.key.source}`;
  return describeValue((pair.key as Node | null)?.toJSON());
}

/** A node or a missing value, described as a message shows it. */
export function received(node: unknown): string {
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

export function isEmpty(node: unknown): boolean {
  return node === null || node === undefined || (isScalar(node) && node.value === null);
}

/** An appspec.yml and the problems found in it, one per place, in line order. */
export class AppSpecDocument {
  readonly lines = new LineCounter();
  /** Lines with a YAML syntax error: what the parser made of them is not reported again. */
  readonly syntaxLines = new Set<number>();
  /** Offsets of every `location` key, to say which script a stray key belongs to. */
  readonly locations: number[] = [];
  /** The `os` of the file once read (linux or windows); undefined when it is missing or wrong. */
  os: string | undefined;
  private readonly problems: AppSpecProblem[] = [];
  private readonly textLines: string[];

  constructor(
    readonly text: string,
    readonly options: AppSpecCheckOptions,
  ) {
    this.textLines = text.split('\n').map((l) => l.replace(/\r$/, ''));
  }

  /** The text as YAML 1.1, the version of the agent's reader, with the line of every node. */
  parse() {
    return parseDocument(this.text, {
      lineCounter: this.lines,
      prettyErrors: false,
      uniqueKeys: false, // duplicates are reported by the checker, with the line of the first one
      version: '1.1',
    });
  }

  /** Whether a problem was found, a syntax error included. */
  hasProblems(): boolean {
    return this.problems.length > 0;
  }

  // --- positions and reporting ---------------------------------------------------------------

  /** Line and column of an offset, from 1. */
  at(offset: number) {
    const { line, col } = this.lines.linePos(offset);
    return { line, column: col };
  }

  /**
   * Records a problem at an offset, unless the place has one already. A syntax error marks its line: nothing else
   * is reported there, as what the parser made of the line is no ground for it.
   */
  report(offset: number, path: Path, message: string, syntax = false): void {
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

  /** The problems found, in line order. */
  sorted(): AppSpecProblem[] {
    return [...this.problems].sort((a, b) => a.line - b.line || a.column - b.column);
  }

  /** Where a key starts. A key the parser joined over several lines is the text of its last line. */
  keyAt(pair: Pair): { name: string; offset: number } {
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

  /** Where a node starts, or the fallback for a missing value. */
  nodeAt(node: unknown, fallback: number): number {
    return (node as Node | null)?.range?.[0] ?? fallback;
  }

  /** A line of the text, from 1, without its line ending. */
  lineText(line: number): string {
    return this.textLines[line - 1];
  }

  /** The content line above a line, skipping blank lines and comments. */
  previousContent(line: number): { line: number; text: string } | undefined {
    for (let l = line - 1; l >= 1; l--) {
      const text = this.lineText(l);
      if (text.trim() !== '' && !text.trim().startsWith('#')) return { line: l, text };
    }
    return undefined;
  }

  /** The content line below a line, skipping blank lines and comments. */
  nextContent(line: number): { line: number; text: string } | undefined {
    const count = this.lines.lineStarts.length;
    for (let l = line + 1; l <= count; l++) {
      const text = this.lineText(l);
      if (text.trim() !== '' && !text.trim().startsWith('#')) return { line: l, text };
    }
    return undefined;
  }

  // --- reading fields ----------------------------------------------------------------------------

  /** A key of a mapping, if present. */
  field(map: YAMLMap, key: string): Pair | undefined {
    return map.items.find((p) => isScalar(p.key) && p.key.value === key);
  }

  /** A string that must be one of `values`. */
  oneOf(pair: Pair, path: Path, values: string[]): void {
    const value = pair.value;
    if (isScalar(value) && typeof value.value === 'string' && values.includes(value.value)) return;
    this.report(
      this.nodeAt(value, this.keyAt(pair).offset),
      path,
      `received ${received(value)}; expected one of ${values.join(', ')}`,
    );
  }

  /** A section written with nothing under it: almost always its content is not indented under it. */
  emptySection(pair: Pair, path: Path, expected: string): void {
    const { offset } = this.keyAt(pair);
    const next = this.nextContent(this.at(offset).line);
    const hint =
      next && next.text.length - next.text.trimStart().length <= this.at(offset).column - 1
        ? ` indented under it (line ${next.line} is at column ${next.text.length - next.text.trimStart().length + 1}, the column of ${path[path.length - 1]})`
        : ' indented under it';
    this.report(offset, path, `received nothing; expected ${expected}${hint}`);
  }

  /** The value of a key when it is a non-empty string; otherwise reported. */
  stringValue(pair: Pair, path: Path, expected: string): string | undefined {
    const value = pair.value;
    if (isScalar(value) && typeof value.value === 'string' && value.value.trim() !== '') return value.value;
    this.report(this.nodeAt(value, this.keyAt(pair).offset), path, `received ${received(value)}; expected ${expected}`);
    return undefined;
  }

  /** A key that must be present; reported at the mapping when missing. */
  required(map: YAMLMap, key: string, path: Path, expected: string): Pair | undefined {
    const pair = this.field(map, key);
    if (!pair) this.report(this.nodeAt(map, 0), [...path, key], `is missing; expected ${expected}`);
    return pair;
  }

  /** The items of a key whose value must be a list; reported when it is empty or not a list. */
  listOf(pair: Pair, path: Path, expected: string): Node[] | undefined {
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

  /** A list item that must be a mapping. */
  mapItem(item: Node, path: Path, expected: string): YAMLMap | undefined {
    if (isMap(item)) return item;
    this.report(this.nodeAt(item, 0), path, `received ${received(item)}; expected ${expected}`);
    return undefined;
  }
}
