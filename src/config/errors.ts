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
    super(`Invalid config (${count}):\n${sorted.map((p) => `  ${formatProblem(p)}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = sorted;
    Object.setPrototypeOf(this, ConfigError.prototype);
  }
}

/** A value shown in an error message: JSON, cut short. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
