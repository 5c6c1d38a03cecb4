/**
 * One custom resource request being served, and what the allocator needs from its environment: what every path
 * (on-create.ts, on-update.ts, on-delete.ts) shares, the request, the injected dependencies, the deadline's abort
 * signal and the log.
 */
import { randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { AllocatorError } from './allocator-error';
import { CfnRequest, ResponseSender } from './cfn-response';
import { PriorityPicker, randomPriority } from './rule-spec';
import { PriorityAllocatorData, PriorityAllocatorProperties } from './types';

/** What the allocator needs from its environment. */
export interface AllocatorDeps {
  readonly elb: ElasticLoadBalancingV2Client;
  readonly dynamodb: DynamoDBClient;
  /** The state table: partition key `pk` (S), sort key `sk` (S). */
  readonly tableName: string;
  readonly sendResponse: ResponseSender;
  /** Default: uniformly random, skipping priorities already tried. */
  readonly pickPriority?: PriorityPicker;
  /** Priorities tried before giving up. Default 10. */
  readonly maxAttempts?: number;
  /** Answer FAILED this many milliseconds before the Lambda times out. Default 10,000. */
  readonly safetyMarginMs?: number;
  /** Pause between reads while another delivery of the same request is in progress. Default 1,000. */
  readonly pollIntervalMs?: number;
  /** Structured log line (default console.log of JSON). */
  readonly log?: (entry: Record<string, unknown>) => void;
}

/** What a path of the allocator answers. */
export interface Outcome {
  readonly status: 'SUCCESS' | 'FAILED';
  readonly physicalResourceId: string;
  readonly data?: PriorityAllocatorData;
  readonly reason?: string;
}

const UNALLOCATED_PREFIX = 'unallocated:';

/** The placeholder PhysicalResourceId of a Create that failed (it names the request, see onDelete). */
export function unallocatedId(requestId: string): string {
  return `${UNALLOCATED_PREFIX}${requestId}`;
}

/** One request being served. */
export class AllocatorRequest {
  readonly abort = new AbortController();
  readonly maxAttempts: number;
  readonly pick: PriorityPicker;
  /** The partition of this resource's claims in the state table. */
  readonly claimPk: string;
  /** This invocation, among repeated deliveries of one request (the owner of the claim it makes). */
  readonly invocationId = randomUUID();
  /**
   * Set when a CreateRule of this request failed in a way that leaves its effect unknown (a timeout, a lost
   * answer): the backend may still create the rule later, so a failure is recorded as uncertain (see sweep.ts).
   */
  createRuleUncertain = false;

  /** `deadline`: when the function's time runs out, in epoch milliseconds. */
  constructor(
    readonly request: CfnRequest<PriorityAllocatorProperties>,
    readonly deps: AllocatorDeps,
    readonly deadline: number = Date.now() + 900_000,
  ) {
    this.maxAttempts = deps.maxAttempts ?? 10;
    this.pick = deps.pickPriority ?? randomPriority;
    this.claimPk = `claim|${request.StackId}|${request.LogicalResourceId}`;
  }

  log(entry: Record<string, unknown>): void {
    const line = { requestId: this.request.RequestId, requestType: this.request.RequestType, ...entry };
    if (this.deps.log) this.deps.log(line);
    else console.log(JSON.stringify(line));
  }

  failed(reason: string): Outcome {
    const physicalResourceId =
      this.request.RequestType === 'Create'
        ? unallocatedId(this.request.RequestId)
        : (this.request.PhysicalResourceId ?? unallocatedId(this.request.RequestId));
    return { status: 'FAILED', physicalResourceId, reason };
  }

  /** The options of a call that the deadline cuts short. */
  get signal(): { abortSignal: AbortSignal } {
    return { abortSignal: this.abort.signal };
  }

  checkTime(): void {
    if (this.abort.signal.aborted) throw new AllocatorError('aborted: out of time');
  }
}
