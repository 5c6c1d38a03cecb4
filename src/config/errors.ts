/** One problem found in a config file. */
export interface ConfigProblem {
  /** File (or other source) the problem is in. */
  readonly file: string;
  /** Dotted path of the field, such as `compute.minCapacity` or `approvalEmails[1]`; empty for the whole file. */
  readonly path: string;
  /**
   * Line of the field in the file, from 1.
   * @default - not known (the config did not come from text)
   */
  readonly line?: number;
  /**
   * Column of the field in the file, from 1.
   * @default - not known (the config did not come from text)
   */
  readonly column?: number;
  /** What is wrong: the value received and what was expected. */
  readonly message: string;
}

/** Formats a problem as `file:line:column: path: message`, the way compilers do. */
export function formatProblem(problem: ConfigProblem): string {
  const where = problem.line ? `${problem.file}:${problem.line}:${problem.column ?? 1}` : problem.file;
  return problem.path ? `${where}: ${problem.path}: ${problem.message}` : `${where}: ${problem.message}`;
}

/**
 * Thrown when config files are invalid; lists every problem found, not only the first.
 */
export class ConfigError extends Error {
  /** Every problem, in file and line order. */
  public readonly problems: ConfigProblem[];

  constructor(problems: ConfigProblem[]) {
    const sorted = [...problems].sort(
      (a, b) => a.file.localeCompare(b.file) || (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0),
    );
    const count = sorted.length === 1 ? '1 problem' : `${sorted.length} problems`;
    const shown = sorted.slice(0, MAX_PROBLEMS_SHOWN).map((p) => `  ${formatProblem(p)}`);
    if (sorted.length > MAX_PROBLEMS_SHOWN) shown.push(`  … and ${sorted.length - MAX_PROBLEMS_SHOWN} more problems`);
    super(`Invalid config (${count}):\n${shown.join('\n')}`);
    this.name = 'ConfigError';
    this.problems = sorted;
    Object.setPrototypeOf(this, ConfigError.prototype);
  }
}

/** The problems an error's message lists; the rest are counted. */
export const MAX_PROBLEMS_SHOWN = 100;

/** The longest value quoted in a message, in characters; a longer one is cut, with its length. */
export const MAX_QUOTED = 80;

/** A value shown in an error message: JSON, cut to MAX_QUOTED characters, and only that much of it is written. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  if (typeof value === 'string') return quoted(value);
  let text: string;
  try {
    text = boundedJson(value, MAX_QUOTED + 1);
  } catch {
    text = String(value).slice(0, MAX_QUOTED + 1);
  }
  return text.length > MAX_QUOTED ? `${text.slice(0, MAX_QUOTED)}…` : text;
}

/** A text in double quotes, cut to MAX_QUOTED characters with an ellipsis and its length. */
export function quoted(text: string): string {
  if (text.length <= MAX_QUOTED) return JSON.stringify(text);
  return `${JSON.stringify(text.slice(0, MAX_QUOTED)).slice(0, -1)}…" (${text.length} characters)`;
}

/** JSON of a value, stopped once it is longer than `limit`: the work is bounded by the limit, not the value. */
function boundedJson(value: unknown, limit: number): string {
  let out = '';
  const seen: unknown[] = [];
  const write = (v: unknown): void => {
    if (out.length > limit) return;
    if (v === null || typeof v !== 'object') {
      const text = typeof v === 'string' ? JSON.stringify(v.slice(0, limit)) : JSON.stringify(v);
      out += text ?? 'null';
      return;
    }
    if (seen.includes(v)) {
      out += '[circular]';
      return;
    }
    seen.push(v);
    if (Array.isArray(v)) {
      out += '[';
      for (let i = 0; i < v.length && out.length <= limit; i++) {
        if (i > 0) out += ',';
        write(v[i]);
      }
      out += ']';
    } else {
      out += '{';
      let first = true;
      for (const key in v as object) {
        if (out.length > limit) break;
        if (!Object.hasOwn(v as object, key)) continue;
        const item = (v as Record<string, unknown>)[key];
        if (item === undefined || typeof item === 'function') continue;
        out += `${first ? '' : ','}${JSON.stringify(key.slice(0, limit))}:`;
        first = false;
        write(item);
      }
      out += '}';
    }
    seen.pop();
  };
  write(value);
  return out;
}

/**
 * A message with every long quoted value in it cut (a rule's message may quote a value whole), and at most
 * `max` characters in all: the head and the end, where "expected" is.
 */
export function boundedMessage(message: string, max = 500): string {
  let text =
    message.length > MAX_QUOTED + 2
      ? message.replace(/"([^"\s…]{81,})"/g, (_, inner: string) => quoted(inner))
      : message;
  if (text.length > max) text = `${text.slice(0, max - 201)}…${text.slice(-200)}`;
  return text;
}
