/*
 * The picture of the platform: the shared load balancers with a rule per customer, dedicated ones beside them,
 * and each environment's instances and database in the VPC's tiers.
 */
import {
  availability,
  capacity,
  databaseTitle,
  idOf,
  nameOf,
  ONE_LOAD_BALANCER,
  ruleHosts,
  sharedId,
  sharedLoadBalancerLines,
  vpcGroup,
  VpcGroups,
} from './describe';
import { Diagram, DiagramBuilder } from './model';
import { ingressOf, ResolvedCustomerConfig, ResolvedPlatformConfig } from '../../config/defaults';
import { ResolvedFleet } from '../../config/loader';
import { FleetPlacement } from '../../environment/placement';

/** The platform: the shared load balancer with a rule per customer, dedicated ones beside it, the VPC's tiers. */
export function platformDiagram(fleet: ResolvedFleet, placement: FleetPlacement = ONE_LOAD_BALANCER): Diagram {
  const platform = fleet.platform;
  const count =
    fleet.customers.length === 1 ? '1 customer environment' : `${fleet.customers.length} customer environments`;
  const b = new DiagramBuilder(`Platform ${platform.name} (${platform.environment}, ${platform.region}) with ${count}`);
  const internet = b.node('internet', 'internet', ['Internet']);
  const tiers = vpcGroup(b, platform, 'LR');
  const shared = sharedLoadBalancers(b, platform, placement, internet, tiers);
  // Shared customers first, then dedicated ones, in both tiers: the same order on both sides of the edges.
  const ordered = [
    ...fleet.customers.filter((c) => ingressOf(c) === 'shared'),
    ...fleet.customers.filter((c) => ingressOf(c) === 'dedicated'),
  ];
  for (const c of ordered) environment(b, c, placement, internet, shared, tiers);
  return b.build();
}

/** The groups and listeners of the shared load balancers, indexed by number (from 1). */
interface SharedLoadBalancers {
  readonly groups: readonly string[];
  readonly listeners: readonly string[];
}

/** Each shared load balancer: a group in the public subnets holding its HTTPS listener. */
function sharedLoadBalancers(
  b: DiagramBuilder,
  platform: ResolvedPlatformConfig,
  placement: FleetPlacement,
  internet: string,
  tiers: VpcGroups,
): SharedLoadBalancers {
  const several = placement.loadBalancers > 1;
  const groups: string[] = [];
  const listeners: string[] = [];
  for (let number = 1; number <= placement.loadBalancers; number++) {
    const lines = sharedLoadBalancerLines(platform, number, several);
    groups[number] = b.group(sharedId('shared_alb', number), 'load-balancer', lines[0], tiers.publicSubnets);
    listeners[number] = b.node(
      sharedId('shared_listener', number),
      'load-balancer',
      ['HTTPS listener 443', `*.${platform.domain}`, 'default: 503'],
      groups[number],
    );
    b.edge(internet, listeners[number], 'HTTPS');
  }
  return { groups, listeners };
}

/** One environment: its rule on a shared load balancer or its dedicated one, its instances, its database. */
function environment(
  b: DiagramBuilder,
  c: ResolvedCustomerConfig,
  placement: FleetPlacement,
  internet: string,
  shared: SharedLoadBalancers,
  tiers: VpcGroups,
): void {
  const id = idOf(c);
  let front: string;
  if (ingressOf(c) === 'shared') {
    const number = placement.environments[nameOf(c)] ?? 1;
    front = b.node(`rule_${id}`, 'network', [`Rule ${nameOf(c)}`, ruleHosts(c).join(', ')], shared.groups[number]);
    b.edge(shared.listeners[number], front);
  } else {
    front = b.node(
      `alb_${id}`,
      'load-balancer',
      [`Dedicated ALB ${nameOf(c)}`, c.customDomain!.name],
      tiers.publicSubnets,
    );
    b.edge(internet, front, 'HTTPS');
  }
  const asg = b.node(`asg_${id}`, 'compute', [nameOf(c), `Auto Scaling group ${capacity(c)}`], tiers.privateSubnets);
  b.edge(front, asg);
  if (c.database) {
    const db = b.node(
      `db_${id}`,
      'database',
      [nameOf(c), `${databaseTitle(c)}, ${availability(c)}`],
      tiers.isolatedSubnets,
    );
    b.edge(asg, db);
  }
}
