/**
 * A SharedPlatform in its own stack, with the cdk-nag findings that the platform is expected to carry
 * acknowledged one by one (each with the reason a user of the library would give). Tests of the constructs
 * that sit on the platform (SharedAlbRule, CustomerWebTier, ...) start here.
 */
import { App, CfnElement, Stack, StackProps } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { IConstruct } from 'constructs';
import { acknowledge } from './compliance';
import { CustomerWebTier, SharedPlatform, SharedPlatformProps } from '../../src';

export const ENV = { account: '123456789012', region: 'eu-west-1' };
export const PLATFORM_CERTIFICATE_ARN =
  'arn:aws:acm:eu-west-1:123456789012:certificate/11111111-2222-3333-4444-555555555555';

export interface PlatformFixture {
  readonly stack: Stack;
  readonly platform: SharedPlatform;
}

/** A stack with a SharedPlatform named `acme` (override any prop), its known findings acknowledged. */
export function platformStack(
  app: App,
  props: Partial<SharedPlatformProps> = {},
  id = 'Platform',
  stackProps: StackProps = { env: ENV },
): PlatformFixture {
  const stack = new Stack(app, id, stackProps);
  const platform = new SharedPlatform(stack, 'Platform', {
    platformName: 'acme',
    certificate: acm.Certificate.fromCertificateArn(stack, 'Wildcard', PLATFORM_CERTIFICATE_ARN),
    ...props,
  });
  acknowledgePlatform(platform);
  return { stack, platform };
}

/** The cdk-nag findings a SharedPlatform carries by design, each acknowledged with its reason. */
export function acknowledgePlatform(platform: SharedPlatform): void {
  acknowledge(
    platform.loadBalancerSecurityGroup,
    'AwsSolutions-EC23',
    'The shared load balancer is the public entry of every customer website: HTTPS and the HTTP redirect are open to the internet by design.',
  );
  const policies = platform.allocator.node;
  acknowledge(
    policies.findChild('ListenerPolicy'),
    'AwsSolutions-IAM5[Resource::*]',
    'elasticloadbalancing:DescribeRules has no resource-level permissions in IAM; the allocator only reads rules with it.',
  );
  for (const kind of ['listener', 'listener-rule']) {
    acknowledge(
      policies.findChild('ListenerPolicy'),
      `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:elasticloadbalancing:${ENV.region}:${ENV.account}:${kind}/<${loadBalancerLogicalId(platform)}.LoadBalancerFullName>/*]`,
      `Listener rules are created at deploy time, so their ARNs are unknown; the ${kind} ARNs are scoped to the shared load balancer.`,
    );
  }
  acknowledge(
    policies.findChild('NetworkPolicy'),
    'AwsSolutions-IAM5[Resource::*]',
    'The network interface actions a Lambda function in a VPC needs; IAM cannot scope them to interfaces that do not exist yet.',
  );
  for (const nat of natInstances(platform)) {
    acknowledge(
      nat,
      'AwsSolutions-EC29',
      'A NAT instance is replaced by the stack when its image changes; termination protection would block that update.',
    );
  }
}

/** The NAT instances of the platform's VPC (none with NAT gateways or a VPC given in props). */
export function natInstances(platform: SharedPlatform): IConstruct[] {
  return platform.node.findAll().filter((c) => c instanceof ec2.CfnInstance);
}

/** Logical id of the platform's load balancer, as cdk-nag prints it in finding ids. */
function loadBalancerLogicalId(platform: SharedPlatform): string {
  const loadBalancer = platform.loadBalancer.node.defaultChild as CfnElement;
  return Stack.of(platform).resolve(loadBalancer.logicalId);
}

/** The cdk-nag findings a CustomerWebTier carries by design, each acknowledged with its reason. */
export function acknowledgeWebTier(web: CustomerWebTier): void {
  const bucket = Stack.of(web).resolve((web.dataBucket.node.defaultChild as CfnElement).logicalId);
  acknowledge(
    web.instanceRole.node.findChild('DefaultPolicy'),
    `AwsSolutions-IAM5[Resource::<${bucket}.Arn>/*]`,
    'The instances read any object of their own data bucket, and only of that bucket.',
  );
  acknowledge(
    web.instanceRole,
    'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore]',
    'The SSM agent actions for Session Manager and Run Command, as AWS maintains them for the agent.',
  );
  const loadBalancerGroup = web.node.tryFindChild('LoadBalancerSecurityGroup');
  if (loadBalancerGroup) {
    acknowledge(
      loadBalancerGroup,
      'AwsSolutions-EC23',
      'The public entry of the customer website: HTTPS and the HTTP redirect are open to the internet by design.',
    );
  }
}

/** The cdk-nag findings a web tier's database carries by design. */
export function acknowledgeDatabase(web: CustomerWebTier): void {
  const database = web.databaseInstance ?? web.databaseCluster;
  if (!database) return;
  acknowledge(
    database.node.findChild('MonitoringRole'),
    'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole]',
    'The role RDS enhanced monitoring assumes, with the policy AWS maintains for it.',
  );
  acknowledge(
    database,
    'AwsSolutions-RDS11',
    "The engine's default port, reachable from the web instances' security group only.",
  );
  if (!web.production) {
    if (web.databaseInstance) {
      acknowledge(database, 'AwsSolutions-RDS3', 'A non-production database runs in one Availability Zone by design.');
    }
    acknowledge(database, 'AwsSolutions-RDS10', 'A non-production database can be deleted with its stack by design.');
  }
}
