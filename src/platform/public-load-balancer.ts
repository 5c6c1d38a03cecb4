import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { ALB_ACCESS_LOGS_PREFIX } from './log-delivery';

/** Internal: how SharedPlatform and CustomerWebTier want their internet-facing load balancer. */
export interface PublicLoadBalancerOptions {
  readonly vpc: ec2.IVpc;
  /** Whose load balancer it is, for the security group's description. */
  readonly owner: string;
  readonly certificate: acm.ICertificate;
  readonly sslPolicy?: elbv2.SslPolicy;
  readonly deletionProtection?: boolean;
  /** Where access logs go, under ALB_ACCESS_LOGS_PREFIX (the bucket's policy must let ELB deliver there). */
  readonly logsBucket: s3.IBucket;
  /**
   * Shared by targets of other stacks: the group allows out to the whole VPC and the load balancer sees it as
   * immutable, so that no target ever adds a rule to it (a group holds 60 rules by default, fewer than the
   * customers of a shared load balancer). Otherwise targets open the group to themselves, as usual.
   */
  readonly sharedByOtherStacks: boolean;
}

/** Internal: what was built. */
export interface PublicLoadBalancer {
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  readonly securityGroup: ec2.SecurityGroup;
  readonly httpListener: elbv2.ApplicationListener;
  readonly httpsListener: elbv2.ApplicationListener;
}

/**
 * Internal: an internet-facing load balancer in the public subnets. Port 80 redirects permanently to HTTPS;
 * port 443 carries the certificate and a TLS 1.3 policy and answers unknown hosts with 503 "host not found";
 * invalid headers are dropped, access logs are on, deletion protection is on unless turned off.
 */
export function createPublicLoadBalancer(scope: Construct, options: PublicLoadBalancerOptions): PublicLoadBalancer {
  const securityGroup = new ec2.SecurityGroup(scope, 'LoadBalancerSecurityGroup', {
    vpc: options.vpc,
    description: `${options.owner}: HTTP and HTTPS from the internet`,
    allowAllOutbound: false,
  });
  securityGroup.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS from the internet');
  securityGroup.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(80), 'HTTP from the internet, redirected to HTTPS');
  if (options.sharedByOtherStacks) {
    securityGroup.addEgressRule(ec2.Peer.ipv4(options.vpc.vpcCidrBlock), ec2.Port.allTcp(), 'To targets in the VPC');
  }
  const loadBalancer = new elbv2.ApplicationLoadBalancer(scope, 'LoadBalancer', {
    vpc: options.vpc,
    vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
    internetFacing: true,
    securityGroup: options.sharedByOtherStacks
      ? ec2.SecurityGroup.fromSecurityGroupId(scope, 'LoadBalancerSecurityGroupView', securityGroup.securityGroupId, {
          mutable: false,
        })
      : securityGroup,
    dropInvalidHeaderFields: true,
    deletionProtection: options.deletionProtection ?? true,
    http2Enabled: true,
  });
  // Set directly rather than with logAccessLogs(): the bucket may be another stack's, whose policy already lets
  // the region's load balancers deliver under this prefix (SharedPlatform grants it).
  loadBalancer.setAttribute('access_logs.s3.enabled', 'true');
  loadBalancer.setAttribute('access_logs.s3.bucket', options.logsBucket.bucketName);
  loadBalancer.setAttribute('access_logs.s3.prefix', ALB_ACCESS_LOGS_PREFIX);

  const httpListener = loadBalancer.addListener('Http', {
    port: 80,
    protocol: elbv2.ApplicationProtocol.HTTP,
    open: false,
    defaultAction: elbv2.ListenerAction.redirect({ protocol: 'HTTPS', port: '443', permanent: true }),
  });
  const httpsListener = loadBalancer.addListener('Https', {
    port: 443,
    protocol: elbv2.ApplicationProtocol.HTTPS,
    open: false,
    certificates: [elbv2.ListenerCertificate.fromCertificateManager(options.certificate)],
    sslPolicy: options.sslPolicy ?? elbv2.SslPolicy.RECOMMENDED_TLS,
    defaultAction: elbv2.ListenerAction.fixedResponse(503, {
      contentType: 'text/plain',
      messageBody: 'host not found',
    }),
  });
  return { loadBalancer, securityGroup, httpListener, httpsListener };
}
