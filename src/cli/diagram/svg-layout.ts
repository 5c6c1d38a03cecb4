/*
 * Where the SVG puts everything, laid out by dagre (@dagrejs/dagre): nodes in ranks along the edges, groups as
 * dagre's compound nodes (frames around their items), edge routes and label positions from dagre's points.
 *
 * dagre lays out a graph in one direction. A group drawn in the direction of the container that holds it is a
 * compound node of the container's graph. A group drawn in another direction (a pipeline's stages top to bottom
 * beside a left-to-right picture) is laid out by a graph of its own and stands in its container's graph as one
 * node of its size: a block. An edge is routed in the graph of the innermost block holding both its ends; where an
 * end lies in a block within, dagre's route stops at that block's side and the edge runs straight on, along the
 * graph's direction, to the side of the node.
 */
import type * as Dagre from '@dagrejs/dagre' with { 'resolution-mode': 'import' };
import { childrenOf, Diagram, DiagramGroup, DiagramNode } from './model';

// The CommonJS build of the package (its types describe the same exports).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const dagre: typeof Dagre = require('@dagrejs/dagre');

export const LINE_HEIGHT = 16;
const PAD_X = 12;
const PAD_Y = 8;
export const GROUP_PAD = 14;
/** The band at the top of a frame that holds its title. */
const GROUP_TITLE = 28;
export const MARGIN = 20;
const TITLE_HEIGHT = 30;
/** Label plates: the text's width and this much more; this high. */
const LABEL_PAD = 8;
const LABEL_HEIGHT = 17;

/**
 * Separations in dagre's graphs. Within a rank, a frame's side keeps (NODE_SEP + EDGE_SEP) / 2 from a node and
 * EDGE_SEP from an edge or an inner frame: both more than the title band, so that no node, edge or inner frame
 * reaches a frame's title.
 */
const NODE_SEP = 24;
const EDGE_SEP = 30;
const RANK_SEP = 48;

export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

export type Point = [number, number];

/** An edge's route from the side of its `from` node to the side of its `to` node, and its label's centre. */
export interface EdgeRoute {
  readonly points: readonly Point[];
  readonly label?: Point;
}

type Direction = 'LR' | 'TB';

/** A generous estimate of text width in a sans-serif font at 12px (no font metrics without a browser). */
export function textWidth(text: string, bold = false): number {
  return Math.ceil([...text].length * (bold ? 7.4 : 6.8));
}

function nodeSize(n: DiagramNode): { w: number; h: number } {
  const textW = Math.max(...n.lines.map((line, i) => textWidth(line, i === 0)));
  const w = textW + 2 * PAD_X;
  const h = n.lines.length * LINE_HEIGHT + 2 * PAD_Y;
  switch (n.kind) {
    case 'internet':
      return { w: Math.round(w * 1.3), h: h + 16 };
    case 'database':
    case 'bucket':
      return { w, h: h + 14 };
    case 'approval':
    case 'parameter':
      return { w: w + 24, h };
    default:
      return { w, h };
  }
}

/** What the graphs of a diagram share: the groups, and for each node its chain of enclosing blocks. */
interface Context {
  readonly d: Diagram;
  readonly groupOf: Groups;
  /** Node id -> the blocks (group ids) holding it, outermost first. */
  readonly blocksOf: ReadonlyMap<string, readonly string[]>;
  /** Block -> the nodes within it that an edge enters from above (its title must not be above them). */
  readonly enteredFromAbove: ReadonlyMap<string, ReadonlySet<string>>;
}

/** A laid-out container: its size, and boxes and routes relative to its top left corner. */
interface Laid {
  w: number;
  h: number;
  readonly boxes: Map<string, Box>;
  readonly routes: Map<number, EdgeRoute>;
}

type Groups = ReadonlyMap<string, DiagramGroup>;

/** The direction of a container: the diagram's is left to right. */
function directionOf(groupOf: Groups, container: string | undefined): Direction {
  return container === undefined ? 'LR' : groupOf.get(container)!.direction;
}

/** A group is a block when it is drawn in another direction than the container holding it. */
function isBlock(groupOf: Groups, g: DiagramGroup): boolean {
  return g.direction !== directionOf(groupOf, g.parent);
}

/** How many blocks hold a container, itself included. */
function blockDepth(groupOf: Groups, container: string | undefined): number {
  let depth = 0;
  for (let g = container; g !== undefined; g = groupOf.get(g)!.parent) if (isBlock(groupOf, groupOf.get(g)!)) depth++;
  return depth;
}

function context(d: Diagram): Context {
  const groupOf = new Map(d.groups.map((g) => [g.id, g]));
  const blocksOf = new Map(
    d.nodes.map((n) => {
      const chain: string[] = [];
      for (let g = n.group; g !== undefined; g = groupOf.get(g)!.parent) {
        if (isBlock(groupOf, groupOf.get(g)!)) chain.unshift(g);
      }
      return [n.id, chain];
    }),
  );
  const enteredFromAbove = new Map<string, Set<string>>();
  for (const e of d.edges) {
    const { depth, container } = routingBlock(blocksOf, e.from, e.to);
    if (directionOf(groupOf, container) !== 'TB') continue;
    for (const block of blocksOf.get(e.to)!.slice(depth)) {
      enteredFromAbove.set(block, (enteredFromAbove.get(block) ?? new Set()).add(e.to));
    }
  }
  return { d, groupOf, blocksOf, enteredFromAbove };
}

/** The innermost block holding both nodes (undefined: the diagram itself), and how deep it is. */
function routingBlock(
  blocksOf: ReadonlyMap<string, readonly string[]>,
  from: string,
  to: string,
): { depth: number; container: string | undefined } {
  const [a, b] = [blocksOf.get(from)!, blocksOf.get(to)!];
  let depth = 0;
  while (depth < a.length && a[depth] === b[depth]) depth++;
  return { depth, container: depth === 0 ? undefined : a[depth - 1] };
}

/** The widest thing a group holds, as far as sizes are known before the layout: nodes, and inner titles. */
function widestWithin(c: Context, group: string): number {
  return Math.max(
    0,
    ...childrenOf(c.d, group).map((item) =>
      item.node
        ? nodeSize(item.node).w
        : Math.max(textWidth(item.group!.title, true) + 2 * GROUP_PAD, widestWithin(c, item.group!.id)),
    ),
  );
}

/** A container's dagre graph, the blocks within (laid out), its compound nodes, and the edges routed in it. */
interface ContainerGraph {
  readonly g: Dagre.graphlib.Graph;
  readonly blocks: ReadonlyMap<string, Laid>;
  readonly clusters: readonly string[];
  readonly routed: readonly number[];
  /** The end of an edge as this graph sees it: the node (`n:<id>`), or the block within that holds it. */
  readonly proxy: (node: string) => string;
}

/**
 * One dagre graph for a container (the diagram, or a block), in the diagram's order: its nodes, its groups of the
 * same direction as compound nodes (with an invisible node as wide as the title where the title is the widest
 * thing), the blocks within as nodes of their size (laid out first), and the edges routed in it, labelled.
 */
function containerGraph(c: Context, container: string | undefined): ContainerGraph {
  const direction = directionOf(c.groupOf, container);
  const g = new dagre.graphlib.Graph({ compound: true, multigraph: true });
  g.setGraph({ rankdir: direction, nodesep: NODE_SEP, edgesep: EDGE_SEP, ranksep: RANK_SEP });
  const blocks = new Map<string, Laid>();
  const clusters: string[] = [];
  const add = (parent: string | undefined, cluster: string | undefined): void => {
    for (const item of childrenOf(c.d, parent)) {
      let key: string;
      if (item.node) {
        key = `n:${item.node.id}`;
        const { w, h } = nodeSize(item.node);
        g.setNode(key, { width: w, height: h });
      } else if (isBlock(c.groupOf, item.group!)) {
        key = `g:${item.group!.id}`;
        const block = layoutBlock(c, item.group!);
        blocks.set(key, block);
        g.setNode(key, { width: block.w, height: block.h });
      } else {
        key = `g:${item.group!.id}`;
        clusters.push(item.group!.id);
        g.setNode(key, {});
        const titleWidth = textWidth(item.group!.title, true) + 2 * GROUP_PAD;
        if (titleWidth > widestWithin(c, item.group!.id)) {
          g.setNode(`t:${item.group!.id}`, { width: titleWidth, height: 0 });
          g.setParent(`t:${item.group!.id}`, key);
        }
        add(item.group!.id, key);
      }
      if (cluster !== undefined) g.setParent(key, cluster);
    }
  };
  add(container, undefined);

  const depth = blockDepth(c.groupOf, container);
  const proxy = (node: string): string => {
    const chain = c.blocksOf.get(node)!;
    return chain.length > depth ? `g:${chain[depth]}` : `n:${node}`;
  };
  const routed: number[] = [];
  c.d.edges.forEach((e, i) => {
    if (routingBlock(c.blocksOf, e.from, e.to).container !== container) return;
    routed.push(i);
    const label =
      e.label === undefined ? {} : { width: textWidth(e.label) + LABEL_PAD, height: LABEL_HEIGHT, labelpos: 'c' };
    g.setEdge(proxy(e.from), proxy(e.to), { minlen: 1, ...label }, `e${i}`);
  });
  return { g, blocks, clusters, routed, proxy };
}

/**
 * Lays out a container: dagre places its graph; boxes of nodes, compound nodes and blocks (with what they hold)
 * are read back, and the edges' routes, carried on from blocks' sides to the nodes within.
 */
function layoutContainer(c: Context, container: string | undefined): Laid {
  const { g, blocks, clusters, routed, proxy } = containerGraph(c, container);
  dagre.layout(g);

  const boxes = new Map<string, Box>();
  const boxOf = (key: string): Box => {
    const n = g.node(key);
    const [x0, y0] = [Math.round(n.x! - n.width / 2), Math.round(n.y! - n.height / 2)];
    return { x: x0, y: y0, w: Math.round(n.x! + n.width / 2) - x0, h: Math.round(n.y! + n.height / 2) - y0 };
  };
  for (const n of c.d.nodes) if (g.hasNode(`n:${n.id}`)) boxes.set(`n:${n.id}`, boxOf(`n:${n.id}`));
  for (const id of clusters) boxes.set(`g:${id}`, boxOf(`g:${id}`));
  const routes = new Map<number, EdgeRoute>();
  for (const [key, block] of blocks) {
    const at = boxOf(key);
    for (const [k, b] of block.boxes) boxes.set(k, { ...b, x: b.x + at.x, y: b.y + at.y });
    for (const [i, r] of block.routes) routes.set(i, shifted(r, at.x, at.y));
  }
  const escapes = new Escapes(directionOf(c.groupOf, container));
  for (const i of routed) {
    const e = c.d.edges[i];
    const label = g.edge({ v: proxy(e.from), w: proxy(e.to), name: `e${i}` });
    const points = label.points!.map((p: Dagre.Point): Point => [p.x, p.y]);
    if (proxy(e.from) !== `n:${e.from}`) {
      escapes.add(i, 'start', boxes.get(`n:${e.from}`)!, boxes.get(proxy(e.from))!, points);
    }
    if (proxy(e.to) !== `n:${e.to}`) escapes.add(i, 'end', boxes.get(`n:${e.to}`)!, boxes.get(proxy(e.to))!, points);
    routes.set(i, { points, ...(e.label !== undefined ? { label: [label.x!, label.y!] as Point } : {}) });
  }
  escapes.apply(routes);
  return normalised(c.d, boxes, routes);
}

/** Routes moved by (dx, dy). */
function shifted(r: EdgeRoute, dx: number, dy: number): EdgeRoute {
  const move = (p: Point): Point => [p[0] + dx, p[1] + dy];
  return { points: r.points.map(move), ...(r.label ? { label: move(r.label) } : {}) };
}

/** Moved so that everything starts at 0, 0 (boxes, routes, label plates); sized to hold it all. */
function normalised(d: Diagram, boxes: Map<string, Box>, routes: Map<number, EdgeRoute>): Laid {
  const extents: Box[] = [...boxes.values()];
  for (const [i, r] of routes) {
    extents.push(...r.points.map((p) => ({ x: p[0], y: p[1], w: 0, h: 0 })));
    if (r.label) extents.push(plate(d.edges[i].label!, r.label));
  }
  const left = Math.min(...extents.map((b) => b.x));
  const top = Math.min(...extents.map((b) => b.y));
  const right = Math.max(...extents.map((b) => b.x + b.w));
  const bottom = Math.max(...extents.map((b) => b.y + b.h));
  return {
    w: Math.ceil(right - left),
    h: Math.ceil(bottom - top),
    boxes: new Map([...boxes].map(([k, b]) => [k, { ...b, x: b.x - left, y: b.y - top }])),
    routes: new Map([...routes].map(([i, r]) => [i, shifted(r, -left, -top)])),
  };
}

/** The white plate under an edge's label, centred on the label's place. */
export function plate(text: string, at: Point): Box {
  const w = textWidth(text) + LABEL_PAD;
  return { x: at[0] - w / 2, y: at[1] - 9, w, h: LABEL_HEIGHT };
}

/**
 * The ends of edges that lie in a block within: dagre's route stops at the block's side; the edge goes on
 * straight to the node's side, along the graph's direction. Several ends on one side of a node are spread over
 * its middle half, in the order of where their routes come from.
 */
class Escapes {
  private readonly ends: Array<{
    edge: number;
    end: 'start' | 'end';
    node: Box;
    block: Box;
    side: string;
    from: number;
  }> = [];

  constructor(private readonly direction: Direction) {}

  public add(edge: number, end: 'start' | 'end', node: Box, block: Box, points: Point[]): void {
    const next = end === 'start' ? points[1] : points[points.length - 2];
    const axis = this.direction === 'LR' ? 0 : 1;
    const centre = axis === 0 ? block.x + block.w / 2 : block.y + block.h / 2;
    const side = `${node.x},${node.y}:${next[axis] >= centre ? 'after' : 'before'}`;
    this.ends.push({ edge, end, node, block, side, from: next[1 - axis] });
  }

  public apply(routes: Map<number, EdgeRoute>): void {
    const sides = new Map<string, typeof this.ends>();
    for (const e of this.ends) sides.set(e.side, [...(sides.get(e.side) ?? []), e]);
    for (const ends of sides.values()) {
      ends.sort((a, b) => a.from - b.from || a.edge - b.edge);
      ends.forEach((e, i) => {
        const r = routes.get(e.edge)!;
        const after = e.side.endsWith('after');
        const share = 0.25 + (0.5 * (i + 0.5)) / ends.length;
        const { node, block } = e;
        const [onNode, onBlock]: Point[] =
          this.direction === 'LR'
            ? [
                [after ? node.x + node.w : node.x, node.y + node.h * share],
                [after ? block.x + block.w : block.x, node.y + node.h * share],
              ]
            : [
                [node.x + node.w * share, after ? node.y + node.h : node.y],
                [node.x + node.w * share, after ? block.y + block.h : block.y],
              ];
        const points =
          e.end === 'start' ? [onNode, onBlock, ...r.points.slice(1)] : [...r.points.slice(0, -1), onBlock, onNode];
        routes.set(e.edge, { ...r, points });
      });
    }
  }
}

/**
 * A block: its content laid out in its direction, framed, the title in a band above it. The content is moved
 * right as far as it takes for no edge entering it from above to cross the title.
 */
function layoutBlock(c: Context, group: DiagramGroup): Laid {
  const content = layoutContainer(c, group.id);
  const title = textWidth(group.title, true);
  const entered = [...(c.enteredFromAbove.get(group.id) ?? [])].map((id) => content.boxes.get(`n:${id}`)!);
  const nearest = Math.min(Infinity, ...entered.map((b) => b.x + b.w / 4));
  const shift = Number.isFinite(nearest) ? Math.max(0, title + 10 - nearest) : 0;
  const dx = GROUP_PAD + shift;
  const w = Math.max(content.w + shift, title) + 2 * GROUP_PAD;
  const boxes = new Map([...content.boxes].map(([k, b]) => [k, { ...b, x: b.x + dx, y: b.y + GROUP_TITLE }]));
  boxes.set(`g:${group.id}`, { x: 0, y: 0, w, h: content.h + GROUP_TITLE + GROUP_PAD });
  const routes = new Map([...content.routes].map(([i, r]) => [i, shifted(r, dx, GROUP_TITLE)]));
  return { w, h: content.h + GROUP_TITLE + GROUP_PAD, boxes, routes };
}

/** Where the line from the centre of the ellipse in the box toward p leaves the ellipse. */
function onEllipse(b: Box, p: Point): Point {
  const [cx, cy] = [b.x + b.w / 2, b.y + b.h / 2];
  const [dx, dy] = [p[0] - cx, p[1] - cy];
  const t = 1 / Math.hypot(dx / (b.w / 2), dy / (b.h / 2));
  return [cx + dx * t, cy + dy * t];
}

/** Where everything goes: boxes keyed `n:<node>` and `g:<group>`, each edge's route (by index), and the size. */
export interface SvgLayout {
  readonly boxes: ReadonlyMap<string, Box>;
  readonly edges: readonly EdgeRoute[];
  readonly width: number;
  readonly height: number;
}

export function svgLayout(d: Diagram): SvgLayout {
  const content = layoutContainer(context(d), undefined);
  const [dx, dy] = [MARGIN, MARGIN + TITLE_HEIGHT];
  const boxes = new Map([...content.boxes].map(([k, b]) => [k, { ...b, x: b.x + dx, y: b.y + dy }]));
  const round = (p: Point): Point => [Math.round(p[0]), Math.round(p[1])];
  const kindOf = new Map(d.nodes.map((n) => [n.id, n.kind]));
  const edges = d.edges.map((e, i) => {
    const r = shifted(content.routes.get(i)!, dx, dy);
    const points = [...r.points];
    if (kindOf.get(e.from) === 'internet') points[0] = onEllipse(boxes.get(`n:${e.from}`)!, points[1]);
    if (kindOf.get(e.to) === 'internet') {
      points[points.length - 1] = onEllipse(boxes.get(`n:${e.to}`)!, points[points.length - 2]);
    }
    return { points: points.map(round), ...(r.label ? { label: round(r.label) } : {}) };
  });
  const width = Math.ceil(Math.max(content.w, textWidth(d.title, true) * 1.25) + 2 * MARGIN);
  return { boxes, edges, width, height: content.h + 2 * MARGIN + TITLE_HEIGHT };
}
