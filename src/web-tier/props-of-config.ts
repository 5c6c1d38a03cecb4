import { Duration, Size } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { CustomerWebTierProps } from './customer-web-tier';
import { CustomerDatabaseOptions } from './database-options';
import { ResolvedCustomerConfig } from '../config/defaults';

/** The props a customer file's compute, health check and database keys say, in CDK's types. */
export type WebTierPropsOfConfig = Pick<
  CustomerWebTierProps,
  | 'instanceType'
  | 'minCapacity'
  | 'maxCapacity'
  | 'targetCpuUtilizationPercent'
  | 'targetRequestsPerMinute'
  | 'rootVolumeSize'
  | 'healthCheck'
  | 'database'
  | 'logRetention'
  | 'settings'
  | 'secrets'
>;

/**
 * Internal: a customer file's compute, health check and database, translated into the web tier's props (seconds
 * into durations, GiB into sizes, ids into security groups, imported in `scope` next to the tier `id`).
 */
export function webTierPropsOf(scope: Construct, id: string, config: ResolvedCustomerConfig): WebTierPropsOfConfig {
  const { compute, healthCheck, database } = config;
  return {
    instanceType: new ec2.InstanceType(compute.instanceType),
    minCapacity: compute.minCapacity,
    maxCapacity: compute.maxCapacity,
    targetCpuUtilizationPercent: compute.targetCpuPercent,
    targetRequestsPerMinute: compute.targetRequestsPerInstance,
    rootVolumeSize: Size.gibibytes(compute.rootVolumeGib),
    healthCheck: {
      path: healthCheck.path,
      healthyHttpCodes: healthCheck.healthyHttpCodes,
      interval: Duration.seconds(healthCheck.intervalSeconds),
      timeout: Duration.seconds(healthCheck.timeoutSeconds),
      healthyThresholdCount: healthCheck.healthyThreshold,
      unhealthyThresholdCount: healthCheck.unhealthyThreshold,
    },
    database: database && databaseOf(scope, id, database),
    // CloudWatch Logs' retention values are the enum's (the config rules allow no other).
    logRetention: config.logs.retentionDays as logs.RetentionDays,
    settings: config.settings,
    secrets: config.secrets,
  };
}

function databaseOf(
  scope: Construct,
  id: string,
  database: NonNullable<ResolvedCustomerConfig['database']>,
): CustomerDatabaseOptions {
  return {
    engine: database.engine,
    version: database.version,
    instanceType: new ec2.InstanceType(database.instanceType),
    masterUsername: database.masterUsername,
    identifier: database.clusterName,
    backupRetention: Duration.days(database.backupRetentionDays),
    preferredBackupWindow: database.preferredBackupWindow,
    multiAz: database.multiAz,
    port: database.port,
    securityGroups: database.securityGroupIds.map((groupId, i) =>
      ec2.SecurityGroup.fromSecurityGroupId(scope, `${id}DatabaseSecurityGroup${i}`, groupId, { mutable: false }),
    ),
  };
}
