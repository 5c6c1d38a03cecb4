/**
 * The contract between the SharedAlbRule construct (which declares the custom resource) and the priority
 * allocator Lambda (which serves it). Internal: not exported through jsii.
 *
 * CloudFormation passes every scalar property to the handler as a string, whatever its type in the template:
 * numbers below are therefore typed `string | number` and parsed by the handler.
 */

/** The CloudFormation resource type the construct declares. */
export const PRIORITY_ALLOCATOR_RESOURCE_TYPE = 'Custom::SharedAlbRulePriority';

/**
 * Tag keys the handler puts on every listener rule it creates: operators read them, and the handler finds its
 * rules by them (stack, logical resource and creating request) without its own records.
 */
export const RULE_TAG_STACK_ID = 'vending:stack-id';
export const RULE_TAG_LOGICAL_ID = 'vending:logical-id';
export const RULE_TAG_MANAGED_BY = 'vending:managed-by';
/** The request that created the rule: how a retried or repeated request finds the rule it made. */
export const RULE_TAG_REQUEST_ID = 'vending:request-id';
export const RULE_TAG_MANAGED_BY_VALUE = 'shared-alb-rule-priority-allocator';

/** How often the platform's schedule invokes the allocator with the sweep's event (see sweep.ts). */
export const SWEEP_INTERVAL_MINUTES = 15;
/** How long after a Delete a rule of its uncertain request may still appear: then its slot is given back. */
export const SWEEP_WINDOW_MS = 60 * 60 * 1000;

/** The lowest and highest priorities an ALB accepts. */
export const MIN_ALB_PRIORITY = 1;
export const MAX_ALB_PRIORITY = 50_000;

/** Rules per load balancer that AWS allows by default (a raisable quota; default default rules excluded). */
export const DEFAULT_RULE_LIMIT = 100;

/** One tag on the listener rule. */
export interface RuleTag {
  readonly Key: string;
  readonly Value: string;
}

/** The custom resource's `Properties` (besides `ServiceToken`), as the handler receives them. */
export interface PriorityAllocatorProperties {
  /** The Lambda function's ARN (CloudFormation's own property). */
  readonly ServiceToken?: string;
  /** The listener the rule goes on. A new value on update creates a new rule with a new priority. */
  readonly listenerArn: string;
  /** Host header values the rule matches (1 to 5; wildcards allowed as ALB allows them). */
  readonly hosts: string[];
  /** Optional path patterns the rule also requires. */
  readonly pathPatterns?: string[];
  /** The target group the rule forwards to. */
  readonly targetGroupArn: string;
  /**
   * The most rules the listener may hold (rules made by hand and by other tools included, default rule
   * excluded). Default DEFAULT_RULE_LIMIT.
   */
  readonly ruleLimit?: string | number;
  /** The lowest priority the allocator may pick. Default MIN_ALB_PRIORITY. */
  readonly minPriority?: string | number;
  /** The highest priority the allocator may pick. Default MAX_ALB_PRIORITY. */
  readonly maxPriority?: string | number;
  /** Extra tags for the rule (the handler always adds the vending:* tags). */
  readonly tags?: RuleTag[];
}

/** The attributes the custom resource returns (`Fn::GetAtt`). */
export interface PriorityAllocatorData {
  /** The rule's priority, as a string (CloudFormation attributes are strings). */
  readonly Priority: string;
  /** The rule's ARN (also the PhysicalResourceId). */
  readonly RuleArn: string;
}

/** Environment variables the handler reads. */
export const ENV_STATE_TABLE = 'STATE_TABLE_NAME';
/** Optional: how many priorities to try before giving up (default 10). */
export const ENV_MAX_ATTEMPTS = 'MAX_ATTEMPTS';
/** Optional: milliseconds before the Lambda timeout at which the handler answers FAILED (default 10000). */
export const ENV_SAFETY_MARGIN_MS = 'SAFETY_MARGIN_MS';
/** Optional: milliseconds an AWS call may take before the SDK gives it up and retries it (default 5000). */
export const ENV_SDK_TIMEOUT_MS = 'SDK_TIMEOUT_MS';
