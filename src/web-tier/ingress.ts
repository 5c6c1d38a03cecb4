import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { valueProblem } from '../config/values';
import { createPublicLoadBalancer } from '../platform/public-load-balancer';
import { IPriorityAllocator } from '../shared-alb-rule/priority-allocator';
import { SharedAlbRule } from '../shared-alb-rule/shared-alb-rule';

/** A rule on the platform's shared HTTPS listener. */
export interface SharedIngressOptions {
  /** The shared HTTPS listener (`SharedPlatform.httpsListener`). */
  readonly listener: elbv2.IApplicationListener;
  /** The priority allocator serving that listener (`SharedPlatform.allocator`). */
  readonly allocator: IPriorityAllocator;
  /**
   * The shared load balancer, exposed as `CustomerWebTier.loadBalancer` (`SharedPlatform.loadBalancer`).
   * @default - `CustomerWebTier.loadBalancer` is undefined
   */
  readonly loadBalancer?: elbv2.IApplicationLoadBalancer;
  /** Host names routed to the environment (1 to 5). */
  readonly hostnames: string[];
  /**
   * Certificates for host names that the listener's default certificate does not cover (SNI).
   * @default - none
   */
  readonly certificates?: acm.ICertificate[];
  /**
   * The most rules the shared listener may hold.
   * @default 100
   */
  readonly ruleLimit?: number;
}

/** A load balancer of the environment's own, for a custom domain. */
export interface DedicatedIngressOptions {
  /** The custom domain, such as `www.acme.com`. */
  readonly domainName: string;
  /** Its ACM certificate, in the stack's region. */
  readonly certificate: acm.ICertificate;
  /**
   * TLS policy of the HTTPS listener.
   * @default elbv2.SslPolicy.RECOMMENDED_TLS
   */
  readonly sslPolicy?: elbv2.SslPolicy;
  /**
   * Deletion protection of the load balancer.
   * @default true
   */
  readonly deletionProtection?: boolean;
}

/** Internal: what an ingress is given by the web tier that binds it. */
export interface IngressContext {
  /** Where errors say the web tier is. */
  readonly where: string;
  /** `<customer>-<environment>`, for descriptions. */
  readonly label: string;
  readonly customer: string;
  readonly environment: string;
  readonly vpc: ec2.IVpc;
  readonly logsBucket: s3.IBucket;
  /** The web tier's target group, which the ingress routes to. */
  readonly targetGroup: elbv2.ApplicationTargetGroup;
}

/** Internal: what a bound ingress gives the web tier. */
export interface BoundIngress {
  /** The environment's URL. */
  readonly url: string;
  /**
   * The load balancer in front of the environment, when known.
   * @default - not known (a shared rule whose load balancer was not given)
   */
  readonly loadBalancer?: elbv2.IApplicationLoadBalancer;
  /**
   * The rule on the shared listener, for shared ingress.
   * @default - none (a dedicated load balancer)
   */
  readonly sharedRule?: SharedAlbRule;
}

/** How visitors reach a CustomerWebTier: a rule on the shared load balancer, or a load balancer of its own. */
export abstract class WebTierIngress {
  /** A rule on the platform's shared HTTPS listener, with a priority allocated at deploy time. */
  public static sharedRule(options: SharedIngressOptions): WebTierIngress {
    return new SharedRuleIngress(options);
  }

  /** An internet-facing load balancer of the environment's own, serving its custom domain. */
  public static dedicatedLoadBalancer(options: DedicatedIngressOptions): WebTierIngress {
    return new DedicatedLoadBalancerIngress(options);
  }

  /**
   * The construct id of the web tier's target group behind this kind of ingress. A target group belongs to one
   * load balancer: a switch between shared and dedicated ingress must create a new one (a new logical id) rather
   * than move the old one, which CloudFormation cannot do in one update.
   * @internal
   */
  public abstract readonly _targetGroupId: string;

  /**
   * Checks the options, then builds the ingress in the web tier (its constructs get their ids in `webTier`).
   * @internal
   */
  public abstract _bind(webTier: Construct, context: IngressContext): BoundIngress;
}

class SharedRuleIngress extends WebTierIngress {
  /** @internal */
  public readonly _targetGroupId = 'TargetGroup';

  constructor(private readonly options: SharedIngressOptions) {
    super();
  }

  public _bind(webTier: Construct, context: IngressContext): BoundIngress {
    const { hostnames } = this.options;
    if (hostnames.length === 0) {
      throw new Error(`${context.where}: ingress.hostnames: received an empty list; expected 1 to 5 host names`);
    }
    const sharedRule = new SharedAlbRule(webTier, 'SharedRule', {
      listener: this.options.listener,
      allocator: this.options.allocator,
      hostHeaders: hostnames,
      targetGroup: context.targetGroup,
      certificates: this.options.certificates,
      ruleLimit: this.options.ruleLimit,
      tags: { 'vending:customer': context.customer, 'vending:environment': context.environment },
    });
    return { url: `https://${hostnames[0]}`, loadBalancer: this.options.loadBalancer, sharedRule };
  }
}

class DedicatedLoadBalancerIngress extends WebTierIngress {
  /** @internal */
  public readonly _targetGroupId = 'DedicatedTargetGroup';

  constructor(private readonly options: DedicatedIngressOptions) {
    super();
  }

  public _bind(webTier: Construct, context: IngressContext): BoundIngress {
    const { domainName } = this.options;
    const problem = valueProblem('hostname', domainName);
    if (problem) throw new Error(`${context.where}: ingress.domainName: ${problem}`);
    const front = createPublicLoadBalancer(webTier, {
      vpc: context.vpc,
      owner: `Load balancer of ${context.label}`,
      certificate: this.options.certificate,
      sslPolicy: this.options.sslPolicy,
      deletionProtection: this.options.deletionProtection,
      logsBucket: context.logsBucket,
      sharedByOtherStacks: false,
    });
    front.httpsListener.addTargetGroups('Site', {
      priority: 1,
      conditions: [elbv2.ListenerCondition.hostHeaders([domainName])],
      targetGroups: [context.targetGroup],
    });
    return { url: `https://${domainName}`, loadBalancer: front.loadBalancer };
  }
}
