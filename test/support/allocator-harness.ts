/**
 * The priority allocator's handler driven as CloudFormation drives it, against moto behind the fault proxy: what
 * the fault tests and the allocator benchmark share (requests, a Lambda context with a real deadline, the state
 * of a listener afterwards).
 */
import { randomUUID } from 'crypto';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import {
  DescribeRulesCommand,
  DescribeTagsCommand,
  ElasticLoadBalancingV2Client,
  Rule,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { STATE_TABLE } from './alb-fixture';
import { MotoServer } from './moto';
import { CfnRequest } from '../../src/shared-alb-rule/cfn-response';
import { PriorityAllocatorProperties } from '../../src/shared-alb-rule/types';

export const HARNESS_STACK_ID = 'arn:aws:cloudformation:us-east-1:123456789012:stack/customer/faults';

/** A Lambda context whose remaining time runs out `ms` from now. */
export function lambdaContext(ms: number): { readonly deadline: number; getRemainingTimeInMillis(): number } {
  const deadline = Date.now() + ms;
  return { deadline, getRemainingTimeInMillis: () => deadline - Date.now() };
}

export function ruleProps(
  listenerArn: string,
  targetGroupArn: string,
  hosts: string[],
  extra: Partial<PriorityAllocatorProperties> = {},
): PriorityAllocatorProperties {
  return {
    ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:allocator',
    listenerArn,
    hosts,
    targetGroupArn,
    ...extra,
  };
}

export function cfnRequest(
  responseBase: string,
  RequestType: 'Create' | 'Update' | 'Delete',
  ResourceProperties: PriorityAllocatorProperties,
  more: Partial<CfnRequest<PriorityAllocatorProperties>> = {},
): CfnRequest<PriorityAllocatorProperties> {
  const RequestId = more.RequestId ?? randomUUID();
  return {
    RequestType,
    ResponseURL: `${responseBase}/${RequestId}`,
    StackId: HARNESS_STACK_ID,
    RequestId,
    LogicalResourceId: more.LogicalResourceId ?? `Rule${randomUUID().slice(0, 8)}`,
    ResourceType: 'Custom::SharedAlbRulePriority',
    ResourceProperties,
    ...more,
  };
}

/** Reads the state of a listener straight from moto (not through the fault proxy). */
export class ListenerProbe {
  private readonly elb: ElasticLoadBalancingV2Client;
  private readonly dynamodb: DynamoDBClient;

  constructor(moto: MotoServer) {
    this.elb = new ElasticLoadBalancingV2Client(moto.clientConfig);
    this.dynamodb = new DynamoDBClient(moto.clientConfig);
  }

  /** The listener's rules, default rule excluded. */
  async rules(listenerArn: string): Promise<Rule[]> {
    const rules: Rule[] = [];
    let marker: string | undefined;
    do {
      const page = await this.elb.send(new DescribeRulesCommand({ ListenerArn: listenerArn, Marker: marker }));
      rules.push(...(page.Rules ?? []).filter((r) => !r.IsDefault));
      marker = page.NextMarker;
    } while (marker);
    return rules;
  }

  /** The hosts of each rule, by rule ARN. */
  async hostsByRule(listenerArn: string): Promise<Map<string, string[]>> {
    const rules = await this.rules(listenerArn);
    return new Map(
      rules.map((r) => [
        r.RuleArn!,
        (r.Conditions ?? []).flatMap((c) => (c.Field === 'host-header' ? (c.HostHeaderConfig?.Values ?? []) : [])),
      ]),
    );
  }

  /** How many rules route each host. */
  async rulesPerHost(listenerArns: string[]): Promise<Map<string, number>> {
    const count = new Map<string, number>();
    for (const listenerArn of listenerArns) {
      for (const hosts of (await this.hostsByRule(listenerArn)).values()) {
        for (const h of hosts) count.set(h, (count.get(h) ?? 0) + 1);
      }
    }
    return count;
  }

  /** Tags of one rule. */
  async tags(ruleArn: string): Promise<Record<string, string>> {
    const out = await this.elb.send(new DescribeTagsCommand({ ResourceArns: [ruleArn] }));
    return Object.fromEntries((out.TagDescriptions?.[0]?.Tags ?? []).map((t) => [t.Key!, t.Value!]));
  }

  /** The allocator's rule counter of the listener (undefined before the first allocation). */
  async counter(listenerArn: string): Promise<number | undefined> {
    const item = await this.counterItem(listenerArn);
    return item?.count?.N === undefined ? undefined : Number(item.count.N);
  }

  /** The leases of the listener's counter (request id to its expiry, its rule's ARN or the sweep's mark). */
  async leases(listenerArn: string): Promise<Record<string, unknown>> {
    return ((await this.counterItem(listenerArn))?.leases?.M ?? {}) as Record<string, unknown>;
  }

  private async counterItem(listenerArn: string) {
    const { Item } = await this.dynamodb.send(
      new GetItemCommand({
        TableName: STATE_TABLE,
        Key: { pk: { S: `listener|${listenerArn}` }, sk: { S: 'rules' } },
        ConsistentRead: true,
      }),
    );
    return Item;
  }
}
