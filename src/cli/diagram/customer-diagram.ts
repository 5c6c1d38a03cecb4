/*
 * The picture of one customer environment: ingress, instances, database, bucket, and the two pipelines that
 * feed it. The order of the steps is the order of the nodes and edges, which both renderers keep.
 */
import {
  availability,
  capacity,
  databasePort,
  databaseTitle,
  nameOf,
  ONE_LOAD_BALANCER,
  repositoryText,
  ruleHosts,
  sharedLoadBalancerLines,
  vpcGroup,
  VpcGroups,
} from './describe';
import { Diagram, DiagramBuilder } from './model';
import {
  ResolvedDeployment,
  DEFAULT_BASE_IMAGE_PARAMETER,
  ingressOf,
  ResolvedCustomerConfig,
  ResolvedPlatformConfig,
} from '../../config/defaults';
import { FleetPlacement } from '../../environment/placement';

/** One customer environment: ingress, instances, database, bucket, and the two pipelines that feed it. */
export function customerDiagram(
  platform: ResolvedPlatformConfig,
  c: ResolvedCustomerConfig,
  placement: FleetPlacement = ONE_LOAD_BALANCER,
): Diagram {
  const b = new DiagramBuilder(`${nameOf(c)} on platform ${platform.name} (${platform.region})`);
  const internet = b.node('internet', 'internet', ['Internet']);
  // The tiers top to bottom: the pipelines then reach the instances from the side.
  const tiers = vpcGroup(b, platform, 'TB');
  const front = ingress(b, platform, c, placement, internet, tiers);
  const { asg, parameter } = workload(b, c, front, tiers);
  amiPipeline(b, c, asg, parameter);
  deliveryPipeline(b, c, asg);
  return b.build();
}

/** The dedicated load balancer, or the shared one and the customer's rule on it; returns what forwards traffic. */
function ingress(
  b: DiagramBuilder,
  platform: ResolvedPlatformConfig,
  c: ResolvedCustomerConfig,
  placement: FleetPlacement,
  internet: string,
  tiers: VpcGroups,
): string {
  if (ingressOf(c) === 'dedicated') {
    const alb = b.node(
      'alb',
      'load-balancer',
      ['Dedicated ALB', c.customDomain!.name, 'HTTPS 443 (HTTP 80 redirects)'],
      tiers.publicSubnets,
    );
    b.edge(internet, alb, 'HTTPS');
    return alb;
  }
  const number = placement.environments[nameOf(c)] ?? 1;
  const alb = b.node(
    'shared_alb',
    'load-balancer',
    sharedLoadBalancerLines(platform, number, placement.loadBalancers > 1),
    tiers.publicSubnets,
  );
  const hosts = ruleHosts(c);
  const rule = b.node(
    'rule',
    'network',
    ['Listener rule', `${hosts.length === 1 ? 'host' : 'hosts'} ${hosts.join(', ')}`],
    tiers.publicSubnets,
  );
  b.edge(internet, alb, 'HTTPS');
  b.edge(alb, rule, 'host header');
  return rule;
}

/** Target group, instances, database, bucket, launch template and the AMI parameter it reads. */
function workload(
  b: DiagramBuilder,
  c: ResolvedCustomerConfig,
  front: string,
  tiers: VpcGroups,
): { asg: string; parameter: string } {
  const tg = b.node(
    'target_group',
    'network',
    ['Target group', `HTTP 80, health ${c.healthCheck.path} (${c.healthCheck.healthyHttpCodes})`],
    tiers.vpc,
  );
  b.edge(front, tg, 'forward');
  const scaling = `target CPU ${c.compute.targetCpuPercent}%${
    c.compute.targetRequestsPerInstance !== undefined
      ? `, ${c.compute.targetRequestsPerInstance} requests/instance`
      : ''
  }`;
  const asg = b.node('asg', 'compute', ['Auto Scaling group', capacity(c), scaling], tiers.privateSubnets);
  b.edge(tg, asg, 'HTTP 80');
  if (c.database) {
    const db = b.node(
      'database',
      'database',
      [
        databaseTitle(c),
        `db.${c.database.instanceType}, ${availability(c)}`,
        `${c.database.clusterName}, backups ${c.database.backupRetentionDays} days`,
      ],
      tiers.isolatedSubnets,
    );
    b.edge(asg, db, `port ${databasePort(c)}`);
  }
  const bucket = b.node('data_bucket', 'bucket', ['Data bucket (S3)', 'KMS-encrypted, versioned']);
  b.edge(asg, bucket, 'reads', true);
  const launchTemplate = b.node('launch_template', 'compute', ['Launch template', 'AMI from SSM at launch, IMDSv2']);
  b.edge(launchTemplate, asg, 'launches');
  const parameter = b.node('ami_parameter', 'parameter', [
    'SSM parameter',
    `/vending/${c.customer}/${c.environment}/ami-id`,
  ]);
  b.edge(parameter, launchTemplate, 'read at launch', true);
  return { asg, parameter };
}

/** Who approves a production pipeline's stage. */
function approvers(c: ResolvedCustomerConfig): string {
  return c.approvalEmails.join(', ');
}

/** What the bake starts from, in words. */
function baseImageText(c: ResolvedCustomerConfig): string {
  const base = c.ami.baseImage;
  if (base.ssmParameter === DEFAULT_BASE_IMAGE_PARAMETER) return 'from Amazon Linux 2023';
  if (base.ssmParameter !== undefined) return `from ${base.ssmParameter}`;
  return `from newest ${base.amiNameFilter} of ${base.amiOwners!.join(', ')}`;
}

/** Schedule, source, bake, approval in production, rollout to the AMI parameter and the instances. */
function amiPipeline(b: DiagramBuilder, c: ResolvedCustomerConfig, asg: string, parameter: string): void {
  const ami = b.group('ami_pipeline', 'pipeline', 'AMI pipeline (CodePipeline)', undefined, 'TB');
  if (c.ami.rebuildSchedule !== undefined) {
    const schedule = b.node('ami_schedule', 'schedule', ['Rebuild schedule', c.ami.rebuildSchedule], ami);
    b.edge(schedule, 'ami_source', 'starts');
  }
  const source = b.node('ami_source', 'stage', ['Source', repositoryText(c.ami.repository!), '+ Packer template'], ami);
  const bake = b.node(
    'ami_bake',
    'stage',
    [
      'Bake',
      `Packer in CodeBuild, on ${c.ami.buildInstanceType}`,
      baseImageText(c),
      `keeps ${c.ami.keepImages} images`,
    ],
    ami,
  );
  b.edge(source, bake);
  let beforeRollout = bake;
  if (c.production) {
    const approve = b.node('ami_approve', 'approval', ['Approve', 'manual approval by email', approvers(c)], ami);
    b.edge(bake, approve, 'AMI id');
    beforeRollout = approve;
  }
  const rollout = b.node('ami_rollout', 'stage', ['Rollout', 'SSM parameter, instance refresh'], ami);
  b.edge(beforeRollout, rollout, c.production ? 'approved' : 'AMI id');
  b.edge(rollout, parameter, 'writes AMI id');
  b.edge(rollout, asg, 'instance refresh');
}

/** Source, build, approval in production, and the deployment to the instances. */
function deliveryPipeline(b: DiagramBuilder, c: ResolvedCustomerConfig, asg: string): void {
  const delivery = b.group('delivery_pipeline', 'pipeline', 'Delivery pipeline (CodePipeline)', undefined, 'TB');
  const software = c.softwareDelivery;
  const source = b.node('app_source', 'stage', ['Source', repositoryText(software.repository)], delivery);
  const image = software.buildImage
    ? `image ${software.buildImage.ecrRepository}:${software.buildImage.tag} (ECR)`
    : 'CodeBuild standard image';
  const build = b.node('app_build', 'stage', ['Build', 'CodeBuild, buildspec.yml', image], delivery);
  b.edge(source, build);
  let beforeDeploy = build;
  if (c.production) {
    const approve = b.node('app_approve', 'approval', ['Approve', 'manual approval by email', approvers(c)], delivery);
    b.edge(build, approve, 'revision');
    beforeDeploy = approve;
  }
  const deploy = b.node(
    'app_deploy',
    'stage',
    [
      'Deploy',
      `CodeDeploy ${software.deploymentConfig ?? deploymentWords(software.deployment)}`,
      'rollback on failure or alarm',
    ],
    delivery,
  );
  b.edge(beforeDeploy, deploy, c.production ? 'approved' : 'revision');
  b.edge(deploy, asg, 'deploys');
}

/** A `deployment` block in a few words: its policy and what stays in service. */
function deploymentWords(deployment: ResolvedDeployment): string {
  if (deployment.minimumHealthyHosts !== undefined) {
    return `${deployment.policy}, ${deployment.minimumHealthyHosts} kept in service`;
  }
  if (deployment.minimumHealthyPercent !== undefined) {
    return `${deployment.policy}, ${deployment.minimumHealthyPercent}% kept in service`;
  }
  if (deployment.batchSize !== undefined) return `${deployment.policy} of ${deployment.batchSize}`;
  if (deployment.batchSizePercent !== undefined) return `${deployment.policy} of ${deployment.batchSizePercent}%`;
  return deployment.policy;
}
