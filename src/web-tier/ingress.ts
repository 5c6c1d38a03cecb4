import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { IPriorityAllocator } from '../shared-alb-rule/priority-allocator';

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

/** How visitors reach a CustomerWebTier: a rule on the shared load balancer, or a load balancer of its own. */
export class WebTierIngress {
  /** A rule on the platform's shared HTTPS listener, with a priority allocated at deploy time. */
  public static sharedRule(options: SharedIngressOptions): WebTierIngress {
    return new WebTierIngress('shared', options, undefined);
  }

  /** An internet-facing load balancer of the environment's own, serving its custom domain. */
  public static dedicatedLoadBalancer(options: DedicatedIngressOptions): WebTierIngress {
    return new WebTierIngress('dedicated', undefined, options);
  }

  /** `shared` or `dedicated`. */
  public readonly kind: string;
  /** The options of a shared rule. */
  public readonly shared?: SharedIngressOptions;
  /** The options of a dedicated load balancer. */
  public readonly dedicated?: DedicatedIngressOptions;

  private constructor(
    kind: 'shared' | 'dedicated',
    shared: SharedIngressOptions | undefined,
    dedicated: DedicatedIngressOptions | undefined,
  ) {
    this.kind = kind;
    this.shared = shared;
    this.dedicated = dedicated;
  }
}
