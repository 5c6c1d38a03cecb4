/*
 * A standalone SVG image of a diagram, drawn on the layout of svg-layout.ts (dagre's): frames from the outside
 * in, then the edges along their routes, the nodes, and the edges' labels on top.
 */
import { Diagram, DiagramNode, GroupKind } from './model';
import { COLOURS, TEXT_COLOUR } from './style';
import { Box, GROUP_PAD, LINE_HEIGHT, MARGIN, plate, Point, SvgLayout, svgLayout } from './svg-layout';

const FONT_SIZE = 12;

/** Text for XML: the five special characters escaped, characters XML 1.0 forbids dropped. */
export function xmlText(text: string): string {
  const entities: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };
  // eslint-disable-next-line no-control-regex
  return text
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '')
    .replace(/[&<>"']/g, (ch) => entities[ch]);
}

function shape(n: DiagramNode, b: Box, colours: { fill: string; stroke: string }): string {
  const paint = `fill="${colours.fill}" stroke="${colours.stroke}" stroke-width="1.4"`;
  const { x, y, w, h } = b;
  switch (n.kind) {
    case 'internet':
      return `<ellipse cx="${x + w / 2}" cy="${y + h / 2}" rx="${w / 2}" ry="${h / 2}" ${paint}/>`;
    case 'database':
    case 'bucket': {
      const e = 7;
      return (
        `<path d="M${x},${y + e} a${w / 2},${e} 0 0,0 ${w},0 a${w / 2},${e} 0 0,0 ${-w},0 v${h - 2 * e} ` +
        `a${w / 2},${e} 0 0,0 ${w},0 v${-(h - 2 * e)}" ${paint}/>`
      );
    }
    case 'approval':
      return `<polygon points="${[
        [x + 12, y],
        [x + w - 12, y],
        [x + w, y + h / 2],
        [x + w - 12, y + h],
        [x + 12, y + h],
        [x, y + h / 2],
      ].join(' ')}" ${paint}/>`;
    case 'parameter':
      return `<polygon points="${[
        [x + 12, y],
        [x + w, y],
        [x + w - 12, y + h],
        [x, y + h],
      ].join(' ')}" ${paint}/>`;
    case 'stage':
      return `<rect x="${x}" y="${y}" width="${w}" height="${h}" rx="10" ${paint}/>`;
    case 'schedule':
      return `<rect x="${x}" y="${y}" width="${w}" height="${h}" rx="${h / 2}" ${paint}/>`;
    default:
      return `<rect x="${x}" y="${y}" width="${w}" height="${h}" rx="3" ${paint}/>`;
  }
}

/** Corners of an edge's route are rounded off with at most this radius. */
const CORNER = 10;

/** An edge's path: straight between the points of its route, its corners rounded. */
function pathData(points: readonly Point[]): string {
  const r = (p: Point) => `${Math.round(p[0])},${Math.round(p[1])}`;
  let d = `M${r(points[0])}`;
  for (let i = 1; i < points.length - 1; i++) {
    const [a, p, b] = [points[i - 1], points[i], points[i + 1]];
    const toward = (q: Point): Point => {
      const length = Math.hypot(q[0] - p[0], q[1] - p[1]);
      const k = length === 0 ? 0 : Math.min(CORNER, length / 2) / length;
      return [p[0] + (q[0] - p[0]) * k, p[1] + (q[1] - p[1]) * k];
    };
    d += ` L${r(toward(a))} Q${r(p)} ${r(toward(b))}`;
  }
  return `${d} L${r(points[points.length - 1])}`;
}

const GROUP_PAINT: Record<GroupKind, string> = {
  vpc: 'fill="#f5f9ff" stroke="#7a9cc6" stroke-dasharray="6 4"',
  subnets: 'fill="#ffffff" stroke="#9fb3c8"',
  'load-balancer': 'fill="#eef4fc" stroke="#1f5fa8"',
  pipeline: 'fill="#faf7fd" stroke="#8e6cbf"',
};

/** A standalone SVG image of the diagram. */
export function toSvg(d: Diagram): string {
  const layout = svgLayout(d);
  const { paths, labels } = edgeElements(d, layout);
  return [
    ...head(d, layout),
    ...frameElements(d, layout),
    ...paths,
    ...nodeElements(d, layout),
    ...labels,
    '</svg>',
  ].join('\n');
}

/** The XML declaration, the svg element, the arrow head, the background and the title. */
function head(d: Diagram, { width, height }: SvgLayout): string[] {
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
      `font-family="Helvetica, Arial, sans-serif" font-size="${FONT_SIZE}">`,
    `<title>${xmlText(d.title)}</title>`,
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto">' +
      '<path d="M0,0 L10,5 L0,10 z" fill="#555555"/></marker></defs>',
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${MARGIN}" y="${MARGIN + 16}" font-size="15" font-weight="bold" fill="${TEXT_COLOUR}">${xmlText(d.title)}</text>`,
  ];
}

/** The groups' frames from the outside in, so inner frames are drawn over outer ones. */
function frameElements(d: Diagram, { boxes }: SvgLayout): string[] {
  const parentOf = new Map(d.groups.map((g) => [g.id, g.parent]));
  const depth = (g: string | undefined): number => (g === undefined ? 0 : 1 + depth(parentOf.get(g)));
  return [...d.groups]
    .sort((x, y) => depth(x.id) - depth(y.id))
    .map((g) => {
      const b = boxes.get(`g:${g.id}`)!;
      return (
        `<g id="group-${g.id}" class="group">` +
        `<rect x="${b.x}" y="${b.y}" width="${b.w}" height="${b.h}" rx="6" ${GROUP_PAINT[g.kind]}/>` +
        `<text x="${b.x + GROUP_PAD}" y="${b.y + 16}" font-weight="bold" fill="#34495e">${xmlText(g.title)}</text></g>`
      );
    });
}

/** Each edge's path, and the labels (drawn last, over everything). */
function edgeElements(d: Diagram, layout: SvgLayout): { paths: string[]; labels: string[] } {
  const paths: string[] = [];
  const labels: string[] = [];
  d.edges.forEach((e, i) => {
    const { points, label } = layout.edges[i];
    const dash = e.dashed ? ' stroke-dasharray="5 4"' : '';
    paths.push(
      `<path class="edge" data-from="${e.from}" data-to="${e.to}" d="${pathData(points)}" fill="none" stroke="#555555" stroke-width="1.3"${dash} marker-end="url(#arrow)"/>`,
    );
    if (e.label !== undefined) labels.push(labelElement(e.label, label!));
  });
  return { paths, labels };
}

/** An edge's label on a white plate, centred where dagre placed it. */
function labelElement(text: string, at: Point): string {
  const { x, y, w, h } = plate(text, at);
  return (
    `<g class="edge-label"><rect x="${x}" y="${y}" width="${w}" height="${h}" rx="3" fill="#ffffff" fill-opacity="0.9"/>` +
    `<text x="${at[0]}" y="${at[1] + 4}" text-anchor="middle" font-size="11" fill="#444444">${xmlText(text)}</text></g>`
  );
}

/** Each node: its shape and its lines, centred, the first in bold. */
function nodeElements(d: Diagram, { boxes }: SvgLayout): string[] {
  return d.nodes.map((n) => {
    const b = boxes.get(`n:${n.id}`)!;
    const cx = b.x + b.w / 2;
    const top = b.y + b.h / 2 - (n.lines.length * LINE_HEIGHT) / 2 + 12;
    const lines = n.lines.map(
      (line, i) =>
        `<tspan x="${cx}" y="${top + i * LINE_HEIGHT}"${i === 0 ? ' font-weight="bold"' : ''}>${xmlText(line)}</tspan>`,
    );
    return (
      `<g id="node-${n.id}" class="node ${n.kind}">${shape(n, b, COLOURS[n.kind])}` +
      `<text text-anchor="middle" fill="${TEXT_COLOUR}">${lines.join('')}</text></g>`
    );
  });
}
