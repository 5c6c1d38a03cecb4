import { YAMLError } from 'yaml';
import { AppSpecDocument } from './document';
import { SCRIPT_KEYS } from './rules';
import { describeValue } from '../config/errors';

/*
 * YAML syntax errors, in words. Most come from a file pasted from a web page or indented by hand: a Markdown code
 * fence, a line of prose, a key left of its list item or right of its siblings, a list item out of line. Each is
 * reported where it is, with what was meant; other errors keep the parser's own first line.
 */

/** Reports a YAML syntax error (or warning) of the parser; the line of the error gets no other problem. */
export function reportSyntaxError(doc: AppSpecDocument, error: YAMLError): void {
  const offset = error.pos[0];
  const { line } = doc.at(offset);
  const text = doc.lineText(line);
  const trimmed = text.trim();
  const indent = text.length - text.trimStart().length;
  let message: string;
  if (trimmed.startsWith('```')) {
    message =
      'received a Markdown code fence (```); expected YAML only: delete this line (was the file copied from a web page?)';
    doc.report(doc.lines.lineStarts[line - 1], [], message, true);
    return;
  }
  switch (error.code) {
    case 'MULTILINE_IMPLICIT_KEY': {
      // A line without a colon: the parser joins it to the key of the next line.
      if (!/:(\s|$)/.test(trimmed)) {
        message = `received a line of text that is not "key: value" (${describeValue(trimmed)}); expected a key followed by a colon, or a comment starting with #`;
        break;
      }
      const deeper = overIndented(doc, line);
      if (deeper) {
        doc.syntaxLines.add(line);
        doc.report(deeper.offset, [], deeper.message, true);
        return;
      }
      message = `YAML syntax error: ${firstLine(error.message)}`;
      break;
    }
    case 'MISSING_CHAR':
      message = misalignedKey(doc, line, indent, trimmed) ?? `YAML syntax error: ${firstLine(error.message)}`;
      break;
    case 'BAD_INDENT':
      message =
        (trimmed.startsWith('-')
          ? misalignedItem(doc, line, indent, trimmed)
          : misalignedKey(doc, line, indent, trimmed)) ?? `YAML syntax error: ${firstLine(error.message)}`;
      break;
    case 'BLOCK_AS_IMPLICIT_KEY': {
      const keys = trimmed.replace(/^-\s*/, '').match(/[A-Za-z_][\w-]*:(?=\s|$)/g) ?? [];
      if (keys.length > 1) {
        message = `received ${keys.length} keys on one line (${describeValue(trimmed.replace(/^-\s*/, ''))}); expected one key per line, each under the previous one`;
        break;
      }
      // The parser read a key indented further than its siblings as the rest of the value above it.
      const deeper = overIndented(doc, line);
      if (deeper) {
        doc.syntaxLines.add(line);
        doc.report(deeper.offset, [], deeper.message, true);
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
  doc.report(offset, [], message, true);
}

/** A key indented less than the keys of the list item above it (` timeout:` under `- location:`). */
function misalignedKey(doc: AppSpecDocument, line: number, indent: number, trimmed: string): string | undefined {
  const key = trimmed.match(/^([^\s:]+):/)?.[1];
  const item = itemAbove(doc, line, indent);
  if (!key || !item || indent + 1 >= item.column) return undefined;
  return (
    `received ${key} at column ${indent + 1}, left of ${item.key} (line ${item.line}, column ${item.column}) of the same list item; ` +
    `expected the keys of one item aligned: ${key} at column ${item.column}, under ${item.key}`
  );
}

/** The list item (`- key: …`) a line belongs to: the nearest above, past lines indented at least as much. */
function itemAbove(
  doc: AppSpecDocument,
  line: number,
  indent: number,
): { line: number; key: string; column: number } | undefined {
  for (let above = doc.previousContent(line); above; above = doc.previousContent(above.line)) {
    const item = above.text.match(/^(\s*)(-\s+)([^\s:]+):/);
    if (item) return { line: above.line, key: item[3], column: item[1].length + item[2].length + 1 };
    if (above.text.length - above.text.trimStart().length < indent) return undefined;
  }
  return undefined;
}

/** A `key:` line indented further than the key of the line above it, which the parser took as a value. */
function overIndented(doc: AppSpecDocument, line: number): { offset: number; message: string } | undefined {
  const here = doc.lineText(line);
  const sibling = here.match(/^(\s*(?:-\s+)?)([\w-]+):/);
  const next = doc.nextContent(line);
  const key = next?.text.match(/^(\s*)([\w-]+):/);
  if (!sibling || !next || !key || key[1].length <= sibling[1].length) return undefined;
  return {
    offset: doc.lines.lineStarts[next.line - 1] + key[1].length,
    message:
      `received ${key[2]} at column ${key[1].length + 1}, right of ${sibling[2]} (line ${line}, column ${sibling[1].length + 1}), ` +
      `so YAML reads it as part of the value of ${sibling[2]}; expected ${key[2]} at column ${sibling[1].length + 1}, under ${sibling[2]}`,
  };
}

/** A list item that starts at another column than the list above it (` - timeout:` under `- location:`). */
function misalignedItem(doc: AppSpecDocument, line: number, indent: number, trimmed: string): string | undefined {
  let above = doc.previousContent(line);
  while (above && !/^\s*-(\s|$)/.test(above.text)) above = doc.previousContent(above.line);
  if (!above) return undefined;
  const aboveIndent = above.text.length - above.text.trimStart().length;
  const key = trimmed.replace(/^-\s*/, '').match(/^([^\s:]+):/)?.[1];
  const hint =
    key && SCRIPT_KEYS.includes(key)
      ? `expected ${key} as a key of the script above: no dash, aligned under ${above.text.trim().replace(/^-\s*/, '').split(':')[0]}`
      : `expected every item of one list at the same column`;
  return `received a list item at column ${indent + 1} while the list above starts at column ${aboveIndent + 1} (line ${above.line}); ${hint}`;
}

function firstLine(message: string): string {
  return message.split('\n')[0];
}
