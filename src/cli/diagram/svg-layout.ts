/*
 * Where the SVG puts everything: a layered layout of nested boxes. Each container (the diagram, each group) is
 * laid out on its own, in the direction of the group: its items in layers along the edges between them, ordered
 * within each layer by their neighbours, with waypoints kept free for edges that cross layers.
 */
import { childrenOf, Diagram, DiagramGroup, DiagramNode } from './model';

export const LINE_HEIGHT = 16;
const PAD_X = 12;
const PAD_Y = 8;
export const GROUP_PAD = 14;
const GROUP_TITLE = 22;
const GAP_ACROSS = 22;
const GAP_ALONG = 56;
export const MARGIN = 20;
const TITLE_HEIGHT = 30;

export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

type Size = { w: number; h: number };
type Direction = 'LR' | 'TB';

/** A generous estimate of text width in a sans-serif font at 12px (no font metrics without a browser). */
export function textWidth(text: string, bold = false): number {
  return Math.ceil([...text].length * (bold ? 7.4 : 6.8));
}

function nodeSize(n: DiagramNode): Size {
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

/**
 * A laid-out container: its size and the offsets of its items. Keys: `n:<node id>`, `g:<group id>`, and
 * `d:<edge index>:<layer>` for the waypoints of an edge that crosses layers (space kept free for it).
 */
interface Block {
  readonly w: number;
  readonly h: number;
  readonly direction: Direction;
  readonly items: Array<{ key: string; x: number; y: number; w: number; h: number; block?: Block }>;
}

/** An edge as a container sees it: between two of its items (`edge` is the index in the diagram's edges). */
interface ContainerEdge {
  readonly from: string;
  readonly to: string;
  readonly edge: number;
  readonly labelWidth: number;
}

/** A short segment of an edge: between two items of adjacent layers, a waypoint on either end or both. */
type Segment = { readonly from: string; readonly to: string };

/** The chain of item keys from the top of the diagram down to a node: `g:vpc`, `g:private`, `n:asg`. */
function pathOf(d: Diagram, nodeId: string): string[] {
  const parentOf = new Map(d.groups.map((g) => [g.id, g.parent]));
  const path = [`n:${nodeId}`];
  for (let g = d.nodes.find((n) => n.id === nodeId)!.group; g !== undefined; g = parentOf.get(g)) {
    path.unshift(`g:${g}`);
  }
  return path;
}

/** Each edge counts in the innermost container holding both ends, between the items that hold them. */
function containerEdges(d: Diagram): Map<string, ContainerEdge[]> {
  const byContainer = new Map<string, ContainerEdge[]>();
  d.edges.forEach((e, edge) => {
    const a = pathOf(d, e.from);
    const b = pathOf(d, e.to);
    let i = 0;
    while (a[i] === b[i]) i++;
    const container = i === 0 ? '' : a[i - 1];
    const labelWidth = e.label !== undefined ? textWidth(e.label) : 0;
    byContainer.set(container, [...(byContainer.get(container) ?? []), { from: a[i], to: b[i], edge, labelWidth }]);
  });
  return byContainer;
}

/** Layers of the items (longest path, cycles broken where a depth-first walk meets them; sources pulled forward). */
function layersOf(keys: string[], edges: ContainerEdge[]): { layer: Map<string, number>; forward: ContainerEdge[] } {
  const out = new Map(keys.map((k) => [k, [] as ContainerEdge[]]));
  for (const e of edges) out.get(e.from)!.push(e);
  const state = new Map<string, number>();
  const forward: ContainerEdge[] = [];
  const postorder: string[] = [];
  const visit = (k: string): void => {
    state.set(k, 1);
    for (const e of out.get(k)!) {
      if (state.get(e.to) === 1) continue; // a back edge: drawn, but not a constraint
      forward.push(e);
      if (!state.has(e.to)) visit(e.to);
    }
    state.set(k, 2);
    postorder.push(k);
  };
  for (const k of keys) if (!state.has(k)) visit(k);
  const layer = new Map(keys.map((k) => [k, 0]));
  for (const k of postorder.reverse()) {
    for (const e of out.get(k)!) {
      if (forward.includes(e)) layer.set(e.to, Math.max(layer.get(e.to)!, layer.get(k)! + 1));
    }
  }
  for (const k of keys) {
    const successors = forward.filter((e) => e.from === k).map((e) => layer.get(e.to)!);
    if (successors.length > 0 && !forward.some((e) => e.to === k)) layer.set(k, Math.min(...successors) - 1);
  }
  return { layer, forward };
}

/** A container's items, each measured: a node by its text, a group by laying it out first. */
function measureItems(
  d: Diagram,
  container: string | undefined,
  edgesIn: Map<string, ContainerEdge[]>,
): { keys: string[]; sizeOf: Map<string, Size>; blockOf: Map<string, Block> } {
  const sizeOf = new Map<string, Size>();
  const blockOf = new Map<string, Block>();
  const keys = childrenOf(d, container).map((item) => {
    if (item.node) {
      sizeOf.set(`n:${item.node.id}`, nodeSize(item.node));
      return `n:${item.node.id}`;
    }
    const block = layoutGroup(d, item.group!, edgesIn);
    blockOf.set(`g:${item.group!.id}`, block);
    sizeOf.set(`g:${item.group!.id}`, { w: block.w, h: block.h });
    return `g:${item.group!.id}`;
  });
  return { keys, sizeOf, blockOf };
}

/**
 * An edge that crosses layers gets a waypoint in each layer between its ends, kept free of boxes; its label goes
 * on the middle one. Adds the waypoints to the layers and their sizes; returns every edge as short segments.
 */
function addWaypoints(
  forward: ContainerEdge[],
  layer: Map<string, number>,
  columns: string[][],
  sizeOf: Map<string, Size>,
  direction: Direction,
): Segment[] {
  const segments: Segment[] = [];
  const labelled = new Set(forward.filter((e) => e.labelWidth > 0).map((e) => e.edge));
  for (const e of forward) {
    const [first, last] = [layer.get(e.from)!, layer.get(e.to)!];
    let previous = e.from;
    for (let l = first + 1; l < last; l++) {
      const key = `d:${e.edge}:${l}`;
      const middle = l === Math.floor((first + last) / 2);
      const across = middle && labelled.has(e.edge) ? 18 : 8;
      sizeOf.set(key, direction === 'LR' ? { w: 0, h: across } : { w: across, h: 0 });
      columns[l].push(key);
      segments.push({ from: previous, to: key });
      previous = key;
    }
    segments.push({ from: previous, to: e.to });
  }
  return segments;
}

/** Order within layers: barycentre of the neighbours in the previous (next) layer, three sweeps. */
function orderWithinLayers(columns: string[][], segments: Segment[]): void {
  const depth = columns.length;
  const position = new Map<string, number>();
  const remember = (column: string[]) => column.forEach((k, i) => position.set(k, (i + 0.5) / column.length));
  columns.forEach(remember);
  const sweep = (indices: number[], neighbours: (k: string) => string[]) => {
    for (const l of indices) {
      const keyed = columns[l].map((k) => {
        const around = neighbours(k).map((n) => position.get(n)!);
        return { k, at: around.length > 0 ? around.reduce((sum, p) => sum + p, 0) / around.length : position.get(k)! };
      });
      columns[l] = keyed.sort((x, y) => x.at - y.at).map((x) => x.k);
      remember(columns[l]);
    }
  };
  const down = Array.from({ length: depth - 1 }, (_, i) => i + 1);
  const up = down.map((l) => depth - 1 - l);
  const predecessors = (k: string) => segments.filter((e) => e.to === k).map((e) => e.from);
  const successors = (k: string) => segments.filter((e) => e.from === k).map((e) => e.to);
  sweep(down, predecessors);
  sweep(up, successors);
  sweep(down, predecessors);
}

/** A container's layers, ordered, with what placing them needs. */
interface Layered {
  readonly columns: string[][];
  readonly sizeOf: Map<string, Size>;
  readonly blockOf: Map<string, Block>;
  readonly layer: Map<string, number>;
  readonly forward: ContainerEdge[];
}

/** Coordinates: `along` is the layers' axis, `across` the axis within a layer; each layer centred across. */
function positionItems(l: Layered, direction: Direction): Block {
  const { columns, sizeOf, blockOf, layer, forward } = l;
  const along = (k: string) => (direction === 'LR' ? sizeOf.get(k)!.w : sizeOf.get(k)!.h);
  const across = (k: string) => (direction === 'LR' ? sizeOf.get(k)!.h : sizeOf.get(k)!.w);
  const layerAlong = columns.map((column) => Math.max(...column.map(along)));
  const layerAcross = columns.map(
    (column) => column.reduce((sum, k) => sum + across(k), 0) + GAP_ACROSS * (column.length - 1),
  );
  // Between layers of a left-to-right container, room for the widest label of an edge between them.
  const gaps = columns.slice(1).map((_, i) => {
    if (direction === 'TB') return GAP_ALONG - 16;
    const labels = forward
      .filter((e) => layer.get(e.from) === i && layer.get(e.to) === i + 1)
      .map((e) => e.labelWidth + 28);
    return Math.max(GAP_ALONG, ...labels);
  });
  const totalAcross = Math.max(...layerAcross);
  const items: Block['items'] = [];
  let at = 0;
  columns.forEach((column, i) => {
    let cross = (totalAcross - layerAcross[i]) / 2;
    for (const k of column) {
      // A waypoint spans its layer, so that the edge runs straight through it.
      const length = k.startsWith('d:') ? layerAlong[i] : along(k);
      const main = at + (layerAlong[i] - length) / 2;
      const [x, y] = direction === 'LR' ? [main, cross] : [cross, main];
      const [w, h] = direction === 'LR' ? [length, across(k)] : [across(k), length];
      items.push({ key: k, x: Math.round(x), y: Math.round(y), w, h, block: blockOf.get(k) });
      cross += across(k) + GAP_ACROSS;
    }
    at += layerAlong[i] + (gaps[i] ?? 0);
  });
  const [w, h] = direction === 'LR' ? [at, totalAcross] : [totalAcross, at];
  return { w, h, direction, items };
}

/** Lays out a container's items in layers, ordered within each layer by their neighbours' positions. */
function layoutContainer(
  d: Diagram,
  container: string | undefined,
  direction: Direction,
  edgesIn: Map<string, ContainerEdge[]>,
): Block {
  const { keys, sizeOf, blockOf } = measureItems(d, container, edgesIn);
  const edges = edgesIn.get(container === undefined ? '' : `g:${container}`) ?? [];
  const { layer, forward } = layersOf(keys, edges);
  const depth = Math.max(...keys.map((k) => layer.get(k)!)) + 1;
  const columns: string[][] = Array.from({ length: depth }, () => []);
  for (const k of keys) columns[layer.get(k)!].push(k);
  const segments = addWaypoints(forward, layer, columns, sizeOf, direction);
  orderWithinLayers(columns, segments);
  return positionItems({ columns, sizeOf, blockOf, layer, forward }, direction);
}

/** A group: its content framed, with the title above it. */
function layoutGroup(d: Diagram, group: DiagramGroup, edgesIn: Map<string, ContainerEdge[]>): Block {
  const content = layoutContainer(d, group.id, group.direction, edgesIn);
  const w = Math.max(content.w, textWidth(group.title, true)) + 2 * GROUP_PAD;
  const dx = GROUP_PAD + Math.round((w - 2 * GROUP_PAD - content.w) / 2);
  const items = content.items.map((item) => ({ ...item, x: item.x + dx, y: item.y + GROUP_TITLE }));
  return { w, h: content.h + GROUP_TITLE + GROUP_PAD, direction: content.direction, items };
}

/** Absolute boxes of every item; the direction of the container that holds each waypoint. */
function place(block: Block, x: number, y: number, boxes: Map<string, Box>, flows: Map<string, Direction>): void {
  for (const item of block.items) {
    const box = { x: x + item.x, y: y + item.y, w: item.w, h: item.h };
    boxes.set(item.key, box);
    if (item.key.startsWith('d:')) flows.set(item.key, block.direction);
    if (item.block) place(item.block, box.x, box.y, boxes, flows);
  }
}

/** Where everything goes: boxes keyed `n:<node>`, `g:<group>`, `d:<edge>:<layer>` (waypoints), and the size. */
export interface SvgLayout {
  readonly boxes: ReadonlyMap<string, Box>;
  /** The direction of the container of each waypoint. */
  readonly flows: ReadonlyMap<string, Direction>;
  readonly width: number;
  readonly height: number;
}

export function svgLayout(d: Diagram): SvgLayout {
  const content = layoutContainer(d, undefined, 'LR', containerEdges(d));
  const boxes = new Map<string, Box>();
  const flows = new Map<string, Direction>();
  place(content, MARGIN, MARGIN + TITLE_HEIGHT, boxes, flows);
  const width = Math.ceil(Math.max(content.w, textWidth(d.title, true) * 1.25) + 2 * MARGIN);
  return { boxes, flows, width, height: content.h + 2 * MARGIN + TITLE_HEIGHT };
}
