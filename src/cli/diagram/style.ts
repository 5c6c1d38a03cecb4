/*
 * What both renderers paint alike: the colours of each node kind, and the order in which kinds are listed.
 */
import { NodeKind } from './model';

export const KIND_ORDER: readonly NodeKind[] = [
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
export const COLOURS: Record<NodeKind, { fill: string; stroke: string }> = {
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
export const TEXT_COLOUR = '#1a1a1a';
