/*
 * A small HCL2 writer, internal to the AMI pipeline: blocks, attributes, maps, lists and comments; literals escaped;
 * the `=` of attributes aligned as `packer fmt` does. PackerTemplate builds its files from these items.
 */

/** An HCL expression, already rendered on one line. */
export class Expr {
  constructor(public readonly text: string) {}
}

/** An object, rendered one entry per line. */
export class HclMap {
  constructor(public readonly entries: Entry[]) {}
}

export type Value = string | number | boolean | Expr | HclMap | Value[];
export type Entry = [string, Value];
export type Item =
  | { readonly kind: 'attr'; readonly name: string; readonly value: Value }
  | { readonly kind: 'block'; readonly type: string; readonly labels: string[]; readonly body: Item[] }
  | { readonly kind: 'comment'; readonly text: string }
  | { readonly kind: 'blank' };

export const expr = (text: string): Expr => new Expr(text);
export const map = (entries: Entry[]): HclMap => new HclMap(entries);
export const attr = (name: string, value: Value): Item => ({ kind: 'attr', name, value });
/** A block; `header` is its type and labels, separated by spaces: `source amazon-ebs web`. */
export const block = (header: string, body: Item[]): Item => {
  const [type, ...labels] = header.split(' ');
  return { kind: 'block', type, labels, body };
};
export const comment = (text: string): Item => ({ kind: 'comment', text });
export const blank = (): Item => ({ kind: 'blank' });

/** A quoted template: literal parts escaped, expressions interpolated. */
export function template(...parts: Array<string | Expr>): Expr {
  return expr(`"${parts.map((part) => (typeof part === 'string' ? escape(part) : `\${${part.text}}`)).join('')}"`);
}

/**
 * The body of an HCL quoted string whose value is `value`: backslash, quote and control characters escaped,
 * and the template sequences `${` and `%{` doubled so they stay literal. HCL normalizes every string to Unicode
 * NFC (escapes included), so the text is written in that form.
 */
function escape(value: string): string {
  return value.normalize('NFC').replace(/[\\"\u0000-\u001f\u007f]|\$\{|%\{/g, (match) => {
    switch (match) {
      case '\\':
        return '\\\\';
      case '"':
        return '\\"';
      case '\n':
        return '\\n';
      case '\r':
        return '\\r';
      case '\t':
        return '\\t';
      case '${':
        return '$${';
      case '%{':
        return '%%{';
      default:
        return `\\u${match.charCodeAt(0).toString(16).padStart(4, '0')}`;
    }
  });
}

const KEYWORDS = new Set(['true', 'false', 'null', 'for', 'in', 'if']);

/** An object key: bare when it is a plain identifier, quoted otherwise. */
function objectKey(name: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) && !KEYWORDS.has(name) ? name : `"${escape(name)}"`;
}

function renderValue(v: Value, indent: string): string {
  if (v instanceof Expr) return v.text;
  if (v instanceof HclMap) {
    const body = lines(
      v.entries.map(([k, item]) => attr(objectKey(k), item)),
      `${indent}  `,
    );
    return `{\n${body.join('\n')}\n${indent}}`;
  }
  if (Array.isArray(v)) {
    const items = v.map((item) => renderValue(item, `${indent}  `));
    const line = `[${items.join(', ')}]`;
    return line.length <= 80 ? line : `[\n${items.map((item) => `${indent}  ${item},`).join('\n')}\n${indent}]`;
  }
  if (typeof v === 'string') return `"${escape(v)}"`;
  return String(v);
}

/**
 * The lines of a body. As `packer fmt` (hclwrite) does, the `=` of consecutive one-line attributes are aligned;
 * a blank line, a comment, a block or an attribute whose value spans lines ends the run. Widths count grapheme
 * clusters, as hclwrite does.
 */
function lines(items: Item[], indent: string): string[] {
  const out: string[] = [];
  let run: Array<[string, string]> = [];
  const flush = (): void => {
    const width = Math.max(...run.map(([name]) => columns(name)));
    out.push(...run.map(([name, text]) => `${indent}${name}${' '.repeat(width - columns(name))} = ${text}`));
    run = [];
  };
  for (const item of items) {
    if (item.kind === 'attr') {
      const text = renderValue(item.value, indent);
      if (!text.includes('\n')) {
        run.push([item.name, text]);
        continue;
      }
      flush();
      out.push(`${indent}${item.name} = ${text}`);
      continue;
    }
    flush();
    if (item.kind === 'blank') {
      out.push('');
    } else if (item.kind === 'comment') {
      out.push(...wrap(item.text, 110 - indent.length).map((line) => `${indent}# ${line}`.trimEnd()));
    } else {
      const labels = item.labels.map((label) => ` "${escape(label)}"`).join('');
      out.push(`${indent}${item.type}${labels} {`, ...lines(item.body, `${indent}  `), `${indent}}`);
    }
  }
  flush();
  return out;
}

/** The text of a file: its items, one line each or more, and a final newline. */
export function render(items: Item[]): string {
  return `${lines(items, '').join('\n')}\n`;
}

/** Comment lines of at most `width` characters; lines that start with a space are kept as they are. */
function wrap(text: string, width: number): string[] {
  return text.split('\n').flatMap((line) => {
    if (line.startsWith(' ')) return [line];
    const out = [''];
    for (const word of line.split(' ')) {
      const last = out[out.length - 1];
      if (last !== '' && last.length + 1 + word.length > width) out.push(word);
      else out[out.length - 1] = last === '' ? word : `${last} ${word}`;
    }
    return out;
  });
}

/** Printable ASCII: one column per character (every attribute name of the bake's template is ASCII). */
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

let segmenter: Intl.Segmenter | undefined;
function columns(text: string): number {
  if (PRINTABLE_ASCII.test(text)) return text.length;
  segmenter ??= new Intl.Segmenter('en', { granularity: 'grapheme' });
  return [...segmenter.segment(text)].length;
}
