/*
 * The text of the production approval: what `deploy --plan --approval-message FILE` writes for CodePipeline's manual
 * approval. The count of production stacks that change, then the resources CloudFormation would replace, then the
 * other changes, cut to fit with "… and N more".
 *
 * The limit: the pipeline hands the text to the manual approval action's CustomData through a CodeBuild exported
 * variable. CodePipeline's API reference (ActionDeclaration, `configuration`: "Value Length Constraints: Minimum
 * length of 1. Maximum length of 1000.") bounds every action configuration value, CustomData included, at 1,000
 * characters; CodeBuild's ExportedEnvironmentVariable states no length of its own. So 1,000.
 *
 * Internal: not exported from src/index.ts.
 */
import type { SelectedStack } from './selection';
import { diffTemplates, ResourceChangeRow } from '../diff-command';

/** CodePipeline's limit of an action configuration value (the manual approval's CustomData), in characters. */
export const APPROVAL_MESSAGE_LIMIT = 1000;

const REPLACING = new Set<ResourceChangeRow['change']>(['replaced', 'may be replaced']);

/**
 * The approval text for the production stacks of a plan. `deployed(stack)` is the template deployed (undefined when
 * none is known: a new stack, or no state), `next(stack)` the one about to be.
 */
export function approvalMessage(
  production: SelectedStack[],
  deployed: (stack: string) => object | undefined,
  next: (stack: string) => object,
  limit: number = APPROVAL_MESSAGE_LIMIT,
): string {
  if (production.length === 0) return 'No production stack changes.';
  const replacements: string[] = [];
  const others: string[] = [];
  for (const stack of production) {
    const before = deployed(stack.name);
    if (before === undefined) {
      const resources = Object.keys((next(stack.name) as { Resources?: object }).Resources ?? {}).length;
      others.push(
        stack.reasons.includes('new')
          ? `${stack.name}: new stack (${resources} resources)`
          : `${stack.name}: ${stack.reasons.join(', ')}; no deployed template to compare`,
      );
      continue;
    }
    const diff = diffTemplates(new Map([[stack.name, before]]), new Map([[stack.name, next(stack.name)]]), () => true);
    const rows = [...diff.changes].sort((a, b) => Number(b.blocked) - Number(a.blocked));
    for (const row of rows) {
      const line = `${stack.name}: ${row.change} ${row.type} ${row.logicalId}${row.blocked ? ' [data]' : ''}`;
      (REPLACING.has(row.change) ? replacements : others).push(line);
    }
    if (diff.updatedInPlace > 0) others.push(`${stack.name}: resources updated in place`);
    if (rows.length === 0 && diff.updatedInPlace === 0) {
      others.push(`${stack.name}: no resource change (${stack.reasons.join(', ')})`);
    }
  }
  const count =
    production.length === 1 ? '1 production stack changes' : `${production.length} production stacks change`;
  const replaced = replacements.length === 1 ? '1 replacement' : `${replacements.length} replacements`;
  const lines = [
    `${count}; ${replaced}.`,
    ...(replacements.length > 0 ? ['Replacements:', ...replacements.map((l) => `- ${l}`)] : []),
    ...(others.length > 0 ? ['Other changes:', ...others.map((l) => `- ${l}`)] : []),
  ];
  return fit(lines, limit);
}

/**
 * Lines joined by newlines, at most `limit` characters: the first lines that fit, then "… and N more" counting the
 * list items left out. A line longer than the limit alone is cut.
 */
export function fit(lines: string[], limit: number): string {
  const all = lines.join('\n');
  if (all.length <= limit) return all;
  const items = (from: number) => lines.slice(from).filter((l) => l.startsWith('- ')).length;
  for (let kept = lines.length - 1; kept >= 1; kept--) {
    if (kept > 1 && lines[kept - 1].endsWith(':')) continue; // never end on a heading
    const text = `${lines.slice(0, kept).join('\n')}\n… and ${items(kept)} more`;
    if (text.length <= limit) return text;
  }
  const tail = `… and ${items(1)} more`;
  return `${lines[0].slice(0, Math.max(0, limit - tail.length - 2))}…\n${tail}`.slice(0, limit);
}
