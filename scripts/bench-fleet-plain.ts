/*
 * The plain aws-cdk-lib app of the fleet benchmark (scripts/bench-fleet.ts): the fleet a user would write by
 * hand with aws-cdk-lib's L2 constructs (L1 where no L2 does it), without this library, carrying the same content
 * as the library's templates so that the benchmark compares like for like.
 *
 * A platform stack: VPC with NAT instances and flow logs, key, artifacts and logs buckets, internet-facing ALB with
 * an HTTPS listener, the service roles every environment shares (CodeDeploy, RDS monitoring, EventBridge), and the
 * platform's health (NAT and load balancer alarms, a composite alarm, an alert topic and a fleet overview dashboard
 * with every environment's health alarm). Per environment, a stack with what CustomerEnvironment builds:
 * - web tier: data bucket, AMI parameter, launch template whose user data installs the CloudWatch agent (its
 *   configuration inline), an env-file script for the settings and secrets, and the CodeDeploy agent; the instances'
 *   three log groups, settings parameters, Auto Scaling group with scaling policies and a notification topic, target
 *   group, a listener rule on the platform's listener or a dedicated ALB, an RDS instance or Aurora cluster when the
 *   environment has a database; least-privilege instance grants (its own log groups and parameters, a deny of the
 *   others);
 * - health: about 9 metric alarms by level, composite alarms `<env>-severe`, `<env>-degraded` and `<env>-health`,
 *   an encrypted alert topic and a dashboard;
 * - AMI pipeline: source, Packer bake in CodeBuild from one shared template asset with tag-scoped EC2 permissions,
 *   approval in production, the Step Functions rollout (one execution at a time, software deployments locked,
 *   the image validated, the instance refresh watched, the previous image put back on failure: 22 states), a
 *   weekly schedule;
 * - software pipeline: source, CodeBuild, approval in production, CodeDeploy with 5xx-rate and unhealthy-host alarms.
 *
 * Differences that remain by design (the library's own mechanisms): the library reads the platform through SSM
 * contract parameters and a custom resource allocates listener-rule priorities; this app uses cross-stack
 * references and fixed priorities, and RDS credentials in Secrets Manager (L2 `fromGeneratedSecret`) where the
 * library lets RDS manage the password. scripts/bench-fleet-compare.ts compares the two apps' templates by
 * resource type.
 */
import {
  App,
  ArnFormat,
  Duration,
  Names,
  RemovalPolicy,
  Stack,
  Tags,
  aws_autoscaling as autoscaling,
  aws_cloudwatch as cloudwatch,
  aws_cloudwatch_actions as cloudwatchActions,
  aws_codebuild as codebuild,
  aws_codecommit as codecommit,
  aws_codedeploy as codedeploy,
  aws_codepipeline as codepipeline,
  aws_codepipeline_actions as actions,
  aws_ec2 as ec2,
  aws_ecr as ecr,
  aws_elasticloadbalancingv2 as elbv2,
  aws_events as events,
  aws_events_targets as targets,
  aws_iam as iam,
  aws_kms as kms,
  aws_logs as logs,
  aws_rds as rds,
  aws_s3 as s3,
  aws_s3_assets as s3assets,
  aws_sns as sns,
  aws_sns_subscriptions as subscriptions,
  aws_ssm as ssm,
  aws_stepfunctions as sfn,
  aws_stepfunctions_tasks as tasks,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';

export type PlainSource =
  | { kind: 'connection'; connectionArn: string; owner: string; repo: string; branch: string }
  | { kind: 'codecommit'; repository: string; branch: string }
  | { kind: 's3'; bucket: string; key: string };

export interface PlainEnvironmentSpec {
  customer: string;
  environment: string;
  production: boolean;
  host: string;
  /** Set when the environment has a dedicated load balancer (production with a custom domain). */
  certificateArn?: string;
  instanceType: string;
  minCapacity: number;
  maxCapacity: number;
  targetCpuPercent: number;
  targetRequestsPerInstance?: number;
  healthCheckPath: string;
  database?: {
    engine: 'postgres' | 'mysql' | 'mariadb' | 'aurora-postgresql' | 'aurora-mysql';
    instanceType: string;
    username: string;
    backupRetentionDays: number;
    multiAz: boolean;
  };
  approvalEmails: string[];
  /** When the AMI pipeline rebuilds the image (an EventBridge schedule expression). */
  amiSchedule: string;
  source: PlainSource;
  amiSource: PlainSource;
  buildImage?: { ecrRepository: string; tag?: string };
  deploymentConfig: 'one-at-a-time' | 'half-at-a-time' | 'all-at-once';
  /** The health alarms' thresholds and alert addresses (the defaults apply to what is left out). */
  health: PlainHealthSpec;
  logRetentionDays: number;
  /** The application's settings (SSM parameters) and the names of its secrets (SecureString parameters). */
  settings: Record<string, string>;
  secrets: string[];
  tags: Record<string, string>;
}

export interface PlainHealthSpec {
  alertEmails?: string[];
  http5xxPercent?: number;
  latencyP99Ms?: number;
  unhealthyHosts?: number;
  cpuPercent?: number;
  dbCpuPercent?: number;
  dbFreeStorageGib?: number;
  dbReplicaLagSeconds?: number;
}

export interface PlainFleetSpec {
  platform: {
    name: string;
    account: string;
    region: string;
    domain: string;
    certificateArn: string;
    cidr: string;
    maxAzs: number;
    /** Who gets the platform's alarms. */
    alertEmails: string[];
  };
  environments: PlainEnvironmentSpec[];
}

class PlainPlatform extends Stack {
  public readonly vpc: ec2.Vpc;
  public readonly key: kms.Key;
  public readonly artifacts: s3.Bucket;
  public readonly logs: s3.Bucket;
  public readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  public readonly listener: elbv2.ApplicationListener;
  /** CodeDeploy's service role, shared by every environment's deployment group. */
  public readonly codeDeployRole: iam.Role;
  /** RDS enhanced monitoring's role, shared by every environment's database. */
  public readonly databaseMonitoringRole: iam.Role;
  public readonly logsBucketName: string;
  /** The role EventBridge starts the pipelines with, shared by every environment's schedule. */
  public readonly pipelineEventsRole: iam.Role;
  private readonly natInstances: string[];

  constructor(scope: Construct, id: string, spec: PlainFleetSpec['platform']) {
    super(scope, id, {
      env: { account: spec.account, region: spec.region },
      stackName: id,
      terminationProtection: true,
    });
    this.key = new kms.Key(this, 'Key', { enableKeyRotation: true, removalPolicy: RemovalPolicy.RETAIN });
    this.logsBucketName = `${spec.name}-logs-${spec.account}-${spec.region}`;
    this.logs = new s3.Bucket(this, 'Logs', {
      bucketName: this.logsBucketName,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      versioned: true,
    });
    this.artifacts = new s3.Bucket(this, 'Artifacts', {
      bucketName: `${spec.name}-artifacts-${spec.account}-${spec.region}`,
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.key,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      versioned: true,
      serverAccessLogsBucket: this.logs,
      serverAccessLogsPrefix: 's3-access-logs/',
    });
    this.codeDeployRole = new iam.Role(this, 'CodeDeployRole', {
      assumedBy: new iam.ServicePrincipal('codedeploy.amazonaws.com'),
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSCodeDeployRole')],
    });
    const natProvider = ec2.NatProvider.instanceV2({ instanceType: new ec2.InstanceType('t3.nano') });
    this.databaseMonitoringRole = new iam.Role(this, 'DatabaseMonitoringRole', {
      assumedBy: new iam.ServicePrincipal('monitoring.rds.amazonaws.com'),
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AmazonRDSEnhancedMonitoringRole')],
    });
    this.pipelineEventsRole = new iam.Role(this, 'PipelineEventsRole', {
      assumedBy: new iam.ServicePrincipal('events.amazonaws.com'),
    });
    this.pipelineEventsRole.addToPolicy(
      new iam.PolicyStatement({
        actions: ['codepipeline:StartPipelineExecution'],
        resources: [this.formatArn({ service: 'codepipeline', resource: '*' })],
      }),
    );
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr(spec.cidr),
      maxAzs: spec.maxAzs,
      natGatewayProvider: natProvider,
      subnetConfiguration: [
        { name: 'Public', subnetType: ec2.SubnetType.PUBLIC },
        { name: 'Private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
        { name: 'Isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      ],
      flowLogs: { All: { destination: ec2.FlowLogDestination.toS3(this.logs, 'vpc-flow-logs/') } },
      gatewayEndpoints: { S3: { service: ec2.GatewayVpcEndpointAwsService.S3 } },
    });
    this.natInstances = natProvider.configuredGateways.map((gateway) => gateway.gatewayId);
    this.loadBalancer = new elbv2.ApplicationLoadBalancer(this, 'Alb', {
      vpc: this.vpc,
      internetFacing: true,
      deletionProtection: true,
      dropInvalidHeaderFields: true,
    });
    this.loadBalancer.logAccessLogs(this.logs, 'alb');
    this.listener = this.loadBalancer.addListener('Https', {
      port: 443,
      certificates: [elbv2.ListenerCertificate.fromArn(spec.certificateArn)],
      sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
      defaultAction: elbv2.ListenerAction.fixedResponse(404, { contentType: 'text/plain', messageBody: 'not found' }),
    });
    this.loadBalancer.addRedirect();
    new ssm.StringParameter(this, 'ListenerArn', {
      parameterName: `/vending/${spec.name}/listener-arn`,
      stringValue: this.listener.listenerArn,
    });
    new ssm.StringParameter(this, 'VpcId', {
      parameterName: `/vending/${spec.name}/vpc-id`,
      stringValue: this.vpc.vpcId,
    });
  }

  /**
   * The platform's health: alarms on the NAT instances and the shared load balancer under a composite
   * `<name>-platform-health`, an encrypted alert topic, and the fleet overview dashboard, which shows these and every
   * environment's `<customer>-<environment>-health` alarm (by ARN).
   */
  public addHealth(spec: PlainFleetSpec['platform'], environments: string[]): void {
    const scope = new Construct(this, 'Health');
    const topic = new sns.Topic(scope, 'AlertTopic', {
      displayName: `Health of platform ${spec.name}`,
      masterKey: this.key,
      enforceSSL: true,
    });
    for (const email of spec.alertEmails) topic.addSubscription(new subscriptions.EmailSubscription(email));
    const notify = new cloudwatchActions.SnsAction(topic);
    const alarms: cloudwatch.Alarm[] = [];
    const graphs: cloudwatch.IWidget[] = [];
    const watch = (id: string, description: string, props: Omit<cloudwatch.AlarmProps, 'alarmDescription'>) => {
      const alarm = new cloudwatch.Alarm(scope, id, {
        alarmDescription: `Platform ${spec.name}: ${description}`,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        ...props,
      });
      alarm.addAlarmAction(notify);
      alarms.push(alarm);
    };
    const nat = (instance: string, metricName: string, statistic: string, label: string) =>
      new cloudwatch.Metric({
        namespace: 'AWS/EC2',
        metricName,
        dimensionsMap: { InstanceId: instance },
        period: Duration.minutes(1),
        statistic,
        label,
      });
    this.natInstances.forEach((instance, i) => {
      const failed = nat(instance, 'StatusCheckFailed', cloudwatch.Stats.MAXIMUM, 'Status check failed');
      const cpu = nat(instance, 'CPUUtilization', cloudwatch.Stats.AVERAGE, 'CPU (%)');
      watch(`NatInstance${i + 1}StatusAlarm`, `NAT instance ${i + 1} fails its status checks: connections out fail`, {
        metric: failed,
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 3,
      });
      watch(`NatInstance${i + 1}CpuAlarm`, `NAT instance ${i + 1} is above 90% CPU: it may drop packets`, {
        metric: cpu,
        threshold: 90,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 5,
      });
      graphs.push(
        new cloudwatch.GraphWidget({
          title: `NAT instance ${i + 1}`,
          width: 8,
          height: 6,
          left: [failed],
          right: [cpu],
        }),
      );
    });
    const sum = { period: Duration.minutes(1), statistic: cloudwatch.Stats.SUM };
    const requests = this.loadBalancer.metrics.requestCount({ ...sum, label: 'Requests' });
    const errors = this.loadBalancer.metrics.httpCodeElb(elbv2.HttpCodeElb.ELB_5XX_COUNT, {
      ...sum,
      label: '5xx of its own',
    });
    watch(
      'SharedLoadBalancerErrorsAlarm',
      'the shared load balancer answers more than 5% of its requests with 5xx of its own',
      {
        metric: new cloudwatch.MathExpression({
          expression: 'IF(requests >= 10, 100 * FILL(errors, 0) / requests, 0)',
          usingMetrics: { requests, errors },
          period: Duration.minutes(1),
          label: 'Requests answered with 5xx by the load balancer (%)',
        }),
        threshold: 5,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
      },
    );
    graphs.push(
      new cloudwatch.GraphWidget({
        title: 'Shared load balancer',
        width: 8,
        height: 6,
        left: [requests],
        right: [errors],
      }),
    );
    const health = new cloudwatch.CompositeAlarm(scope, 'HealthAlarm', {
      compositeAlarmName: `${spec.name}-platform-health`,
      alarmDescription: `The health of platform ${spec.name}: in ALARM when its NAT or its shared load balancer is`,
      alarmRule: cloudwatch.AlarmRule.anyOf(
        ...alarms.map((alarm) => cloudwatch.AlarmRule.fromAlarm(alarm, cloudwatch.AlarmState.ALARM)),
      ),
    });
    health.addAlarmAction(notify);
    health.addOkAction(notify);
    // The environments' health alarms by ARN, 100 to a widget (CloudWatch's limit).
    const environmentWidgets: cloudwatch.IWidget[] = [];
    for (let i = 0; i < environments.length; i += 100) {
      const page = environments.slice(i, i + 100);
      environmentWidgets.push(
        new AlarmArnsWidget(
          `Environments ${i + 1} to ${i + page.length}`,
          page.map((label) =>
            this.formatArn({
              service: 'cloudwatch',
              resource: 'alarm',
              resourceName: `${label}-health`,
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          ),
        ),
      );
    }
    new cloudwatch.Dashboard(scope, 'FleetOverview', {
      dashboardName: `${spec.name}-fleet-${spec.region}`,
      widgets: [
        [
          new cloudwatch.AlarmStatusWidget({
            title: `Platform ${spec.name}`,
            width: 24,
            height: 3,
            alarms: [health, ...alarms],
          }),
        ],
        graphs,
        ...environmentWidgets.map((widget) => [widget]),
      ],
    });
  }
}

/** An alarm status widget of alarms known by ARN (AlarmStatusWidget takes alarm constructs). */
class AlarmArnsWidget extends cloudwatch.ConcreteWidget {
  constructor(
    private readonly title: string,
    private readonly alarmArns: string[],
  ) {
    super(24, Math.max(2, Math.ceil(alarmArns.length / 4) + 1));
  }

  public toJson(): any[] {
    return [
      {
        type: 'alarm',
        width: this.width,
        height: this.height,
        x: this.x,
        y: this.y,
        properties: { title: this.title, alarms: this.alarmArns },
      },
    ];
  }
}

const DEPLOYMENT_CONFIGS: Record<PlainEnvironmentSpec['deploymentConfig'], codedeploy.IServerDeploymentConfig> = {
  'one-at-a-time': codedeploy.ServerDeploymentConfig.ONE_AT_A_TIME,
  'half-at-a-time': codedeploy.ServerDeploymentConfig.HALF_AT_A_TIME,
  'all-at-once': codedeploy.ServerDeploymentConfig.ALL_AT_ONCE,
};

function sourceAction(
  scope: Construct,
  source: PlainSource,
  output: codepipeline.Artifact,
  role: iam.IRole,
  eventRole: iam.IRole,
): codepipeline.IAction {
  switch (source.kind) {
    case 'connection':
      return new actions.CodeStarConnectionsSourceAction({
        actionName: 'Source',
        connectionArn: source.connectionArn,
        owner: source.owner,
        repo: source.repo,
        branch: source.branch,
        output,
        role,
      });
    case 'codecommit':
      return new actions.CodeCommitSourceAction({
        actionName: 'Source',
        repository: codecommit.Repository.fromRepositoryName(scope, 'Repository', source.repository),
        branch: source.branch,
        output,
        role,
        eventRole,
      });
    case 's3':
      return new actions.S3SourceAction({
        actionName: 'Source',
        bucket: s3.Bucket.fromBucketName(scope, 'SourceBucket', source.bucket),
        bucketKey: source.key,
        // Started by the rule of startOnObjectCreated, on the platform's events role.
        trigger: actions.S3Trigger.NONE,
        output,
        role,
      });
  }
}

/** For an S3 source: an EventBridge rule that starts the pipeline when its object is written. */
function startOnObjectCreated(
  scope: Construct,
  source: PlainSource,
  pipeline: codepipeline.IPipeline,
  eventRole: iam.IRole,
): void {
  if (source.kind !== 's3') return;
  new events.Rule(scope, 'SourceObjectCreated', {
    description: `Starts ${pipeline.pipelineName} when s3://${source.bucket}/${source.key} is written`,
    eventPattern: {
      source: ['aws.s3'],
      detailType: ['Object Created'],
      detail: { bucket: { name: [source.bucket] }, object: { key: [source.key] } },
    },
    targets: [new targets.CodePipeline(pipeline, { eventRole })],
  });
}

function approvalTopic(scope: Construct, emails: string[]): sns.Topic {
  const topic = new sns.Topic(scope, 'Approvals', {
    enforceSSL: true,
    masterKey: kms.Alias.fromAliasName(scope, 'SnsKey', 'alias/aws/sns'),
  });
  for (const email of emails) topic.addSubscription(new subscriptions.EmailSubscription(email));
  return topic;
}

function logGroup(scope: Construct, id: string, encryptionKey: kms.IKey): logs.LogGroup {
  return new logs.LogGroup(scope, id, {
    retention: logs.RetentionDays.ONE_YEAR,
    encryptionKey,
    removalPolicy: RemovalPolicy.RETAIN,
  });
}

function databaseOf(
  scope: Construct,
  spec: NonNullable<PlainEnvironmentSpec['database']>,
  vpc: ec2.IVpc,
  production: boolean,
  key: kms.IKey,
  monitoringRole: iam.IRole,
) {
  const common = {
    vpc,
    vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
    storageEncrypted: true,
    storageEncryptionKey: key,
    credentials: rds.Credentials.fromGeneratedSecret(spec.username, { encryptionKey: key }),
    iamAuthentication: true,
    monitoringInterval: Duration.seconds(60),
    monitoringRole,
    deletionProtection: production,
    removalPolicy: RemovalPolicy.SNAPSHOT,
  };
  const instanceType = new ec2.InstanceType(spec.instanceType);
  if (spec.engine === 'aurora-postgresql' || spec.engine === 'aurora-mysql') {
    return new rds.DatabaseCluster(scope, 'Database', {
      ...common,
      engine:
        spec.engine === 'aurora-postgresql'
          ? rds.DatabaseClusterEngine.auroraPostgres({ version: rds.AuroraPostgresEngineVersion.VER_16_4 })
          : rds.DatabaseClusterEngine.auroraMysql({ version: rds.AuroraMysqlEngineVersion.VER_3_08_0 }),
      writer: rds.ClusterInstance.provisioned('Writer', { instanceType }),
      readers: spec.multiAz ? [rds.ClusterInstance.provisioned('Reader', { instanceType })] : [],
      backup: { retention: Duration.days(spec.backupRetentionDays) },
    });
  }
  const engine = {
    postgres: () => rds.DatabaseInstanceEngine.postgres({ version: rds.PostgresEngineVersion.VER_16 }),
    mysql: () => rds.DatabaseInstanceEngine.mysql({ version: rds.MysqlEngineVersion.VER_8_0_43 }),
    mariadb: () => rds.DatabaseInstanceEngine.mariaDb({ version: rds.MariaDbEngineVersion.VER_10_11_9 }),
  }[spec.engine]();
  return new rds.DatabaseInstance(scope, 'Database', {
    ...common,
    engine,
    instanceType,
    multiAz: spec.multiAz,
    backupRetention: Duration.days(spec.backupRetentionDays),
    instanceIdentifier: Names.uniqueResourceName(scope, { maxLength: 63 }).toLowerCase(),
    allocatedStorage: 20,
    maxAllocatedStorage: 200,
    storageType: rds.StorageType.GP3,
    autoMinorVersionUpgrade: true,
    enablePerformanceInsights: true,
    performanceInsightEncryptionKey: key,
    performanceInsightRetention: rds.PerformanceInsightRetention.DEFAULT,
    cloudwatchLogsExports:
      spec.engine === 'postgres' ? ['postgresql', 'upgrade'] : ['audit', 'error', 'general', 'slowquery'],
  });
}

/** The instance files the CloudWatch agent sends, by log group (`/vending/<customer>/<environment>/<kind>`). */
const INSTANCE_LOG_FILES = {
  system: ['/var/log/messages', '/var/log/cloud-init-output.log'],
  web: ['/var/log/httpd/access_log', '/var/log/httpd/error_log'],
  codedeploy: [
    '/var/log/aws/codedeploy-agent/codedeploy-agent.log',
    '/opt/codedeploy-agent/deployment-root/deployment-logs/codedeploy-agent-deployments.log',
  ],
};
type InstanceLogKind = keyof typeof INSTANCE_LOG_FILES;
const AGENT_CONFIG = '/opt/aws/amazon-cloudwatch-agent/etc/app-logs.json';
const ENV_FILE = '/etc/app/app.env';
const ENV_SCRIPT = '/usr/local/bin/app-env';

/** The CloudWatch agent's configuration: each file into its environment's log group, one stream per instance. */
function cloudWatchAgentConfig(prefix: string): string {
  const collectList = Object.entries(INSTANCE_LOG_FILES).flatMap(([kind, files]) =>
    files.map((file) => ({
      file_path: file,
      log_group_name: `${prefix}/${kind}`,
      log_stream_name: `{instance_id}/${file.split('/').pop()}`,
      timezone: 'UTC',
    })),
  );
  const config = {
    agent: { run_as_user: 'root' },
    logs: { logs_collected: { files: { collect_list: collectList } }, force_flush_interval: 5 },
  };
  return JSON.stringify(config, null, 2);
}

/**
 * The script the deployment hooks call to get the environment's settings and secrets (SSM parameters under
 * `prefix`) as an env file of NAME='value' lines, mode 0600; a declared secret that is missing fails it.
 */
function appEnvScript(prefix: string, region: string): string {
  return `#!/bin/bash
# app-env: the settings and secrets of ${prefix} as an env file for the application.
# Usage: app-env [--owner USER] [--output FILE]
set -euo pipefail
prefix='${prefix}'
output='${ENV_FILE}'
owner=root
while [ "$#" -gt 0 ]; do
  case "$1" in
    --owner) owner="$2"; shift 2 ;;
    --output) output="$2"; shift 2 ;;
    *) echo "app-env: unknown argument $1 (expected --owner USER or --output FILE)" >&2; exit 2 ;;
  esac
done
export AWS_REGION="\${AWS_REGION:-${region}}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
aws ssm get-parameters-by-path --path "$prefix/settings/" --output json > "$tmp/settings.json"
if aws ssm get-parameter --name "$prefix/secret-names" --query Parameter.Value --output text > "$tmp/names" 2> "$tmp/err"; then
  :
elif grep -q ParameterNotFound "$tmp/err"; then
  : > "$tmp/names"
else
  cat "$tmp/err" >&2
  exit 1
fi
IFS=',' read -r -a names < "$tmp/names" || true
echo '{"Parameters": [], "InvalidParameters": []}' > "$tmp/secrets-0.json"
chunk=()
n=0
for name in "\${names[@]}"; do
  chunk+=("$prefix/secrets/$name")
  if [ "\${#chunk[@]}" = 10 ]; then
    n=$((n + 1))
    aws ssm get-parameters --with-decryption --names "\${chunk[@]}" --output json > "$tmp/secrets-$n.json"
    chunk=()
  fi
done
if [ "\${#chunk[@]}" -gt 0 ]; then
  n=$((n + 1))
  aws ssm get-parameters --with-decryption --names "\${chunk[@]}" --output json > "$tmp/secrets-$n.json"
fi
umask 077
python3 - "$tmp" "$prefix" "$output.new" <<'APP_ENV_PY'
import glob, json, os, sys
tmp, prefix, target = sys.argv[1:4]
values, missing = {}, []
with open(os.path.join(tmp, "settings.json")) as f:
    for p in json.load(f)["Parameters"]:
        values[p["Name"][len(prefix + "/settings/"):]] = p["Value"]
for path in sorted(glob.glob(os.path.join(tmp, "secrets-*.json"))):
    with open(path) as f:
        answer = json.load(f)
    missing += answer.get("InvalidParameters", [])
    for p in answer["Parameters"]:
        values[p["Name"][len(prefix + "/secrets/"):]] = p["Value"]
if missing:
    for name in missing:
        sys.stderr.write("app-env: secret %s is missing; put it with: aws ssm put-parameter --name %s "
                         "--type SecureString --key-id <platform key> --value ...\\n" % (name, name))
    sys.exit(1)
with open(target, "w") as f:
    for name in sorted(values):
        f.write("%s='%s'\\n" % (name, values[name].replace("'", "'\\\\''")))
APP_ENV_PY
chown "$owner" "$output.new"
chmod 0600 "$output.new"
mv -f "$output.new" "$output"
`;
}

/** User data: the CloudWatch agent with its configuration, the env-file script, then the CodeDeploy agent. */
function instanceUserData(label: string, prefix: string, region: string): ec2.UserData {
  const userData = ec2.UserData.forLinux();
  const retry = (command: string) =>
    `for attempt in 1 2 3 4 5; do ${command} && break; [ "$attempt" = 5 ] && exit 1; sleep 10; done`;
  userData.addCommands(
    'set -euo pipefail',
    `echo "${label}: instance starting"`,
    '# CloudWatch agent, and rsyslog for /var/log/messages (Amazon Linux 2023 logs to journald only)',
    retry('dnf install -y amazon-cloudwatch-agent rsyslog'),
    'systemctl enable --now rsyslog',
    `cat > ${AGENT_CONFIG} <<'AGENT_CONFIG'`,
    cloudWatchAgentConfig(prefix),
    'AGENT_CONFIG',
    `/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s -c file:${AGENT_CONFIG}`,
    `# ${ENV_SCRIPT}: the settings and secrets as an env file, for the deployment hooks`,
    `install -d -m 0755 ${ENV_FILE.slice(0, ENV_FILE.lastIndexOf('/'))}`,
    `cat > ${ENV_SCRIPT} <<'APP_ENV'`,
    appEnvScript(prefix, region).trimEnd(),
    'APP_ENV',
    `chmod 0755 ${ENV_SCRIPT}`,
    '# CodeDeploy agent',
    'if ! rpm -q codedeploy-agent >/dev/null 2>&1; then',
    `  ${retry('dnf install -y ruby')}`,
    '  installer="$(mktemp)"',
    '  curl --fail --silent --show-error --location --retry 5 --retry-all-errors --retry-delay 5 --output "$installer" ' +
      `https://aws-codedeploy-${region}.s3.${region}.amazonaws.com/latest/install`,
    '  chmod +x "$installer"',
    '  "$installer" auto',
    '  rm -f "$installer"',
    'fi',
    'systemctl enable --now codedeploy-agent',
  );
  return userData;
}

/**
 * The instance role's least-privilege grants for logs and settings: its own log groups, its own parameters (the
 * secrets decrypted through SSM only), and a deny of every other parameter (AmazonSSMManagedInstanceCore allows
 * ssm:GetParameter on `*`).
 */
function grantInstanceLogsAndSettings(
  role: iam.Role,
  prefix: string,
  secrets: string[],
  key: kms.IKey,
  logGroups: logs.ILogGroup[],
): void {
  const stack = Stack.of(role);
  const parameter = (name: string) =>
    stack.formatArn({ service: 'ssm', resource: 'parameter', resourceName: name.slice(1) });
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'WriteOwnLogs',
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
      resources: logGroups.map((group) => group.logGroupArn),
    }),
  );
  const secretArns = secrets.map((name) => parameter(`${prefix}/secrets/${name}`));
  const readable = [
    parameter(`${prefix}/settings`),
    parameter(`${prefix}/settings/*`),
    parameter(`${prefix}/secret-names`),
    ...secretArns,
  ];
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'ReadOwnSettings',
      actions: ['ssm:GetParametersByPath', 'ssm:GetParameter', 'ssm:GetParameters'],
      resources: readable,
    }),
  );
  if (secretArns.length > 0) {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'DecryptOwnSecrets',
        actions: ['kms:Decrypt'],
        resources: [key.keyArn],
        conditions: {
          StringEquals: {
            'kms:ViaService': `ssm.${stack.region}.amazonaws.com`,
            'kms:EncryptionContext:PARAMETER_ARN': secretArns,
          },
        },
      }),
    );
  }
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'NoOtherParameters',
      effect: iam.Effect.DENY,
      actions: ['ssm:GetParameter', 'ssm:GetParameters', 'ssm:GetParametersByPath', 'ssm:GetParameterHistory'],
      notResources: [
        ...readable,
        stack.formatArn({
          service: 'ssm',
          region: '*',
          account: '',
          resource: 'parameter',
          resourceName: 'aws/service/*',
          arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
        }),
      ],
    }),
  );
}

/** What the health alarms watch. */
interface HealthTargets {
  label: string;
  targetGroup: elbv2.ApplicationTargetGroup;
  loadBalancer: elbv2.IApplicationLoadBalancer;
  dedicated: boolean;
  asg: autoscaling.AutoScalingGroup;
  database?: rds.DatabaseInstance | rds.DatabaseCluster;
  multiAz: boolean;
  key: kms.IKey;
}

/**
 * The environment's health: metric alarms by level (warning, degraded, severe), three composite alarms
 * `<label>-severe`, `<label>-degraded` and `<label>-health`, an encrypted alert topic, and a dashboard.
 */
function environmentHealth(scope: Construct, on: HealthTargets, spec: PlainHealthSpec, minCapacity: number): void {
  const t = {
    http5xxPercent: spec.http5xxPercent ?? 5,
    latencyP99Ms: spec.latencyP99Ms ?? 2000,
    unhealthyHosts: spec.unhealthyHosts ?? 1,
    cpuPercent: spec.cpuPercent ?? 85,
    dbCpuPercent: spec.dbCpuPercent ?? 85,
    dbFreeStorageGib: spec.dbFreeStorageGib ?? 2,
    dbReplicaLagSeconds: spec.dbReplicaLagSeconds ?? 30,
  };
  const label = on.label;
  const topic = new sns.Topic(scope, 'AlertTopic', {
    displayName: `Health of ${label}`,
    masterKey: on.key,
    enforceSSL: true,
  });
  for (const email of new Set(spec.alertEmails ?? [])) {
    topic.addSubscription(new subscriptions.EmailSubscription(email));
  }
  const notify = new cloudwatchActions.SnsAction(topic);

  const minute = Duration.minutes(1);
  const fiveMinutes = Duration.minutes(5);
  const sum = { period: minute, statistic: cloudwatch.Stats.SUM };
  const tg = on.targetGroup.metrics;
  const requests = tg.requestCount({ ...sum, label: 'Requests' });
  const target5xx = tg.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, { ...sum, label: '5xx of the instances' });
  const lb5xx = on.loadBalancer.metrics.httpCodeElb(elbv2.HttpCodeElb.ELB_5XX_COUNT, {
    ...sum,
    label: on.dedicated ? '5xx of the load balancer' : '5xx of the shared load balancer (every environment on it)',
  });
  const p50 = tg.targetResponseTime({ period: minute, statistic: cloudwatch.Stats.p(50), label: 'p50' });
  const p99 = tg.targetResponseTime({ period: minute, statistic: cloudwatch.Stats.p(99), label: 'p99' });
  const healthy = tg.healthyHostCount({ period: minute, statistic: cloudwatch.Stats.MINIMUM, label: 'Healthy' });
  const unhealthy = tg.unhealthyHostCount({ period: minute, statistic: cloudwatch.Stats.MAXIMUM, label: 'Unhealthy' });
  const cpu = new cloudwatch.Metric({
    namespace: 'AWS/EC2',
    metricName: 'CPUUtilization',
    dimensionsMap: { AutoScalingGroupName: on.asg.autoScalingGroupName },
    period: fiveMinutes,
    statistic: cloudwatch.Stats.AVERAGE,
    label: 'Instances CPU (%)',
  });
  const db = on.database;
  const dbCpu = db?.metricCPUUtilization({ period: fiveMinutes, label: 'Database CPU (%)' });
  const dbConnections = db?.metricDatabaseConnections({ period: fiveMinutes, label: 'Connections' });
  const dbFreeStorage =
    db instanceof rds.DatabaseInstance
      ? db.metricFreeStorageSpace({
          period: fiveMinutes,
          statistic: cloudwatch.Stats.MINIMUM,
          label: 'Free storage (bytes)',
        })
      : undefined;
  const replicaLag =
    db instanceof rds.DatabaseCluster && on.multiAz
      ? db.metric('AuroraReplicaLagMaximum', {
          period: minute,
          statistic: cloudwatch.Stats.MAXIMUM,
          label: 'Reader lag (ms)',
        })
      : undefined;
  const errorRate = (total: cloudwatch.IMetric, errors: cloudwatch.IMetric, what: string) =>
    new cloudwatch.MathExpression({
      // Under 10 requests a minute, one error is a large share.
      expression: 'IF(requests >= 10, 100 * FILL(errors, 0) / requests, 0)',
      usingMetrics: { requests: total, errors },
      period: minute,
      label: what,
    });

  const alarms: Record<'warning' | 'degraded' | 'severe', cloudwatch.Alarm[]> = {
    warning: [],
    degraded: [],
    severe: [],
  };
  const alarm = (
    id: string,
    level: keyof typeof alarms,
    description: string,
    metric: cloudwatch.IMetric,
    threshold: number,
    comparisonOperator: cloudwatch.ComparisonOperator,
    evaluationPeriods: number,
    datapointsToAlarm?: number,
  ) => {
    const created = new cloudwatch.Alarm(scope, id, {
      alarmDescription: `${label} is ${description}`,
      metric,
      threshold,
      comparisonOperator,
      evaluationPeriods,
      datapointsToAlarm,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    created.addAlarmAction(notify);
    alarms[level].push(created);
  };
  const above = cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD;
  const below = cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD;
  alarm(
    'ServerErrorsAlarm',
    'degraded',
    `Degraded: more than ${t.http5xxPercent}% of its requests answered with 5xx by its instances`,
    errorRate(requests, target5xx, 'Requests answered with 5xx by the instances (%)'),
    t.http5xxPercent,
    above,
    3,
    2,
  );
  if (on.dedicated) {
    alarm(
      'LoadBalancerErrorsAlarm',
      'degraded',
      `Degraded: more than ${t.http5xxPercent}% of its requests answered with 5xx by its load balancer`,
      errorRate(
        on.loadBalancer.metrics.requestCount(sum),
        lb5xx,
        'Requests answered with 5xx by the load balancer (%)',
      ),
      t.http5xxPercent,
      above,
      3,
      2,
    );
  }
  alarm(
    'UnhealthyHostsAlarm',
    'degraded',
    `Degraded: ${t.unhealthyHosts} or more of its instances fail the load balancer's health check`,
    unhealthy,
    t.unhealthyHosts,
    cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    2,
    2,
  );
  if (minCapacity > 0) {
    alarm(
      'NoHealthyHostAlarm',
      'severe',
      "Severe: no instance passes the load balancer's health check, visitors get errors",
      healthy,
      1,
      below,
      2,
      2,
    );
  }
  alarm(
    'LatencyAlarm',
    'warning',
    `in Warning: its instances' p99 response time is above ${t.latencyP99Ms} ms`,
    p99,
    t.latencyP99Ms / 1000,
    above,
    5,
    3,
  );
  alarm(
    'CpuAlarm',
    'warning',
    `in Warning: its instances' average CPU is above ${t.cpuPercent}%`,
    cpu,
    t.cpuPercent,
    above,
    3,
    3,
  );
  if (dbCpu) {
    alarm(
      'DatabaseCpuAlarm',
      'warning',
      `in Warning: its database's CPU is above ${t.dbCpuPercent}%`,
      dbCpu,
      t.dbCpuPercent,
      above,
      3,
      3,
    );
  }
  if (dbFreeStorage) {
    alarm(
      'DatabaseFreeStorageAlarm',
      'warning',
      `in Warning: its database has less than ${t.dbFreeStorageGib} GiB of free storage`,
      dbFreeStorage,
      t.dbFreeStorageGib * 1024 ** 3,
      below,
      1,
    );
  }
  if (replicaLag) {
    alarm(
      'ReplicaLagAlarm',
      'warning',
      `in Warning: its database's reader lags more than ${t.dbReplicaLagSeconds} s behind the writer`,
      replicaLag,
      t.dbReplicaLagSeconds * 1000,
      above,
      5,
      3,
    );
  }

  const composite = (id: string, name: string, members: cloudwatch.IAlarm[], description: string) =>
    new cloudwatch.CompositeAlarm(scope, id, {
      compositeAlarmName: name,
      alarmDescription: description,
      alarmRule: cloudwatch.AlarmRule.anyOf(
        ...members.map((member) => cloudwatch.AlarmRule.fromAlarm(member, cloudwatch.AlarmState.ALARM)),
      ),
    });
  const severe =
    alarms.severe.length > 0
      ? composite(
          'SevereAlarm',
          `${label}-severe`,
          alarms.severe,
          `${label} is Severe: no instance passes the health check`,
        )
      : undefined;
  severe?.addAlarmAction(notify);
  const degraded = composite(
    'DegradedAlarm',
    `${label}-degraded`,
    [...(severe ? [severe] : []), ...alarms.degraded],
    `${label} is Degraded or Severe: 5xx above ${t.http5xxPercent}%, unhealthy instances, or none healthy`,
  );
  degraded.addAlarmAction(notify);
  const health = composite(
    'HealthAlarm',
    `${label}-health`,
    [degraded, ...alarms.warning],
    `The health of ${label}: OK, or in ALARM when it is in Warning, Degraded or Severe`,
  );
  health.addOkAction(notify);

  const graph = (
    title: string,
    left: (cloudwatch.IMetric | undefined)[],
    right: (cloudwatch.IMetric | undefined)[] = [],
  ) =>
    new cloudwatch.GraphWidget({
      title,
      width: 8,
      height: 6,
      left: left.filter((m): m is cloudwatch.IMetric => m !== undefined),
      right: right.filter((m): m is cloudwatch.IMetric => m !== undefined),
    });
  const rows: cloudwatch.IWidget[][] = [
    [
      new cloudwatch.AlarmStatusWidget({
        title: `Health of ${label}`,
        width: 24,
        height: 4,
        alarms: [
          health,
          degraded,
          ...(severe ? [severe] : []),
          ...alarms.degraded,
          ...alarms.severe,
          ...alarms.warning,
        ],
      }),
    ],
    [
      graph('Requests and 5xx', [requests], [target5xx, lb5xx]),
      graph('Response time (s)', [p50, p99]),
      graph('Instances', [healthy, unhealthy], [cpu]),
    ],
  ];
  if (dbCpu) {
    rows.push([
      graph('Database CPU (%)', [dbCpu]),
      graph('Database connections', [dbConnections]),
      replicaLag ? graph('Reader lag (ms)', [replicaLag]) : graph('Database free storage (bytes)', [dbFreeStorage]),
    ]);
  }
  new cloudwatch.Dashboard(scope, 'Dashboard', {
    dashboardName: `${label}-${Stack.of(scope).region}`,
    widgets: rows,
  });
}

/** What the rollout acts on. */
interface RolloutTargets {
  label: string;
  amiParameter: ssm.StringParameter;
  asg: autoscaling.AutoScalingGroup;
  softwarePipelineName: string;
  deploymentGroup: codedeploy.ServerDeploymentGroup;
  minHealthyPercentage: number;
  key: kms.IKey;
  retention: logs.RetentionDays;
}

/**
 * The AMI rollout: one execution at a time; lock the software pipeline's Deploy stage; remember the current image;
 * write the new one and wait until SSM has validated it; wait for running deployments; refresh the instances and
 * wait for the refresh. Any failure after the write puts the previous image back and unlocks the Deploy stage.
 */
function rolloutStateMachine(scope: Construct, on: RolloutTargets): sfn.StateMachine {
  const stack = Stack.of(scope);
  const name = `${on.label}-rollout`;
  const taskTimeout = sfn.Timeout.duration(Duration.seconds(20));
  const call = (id: string, props: Omit<tasks.CallAwsServiceProps, 'taskTimeout'>) =>
    new tasks.CallAwsService(scope, id, { taskTimeout, ...props });
  const all = [sfn.Errors.ALL];
  const parameterName = on.amiParameter.parameterName;
  const readImage = (id: string, resultPath: string) =>
    call(id, {
      service: 'ssm',
      action: 'getParameter',
      iamAction: 'ssm:GetParameter',
      parameters: { Name: parameterName },
      iamResources: [on.amiParameter.parameterArn],
      resultSelector: { 'Value.$': '$.Parameter.Value', 'Version.$': '$.Parameter.Version' },
      resultPath,
    });
  const writeImage = (id: string, valuePath: string) =>
    call(id, {
      service: 'ssm',
      action: 'putParameter',
      iamAction: 'ssm:PutParameter',
      // SSM validates an aws:ec2:image value with the caller's ec2:DescribeImages.
      additionalIamStatements: [new iam.PolicyStatement({ actions: ['ec2:DescribeImages'], resources: ['*'] })],
      parameters: {
        Name: parameterName,
        Value: sfn.JsonPath.stringAt(valuePath),
        Type: 'String',
        DataType: 'aws:ec2:image',
        Overwrite: true,
      },
      iamResources: [on.amiParameter.parameterArn],
      resultSelector: { 'Version.$': '$.Version' },
      resultPath: '$.written',
    });
  const deployStage = (id: string, enable: boolean) =>
    call(id, {
      comment: enable
        ? 'Lets the software pipeline deploy again (Deploy stage)'
        : 'No software deployment starts while the image changes (Deploy stage)',
      service: 'codepipeline',
      action: enable ? 'enableStageTransition' : 'disableStageTransition',
      iamAction: enable ? 'codepipeline:EnableStageTransition' : 'codepipeline:DisableStageTransition',
      parameters: {
        PipelineName: on.softwarePipelineName,
        StageName: 'Deploy',
        TransitionType: 'Inbound',
        ...(enable ? {} : { Reason: `A new image is being rolled out to ${on.label}` }),
      },
      iamResources: [
        stack.formatArn({ service: 'codepipeline', resource: on.softwarePipelineName, resourceName: 'Deploy' }),
      ],
      resultPath: sfn.JsonPath.DISCARD,
    });
  const reason = (id: string, error: string, cause: string) =>
    new sfn.Pass(scope, id, { result: sfn.Result.fromObject({ Error: error, Cause: cause }), resultPath: '$.failure' });
  const startCount = (id: string, path: string) =>
    new sfn.Pass(scope, id, { result: sfn.Result.fromObject({ count: 0 }), resultPath: path });
  const addCount = (id: string, path: string) =>
    new sfn.Pass(scope, id, { parameters: { 'count.$': `States.MathAdd(${path}.count, 1)` }, resultPath: path });
  const asgName = on.asg.autoScalingGroupName;

  // Ends: every failure in RolloutFailed, its reason in $.failure.
  const failed = new sfn.Fail(scope, 'RolloutFailed', { errorPath: '$.failure.Error', causePath: '$.failure.Cause' });
  const alreadyRunning = new sfn.Fail(scope, 'RolloutAlreadyRunning', {
    error: 'RolloutAlreadyRunning',
    cause:
      'Another rollout of this environment is running (or its listing failed): this one changed nothing. Retry once it has ended.',
  });
  const unlockAfterFailure = deployStage('UnlockSoftwareDeploymentsAfterFailure', true);
  unlockAfterFailure.addCatch(failed, { errors: all, resultPath: '$.cleanupError' });
  unlockAfterFailure.next(failed);
  const unlock = deployStage('UnlockSoftwareDeployments', true);
  unlock.addCatch(failed, { errors: all, resultPath: '$.failure' });
  unlock.next(new sfn.Succeed(scope, 'FleetOnNewImage'));
  const restore = writeImage('RestorePreviousImage', '$.previous.Value');
  restore.addCatch(unlockAfterFailure, { errors: all, resultPath: '$.cleanupError' });
  restore.next(unlockAfterFailure);

  // One execution at a time.
  const listRunning = call('ListRunningRollouts', {
    comment: 'Executions of this state machine that are running, this one included',
    service: 'sfn',
    action: 'listExecutions',
    iamAction: 'states:ListExecutions',
    parameters: {
      StateMachineArn: sfn.JsonPath.stringAt('$$.StateMachine.Id'),
      StatusFilter: 'RUNNING',
      MaxResults: 2,
    },
    iamResources: [
      stack.formatArn({
        service: 'states',
        resource: 'stateMachine',
        resourceName: name,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      }),
    ],
    resultSelector: { 'count.$': 'States.ArrayLength($.Executions)' },
    resultPath: '$.running',
  });
  listRunning.addCatch(alreadyRunning, { errors: all, resultPath: '$.failure' });
  const lock = deployStage('LockSoftwareDeployments', false);
  lock.addCatch(unlockAfterFailure, { errors: all, resultPath: '$.failure' });
  const remember = readImage('ReadCurrentImage', '$.previous');
  remember.addCatch(unlockAfterFailure, { errors: all, resultPath: '$.failure' });

  // Write the new image, and wait until SSM has validated it (every 10 s, 12 times).
  const write = writeImage('WriteAmiParameter', '$.amiId');
  const waitForValidation = new sfn.Wait(scope, 'WaitForValidation', {
    time: sfn.WaitTime.duration(Duration.seconds(10)),
  });
  const readWritten = readImage('ReadWrittenImage', '$.current');
  const countValidation = addCount('CountValidationCheck', '$.checks');
  countValidation.next(waitForValidation);

  // No refresh while CodeDeploy deploys to these instances (every minute, 10 times).
  const listDeployments = call('ListActiveDeployments', {
    comment: 'Deployments of the software pipeline to these instances that have not finished',
    service: 'codedeploy',
    action: 'listDeployments',
    iamAction: 'codedeploy:ListDeployments',
    parameters: {
      ApplicationName: on.deploymentGroup.application.applicationName,
      DeploymentGroupName: on.deploymentGroup.deploymentGroupName,
      IncludeOnlyStatuses: ['Created', 'Queued', 'InProgress', 'Baking', 'Ready'],
    },
    iamResources: [on.deploymentGroup.deploymentGroupArn],
    resultSelector: { 'count.$': 'States.ArrayLength($.Deployments)' },
    resultPath: '$.activeDeployments',
  });
  const waitForDeployments = new sfn.Wait(scope, 'WaitForDeployments', {
    time: sfn.WaitTime.duration(Duration.seconds(60)),
  });
  const countDeployment = addCount('CountDeploymentCheck', '$.deploymentChecks');
  countDeployment.next(waitForDeployments);
  waitForDeployments.next(listDeployments);

  // Refresh the instances and wait for the refresh (every minute, 25 times); cancel it when it takes too long.
  const startRefresh = call('StartInstanceRefresh', {
    comment: 'Replaces every instance; new ones start on the new image',
    service: 'autoscaling',
    action: 'startInstanceRefresh',
    iamAction: 'autoscaling:StartInstanceRefresh',
    parameters: {
      AutoScalingGroupName: asgName,
      Preferences: {
        MinHealthyPercentage: on.minHealthyPercentage,
        MaxHealthyPercentage: on.minHealthyPercentage === 100 ? 200 : 100,
      },
    },
    iamResources: [on.asg.autoScalingGroupArn],
    resultSelector: { 'InstanceRefreshId.$': '$.InstanceRefreshId' },
    resultPath: '$.refresh',
  });
  const waitForRefresh = new sfn.Wait(scope, 'WaitForRefresh', { time: sfn.WaitTime.duration(Duration.seconds(60)) });
  const describeRefresh = call('DescribeInstanceRefresh', {
    service: 'autoscaling',
    action: 'describeInstanceRefreshes',
    iamAction: 'autoscaling:DescribeInstanceRefreshes',
    parameters: {
      AutoScalingGroupName: asgName,
      InstanceRefreshIds: sfn.JsonPath.array(sfn.JsonPath.stringAt('$.refresh.InstanceRefreshId')),
    },
    iamResources: ['*'],
    resultSelector: { 'Status.$': '$.InstanceRefreshes[0].Status' },
    resultPath: '$.status',
  });
  const cancelRefresh = call('CancelInstanceRefresh', {
    comment: 'Stops replacing instances: those replaced keep the new image, the next ones start on the previous one',
    service: 'autoscaling',
    action: 'cancelInstanceRefresh',
    iamAction: 'autoscaling:CancelInstanceRefresh',
    parameters: { AutoScalingGroupName: asgName },
    iamResources: [on.asg.autoScalingGroupArn],
    resultPath: '$.cancelled',
  });
  cancelRefresh.addCatch(restore, { errors: all, resultPath: '$.cleanupError' });
  cancelRefresh.next(restore);
  for (const task of [write, readWritten, startRefresh, listDeployments]) {
    task.addCatch(restore, { errors: all, resultPath: '$.failure' });
  }
  describeRefresh.addCatch(cancelRefresh, { errors: all, resultPath: '$.failure' });
  const countRefresh = addCount('CountRefreshCheck', '$.refreshChecks');
  countRefresh.next(waitForRefresh);

  const noDeployment = new sfn.Choice(scope, 'NoDeploymentInProgress')
    .when(sfn.Condition.numberEquals('$.activeDeployments.count', 0), startRefresh)
    .when(
      sfn.Condition.numberGreaterThanEquals('$.deploymentChecks.count', 10),
      reason(
        'DeploymentsStillRunning',
        'DeploymentsStillRunning',
        'A software deployment was still running after 10 minutes: the fleet was not refreshed.',
      ).next(restore),
    )
    .otherwise(countDeployment);
  const validated = new sfn.Choice(scope, 'ImageValidated')
    .when(
      sfn.Condition.and(
        sfn.Condition.stringEqualsJsonPath('$.current.Value', '$.amiId'),
        sfn.Condition.numberGreaterThanEqualsJsonPath('$.current.Version', '$.written.Version'),
      ),
      startCount('StartDeploymentChecks', '$.deploymentChecks').next(listDeployments),
    )
    .when(
      sfn.Condition.numberGreaterThanEquals('$.checks.count', 12),
      reason(
        'ImageNotValidated',
        'ImageNotValidated',
        'SSM did not accept the new image id within two minutes (an unknown or unavailable image).',
      ).next(restore),
    )
    .otherwise(countValidation);
  const refreshDone = new sfn.Choice(scope, 'RefreshDone')
    .when(sfn.Condition.stringEquals('$.status.Status', 'Successful'), unlock)
    .when(
      sfn.Condition.or(
        ...['Failed', 'Cancelled', 'RollbackSuccessful', 'RollbackFailed'].map((status) =>
          sfn.Condition.stringEquals('$.status.Status', status),
        ),
      ),
      new sfn.Pass(scope, 'RefreshFailed', {
        parameters: {
          Error: 'RefreshFailed',
          'Cause.$':
            "States.Format('The instance refresh ended {}: the fleet was not moved to the new image.', $.status.Status)",
        },
        resultPath: '$.failure',
      }).next(restore),
    )
    .when(
      sfn.Condition.numberGreaterThanEquals('$.refreshChecks.count', 25),
      reason(
        'RefreshTookTooLong',
        'RefreshTookTooLong',
        "The instance refresh had not ended after 25 minutes (the pipeline action's hour would run out): cancelled.",
      ).next(cancelRefresh),
    )
    .otherwise(countRefresh);
  listDeployments.next(noDeployment);
  startRefresh.next(startCount('StartRefreshChecks', '$.refreshChecks')).next(waitForRefresh);
  waitForRefresh.next(describeRefresh);
  describeRefresh.next(refreshDone);
  remember.next(write).next(startCount('StartValidationChecks', '$.checks')).next(waitForValidation);
  waitForValidation.next(readWritten);
  readWritten.next(validated);
  listRunning.next(
    new sfn.Choice(scope, 'OnlyRollout')
      .when(sfn.Condition.numberGreaterThan('$.running.count', 1), alreadyRunning)
      .otherwise(lock.next(remember)),
  );

  return new sfn.StateMachine(scope, 'Rollout', {
    comment: `Rolls a new image out to ${on.label}`,
    stateMachineName: name,
    definitionBody: sfn.DefinitionBody.fromChainable(listRunning),
    // Under the hour of CodePipeline's invoke action, above the longest run.
    timeout: Duration.minutes(58),
    tracingEnabled: true,
    logs: {
      destination: new logs.LogGroup(scope, 'RolloutLogs', { retention: on.retention, encryptionKey: on.key }),
      level: sfn.LogLevel.ALL,
      includeExecutionData: true,
    },
  });
}

/**
 * The Packer bake's EC2 permissions, scoped to what it launches and creates: resources tagged
 * `vending:packer-build=<build>` at creation, the build instance's security group, `packer_*` key pairs.
 */
function packerPermissions(project: codebuild.PipelineProject, build: string, instanceSg: ec2.ISecurityGroup): void {
  const stack = Stack.of(project);
  const ec2Arn = (resource: string, account: string = stack.account) =>
    `arn:${stack.partition}:ec2:${stack.region}:${account}:${resource}`;
  const [images, snapshots] = [ec2Arn('image/*', ''), ec2Arn('snapshot/*', '')];
  const [instances, volumes, keyPairs] = [ec2Arn('instance/*'), ec2Arn('volume/*'), ec2Arn('key-pair/packer_*')];
  const tagged = { 'aws:RequestTag/vending:packer-build': build };
  const own = { 'aws:ResourceTag/vending:packer-build': build };
  const statements: iam.PolicyStatementProps[] = [
    {
      sid: 'PackerDescribe',
      actions: [
        'ec2:DescribeImageAttribute',
        'ec2:DescribeImages',
        'ec2:DescribeInstanceStatus',
        'ec2:DescribeInstances',
        'ec2:DescribeKeyPairs',
        'ec2:DescribeRegions',
        'ec2:DescribeSecurityGroups',
        'ec2:DescribeSnapshots',
        'ec2:DescribeSubnets',
        'ec2:DescribeTags',
        'ec2:DescribeVolumes',
        'ec2:DescribeVpcs',
      ],
      resources: ['*'],
    },
    {
      sid: 'PackerLaunchFrom',
      actions: ['ec2:RunInstances'],
      resources: [
        images,
        ec2Arn('subnet/*'),
        ec2Arn(`security-group/${instanceSg.securityGroupId}`),
        keyPairs,
        ec2Arn('network-interface/*'),
      ],
    },
    {
      sid: 'PackerLaunchTagged',
      actions: ['ec2:RunInstances'],
      resources: [instances, volumes],
      conditions: { StringEquals: tagged },
    },
    {
      sid: 'PackerTagAtLaunch',
      actions: ['ec2:CreateTags'],
      resources: [instances, volumes, ec2Arn('network-interface/*'), keyPairs],
      conditions: { StringEquals: { 'ec2:CreateAction': ['RunInstances', 'CreateKeyPair'], ...tagged } },
    },
    {
      sid: 'PackerTagNewImages',
      actions: ['ec2:CreateTags'],
      resources: [images, snapshots],
      conditions: { StringEquals: { 'ec2:CreateAction': 'CreateImage', ...tagged } },
    },
    {
      sid: 'PackerTagOwnImages',
      actions: ['ec2:CreateTags'],
      resources: [images, snapshots],
      conditions: { StringEquals: { ...own, ...tagged } },
    },
    {
      sid: 'PackerModifyOwnImages',
      actions: ['ec2:ModifyImageAttribute'],
      resources: [images],
      conditions: { StringEquals: own },
    },
    {
      sid: 'PackerOwnInstances',
      actions: ['ec2:StopInstances', 'ec2:TerminateInstances', 'ec2:CreateImage'],
      resources: [instances],
      conditions: { StringEquals: own },
    },
    { sid: 'PackerCreateImage', actions: ['ec2:CreateImage'], resources: [images, snapshots] },
    { sid: 'PackerKeyPair', actions: ['ec2:CreateKeyPair', 'ec2:DeleteKeyPair'], resources: [keyPairs] },
    {
      sid: 'RetainImages',
      actions: ['ec2:DeregisterImage', 'ec2:DeleteSnapshot'],
      resources: [images, snapshots],
      conditions: { StringEquals: own },
    },
  ];
  for (const statement of statements) project.addToRolePolicy(new iam.PolicyStatement(statement));
}

class PlainEnvironment extends Stack {
  constructor(
    scope: Construct,
    id: string,
    spec: PlainEnvironmentSpec,
    platform: PlainPlatform,
    packerDirectory: string,
    priority: number,
  ) {
    super(scope, id, {
      env: { account: platform.account, region: platform.region },
      stackName: id,
      terminationProtection: spec.production,
    });
    const label = `${spec.customer}-${spec.environment}`;
    // Tags on the web tier and the two pipelines (the health alarms and dashboard have none).
    const tag = (tagged: Construct) => {
      Tags.of(tagged).add('vending:customer', spec.customer);
      Tags.of(tagged).add('vending:environment', spec.environment);
      for (const [key, value] of Object.entries(spec.tags)) Tags.of(tagged).add(key, value);
    };
    const vpc = platform.vpc;
    const artifacts = s3.Bucket.fromBucketAttributes(this, 'Artifacts', {
      bucketName: `${platform.node.id.replace(/-platform$/, '')}-artifacts-${platform.account}-${platform.region}`,
      encryptionKey: platform.key,
    });

    // Web tier.
    const web = new Construct(this, 'Web');
    tag(web);
    const data = new s3.Bucket(web, 'Data', {
      encryptionKey: platform.key,
      bucketKeyEnabled: true,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      objectLockEnabled: true,
      lifecycleRules: [
        {
          id: 'tidy-versions',
          abortIncompleteMultipartUploadAfter: Duration.days(7),
          noncurrentVersionExpiration: Duration.days(90),
        },
      ],
      serverAccessLogsBucket: s3.Bucket.fromBucketName(web, 'LogsBucket', platform.logsBucketName),
      serverAccessLogsPrefix: `s3-access-logs/${label}/`,
      removalPolicy: spec.production ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    // EventBridge notifications on the L1 bucket: the L2 prop adds a custom resource (a Lambda function) per stack.
    (data.node.defaultChild as s3.CfnBucket).notificationConfiguration = {
      eventBridgeConfiguration: { eventBridgeEnabled: true },
    };
    const amiParameterName = `/vending/${spec.customer}/${spec.environment}/ami-id`;
    const amiParameter = new ssm.StringParameter(web, 'AmiId', {
      parameterName: amiParameterName,
      stringValue: 'ami-00000000000000000',
      dataType: ssm.ParameterDataType.AWS_EC2_IMAGE,
    });
    const instanceSg = new ec2.SecurityGroup(web, 'InstanceSecurityGroup', {
      vpc,
      description: `${label} web servers`,
    });
    const instanceRole = new iam.Role(web, 'InstanceRole', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonSSMManagedInstanceCore')],
    });
    data.grantReadWrite(instanceRole);
    artifacts.grantRead(instanceRole, `software/${label}/*`);
    // Logs and settings: the instances' log groups, the application's settings and the names of its secrets.
    const prefix = `/vending/${spec.customer}/${spec.environment}`;
    const retention = spec.logRetentionDays as logs.RetentionDays;
    const instanceLogs = (Object.keys(INSTANCE_LOG_FILES) as InstanceLogKind[]).map(
      (kind) =>
        new logs.LogGroup(web, `${kind[0].toUpperCase()}${kind.slice(1)}Logs`, {
          logGroupName: `${prefix}/${kind}`,
          encryptionKey: platform.key,
          retention,
          removalPolicy: spec.production ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
        }),
    );
    const settings = new Construct(web, 'Settings');
    for (const [name, value] of Object.entries(spec.settings).sort(([a], [b]) => (a < b ? -1 : 1))) {
      new ssm.StringParameter(settings, name, {
        parameterName: `${prefix}/settings/${name}`,
        stringValue: value,
        tier: ssm.ParameterTier.STANDARD,
        description: `Setting ${name} of ${label}`,
      });
    }
    if (spec.secrets.length > 0) {
      new ssm.StringListParameter(web, 'SecretNames', {
        parameterName: `${prefix}/secret-names`,
        stringListValue: spec.secrets,
        tier: ssm.ParameterTier.STANDARD,
        description: `Secrets of ${label} (SecureString parameters under ${prefix}/secrets/)`,
      });
    }
    grantInstanceLogsAndSettings(instanceRole, prefix, spec.secrets, platform.key, instanceLogs);
    const userData = instanceUserData(label, prefix, platform.region);
    const launchTemplate = new ec2.LaunchTemplate(web, 'LaunchTemplate', {
      machineImage: ec2.MachineImage.fromSsmParameter(amiParameterName),
      instanceType: new ec2.InstanceType(spec.instanceType),
      role: instanceRole,
      securityGroup: instanceSg,
      requireImdsv2: true,
      detailedMonitoring: true,
      userData,
      blockDevices: [
        {
          deviceName: '/dev/xvda',
          volume: ec2.BlockDeviceVolume.ebs(20, { encrypted: true, volumeType: ec2.EbsDeviceVolumeType.GP3 }),
        },
      ],
    });
    const scalingTopic = new sns.Topic(web, 'ScalingEvents', {
      enforceSSL: true,
      masterKey: kms.Alias.fromAliasName(web, 'SnsKey', 'alias/aws/sns'),
    });
    const asg = new autoscaling.AutoScalingGroup(web, 'Instances', {
      vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      launchTemplate,
      minCapacity: spec.minCapacity,
      maxCapacity: spec.maxCapacity,
      healthChecks: autoscaling.HealthChecks.withAdditionalChecks({
        additionalTypes: [autoscaling.AdditionalHealthCheckType.ELB],
        gracePeriod: Duration.minutes(5),
      }),
      notifications: [{ topic: scalingTopic }],
    });
    const targetGroup = new elbv2.ApplicationTargetGroup(web, 'TargetGroup', {
      vpc,
      port: 80,
      protocol: elbv2.ApplicationProtocol.HTTP,
      targets: [asg],
      deregistrationDelay: Duration.seconds(30),
      healthCheck: { path: spec.healthCheckPath, healthyHttpCodes: '200-399', interval: Duration.seconds(30) },
    });
    let loadBalancer: elbv2.IApplicationLoadBalancer = platform.loadBalancer;
    if (spec.certificateArn) {
      const alb = new elbv2.ApplicationLoadBalancer(web, 'LoadBalancer', {
        vpc,
        internetFacing: true,
        deletionProtection: spec.production,
        dropInvalidHeaderFields: true,
      });
      alb.logAccessLogs(platform.logs, `alb/${label}`);
      const listener = alb.addListener('Https', {
        port: 443,
        certificates: [elbv2.ListenerCertificate.fromArn(spec.certificateArn)],
        sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
        defaultAction: elbv2.ListenerAction.fixedResponse(404),
      });
      listener.addTargetGroups('Host', {
        priority: 1,
        conditions: [elbv2.ListenerCondition.hostHeaders([spec.host])],
        targetGroups: [targetGroup],
      });
      alb.addRedirect();
      loadBalancer = alb;
    } else {
      new elbv2.ApplicationListenerRule(web, 'Rule', {
        listener: platform.listener,
        priority,
        conditions: [elbv2.ListenerCondition.hostHeaders([spec.host])],
        action: elbv2.ListenerAction.forward([targetGroup]),
      });
      asg.connections.allowFrom(platform.loadBalancer, ec2.Port.tcp(80), 'HTTP from the shared load balancer');
    }
    asg.scaleOnCpuUtilization('Cpu', { targetUtilizationPercent: spec.targetCpuPercent });
    if (spec.targetRequestsPerInstance !== undefined) {
      asg.scaleOnRequestCount('Requests', { targetRequestsPerMinute: spec.targetRequestsPerInstance });
    }
    const database = spec.database
      ? databaseOf(web, spec.database, vpc, spec.production, platform.key, platform.databaseMonitoringRole)
      : undefined;
    database?.connections.allowDefaultPortFrom(asg, 'the web servers');

    // Health: alarms by level, composite alarms, alert topic and dashboard.
    environmentHealth(
      new Construct(this, 'Health'),
      {
        label,
        targetGroup,
        loadBalancer,
        dedicated: spec.certificateArn !== undefined,
        asg,
        database,
        multiAz: spec.database?.multiAz ?? false,
        key: platform.key,
      },
      spec.health,
      spec.minCapacity,
    );

    // Software pipeline: source, build, approval in production, CodeDeploy.
    const delivery = new Construct(this, 'Delivery');
    tag(delivery);
    const build = new codebuild.PipelineProject(delivery, 'Build', {
      projectName: `${label}_software`,
      description: `Builds the software of ${label} with the buildspec.yml of its repository`,
      buildSpec: codebuild.BuildSpec.fromSourceFilename('buildspec.yml'),
      encryptionKey: platform.key,
      logging: { cloudWatch: { logGroup: logGroup(delivery, 'BuildLogs', platform.key) } },
      environment: {
        buildImage: spec.buildImage
          ? codebuild.LinuxBuildImage.fromEcrRepository(
              ecr.Repository.fromRepositoryName(delivery, 'BuildImage', spec.buildImage.ecrRepository),
              spec.buildImage.tag,
            )
          : codebuild.LinuxBuildImage.STANDARD_7_0,
        environmentVariables: {
          VENDING_CUSTOMER: { value: spec.customer },
          VENDING_ENVIRONMENT: { value: spec.environment },
        },
      },
    });
    const application = new codedeploy.ServerApplication(delivery, 'Application', { applicationName: label });
    // The deployment's alarms: each stops and rolls back a deployment, and opens an OpsItem.
    const maxPercent = spec.health.http5xxPercent ?? 5;
    const minute = { period: Duration.minutes(1), statistic: cloudwatch.Stats.SUM };
    const errors = new cloudwatch.Alarm(delivery, 'ServerErrorAlarm', {
      alarmDescription: `More than ${maxPercent}% of the requests to ${label} answered with 5xx by its instances: stops and rolls back a deployment`,
      metric: new cloudwatch.MathExpression({
        expression: 'IF(requests >= 10, 100 * FILL(errors, 0) / requests, 0)',
        usingMetrics: {
          requests: targetGroup.metrics.requestCount(minute),
          errors: targetGroup.metrics.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, minute),
        },
        period: Duration.minutes(1),
        label: 'Requests answered with 5xx by the instances (%)',
      }),
      threshold: maxPercent,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const unhealthyHosts = new cloudwatch.Alarm(delivery, 'UnhealthyHostsAlarm', {
      alarmDescription: `Instances of ${label} failing the load balancer's health check: stops and rolls back a deployment`,
      metric: targetGroup.metrics.unhealthyHostCount({
        period: Duration.minutes(1),
        statistic: cloudwatch.Stats.MAXIMUM,
      }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 2,
      datapointsToAlarm: 2,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const opsItem = new cloudwatchActions.SsmAction(
      spec.production ? cloudwatchActions.OpsItemSeverity.HIGH : cloudwatchActions.OpsItemSeverity.MEDIUM,
      cloudwatchActions.OpsItemCategory.AVAILABILITY,
    );
    for (const alarm of [errors, unhealthyHosts]) alarm.addAlarmAction(opsItem);
    const group = new codedeploy.ServerDeploymentGroup(delivery, 'DeploymentGroup', {
      application,
      autoScalingGroups: [asg],
      installAgent: false,
      role: platform.codeDeployRole,
      deploymentConfig: DEPLOYMENT_CONFIGS[spec.deploymentConfig],
      loadBalancers: [codedeploy.LoadBalancer.application(targetGroup)],
      alarms: [errors, unhealthyHosts],
      autoRollback: { failedDeployment: true, deploymentInAlarm: true },
    });
    // One role for the pipeline and its actions.
    // EventBridge starts the pipelines with the platform's role (it may start any pipeline), not changed from here.
    const eventsRole = (owner: Construct) =>
      iam.Role.fromRoleArn(owner, 'EventsRole', platform.pipelineEventsRole.roleArn, { mutable: false });
    const deliveryEvents = eventsRole(delivery);
    const softwareRole = new iam.Role(delivery, 'PipelineRole', {
      assumedBy: new iam.ServicePrincipal('codepipeline.amazonaws.com'),
    });
    const source = new codepipeline.Artifact('Source');
    const bundle = new codepipeline.Artifact('Bundle');
    const stages: codepipeline.StageProps[] = [
      { stageName: 'Source', actions: [sourceAction(delivery, spec.source, source, softwareRole, deliveryEvents)] },
      {
        stageName: 'Build',
        actions: [
          new actions.CodeBuildAction({
            actionName: 'Build',
            project: build,
            input: source,
            outputs: [bundle],
            role: softwareRole,
          }),
        ],
      },
    ];
    if (spec.production) {
      stages.push({
        stageName: 'Approve',
        actions: [
          new actions.ManualApprovalAction({
            actionName: 'Approve',
            notificationTopic: approvalTopic(delivery, spec.approvalEmails),
            role: softwareRole,
          }),
        ],
      });
    }
    stages.push({
      stageName: 'Deploy',
      actions: [
        new actions.CodeDeployServerDeployAction({
          actionName: 'Deploy',
          input: bundle,
          deploymentGroup: group,
          role: softwareRole,
        }),
      ],
    });
    const softwarePipeline = new codepipeline.Pipeline(delivery, 'Pipeline', {
      role: softwareRole,
      pipelineName: `${label}-software`,
      pipelineType: codepipeline.PipelineType.V2,
      artifactBucket: artifacts,
      restartExecutionOnUpdate: false,
      stages,
    });
    startOnObjectCreated(delivery, spec.source, softwarePipeline, deliveryEvents);

    // AMI pipeline: source, Packer bake, approval in production, rollout, schedule.
    const ami = new Construct(this, 'Ami');
    tag(ami);
    const packer = new s3assets.Asset(ami, 'PackerTemplate', { path: packerDirectory });
    const bakeSg = new ec2.SecurityGroup(ami, 'BakeSecurityGroup', {
      vpc,
      allowAllOutbound: false,
      description: `${label} bake`,
    });
    bakeSg.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS');
    const buildInstanceSg = new ec2.SecurityGroup(ami, 'BuildInstanceSecurityGroup', {
      vpc,
      allowAllOutbound: false,
      description: `${label} Packer instance`,
    });
    buildInstanceSg.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS');
    buildInstanceSg.connections.allowFrom(bakeSg, ec2.Port.tcp(22), 'SSH from the bake');
    const bake = new codebuild.PipelineProject(ami, 'Bake', {
      description: `Bakes the AMI of ${label} with Packer`,
      vpc,
      subnetSelection: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      securityGroups: [bakeSg],
      encryptionKey: platform.key,
      timeout: Duration.hours(2),
      logging: { cloudWatch: { logGroup: logGroup(ami, 'BakeLogs', platform.key) } },
      environment: {
        buildImage: codebuild.LinuxBuildImage.STANDARD_7_0,
        environmentVariables: {
          PACKER_TEMPLATE: { value: packer.s3ObjectUrl },
          PACKER_VERSION: { value: '1.14.2' },
          BUILD_REGION: { value: platform.region },
          BASE_IMAGE_PARAMETER: { value: '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64' },
          KEEP_IMAGES: { value: '5' },
          PACKER_BUILD_TAG: { value: `${spec.customer}/${spec.environment}` },
          PIPELINE_NAME: { value: `${label}-ami` },
          AMI_PARAMETER: { value: amiParameterName },
          SECURITY_GROUP: { value: buildInstanceSg.securityGroupId },
          SUBNET: { value: vpc.selectSubnets({ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }).subnetIds[0] },
        },
      },
      buildSpec: codebuild.BuildSpec.fromObject({
        version: '0.2',
        phases: {
          install: {
            commands: ['cd "$CODEBUILD_SRC_DIR_PackerTemplate"', 'bash install-packer.sh "$PACKER_VERSION"'],
          },
          build: {
            commands: [
              'cd "$CODEBUILD_SRC_DIR_PackerTemplate"',
              'REPOSITORY_DIR="$CODEBUILD_SRC_DIR" bash bake.sh',
              'bash ami-from-manifest.sh > "$CODEBUILD_SRC_DIR/ami.json"',
            ],
          },
        },
        artifacts: { files: ['ami.json'] },
      }),
    });
    packer.grantRead(bake);
    packerPermissions(bake, `${spec.customer}/${spec.environment}`, buildInstanceSg);
    amiParameter.grantRead(bake);
    const rollout = rolloutStateMachine(ami, {
      label,
      amiParameter,
      asg,
      softwarePipelineName: softwarePipeline.pipelineName,
      deploymentGroup: group,
      minHealthyPercentage: spec.production ? 100 : 50,
      key: platform.key,
      retention: logs.RetentionDays.ONE_YEAR,
    });
    const amiEvents = eventsRole(ami);
    const amiRole = new iam.Role(ami, 'PipelineRole', {
      assumedBy: new iam.ServicePrincipal('codepipeline.amazonaws.com'),
    });
    const amiSource = new codepipeline.Artifact('Source');
    const packerSource = new codepipeline.Artifact('PackerTemplate');
    const baked = new codepipeline.Artifact('Image');
    const repository = sourceAction(ami, spec.amiSource, amiSource, amiRole, amiEvents);
    const amiStages: codepipeline.StageProps[] = [
      {
        stageName: 'Source',
        actions: [
          repository,
          // The Packer template and bake scripts: the asset, a second source of the bake.
          new actions.S3SourceAction({
            actionName: 'PackerTemplate',
            bucket: packer.bucket,
            bucketKey: packer.s3ObjectKey,
            trigger: actions.S3Trigger.NONE,
            output: packerSource,
            role: amiRole,
          }),
        ],
      },
      {
        stageName: 'Bake',
        actions: [
          new actions.CodeBuildAction({
            actionName: 'Packer',
            project: bake,
            input: amiSource,
            extraInputs: [packerSource],
            outputs: [baked],
            role: amiRole,
            variablesNamespace: 'Bake',
            environmentVariables: {
              PIPELINE_EXECUTION_ID: { value: '#{codepipeline.PipelineExecutionId}' },
            },
          }),
        ],
      },
    ];
    if (spec.production) {
      amiStages.push({
        stageName: 'Approve',
        actions: [
          new actions.ManualApprovalAction({
            actionName: 'Approve',
            notificationTopic: approvalTopic(ami, spec.approvalEmails),
            role: amiRole,
          }),
        ],
      });
    }
    amiStages.push({
      stageName: 'Rollout',
      actions: [
        new actions.StepFunctionInvokeAction({
          actionName: 'Rollout',
          stateMachine: rollout,
          role: amiRole,
          stateMachineInput: actions.StateMachineInput.filePath(baked.atPath('ami.json')),
        }),
      ],
    });
    const amiPipeline = new codepipeline.Pipeline(ami, 'Pipeline', {
      role: amiRole,
      pipelineName: `${label}-ami`,
      pipelineType: codepipeline.PipelineType.V2,
      artifactBucket: artifacts,
      restartExecutionOnUpdate: false,
      stages: amiStages,
      // From a connection: a push to the branch that changes the image's files (packer/) starts a bake.
      triggers:
        spec.amiSource.kind === 'connection'
          ? [
              {
                providerType: codepipeline.ProviderType.CODE_STAR_SOURCE_CONNECTION,
                gitConfiguration: {
                  sourceAction: repository,
                  pushFilter: [{ branchesIncludes: [spec.amiSource.branch], filePathsIncludes: ['packer/**'] }],
                },
              },
            ]
          : undefined,
    });
    startOnObjectCreated(ami, spec.amiSource, amiPipeline, amiEvents);
    new events.Rule(ami, 'Schedule', {
      description: `Rebuilds the AMI of ${label} so base-image patches arrive without a commit`,
      schedule: events.Schedule.expression(spec.amiSchedule),
      targets: [new targets.CodePipeline(amiPipeline, { eventRole: amiEvents })],
    });
  }
}

/** Adds the plain fleet to `app`: `<platform>-platform` and one `<customer>-<environment>` stack per environment. */
export function plainFleet(app: App, spec: PlainFleetSpec, packerDirectory: string): void {
  const platform = new PlainPlatform(app, `${spec.platform.name}-platform`, spec.platform);
  let priority = 0;
  for (const environment of spec.environments) {
    if (!environment.certificateArn) priority++;
    new PlainEnvironment(
      app,
      `${environment.customer}-${environment.environment}`,
      environment,
      platform,
      packerDirectory,
      priority,
    );
  }
  platform.addHealth(
    spec.platform,
    spec.environments.map((e) => `${e.customer}-${e.environment}`),
  );
}
