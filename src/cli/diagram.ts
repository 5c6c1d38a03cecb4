/*
 * `paas-vending diagram`: a picture of one customer environment, or of the platform with its customers,
 * drawn from the validated, resolved config alone. Nothing is synthesized, so it takes milliseconds.
 *
 * One model (nodes, nested groups, edges) and two renderers: Mermaid flowchart text for Markdown, and a
 * standalone SVG laid out here (a small layered layout: no network, no dependency). Both are
 * deterministic: the same fleet gives the same bytes.
 *
 * Internal: not exported from src/index.ts.
 */
import {
  DEFAULT_BASE_IMAGE_PARAMETER,
  ingressOf,
  ResolvedCustomerConfig,
  ResolvedPlatformConfig,
} from '../config/defaults';
import { describeValue } from '../config/errors';
import { ResolvedFleet } from '../config/loader';
import { RepositoryConfig } from '../config/types';
import { FleetPlacement } from '../environment/placement';

// ---------------------------------------------------------------------------------------------------------------------
// The model

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

class DiagramBuilder {
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

// ---------------------------------------------------------------------------------------------------------------------
// What the config says, in words

const ENGINE_NAMES: Record<string, string> = {
  postgres: 'RDS PostgreSQL',
  mysql: 'RDS MySQL',
  mariadb: 'RDS MariaDB',
  'aurora-postgresql': 'Aurora PostgreSQL',
  'aurora-mysql': 'Aurora MySQL',
};

/** Where a pipeline's repository is, as PipelineSource describes it. */
export function repositoryText(repository: RepositoryConfig): string {
  if (repository.connectionArn !== undefined) {
    return `${repository.owner}/${repository.name}@${repository.branch} (CodeConnections)`;
  }
  if (repository.codeCommitRepository !== undefined) {
    return `${repository.codeCommitRepository}@${repository.branch} (CodeCommit)`;
  }
  return `s3://${repository.s3Bucket}/${repository.s3ObjectKey} (S3)`;
}

function nameOf(c: ResolvedCustomerConfig): string {
  return `${c.customer}-${c.environment}`;
}

/** Id-safe: customer names have no `_` and environments neither `_` nor `-`, so ids stay distinct. */
function idOf(c: ResolvedCustomerConfig): string {
  return `${c.customer.replace(/-/g, '_')}_${c.environment}`;
}

/** The host names of the shared load balancer's rule, as CustomerWebTier.fromConfig sets them. */
function ruleHosts(c: ResolvedCustomerConfig): string[] {
  return [c.hostname!, ...(c.customDomain ? [c.customDomain.name] : [])];
}

function capacity(c: ResolvedCustomerConfig): string {
  return `${c.compute.instanceType} × ${c.compute.minCapacity}–${c.compute.maxCapacity}`;
}

function databaseTitle(c: ResolvedCustomerConfig): string {
  const db = c.database!;
  return `${ENGINE_NAMES[db.engine]} ${db.version}${db.engine.startsWith('aurora') ? ' cluster' : ''}`;
}

function databasePort(c: ResolvedCustomerConfig): number {
  return c.database!.engine.includes('postgres') ? 5432 : 3306;
}

function availability(c: ResolvedCustomerConfig): string {
  return c.database!.multiAz ? 'multi-AZ' : 'single-AZ';
}

/** The VPC and its tiers; `direction` is how the SVG stacks the tiers. */
function vpcGroup(b: DiagramBuilder, platform: ResolvedPlatformConfig, direction: 'LR' | 'TB') {
  const v = platform.vpc;
  const vpc = b.group(
    'vpc',
    'vpc',
    `VPC of platform ${platform.name} · ${v.cidr} · ${v.maxAzs} AZs`,
    undefined,
    direction,
  );
  return {
    vpc,
    publicSubnets: b.group('public', 'subnets', 'Public subnets', vpc),
    privateSubnets: b.group(
      'private',
      'subnets',
      `Private subnets (egress through NAT ${v.natInstances ? 'instances' : 'gateways'})`,
      vpc,
    ),
    isolatedSubnets: b.group('isolated', 'subnets', 'Isolated subnets', vpc),
  };
}

/** "Shared ALB" while the platform has one; "Shared ALB 2" and so on once it has several. */
function sharedLoadBalancerLines(platform: ResolvedPlatformConfig, number: number, several: boolean): string[] {
  return [`Shared ALB${several ? ` ${number}` : ''} of platform ${platform.name}`, `HTTPS 443, *.${platform.domain}`];
}

/** Diagram ids of the n-th shared load balancer: the first keeps the ids it had when there was only one. */
function sharedId(base: string, number: number): string {
  return number === 1 ? base : `${base}_${number}`;
}

/** A fleet on one shared load balancer. */
const ONE_LOAD_BALANCER: FleetPlacement = { loadBalancers: 1, environments: {} };

// ---------------------------------------------------------------------------------------------------------------------
// The pictures

/** One customer environment: ingress, instances, database, bucket, and the two pipelines that feed it. */
export function customerDiagram(
  platform: ResolvedPlatformConfig,
  c: ResolvedCustomerConfig,
  placement: FleetPlacement = ONE_LOAD_BALANCER,
): Diagram {
  const b = new DiagramBuilder(`${nameOf(c)} on platform ${platform.name} (${platform.region})`);
  const internet = b.node('internet', 'internet', ['Internet']);
  // The tiers top to bottom: the pipelines then reach the instances from the side.
  const { vpc, publicSubnets, privateSubnets, isolatedSubnets } = vpcGroup(b, platform, 'TB');

  // Ingress: the dedicated load balancer, or the shared one and the customer's rule on it
  let front: string;
  if (ingressOf(c) === 'dedicated') {
    front = b.node(
      'alb',
      'load-balancer',
      ['Dedicated ALB', c.customDomain!.name, 'HTTPS 443 (HTTP 80 redirects)'],
      publicSubnets,
    );
    b.edge(internet, front, 'HTTPS');
  } else {
    const number = placement.environments[nameOf(c)] ?? 1;
    const alb = b.node(
      'shared_alb',
      'load-balancer',
      sharedLoadBalancerLines(platform, number, placement.loadBalancers > 1),
      publicSubnets,
    );
    const hosts = ruleHosts(c);
    front = b.node(
      'rule',
      'network',
      ['Listener rule', `${hosts.length === 1 ? 'host' : 'hosts'} ${hosts.join(', ')}`],
      publicSubnets,
    );
    b.edge(internet, alb, 'HTTPS');
    b.edge(alb, front, 'host header');
  }
  const tg = b.node(
    'target_group',
    'network',
    ['Target group', `HTTP 80, health ${c.healthCheck.path} (${c.healthCheck.healthyHttpCodes})`],
    vpc,
  );
  b.edge(front, tg, 'forward');

  // Instances, database, bucket
  const scaling = `target CPU ${c.compute.targetCpuPercent}%${
    c.compute.targetRequestsPerInstance !== undefined
      ? `, ${c.compute.targetRequestsPerInstance} requests/instance`
      : ''
  }`;
  const asg = b.node('asg', 'compute', ['Auto Scaling group', capacity(c), scaling], privateSubnets);
  b.edge(tg, asg, 'HTTP 80');
  if (c.database) {
    const db = b.node(
      'database',
      'database',
      [
        databaseTitle(c),
        `db.${c.database.instanceType}, ${availability(c)}`,
        `${c.database.clusterName}, backups ${c.database.backupRetentionDays} days`,
      ],
      isolatedSubnets,
    );
    b.edge(asg, db, `port ${databasePort(c)}`);
  }
  const bucket = b.node('data_bucket', 'bucket', ['Data bucket (S3)', 'KMS-encrypted, versioned']);
  b.edge(asg, bucket, 'reads', true);
  const launchTemplate = b.node('launch_template', 'compute', ['Launch template', 'AMI from SSM at launch, IMDSv2']);
  b.edge(launchTemplate, asg, 'launches');
  const parameter = b.node('ami_parameter', 'parameter', [
    'SSM parameter',
    `/vending/${c.customer}/${c.environment}/ami-id`,
  ]);
  b.edge(parameter, launchTemplate, 'read at launch', true);

  // AMI pipeline
  const ami = b.group('ami_pipeline', 'pipeline', 'AMI pipeline (CodePipeline)', undefined, 'TB');
  const approvers = c.approvalEmails.join(', ');
  const base = c.ami.baseImage;
  const baseText =
    base.ssmParameter === DEFAULT_BASE_IMAGE_PARAMETER
      ? 'from Amazon Linux 2023'
      : base.ssmParameter !== undefined
        ? `from ${base.ssmParameter}`
        : `from newest ${base.amiNameFilter} of ${base.amiOwners!.join(', ')}`;
  if (c.ami.rebuildSchedule !== undefined) {
    const schedule = b.node('ami_schedule', 'schedule', ['Rebuild schedule', c.ami.rebuildSchedule], ami);
    b.edge(schedule, 'ami_source', 'starts');
  }
  const amiSource = b.node(
    'ami_source',
    'stage',
    ['Source', repositoryText(c.ami.repository!), '+ Packer template'],
    ami,
  );
  const bake = b.node(
    'ami_bake',
    'stage',
    ['Bake', `Packer in CodeBuild, on ${c.ami.buildInstanceType}`, baseText, `keeps ${c.ami.keepImages} images`],
    ami,
  );
  b.edge(amiSource, bake);
  let beforeRollout = bake;
  if (c.production) {
    const approve = b.node('ami_approve', 'approval', ['Approve', 'manual approval by email', approvers], ami);
    b.edge(bake, approve, 'AMI id');
    beforeRollout = approve;
  }
  const rollout = b.node('ami_rollout', 'stage', ['Rollout', 'SSM parameter, instance refresh'], ami);
  b.edge(beforeRollout, rollout, c.production ? 'approved' : 'AMI id');
  b.edge(rollout, parameter, 'writes AMI id');
  b.edge(rollout, asg, 'instance refresh');

  // Delivery pipeline
  const delivery = b.group('delivery_pipeline', 'pipeline', 'Delivery pipeline (CodePipeline)', undefined, 'TB');
  const software = c.softwareDelivery;
  const appSource = b.node('app_source', 'stage', ['Source', repositoryText(software.repository)], delivery);
  const image = software.buildImage
    ? `image ${software.buildImage.ecrRepository}:${software.buildImage.tag} (ECR)`
    : 'CodeBuild standard image';
  const build = b.node('app_build', 'stage', ['Build', 'CodeBuild, buildspec.yml', image], delivery);
  b.edge(appSource, build);
  let beforeDeploy = build;
  if (c.production) {
    const approve = b.node('app_approve', 'approval', ['Approve', 'manual approval by email', approvers], delivery);
    b.edge(build, approve, 'revision');
    beforeDeploy = approve;
  }
  const deploy = b.node(
    'app_deploy',
    'stage',
    ['Deploy', `CodeDeploy ${software.deploymentConfig}`, 'rollback on failure or alarm'],
    delivery,
  );
  b.edge(beforeDeploy, deploy, c.production ? 'approved' : 'revision');
  b.edge(deploy, asg, 'deploys');
  return b.build();
}

/** The platform: the shared load balancer with a rule per customer, dedicated ones beside it, the VPC's tiers. */
export function platformDiagram(fleet: ResolvedFleet, placement: FleetPlacement = ONE_LOAD_BALANCER): Diagram {
  const platform = fleet.platform;
  const count =
    fleet.customers.length === 1 ? '1 customer environment' : `${fleet.customers.length} customer environments`;
  const b = new DiagramBuilder(`Platform ${platform.name} (${platform.environment}, ${platform.region}) with ${count}`);
  const internet = b.node('internet', 'internet', ['Internet']);
  const { publicSubnets, privateSubnets, isolatedSubnets } = vpcGroup(b, platform, 'LR');
  const several = placement.loadBalancers > 1;
  const shared: string[] = [];
  const listeners: string[] = [];
  for (let number = 1; number <= placement.loadBalancers; number++) {
    const lines = sharedLoadBalancerLines(platform, number, several);
    shared[number] = b.group(sharedId('shared_alb', number), 'load-balancer', lines[0], publicSubnets);
    listeners[number] = b.node(
      sharedId('shared_listener', number),
      'load-balancer',
      ['HTTPS listener 443', `*.${platform.domain}`, 'default: 503'],
      shared[number],
    );
    b.edge(internet, listeners[number], 'HTTPS');
  }
  // Shared customers first, then dedicated ones, in both tiers: the same order on both sides of the edges.
  const ordered = [
    ...fleet.customers.filter((c) => ingressOf(c) === 'shared'),
    ...fleet.customers.filter((c) => ingressOf(c) === 'dedicated'),
  ];
  for (const c of ordered) {
    const id = idOf(c);
    let front: string;
    if (ingressOf(c) === 'shared') {
      const number = placement.environments[nameOf(c)] ?? 1;
      front = b.node(`rule_${id}`, 'network', [`Rule ${nameOf(c)}`, ruleHosts(c).join(', ')], shared[number]);
      b.edge(listeners[number], front);
    } else {
      front = b.node(`alb_${id}`, 'load-balancer', [`Dedicated ALB ${nameOf(c)}`, c.customDomain!.name], publicSubnets);
      b.edge(internet, front, 'HTTPS');
    }
    const asg = b.node(`asg_${id}`, 'compute', [nameOf(c), `Auto Scaling group ${capacity(c)}`], privateSubnets);
    b.edge(front, asg);
    if (c.database) {
      const db = b.node(
        `db_${id}`,
        'database',
        [nameOf(c), `${databaseTitle(c)}, ${availability(c)}`],
        isolatedSubnets,
      );
      b.edge(asg, db);
    }
  }
  return b.build();
}

// ---------------------------------------------------------------------------------------------------------------------
// Choosing what to draw (the command's options)

export interface DiagramRequest {
  readonly customer?: string;
  readonly environment?: string;
  readonly format?: string;
}

/** A problem with the command line that needs no config (checked before the fleet is read), or undefined. */
export function diagramUsageProblem(request: DiagramRequest): string | undefined {
  if (request.format !== undefined && !(DIAGRAM_FORMATS as readonly string[]).includes(request.format)) {
    return `--format: received ${describeValue(request.format)}; expected ${DIAGRAM_FORMATS.join(' or ')}`;
  }
  if (request.environment !== undefined && request.customer === undefined) {
    return (
      `--environment: received ${describeValue(request.environment)} without --customer; expected --customer as well ` +
      '(without --customer, the platform is drawn with every environment)'
    );
  }
  return undefined;
}

/** The picture asked for, rendered; or why there is none (`usage`: the command line needs another option). */
export type DrawnDiagram =
  { readonly text: string; readonly subject: string } | { readonly problem: string; readonly usage: boolean };

/**
 * Draws the platform (no customer) or one customer environment of a valid fleet, in the format asked for, with the
 * environments on the shared load balancers `paas-vending synth` would place them on (placement.yaml and the fleet).
 */
export function drawDiagram(
  fleet: ResolvedFleet,
  request: DiagramRequest,
  placement: FleetPlacement = ONE_LOAD_BALANCER,
): DrawnDiagram {
  const format = (request.format ?? 'mermaid') as DiagramFormat;
  const render = (diagram: Diagram) => (format === 'svg' ? toSvg(diagram) : toMermaid(diagram));
  if (request.customer === undefined) {
    return { text: render(platformDiagram(fleet, placement)), subject: `platform ${fleet.platform.name}` };
  }
  const environments = fleet.customers.filter((c) => c.customer === request.customer);
  if (environments.length === 0) {
    const byCustomer = new Map<string, string[]>();
    for (const c of fleet.customers) byCustomer.set(c.customer, [...(byCustomer.get(c.customer) ?? []), c.environment]);
    const choices = [...byCustomer].map(([name, envs]) => `${name} (${envs.join(', ')})`);
    return {
      problem: `--customer: received ${describeValue(request.customer)}; expected ${
        choices.length > 0 ? `a customer of the fleet: ${choices.join(', ')}` : 'a customer, but the fleet has none'
      }`,
      usage: false,
    };
  }
  const expected = `expected one of the environments of customer ${request.customer}: ${environments
    .map((c) => c.environment)
    .join(', ')}`;
  if (request.environment === undefined && environments.length > 1) {
    return { problem: `--environment: received nothing; ${expected}`, usage: true };
  }
  const chosen = environments.find((c) => request.environment === undefined || c.environment === request.environment);
  if (chosen === undefined) {
    return { problem: `--environment: received ${describeValue(request.environment)}; ${expected}`, usage: false };
  }
  return { text: render(customerDiagram(fleet.platform, chosen, placement)), subject: nameOf(chosen) };
}

/** What `--out FILE` writes: the text, and for Mermaid in a Markdown file, a `mermaid` code block GitHub renders. */
export function diagramFileText(text: string, format: string | undefined, file: string): string {
  const markdown = (format ?? 'mermaid') === 'mermaid' && /\.(md|markdown)$/i.test(file);
  return markdown ? `\`\`\`mermaid\n${text}\n\`\`\`\n` : `${text}\n`;
}

// ---------------------------------------------------------------------------------------------------------------------
// Shared by both renderers

const KIND_ORDER: readonly NodeKind[] = [
  'internet',
  'load-balancer',
  'network',
  'compute',
  'database',
  'bucket',
  'parameter',
  'stage',
  'approval',
  'schedule',
];

/** Fill, stroke and text colours of a kind; light fills with dark text, readable on light and dark pages. */
const COLOURS: Record<NodeKind, { fill: string; stroke: string }> = {
  internet: { fill: '#ffffff', stroke: '#555555' },
  'load-balancer': { fill: '#dbe8f8', stroke: '#1f5fa8' },
  network: { fill: '#eef4fc', stroke: '#1f5fa8' },
  compute: { fill: '#fdeedd', stroke: '#b35c00' },
  database: { fill: '#e3f3e6', stroke: '#2e7d32' },
  bucket: { fill: '#e3f3e6', stroke: '#2e7d32' },
  parameter: { fill: '#f1f8e9', stroke: '#558b2f' },
  stage: { fill: '#efe8f8', stroke: '#6a3fa0' },
  approval: { fill: '#fff4cc', stroke: '#a07800' },
  schedule: { fill: '#f6f0fc', stroke: '#6a3fa0' },
};
const TEXT_COLOUR = '#1a1a1a';

/** The items of a container (the diagram itself when undefined): groups and nodes, in the order first declared. */
function childrenOf(d: Diagram, container: string | undefined): Array<{ group?: DiagramGroup; node?: DiagramNode }> {
  const firstNode = new Map<string, number>();
  const parentOf = new Map(d.groups.map((g) => [g.id, g.parent]));
  d.nodes.forEach((n, i) => {
    for (let g = n.group; g !== undefined; g = parentOf.get(g)) if (!firstNode.has(g)) firstNode.set(g, i);
  });
  const items: Array<{ item: { group?: DiagramGroup; node?: DiagramNode }; at: number }> = [
    ...d.groups
      .filter((g) => g.parent === container)
      .map((group) => ({ item: { group }, at: firstNode.get(group.id)! })),
    ...d.nodes.flatMap((node, at) => (node.group === container ? [{ item: { node }, at }] : [])),
  ];
  return items.sort((x, y) => x.at - y.at).map((x) => x.item);
}

// ---------------------------------------------------------------------------------------------------------------------
// Mermaid

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
  const emit = (container: string | undefined, indent: string): void => {
    for (const item of childrenOf(d, container)) {
      if (item.group) {
        out.push(`${indent}subgraph ${item.group.id}["${mermaidText(item.group.title)}"]`);
        emit(item.group.id, `${indent}  `);
        out.push(`${indent}end`);
      } else {
        const n = item.node!;
        const [open, close] = MERMAID_SHAPES[n.kind];
        out.push(`${indent}${n.id}${open}"${n.lines.map(mermaidText).join('<br/>')}"${close}`);
      }
    }
  };
  emit(undefined, '  ');
  for (const e of d.edges) {
    const arrow = e.dashed ? '-.->' : '-->';
    out.push(`  ${e.from} ${arrow}${e.label !== undefined ? `|"${mermaidText(e.label)}"|` : ''} ${e.to}`);
  }
  for (const kind of KIND_ORDER) {
    const ids = d.nodes.filter((n) => n.kind === kind).map((n) => n.id);
    if (ids.length === 0) continue;
    const { fill, stroke } = COLOURS[kind];
    const name = kind.replace(/-/g, '_');
    out.push(`  classDef ${name} fill:${fill},stroke:${stroke},color:${TEXT_COLOUR}`);
    out.push(`  class ${ids.join(',')} ${name}`);
  }
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------------------------------
// SVG: a layered layout of nested boxes

const FONT_SIZE = 12;
const LINE_HEIGHT = 16;
const PAD_X = 12;
const PAD_Y = 8;
const GROUP_PAD = 14;
const GROUP_TITLE = 22;
const GAP_ACROSS = 22;
const GAP_ALONG = 56;
const MARGIN = 20;
const TITLE_HEIGHT = 30;

export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** A generous estimate of text width in a sans-serif font at 12px (no font metrics without a browser). */
function textWidth(text: string, bold = false): number {
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

/**
 * A laid-out container: its size and the offsets of its items. Keys: `n:<node id>`, `g:<group id>`, and
 * `d:<edge index>:<layer>` for the waypoints of an edge that crosses layers (space kept free for it).
 */
interface Block {
  readonly w: number;
  readonly h: number;
  readonly direction: 'LR' | 'TB';
  readonly items: Array<{ key: string; x: number; y: number; w: number; h: number; block?: Block }>;
}

/** An edge as a container sees it: between two of its items (`edge` is the index in the diagram's edges). */
interface ContainerEdge {
  readonly from: string;
  readonly to: string;
  readonly edge: number;
  readonly labelWidth: number;
}

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

/** Lays out a container's items in layers, ordered within each layer by their neighbours' positions. */
function layoutContainer(
  d: Diagram,
  container: string | undefined,
  direction: 'LR' | 'TB',
  edgesIn: Map<string, ContainerEdge[]>,
): Block {
  const sizeOf = new Map<string, { w: number; h: number }>();
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
  const edges = edgesIn.get(container === undefined ? '' : `g:${container}`) ?? [];
  const { layer, forward } = layersOf(keys, edges);
  const depth = Math.max(...keys.map((k) => layer.get(k)!)) + 1;
  const columns: string[][] = Array.from({ length: depth }, () => []);
  for (const k of keys) columns[layer.get(k)!].push(k);

  // An edge that crosses layers gets a waypoint in each layer between its ends, kept free of boxes; its label
  // goes on the middle one. The ordering below sees the chain of short segments.
  const segments: Array<{ from: string; to: string }> = [];
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

  // Order within layers: barycentre of the neighbours in the previous (next) layer, three sweeps.
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

  // Coordinates: `along` is the layers' axis, `across` the axis within a layer.
  const along = (k: string) => (direction === 'LR' ? sizeOf.get(k)!.w : sizeOf.get(k)!.h);
  const across = (k: string) => (direction === 'LR' ? sizeOf.get(k)!.h : sizeOf.get(k)!.w);
  const layerAlong = columns.map((column) => Math.max(...column.map(along)));
  const layerAcross = columns.map(
    (column) => column.reduce((sum, k) => sum + across(k), 0) + GAP_ACROSS * (column.length - 1),
  );
  const gaps = columns.slice(1).map((_, l) => {
    if (direction === 'TB') return GAP_ALONG - 16;
    const labels = forward
      .filter((e) => layer.get(e.from) === l && layer.get(e.to) === l + 1)
      .map((e) => e.labelWidth + 28);
    return Math.max(GAP_ALONG, ...labels);
  });
  const totalAcross = Math.max(...layerAcross);
  const items: Block['items'] = [];
  let at = 0;
  columns.forEach((column, l) => {
    let cross = (totalAcross - layerAcross[l]) / 2;
    for (const k of column) {
      // A waypoint spans its layer, so that the edge runs straight through it.
      const length = k.startsWith('d:') ? layerAlong[l] : along(k);
      const main = at + (layerAlong[l] - length) / 2;
      const [x, y] = direction === 'LR' ? [main, cross] : [cross, main];
      const [w, h] = direction === 'LR' ? [length, across(k)] : [across(k), length];
      items.push({ key: k, x: Math.round(x), y: Math.round(y), w, h, block: blockOf.get(k) });
      cross += across(k) + GAP_ACROSS;
    }
    at += layerAlong[l] + (gaps[l] ?? 0);
  });
  const [w, h] = direction === 'LR' ? [at, totalAcross] : [totalAcross, at];
  return { w, h, direction, items };
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
function place(block: Block, x: number, y: number, boxes: Map<string, Box>, flows: Map<string, 'LR' | 'TB'>): void {
  for (const item of block.items) {
    const box = { x: x + item.x, y: y + item.y, w: item.w, h: item.h };
    boxes.set(item.key, box);
    if (item.key.startsWith('d:')) flows.set(item.key, block.direction);
    if (item.block) place(item.block, box.x, box.y, boxes, flows);
  }
}

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

type Point = [number, number];

/** A cubic curve from p to q that leaves and arrives along the flow's axis. */
function curve(p: Point, q: Point, flow: 'LR' | 'TB'): string {
  const r = (x: number, y: number) => `${Math.round(x)},${Math.round(y)}`;
  if (flow === 'LR') {
    const dx = (q[0] - p[0]) / 2;
    return ` C${r(p[0] + dx, p[1])} ${r(q[0] - dx, q[1])} ${r(q[0], q[1])}`;
  }
  const dy = (q[1] - p[1]) / 2;
  return ` C${r(p[0], p[1] + dy)} ${r(q[0], q[1] - dy)} ${r(q[0], q[1])}`;
}

/**
 * The path of an edge: through its waypoints when it crosses layers; otherwise side to side when the boxes do
 * not overlap horizontally, else bottom to top. Its label goes on the middle waypoint, or half way.
 */
function route(
  a: Box,
  b: Box,
  waypoints: Box[],
  flow: 'LR' | 'TB',
): { path: string; label: Point; anchor: 'middle' | 'start' } {
  const centre = (box: Box): Point => [box.x + box.w / 2, box.y + box.h / 2];
  if (waypoints.length === 0) {
    flow = b.x >= a.x + a.w || b.x + b.w <= a.x ? 'LR' : 'TB';
  }
  const forward = flow === 'LR' ? b.x >= a.x + a.w || waypoints.length > 0 : b.y >= a.y + a.h || waypoints.length > 0;
  const exit = (box: Box): Point =>
    flow === 'LR'
      ? [forward ? box.x + box.w : box.x, box.y + box.h / 2]
      : [box.x + box.w / 2, forward ? box.y + box.h : box.y];
  const entry = (box: Box): Point =>
    flow === 'LR'
      ? [forward ? box.x : box.x + box.w, box.y + box.h / 2]
      : [box.x + box.w / 2, forward ? box.y : box.y + box.h];
  const start = exit(a);
  let path = `M${Math.round(start[0])},${Math.round(start[1])}`;
  let last = start;
  for (const w of waypoints) {
    path += curve(last, entry(w), flow);
    last = exit(w);
    path += ` L${Math.round(last[0])},${Math.round(last[1])}`;
  }
  const end = entry(b);
  path += curve(last, end, flow);
  const round = (p: Point): Point => [Math.round(p[0]), Math.round(p[1])];
  if (waypoints.length > 0) {
    return { path, label: round(centre(waypoints[Math.floor((waypoints.length - 1) / 2)])), anchor: 'middle' };
  }
  if (flow === 'TB') {
    // Beside the line, just after the source: half way may be on the title of the target's frame.
    return { path, label: round([start[0] + 6, start[1] + (forward ? 20 : -20)]), anchor: 'start' };
  }
  return { path, label: round([(start[0] + end[0]) / 2, (start[1] + end[1]) / 2]), anchor: 'middle' };
}

const GROUP_PAINT: Record<GroupKind, string> = {
  vpc: 'fill="#f5f9ff" stroke="#7a9cc6" stroke-dasharray="6 4"',
  subnets: 'fill="#ffffff" stroke="#9fb3c8"',
  'load-balancer': 'fill="#eef4fc" stroke="#1f5fa8"',
  pipeline: 'fill="#faf7fd" stroke="#8e6cbf"',
};

/** Where everything goes: boxes keyed `n:<node>`, `g:<group>`, `d:<edge>:<layer>` (waypoints), and the size. */
export interface SvgLayout {
  readonly boxes: ReadonlyMap<string, Box>;
  /** The direction of the container of each waypoint. */
  readonly flows: ReadonlyMap<string, 'LR' | 'TB'>;
  readonly width: number;
  readonly height: number;
}

export function svgLayout(d: Diagram): SvgLayout {
  const content = layoutContainer(d, undefined, 'LR', containerEdges(d));
  const boxes = new Map<string, Box>();
  const flows = new Map<string, 'LR' | 'TB'>();
  place(content, MARGIN, MARGIN + TITLE_HEIGHT, boxes, flows);
  const width = Math.ceil(Math.max(content.w, textWidth(d.title, true) * 1.25) + 2 * MARGIN);
  return { boxes, flows, width, height: content.h + 2 * MARGIN + TITLE_HEIGHT };
}

/** A standalone SVG image of the diagram. */
export function toSvg(d: Diagram): string {
  const { boxes, flows, width, height } = svgLayout(d);
  const waypoints = new Map<number, string[]>();
  for (const key of [...boxes.keys()].filter((k) => k.startsWith('d:'))) {
    const edge = Number(key.split(':')[1]);
    waypoints.set(edge, [...(waypoints.get(edge) ?? []), key]);
  }
  const out = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
      `font-family="Helvetica, Arial, sans-serif" font-size="${FONT_SIZE}">`,
    `<title>${xmlText(d.title)}</title>`,
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto">' +
      '<path d="M0,0 L10,5 L0,10 z" fill="#555555"/></marker></defs>',
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${MARGIN}" y="${MARGIN + 16}" font-size="15" font-weight="bold" fill="${TEXT_COLOUR}">${xmlText(d.title)}</text>`,
  ];
  // Frames from the outside in, so inner frames are drawn over outer ones.
  const parentOf = new Map(d.groups.map((g) => [g.id, g.parent]));
  const depth = (g: string | undefined): number => (g === undefined ? 0 : 1 + depth(parentOf.get(g)));
  for (const g of [...d.groups].sort((x, y) => depth(x.id) - depth(y.id))) {
    const b = boxes.get(`g:${g.id}`)!;
    out.push(
      `<g id="group-${g.id}" class="group">` +
        `<rect x="${b.x}" y="${b.y}" width="${b.w}" height="${b.h}" rx="6" ${GROUP_PAINT[g.kind]}/>` +
        `<text x="${b.x + GROUP_PAD}" y="${b.y + 16}" font-weight="bold" fill="#34495e">${xmlText(g.title)}</text></g>`,
    );
  }
  const labels: string[] = [];
  d.edges.forEach((e, i) => {
    const through = (waypoints.get(i) ?? []).sort((x, y) => Number(x.split(':')[2]) - Number(y.split(':')[2]));
    const flow = through.length > 0 ? flows.get(through[0])! : 'LR';
    const { path, label, anchor } = route(
      boxes.get(`n:${e.from}`)!,
      boxes.get(`n:${e.to}`)!,
      through.map((k) => boxes.get(k)!),
      flow,
    );
    const dash = e.dashed ? ' stroke-dasharray="5 4"' : '';
    out.push(
      `<path class="edge" data-from="${e.from}" data-to="${e.to}" d="${path}" fill="none" stroke="#555555" stroke-width="1.3"${dash} marker-end="url(#arrow)"/>`,
    );
    if (e.label !== undefined) {
      const w = textWidth(e.label) + 8;
      const left = anchor === 'middle' ? label[0] - w / 2 : label[0];
      const textX = anchor === 'middle' ? label[0] : label[0] + 4;
      labels.push(
        `<g class="edge-label"><rect x="${left}" y="${label[1] - 9}" width="${w}" height="17" rx="3" fill="#ffffff" fill-opacity="0.9"/>` +
          `<text x="${textX}" y="${label[1] + 4}" text-anchor="${anchor}" font-size="11" fill="#444444">${xmlText(e.label)}</text></g>`,
      );
    }
  });
  for (const n of d.nodes) {
    const b = boxes.get(`n:${n.id}`)!;
    const cx = b.x + b.w / 2;
    const top = b.y + b.h / 2 - (n.lines.length * LINE_HEIGHT) / 2 + 12;
    const lines = n.lines.map(
      (line, i) =>
        `<tspan x="${cx}" y="${top + i * LINE_HEIGHT}"${i === 0 ? ' font-weight="bold"' : ''}>${xmlText(line)}</tspan>`,
    );
    out.push(
      `<g id="node-${n.id}" class="node ${n.kind}">${shape(n, b, COLOURS[n.kind])}` +
        `<text text-anchor="middle" fill="${TEXT_COLOUR}">${lines.join('')}</text></g>`,
    );
  }
  out.push(...labels, '</svg>');
  return out.join('\n');
}
