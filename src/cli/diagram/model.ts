/*
 * What a diagram holds, whatever draws it: nodes, nested groups and edges, built by DiagramBuilder, and the
 * order in which a renderer visits a container's items.
 */

export type DiagramFormat = 'mermaid' | 'svg';
export const DIAGRAM_FORMATS: readonly DiagramFormat[] = ['mermaid', 'svg'];

/** What a node stands for; it sets the shape and the colours. */
export type NodeKind =
  | 'internet'
  | 'load-balancer'
  | 'network'
  | 'compute'
  | 'database'
  | 'bucket'
  | 'parameter'
  | 'stage'
  | 'approval'
  | 'schedule';

export interface DiagramNode {
  /** Stable id: the Mermaid node id and, prefixed with `node-`, the SVG element id. */
  readonly id: string;
  readonly kind: NodeKind;
  /** The label, one entry per line; the first line is the node's name. */
  readonly lines: readonly string[];
  /** The innermost group the node is drawn in. */
  readonly group?: string;
}

export type GroupKind = 'vpc' | 'subnets' | 'load-balancer' | 'pipeline';

export interface DiagramGroup {
  readonly id: string;
  readonly kind: GroupKind;
  readonly title: string;
  readonly parent?: string;
  /** How the SVG lays out the group's content: left to right, or top to bottom (pipeline stages). */
  readonly direction: 'LR' | 'TB';
}

export interface DiagramEdge {
  readonly from: string;
  readonly to: string;
  readonly label?: string;
  /** A reference rather than traffic or a pipeline's flow (a parameter read at launch). */
  readonly dashed: boolean;
}

export interface Diagram {
  readonly title: string;
  readonly nodes: readonly DiagramNode[];
  readonly groups: readonly DiagramGroup[];
  readonly edges: readonly DiagramEdge[];
}

export class DiagramBuilder {
  private readonly nodes: DiagramNode[] = [];
  private readonly groups: DiagramGroup[] = [];
  private readonly edges: DiagramEdge[] = [];

  constructor(private readonly title: string) {}

  public group(id: string, kind: GroupKind, title: string, parent?: string, direction: 'LR' | 'TB' = 'LR'): string {
    this.groups.push({ id, kind, title, direction, ...(parent !== undefined ? { parent } : {}) });
    return id;
  }

  public node(id: string, kind: NodeKind, lines: string[], group?: string): string {
    this.nodes.push({ id, kind, lines, ...(group !== undefined ? { group } : {}) });
    return id;
  }

  public edge(from: string, to: string, label?: string, dashed = false): void {
    this.edges.push({ from, to, dashed, ...(label !== undefined ? { label } : {}) });
  }

  /** The diagram, without groups that hold no node (an empty frame says nothing). */
  public build(): Diagram {
    const used = new Set<string>();
    const parentOf = new Map(this.groups.map((g) => [g.id, g.parent]));
    for (const node of this.nodes) {
      for (let g = node.group; g !== undefined && !used.has(g); g = parentOf.get(g)) used.add(g);
    }
    return {
      title: this.title,
      nodes: this.nodes,
      groups: this.groups.filter((g) => used.has(g.id)),
      edges: this.edges,
    };
  }
}

/** An item of a container: a group or a node. */
export interface ContainerItem {
  readonly group?: DiagramGroup;
  readonly node?: DiagramNode;
}

/** The items of a container (the diagram itself when undefined): groups and nodes, in the order first declared. */
export function childrenOf(d: Diagram, container: string | undefined): ContainerItem[] {
  const firstNode = new Map<string, number>();
  const parentOf = new Map(d.groups.map((g) => [g.id, g.parent]));
  d.nodes.forEach((n, i) => {
    for (let g = n.group; g !== undefined; g = parentOf.get(g)) if (!firstNode.has(g)) firstNode.set(g, i);
  });
  const items: Array<{ item: ContainerItem; at: number }> = [
    ...d.groups
      .filter((g) => g.parent === container)
      .map((group) => ({ item: { group }, at: firstNode.get(group.id)! })),
    ...d.nodes.flatMap((node, at) => (node.group === container ? [{ item: { node }, at }] : [])),
  ];
  return items.sort((x, y) => x.at - y.at).map((x) => x.item);
}
