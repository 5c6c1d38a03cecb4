/**
 * What a request asks the priority allocator for: its resource properties, parsed and checked (RuleSpec), and the
 * choice of candidate priorities in its range.
 */
import { randomInt } from 'node:crypto';
import { AllocatorError } from './allocator-error';
import { DEFAULT_RULE_LIMIT, MAX_ALB_PRIORITY, MIN_ALB_PRIORITY, PriorityAllocatorProperties, RuleTag } from './types';

/** Chooses the next priority to try: an integer in [min, max] not in `tried`. */
export type PriorityPicker = (min: number, max: number, tried: ReadonlySet<number>) => number;

/** Parsed and checked resource properties. */
export interface RuleSpec {
  readonly listenerArn: string;
  readonly hosts: string[];
  readonly pathPatterns: string[];
  readonly targetGroupArn: string;
  readonly ruleLimit: number;
  readonly minPriority: number;
  readonly maxPriority: number;
  readonly tags: RuleTag[];
}

function intProp(value: unknown, name: string, fallback: number, min: number, max: number): number {
  if (value === undefined || value === null || value === '') return fallback;
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new AllocatorError(`invalid ${name}: received ${JSON.stringify(value)}; expected an integer ${min}..${max}`);
  }
  return n;
}

function stringList(value: unknown, name: string, required: boolean): string[] {
  if (value === undefined && !required) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || v === '') || (required && !value.length)) {
    throw new AllocatorError(
      `invalid ${name}: received ${JSON.stringify(value)}; expected a ${required ? 'non-empty ' : ''}list of strings`,
    );
  }
  return value as string[];
}

/** Checks the resource properties; throws an AllocatorError naming the bad one. */
export function parseProperties(raw: PriorityAllocatorProperties | undefined): RuleSpec {
  const p = (raw ?? {}) as Partial<PriorityAllocatorProperties>;
  if (typeof p.listenerArn !== 'string' || !p.listenerArn.includes(':listener/')) {
    throw new AllocatorError(`invalid listenerArn: received ${JSON.stringify(p.listenerArn)}; expected a listener ARN`);
  }
  if (typeof p.targetGroupArn !== 'string' || !p.targetGroupArn.includes(':targetgroup/')) {
    throw new AllocatorError(
      `invalid targetGroupArn: received ${JSON.stringify(p.targetGroupArn)}; expected a target group ARN`,
    );
  }
  const minPriority = intProp(p.minPriority, 'minPriority', MIN_ALB_PRIORITY, MIN_ALB_PRIORITY, MAX_ALB_PRIORITY);
  const maxPriority = intProp(p.maxPriority, 'maxPriority', MAX_ALB_PRIORITY, minPriority, MAX_ALB_PRIORITY);
  const tags = p.tags ?? [];
  if (!Array.isArray(tags) || tags.some((t) => typeof t?.Key !== 'string' || typeof t?.Value !== 'string')) {
    throw new AllocatorError(`invalid tags: received ${JSON.stringify(tags)}; expected a list of { Key, Value }`);
  }
  return {
    listenerArn: p.listenerArn,
    hosts: stringList(p.hosts, 'hosts', true),
    pathPatterns: stringList(p.pathPatterns, 'pathPatterns', false),
    targetGroupArn: p.targetGroupArn,
    ruleLimit: intProp(p.ruleLimit, 'ruleLimit', DEFAULT_RULE_LIMIT, 1, MAX_ALB_PRIORITY),
    minPriority,
    maxPriority,
    tags: tags.map((t) => ({ Key: t.Key, Value: t.Value })),
  };
}

/** The default picker: uniformly random in [min, max], skipping what was tried. */
export const randomPriority: PriorityPicker = (min, max, tried) => {
  for (;;) {
    const p = randomInt(min, max + 1);
    if (!tried.has(p)) return p;
  }
};
