/**
 * The priority allocator's calls to ELB on a listener's rules: create one at a priority, modify it in place, sync
 * its tags, delete it, count the listener's rules.
 */
import {
  Action,
  AddTagsCommand,
  CreateRuleCommand,
  DeleteRuleCommand,
  DescribeRulesCommand,
  ModifyRuleCommand,
  RemoveTagsCommand,
  RuleCondition,
  Tag,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { AllocatorError, isAwsError } from './allocator-error';
import { CfnRequest } from './cfn-response';
import type { AllocatorRequest } from './request';
import { RuleSpec } from './rule-spec';
import {
  PriorityAllocatorProperties,
  RULE_TAG_LOGICAL_ID,
  RULE_TAG_MANAGED_BY,
  RULE_TAG_MANAGED_BY_VALUE,
  RULE_TAG_STACK_ID,
} from './types';

/** The listener ARN a listener-rule ARN belongs to. */
export function listenerOfRule(ruleArn: string): string {
  return ruleArn.replace(':listener-rule/', ':listener/').replace(/\/[^/]+$/, '');
}

/** True when the PhysicalResourceId is a listener rule's ARN (not a placeholder). */
export function isRuleArn(id: string | undefined): id is string {
  return typeof id === 'string' && /^arn:[^:]+:elasticloadbalancing:[^:]*:[^:]*:listener-rule\//.test(id);
}

function conditionsOf(spec: RuleSpec): RuleCondition[] {
  const conditions: RuleCondition[] = [{ Field: 'host-header', HostHeaderConfig: { Values: spec.hosts } }];
  if (spec.pathPatterns.length) {
    conditions.push({ Field: 'path-pattern', PathPatternConfig: { Values: spec.pathPatterns } });
  }
  return conditions;
}

function actionsOf(spec: RuleSpec): Action[] {
  return [{ Type: 'forward', TargetGroupArn: spec.targetGroupArn }];
}

function tagsOf(spec: RuleSpec, request: CfnRequest<PriorityAllocatorProperties>): Tag[] {
  const own = [
    { Key: RULE_TAG_MANAGED_BY, Value: RULE_TAG_MANAGED_BY_VALUE },
    { Key: RULE_TAG_STACK_ID, Value: request.StackId },
    { Key: RULE_TAG_LOGICAL_ID, Value: request.LogicalResourceId },
  ];
  const ownKeys = new Set(own.map((t) => t.Key));
  return [...spec.tags.filter((t) => !ownKeys.has(t.Key)), ...own];
}

/** Creates the rule at this priority, with its tags; ELB's PriorityInUse and TooManyRules reach the caller. */
export async function createRuleAt(run: AllocatorRequest, spec: RuleSpec, priority: number): Promise<string> {
  const out = await run.deps.elb.send(
    new CreateRuleCommand({
      ListenerArn: spec.listenerArn,
      Priority: priority,
      Conditions: conditionsOf(spec),
      Actions: actionsOf(spec),
      Tags: tagsOf(spec, run.request),
    }),
    run.signal,
  );
  const ruleArn = out.Rules?.[0]?.RuleArn;
  if (!ruleArn) throw new AllocatorError('CreateRule returned no rule ARN');
  return ruleArn;
}

/** The listener's rules, default rule excluded: paginated DescribeRules (400 a page on AWS, 50 on moto). */
export async function countRules(run: AllocatorRequest, listenerArn: string): Promise<number> {
  let held = 0;
  let marker: string | undefined;
  do {
    const page = await run.deps.elb.send(
      new DescribeRulesCommand({ ListenerArn: listenerArn, PageSize: 400, Marker: marker }),
      run.signal,
    );
    held += (page.Rules ?? []).filter((r) => !r.IsDefault).length;
    marker = page.NextMarker;
  } while (marker);
  return held;
}

/** Sets the rule's conditions and action in place; its priority, as ELB reports it. */
export async function modifyRule(run: AllocatorRequest, ruleArn: string, spec: RuleSpec): Promise<string | undefined> {
  const out = await run.deps.elb.send(
    new ModifyRuleCommand({ RuleArn: ruleArn, Conditions: conditionsOf(spec), Actions: actionsOf(spec) }),
    run.signal,
  );
  return out.Rules?.[0]?.Priority;
}

/** Applies changes of the user tags between the old and new properties (no call when they are equal). */
export async function syncTags(run: AllocatorRequest, ruleArn: string, spec: RuleSpec): Promise<void> {
  const oldTags = (run.request.OldResourceProperties as Partial<PriorityAllocatorProperties> | undefined)?.tags;
  const own = new Set([RULE_TAG_MANAGED_BY, RULE_TAG_STACK_ID, RULE_TAG_LOGICAL_ID]);
  const before = new Map((Array.isArray(oldTags) ? oldTags : []).map((t) => [t.Key, t.Value]));
  const after = new Map(spec.tags.filter((t) => !own.has(t.Key)).map((t) => [t.Key, t.Value]));
  const put = [...after].filter(([k, v]) => before.get(k) !== v).map(([Key, Value]) => ({ Key, Value }));
  const removed = [...before.keys()].filter((k) => !after.has(k) && !own.has(k));
  if (put.length) {
    await run.deps.elb.send(new AddTagsCommand({ ResourceArns: [ruleArn], Tags: put }), run.signal);
  }
  if (removed.length) {
    await run.deps.elb.send(new RemoveTagsCommand({ ResourceArns: [ruleArn], TagKeys: removed }), run.signal);
  }
}

/** Deletes the rule; one already gone is fine. */
export async function deleteRule(run: AllocatorRequest, ruleArn: string): Promise<void> {
  try {
    await run.deps.elb.send(new DeleteRuleCommand({ RuleArn: ruleArn }), run.signal);
  } catch (error) {
    if (!isAwsError(error, 'RuleNotFound')) throw error;
    run.log({ level: 'info', message: 'rule already gone', ruleArn });
  }
}
