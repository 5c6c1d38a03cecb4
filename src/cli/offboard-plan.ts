/*
 * What `paas-vending offboard` says before it changes anything: what the deletion of an environment's stack deletes
 * and what it keeps. Read from the stack as the fleet synthesizes it (each resource's DeletionPolicy), so the plan is
 * what CloudFormation will do, plus what the stack does not own (the baked images, the database's exported logs).
 *
 * Internal: not exported from src/index.ts.
 */
import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { CfnResource, Stack } from 'aws-cdk-lib';
import { synthApp } from './synth-app';
import { publicCustomer, publicPlatform, ResolvedCustomerConfig } from '../config/defaults';
import { ConfigLoader, displayPath, ResolvedFleet } from '../config/loader';
import { CustomerEnvironment } from '../environment/customer-environment';
import { PLACEMENT_FILE, readPlacementFile } from '../environment/placement';
import { PlatformReference } from '../platform/platform-reference';

/** One resource of the stack, as the plan names it. */
export interface PlannedResource {
  readonly logicalId: string;
  readonly type: string;
  /** The construct path under the stack, such as Web/Database. */
  readonly path: string;
  /** Its DeletionPolicy: Delete when the template has none. */
  readonly deletionPolicy: string;
}

/** The plan of an offboarding. */
export interface OffboardPlan {
  readonly name: string;
  readonly production: boolean;
  /** Resources CloudFormation deletes with the stack. */
  readonly deleted: PlannedResource[];
  /** Resources CloudFormation keeps (Retain) or snapshots (Snapshot) when it deletes the stack. */
  readonly kept: PlannedResource[];
  /** The shared load balancer that serves the environment (placement.yaml); undefined on a dedicated one. */
  readonly sharedLoadBalancer?: number;
  /** The text printed before the question. */
  readonly lines: string[];
}

const KEPT_POLICIES = new Set(['Retain', 'RetainExceptOnCreate', 'Snapshot']);
const DATABASE_TYPES = new Set(['AWS::RDS::DBInstance', 'AWS::RDS::DBCluster']);
const AMI_PARAMETER_TYPE = 'Custom::WebAmiParameter';

/**
 * The environment's stack, built alone as VendingFleet builds it (nothing written in the fleet directory): on the
 * shared load balancer placement.yaml names. The rest of the fleet is not placed, so that offboarding works on a
 * fleet whose new environment finds no room until this one leaves.
 */
function buildStack(
  fleet: ResolvedFleet,
  config: ResolvedCustomerConfig,
): { stack: CustomerEnvironment; template: any; placed?: number } {
  const name = `${config.customer}-${config.environment}`;
  const outdir = mkdtempSync(join(tmpdir(), 'paas-vending-offboard-'));
  try {
    // The command's App (synth's): no template validation, and no creation stack traces, which nothing here reads
    // (the assembly is deleted below) and which aws-cdk-lib would capture for every element.
    const app = synthApp(outdir, false);
    const file = join(fleet.directory, PLACEMENT_FILE);
    const placed = readPlacementFile(file, displayPath(file), 100)?.environments[name];
    const platform = publicPlatform(fleet.platform);
    const stack = new CustomerEnvironment(app, name, {
      config: ConfigLoader.validateCustomer(publicCustomer(config), { platform }),
      platform: PlatformReference.fromConfig(platform),
      sharedLoadBalancer: placed,
      rebuildWindow: platform.rebuildWindow,
    });
    const template = app.synth().getStackByName(stack.stackName).template;
    return { stack, template, placed };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/** The stack's resources with their construct paths and deletion policies. */
function resourcesOf(stack: Stack, template: any): PlannedResource[] {
  const paths = new Map<string, string>();
  for (const c of stack.node.findAll()) {
    if (CfnResource.isCfnResource(c)) {
      paths.set(stack.resolve(c.logicalId), c.node.path.replace(`${stack.node.path}/`, ''));
    }
  }
  return Object.entries<any>(template.Resources ?? {}).map(([logicalId, r]) => ({
    logicalId,
    type: r.Type,
    path: (paths.get(logicalId) ?? logicalId).replace(/\/Resource$/, ''),
    deletionPolicy: r.DeletionPolicy ?? 'Delete',
  }));
}

/** A database resource in words: what it is and its identifier. */
function databaseWords(r: PlannedResource, template: any, c: ResolvedCustomerConfig): string {
  const props = template.Resources[r.logicalId].Properties ?? {};
  const id = props.DBInstanceIdentifier ?? props.DBClusterIdentifier;
  const engine = c.database ? ` (${c.database.engine} ${c.database.version})` : '';
  return `the database ${typeof id === 'string' ? id : r.path}${engine}`;
}

/** The plan of offboarding `name`, one of the fleet's customers. */
export function offboardPlan(fleet: ResolvedFleet, config: ResolvedCustomerConfig, file: string): OffboardPlan {
  const name = `${config.customer}-${config.environment}`;
  const { stack, template, placed } = buildStack(fleet, config);
  const resources = resourcesOf(stack, template);
  // The AMI parameter is one SSM parameter behind two resources (the custom resource that adopted it, and the earlier
  // resource kept in the template with Retain): the custom resource's policy decides whether it stays.
  const amiParameters = new Map<string, PlannedResource>();
  for (const r of resources.filter((x) => x.type === AMI_PARAMETER_TYPE)) {
    const parameterName = template.Resources[r.logicalId].Properties?.ParameterName;
    if (typeof parameterName === 'string') amiParameters.set(parameterName, r);
  }
  const adopted = (r: PlannedResource) => {
    const parameterName = template.Resources[r.logicalId].Properties?.Name;
    return r.type === 'AWS::SSM::Parameter' && typeof parameterName === 'string' && amiParameters.has(parameterName);
  };
  const kept = resources.filter((r) => KEPT_POLICIES.has(r.deletionPolicy) && !adopted(r));
  const deleted = resources.filter((r) => !KEPT_POLICIES.has(r.deletionPolicy) && !adopted(r));
  const parameterLine = (r: PlannedResource) =>
    `the AMI parameter ${template.Resources[r.logicalId].Properties.ParameterName} (the id of the image its instances run)`;
  const production = stack.production;
  const lines: string[] = [];
  const placedOn = placed !== undefined ? `, served by shared load balancer ${placed}` : '';
  lines.push(
    `Offboarding ${name} (customer ${config.customer}, environment ${config.environment}` +
      `${production ? ', production' : ''}${placedOn}), from ${file}.`,
    '',
    `When its stack ${stack.stackName} is destroyed (account ${fleet.platform.account}, ${fleet.platform.region}):`,
    '',
    'Kept:',
  );
  for (const r of kept) {
    if (DATABASE_TYPES.has(r.type) && r.deletionPolicy === 'Snapshot') {
      const cluster = r.type === 'AWS::RDS::DBCluster';
      lines.push(
        `  - a final snapshot of ${databaseWords(r, template, config)}: CloudFormation takes it when it deletes the ` +
          `database (a manual ${cluster ? 'cluster ' : ''}snapshot: aws rds ${cluster ? 'describe-db-cluster-snapshots' : 'describe-db-snapshots'} --snapshot-type manual)`,
      );
    } else if (r.type === 'AWS::S3::Bucket') {
      lines.push(`  - the data bucket ${r.path} with its objects (retained${production ? ': production' : ''})`);
    } else if (r.type === 'AWS::Logs::LogGroup') {
      lines.push(`  - the log group ${r.path} with its logs (retained)`);
    } else if (r.type === AMI_PARAMETER_TYPE) {
      lines.push(`  - ${parameterLine(r)}${production ? ' (retained: production)' : ''}`);
    } else if (r.type === 'AWS::ElasticLoadBalancingV2::ListenerCertificate') {
      lines.push(
        `  - the custom domain's certificate on the shared listener (${r.path}, retained: the platform's stack ` +
          'holds it, and removes it once no environment uses it)',
      );
    } else {
      lines.push(`  - ${r.type} ${r.path} (${r.deletionPolicy === 'Snapshot' ? 'a final snapshot' : 'retained'})`);
    }
  }
  lines.push(
    `  - the images (AMIs) its AMI pipeline baked and their EBS snapshots: not resources of the stack; find them by ` +
      `the tags vending:customer=${config.customer} and vending:environment=${config.environment}, and deregister ` +
      'them when they are no longer needed',
  );
  lines.push(
    "  - the artifacts its pipelines left in the platform's artifacts bucket (the bucket is the platform's, retained)",
  );
  if (config.database) {
    const kind =
      template.Resources[kept.concat(deleted).find((r) => DATABASE_TYPES.has(r.type))?.logicalId ?? '']?.Type;
    const where = kind === 'AWS::RDS::DBCluster' ? 'cluster' : 'instance';
    const identifier = config.database.clusterName ?? name;
    lines.push(
      `  - the log groups RDS writes the database's logs to (/aws/rds/${where}/${identifier}/...): made by RDS, ` +
        'not by the stack',
    );
  }
  lines.push('', `Deleted (${deleted.length} resources):`);
  const named = new Set(['AWS::S3::Bucket', 'AWS::Logs::LogGroup', AMI_PARAMETER_TYPE, ...DATABASE_TYPES]);
  for (const r of deleted.filter((d) => named.has(d.type))) {
    if (r.type === AMI_PARAMETER_TYPE) {
      lines.push(`  - ${parameterLine(r)}`);
    } else if (DATABASE_TYPES.has(r.type)) {
      lines.push(`  - ${r.type === 'AWS::RDS::DBInstance' ? 'the database instance' : 'the database'} ${r.path}`);
    } else if (r.type === 'AWS::S3::Bucket') {
      const cleaned = resources.some((d) => d.type === 'Custom::DataBucketCleanup');
      lines.push(
        cleaned
          ? `  - the data bucket ${r.path} and every object version in it: the stack's cleanup (Custom::DataBucketCleanup) ` +
              'deletes them all, GOVERNANCE-locked ones included, before CloudFormation deletes the bucket'
          : `  - the data bucket ${r.path}: CloudFormation deletes a bucket only when it is empty; empty it first (its ` +
              'objects are lost), or the deletion of the stack fails there',
      );
    } else {
      lines.push(`  - the log group ${r.path} and its logs`);
    }
  }
  for (const r of kept.filter((k) => DATABASE_TYPES.has(k.type) && k.deletionPolicy === 'Snapshot')) {
    lines.push(`  - ${databaseWords(r, template, config)} itself (after its final snapshot)`);
  }
  const byType = new Map<string, number>();
  for (const r of deleted) byType.set(r.type, (byType.get(r.type) ?? 0) + 1);
  lines.push(
    `  - by type: ${[...byType]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([type, n]) => (n > 1 ? `${type} x${n}` : type))
      .join(', ')}`,
  );
  const before: string[] = [];
  if (stack.terminationProtection) {
    before.push(
      `  - the stack has termination protection (production): aws cloudformation update-termination-protection ` +
        `--no-enable-termination-protection --stack-name ${stack.stackName}`,
    );
  }
  for (const r of resources.filter((d) => DATABASE_TYPES.has(d.type))) {
    const props = template.Resources[r.logicalId].Properties ?? {};
    if (props.DeletionProtection !== true) continue;
    const cluster = r.type === 'AWS::RDS::DBCluster';
    const id = cluster ? props.DBClusterIdentifier : props.DBInstanceIdentifier;
    before.push(
      `  - the database has deletion protection (production): aws rds ${cluster ? 'modify-db-cluster --db-cluster-identifier' : 'modify-db-instance --db-instance-identifier'} ` +
        `${typeof id === 'string' ? id : r.path} --no-deletion-protection --apply-immediately`,
    );
  }
  for (const r of resources.filter((d) => d.type === 'AWS::ElasticLoadBalancingV2::LoadBalancer')) {
    const attributes: { Key?: unknown; Value?: unknown }[] =
      template.Resources[r.logicalId].Properties?.LoadBalancerAttributes ?? [];
    if (!attributes.some((a) => a.Key === 'deletion_protection.enabled' && a.Value === 'true')) continue;
    before.push(
      `  - the load balancer ${r.path} has deletion protection: aws elbv2 modify-load-balancer-attributes ` +
        `--attributes Key=deletion_protection.enabled,Value=false --load-balancer-arn "$(aws cloudformation ` +
        `describe-stack-resource --stack-name ${stack.stackName} --logical-resource-id ${r.logicalId} ` +
        '--query StackResourceDetail.PhysicalResourceId --output text)"',
    );
  }
  if (before.length > 0) lines.push('', 'Before cdk destroy can delete the stack, turn off:', ...before);
  // The plan is this library's template; cdk destroy deletes what was deployed, which may be older.
  lines.push(
    '',
    `This plan reads the stack as this version of the library builds it. A stack last deployed with an earlier ` +
      `version may still delete its database without a snapshot or keep a bucket that this plan says is emptied: ` +
      `deploy it once with this version (cdk deploy ${stack.stackName}) before cdk destroy, or compare with ` +
      `aws cloudformation get-template --stack-name ${stack.stackName}.`,
  );
  return { name, production, deleted, kept, sharedLoadBalancer: placed, lines };
}
