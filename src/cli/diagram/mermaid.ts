/*
 * Mermaid flowchart text of a diagram, for Markdown: subgraphs for the groups, one class per node kind.
 */
import { childrenOf, Diagram, NodeKind } from './model';
import { COLOURS, KIND_ORDER, TEXT_COLOUR } from './style';

/**
 * Text inside a quoted Mermaid label: characters Mermaid would read as markup become its entity codes
 * (`#34;` for `"`, `#60;` for `<`, ...), `#` itself included so that no text can form an entity.
 */
export function mermaidText(text: string): string {
  return text.replace(/[#"&<>[\]{}|`]/g, (ch) => `#${ch.codePointAt(0)};`);
}

const MERMAID_SHAPES: Record<NodeKind, [string, string]> = {
  internet: ['((', '))'],
  'load-balancer': ['[', ']'],
  network: ['[', ']'],
  compute: ['[', ']'],
  database: ['[(', ')]'],
  bucket: ['[(', ')]'],
  parameter: ['[/', '/]'],
  stage: ['(', ')'],
  approval: ['{{', '}}'],
  schedule: ['([', '])'],
};

/** Mermaid `flowchart LR` text: subgraphs for the VPC, its tiers and the pipelines; one class per node kind. */
export function toMermaid(d: Diagram): string {
  // A comment: without `%` or braces, it cannot become a `%%{...}%%` directive.
  const out = ['flowchart LR', `  %% ${d.title.replace(/[%{}]/g, '')}`];
  emitContainer(d, undefined, '  ', out);
  for (const e of d.edges) {
    const arrow = e.dashed ? '-.->' : '-->';
    out.push(`  ${e.from} ${arrow}${e.label !== undefined ? `|"${mermaidText(e.label)}"|` : ''} ${e.to}`);
  }
  out.push(...classLines(d));
  return out.join('\n');
}

/** The subgraphs and nodes of a container, nested by indentation. */
function emitContainer(d: Diagram, container: string | undefined, indent: string, out: string[]): void {
  for (const item of childrenOf(d, container)) {
    if (item.group) {
      out.push(`${indent}subgraph ${item.group.id}["${mermaidText(item.group.title)}"]`);
      emitContainer(d, item.group.id, `${indent}  `, out);
      out.push(`${indent}end`);
    } else {
      const n = item.node!;
      const [open, close] = MERMAID_SHAPES[n.kind];
      out.push(`${indent}${n.id}${open}"${n.lines.map(mermaidText).join('<br/>')}"${close}`);
    }
  }
}

/** A `classDef` and a `class` line for each node kind the diagram has. */
function classLines(d: Diagram): string[] {
  const out: string[] = [];
  for (const kind of KIND_ORDER) {
    const ids = d.nodes.filter((n) => n.kind === kind).map((n) => n.id);
    if (ids.length === 0) continue;
    const { fill, stroke } = COLOURS[kind];
    const name = kind.replace(/-/g, '_');
    out.push(`  classDef ${name} fill:${fill},stroke:${stroke},color:${TEXT_COLOUR}`);
    out.push(`  class ${ids.join(',')} ${name}`);
  }
  return out;
}
