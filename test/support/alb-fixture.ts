/**
 * A shared load balancer in moto for the priority allocator's integration tests and benchmark: a VPC
 * with two subnets, an application load balancer, a target group and the allocator's DynamoDB state
 * table; listeners on demand; and a local stand-in for CloudFormation's pre-signed ResponseURL.
 */
import * as http from 'http';
import { AddressInfo } from 'net';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateSubnetCommand, CreateVpcCommand, EC2Client } from '@aws-sdk/client-ec2';
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  DescribeRulesCommand,
  ElasticLoadBalancingV2Client,
  Rule,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { MotoServer } from './moto';
import { CfnResponse } from '../../src/shared-alb-rule/cfn-response';

/** The state table's name in the fixture (the handler reads it from STATE_TABLE_NAME). */
export const STATE_TABLE = 'allocator-state';

export interface AlbFixture {
  readonly elb: ElasticLoadBalancingV2Client;
  readonly loadBalancerArn: string;
  readonly targetGroupArn: string;
  /** A new HTTP listener (a new port each call) whose default action is the fixed 503. */
  newListener(): Promise<string>;
  /** The listener's rules, all pages, without the default rule. */
  rulesOf(listenerArn: string): Promise<Rule[]>;
}

export async function createAlbFixture(moto: MotoServer): Promise<AlbFixture> {
  const ec2 = new EC2Client(moto.clientConfig);
  const elb = new ElasticLoadBalancingV2Client(moto.clientConfig);
  const dynamodb = new DynamoDBClient(moto.clientConfig);
  const vpc = await ec2.send(new CreateVpcCommand({ CidrBlock: '10.0.0.0/16' }));
  const vpcId = vpc.Vpc!.VpcId!;
  const subnets = await Promise.all(
    ['a', 'b'].map((az, i) =>
      ec2.send(
        new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: `10.0.${i}.0/24`, AvailabilityZone: `us-east-1${az}` }),
      ),
    ),
  );
  const lb = await elb.send(
    new CreateLoadBalancerCommand({
      Name: 'shared',
      Subnets: subnets.map((s) => s.Subnet!.SubnetId!),
      Type: 'application',
    }),
  );
  const tg = await elb.send(
    new CreateTargetGroupCommand({
      Name: 'customer',
      Protocol: 'HTTP',
      Port: 80,
      VpcId: vpcId,
      TargetType: 'instance',
    }),
  );
  await dynamodb.send(
    new CreateTableCommand({
      TableName: STATE_TABLE,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
    }),
  );
  const loadBalancerArn = lb.LoadBalancers![0].LoadBalancerArn!;
  let port = 8000;
  return {
    elb,
    loadBalancerArn,
    targetGroupArn: tg.TargetGroups![0].TargetGroupArn!,
    async newListener() {
      const out = await elb.send(
        new CreateListenerCommand({
          LoadBalancerArn: loadBalancerArn,
          Protocol: 'HTTP',
          Port: port++,
          DefaultActions: [
            {
              Type: 'fixed-response',
              FixedResponseConfig: { StatusCode: '503', ContentType: 'text/plain', MessageBody: 'host not found' },
            },
          ],
        }),
      );
      return out.Listeners![0].ListenerArn!;
    },
    async rulesOf(listenerArn) {
      const rules: Rule[] = [];
      let marker: string | undefined;
      do {
        const page = await elb.send(new DescribeRulesCommand({ ListenerArn: listenerArn, Marker: marker }));
        rules.push(...(page.Rules ?? []).filter((r) => !r.IsDefault));
        marker = page.NextMarker;
      } while (marker);
      return rules;
    },
  };
}

export interface ResponseServer {
  /** Base URL; a request's ResponseURL is `${base}/<unique path>`. */
  readonly base: string;
  /** Every body PUT, by path, in order of arrival. */
  readonly received: Map<string, CfnResponse[]>;
  close(): Promise<void>;
}

/** A local stand-in for CloudFormation's pre-signed ResponseURL. */
export async function startResponseServer(): Promise<ResponseServer> {
  const received = new Map<string, CfnResponse[]>();
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const key = req.url ?? '';
      received.set(key, [...(received.get(key) ?? []), JSON.parse(body) as CfnResponse]);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
