/*
 * Placeholders: the values `paas-vending init` writes where only the user knows the answer (approvers, the
 * repository's connection). A placeholder is any string holding `<REPLACE` (no real value does: no field's rule
 * accepts `<`), so a file keeps failing validation, at that field and saying why, until each one is replaced.
 */
import { quoted } from './errors';
import { FieldPath, RawProblem } from './schema';

/** What marks a placeholder inside a string value. */
export const PLACEHOLDER_MARK = '<REPLACE';

/** A placeholder value: `<REPLACE: what to write here>`. */
export function placeholder(what: string): string {
  return `${PLACEHOLDER_MARK}: ${what}>`;
}

/** The start of every placeholder problem's message (init tells them from other problems by it). */
export const PLACEHOLDER_MESSAGE = 'received the placeholder';

/** Deeper than any config document: the walk is bounded whatever the input. */
const MAX_WALK_DEPTH = 32;

/** A problem for each string value of `doc` that is (or holds) a placeholder, at its path. */
export function placeholderProblems(doc: unknown): RawProblem[] {
  const problems: RawProblem[] = [];
  const walk = (value: unknown, path: FieldPath): void => {
    if (typeof value === 'string') {
      const mark = value.indexOf(PLACEHOLDER_MARK);
      if (mark >= 0) {
        const end = value.indexOf('>', mark);
        const shown = end < 0 ? value.slice(mark) : value.slice(mark, end + 1);
        problems.push({
          path,
          message: `${PLACEHOLDER_MESSAGE} ${quoted(shown)}; expected a real value in its place (paas-vending init writes placeholders where only you know the value)`,
        });
      }
      return;
    }
    if (path.length >= MAX_WALK_DEPTH || typeof value !== 'object' || value === null) return;
    if (Array.isArray(value)) value.forEach((item, i) => walk(item, [...path, i]));
    else for (const [key, item] of Object.entries(value)) walk(item, [...path, key]);
  };
  walk(doc, []);
  return problems;
}

/**
 * The problems of a document with its placeholders: a field holding a placeholder is reported as such, and the
 * other problems of that field (its pattern, its rules) are left out, since they only repeat that it is not real.
 */
export function withPlaceholders(doc: unknown, problems: RawProblem[]): RawProblem[] {
  const found = placeholderProblems(doc);
  if (found.length === 0) return problems;
  const at = new Set(found.map((p) => JSON.stringify(p.path)));
  const under = (path: FieldPath) => path.some((_, i) => at.has(JSON.stringify(path.slice(0, i + 1))));
  return [...found, ...problems.filter((p) => !under(p.path))];
}
