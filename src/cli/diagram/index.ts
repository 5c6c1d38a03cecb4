/*
 * `paas-vending diagram`: a picture of one customer environment, or of the platform with its customers,
 * drawn from the validated, resolved config alone. Nothing is synthesized, so it takes milliseconds.
 *
 * One model (model.ts: nodes, nested groups, edges), built from the config by customer-diagram.ts and
 * platform-diagram.ts, and two renderers: Mermaid flowchart text for Markdown (mermaid.ts), and a standalone SVG
 * (svg.ts on the layout of svg-layout.ts). Both are deterministic: the same fleet gives the same bytes.
 * command.ts chooses what to draw from the command's options.
 *
 * Internal: not exported from src/index.ts.
 */
export { diagramFileText, diagramUsageProblem, drawDiagram } from './command';
export type { DiagramRequest, DrawnDiagram } from './command';
export { customerDiagram } from './customer-diagram';
export { repositoryText } from './describe';
export { mermaidText, toMermaid } from './mermaid';
export { DIAGRAM_FORMATS } from './model';
export type { Diagram, DiagramEdge, DiagramFormat, DiagramGroup, DiagramNode, GroupKind, NodeKind } from './model';
export { platformDiagram } from './platform-diagram';
export { toSvg, xmlText } from './svg';
export { svgLayout } from './svg-layout';
export type { Box, EdgeRoute, Point, SvgLayout } from './svg-layout';
