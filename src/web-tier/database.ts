import * as cdk from 'aws-cdk-lib';
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { checkNumber } from './checks';
import { CustomerDatabaseOptions } from './database-options';
import { resolveDatabase as resolveDatabaseDefaults } from '../config/defaults';
import { ENGINES, instanceClassProblem, isMajorAlone, majorVersionOf, versionProblem } from '../config/engines';
import { databaseRules } from '../config/rules';
import { DatabaseConfig, DatabaseEngine } from '../config/types';
import { daysOf, ValueRuleName, valueProblem } from '../config/values';

/** Internal: what CustomerWebTier needs to build the database. */
export interface DatabaseContext {
  readonly where: string;
  readonly database: CustomerDatabaseOptions;
  readonly label: string;
  readonly production: boolean;
  readonly vpc: ec2.IVpc;
  readonly encryptionKey: kms.IKey;
  /** The instances' security group: the only way in. */
  readonly clients: ec2.ISecurityGroup;
  /** The instances' role: may read the credentials. */
  readonly clientRole: iam.IRole;
}

/** Internal: the database that was built. */
export interface BuiltDatabase {
  readonly instance?: rds.DatabaseInstance;
  readonly cluster?: rds.DatabaseCluster;
  readonly endpoint: string;
  readonly port: number;
  readonly securityGroup: ec2.ISecurityGroup;
  /** ARN of the RDS-managed secret holding the master credentials. */
  readonly secretArn: string;
}

/** The props' names of the config's database keys, where they differ. */
const PROP_OF: { [key: string]: string } = { clusterName: 'identifier', backupRetentionDays: 'backupRetention' };

/**
 * Internal: the database of the props with the config's defaults, checked by the rules the loader applies to a
 * file's `database` (the schema's formats and ranges, then versions, classes, reserved names, the window's length).
 */
export function checkedDatabase(where: string, options: CustomerDatabaseOptions, production: boolean, label: string) {
  const engine = options.engine as string;
  const facts = ENGINES[engine];
  if (!facts) {
    throw new Error(
      `${where}: database.engine: received ${JSON.stringify(engine)}; expected one of ${Object.keys(ENGINES).join(', ')}`,
    );
  }
  const config: DatabaseConfig = {
    engine: options.engine,
    version: options.version,
    instanceType: options.instanceType?.toString(),
    masterUsername: options.masterUsername,
    clusterName: options.identifier,
    backupRetentionDays: daysOf(options.backupRetention),
    preferredBackupWindow: options.preferredBackupWindow,
    multiAz: options.multiAz,
    port: options.port,
  };
  const formats: [keyof DatabaseConfig, ValueRuleName][] = [
    ['instanceType', 'databaseInstanceType'],
    ['masterUsername', 'masterUsername'],
    ['clusterName', 'databaseIdentifier'],
    ['preferredBackupWindow', 'backupWindow'],
  ];
  for (const [key, rule] of formats) {
    const problem = config[key] === undefined ? undefined : valueProblem(rule, config[key]);
    if (problem) throw new Error(`${where}: database.${PROP_OF[key] ?? key}: ${problem}`);
  }
  checkNumber(where, 'database.backupRetention', 'backupRetentionDays', config.backupRetentionDays, 'days');
  checkNumber(where, 'database.port', 'databasePort', config.port);
  (options.securityGroups ?? []).forEach((group, i) => {
    const problem = valueProblem('securityGroupId', group.securityGroupId);
    if (problem) throw new Error(`${where}: database.securityGroups[${i}]: ${problem}`);
  });
  const [problem] = databaseRules({ ...config });
  if (problem) {
    const [, key] = problem.path;
    throw new Error(`${where}: database.${PROP_OF[key] ?? key}: ${problem.message}`);
  }
  const versionIssue = versionProblem(engine, config.version);
  if (versionIssue) {
    throw new Error(
      `${where}: database.version: received ${JSON.stringify(config.version)} for ${engine}; ${versionIssue}`,
    );
  }
  const resolved = resolveDatabaseDefaults(config, production, label);
  const classIssue = instanceClassProblem(engine, resolved.instanceType);
  if (classIssue) {
    throw new Error(
      `${where}: database.instanceType: received ${JSON.stringify(resolved.instanceType)} for ${engine}; ${classIssue}`,
    );
  }
  return { ...resolved, facts };
}

/** Internal: the customer's database, in the isolated subnets, reachable from the instances only. */
export function createDatabase(scope: Construct, options: DatabaseContext): BuiltDatabase {
  const db = checkedDatabase(options.where, options.database, options.production, options.label);
  const port = db.port;
  const securityGroup = new ec2.SecurityGroup(scope, 'DatabaseSecurityGroup', {
    vpc: options.vpc,
    description: `Database of ${options.label}: from its web instances only`,
    allowAllOutbound: false,
  });
  securityGroup.addIngressRule(options.clients, ec2.Port.tcp(port), 'From the web instances');
  const extraGroups = options.database.securityGroups ?? [];
  const common = {
    vpc: options.vpc,
    vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
    securityGroups: [securityGroup, ...extraGroups],
    storageEncrypted: true,
    storageEncryptionKey: options.encryptionKey,
    deletionProtection: options.production,
    // Every database, production or not, leaves a final snapshot when its stack is deleted (or it is replaced):
    // offboarding an environment loses no data. On a cluster, aws-cdk-lib puts the policy on the cluster and deletes
    // its instances (an Aurora snapshot is of the cluster; CloudFormation refuses Snapshot on a cluster's instance).
    // Deletion protection stays production's only.
    removalPolicy: RemovalPolicy.SNAPSHOT,
    iamAuthentication: true,
    copyTagsToSnapshot: true,
    port,
  };
  // The master password never appears in the template: RDS keeps it in Secrets Manager (and rotates it).
  const credentials = rds.Credentials.fromUsername(db.masterUsername);
  const instanceType = new ec2.InstanceType(db.instanceType);
  // Performance Insights does not run on the smallest burstable classes (RDS refuses it there).
  // Aurora MySQL does not run it on any db.t2 or db.t3 class either.
  const insights =
    !/^t\d[a-z]*\.(nano|micro|small)$/.test(db.instanceType) &&
    !(db.engine === DatabaseEngine.AURORA_MYSQL && /^t[23]\./.test(db.instanceType));
  const major = majorVersionOf(db.engine, db.version);
  // The props' retention as given (a token too), else the config's default.
  const retention = options.database.backupRetention ?? Duration.days(db.backupRetentionDays);

  let instance: rds.DatabaseInstance | undefined;
  let cluster: rds.DatabaseCluster | undefined;
  let cfn: rds.CfnDBInstance | rds.CfnDBCluster;
  let endpoint: string;
  if (db.facts.kind === 'instance') {
    instance = new rds.DatabaseInstance(scope, 'Database', {
      ...common,
      engine: instanceEngine(db.engine, db.version, major),
      instanceType,
      instanceIdentifier: db.clusterName,
      credentials,
      multiAz: db.multiAz,
      allocatedStorage: 20,
      maxAllocatedStorage: 200,
      storageType: rds.StorageType.GP3,
      backupRetention: retention,
      preferredBackupWindow: db.preferredBackupWindow,
      autoMinorVersionUpgrade: true,
      cloudwatchLogsExports: logExports(db.engine),
      monitoringInterval: Duration.seconds(60),
      monitoringRole: options.database.monitoringRole,
      enablePerformanceInsights: insights,
      performanceInsightEncryptionKey: insights ? options.encryptionKey : undefined,
    });
    cfn = instance.node.defaultChild as rds.CfnDBInstance;
    endpoint = instance.dbInstanceEndpointAddress;
  } else {
    const clusterInstance = (id: string) =>
      rds.ClusterInstance.provisioned(id, {
        instanceType,
        autoMinorVersionUpgrade: true,
        enablePerformanceInsights: insights,
        performanceInsightEncryptionKey: insights ? options.encryptionKey : undefined,
      });
    cluster = new rds.DatabaseCluster(scope, 'Database', {
      ...common,
      engine: clusterEngine(db.engine, db.version, major),
      clusterIdentifier: db.clusterName,
      credentials,
      writer: clusterInstance('Writer'),
      readers: db.multiAz ? [clusterInstance('Reader')] : [],
      backup: { retention, preferredWindow: db.preferredBackupWindow },
      cloudwatchLogsExports: logExports(db.engine),
      monitoringInterval: Duration.seconds(60),
      monitoringRole: options.database.monitoringRole,
      // Aurora MySQL can rewind the cluster to a point in the last day without a restore.
      backtrackWindow: db.engine === DatabaseEngine.AURORA_MYSQL ? Duration.hours(24) : undefined,
    });
    cfn = cluster.node.defaultChild as rds.CfnDBCluster;
    endpoint = cluster.clusterEndpoint.hostname;
  }
  if (isMajorAlone(db.engine, db.version)) acceptMajorAlone(cfn);
  // RDS-managed master password instead of a generated secret: no password in the template, rotation without a
  // Lambda function in the customer's stack, encrypted with the platform key.
  const generated = (instance ?? cluster)!.node.tryFindChild('Secret');
  if (generated) (instance ?? cluster)!.node.tryRemoveChild('Secret');
  cfn.addPropertyDeletionOverride('MasterUserPassword');
  cfn.addPropertyOverride('MasterUsername', db.masterUsername);
  cfn.addPropertyOverride('ManageMasterUserPassword', true);
  cfn.addPropertyOverride('MasterUserSecret', { KmsKeyId: options.encryptionKey.keyArn });
  const secretArn = cfn.getAtt('MasterUserSecret.SecretArn').toString();
  // The L2's `secret` would still name the generated secret removed above: point it at RDS's own, so that
  // `databaseInstance.secret.grantRead(...)` works (aws-cdk-lib's manageMasterUserPassword is newer than the
  // floor this library supports).
  const managed = secretsmanager.Secret.fromSecretCompleteArn(scope, 'DatabaseMasterSecret', secretArn);
  Object.defineProperty(instance ?? cluster, 'secret', { value: managed, configurable: true });

  options.clientRole.addToPrincipalPolicy(
    new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [secretArn] }),
  );
  options.clientRole.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['kms:Decrypt'],
      resources: [options.encryptionKey.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${Stack.of(scope).region}.amazonaws.com` } },
    }),
  );
  return { instance, cluster, endpoint, port, securityGroup, secretArn };
}

/** Why a major version alone in EngineVersion is meant, where template checks know only full versions. */
export const MAJOR_VERSION_ALONE_REASON =
  'EngineVersion is a major version alone, which RDS takes and creates at its current minor (automatic minor ' +
  'version upgrades on); the checks know only full versions.';

/**
 * cfn-lint checks EngineVersion against the full versions RDS lists (E3690/E3691 when absent, W3690/W3691 when listed
 * as deprecated), and so does aws-cdk-lib's template validation (E9006); RDS lists no major alone, though it takes
 * one. On this resource only, cfn-lint's two checks are ignored (with the reason beside them in the resource's
 * metadata) and the validation's finding is acknowledged.
 */
function acceptMajorAlone(cfn: rds.CfnDBInstance | rds.CfnDBCluster): void {
  const ids = cfn instanceof rds.CfnDBInstance ? ['E3691', 'W3691'] : ['E3690', 'W3690'];
  cfn.addMetadata('cfn-lint', { config: { ignore_checks: ids } });
  cfn.addMetadata('vending:cfn-lint', `${ids.join(' and ')} ignored: ${MAJOR_VERSION_ALONE_REASON}`);
  // Validations is newer than the aws-cdk-lib floor: acknowledged where it exists (as for the NAT instances' image).
  const validations = (
    cdk as unknown as {
      Validations?: { of(scope: Construct): { acknowledge(a: { id: string; reason: string }): void } };
    }
  ).Validations;
  validations?.of(cfn).acknowledge({ id: 'CloudFormation-Validate::E9006', reason: MAJOR_VERSION_ALONE_REASON });
}

function instanceEngine(engine: DatabaseEngine, version: string, major: string): rds.IInstanceEngine {
  switch (engine) {
    case DatabaseEngine.POSTGRES:
      return rds.DatabaseInstanceEngine.postgres({ version: rds.PostgresEngineVersion.of(version, major) });
    case DatabaseEngine.MYSQL:
      return rds.DatabaseInstanceEngine.mysql({ version: rds.MysqlEngineVersion.of(version, major) });
    default:
      return rds.DatabaseInstanceEngine.mariaDb({ version: rds.MariaDbEngineVersion.of(version, major) });
  }
}

function clusterEngine(engine: DatabaseEngine, version: string, major: string): rds.IClusterEngine {
  if (engine === DatabaseEngine.AURORA_POSTGRESQL) {
    return rds.DatabaseClusterEngine.auroraPostgres({ version: rds.AuroraPostgresEngineVersion.of(version, major) });
  }
  // Aurora MySQL 3 is MySQL 8.0 compatible; its engine versions read 8.0.mysql_aurora.3.08.0.
  return rds.DatabaseClusterEngine.auroraMysql({
    version: rds.AuroraMysqlEngineVersion.of(`8.0.mysql_aurora.${version}`, '8.0'),
  });
}

/** Every log type the engine exports to CloudWatch Logs (the general and audit logs fill when enabled). */
function logExports(engine: DatabaseEngine): string[] {
  switch (engine) {
    case DatabaseEngine.POSTGRES:
      return ['postgresql', 'upgrade'];
    case DatabaseEngine.AURORA_POSTGRESQL:
      return ['postgresql'];
    default:
      return ['audit', 'error', 'general', 'slowquery'];
  }
}
