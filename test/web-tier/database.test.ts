/*
 * CustomerWebTier's database (the `database` prop): what a user of the construct relies on, asserted on the
 * synthesized templates (a plain App, no compliance plugins: test/web-tier/compliance.test.ts runs the compliance
 * gate), and the database props it refuses.
 */
import { readdirSync, readFileSync } from 'fs';
import { join } from 'path';
import { CfnOutput, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { parse } from 'yaml';
import {
  addWebTier,
  asList,
  exportOf,
  Fixture,
  FLEET,
  importOf,
  ingressRulesOf,
  logicalId,
  newPlatform,
  only,
  policyStatementsOfRole,
  resourcesOf,
  Synth,
  synth,
  synthProduction,
} from './fixture';
import { ConfigLoader, CustomerConfig, CustomerDatabaseOptions, CustomerWebTier, DatabaseEngine } from '../../src';
import { toStructKeys } from '../../src/config/keys';
import { stagingCustomer } from '../config/fixtures';
import { ENV } from '../support/platform-fixture';

const EXTRA_GROUPS = ['sg-0123456789abcdef0', 'sg-0fedcba9876543210'];
/** What CDK writes as the only egress rule of a security group that may send nothing. */
const NO_EGRESS_PLACEHOLDER = [
  { CidrIp: '255.255.255.255/32', Description: 'Disallow all traffic', FromPort: 252, IpProtocol: 'icmp', ToPort: 86 },
];
const MYSQL_LOGS = ['audit', 'error', 'general', 'slowquery'];

/** Every object key anywhere in a value (a template), to look for a property wherever it hides. */
function keysIn(value: unknown, found: Set<string> = new Set()): Set<string> {
  if (Array.isArray(value)) {
    value.forEach((v) => keysIn(v, found));
  } else if (value && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) {
      found.add(key);
      keysIn(inner, found);
    }
  }
  return found;
}

/** The logical ids a template's Refs and Fn::GetAtts point at (pseudo parameters left out). */
function referencedIds(value: unknown, found: Set<string> = new Set()): Set<string> {
  if (Array.isArray(value)) {
    value.forEach((v) => referencedIds(v, found));
  } else if (value && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) {
      if (key === 'Ref' && typeof inner === 'string' && !inner.startsWith('AWS::')) found.add(inner);
      else if (key === 'Fn::GetAtt' && Array.isArray(inner)) found.add(inner[0]);
      else if (key === 'DependsOn') asList(inner as string | string[]).forEach((id) => found.add(id));
      else referencedIds(inner, found);
    }
  }
  return found;
}

// ---------------------------------------------------------------------------------------------------------------
// Database helpers
// ---------------------------------------------------------------------------------------------------------------

/** The database resource: the DB instance, or the Aurora cluster. */
function databaseOf(s: Synth): { id: string; resource: any } {
  const construct = s.web.databaseInstance ?? s.web.databaseCluster;
  expect(construct).toBeDefined();
  const id = logicalId(construct!);
  return { id, resource: s.template.toJSON().Resources[id] };
}

/** The DB instances that run the database: the instance itself, or the cluster's writer and readers. */
function computeOf(s: Synth): [string, any][] {
  const { id, resource } = databaseOf(s);
  if (resource.Type === 'AWS::RDS::DBInstance') return [[id, resource]];
  return resourcesOf(s.template, 'AWS::RDS::DBInstance').filter(
    ([, r]) => JSON.stringify(r.Properties.DBClusterIdentifier) === JSON.stringify({ Ref: id }),
  );
}

function outputOf(s: Synth, id: string): any {
  return s.template.toJSON().Outputs[logicalId(s.web.node.findChild(id) as CfnOutput)];
}

function getAtt(id: string, attribute: string) {
  return { 'Fn::GetAtt': [id, attribute] };
}

interface Family {
  readonly name: string;
  readonly database: CustomerDatabaseOptions;
  readonly kind: 'instance' | 'cluster';
  /** Engine and EngineVersion in the template. */
  readonly engine: string;
  readonly engineVersion: string;
  readonly port: number;
  readonly logs: string[];
}

const FAMILIES: Family[] = [
  {
    name: 'postgres 16',
    database: { engine: DatabaseEngine.POSTGRES, version: '16' },
    kind: 'instance',
    engine: 'postgres',
    engineVersion: '16',
    port: 15432,
    logs: ['postgresql', 'upgrade'],
  },
  {
    name: 'postgres 16.9',
    database: { engine: DatabaseEngine.POSTGRES, version: '16.9' },
    kind: 'instance',
    engine: 'postgres',
    engineVersion: '16.9',
    port: 15432,
    logs: ['postgresql', 'upgrade'],
  },
  {
    name: 'mysql 8.0.43',
    database: { engine: DatabaseEngine.MYSQL, version: '8.0.43' },
    kind: 'instance',
    engine: 'mysql',
    engineVersion: '8.0.43',
    port: 13306,
    logs: MYSQL_LOGS,
  },
  {
    name: 'mysql 8.0 (the major alone)',
    database: { engine: DatabaseEngine.MYSQL, version: '8.0' },
    kind: 'instance',
    engine: 'mysql',
    engineVersion: '8.0',
    port: 13306,
    logs: MYSQL_LOGS,
  },
  {
    name: 'mariadb 10.11 (the major alone)',
    database: { engine: DatabaseEngine.MARIADB, version: '10.11' },
    kind: 'instance',
    engine: 'mariadb',
    engineVersion: '10.11',
    port: 13306,
    logs: MYSQL_LOGS,
  },
  {
    name: 'mariadb 10.11.9',
    database: { engine: DatabaseEngine.MARIADB, version: '10.11.9' },
    kind: 'instance',
    engine: 'mariadb',
    engineVersion: '10.11.9',
    port: 13306,
    logs: MYSQL_LOGS,
  },
  {
    name: 'aurora-postgresql 16',
    database: { engine: DatabaseEngine.AURORA_POSTGRESQL, version: '16' },
    kind: 'cluster',
    engine: 'aurora-postgresql',
    engineVersion: '16',
    port: 15432,
    logs: ['postgresql'],
  },
  {
    name: 'aurora-mysql 3.08.0',
    database: { engine: DatabaseEngine.AURORA_MYSQL, version: '3.08.0' },
    kind: 'cluster',
    engine: 'aurora-mysql',
    // Aurora MySQL 3 is MySQL 8.0 compatible: RDS spells its versions 8.0.mysql_aurora.<version>.
    engineVersion: '8.0.mysql_aurora.3.08.0',
    port: 13306,
    logs: MYSQL_LOGS,
  },
];

// ---------------------------------------------------------------------------------------------------------------

describe.each(FAMILIES)('$name', (family) => {
  let staging: Synth;
  let production: Synth;
  beforeAll(() => {
    staging = synth({ database: family.database });
    production = synthProduction({ database: family.database });
  });

  describe('the engine', () => {
    if (family.kind === 'instance') {
      test('one DB instance of the engine and version given, no cluster', () => {
        for (const s of [staging, production]) {
          const [id, instance] = only(s.template, 'AWS::RDS::DBInstance');
          s.template.resourceCountIs('AWS::RDS::DBCluster', 0);
          expect(instance.Properties).toMatchObject({ Engine: family.engine, EngineVersion: family.engineVersion });
          expect(instance.Properties.AutoMinorVersionUpgrade).toBe(true);
          expect(id).toBe(logicalId(s.web.databaseInstance!));
          expect(s.web.databaseCluster).toBeUndefined();
        }
      });
    } else {
      test('one Aurora cluster of the engine and version given, with a writer instance', () => {
        for (const s of [staging, production]) {
          const [id, cluster] = only(s.template, 'AWS::RDS::DBCluster');
          expect(cluster.Properties).toMatchObject({ Engine: family.engine, EngineVersion: family.engineVersion });
          for (const [, instance] of computeOf(s)) expect(instance.Properties.AutoMinorVersionUpgrade).toBe(true);
          expect(id).toBe(logicalId(s.web.databaseCluster!));
          expect(s.web.databaseInstance).toBeUndefined();
          const writer = logicalId(s.web.databaseCluster!.node.findChild('Writer'));
          expect(computeOf(s).map(([instanceId]) => instanceId)).toContain(writer);
          // Every DB instance of the stack belongs to the cluster.
          expect(computeOf(s)).toHaveLength(resourcesOf(s.template, 'AWS::RDS::DBInstance').length);
          for (const [, instance] of computeOf(s)) expect(instance.Properties.Engine).toBe(family.engine);
        }
      });

      test('multi-AZ by default in production (a reader), single-AZ in staging (the writer alone)', () => {
        expect(computeOf(production)).toHaveLength(2);
        expect(production.web.databaseCluster!.node.tryFindChild('Reader')).toBeDefined();
        expect(computeOf(staging)).toHaveLength(1);
        expect(staging.web.databaseCluster!.node.tryFindChild('Reader')).toBeUndefined();
      });

      test(`backtracking: ${family.engine === 'aurora-mysql' ? 'a 24 hour window' : 'none'}`, () => {
        const backtrack = databaseOf(staging).resource.Properties.BacktrackWindow;
        expect(backtrack).toBe(family.engine === 'aurora-mysql' ? 86400 : undefined);
      });
    }
  });

  describe('secure defaults', () => {
    test('storage encrypted with the platform key', () => {
      const { resource } = databaseOf(staging);
      expect(resource.Properties.StorageEncrypted).toBe(true);
      expect(resource.Properties.KmsKeyId).toEqual(importOf(staging.platform.key, 'Arn'));
    });

    test("in the platform VPC's isolated subnets, never publicly accessible", () => {
      const { resource } = databaseOf(staging);
      const [groupId, group] = only(staging.template, 'AWS::RDS::DBSubnetGroup');
      expect(resource.Properties.DBSubnetGroupName).toEqual({ Ref: groupId });
      const vpc = staging.platform.vpc;
      expect(vpc.isolatedSubnets.length).toBeGreaterThanOrEqual(2);
      expect(group.Properties.SubnetIds).toEqual(vpc.isolatedSubnets.map((subnet) => importOf(subnet)));
      const names = group.Properties.SubnetIds.map((id: any) => id['Fn::ImportValue']);
      for (const subnet of [...vpc.privateSubnets, ...vpc.publicSubnets]) {
        for (const name of names) expect(name).not.toMatch(exportOf(subnet));
      }
      for (const [, instance] of computeOf(staging)) {
        expect([undefined, false]).toContain(instance.Properties.PubliclyAccessible);
      }
    });

    test('IAM database authentication, tags copied to snapshots, 7 days of backups in a window RDS picks', () => {
      const { resource } = databaseOf(staging);
      expect(resource.Properties).toMatchObject({
        EnableIAMDatabaseAuthentication: true,
        CopyTagsToSnapshot: true,
        BackupRetentionPeriod: 7,
      });
      expect(resource.Properties.PreferredBackupWindow).toBeUndefined();
    });

    test(`log exports to CloudWatch Logs: ${family.logs.join(', ')}`, () => {
      expect(databaseOf(staging).resource.Properties.EnableCloudwatchLogsExports).toEqual(family.logs);
    });

    test('enhanced monitoring every 60 s with an RDS monitoring role; Performance Insights on the platform key', () => {
      const compute = computeOf(staging);
      expect(compute.length).toBeGreaterThan(0);
      for (const [, instance] of compute) {
        expect(instance.Properties.MonitoringInterval).toBe(60);
        const roleId = instance.Properties.MonitoringRoleArn['Fn::GetAtt'][0];
        expect(instance.Properties.MonitoringRoleArn).toEqual(getAtt(roleId, 'Arn'));
        const role = staging.template.toJSON().Resources[roleId];
        expect(role.Type).toBe('AWS::IAM::Role');
        expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
          { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'monitoring.rds.amazonaws.com' } },
        ]);
        expect(instance.Properties.EnablePerformanceInsights).toBe(true);
        expect(instance.Properties.PerformanceInsightsKMSKeyId).toEqual(importOf(staging.platform.key, 'Arn'));
      }
    });

    test(`automatic minor version upgrades${family.kind === 'instance' ? ', gp3 storage' : ''}`, () => {
      for (const [, instance] of computeOf(staging)) {
        expect(instance.Properties.AutoMinorVersionUpgrade).toBe(true);
        expect(instance.Properties.DBInstanceClass).toBe('db.t4g.medium');
      }
      if (family.kind === 'instance') expect(databaseOf(staging).resource.Properties.StorageType).toBe('gp3');
    });
  });

  describe('the master password never appears in the template', () => {
    test('RDS manages it in Secrets Manager, encrypted with the platform key', () => {
      for (const s of [staging, production]) {
        const { resource } = databaseOf(s);
        expect(resource.Properties).toMatchObject({
          ManageMasterUserPassword: true,
          MasterUserSecret: { KmsKeyId: importOf(s.platform.key, 'Arn') },
          MasterUsername: 'app_admin',
        });
        expect(keysIn(s.template.toJSON()).has('MasterUserPassword')).toBe(false);
        expect(JSON.stringify(s.template.toJSON())).not.toContain('resolve:secretsmanager');
      }
    });

    test('no secret, secret attachment or rotation function of its own in the stack', () => {
      for (const s of [staging, production]) {
        s.template.resourceCountIs('AWS::SecretsManager::Secret', 0);
        s.template.resourceCountIs('AWS::SecretsManager::SecretTargetAttachment', 0);
        s.template.resourceCountIs('AWS::SecretsManager::RotationSchedule', 0);
        s.template.resourceCountIs('AWS::Lambda::Function', 0);
        s.template.resourceCountIs('AWS::Serverless::Application', 0);
      }
    });

    test('the instances may read that secret only, decrypting it through Secrets Manager only', () => {
      const { id } = databaseOf(staging);
      const statements = policyStatementsOfRole(staging.template, logicalId(staging.web.instanceRole));
      const secrets = statements.filter((st) => asList<string>(st.Action).some((a) => a.startsWith('secretsmanager:')));
      expect(secrets).toEqual([
        {
          Effect: 'Allow',
          Action: 'secretsmanager:GetSecretValue',
          Resource: getAtt(id, 'MasterUserSecret.SecretArn'),
        },
      ]);
      expect(statements).toContainEqual({
        Effect: 'Allow',
        Action: 'kms:Decrypt',
        Resource: importOf(staging.platform.key, 'Arn'),
        Condition: { StringEquals: { 'kms:ViaService': 'secretsmanager.eu-west-1.amazonaws.com' } },
      });
    });

    test('outputs DatabaseEndpoint and DatabaseSecretArn; databaseEndpoint and databaseSecretArn point at the database', () => {
      const { id } = databaseOf(staging);
      expect(outputOf(staging, 'DatabaseEndpoint').Value).toEqual(getAtt(id, 'Endpoint.Address'));
      expect(outputOf(staging, 'DatabaseSecretArn').Value).toEqual(getAtt(id, 'MasterUserSecret.SecretArn'));
      expect(staging.stack.resolve(staging.web.databaseEndpoint)).toEqual(getAtt(id, 'Endpoint.Address'));
      expect(staging.stack.resolve(staging.web.databaseSecretArn)).toEqual(getAtt(id, 'MasterUserSecret.SecretArn'));
    });
  });

  describe('production safeguards', () => {
    test('production: deletion protection, a snapshot on deletion or replacement, multi-AZ, named acme-production', () => {
      const { resource } = databaseOf(production);
      expect(resource.DeletionPolicy).toBe('Snapshot');
      expect(resource.UpdateReplacePolicy).toBe('Snapshot');
      expect(resource.Properties.DeletionProtection).toBe(true);
      if (family.kind === 'instance') {
        expect(resource.Properties.MultiAZ).toBe(true);
        expect(resource.Properties.DBInstanceIdentifier).toBe('acme-production');
      } else {
        expect(resource.Properties.DBClusterIdentifier).toBe('acme-production');
      }
    });

    test('staging: no deletion protection, a final snapshot on deletion or replacement, single-AZ, named acme-staging', () => {
      const { resource } = databaseOf(staging);
      expect(resource.DeletionPolicy).toBe('Snapshot');
      expect(resource.UpdateReplacePolicy).toBe('Snapshot');
      expect(resource.Properties.DeletionProtection).toBe(false);
      if (family.kind === 'instance') {
        expect(resource.Properties.MultiAZ).toBe(false);
        expect(resource.Properties.DBInstanceIdentifier).toBe('acme-staging');
      } else {
        expect(resource.Properties.DBClusterIdentifier).toBe('acme-staging');
      }
    });

    test(`every database leaves a final snapshot when its stack is deleted${family.kind === 'cluster' ? ": the cluster's, its instances deleted" : ''}`, () => {
      for (const s of [staging, production]) {
        const { id, resource } = databaseOf(s);
        expect([resource.DeletionPolicy, resource.UpdateReplacePolicy]).toEqual(['Snapshot', 'Snapshot']);
        // An Aurora snapshot is of the cluster: CloudFormation refuses Snapshot on a cluster's instances.
        for (const [instanceId, instance] of computeOf(s)) {
          if (instanceId !== id) {
            expect([instance.DeletionPolicy, instance.UpdateReplacePolicy]).toEqual(['Delete', 'Delete']);
          }
        }
      }
    });
  });

  describe('network', () => {
    test(`its security group admits the instances' security group only, on port ${family.port}`, () => {
      for (const s of [staging, production]) {
        const groupId = logicalId(s.web.databaseSecurityGroup!);
        expect(s.template.toJSON().Resources[groupId].Type).toBe('AWS::EC2::SecurityGroup');
        expect(ingressRulesOf(s.template, groupId)).toEqual([
          {
            Description: expect.any(String),
            GroupId: getAtt(groupId, 'GroupId'),
            IpProtocol: 'tcp',
            FromPort: family.port,
            ToPort: family.port,
            SourceSecurityGroupId: getAtt(logicalId(s.web.securityGroup), 'GroupId'),
          },
        ]);
        const { resource } = databaseOf(s);
        const groups = resource.Properties.VPCSecurityGroups ?? resource.Properties.VpcSecurityGroupIds;
        expect(groups).toEqual([getAtt(groupId, 'GroupId')]);
        expect(Number(resource.Properties.Port)).toBe(family.port);
      }
    });

    test('its security group sends nothing anywhere', () => {
      const groupId = logicalId(staging.web.databaseSecurityGroup!);
      const egress = staging.template.toJSON().Resources[groupId].Properties.SecurityGroupEgress;
      if (egress !== undefined) expect(egress).toEqual(NO_EGRESS_PLACEHOLDER);
      const separate = resourcesOf(staging.template, 'AWS::EC2::SecurityGroupEgress').filter(
        ([, r]) => JSON.stringify(r.Properties.GroupId) === JSON.stringify(getAtt(groupId, 'GroupId')),
      );
      expect(separate).toEqual([]);
    });
  });
});

describe('Aurora multi-AZ can be set either way', () => {
  test('production with multiAz false: the writer alone', () => {
    const s = synthProduction({
      database: { engine: DatabaseEngine.AURORA_POSTGRESQL, version: '16', multiAz: false },
    });
    expect(computeOf(s)).toHaveLength(1);
    s.template.resourceCountIs('AWS::RDS::DBInstance', 1);
    expect(s.web.databaseCluster!.node.tryFindChild('Reader')).toBeUndefined();
    // The other production safeguards stay.
    expect(databaseOf(s).resource.Properties.DeletionProtection).toBe(true);
  });

  test('staging with multiAz true: a writer and a reader', () => {
    const s = synth({ database: { engine: DatabaseEngine.AURORA_MYSQL, version: '3.08.0', multiAz: true } });
    expect(computeOf(s)).toHaveLength(2);
    s.template.resourceCountIs('AWS::RDS::DBInstance', 2);
    expect(s.web.databaseCluster!.node.tryFindChild('Reader')).toBeDefined();
    expect(databaseOf(s).resource.Properties.DeletionProtection).toBe(false);
  });

  test('an instance follows multiAz too', () => {
    const s = synth({ database: { engine: DatabaseEngine.POSTGRES, version: '16', multiAz: true } });
    expect(databaseOf(s).resource.Properties.MultiAZ).toBe(true);
  });
});

describe('options', () => {
  const options = {
    instanceType: new ec2.InstanceType('r7g.large'),
    masterUsername: 'shop_owner',
    identifier: 'acme-shop-db',
    backupRetention: Duration.days(21),
    preferredBackupWindow: '02:00-03:00',
    securityGroups: EXTRA_GROUPS.map((id) => ec2.SecurityGroup.fromSecurityGroupId(new Stack(), 'Extra', id)),
  };

  describe.each<[string, CustomerDatabaseOptions]>([
    ['an instance (mysql)', { engine: DatabaseEngine.MYSQL, version: '8.0.43', ...options }],
    ['a cluster (aurora-postgresql)', { engine: DatabaseEngine.AURORA_POSTGRESQL, version: '16', ...options }],
  ])('%s', (_name, database) => {
    let s: Synth;
    beforeAll(() => {
      s = synth({ database });
    });

    test('class, master user name, identifier, backup retention and window from the config', () => {
      const { resource } = databaseOf(s);
      expect(resource.Properties).toMatchObject({
        MasterUsername: 'shop_owner',
        BackupRetentionPeriod: 21,
        PreferredBackupWindow: '02:00-03:00',
        [resource.Type === 'AWS::RDS::DBInstance' ? 'DBInstanceIdentifier' : 'DBClusterIdentifier']: 'acme-shop-db',
      });
      for (const [, instance] of computeOf(s)) expect(instance.Properties.DBInstanceClass).toBe('db.r7g.large');
    });

    test('the extra security groups are attached to the database and left unchanged', () => {
      const { resource } = databaseOf(s);
      const groups = resource.Properties.VPCSecurityGroups ?? resource.Properties.VpcSecurityGroupIds;
      expect(groups).toEqual([getAtt(logicalId(s.web.databaseSecurityGroup!), 'GroupId'), ...EXTRA_GROUPS]);
      for (const type of ['AWS::EC2::SecurityGroupIngress', 'AWS::EC2::SecurityGroupEgress']) {
        for (const [, rule] of resourcesOf(s.template, type)) {
          expect(EXTRA_GROUPS).not.toContain(rule.Properties.GroupId);
        }
      }
      expect(JSON.stringify(resourcesOf(s.template, 'AWS::EC2::SecurityGroup'))).not.toMatch(/sg-0/);
    });
  });
});

describe('the port', () => {
  test("another port than the default: the database, its security group and the stack's output follow", () => {
    const s = synth({ database: { engine: DatabaseEngine.MYSQL, version: '8.0.43', port: 23306 } });
    const { resource } = databaseOf(s);
    expect(Number(resource.Properties.Port)).toBe(23306);
    const groupId = logicalId(s.web.databaseSecurityGroup!);
    expect(ingressRulesOf(s.template, groupId).map((r: any) => [r.FromPort, r.ToPort])).toEqual([[23306, 23306]]);
    const outputs = s.template.toJSON().Outputs;
    const port = Object.entries(outputs).find(([id]) => id.includes('DatabasePort'));
    expect(port?.[1]).toMatchObject({ Value: '23306' });
  });

  test('a customer file sets it as database.port', () => {
    const config = ConfigLoader.validateCustomer(
      toStructKeys({
        ...stagingCustomer(),
        database: { engine: 'postgres', version: '16', port: 6000 },
      }) as CustomerConfig,
    );
    const fixture = newPlatform({ domain: 'apps.example.com' });
    const stack = new Stack(fixture.app, 'Customer', { env: ENV });
    const web = CustomerWebTier.fromConfig(stack, 'Web', config, fixture.platform);
    const [, instance] = only(Template.fromStack(stack), 'AWS::RDS::DBInstance');
    expect(web.databaseInstance).toBeDefined();
    expect(Number(instance.Properties.Port)).toBe(6000);
  });
});

describe('without a database', () => {
  let s: Synth;
  beforeAll(() => {
    s = synth();
  });

  test('no RDS resource and no database output', () => {
    for (const type of ['AWS::RDS::DBInstance', 'AWS::RDS::DBCluster', 'AWS::RDS::DBSubnetGroup']) {
      s.template.resourceCountIs(type, 0);
    }
    expect(Object.keys(s.template.toJSON().Outputs).filter((id) => id.includes('Database'))).toEqual([]);
    expect(s.web.node.tryFindChild('DatabaseEndpoint')).toBeUndefined();
    expect(s.web.node.tryFindChild('DatabaseSecretArn')).toBeUndefined();
  });

  test('no database properties', () => {
    expect(s.web.databaseInstance).toBeUndefined();
    expect(s.web.databaseCluster).toBeUndefined();
    expect(s.web.databaseEndpoint).toBeUndefined();
    expect(s.web.databaseSecretArn).toBeUndefined();
    expect(s.web.databaseSecurityGroup).toBeUndefined();
  });

  test('the instance role has no Secrets Manager action', () => {
    const statements = policyStatementsOfRole(s.template, logicalId(s.web.instanceRole));
    expect(statements.length).toBeGreaterThan(0);
    for (const statement of statements) {
      for (const action of asList<string>(statement.Action)) expect(action).not.toMatch(/^secretsmanager:/);
      expect(JSON.stringify(statement.Condition ?? {})).not.toContain('secretsmanager');
    }
  });
});

describe('logical ids of stateful resources', () => {
  test('the database keeps its logical id, as an instance and as a cluster', () => {
    // Do not change this id (construct id `Database` under the web tier, or the construct tree above it): a new
    // logical id makes CloudFormation create a new, empty database and delete the customer's (outside
    // production) or snapshot and delete it (production).
    const instance = synth({ database: { engine: DatabaseEngine.POSTGRES, version: '16' } });
    expect(logicalId(instance.web.databaseInstance!)).toBe('WebDatabaseBFBC13F3');
    expect(instance.template.toJSON().Resources.WebDatabaseBFBC13F3.Type).toBe('AWS::RDS::DBInstance');
    const cluster = synthProduction({ database: { engine: DatabaseEngine.AURORA_MYSQL, version: '3.08.0' } });
    expect(logicalId(cluster.web.databaseCluster!)).toBe('WebDatabaseBFBC13F3');
    expect(cluster.template.toJSON().Resources.WebDatabaseBFBC13F3.Type).toBe('AWS::RDS::DBCluster');
  });
});

describe('the L2 database object', () => {
  // The L2's `secret` is RDS's own managed secret: granting it works from any stack.
  test.each([
    ['an instance', { engine: DatabaseEngine.POSTGRES, version: '16' }],
    ['a cluster', { engine: DatabaseEngine.AURORA_POSTGRESQL, version: '16' }],
  ] as [string, CustomerDatabaseOptions][])(
    "%s: its secret is the RDS-managed secret, usable in the user's code",
    (_, database) => {
      const s = synth(
        { database },
        {
          configure: (_app, stack) => {
            const web = stack.node.findChild('Web') as CustomerWebTier;
            const reader = new iam.Role(stack, 'Reader', { assumedBy: new iam.AccountRootPrincipal() });
            (web.databaseInstance ?? web.databaseCluster)!.secret!.grantRead(reader);
          },
        },
      );
      const { id } = databaseOf(s);
      const secret = (s.web.databaseInstance ?? s.web.databaseCluster)!.secret!;
      expect(s.stack.resolve(secret.secretArn)).toEqual(getAtt(id, 'MasterUserSecret.SecretArn'));
      const template = s.template.toJSON();
      const known = new Set([...Object.keys(template.Resources), ...Object.keys(template.Parameters ?? {})]);
      expect([...referencedIds(template)].filter((ref) => !known.has(ref))).toEqual([]);
    },
  );
});

describe('Performance Insights', () => {
  test('off on the smallest burstable classes, where RDS refuses it', () => {
    const small = synth({
      database: { engine: DatabaseEngine.MYSQL, version: '8.0.43', instanceType: new ec2.InstanceType('t4g.small') },
    });
    const [, instance] = only(small.template, 'AWS::RDS::DBInstance');
    expect(instance.Properties.EnablePerformanceInsights).toBe(false);
    expect(instance.Properties.PerformanceInsightsKMSKeyId).toBeUndefined();
    const medium = synth({
      database: { engine: DatabaseEngine.MYSQL, version: '8.0.43', instanceType: new ec2.InstanceType('t4g.medium') },
    });
    expect(only(medium.template, 'AWS::RDS::DBInstance')[1].Properties.EnablePerformanceInsights).toBe(true);
  });

  test('off on Aurora MySQL t3 classes, which it does not run on at any size', () => {
    const aurora = synth({
      database: {
        engine: DatabaseEngine.AURORA_MYSQL,
        version: '3.08.0',
        instanceType: new ec2.InstanceType('t3.medium'),
      },
    });
    for (const [, instance] of resourcesOf(aurora.template, 'AWS::RDS::DBInstance')) {
      expect(instance.Properties.EnablePerformanceInsights).toBe(false);
    }
  });
});

describe('bad database props', () => {
  // Props are checked in the constructor: one platform serves every case (nothing is synthesized).
  let fixture: Fixture;
  let count = 0;
  beforeAll(() => {
    fixture = newPlatform();
  });

  /** The error of a web tier with this database, in a stack of its own. */
  function errorOf(database: CustomerDatabaseOptions): { id: string; error?: Error } {
    const id = `Bad${++count}`;
    try {
      addWebTier(fixture, id, { database });
    } catch (e) {
      return { id, error: e as Error };
    }
    return { id };
  }

  test.each<[string, CustomerDatabaseOptions, string, string, string]>([
    [
      'an unknown engine',
      { engine: 'oracle' as DatabaseEngine, version: '19' },
      'engine',
      '"oracle"',
      'one of postgres, mysql, mariadb, aurora-postgresql, aurora-mysql',
    ],
    [
      'postgres 12 (out of standard support)',
      { engine: DatabaseEngine.POSTGRES, version: '12' },
      'version',
      '"12" for postgres',
      'a PostgreSQL major or full version of major 13, 14, 15, 16 or 17, such as "17"',
    ],
    [
      'postgres 9.6',
      { engine: DatabaseEngine.POSTGRES, version: '9.6' },
      'version',
      '"9.6" for postgres',
      'a PostgreSQL major or full version of major 13, 14, 15, 16 or 17',
    ],
    [
      'mysql 8.0.39 (deprecated by RDS)',
      { engine: DatabaseEngine.MYSQL, version: '8.0.39' },
      'version',
      '"8.0.39" for mysql',
      'a version RDS offers: RDS has deprecated MySQL 8.0.39 and creates no new database at it',
    ],
    [
      'mariadb 10.4.1',
      { engine: DatabaseEngine.MARIADB, version: '10.4.1' },
      'version',
      '"10.4.1" for mariadb',
      'a MariaDB major or full version of major 10.11 or 11.4, such as "11.4"',
    ],
    [
      'aurora-mysql 2.11.0',
      { engine: DatabaseEngine.AURORA_MYSQL, version: '2.11.0' },
      'version',
      '"2.11.0" for aurora-mysql',
      'an Aurora MySQL full version of major 3, such as "3.13.0"',
    ],
    [
      'a class too small for Aurora',
      { engine: DatabaseEngine.AURORA_POSTGRESQL, version: '16', instanceType: new ec2.InstanceType('t4g.small') },
      'instanceType',
      '"t4g.small" for aurora-postgresql',
      'a class that Aurora PostgreSQL runs: burstable classes from medium (t4g.medium)',
    ],
    [
      'a class with the db. prefix',
      { engine: DatabaseEngine.POSTGRES, version: '16', instanceType: new ec2.InstanceType('db.t4g.medium') },
      'instanceType',
      '"db.t4g.medium"',
      'the class without the db. prefix: "t4g.medium"',
    ],
    [
      'a previous-generation class',
      { engine: DatabaseEngine.POSTGRES, version: '16', instanceType: new ec2.InstanceType('t2.micro') },
      'instanceType',
      '"t2.micro" for postgres',
      'a current-generation class such as t4g.medium',
    ],
    [
      'a master user name with a hyphen',
      { engine: DatabaseEngine.POSTGRES, version: '16', masterUsername: 'admin-user' },
      'masterUsername',
      '"admin-user"',
      'letters, digits or underscores, starting with a letter',
    ],
    [
      'a MySQL master user name of 17 characters',
      { engine: DatabaseEngine.MYSQL, version: '8.0.43', masterUsername: 'a'.repeat(17) },
      'masterUsername',
      `"${'a'.repeat(17)}" (17 characters) for mysql`,
      'at most 16 characters',
    ],
    [
      'an identifier with capitals and an underscore',
      { engine: DatabaseEngine.POSTGRES, version: '16', identifier: 'Acme_DB' },
      'identifier',
      '"Acme_DB"',
      '1 to 63 lower-case letters, digits or hyphens, starting with a letter, without -- and not ending with -',
    ],
    [
      'no backups',
      { engine: DatabaseEngine.POSTGRES, version: '16', backupRetention: Duration.days(0) },
      'backupRetention',
      '0 days',
      'an integer from 1 to 35 days',
    ],
    [
      'backups kept longer than RDS allows',
      { engine: DatabaseEngine.POSTGRES, version: '16', backupRetention: Duration.days(36) },
      'backupRetention',
      '36 days',
      'an integer from 1 to 35 days',
    ],
    [
      'backups kept for part of a day',
      { engine: DatabaseEngine.POSTGRES, version: '16', backupRetention: Duration.hours(36) },
      'backupRetention',
      '1.5 days (a number)',
      'an integer from 1 to 35 days',
    ],
    [
      'a port RDS refuses',
      { engine: DatabaseEngine.POSTGRES, version: '16', port: 80 },
      'port',
      '80',
      'an integer from 1150 to 65535',
    ],
  ])('%s', (_name, database, prop, received, expected) => {
    const { id, error } = errorOf(database);
    expect(error).toBeInstanceOf(Error);
    // The construct's path first, then the prop, the value received and what is expected.
    expect(error!.message).toMatch(new RegExp(`^CustomerWebTier ${id}/Web: database\\.${prop}: received `));
    expect(
      error!.message.startsWith(`CustomerWebTier ${id}/Web: database.${prop}: received ${received}; expected `),
    ).toBe(true);
    expect(error!.message).toContain(expected);
  });

  // What the loader checks in files holds for props built in code too.
  test.each<[string, CustomerDatabaseOptions, string, string]>([
    [
      'a master user name RDS reserves',
      { engine: DatabaseEngine.POSTGRES, version: '16', masterUsername: 'rdsadmin' },
      'masterUsername',
      '"rdsadmin"',
    ],
    [
      'a backup window of 10 minutes',
      { engine: DatabaseEngine.POSTGRES, version: '16', preferredBackupWindow: '02:00-02:10' },
      'preferredBackupWindow',
      '"02:00-02:10"',
    ],
    [
      'a backup window that is not hh:mm-hh:mm',
      { engine: DatabaseEngine.POSTGRES, version: '16', preferredBackupWindow: '2am' },
      'preferredBackupWindow',
      '"2am"',
    ],
    [
      'a security group id that is not one',
      {
        engine: DatabaseEngine.POSTGRES,
        version: '16',
        securityGroups: [ec2.SecurityGroup.fromSecurityGroupId(new Stack(), 'Extra', 'sg-xyz')],
      },
      'securityGroups',
      '"sg-xyz"',
    ],
  ])('%s (checked by the loader, and for props built in code)', (_name, database, prop, received) => {
    const { id, error } = errorOf(database);
    expect(error).toBeInstanceOf(Error);
    expect(error!.message).toMatch(new RegExp(`^CustomerWebTier ${id}/Web: database\\.${prop}(\\[0\\])?: received `));
    expect(error!.message).toContain(received);
    expect(error!.message).toContain('; expected ');
  });
});

describe('from the example fleet', () => {
  const fleet = ConfigLoader.loadFleet(FLEET);
  const directory = join(FLEET, 'customers');
  /** The example customer files with a database, read as written. */
  const files = readdirSync(directory)
    .filter((file) => /\.ya?ml$/.test(file))
    .map((file) => ({ file, raw: parse(readFileSync(join(directory, file), 'utf8')) }))
    .filter(({ raw }) => raw.database !== undefined);

  function configOf(raw: any): CustomerConfig {
    const found = fleet.customers.find((c) => c.customer === raw.customer && c.environment === raw.environment);
    if (!found) throw new Error(`no ${raw.customer}-${raw.environment} in ${FLEET}`);
    return found;
  }

  /** A web tier from a config, on the fleet's platform (domain apps.example.com), in a new App. */
  function fromConfig(config: CustomerConfig): Synth {
    const fixture = newPlatform({ domain: fleet.platform.domain });
    const stack = new Stack(fixture.app, 'Customer', { env: ENV });
    const web = CustomerWebTier.fromConfig(stack, 'Web', config, fixture.platform);
    return { ...fixture, stack, web, template: Template.fromStack(stack) };
  }

  test('the customer files with a database', () => {
    // A file that loses its database, or a new one, shows here: each file with a database has a test below.
    expect(files.map(({ file }) => file).sort()).toEqual([
      'acme-production.yaml',
      'acme-staging.yaml',
      'globex-production.yaml',
      'hooli-staging.yaml',
      'initech-production.yaml',
    ]);
  });

  test.each(files)('$file builds its database', ({ raw }) => {
    const s = fromConfig(configOf(raw));
    const { resource } = databaseOf(s);
    const db = raw.database;
    const cluster = db.engine.startsWith('aurora-');
    expect(resource.Type).toBe(cluster ? 'AWS::RDS::DBCluster' : 'AWS::RDS::DBInstance');
    expect(resource.Properties.Engine).toBe(db.engine);
    expect(resource.Properties.EngineVersion).toBe(
      db.engine === 'aurora-mysql' ? `8.0.mysql_aurora.${db.version}` : db.version,
    );
    expect(resource.Properties.BackupRetentionPeriod).toBe(db.backupRetentionDays ?? 7);
    expect(resource.Properties.PreferredBackupWindow).toBe(db.preferredBackupWindow);
    expect(resource.Properties.MasterUsername).toBe(db.masterUsername ?? 'app_admin');
    expect(resource.Properties[cluster ? 'DBClusterIdentifier' : 'DBInstanceIdentifier']).toBe(
      db.clusterName ?? `${raw.customer}-${raw.environment}`,
    );
    for (const [, instance] of computeOf(s)) {
      expect(instance.Properties.DBInstanceClass).toBe(`db.${db.instanceType ?? 't4g.medium'}`);
    }
    const production = raw.environment === 'production';
    expect(resource.Properties.DeletionProtection).toBe(production);
    expect(resource.DeletionPolicy).toBe('Snapshot');
    if (cluster) expect(computeOf(s)).toHaveLength(production ? 2 : 1);
    else expect(resource.Properties.MultiAZ).toBe(production);
    expect(outputOf(s, 'DatabaseSecretArn')).toBeDefined();
  });
});
