/*
 * The plan run wave by wave: the platform alone, then non-production, then production. Within a wave up to
 * `concurrency` stacks deploy side by side; one stack's failure stops no other stack of its wave. A failed platform
 * stops the customer waves (they read its contract); a wave held by its gate (production's approval, a failed
 * non-production wave) is skipped, each stack with the reason. The deployer is an interface: the real one is
 * toolkit-lib's (toolkit-deployer.ts), the tests' a fake.
 *
 * Internal: not exported from src/index.ts.
 */
import type { DeployPlan, SelectedStack, Wave } from './selection';

/** What one stack's deploy came to. */
export type DeployOutcome =
  { readonly result: 'deployed' | 'unchanged' } | { readonly result: 'failed'; readonly reason: string };

/** Deploys one stack of the assembly by name. */
export interface StackDeployer {
  deploy(stack: string, events: (line: string) => void): Promise<DeployOutcome>;
}

export type StackResultKind = 'deployed' | 'unchanged' | 'failed' | 'skipped';

/** A stack's line of the summary and of --report. */
export interface StackResult {
  readonly stack: string;
  readonly wave: Wave;
  readonly result: StackResultKind;
  /** Why it was deployed (the plan's reasons), why it failed (CloudFormation's reason) or why it was skipped. */
  readonly reason: string;
}

export interface RunOptions {
  /** Stacks deploying at once within a wave. */
  readonly concurrency: number;
  /** A line per stack event: started, deployed, unchanged, failed. */
  readonly progress: (line: string) => void;
  /** After a stack deployed or was unchanged (the state is updated here); never after a failure. */
  readonly succeeded: (stack: SelectedStack) => void;
  /**
   * Before a wave: undefined lets it run, a text skips it with that reason. `before` holds the results so far.
   * @default every wave runs
   */
  readonly gate?: (wave: Wave, before: readonly StackResult[]) => Promise<string | undefined>;
}

/** Runs the plan's waves in order; the results in the plan's order. */
export async function runWaves(plan: DeployPlan, deployer: StackDeployer, options: RunOptions): Promise<StackResult[]> {
  const results: StackResult[] = [];
  let stopped: string | undefined;
  for (const { wave, stacks } of plan.waves) {
    const held = stopped ?? (await options.gate?.(wave, results));
    if (held !== undefined) {
      for (const s of stacks) {
        results.push({ stack: s.name, wave, result: 'skipped', reason: held });
        options.progress(`${s.name}: skipped (${held})`);
      }
      continue;
    }
    const outcomes = await inParallel(stacks, options.concurrency, (stack) => deployOne(stack, deployer, options));
    results.push(...outcomes);
    if (wave === 'platform' && outcomes.some((r) => r.result === 'failed')) {
      stopped = 'the platform stack failed; customer stacks read its contract';
    }
  }
  return results;
}

async function deployOne(stack: SelectedStack, deployer: StackDeployer, options: RunOptions): Promise<StackResult> {
  options.progress(`${stack.name}: started (${stack.reasons.join(', ')})`);
  let outcome: DeployOutcome;
  try {
    outcome = await deployer.deploy(stack.name, (line) => options.progress(`${stack.name}: ${line}`));
  } catch (e) {
    outcome = { result: 'failed', reason: (e as Error)?.message ?? String(e) };
  }
  if (outcome.result === 'failed') {
    // One line: the summary is a table.
    const reason = outcome.reason.trim().replace(/\s*\n\s*/g, ' ') || 'no reason given';
    options.progress(`${stack.name}: failed: ${reason}`);
    return { stack: stack.name, wave: stack.wave, result: 'failed', reason };
  }
  try {
    options.succeeded(stack);
  } catch (e) {
    // Deployed, but not recorded: the next run deploys it again (a no-op), so it counts as failed now.
    const reason = `${outcome.result}, but not recorded in the state: ${(e as Error)?.message ?? String(e)}`;
    options.progress(`${stack.name}: failed: ${reason}`);
    return { stack: stack.name, wave: stack.wave, result: 'failed', reason };
  }
  options.progress(`${stack.name}: ${outcome.result}`);
  return { stack: stack.name, wave: stack.wave, result: outcome.result, reason: stack.reasons.join(', ') };
}

/** `work` over the items, at most `limit` at a time; results in the items' order. */
export async function inParallel<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}
