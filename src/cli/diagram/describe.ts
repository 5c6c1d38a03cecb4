/*
 * What the config says, in words, and what both pictures draw alike: the VPC with its tiers, the names and
 * ids of the shared load balancers.
 */
import { DiagramBuilder } from './model';
import { ResolvedCustomerConfig, ResolvedPlatformConfig } from '../../config/defaults';
import { RepositoryConfig } from '../../config/types';
import { FleetPlacement } from '../../environment/placement';

const ENGINE_NAMES: Record<string, string> = {
  postgres: 'RDS PostgreSQL',
  mysql: 'RDS MySQL',
  mariadb: 'RDS MariaDB',
  'aurora-postgresql': 'Aurora PostgreSQL',
  'aurora-mysql': 'Aurora MySQL',
};

/** Where a pipeline's repository is, as PipelineSource describes it. */
export function repositoryText(repository: RepositoryConfig): string {
  if (repository.connectionArn !== undefined) {
    return `${repository.owner}/${repository.name}@${repository.branch} (CodeConnections)`;
  }
  if (repository.codeCommitRepository !== undefined) {
    return `${repository.codeCommitRepository}@${repository.branch} (CodeCommit)`;
  }
  return `s3://${repository.s3Bucket}/${repository.s3ObjectKey} (S3)`;
}

export function nameOf(c: ResolvedCustomerConfig): string {
  return `${c.customer}-${c.environment}`;
}

/** Id-safe: customer names have no `_` and environments neither `_` nor `-`, so ids stay distinct. */
export function idOf(c: ResolvedCustomerConfig): string {
  return `${c.customer.replace(/-/g, '_')}_${c.environment}`;
}

/** The host names of the shared load balancer's rule, as CustomerWebTier.fromConfig sets them. */
export function ruleHosts(c: ResolvedCustomerConfig): string[] {
  return [c.hostname!, ...(c.customDomain ? [c.customDomain.name] : [])];
}

export function capacity(c: ResolvedCustomerConfig): string {
  return `${c.compute.instanceType} × ${c.compute.minCapacity}–${c.compute.maxCapacity}`;
}

export function databaseTitle(c: ResolvedCustomerConfig): string {
  const db = c.database!;
  return `${ENGINE_NAMES[db.engine]} ${db.version}${db.engine.startsWith('aurora') ? ' cluster' : ''}`;
}

export function databasePort(c: ResolvedCustomerConfig): number {
  return c.database!.port;
}

export function availability(c: ResolvedCustomerConfig): string {
  return c.database!.multiAz ? 'multi-AZ' : 'single-AZ';
}

/** The groups of the VPC and its tiers. */
export interface VpcGroups {
  readonly vpc: string;
  readonly publicSubnets: string;
  readonly privateSubnets: string;
  readonly isolatedSubnets: string;
}

/** The VPC and its tiers; `direction` is how the SVG stacks the tiers. */
export function vpcGroup(b: DiagramBuilder, platform: ResolvedPlatformConfig, direction: 'LR' | 'TB'): VpcGroups {
  const v = platform.vpc;
  const vpc = b.group(
    'vpc',
    'vpc',
    `VPC of platform ${platform.name} · ${v.cidr} · ${v.maxAzs} AZs`,
    undefined,
    direction,
  );
  return {
    vpc,
    publicSubnets: b.group('public', 'subnets', 'Public subnets', vpc),
    privateSubnets: b.group(
      'private',
      'subnets',
      `Private subnets (egress through NAT ${v.natInstances ? 'instances' : 'gateways'})`,
      vpc,
    ),
    isolatedSubnets: b.group('isolated', 'subnets', 'Isolated subnets', vpc),
  };
}

/** "Shared ALB" while the platform has one; "Shared ALB 2" and so on once it has several. */
export function sharedLoadBalancerLines(platform: ResolvedPlatformConfig, number: number, several: boolean): string[] {
  return [`Shared ALB${several ? ` ${number}` : ''} of platform ${platform.name}`, `HTTPS 443, *.${platform.domain}`];
}

/** Diagram ids of the n-th shared load balancer: the first keeps the ids it had when there was only one. */
export function sharedId(base: string, number: number): string {
  return number === 1 ? base : `${base}_${number}`;
}

/** A fleet on one shared load balancer. */
export const ONE_LOAD_BALANCER: FleetPlacement = { loadBalancers: 1, environments: {} };
