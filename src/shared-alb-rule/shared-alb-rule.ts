import { CustomResource, Duration, RemovalPolicy, Token } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { Construct } from 'constructs';
import { IPriorityAllocator } from './priority-allocator';
import {
  DEFAULT_RULE_LIMIT,
  MAX_ALB_PRIORITY,
  MIN_ALB_PRIORITY,
  PRIORITY_ALLOCATOR_RESOURCE_TYPE,
  PriorityAllocatorProperties,
} from './types';
import { leaveOutCreationStackTraces } from '../config/creation-traces';

/** Props of SharedAlbRule. */
export interface SharedAlbRuleProps {
  /** The shared HTTPS listener the rule goes on (e.g. `SharedPlatform.httpsListener`). */
  readonly listener: elbv2.IApplicationListener;
  /** The allocator that serves this listener (e.g. `SharedPlatform.allocator`). */
  readonly allocator: IPriorityAllocator;
  /** Host names the rule matches, such as `acme.apps.example.com` (`*` and `?` wildcards allowed). */
  readonly hostHeaders: string[];
  /**
   * Path patterns the request must also match (any of them).
   * @default - every path
   */
  readonly pathPatterns?: string[];
  /** Where matching requests go. */
  readonly targetGroup: elbv2.IApplicationTargetGroup;
  /**
   * Certificates for host names that the listener's default certificate does not cover (a customer's
   * own domain). They are added to the listener (SNI).
   * @default - none
   */
  readonly certificates?: acm.ICertificate[];
  /**
   * The most rules the listener may hold, counting rules made by hand or by other tools (not the default
   * rule). An allocation on a full listener fails the deployment at once. Raise it with the AWS quota
   * "Rules per Application Load Balancer".
   * @default 100
   */
  readonly ruleLimit?: number;
  /**
   * The lowest priority the allocator may give.
   * @default 1
   */
  readonly minPriority?: number;
  /**
   * The highest priority the allocator may give.
   * @default 50000
   */
  readonly maxPriority?: number;
  /**
   * Tags of the listener rule (the allocator adds `vending:stack-id`, `vending:logical-id` and
   * `vending:managed-by`).
   * @default - none
   */
  readonly tags?: { [key: string]: string };
}

/**
 * A host name as an ALB host-header condition accepts it: letters, digits, `-`, `.`, `*` and `?`, at least one
 * `.`, and only letters after the last `.`.
 */
const HOST_HEADER =
  /^(?=.{1,128}$)[A-Za-z0-9*?]([A-Za-z0-9*?-]*[A-Za-z0-9*?])?(\.[A-Za-z0-9*?]([A-Za-z0-9*?-]*[A-Za-z0-9*?])?)*\.[A-Za-z]+$/;
/** A path pattern as an ALB path-pattern condition accepts it: A-Z a-z 0-9 _ - . $ / ~ " ' @ : + & * ? */
const PATH_PATTERN = /^\/[A-Za-z0-9_\-.$/~"'@:+&*?]{0,127}$/;
/** An ALB rule holds at most five condition values in all. */
const MAX_CONDITION_VALUES = 5;
/** The allocator answers within its Lambda timeout (2 minutes); this bounds a lost answer. */
const SERVICE_TIMEOUT = Duration.minutes(5);

/**
 * A listener rule on a shared HTTPS listener, routing host names (and optional paths) to a target group,
 * with a priority allocated at deploy time by the platform's PriorityAllocator.
 *
 * The priority is free of races with other stacks and with rules made by hand, stays the same when the
 * hosts, paths or target group change, and is freed when the rule is deleted. The stack holding this
 * construct holds no Lambda function.
 *
 * @example
 * declare const platform: SharedPlatform;
 * declare const targetGroup: elbv2.ApplicationTargetGroup;
 * const rule = new SharedAlbRule(this, 'Rule', {
 *   listener: platform.httpsListener,
 *   allocator: platform.allocator,
 *   hostHeaders: ['acme.apps.example.com'],
 *   targetGroup,
 * });
 */
export class SharedAlbRule extends Construct {
  /** The allocated priority (known at deploy time). */
  public readonly priority: number;
  /** ARN of the listener rule. */
  public readonly ruleArn: string;
  /** The custom resource that owns the rule. */
  public readonly resource: CustomResource;

  public constructor(scope: Construct, id: string, props: SharedAlbRuleProps) {
    super(scope, id);
    leaveOutCreationStackTraces(this);
    const where = `SharedAlbRule ${this.node.path}`;
    const ruleLimit = integerProp(where, 'ruleLimit', props.ruleLimit, DEFAULT_RULE_LIMIT, 1, MAX_ALB_PRIORITY);
    const minPriority = integerProp(
      where,
      'minPriority',
      props.minPriority,
      MIN_ALB_PRIORITY,
      MIN_ALB_PRIORITY,
      MAX_ALB_PRIORITY,
    );
    const maxPriority = integerProp(
      where,
      'maxPriority',
      props.maxPriority,
      MAX_ALB_PRIORITY,
      MIN_ALB_PRIORITY,
      MAX_ALB_PRIORITY,
    );
    if (minPriority > maxPriority) {
      throw new Error(
        `${where}: minPriority ${minPriority} is above maxPriority ${maxPriority}; expected minPriority <= maxPriority`,
      );
    }
    const hosts = listProp(
      where,
      'hostHeaders',
      props.hostHeaders,
      HOST_HEADER,
      'a host name such as acme.apps.example.com (letters, digits, -, ., * and ?, only letters after the last dot; at most 128 characters)',
    );
    if (hosts.length === 0) {
      throw new Error(
        `${where}: hostHeaders: received an empty list; expected 1 to ${MAX_CONDITION_VALUES} host names`,
      );
    }
    const paths = listProp(
      where,
      'pathPatterns',
      props.pathPatterns ?? [],
      PATH_PATTERN,
      'a path pattern starting with / such as /shop/* (at most 128 characters)',
    );
    if (hosts.length + paths.length > MAX_CONDITION_VALUES) {
      throw new Error(
        `${where}: hostHeaders and pathPatterns: received ${hosts.length} host names and ${paths.length} path ` +
          `patterns (${hosts.length + paths.length} condition values); expected at most ${MAX_CONDITION_VALUES} in all, ` +
          'as an ALB rule accepts',
      );
    }

    const properties: Omit<PriorityAllocatorProperties, 'ServiceToken'> = {
      listenerArn: props.listener.listenerArn,
      hosts,
      ...(paths.length > 0 ? { pathPatterns: paths } : {}),
      targetGroupArn: props.targetGroup.targetGroupArn,
      ruleLimit,
      minPriority,
      maxPriority,
      ...(props.tags && Object.keys(props.tags).length > 0
        ? { tags: Object.entries(props.tags).map(([Key, Value]) => ({ Key, Value })) }
        : {}),
    };
    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: props.allocator.serviceToken,
      resourceType: PRIORITY_ALLOCATOR_RESOURCE_TYPE,
      serviceTimeout: SERVICE_TIMEOUT,
      properties,
    });
    this.priority = Token.asNumber(this.resource.getAtt('Priority'));
    this.ruleArn = this.resource.getAttString('RuleArn');

    if (props.certificates && props.certificates.length > 0) {
      const added = new elbv2.ApplicationListenerCertificate(this, 'Certificates', {
        listener: props.listener,
        certificates: props.certificates.map((c) => elbv2.ListenerCertificate.fromCertificateManager(c)),
      });
      // ELB does not count references: deleting this resource would remove the certificate from the shared listener
      // for every other rule that serves a host name of it. It is retained; the listener's owner removes it.
      for (const child of added.node.findAll()) {
        if (child instanceof elbv2.CfnListenerCertificate) child.applyRemovalPolicy(RemovalPolicy.RETAIN);
      }
    }

    // As with a listener rule of aws-cdk-lib: the target group knows its load balancer (metrics, request-count
    // scaling, whose policies wait for the rule) and the load balancer's security group may reach the targets.
    if (props.targetGroup instanceof elbv2.ApplicationTargetGroup) {
      props.targetGroup.registerListener(props.listener, this.resource);
    }
  }
}

function integerProp(
  where: string,
  name: string,
  value: number | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined) return fallback;
  if (Token.isUnresolved(value) || !Number.isInteger(value) || value < min || value > max) {
    throw new Error(
      `${where}: ${name}: received ${Token.isUnresolved(value) ? 'a token' : String(value)}; ` +
        `expected a whole number from ${min} to ${max} known at synth time`,
    );
  }
  return value;
}

function listProp(where: string, name: string, values: string[], pattern: RegExp, expected: string): string[] {
  values.forEach((value, i) => {
    if (Token.isUnresolved(value)) return;
    if (typeof value !== 'string' || !pattern.test(value)) {
      throw new Error(`${where}: ${name}[${i}]: received ${JSON.stringify(value)}; expected ${expected}`);
    }
  });
  const seen = new Set<string>();
  for (const value of values) {
    if (!Token.isUnresolved(value) && seen.has(value.toLowerCase())) {
      throw new Error(`${where}: ${name}: ${JSON.stringify(value)} is listed twice; expected distinct values`);
    }
    seen.add(value.toLowerCase());
  }
  return values;
}
