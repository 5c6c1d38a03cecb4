/*
 * Choosing what to draw from the command's options, rendering it, and what `--out FILE` writes.
 */
import { customerDiagram } from './customer-diagram';
import { nameOf, ONE_LOAD_BALANCER } from './describe';
import { toMermaid } from './mermaid';
import { Diagram, DIAGRAM_FORMATS, DiagramFormat } from './model';
import { platformDiagram } from './platform-diagram';
import { toSvg } from './svg';
import { ResolvedCustomerConfig } from '../../config/defaults';
import { describeValue } from '../../config/errors';
import { ResolvedFleet } from '../../config/loader';
import { FleetPlacement } from '../../environment/placement';

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

/** Why there is no picture (`usage`: the command line needs another option). */
export interface DiagramProblem {
  readonly problem: string;
  readonly usage: boolean;
}

/** The picture asked for, rendered; or why there is none. */
export type DrawnDiagram = { readonly text: string; readonly subject: string } | DiagramProblem;

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
  const chosen = chosenEnvironment(fleet, request.customer, request.environment);
  if ('problem' in chosen) return chosen;
  return { text: render(customerDiagram(fleet.platform, chosen, placement)), subject: nameOf(chosen) };
}

/** The environment of the customer named (the only one when none is named), or why there is none. */
function chosenEnvironment(
  fleet: ResolvedFleet,
  customer: string,
  environment: string | undefined,
): ResolvedCustomerConfig | DiagramProblem {
  const environments = fleet.customers.filter((c) => c.customer === customer);
  if (environments.length === 0) return { problem: unknownCustomer(fleet, customer), usage: false };
  const expected = `expected one of the environments of customer ${customer}: ${environments
    .map((c) => c.environment)
    .join(', ')}`;
  if (environment === undefined && environments.length > 1) {
    return { problem: `--environment: received nothing; ${expected}`, usage: true };
  }
  const chosen = environments.find((c) => environment === undefined || c.environment === environment);
  if (chosen === undefined) {
    return { problem: `--environment: received ${describeValue(environment)}; ${expected}`, usage: false };
  }
  return chosen;
}

/** The message for a customer the fleet does not have: the customers it has, with their environments. */
function unknownCustomer(fleet: ResolvedFleet, customer: string): string {
  const byCustomer = new Map<string, string[]>();
  for (const c of fleet.customers) byCustomer.set(c.customer, [...(byCustomer.get(c.customer) ?? []), c.environment]);
  const choices = [...byCustomer].map(([name, envs]) => `${name} (${envs.join(', ')})`);
  return `--customer: received ${describeValue(customer)}; expected ${
    choices.length > 0 ? `a customer of the fleet: ${choices.join(', ')}` : 'a customer, but the fleet has none'
  }`;
}

/** What `--out FILE` writes: the text, and for Mermaid in a Markdown file, a `mermaid` code block GitHub renders. */
export function diagramFileText(text: string, format: string | undefined, file: string): string {
  const markdown = (format ?? 'mermaid') === 'mermaid' && /\.(md|markdown)$/i.test(file);
  return markdown ? `\`\`\`mermaid\n${text}\n\`\`\`\n` : `${text}\n`;
}
