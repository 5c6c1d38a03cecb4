import { execFileSync } from 'child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { BUNDLED_FLEET, EXIT_INVALID, EXIT_OK, EXIT_USAGE, run } from '../../src/cli/cli';
import {
  customerDiagram,
  Diagram,
  diagramFileText,
  mermaidText,
  platformDiagram,
  repositoryText,
  svgLayout,
  toMermaid,
  toSvg,
  xmlText,
} from '../../src/cli/diagram';
import { readFleet } from '../../src/config/loader';
import { CustomerWebTier } from '../../src/web-tier/customer-web-tier';
import { platform, productionCustomer, stagingCustomer, writeFleet } from '../config/fixtures';

/** Runs the command in-process and captures what a user would see. */
function cli(argv: string[], cwd = tmpdir()) {
  const out: string[] = [];
  const err: string[] = [];
  const code = run(argv, { out: (t) => out.push(t), err: (t) => err.push(t), cwd });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const FLEET = readFleet(BUNDLED_FLEET);
const customer = (name: string, environment: string) =>
  FLEET.customers.find((c) => c.customer === name && c.environment === environment)!;

// ---------------------------------------------------------------------------------------------------------------------
// A reader of the Mermaid the renderer writes, to assert structure rather than text.

interface ParsedMermaid {
  readonly header: string;
  /** Node id -> its label lines (entities decoded), its shape's opening bracket and its enclosing subgraphs, innermost first. */
  readonly nodes: Map<string, { lines: string[]; open: string; within: string[] }>;
  readonly subgraphs: Map<string, { title: string; within: string[] }>;
  readonly edges: Array<{ from: string; to: string; label?: string; dashed: boolean }>;
  readonly classes: Map<string, string>;
}

const decode = (text: string) => text.replace(/#(\d+);/g, (_, code) => String.fromCodePoint(Number(code)));

function parseMermaid(text: string): ParsedMermaid {
  const [header, ...lines] = text.split('\n');
  const nodes: ParsedMermaid['nodes'] = new Map();
  const subgraphs: ParsedMermaid['subgraphs'] = new Map();
  const edges: ParsedMermaid['edges'] = [];
  const classes = new Map<string, string>();
  const stack: string[] = [];
  for (const line of lines) {
    const trimmed = line.trim();
    let m: RegExpMatchArray | null;
    if (trimmed.startsWith('%%') || trimmed.startsWith('classDef ')) continue;
    if ((m = trimmed.match(/^subgraph ([a-z0-9_]+)\["([^"]*)"\]$/))) {
      expect(subgraphs.has(m[1])).toBe(false);
      subgraphs.set(m[1], { title: decode(m[2]), within: [...stack].reverse() });
      stack.push(m[1]);
    } else if (trimmed === 'end') {
      expect(stack.pop()).toBeDefined();
    } else if ((m = trimmed.match(/^([a-z0-9_]+) (-->|-\.->)(?:\|"([^"]*)"\|)? ([a-z0-9_]+)$/))) {
      edges.push({
        from: m[1],
        to: m[4],
        dashed: m[2] === '-.->',
        ...(m[3] !== undefined ? { label: decode(m[3]) } : {}),
      });
    } else if ((m = trimmed.match(/^class ([a-z0-9_,]+) ([a-z_]+)$/))) {
      for (const id of m[1].split(',')) classes.set(id, m[2]);
    } else if (
      (m = trimmed.match(/^([a-z0-9_]+)(\(\(|\[\(|\[\/|\{\{|\(\[|\[|\()"([^"]*)"(\)\)|\)\]|\/\]|\}\}|\]\)|\]|\))$/))
    ) {
      expect(nodes.has(m[1])).toBe(false);
      nodes.set(m[1], { lines: m[3].split('<br/>').map(decode), open: m[2], within: [...stack].reverse() });
    } else {
      throw new Error(`unexpected Mermaid line: ${line}`);
    }
  }
  expect(stack).toEqual([]);
  return { header, nodes, subgraphs, edges, classes };
}

/** The chain of a pipeline's stages, following unlabelled or labelled edges between the given nodes. */
function chain(parsed: ParsedMermaid, start: string, members: string[]): string[] {
  const order = [start];
  for (;;) {
    const next = parsed.edges.find((e) => e.from === order[order.length - 1] && members.includes(e.to));
    if (!next) return order;
    order.push(next.to);
  }
}

function edge(parsed: ParsedMermaid, from: string, to: string) {
  return parsed.edges.find((e) => e.from === from && e.to === to);
}

/** Every edge joins declared nodes; ids are plain; every node has a class. */
function expectConsistent(parsed: ParsedMermaid) {
  expect(parsed.header).toBe('flowchart LR');
  for (const e of parsed.edges) {
    expect(parsed.nodes.has(e.from)).toBe(true);
    expect(parsed.nodes.has(e.to)).toBe(true);
  }
  for (const id of [...parsed.nodes.keys(), ...parsed.subgraphs.keys()]) expect(id).toMatch(/^[a-z][a-z0-9_]*$/);
  expect([...parsed.classes.keys()].sort()).toEqual([...parsed.nodes.keys()].sort());
}

// ---------------------------------------------------------------------------------------------------------------------
// An XML check: Python's expat parser (Python is already a test requirement), strict about well-formedness.

const XML_READER = `
import json, sys, xml.etree.ElementTree as ET
root = ET.fromstring(sys.stdin.buffer.read())
ns = '{http://www.w3.org/2000/svg}'
def lines(g):
    return [''.join(t.itertext()) for t in g.iter(ns + 'tspan')]
print(json.dumps({
    'root': root.tag,
    'width': root.get('width'),
    'height': root.get('height'),
    'title': root.find(ns + 'title').text,
    'nodes': {g.get('id')[5:]: lines(g) for g in root.iter(ns + 'g') if (g.get('id') or '').startswith('node-')},
    'groups': {g.get('id')[6:]: ''.join(g.find(ns + 'text').itertext()) for g in root.iter(ns + 'g') if (g.get('id') or '').startswith('group-')},
    'edges': [[p.get('data-from'), p.get('data-to')] for p in root.iter(ns + 'path') if p.get('class') == 'edge'],
    'labels': [''.join(g.itertext()) for g in root.iter(ns + 'g') if g.get('class') == 'edge-label'],
}))
`;

/** Boxes of nodes (from their shapes), frames, label plates, and the points of each edge's path. */
const GEOMETRY_READER = `
import json, re, sys, xml.etree.ElementTree as ET
root = ET.fromstring(sys.stdin.buffer.read())
ns = '{http://www.w3.org/2000/svg}'
num = lambda e, a: float(e.get(a))
def shape_box(s):
    tag = s.tag[len(ns):]
    if tag == 'rect':
        return [num(s, 'x'), num(s, 'y'), num(s, 'width'), num(s, 'height')], 'rect'
    if tag == 'ellipse':
        return [num(s, 'cx') - num(s, 'rx'), num(s, 'cy') - num(s, 'ry'), 2 * num(s, 'rx'), 2 * num(s, 'ry')], 'ellipse'
    if tag == 'polygon':
        xy = [[float(v) for v in p.split(',')] for p in s.get('points').split()]
        xs, ys = [p[0] for p in xy], [p[1] for p in xy]
        return [min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)], 'polygon'
    m = re.match(r'M([-\\d.]+),([-\\d.]+) a([-\\d.]+),([-\\d.]+) 0 0,0 ([-\\d.]+),0 .* v([-\\d.]+) ', s.get('d'))
    x, y, e, w, v = float(m[1]), float(m[2]), float(m[4]), float(m[5]), float(m[6])
    return [x, y - e, w, v + 2 * e], 'cylinder'
def box(b):
    return dict(zip('xywh', b))
nodes, frames, edges, labels = {}, {}, [], []
for g in root.iter(ns + 'g'):
    gid = g.get('id') or ''
    if gid.startswith('node-'):
        b, kind = shape_box(list(g)[0])
        nodes[gid[5:]] = {'box': box(b), 'shape': kind}
    elif gid.startswith('group-'):
        r = g.find(ns + 'rect')
        t = g.find(ns + 'text')
        frames[gid[6:]] = {'box': box([num(r, a) for a in ('x', 'y', 'width', 'height')]), 'title': ''.join(t.itertext()),
                           'titleAt': [num(t, 'x'), num(t, 'y')]}
    elif g.get('class') == 'edge-label':
        r = g.find(ns + 'rect')
        labels.append(box([num(r, a) for a in ('x', 'y', 'width', 'height')]))
for p in root.iter(ns + 'path'):
    if p.get('class') == 'edge':
        pts = [[float(a), float(b)] for a, b in re.findall(r'([-\\d.]+),([-\\d.]+)', p.get('d'))]
        edges.append({'from': p.get('data-from'), 'to': p.get('data-to'), 'points': pts})
print(json.dumps({'nodes': nodes, 'frames': frames, 'edges': edges, 'labels': labels}))
`;

type Rect = { x: number; y: number; w: number; h: number };

interface SvgGeometry {
  nodes: Record<string, { box: Rect; shape: 'rect' | 'ellipse' | 'polygon' | 'cylinder' }>;
  frames: Record<string, { box: Rect; title: string; titleAt: [number, number] }>;
  /** Each path's points in order: its start, the corners and their curves' control points, its end. */
  edges: Array<{ from: string; to: string; points: Array<[number, number]> }>;
  labels: Rect[];
}

function svgGeometry(svg: string): SvgGeometry {
  return JSON.parse(execFileSync('python3', ['-c', GEOMETRY_READER], { input: svg, encoding: 'utf-8', stdio: 'pipe' }));
}

/** How far a point is from the outline of a node's shape: its box, or the ellipse in it. */
function offOutline(p: [number, number], n: SvgGeometry['nodes'][string]): number {
  const { x, y, w, h } = n.box;
  if (n.shape === 'ellipse') {
    const [rx, ry] = [w / 2, h / 2];
    const [dx, dy] = [p[0] - x - rx, p[1] - y - ry];
    return Math.abs(Math.hypot(dx / rx, dy / ry) - 1) * Math.min(rx, ry);
  }
  const dx = Math.max(x - p[0], 0, p[0] - x - w);
  const dy = Math.max(y - p[1], 0, p[1] - y - h);
  const outside = Math.hypot(dx, dy);
  return outside > 0 ? outside : Math.min(p[0] - x, x + w - p[0], p[1] - y, y + h - p[1]);
}

/** Whether the segment from a to b passes through the rectangle (Liang-Barsky clipping). */
function crosses(a: [number, number], b: [number, number], r: Rect): boolean {
  let [t0, t1] = [0, 1];
  const [dx, dy] = [b[0] - a[0], b[1] - a[1]];
  for (const [p, q] of [
    [-dx, a[0] - r.x],
    [dx, r.x + r.w - a[0]],
    [-dy, a[1] - r.y],
    [dy, r.y + r.h - a[1]],
  ]) {
    if (p === 0) {
      if (q < 0) return false;
    } else if (p < 0) {
      t0 = Math.max(t0, q / p);
    } else {
      t1 = Math.min(t1, q / p);
    }
  }
  return t0 < t1;
}

/**
 * What makes the picture readable, read from the SVG itself: no two nodes overlap; each node lies inside every
 * frame around it, frames inside theirs; each edge's path starts on the outline of its data-from node and ends on
 * that of its data-to node (within 2 px); no path crosses a frame's title, and no node or inner frame covers one;
 * label plates overlap neither nodes nor each other, and lie in every frame holding both ends of their edge;
 * everything lies in the picture.
 */
function expectReadable(d: Diagram, svg: string) {
  const geometry = svgGeometry(svg);
  const { width, height } = parseSvg(svg);
  const picture = { x: 0, y: 0, w: Number(width), h: Number(height) };
  const parentOf = new Map(d.groups.map((g) => [g.id, g.parent]));
  const ancestors = (group: string | undefined): string[] =>
    group === undefined ? [] : [group, ...ancestors(parentOf.get(group))];
  const nodeBox = (id: string) => geometry.nodes[id].box;
  for (const n of d.nodes) {
    expect({ node: n.id, inPicture: inside(nodeBox(n.id), picture) }).toEqual({ node: n.id, inPicture: true });
    for (const g of ancestors(n.group)) {
      expect({ node: n.id, frame: g, inside: inside(nodeBox(n.id), geometry.frames[g].box) }).toMatchObject({
        inside: true,
      });
    }
    for (const m of d.nodes) {
      if (m.id < n.id) {
        expect({ a: n.id, b: m.id, overlap: overlap(nodeBox(n.id), nodeBox(m.id)) }).toMatchObject({ overlap: false });
      }
    }
  }
  // A frame's title: from where it starts, as wide as its bold text, over the height of the text.
  const titleBand = (g: string): Rect => {
    const { titleAt, title } = geometry.frames[g];
    return { x: titleAt[0], y: titleAt[1] - 13, w: Math.ceil([...title].length * 7.4), h: 17 };
  };
  for (const g of d.groups) {
    expect(inside(geometry.frames[g.id].box, picture)).toBe(true);
    if (g.parent !== undefined) expect(inside(geometry.frames[g.id].box, geometry.frames[g.parent].box)).toBe(true);
    const band = titleBand(g.id);
    expect({ frame: g.id, titleInFrame: inside(band, geometry.frames[g.id].box) }).toMatchObject({
      titleInFrame: true,
    });
    for (const n of d.nodes) {
      expect({ frame: g.id, node: n.id, overTitle: overlap(band, nodeBox(n.id)) }).toMatchObject({ overTitle: false });
    }
    for (const inner of d.groups.filter((h) => ancestors(h.parent).includes(g.id))) {
      expect({ frame: g.id, inner: inner.id, overTitle: overlap(band, geometry.frames[inner.id].box) }).toMatchObject({
        overTitle: false,
      });
    }
  }
  expect(geometry.edges.map((e) => [e.from, e.to])).toEqual(d.edges.map((e) => [e.from, e.to]));
  for (const e of geometry.edges) {
    const [start, end] = [e.points[0], e.points[e.points.length - 1]];
    expect({ edge: `${e.from}->${e.to}`, start: offOutline(start, geometry.nodes[e.from]) <= 2 }).toMatchObject({
      start: true,
    });
    expect({ edge: `${e.from}->${e.to}`, end: offOutline(end, geometry.nodes[e.to]) <= 2 }).toMatchObject({
      end: true,
    });
    for (const p of e.points) expect(inside({ x: p[0], y: p[1], w: 0, h: 0 }, picture)).toBe(true);
    for (const g of d.groups) {
      const crossing = e.points.slice(1).some((p, i) => crosses(e.points[i], p, titleBand(g.id)));
      expect({ edge: `${e.from}->${e.to}`, frame: g.id, crossesTitle: crossing }).toMatchObject({
        crossesTitle: false,
      });
    }
  }
  const labelled = d.edges.filter((e) => e.label !== undefined);
  const groupOf = new Map(d.nodes.map((n) => [n.id, n.group]));
  geometry.labels.forEach((label, i) => {
    expect(inside(label, picture)).toBe(true);
    const e = labelled[i];
    for (const g of ancestors(groupOf.get(e.from)).filter((h) => ancestors(groupOf.get(e.to)).includes(h))) {
      expect({ label: e.label, frame: g, inside: inside(label, geometry.frames[g].box) }).toMatchObject({
        inside: true,
      });
    }
    for (const n of d.nodes) {
      expect({ label: i, node: n.id, overlap: overlap(label, nodeBox(n.id)) }).toMatchObject({ overlap: false });
    }
    geometry.labels.slice(0, i).forEach((other, j) => {
      expect({ label: i, other: j, overlap: overlap(label, other) }).toMatchObject({ overlap: false });
    });
  });
}

interface ParsedSvg {
  root: string;
  width: string;
  height: string;
  title: string;
  nodes: Record<string, string[]>;
  groups: Record<string, string>;
  edges: string[][];
  labels: string[];
}

function parseSvg(svg: string): ParsedSvg {
  return JSON.parse(execFileSync('python3', ['-c', XML_READER], { input: svg, encoding: 'utf-8', stdio: 'pipe' }));
}

/** The SVG holds every node with its label lines, every frame with its title, every edge and edge label. */
function expectSvgOf(d: Diagram, svg: string) {
  const parsed = parseSvg(svg);
  expect(parsed.root).toBe('{http://www.w3.org/2000/svg}svg');
  expect(parsed.title).toBe(d.title);
  expect(parsed.nodes).toEqual(Object.fromEntries(d.nodes.map((n) => [n.id, n.lines])));
  expect(parsed.groups).toEqual(Object.fromEntries(d.groups.map((g) => [g.id, g.title])));
  expect(parsed.edges).toEqual(d.edges.map((e) => [e.from, e.to]));
  expect(parsed.labels).toEqual(d.edges.filter((e) => e.label !== undefined).map((e) => e.label));
}

const inside = (inner: { x: number; y: number; w: number; h: number }, outer: typeof inner) =>
  inner.x >= outer.x &&
  inner.y >= outer.y &&
  inner.x + inner.w <= outer.x + outer.w &&
  inner.y + inner.h <= outer.y + outer.h;
const overlap = (a: { x: number; y: number; w: number; h: number }, b: typeof a) =>
  a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

/** Nodes and frames do not overlap unless nested; each lies in its frame; all lie in the picture. */
function expectLaidOut(d: Diagram) {
  const { boxes, width, height } = svgLayout(d);
  const parentOf = new Map(d.groups.map((g) => [g.id, g.parent]));
  const ancestors = (group: string | undefined): string[] =>
    group === undefined ? [] : [group, ...ancestors(parentOf.get(group))];
  const items = [
    ...d.nodes.map((n) => ({ key: `n:${n.id}`, chain: ancestors(n.group), self: undefined as string | undefined })),
    ...d.groups.map((g) => ({ key: `g:${g.id}`, chain: ancestors(g.parent), self: g.id })),
  ];
  for (const item of items) {
    const box = boxes.get(item.key)!;
    expect(box.w).toBeGreaterThan(0);
    expect(inside(box, { x: 0, y: 0, w: width, h: height })).toBe(true);
    if (item.chain.length > 0) expect(inside(box, boxes.get(`g:${item.chain[0]}`)!)).toBe(true);
    for (const other of items) {
      if (other === item) continue;
      const nested =
        (other.self !== undefined && item.chain.includes(other.self)) ||
        (item.self !== undefined && other.chain.includes(item.self));
      if (!nested) {
        expect({ a: item.key, b: other.key, overlap: overlap(box, boxes.get(other.key)!) }).toMatchObject({
          overlap: false,
        });
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------------

describe('paas-vending diagram: a customer environment in Mermaid', () => {
  test('acme-production: dedicated load balancer, database, approvals, rebuild schedule', () => {
    const result = cli(['diagram', BUNDLED_FLEET, '--customer', 'acme', '--environment', 'production']);
    expect(result).toMatchObject({ code: EXIT_OK, err: '' });
    const d = parseMermaid(result.out);
    expectConsistent(d);
    expect(result.out.split('\n')[1]).toBe('  %% acme-production on platform vending (eu-west-1)');

    // The network: internet -> dedicated ALB (public) -> target group -> ASG (private) -> database (isolated).
    expect(d.subgraphs.get('vpc')).toEqual({ title: 'VPC of platform vending · 10.10.0.0/16 · 3 AZs', within: [] });
    expect(d.subgraphs.get('private')!.title).toBe('Private subnets (egress through NAT gateways)');
    expect(d.nodes.get('internet')).toEqual({ lines: ['Internet'], open: '((', within: [] });
    expect(d.nodes.get('alb')).toEqual({
      lines: ['Dedicated ALB', 'www.acme.com', 'HTTPS 443 (HTTP 80 redirects)'],
      open: '[',
      within: ['public', 'vpc'],
    });
    expect(d.nodes.has('shared_alb')).toBe(false);
    expect(d.nodes.has('rule')).toBe(false);
    expect(d.nodes.get('target_group')).toMatchObject({
      lines: ['Target group', 'HTTP 80, health /health (200-399)'],
      within: ['vpc'],
    });
    expect(d.nodes.get('asg')).toMatchObject({
      lines: ['Auto Scaling group', 't3.small × 2–6', 'target CPU 60%'],
      within: ['private', 'vpc'],
    });
    expect(d.nodes.get('database')).toEqual({
      lines: ['RDS PostgreSQL 16', 'db.t4g.medium, multi-AZ', 'acme-production, backups 14 days'],
      open: '[(',
      within: ['isolated', 'vpc'],
    });
    expect(chain(d, 'internet', ['alb', 'target_group', 'asg', 'database'])).toEqual([
      'internet',
      'alb',
      'target_group',
      'asg',
      'database',
    ]);
    expect(edge(d, 'internet', 'alb')!.label).toBe('HTTPS');
    expect(edge(d, 'asg', 'database')!.label).toBe('port 15432');
    expect(d.nodes.get('data_bucket')).toMatchObject({
      lines: ['Data bucket (S3)', 'KMS-encrypted, versioned'],
      within: [],
    });
    expect(edge(d, 'asg', 'data_bucket')).toMatchObject({ dashed: true, label: 'reads' });

    // The AMI pipeline: schedule -> Source -> Bake -> Approve -> Rollout -> the parameter the launch template reads.
    const ami = ['ami_schedule', 'ami_source', 'ami_bake', 'ami_approve', 'ami_rollout'];
    expect(d.subgraphs.get('ami_pipeline')).toEqual({ title: 'AMI pipeline (CodePipeline)', within: [] });
    for (const id of ami) expect(d.nodes.get(id)!.within).toEqual(['ami_pipeline']);
    expect(chain(d, 'ami_schedule', ami)).toEqual(ami);
    expect(ami.map((id) => d.nodes.get(id)!.lines[0])).toEqual([
      'Rebuild schedule',
      'Source',
      'Bake',
      'Approve',
      'Rollout',
    ]);
    expect(d.nodes.get('ami_schedule')!.lines).toEqual(['Rebuild schedule', 'rate(7 days)']);
    expect(d.nodes.get('ami_source')!.lines).toEqual([
      'Source',
      'acme/website@main (CodeConnections)',
      '+ Packer template',
    ]);
    expect(d.nodes.get('ami_bake')!.lines).toEqual([
      'Bake',
      'Packer in CodeBuild, on t3.small',
      'from Amazon Linux 2023',
      'keeps 5 images',
    ]);
    expect(d.nodes.get('ami_approve')).toMatchObject({
      lines: ['Approve', 'manual approval by email', 'ops@acme.com, cto@acme.com'],
      open: '{{',
    });
    expect(d.nodes.get('ami_parameter')!.lines).toEqual([
      'SSM parameter',
      CustomerWebTier.amiParameterName('acme', 'production'),
    ]);
    expect(edge(d, 'ami_rollout', 'ami_parameter')!.label).toBe('writes AMI id');
    expect(edge(d, 'ami_parameter', 'launch_template')).toMatchObject({ dashed: true, label: 'read at launch' });
    expect(edge(d, 'launch_template', 'asg')!.label).toBe('launches');
    expect(edge(d, 'ami_rollout', 'asg')!.label).toBe('instance refresh');

    // The delivery pipeline: Source -> Build -> Approve -> Deploy -> the instances.
    const delivery = ['app_source', 'app_build', 'app_approve', 'app_deploy'];
    for (const id of delivery) expect(d.nodes.get(id)!.within).toEqual(['delivery_pipeline']);
    expect(chain(d, 'app_source', delivery)).toEqual(delivery);
    expect(d.nodes.get('app_build')!.lines).toEqual([
      'Build',
      'CodeBuild, buildspec.yml',
      'image acme-build:2024.1 (ECR)',
    ]);
    expect(d.nodes.get('app_approve')!.lines[2]).toBe('ops@acme.com, cto@acme.com');
    expect(d.nodes.get('app_deploy')!.lines).toEqual([
      'Deploy',
      'CodeDeploy one-at-a-time',
      'rollback on failure or alarm',
    ]);
    expect(edge(d, 'app_deploy', 'asg')!.label).toBe('deploys');

    expect(d.classes.get('ami_approve')).toBe('approval');
    expect(result.out).toMatchSnapshot();
  });

  test('acme-staging: a rule on the shared load balancer, no approval stages, no schedule', () => {
    const result = cli(['diagram', BUNDLED_FLEET, '--customer', 'acme', '--environment', 'staging']);
    expect(result.code).toBe(EXIT_OK);
    const d = parseMermaid(result.out);
    expectConsistent(d);
    expect(d.nodes.get('shared_alb')).toMatchObject({
      lines: ['Shared ALB of platform vending', 'HTTPS 443, *.apps.example.com'],
      within: ['public', 'vpc'],
    });
    expect(d.nodes.get('rule')).toMatchObject({
      lines: ['Listener rule', 'host acme-staging.apps.example.com'],
      within: ['public', 'vpc'],
    });
    expect(d.nodes.has('alb')).toBe(false);
    expect(chain(d, 'internet', ['shared_alb', 'rule', 'target_group', 'asg'])).toEqual([
      'internet',
      'shared_alb',
      'rule',
      'target_group',
      'asg',
    ]);
    expect(edge(d, 'shared_alb', 'rule')!.label).toBe('host header');
    expect(d.nodes.get('database')!.lines.slice(0, 2)).toEqual(['RDS MySQL 8.0', 'db.t4g.medium, single-AZ']);
    expect(edge(d, 'asg', 'database')!.label).toBe('port 13306');

    for (const id of ['ami_approve', 'app_approve', 'ami_schedule']) expect(d.nodes.has(id)).toBe(false);
    expect(result.out).not.toContain('Approve');
    expect(chain(d, 'ami_source', ['ami_bake', 'ami_rollout'])).toEqual(['ami_source', 'ami_bake', 'ami_rollout']);
    expect(edge(d, 'ami_bake', 'ami_rollout')!.label).toBe('AMI id');
    expect(chain(d, 'app_source', ['app_build', 'app_deploy'])).toEqual(['app_source', 'app_build', 'app_deploy']);
    expect(d.nodes.get('app_source')!.lines[1]).toBe('acme/website@develop (CodeConnections)');
    expect(d.nodes.get('app_build')!.lines[2]).toBe('CodeBuild standard image');
    expect(d.nodes.get('asg')!.lines[1]).toBe('t3.micro × 1–2');
  });

  test('the other example customers: Aurora, CodeCommit, S3 sources, an AMI name filter, no database', () => {
    const globex = parseMermaid(toMermaid(customerDiagram(FLEET.platform, customer('globex', 'production'))));
    expectConsistent(globex);
    expect(globex.nodes.get('rule')!.lines[1]).toBe('host globex.apps.example.com');
    expect(globex.nodes.get('database')!.lines.slice(0, 2)).toEqual([
      'Aurora PostgreSQL 16 cluster',
      'db.r7g.large, multi-AZ',
    ]);
    expect(globex.nodes.get('asg')!.lines[2]).toBe('target CPU 50%, 1000 requests/instance');
    expect(globex.nodes.get('app_source')!.lines[1]).toBe('globex-shop@main (CodeCommit)');
    expect(globex.nodes.get('app_deploy')!.lines[1]).toBe('CodeDeploy half-at-a-time');
    expect(globex.nodes.has('app_approve')).toBe(true);

    const initech = parseMermaid(toMermaid(customerDiagram(FLEET.platform, customer('initech', 'production'))));
    expect(initech.nodes.get('alb')!.lines[1]).toBe('portal.initech.example');
    expect(initech.nodes.get('database')!.lines[0]).toBe('Aurora MySQL 3.10.6 cluster');
    expect(initech.nodes.get('ami_source')!.lines[1]).toBe('s3://initech-sources/infrastructure/main.zip (S3)');
    expect(initech.nodes.get('app_source')!.lines[1]).toBe('s3://initech-sources/website/main.zip (S3)');
    expect(initech.nodes.get('ami_bake')!.lines[2]).toBe('from newest al2023-ami-2023.*-x86_64 of amazon');

    const piedpiper = parseMermaid(toMermaid(customerDiagram(FLEET.platform, customer('piedpiper', 'development'))));
    expect(piedpiper.nodes.has('database')).toBe(false);
    expect(piedpiper.subgraphs.has('isolated')).toBe(false); // no empty frame
    expect(piedpiper.nodes.get('asg')!.lines[1]).toBe('t3.micro × 0–1');

    const hooli = parseMermaid(toMermaid(customerDiagram(FLEET.platform, customer('hooli', 'staging'))));
    expect(hooli.nodes.get('database')!.lines[0]).toBe('RDS MariaDB 10.11');
  });

  test('a custom domain outside production stays on the shared load balancer, with both host names', () => {
    const dir = writeFleet(
      { ...platform(), vpc: { cidr: '10.20.0.0/16', maxAzs: 2, natInstances: false } },
      {
        'acme-staging.yaml': {
          ...stagingCustomer(),
          customDomain: productionCustomer().customDomain,
          ami: { baseImage: { ssmParameter: '/golden/web/ami' }, rebuildSchedule: 'cron(0 3 ? * SUN#1 *)' },
        },
      },
    );
    const result = cli(['diagram', dir, '--customer', 'acme']);
    expect(result.code).toBe(EXIT_OK);
    const d = parseMermaid(result.out);
    expect(d.nodes.get('rule')!.lines[1]).toBe('hosts acme-staging.apps.example.com, www.acme.com');
    expect(d.nodes.has('alb')).toBe(false);
    expect(d.subgraphs.get('vpc')!.title).toBe('VPC of platform vending · 10.20.0.0/16 · 2 AZs');
    expect(d.subgraphs.get('private')!.title).toBe('Private subnets (egress through NAT gateways)');
    expect(d.nodes.get('ami_bake')!.lines[2]).toBe('from /golden/web/ami');
    // `#` is escaped, so the schedule's `#1` cannot become an entity.
    expect(result.out).toContain('"Rebuild schedule<br/>cron(0 3 ? * SUN#35;1 *)"');
    expect(d.nodes.get('ami_schedule')!.lines[1]).toBe('cron(0 3 ? * SUN#1 *)');
  });

  test('the same fleet gives the same text', () => {
    const argv = ['diagram', BUNDLED_FLEET, '--customer', 'acme', '--environment', 'production'];
    expect(cli(argv).out).toBe(cli(argv).out);
    expect(toSvg(platformDiagram(FLEET))).toBe(toSvg(platformDiagram(readFleet(BUNDLED_FLEET))));
  });
});

describe('paas-vending diagram: the platform', () => {
  test('the shared load balancer with a rule per customer, dedicated load balancers beside it, the tiers', () => {
    const result = cli(['diagram', BUNDLED_FLEET]);
    expect(result).toMatchObject({ code: EXIT_OK, err: '' });
    const d = parseMermaid(result.out);
    expectConsistent(d);
    expect(result.out.split('\n')[1]).toBe(
      '  %% Platform vending (production, eu-west-1) with 6 customer environments',
    );
    expect(d.subgraphs.get('shared_alb')).toEqual({
      title: 'Shared ALB of platform vending',
      within: ['public', 'vpc'],
    });
    expect(d.nodes.get('shared_listener')).toMatchObject({
      lines: ['HTTPS listener 443', '*.apps.example.com', 'default: 503'],
      within: ['shared_alb', 'public', 'vpc'],
    });
    expect(edge(d, 'internet', 'shared_listener')!.label).toBe('HTTPS');
    expect(FLEET.customers).toHaveLength(6);
    for (const c of FLEET.customers) {
      const id = `${c.customer.replace(/-/g, '_')}_${c.environment}`;
      const name = `${c.customer}-${c.environment}`;
      expect(d.nodes.get(`asg_${id}`)).toMatchObject({
        lines: [
          name,
          `Auto Scaling group ${c.compute.instanceType} × ${c.compute.minCapacity}–${c.compute.maxCapacity}`,
        ],
        within: ['private', 'vpc'],
      });
      if ((c.customer === 'acme' && c.environment === 'production') || c.customer === 'initech') {
        expect(d.nodes.has(`rule_${id}`)).toBe(false);
        expect(d.nodes.get(`alb_${id}`)).toMatchObject({
          lines: [`Dedicated ALB ${name}`, c.customDomain!.name],
          within: ['public', 'vpc'],
        });
        expect(edge(d, 'internet', `alb_${id}`)!.label).toBe('HTTPS');
        expect(edge(d, `alb_${id}`, `asg_${id}`)).toBeDefined();
      } else {
        expect(d.nodes.has(`alb_${id}`)).toBe(false);
        expect(d.nodes.get(`rule_${id}`)).toMatchObject({
          lines: [`Rule ${name}`, c.hostname],
          within: ['shared_alb', 'public', 'vpc'],
        });
        expect(edge(d, 'shared_listener', `rule_${id}`)).toBeDefined();
        expect(edge(d, `rule_${id}`, `asg_${id}`)).toBeDefined();
      }
      if (c.database) {
        expect(d.nodes.get(`db_${id}`)!.within).toEqual(['isolated', 'vpc']);
        expect(d.nodes.get(`db_${id}`)!.lines[0]).toBe(name);
        expect(edge(d, `asg_${id}`, `db_${id}`)).toBeDefined();
      } else {
        expect(d.nodes.has(`db_${id}`)).toBe(false);
      }
    }
    expect(d.nodes.get('db_globex_production')!.lines[1]).toBe('Aurora PostgreSQL 16 cluster, multi-AZ');
  });

  test("several shared load balancers: one frame each, every rule in its own load balancer's frame", () => {
    const two = (name: string) => ({ ...stagingCustomer(), customer: name, hostname: undefined });
    const dir = writeFleet(platform(), {
      'alpha-staging.yaml': two('alpha'),
      'beta-staging.yaml': two('beta'),
      'gamma-staging.yaml': two('gamma'),
    });
    // beta placed on the second load balancer; gamma is new and goes to the first, which has room.
    writeFileSync(
      join(dir, 'placement.yaml'),
      'loadBalancers: 2\nenvironments:\n  alpha-staging: 1\n  beta-staging: 2\n',
    );
    const result = cli(['diagram', dir]);
    expect(result).toMatchObject({ code: EXIT_OK, err: '' });
    const d = parseMermaid(result.out);
    expectConsistent(d);
    expect(d.subgraphs.get('shared_alb')!.title).toBe('Shared ALB 1 of platform vending');
    expect(d.subgraphs.get('shared_alb_2')!.title).toBe('Shared ALB 2 of platform vending');
    expect(edge(d, 'internet', 'shared_listener_2')!.label).toBe('HTTPS');
    expect(d.nodes.get('rule_beta_staging')!.within[0]).toBe('shared_alb_2');
    expect(edge(d, 'shared_listener_2', 'rule_beta_staging')).toBeDefined();
    expect(d.nodes.get('rule_alpha_staging')!.within[0]).toBe('shared_alb');
    expect(d.nodes.get('rule_gamma_staging')!.within[0]).toBe('shared_alb');
    // Drawing writes nothing: the file is as it was.
    expect(readFileSync(join(dir, 'placement.yaml'), 'utf-8')).not.toContain('gamma');
    const beta = parseMermaid(cli(['diagram', dir, '--customer', 'beta']).out);
    expect(beta.nodes.get('shared_alb')!.lines[0]).toBe('Shared ALB 2 of platform vending');
  });

  test('a fleet without customers, and with one', () => {
    const empty = platformDiagram(readFleet(writeFleet(platform(), {})));
    expect(empty.title).toBe('Platform vending (production, eu-west-1) with 0 customer environments');
    // Frames without nodes are left out.
    expect(empty.groups.map((g) => g.id)).toEqual(['vpc', 'public', 'shared_alb']);
    expectSvgOf(empty, toSvg(empty));
    const one = platformDiagram(readFleet(writeFleet(platform(), { 'acme-staging.yaml': stagingCustomer() })));
    expect(one.title).toBe('Platform vending (production, eu-west-1) with 1 customer environment');
  });
});

describe('paas-vending diagram --format svg', () => {
  const pictures: Array<[string, Diagram]> = [
    ['the platform', platformDiagram(FLEET)],
    ...FLEET.customers.map((c): [string, Diagram] => [
      `${c.customer}-${c.environment}`,
      customerDiagram(FLEET.platform, c),
    ]),
  ];

  test.each(pictures)('%s: valid XML with every node, frame, edge and label', (_, d) => {
    expectSvgOf(d, toSvg(d));
  });

  test.each(pictures)('%s: boxes inside their frames, none overlapping', (_, d) => {
    expectLaidOut(d);
  });

  test('the command prints the SVG of the picture asked for', () => {
    const result = cli(['diagram', BUNDLED_FLEET, '--customer', 'hooli', '--format', 'svg']);
    expect(result).toMatchObject({ code: EXIT_OK, err: '' });
    expect(
      result.out.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg"'),
    ).toBe(true);
    expect(parseSvg(result.out).nodes.rule).toEqual(['Listener rule', 'host hooli-staging.apps.example.com']);
  });

  test('the XML check refuses what is not well-formed', () => {
    expect(() => parseSvg('<svg xmlns="http://www.w3.org/2000/svg"><g></svg>')).toThrow(/mismatched tag/);
    expect(() => parseSvg('<svg xmlns="http://www.w3.org/2000/svg"><text>a & b</text></svg>')).toThrow(
      /not well-formed/,
    );
  });

  test('a top-to-bottom group: ranks downwards, a skipping edge and an edge back up join the boxes they name', () => {
    const d: Diagram = {
      title: 'stages',
      groups: [{ id: 'k', kind: 'pipeline', title: 'k', direction: 'TB' }],
      nodes: ['p', 'q', 'r'].map((id) => ({ id, kind: 'stage' as const, lines: [`stage ${id}`], group: 'k' })),
      edges: [
        { from: 'p', to: 'q', dashed: false },
        { from: 'q', to: 'r', dashed: false },
        { from: 'p', to: 'r', label: 'skips q', dashed: false },
        { from: 'r', to: 'p', label: 'again', dashed: false },
      ],
    };
    expectLaidOut(d);
    const { boxes } = svgLayout(d);
    const [p, q, r] = ['n:p', 'n:q', 'n:r'].map((k) => boxes.get(k)!);
    expect(p.y + p.h).toBeLessThan(q.y);
    expect(q.y + q.h).toBeLessThan(r.y);
    const svg = toSvg(d);
    expectSvgOf(d, svg);
    expectReadable(d, svg);
    // The edge that skips q goes round it, not through it.
    const skip = svgGeometry(svg).edges.find((e) => e.from === 'p' && e.to === 'r')!;
    expect(
      skip.points.some((pt) => pt[0] >= q.x - 1 && pt[0] <= q.x + q.w + 1 && pt[1] > q.y && pt[1] < q.y + q.h),
    ).toBe(false);
  });

  test.each(pictures)('%s: readable, with edges joining the boxes they name, the same bytes every time', (_, d) => {
    const svg = toSvg(d);
    expectReadable(d, svg);
    expect(toSvg(d)).toBe(svg);
  });

  test('labels with markup, quotes and control characters stay text, in both formats', () => {
    const hostile = 'a "q" \'s\' <b>x</b> & [y] {z} |p| `c` #35; end\u0001';
    const d: Diagram = {
      title: `T ${hostile} %%{init: {}}%%`,
      groups: [
        { id: 'g', kind: 'pipeline', title: hostile, direction: 'TB' },
        { id: 'h', kind: 'subnets', title: 'h', parent: 'g', direction: 'LR' },
      ],
      nodes: [
        { id: 'a', kind: 'stage', lines: [hostile, 'second'], group: 'g' },
        { id: 'b', kind: 'database', lines: [hostile], group: 'h' },
        { id: 'c', kind: 'approval', lines: [hostile] },
        { id: 'd', kind: 'parameter', lines: [hostile] },
        { id: 'e', kind: 'schedule', lines: [hostile] },
        { id: 'f', kind: 'internet', lines: [hostile] },
      ],
      edges: [
        { from: 'a', to: 'b', label: hostile, dashed: false },
        { from: 'b', to: 'c', label: hostile, dashed: true },
        { from: 'c', to: 'a', dashed: false }, // a cycle: drawn backwards
        { from: 'd', to: 'e', dashed: false },
        { from: 'e', to: 'f', label: 'x', dashed: false },
        { from: 'd', to: 'f', label: 'long', dashed: false }, // crosses a layer: a waypoint
      ],
    };
    const svg = parseSvg(toSvg(d));
    const clean = hostile.replace('\u0001', '');
    expect(svg.nodes.a).toEqual([clean, 'second']);
    expect(svg.groups.g).toBe(clean);
    expect(svg.labels).toEqual([clean, clean, 'x', 'long']);
    expectLaidOut(d);
    expectReadable(d, toSvg(d));

    const mermaid = toMermaid(d);
    expect(mermaid.split('\n')[1]).toBe(`  %% ${d.title.replace(/[%{}]/g, '')}`);
    expect(mermaid.split('\n')[1]).not.toMatch(/[{}]|%%.*%%/);
    const parsed = parseMermaid(
      mermaid
        .split('\n')
        .filter((_, i) => i !== 1)
        .join('\n'),
    );
    expect(parsed.nodes.get('a')!.lines).toEqual([hostile, 'second']);
    expect(parsed.subgraphs.get('g')!.title).toBe(hostile);
    expect(edge(parsed, 'a', 'b')!.label).toBe(hostile);
    expect(edge(parsed, 'b', 'c')).toMatchObject({ dashed: true, label: hostile });
    expect(mermaidText('"<[]>#')).toBe('#34;#60;#91;#93;#62;#35;');
    expect(xmlText('<&>"\'\u0000')).toBe('&lt;&amp;&gt;&quot;&apos;');
  });
});

describe('paas-vending diagram: choosing, errors and --out', () => {
  test.each([
    [['--customer', 'hooli'], 'hooli-staging'],
    [['--customer', 'hooli', '--environment', 'staging'], 'hooli-staging'],
    [['--customer', 'acme', '--environment', 'staging'], 'acme-staging'],
  ])('%j draws %s', (options, name) => {
    const result = cli(['diagram', BUNDLED_FLEET, ...options]);
    expect(result.code).toBe(EXIT_OK);
    expect(result.out.split('\n')[1]).toBe(`  %% ${name} on platform vending (eu-west-1)`);
  });

  test('an unknown customer: exit 1, with the customers of the fleet and their environments', () => {
    expect(cli(['diagram', BUNDLED_FLEET, '--customer', 'acmee'])).toEqual({
      code: EXIT_INVALID,
      out: '',
      err:
        'paas-vending: diagram: --customer: received "acmee"; expected a customer of the fleet: acme (production, ' +
        'staging), globex (production), hooli (staging), initech (production), piedpiper (development)',
    });
    expect(cli(['diagram', writeFleet(platform(), {}), '--customer', 'acme']).err).toBe(
      'paas-vending: diagram: --customer: received "acme"; expected a customer, but the fleet has none',
    );
  });

  test('an unknown environment: exit 1, with the customer environments', () => {
    expect(cli(['diagram', BUNDLED_FLEET, '--customer', 'acme', '--environment', 'prod'])).toEqual({
      code: EXIT_INVALID,
      out: '',
      err: 'paas-vending: diagram: --environment: received "prod"; expected one of the environments of customer acme: production, staging',
    });
    expect(cli(['diagram', BUNDLED_FLEET, '--customer', 'hooli', '--environment', 'production']).code).toBe(
      EXIT_INVALID,
    );
  });

  test('a customer with several environments and no --environment: a usage error listing them', () => {
    expect(cli(['diagram', BUNDLED_FLEET, '--customer', 'acme'])).toEqual({
      code: EXIT_USAGE,
      out: '',
      err:
        'paas-vending: diagram: --environment: received nothing; expected one of the environments of customer ' +
        'acme: production, staging\nRun "paas-vending --help" for usage.',
    });
  });

  test.each([
    [['--format', 'png'], 'diagram: --format: received "png"; expected mermaid or svg'],
    [
      ['--environment', 'staging'],
      'diagram: --environment: received "staging" without --customer; expected --customer as well (without ' +
        '--customer, the platform is drawn with every environment)',
    ],
    [['--colour'], 'diagram: received the option "--colour"; expected one of '],
    [['--customer'], 'diagram: --customer: received no value; expected one after it (--customer VALUE)'],
    [['extra'], 'diagram: unexpected argument "extra"'],
  ])('%j is a usage error, found before the fleet is read', (options, message) => {
    const result = cli(['diagram', '/nowhere', ...options]);
    expect(result.code).toBe(EXIT_USAGE);
    expect(result.out).toBe('');
    expect(result.err).toContain(message);
    expect(result.err).toContain('Run "paas-vending --help" for usage.');
  });

  test('an invalid fleet: exit 1 with the problems validate prints', () => {
    const bad = { ...stagingCustomer(), compute: { minCapacity: 3, maxCapacity: 1 } };
    const dir = writeFleet(platform(), { 'a.yaml': bad, 'b.yaml': { ...stagingCustomer(), customer: 'B' } });
    const validate = cli(['validate', dir]);
    const diagram = cli(['diagram', dir, '--customer', 'acme']);
    expect(diagram).toEqual({ code: EXIT_INVALID, out: '', err: validate.err });
    expect(diagram.err).toMatch(/^Invalid config \(2 problems\):/);
    expect(cli(['diagram', dir, '--format', 'svg'])).toEqual({ code: EXIT_INVALID, out: '', err: validate.err });
  });

  test('without DIR: the bundled example fleet, said on stderr', () => {
    const result = cli(['diagram', '--customer', 'globex'], mkdtempSync(join(tmpdir(), 'empty-')));
    expect(result.code).toBe(EXIT_OK);
    expect(result.err).toBe(`No platform.yaml here; using the bundled example fleet (${BUNDLED_FLEET}).`);
    expect(result.out).toContain('globex-production on platform vending');
  });

  test('--out writes the file (creating its folder) and says where on stderr; stdout stays empty', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'diagram-'));
    const printed = cli(['diagram', BUNDLED_FLEET, '--customer', 'hooli']).out;

    const mmd = cli(['diagram', BUNDLED_FLEET, '--customer', 'hooli', '--out', 'pictures/hooli.mmd'], cwd);
    expect(mmd).toEqual({
      code: EXIT_OK,
      out: '',
      err: `Wrote the diagram of hooli-staging to ${join(cwd, 'pictures', 'hooli.mmd')}.`,
    });
    expect(readFileSync(join(cwd, 'pictures', 'hooli.mmd'), 'utf-8')).toBe(`${printed}\n`);

    // Mermaid in Markdown: a code block that GitHub renders.
    expect(cli(['diagram', BUNDLED_FLEET, '--customer', 'hooli', '--out', 'README.md'], cwd).code).toBe(EXIT_OK);
    expect(readFileSync(join(cwd, 'README.md'), 'utf-8')).toBe(`\`\`\`mermaid\n${printed}\n\`\`\`\n`);
    expect(diagramFileText('x', 'svg', 'a.md')).toBe('x\n');
    expect(diagramFileText('x', undefined, 'a.MARKDOWN')).toBe('```mermaid\nx\n```\n');

    const svg = cli(['diagram', BUNDLED_FLEET, '--format', 'svg', '--out', 'platform.svg'], cwd);
    expect(svg.err).toBe(`Wrote the diagram of platform vending to ${join(cwd, 'platform.svg')}.`);
    expect(parseSvg(readFileSync(join(cwd, 'platform.svg'), 'utf-8')).title).toBe(platformDiagram(FLEET).title);
  });

  test('--out to a path that cannot be written: exit 1, one line', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'diagram-'));
    mkdirSync(join(cwd, 'taken'));
    expect(cli(['diagram', BUNDLED_FLEET, '--out', 'taken'], cwd)).toEqual({
      code: EXIT_INVALID,
      out: '',
      err: `${join(cwd, 'taken')}: cannot be written (EISDIR: it is a folder); expected a file path for --out`,
    });
  });

  test('help', () => {
    const result = cli(['diagram', '--help']);
    expect(result.code).toBe(EXIT_OK);
    expect(result.out.split('\n')[0]).toBe(
      'Usage: paas-vending diagram [DIR] [--customer C] [--environment E] [--format mermaid|svg] [--out FILE]',
    );
    expect(result.out).toContain('Exit codes:');
    expect(cli(['--help']).out).toContain(
      '  diagram [DIR] [--customer C]        draw a customer environment, or the platform, as Mermaid or SVG',
    );
  });

  test('repositories are described as the pipelines describe their sources', () => {
    expect(repositoryText({ codeCommitRepository: 'shop', branch: 'dev' })).toBe('shop@dev (CodeCommit)');
    expect(repositoryText({ s3Bucket: 'b', s3ObjectKey: 'k/a.zip' })).toBe('s3://b/k/a.zip (S3)');
  });
});

test("README's diagram is what the command draws for the example fleet's acme-production", () => {
  const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
  const shown = readme.match(/`acme-production` of the example fleet:\n\n```mermaid\n([\s\S]*?)```/);
  expect(shown).not.toBeNull();
  const result = cli(['diagram', BUNDLED_FLEET, '--customer', 'acme', '--environment', 'production']);
  expect(result.code).toBe(EXIT_OK);
  expect(shown![1]).toBe(`${result.out.trimEnd()}\n`);
});
