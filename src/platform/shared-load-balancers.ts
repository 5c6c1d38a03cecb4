import { createHash } from 'crypto';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { ALB_ACCESS_LOGS_PREFIX } from './log-delivery';
import { publishOlderLoadBalancerParameters } from './older-parameters';
import type { SharedListenerCertificates, SharedLoadBalancer } from './platform-reference';
import { createPublicLoadBalancer } from './public-load-balancer';

/** Internal: what the platform's shared load balancers are made of. */
export interface SharedLoadBalancersOptions {
  readonly platformName: string;
  /** How many, from 1. */
  readonly count: number;
  readonly vpc: ec2.IVpc;
  readonly certificate: acm.ICertificate;
  readonly sslPolicy?: elbv2.SslPolicy;
  readonly deletionProtection?: boolean;
  /** The logs bucket itself: its policy lets the load balancers deliver their access logs. */
  readonly logsBucket: s3.Bucket;
  /** The logs bucket by its name, as the load balancers' access log attributes name it. */
  readonly logsBucketByName: s3.IBucket;
  /** Publish the older listener and security group parameters of each. */
  readonly publishParameters: boolean;
  /** Certificates of customers' custom domains, added to the HTTPS listener of their load balancer. */
  readonly listenerCertificates?: SharedListenerCertificates[];
}

/** Internal: the shared load balancers, the first one first, and the first one's HTTP listener. */
export interface SharedLoadBalancers {
  readonly sharedLoadBalancers: SharedLoadBalancer[];
  readonly firstHttpListener: elbv2.IApplicationListener;
}

/**
 * Internal: the platform's shared internet-facing load balancers. The first is built in `scope` itself, with the
 * ids it had before there could be several; each other one in `scope`'s `SharedLoadBalancer<n>`. The first lets
 * every load balancer deliver access logs to the logs bucket; the others are created after that policy.
 */
export function createSharedLoadBalancers(scope: Construct, options: SharedLoadBalancersOptions): SharedLoadBalancers {
  const sharedLoadBalancers: SharedLoadBalancer[] = [];
  let firstHttpListener: elbv2.IApplicationListener | undefined;
  for (let number = 1; number <= options.count; number++) {
    // The first keeps the ids it had before there could be several, so that no existing load balancer is replaced.
    const parent = number === 1 ? scope : new Construct(scope, `SharedLoadBalancer${number}`);
    const which = number === 1 ? '' : ` ${number}`;
    const front = createPublicLoadBalancer(parent, {
      vpc: options.vpc,
      owner: `Shared load balancer${which} of platform ${options.platformName}`,
      certificate: options.certificate,
      sslPolicy: options.sslPolicy,
      deletionProtection: options.deletionProtection,
      logsBucket: options.logsBucketByName,
      sharedByOtherStacks: true,
    });
    if (number === 1) {
      // Lets every shared load balancer, and customers' dedicated ones, deliver access logs (same prefix).
      front.loadBalancer.logAccessLogs(options.logsBucket, ALB_ACCESS_LOGS_PREFIX);
    } else {
      // A load balancer checks at creation that it may write its access logs: after the policy that allows it.
      front.loadBalancer.node.addDependency(options.logsBucket.policy!);
    }
    sharedLoadBalancers.push({ number, ...front });
    firstHttpListener ??= front.httpListener;
    if (options.publishParameters) publishOlderLoadBalancerParameters(parent, options.platformName, number, front);
    const arns = new Set(
      (options.listenerCertificates ?? []).filter((c) => c.loadBalancer === number).flatMap((c) => c.certificateArns),
    );
    addListenerCertificates(parent, number, front.httpsListener, [...arns].sort());
  }
  return { sharedLoadBalancers, firstHttpListener: firstHttpListener! };
}

/**
 * One ListenerCertificate per certificate, owned here once for every environment that uses it: ELB does not count
 * references, so a certificate added by each customer stack would be removed for all by the deletion of one. The
 * id is a hash of the ARN, so that a certificate keeps its resource whatever others come and go.
 */
function addListenerCertificates(
  parent: Construct,
  loadBalancer: number,
  listener: elbv2.IApplicationListener,
  certificateArns: string[],
): void {
  if (certificateArns.length === 0) return;
  const within = new Construct(parent, loadBalancer === 1 ? 'ListenerCertificates' : 'Certificates');
  for (const arn of certificateArns) {
    const hash = createHash('sha256').update(arn).digest('hex').slice(0, 12).toUpperCase();
    new elbv2.CfnListenerCertificate(within, hash, {
      listenerArn: listener.listenerArn,
      certificates: [{ certificateArn: arn }],
    });
  }
}
