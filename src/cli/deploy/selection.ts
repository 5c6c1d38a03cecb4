/*
 * Which stacks a deploy takes, in which waves, and why: a pure function of the fleet's stacks (with fingerprints),
 * what was deployed before (the state directory, or the fleet at a git ref) and the command's filters. The pipeline
 * and a person's `paas-vending deploy` both come here, so they deploy the same set in the same order.
 *
 * Internal: not exported from src/index.ts.
 */
import { createHash } from 'crypto';
import type { FingerprintInputs } from './fingerprint';
import { UsageError } from '../io';

/** The waves, in the order they deploy. */
export const WAVES = ['platform', 'nonproduction', 'production'] as const;
export type Wave = (typeof WAVES)[number];
/** What `--group` takes: one wave, or all three in order. */
export const GROUPS = [...WAVES, 'all'] as const;
export type Group = (typeof GROUPS)[number];

/** A stack of the fleet as selection sees it. */
export interface FleetStack {
  readonly name: string;
  readonly wave: Wave;
  readonly fingerprint: string;
  readonly inputs: FingerprintInputs;
}

/** What was deployed of a stack before: its fingerprint, and its parts when they were recorded. */
export interface PreviousStack {
  readonly fingerprint: string;
  readonly inputs?: Partial<FingerprintInputs>;
}

/** Why a stack is selected. */
export type Reason =
  | 'new'
  | 'template changed'
  | 'assets changed'
  | 'platform changed'
  | 'library changed'
  | 'fingerprint changed'
  | 'no baseline';

export interface SelectedStack extends FleetStack {
  /** Why it is deployed: one reason or several (a platform change that also changes the template). */
  readonly reasons: Reason[];
}

export interface DeployPlan {
  /** The waves with something to deploy, in order; each in the fleet's order. */
  readonly waves: { readonly wave: Wave; readonly stacks: SelectedStack[] }[];
  /** Stacks of the group (after --stack and --shard) whose fingerprint is the one deployed. */
  readonly unchanged: string[];
  /**
   * Stacks that were deployed (in the state, or in the fleet at the ref) but are no longer in the fleet: a deploy
   * does not delete them (offboarded or removed: destroy them with cdk destroy).
   */
  readonly removed: string[];
}

export interface SelectionOptions {
  readonly group: Group;
  /** --stack: only these stacks. @default every stack */
  readonly only?: string[];
  /** --shard I/N, 0-based index. @default no sharding */
  readonly shard?: Shard;
}

export interface Shard {
  /** 0-based. */
  readonly index: number;
  readonly count: number;
}

/** The shard (0-based) a stack belongs to among `count`: sha256 of its name, mod count. Stable across runs. */
export function shardOf(name: string, count: number): number {
  const digest = createHash('sha256').update(name).digest();
  // The first 6 bytes: an integer below 2^48, exact in a double.
  return digest.readUIntBE(0, 6) % count;
}

/** `--shard I/N` (1-based I), checked. */
export function parseShard(text: string): Shard {
  const match = /^(\d{1,4})\/(\d{1,4})$/.exec(text.trim());
  const index = match ? Number(match[1]) : NaN;
  const count = match ? Number(match[2]) : NaN;
  if (!match || count < 1 || index < 1 || index > count) {
    throw new UsageError(
      `deploy: --shard: received "${text}"; expected I/N with 1 <= I <= N <= 9999, such as 2/4 (the second of four shards)`,
    );
  }
  return { index: index - 1, count };
}

/** Why a stack differs from what was deployed; empty when it does not. */
export function reasonsOf(stack: FleetStack, previous: PreviousStack | undefined): Reason[] {
  if (previous === undefined) return ['new'];
  if (previous.fingerprint === stack.fingerprint) return [];
  const before = previous.inputs;
  if (!before) return ['fingerprint changed'];
  const reasons: Reason[] = [];
  if (before.library !== stack.inputs.library) reasons.push('library changed');
  if (before.platform !== stack.inputs.platform) reasons.push('platform changed');
  if (before.template !== stack.inputs.template) reasons.push('template changed');
  if (before.assets !== stack.inputs.assets) reasons.push('assets changed');
  return reasons.length > 0 ? reasons : ['fingerprint changed'];
}

/**
 * The plan: the group's stacks (after --stack and --shard) whose fingerprint differs from `previous`, in waves. With
 * no `previous` (neither --state nor --changed-since), every stack of the group is selected ("no baseline").
 */
export function planDeploy(
  stacks: FleetStack[],
  previous: ReadonlyMap<string, PreviousStack> | undefined,
  options: SelectionOptions,
): DeployPlan {
  if (options.only) {
    const names = new Set(stacks.map((s) => s.name));
    const unknown = options.only.filter((name) => !names.has(name));
    if (unknown.length > 0) {
      throw new UsageError(
        `deploy: --stack: received ${unknown.map((n) => `"${n}"`).join(', ')}; expected stacks of the fleet: ` +
          stacks.map((s) => s.name).join(', '),
      );
    }
  }
  const inGroup = stacks.filter(
    (s) =>
      (options.group === 'all' || s.wave === options.group) &&
      (!options.only || options.only.includes(s.name)) &&
      (!options.shard || shardOf(s.name, options.shard.count) === options.shard.index),
  );
  const unchanged: string[] = [];
  const selected: SelectedStack[] = [];
  for (const stack of inGroup) {
    const reasons: Reason[] = previous ? reasonsOf(stack, previous.get(stack.name)) : ['no baseline'];
    if (reasons.length === 0) unchanged.push(stack.name);
    else selected.push({ ...stack, reasons });
  }
  const current = new Set(stacks.map((s) => s.name));
  return {
    waves: WAVES.map((wave) => ({ wave, stacks: selected.filter((s) => s.wave === wave) })).filter(
      (w) => w.stacks.length > 0,
    ),
    unchanged,
    removed: previous ? [...previous.keys()].filter((name) => !current.has(name)).sort() : [],
  };
}
