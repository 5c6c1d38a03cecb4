import { Duration } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { DatabaseEngine } from '../config/types';

/**
 * The environment's database, for `CustomerWebTierProps.database`: RDS or Aurora in the platform's isolated
 * subnets, reachable from the web instances only, encrypted with the platform key, its master password kept by
 * RDS in Secrets Manager. A customer file's `database` says the same in its own words; `fromConfig` translates.
 */
export interface CustomerDatabaseOptions {
  /** Database engine. */
  readonly engine: DatabaseEngine;
  /**
   * Engine version, as a customer file's `database.version` takes it: the major alone (recommended: "16", "8.0",
   * "10.11"), which RDS creates at its current minor, or a full version that RDS offers and has not deprecated
   * ("16.9", "8.0.43"); Aurora MySQL takes a full version only ("3.10.0").
   */
  readonly version: string;
  /**
   * Instance class, without the `db.` prefix that RDS adds, e.g. `ec2.InstanceType.of(ec2.InstanceClass.T4G,
   * ec2.InstanceSize.MEDIUM)`.
   * @default - t4g.medium
   */
  readonly instanceType?: ec2.InstanceType;
  /**
   * Master user name (up to 16 characters for MySQL and MariaDB, 63 for PostgreSQL). The password is generated and
   * kept by RDS in Secrets Manager.
   * @default "app_admin"
   */
  readonly masterUsername?: string;
  /**
   * DB instance or cluster identifier: 1 to 63 lower-case letters, digits or hyphens.
   * @default - `<customer>-<environment>`
   */
  readonly identifier?: string;
  /**
   * How long automated backups are kept: whole days from 1 to 35.
   * @default Duration.days(7)
   */
  readonly backupRetention?: Duration;
  /**
   * Daily backup window in UTC, hh:mm-hh:mm, at least 30 minutes.
   * @default - a window chosen by RDS
   */
  readonly preferredBackupWindow?: string;
  /**
   * Run a standby (or an Aurora reader) in a second Availability Zone.
   * @default - true in production, false elsewhere
   */
  readonly multiAz?: boolean;
  /**
   * Port the database listens on (1150 to 65535), which its security group opens to the web instances: not the
   * engine's default, for the AWS Control Tower check RDS_INSTANCE_NO_DEFAULT_PORTS_CHECK.
   * @default - the engine's default plus 10000: 15432 for PostgreSQL and Aurora PostgreSQL, 13306 for MySQL, MariaDB and Aurora MySQL
   */
  readonly port?: number;
  /**
   * Security groups attached to the database besides its own (which admits the web instances on the engine's port).
   * @default - none
   */
  readonly securityGroups?: ec2.ISecurityGroup[];
  /**
   * The role RDS enhanced monitoring assumes (monitoring.rds.amazonaws.com, AmazonRDSEnhancedMonitoringRole), e.g.
   * the platform's `serviceRoles.databaseMonitoringRole`, which `fromConfig` passes.
   * @default - a role of the database's own
   */
  readonly monitoringRole?: iam.IRole;
}
