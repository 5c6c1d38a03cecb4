/*
 * The AWS quotas a fleet is bound by, its use of each, and the check before deploy.
 *
 * Two counts, one table:
 * - fleetQuotaUse counts what the built stacks hold (every CfnResource by type, so roles made inside aws-cdk-lib's
 *   constructs count too): VendingFleet checks it when the app is synthesized, for the whole fleet only, since a
 *   selection of stacks (--stack, vending:stacks) is not the fleet.
 * - configQuotaUse counts, from the config files alone, what follows from them by rule (stacks, pipelines, databases,
 *   load balancers, certificates, custom deployment configurations): `paas-vending validate` checks it without building anything. A test holds it
 *   equal to the built count on the example fleet.
 * The limits of one template (resources, outputs, parameters, bytes) are not account quotas and cannot be raised;
 * the command checks them on the synthesized templates (templateLimitProblems).
 *
 * Internal: not exported from src/index.ts.
 */
import { CfnResource, Stack } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { FleetPlacement, plannedPlacement, platformSourceOf } from './placement';
import { customDeploymentConfigsOf, ingressOf, ResolvedCustomerConfig } from '../config/defaults';
import { ConfigProblem } from '../config/errors';
import { ResolvedFleet } from '../config/loader';
import { AccountQuotas } from '../config/quota-types';
import type { CustomerConfig } from '../config/types';
import { SoftwareDeliveryPipeline } from '../delivery-pipeline/software-delivery-pipeline';

/** One quota: the key of `quotas:` in platform.yaml, what AWS calls it, its default and what is counted. */
export interface QuotaSpec {
  readonly key: keyof AccountQuotas;
  /** What is counted, in messages: `the fleet needs 41 DB instances`. */
  readonly label: string;
  /** The quota's name in Service Quotas, with its service. */
  readonly name: string;
  readonly service: string;
  readonly defaultLimit: number;
  /** Where it applies: the account, the region, or each load balancer. */
  readonly scope: 'account' | 'region' | 'load balancer';
  /** CloudFormation resource types counted (for the totals of the account or region). */
  readonly types: string[];
  /** For a quota AWS does not raise: what to do instead, in messages (else: request an increase). */
  readonly notAdjustable?: string;
}

/** Every quota checked, in the order reports list them. Defaults from the services' quota pages (2026). */
export const QUOTAS: readonly QuotaSpec[] = [
  {
    key: 'iamRoles',
    label: 'IAM roles',
    name: 'Roles per account',
    service: 'IAM',
    defaultLimit: 1000,
    scope: 'account',
    types: ['AWS::IAM::Role'],
  },
  {
    key: 'pipelines',
    label: 'pipelines',
    name: 'Number of pipelines per Region',
    service: 'CodePipeline',
    defaultLimit: 1000,
    scope: 'region',
    types: ['AWS::CodePipeline::Pipeline'],
  },
  {
    key: 'dbInstances',
    label: 'DB instances',
    name: 'DB instances',
    service: 'Amazon RDS',
    defaultLimit: 40,
    scope: 'region',
    types: ['AWS::RDS::DBInstance'],
  },
  {
    key: 'dbClusters',
    label: 'DB clusters',
    name: 'DB clusters',
    service: 'Amazon RDS',
    defaultLimit: 40,
    scope: 'region',
    types: ['AWS::RDS::DBCluster'],
  },
  {
    key: 'loadBalancers',
    label: 'load balancers',
    name: 'Application Load Balancers per Region',
    service: 'Elastic Load Balancing',
    defaultLimit: 50,
    scope: 'region',
    types: ['AWS::ElasticLoadBalancingV2::LoadBalancer'],
  },
  {
    key: 'targetGroups',
    label: 'target groups',
    name: 'Target Groups per Region',
    service: 'Elastic Load Balancing',
    defaultLimit: 3000,
    scope: 'region',
    types: ['AWS::ElasticLoadBalancingV2::TargetGroup'],
  },
  {
    key: 'rulesPerLoadBalancer',
    label: 'listener rules',
    name: 'Rules per Application Load Balancer',
    service: 'Elastic Load Balancing',
    defaultLimit: 100,
    scope: 'load balancer',
    types: [],
  },
  {
    key: 'certificatesPerLoadBalancer',
    label: 'certificates',
    name: 'Certificates per Application Load Balancer',
    service: 'Elastic Load Balancing',
    defaultLimit: 25,
    scope: 'load balancer',
    types: [],
  },
  {
    key: 'securityGroups',
    label: 'security groups',
    name: 'VPC security groups per Region',
    service: 'Amazon VPC',
    defaultLimit: 2500,
    scope: 'region',
    types: ['AWS::EC2::SecurityGroup'],
  },
  {
    key: 'stacks',
    label: 'stacks',
    name: 'Stack count',
    service: 'CloudFormation',
    defaultLimit: 2000,
    scope: 'region',
    types: [],
  },
  {
    key: 'customDeploymentConfigs',
    label: 'custom CodeDeploy deployment configurations',
    name: 'Custom deployment configurations per account',
    service: 'CodeDeploy',
    defaultLimit: 50,
    scope: 'region',
    // And one per environment with an additional batch, which its state machine creates for each run.
    types: ['AWS::CodeDeploy::DeploymentConfig'],
    notAdjustable:
      'CodeDeploy does not raise this quota: give more environments a preset deployment (software.deployment ' +
      'policy rolling alone or with batchSizePercent 50, or all-at-once) instead of a minimum of their own or an ' +
      'additional batch',
  },
];

/** The use of one quota: by the whole fleet, or by one load balancer (`where`). */
export interface QuotaUse {
  readonly key: keyof AccountQuotas;
  readonly used: number;
  /** For a quota per load balancer: which one, such as `shared load balancer 2` or `stack acme-production`. */
  readonly where?: string;
}

/** The resource types that are listener rules: the allocator's rules and plain ones. */
const RULE_TYPES = new Set(['Custom::SharedAlbRulePriority', 'AWS::ElasticLoadBalancingV2::ListenerRule']);

function cfnResources(root: IConstruct): CfnResource[] {
  return root.node.findAll().filter((c): c is CfnResource => CfnResource.isCfnResource(c));
}

/** What one environment on shared ingress puts on its shared load balancer. */
export interface SharedEnvironmentUse {
  /** The stack of the environment (one customer environment). */
  readonly stack: Stack;
  /** The shared load balancer it is placed on (placement.yaml). */
  readonly loadBalancer: number;
  /** The certificate of its custom domain, added to the shared listener; undefined without one. */
  readonly certificateArn?: string;
}

/**
 * The use of every quota by the built stacks of a whole fleet: totals by resource type, and per load balancer
 * its rules and certificates (a shared one from the environments placed on it, a dedicated one from its stack).
 */
// `shared` holds environments among `stacks` (sharedEnvironmentUses of them).
export function fleetQuotaUse(stacks: Stack[], shared: SharedEnvironmentUse[]): QuotaUse[] {
  const byType = new Map<string, number>();
  const uses: QuotaUse[] = [];
  const sharedStacks = new Set(shared.map((s) => s.stack));
  /** Listener rules of each stack, counted in the one walk of its constructs. */
  const rulesOf = new Map<Stack, number>();
  for (const stack of stacks) {
    const resources = cfnResources(stack);
    for (const r of resources) byType.set(r.cfnResourceType, (byType.get(r.cfnResourceType) ?? 0) + 1);
    const rules = resources.filter((r) => RULE_TYPES.has(r.cfnResourceType)).length;
    rulesOf.set(stack, rules);
    const ownLoadBalancers = resources.filter((r) => r.cfnResourceType === 'AWS::ElasticLoadBalancingV2::LoadBalancer');
    if (ownLoadBalancers.length === 1 && !sharedStacks.has(stack) && rules > 0) {
      // A dedicated web tier: its rules are on its own load balancer.
      uses.push({ key: 'rulesPerLoadBalancer', used: rules, where: `the load balancer of stack ${stack.stackName}` });
    }
  }
  const loadBalancers = [...new Set(shared.map((s) => s.loadBalancer))].sort((a, b) => a - b);
  for (const n of loadBalancers) {
    const on = shared.filter((s) => s.loadBalancer === n);
    const rules = on.reduce((sum, s) => sum + (rulesOf.get(s.stack) ?? 0), 0);
    uses.push({ key: 'rulesPerLoadBalancer', used: rules, where: `shared load balancer ${n}` });
    uses.push({ key: 'certificatesPerLoadBalancer', used: certificatesOf(on), where: `shared load balancer ${n}` });
  }
  for (const spec of QUOTAS) {
    if (spec.scope === 'load balancer') continue;
    let used = spec.key === 'stacks' ? stacks.length : spec.types.reduce((sum, t) => sum + (byType.get(t) ?? 0), 0);
    if (spec.key === 'customDeploymentConfigs') used += runtimeDeploymentConfigs(stacks);
    uses.push({ key: spec.key, used });
  }
  return uses;
}

/**
 * The deployment configurations the stacks' deployment state machines create at run time (one each, for the
 * length of a run): one per SoftwareDeliveryPipeline with an additional batch.
 */
function runtimeDeploymentConfigs(stacks: Stack[]): number {
  return stacks.reduce(
    (sum, stack) =>
      sum +
      stack.node.findAll().filter(
        (c) =>
          c instanceof SoftwareDeliveryPipeline &&
          c.deploymentStateMachine !== undefined &&
          // Immutable's machine deploys with CodeDeploy's AllAtOnce preset.
          c.standbyDeploymentGroup === undefined,
      ).length,
    0,
  );
}

/** Certificates on a shared listener: one per distinct custom domain certificate of the environments on it. */
export function certificatesOf(environments: { readonly certificateArn?: string }[]): number {
  return new Set(environments.flatMap((e) => (e.certificateArn ? [e.certificateArn] : []))).size;
}

/** The limit of a quota for a platform: its `quotas:` value, else AWS's default. */
export function limitOf(spec: QuotaSpec, quotas: AccountQuotas | undefined): number {
  return quotas?.[spec.key] ?? spec.defaultLimit;
}

/**
 * One problem per quota the fleet would exceed: which, where, by how much, and what to raise; none when the fleet
 * fits. `source` names the file whose `quotas:` sets the limits, such as `platform.yaml`.
 */
export function quotaProblems(uses: QuotaUse[], quotas: AccountQuotas | undefined, source: string): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const use of uses) {
    const spec = QUOTAS.find((q) => q.key === use.key)!;
    const limit = limitOf(spec, quotas);
    if (use.used <= limit) continue;
    const raised = quotas?.[spec.key] !== undefined;
    const remedy = spec.notAdjustable
      ? `"${spec.name}" (${spec.service}): ${spec.notAdjustable}`
      : `request an increase of "${spec.name}" (${spec.service}) in Service Quotas ` +
        `for the platform's account and region, then set quotas.${spec.key} to the new value`;
    problems.push({
      file: source,
      path: `quotas.${spec.key}`,
      message:
        `the fleet needs ${use.used} ${spec.label}${use.where ? ` on ${use.where}` : ` in the ${spec.scope}`}, ` +
        `${use.used - limit} more than the ${raised ? 'quota set here' : 'AWS default quota'} of ${limit}; ` +
        `expected at most ${limit}: ${remedy}`,
    });
  }
  return problems;
}

/** The limits of one template, fixed by CloudFormation (not quotas an account can raise). */
export const TEMPLATE_LIMITS = {
  resources: 500,
  outputs: 200,
  parameters: 200,
  /** A template body read from S3, as the CDK CLI deploys one: 1 MB. */
  bytes: 1_000_000,
} as const;

/**
 * One line per limit a synthesized template exceeds, naming the stack and its template file. `template` is the
 * parsed template and `bytes` its size on disk.
 */
export function templateLimitProblems(stackName: string, file: string, template: any, bytes: number): string[] {
  const problems: string[] = [];
  const count = (section: string) => Object.keys(template?.[section] ?? {}).length;
  const checks: [string, number, number][] = [
    ['resources', count('Resources'), TEMPLATE_LIMITS.resources],
    ['outputs', count('Outputs'), TEMPLATE_LIMITS.outputs],
    ['parameters', count('Parameters'), TEMPLATE_LIMITS.parameters],
    ['bytes', bytes, TEMPLATE_LIMITS.bytes],
  ];
  for (const [what, used, limit] of checks) {
    if (used > limit) {
      problems.push(
        `${file}: stack ${stackName}: the template holds ${used} ${what}, ${used - limit} more than CloudFormation ` +
          `allows in one template (${limit}, not adjustable); expected at most ${limit}: split the environment's ` +
          'resources or report it as a bug of the library',
      );
    }
  }
  return problems;
}

/** One customer environment as its config says, for configQuotaUse. */
export interface ConfigEnvironmentUse {
  readonly ingress: 'shared' | 'dedicated';
  /** The shared load balancer it is placed on; undefined on dedicated ingress. */
  readonly loadBalancer?: number;
  readonly certificateArn?: string;
  readonly database?: { readonly engine: string; readonly multiAz: boolean };
  /** The CodeDeploy custom deployment configurations its deployment costs (customDeploymentConfigsOf). */
  readonly customDeploymentConfigs?: number;
}

/**
 * The use of the quotas that follow from the config files by rule, without building the fleet: one stack per
 * environment and the platform's; two pipelines per environment (the AMI's and the software's); an RDS instance, or
 * an Aurora cluster with a writer and, multi-AZ, a reader; a load balancer per dedicated environment and per shared
 * one in use; the certificates of the custom domains on each shared listener; the custom CodeDeploy deployment
 * configurations of the environments' deployments; with `fleetPipeline`, its stack and its pipeline.
 */
export function configQuotaUse(
  environments: ConfigEnvironmentUse[],
  sharedLoadBalancers: number,
  fleetPipeline = false,
): QuotaUse[] {
  const aurora = (e: ConfigEnvironmentUse) => e.database?.engine.startsWith('aurora-') ?? false;
  const dbInstances = environments.reduce(
    (sum, e) => sum + (!e.database ? 0 : aurora(e) ? (e.database.multiAz ? 2 : 1) : 1),
    0,
  );
  const uses: QuotaUse[] = [
    { key: 'stacks', used: 1 + environments.length + (fleetPipeline ? 1 : 0) },
    { key: 'pipelines', used: 2 * environments.length + (fleetPipeline ? 1 : 0) },
    { key: 'dbInstances', used: dbInstances },
    { key: 'dbClusters', used: environments.filter(aurora).length },
    { key: 'loadBalancers', used: sharedLoadBalancers + environments.filter((e) => e.ingress === 'dedicated').length },
    {
      key: 'customDeploymentConfigs',
      used: environments.reduce((sum, e) => sum + (e.customDeploymentConfigs ?? 0), 0),
    },
  ];
  for (let n = 1; n <= sharedLoadBalancers; n++) {
    const on = environments.filter((e) => e.ingress === 'shared' && e.loadBalancer === n);
    uses.push({ key: 'certificatesPerLoadBalancer', used: certificatesOf(on), where: `shared load balancer ${n}` });
  }
  return uses;
}

/** The quotas a fleet directory's config would exceed, by configQuotaUse and the placement a synthesis would use. */
export function fleetQuotaProblems(fleet: ResolvedFleet): ConfigProblem[] {
  const placement = plannedPlacement(fleet);
  const uses = configQuotaUse(
    configEnvironmentUses(fleet.customers, placement),
    placement.loadBalancers,
    fleet.platform.fleetPipeline !== undefined,
  );
  return quotaProblems(uses, fleet.platform.quotas, platformSourceOf(fleet.directory));
}

/** What each customer environment's config says for configQuotaUse, on the placement a synthesis would use. */
export function configEnvironmentUses(
  customers: ResolvedCustomerConfig[],
  placement: FleetPlacement,
): ConfigEnvironmentUse[] {
  return customers.map((c) => {
    const ingress = ingressOf(c);
    return {
      ingress,
      loadBalancer: placement.environments[`${c.customer}-${c.environment}`],
      certificateArn: ingress === 'shared' ? c.customDomain?.certificateArn : undefined,
      database: c.database ? { engine: c.database.engine, multiAz: c.database.multiAz } : undefined,
      customDeploymentConfigs: customDeploymentConfigsOf(c.softwareDelivery.deployment),
    };
  });
}

/**
 * The built environment stacks that are on shared ingress, for fleetQuotaUse: each stack (named
 * `<customer>-<environment>`) with its load balancer in the placement and its custom domain's certificate.
 */
export function sharedEnvironmentUses(
  environments: Stack[],
  customers: CustomerConfig[],
  placement: FleetPlacement,
): SharedEnvironmentUse[] {
  const domains = new Map(customers.map((c) => [`${c.customer}-${c.environment}`, c.customDomain]));
  return environments.flatMap((stack) => {
    const n = placement.environments[stack.stackName];
    return n === undefined
      ? []
      : [{ stack, loadBalancer: n, certificateArn: domains.get(stack.stackName)?.certificateArn }];
  });
}
