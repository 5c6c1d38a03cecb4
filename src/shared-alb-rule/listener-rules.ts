/**
 * The priority allocator's calls to ELB on a listener's rules: create one at a priority, modify it in place, sync
 * its tags, delete it, count the listener's rules, and find the rules a resource (or one of its requests) made by
 * their tags.
 */
import {
  Action,
  AddTagsCommand,
  CreateRuleCommand,
  DeleteRuleCommand,
  DescribeRulesCommand,
  DescribeTagsCommand,
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
  RULE_TAG_REQUEST_ID,
  RULE_TAG_STACK_ID,
} from './types';

/** The tags the handler owns on its rules (users' tags of these keys are replaced). */
const OWN_TAG_KEYS = new Set([RULE_TAG_MANAGED_BY, RULE_TAG_STACK_ID, RULE_TAG_LOGICAL_ID, RULE_TAG_REQUEST_ID]);
/** DescribeTags takes at most 20 ARNs a call. */
const TAGS_PER_CALL = 20;

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
    { Key: RULE_TAG_REQUEST_ID, Value: request.RequestId },
  ];
  return [...spec.tags.filter((t) => !OWN_TAG_KEYS.has(t.Key)), ...own];
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

/** A listener's rule: its ARN and priority. */
export interface ListedRule {
  readonly ruleArn: string;
  readonly priority: string | undefined;
}

/** The listener's rules, default rule excluded: paginated DescribeRules (400 a page on AWS, 50 on moto). */
export async function listRules(run: AllocatorRequest, listenerArn: string): Promise<ListedRule[]> {
  const rules: ListedRule[] = [];
  let marker: string | undefined;
  do {
    const page = await run.deps.elb.send(
      new DescribeRulesCommand({ ListenerArn: listenerArn, PageSize: 400, Marker: marker }),
      run.signal,
    );
    for (const r of page.Rules ?? []) {
      if (!r.IsDefault) rules.push({ ruleArn: r.RuleArn ?? '', priority: r.Priority });
    }
    marker = page.NextMarker;
  } while (marker);
  return rules;
}

/** How many rules the listener holds, default rule excluded. */
export async function countRules(run: AllocatorRequest, listenerArn: string): Promise<number> {
  return (await listRules(run, listenerArn)).length;
}

/** A rule this resource made: its ARN and the request that created it (its `vending:request-id` tag). */
export interface OwnRule {
  readonly ruleArn: string;
  /** Undefined for a rule made before the handler tagged its requests. */
  readonly requestId: string | undefined;
}

/** The tags of these rules, by ARN (DescribeTags, 20 ARNs a call). */
async function tagsOfRules(run: AllocatorRequest, ruleArns: string[]): Promise<Map<string, Map<string, string>>> {
  const tags = new Map<string, Map<string, string>>();
  ruleArns = ruleArns.filter((arn) => arn !== '');
  for (let i = 0; i < ruleArns.length; i += TAGS_PER_CALL) {
    const out = await run.deps.elb.send(
      new DescribeTagsCommand({ ResourceArns: ruleArns.slice(i, i + TAGS_PER_CALL) }),
      run.signal,
    );
    for (const d of out.TagDescriptions ?? []) {
      if (d.ResourceArn) tags.set(d.ResourceArn, new Map((d.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? ''])));
    }
  }
  return tags;
}

function isOwn(request: CfnRequest<PriorityAllocatorProperties>, tags: Map<string, string> | undefined): boolean {
  return (
    tags?.get(RULE_TAG_STACK_ID) === request.StackId && tags.get(RULE_TAG_LOGICAL_ID) === request.LogicalResourceId
  );
}

/**
 * The rules on the listener that carry this resource's identity (its stack's and logical resource's id tags),
 * found without the state table: DescribeRules (all pages), then DescribeTags of every rule.
 */
export async function findOwnRules(run: AllocatorRequest, listenerArn: string): Promise<OwnRule[]> {
  const rules = await listRules(run, listenerArn);
  const tags = await tagsOfRules(
    run,
    rules.map((r) => r.ruleArn),
  );
  return rules
    .filter((r) => isOwn(run.request, tags.get(r.ruleArn)))
    .map((r) => ({ ruleArn: r.ruleArn, requestId: tags.get(r.ruleArn)?.get(RULE_TAG_REQUEST_ID) }));
}

/** The rule this very request made on the listener, if any (a CreateRule whose answer was lost). */
export async function findRuleOfRequest(run: AllocatorRequest, listenerArn: string): Promise<ListedRule | undefined> {
  return (await findRulesOfRequest(run, listenerArn))[0];
}

/**
 * Every rule this very request made on the listener: more than one when CreateRules at several priorities, each
 * given up on by the handler, were all acted on by the backend.
 */
export async function findRulesOfRequest(run: AllocatorRequest, listenerArn: string): Promise<ListedRule[]> {
  const rules = await listRules(run, listenerArn);
  const tags = await tagsOfRules(
    run,
    rules.map((r) => r.ruleArn),
  );
  return rules.filter(
    (r) =>
      isOwn(run.request, tags.get(r.ruleArn)) &&
      tags.get(r.ruleArn)?.get(RULE_TAG_REQUEST_ID) === run.request.RequestId,
  );
}

/**
 * The rule at this priority when this very request made it (CreateRule said PriorityInUse because an earlier
 * attempt of the same call, whose answer was lost, created it): 1 DescribeRules page or more, 1 DescribeTags.
 */
export async function ownRuleAt(
  run: AllocatorRequest,
  listenerArn: string,
  priority: number,
): Promise<string | undefined> {
  const rule = (await listRules(run, listenerArn)).find((r) => r.priority === String(priority));
  if (!rule) return undefined;
  const tags = (await tagsOfRules(run, [rule.ruleArn])).get(rule.ruleArn);
  return isOwn(run.request, tags) && tags?.get(RULE_TAG_REQUEST_ID) === run.request.RequestId
    ? rule.ruleArn
    : undefined;
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
  const own = OWN_TAG_KEYS;
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
