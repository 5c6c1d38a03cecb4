/*
 * The plain aws-cdk-lib app of the fleet benchmark (scripts/bench-fleet.ts): the fleet a user would write by
 * hand with aws-cdk-lib's L2 constructs, without this library. A platform stack (VPC with NAT instances and
 * flow logs, key, artifacts and logs buckets, internet-facing ALB with an HTTPS listener) and, per environment, a
 * stack with what CustomerEnvironment builds: data bucket, AMI parameter, launch template, Auto Scaling group
 * with scaling policies and a notification topic, target group, a listener rule on the platform's listener or a
 * dedicated ALB, an RDS instance or Aurora cluster when the environment has a database, an AMI pipeline (source,
 * Packer bake in CodeBuild from one shared template asset, approval in production, a Step Functions rollout,
 * schedule) and a software pipeline (source, CodeBuild, approval in production, CodeDeploy with alarms).
 *
 * It is written as a user would write it, not to mirror the library's templates resource by resource: the
 * benchmark prints both resource counts, and compares costs per resource.
 */
import {
  App,
  Duration,
  RemovalPolicy,
  Stack,
  Tags,
  aws_autoscaling as autoscaling,
  aws_cloudwatch as cloudwatch,
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
  amiSchedule?: string;
  source: PlainSource;
  amiSource: PlainSource;
  buildImage?: { ecrRepository: string; tag?: string };
  deploymentConfig: 'one-at-a-time' | 'half-at-a-time' | 'all-at-once';
  tags: Record<string, string>;
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

  constructor(scope: Construct, id: string, spec: PlainFleetSpec['platform']) {
    super(scope, id, {
      env: { account: spec.account, region: spec.region },
      stackName: id,
      terminationProtection: true,
    });
    this.key = new kms.Key(this, 'Key', { enableKeyRotation: true, removalPolicy: RemovalPolicy.RETAIN });
    this.logs = new s3.Bucket(this, 'Logs', {
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
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr(spec.cidr),
      maxAzs: spec.maxAzs,
      natGatewayProvider: ec2.NatProvider.instanceV2({ instanceType: new ec2.InstanceType('t3.nano') }),
      subnetConfiguration: [
        { name: 'Public', subnetType: ec2.SubnetType.PUBLIC },
        { name: 'Private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
        { name: 'Isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      ],
      flowLogs: { All: { destination: ec2.FlowLogDestination.toS3(this.logs, 'vpc-flow-logs/') } },
      gatewayEndpoints: { S3: { service: ec2.GatewayVpcEndpointAwsService.S3 } },
    });
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
}

const DEPLOYMENT_CONFIGS: Record<PlainEnvironmentSpec['deploymentConfig'], codedeploy.IServerDeploymentConfig> = {
  'one-at-a-time': codedeploy.ServerDeploymentConfig.ONE_AT_A_TIME,
  'half-at-a-time': codedeploy.ServerDeploymentConfig.HALF_AT_A_TIME,
  'all-at-once': codedeploy.ServerDeploymentConfig.ALL_AT_ONCE,
};

function sourceAction(scope: Construct, source: PlainSource, output: codepipeline.Artifact): codepipeline.IAction {
  switch (source.kind) {
    case 'connection':
      return new actions.CodeStarConnectionsSourceAction({
        actionName: 'Source',
        connectionArn: source.connectionArn,
        owner: source.owner,
        repo: source.repo,
        branch: source.branch,
        output,
      });
    case 'codecommit':
      return new actions.CodeCommitSourceAction({
        actionName: 'Source',
        repository: codecommit.Repository.fromRepositoryName(scope, 'Repository', source.repository),
        branch: source.branch,
        output,
      });
    case 's3':
      return new actions.S3SourceAction({
        actionName: 'Source',
        bucket: s3.Bucket.fromBucketName(scope, 'SourceBucket', source.bucket),
        bucketKey: source.key,
        trigger: actions.S3Trigger.EVENTS,
        output,
      });
  }
}

function approvalTopic(scope: Construct, emails: string[]): sns.Topic {
  const topic = new sns.Topic(scope, 'Approvals', {
    enforceSSL: true,
    masterKey: kms.Alias.fromAliasName(scope, 'SnsKey', 'alias/aws/sns'),
  });
  for (const email of emails) topic.addSubscription(new subscriptions.EmailSubscription(email));
  return topic;
}

function logGroup(scope: Construct, id: string): logs.LogGroup {
  return new logs.LogGroup(scope, id, { retention: logs.RetentionDays.ONE_YEAR, removalPolicy: RemovalPolicy.RETAIN });
}

function databaseOf(
  scope: Construct,
  spec: NonNullable<PlainEnvironmentSpec['database']>,
  vpc: ec2.IVpc,
  production: boolean,
) {
  const common = {
    vpc,
    vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
    storageEncrypted: true,
    credentials: rds.Credentials.fromGeneratedSecret(spec.username),
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
  });
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
    Tags.of(this).add('vending:customer', spec.customer);
    Tags.of(this).add('vending:environment', spec.environment);
    for (const [key, value] of Object.entries(spec.tags)) Tags.of(this).add(key, value);
    const vpc = platform.vpc;
    const artifacts = s3.Bucket.fromBucketAttributes(this, 'Artifacts', {
      bucketName: `${platform.node.id.replace(/-platform$/, '')}-artifacts-${platform.account}-${platform.region}`,
      encryptionKey: platform.key,
    });

    // Web tier.
    const web = new Construct(this, 'Web');
    const data = new s3.Bucket(web, 'Data', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      versioned: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
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
    const userData = ec2.UserData.forLinux();
    userData.addCommands(
      'dnf install -y ruby wget',
      `wget -q https://aws-codedeploy-${platform.region}.s3.${platform.region}.amazonaws.com/latest/install`,
      'chmod +x ./install && ./install auto',
    );
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
    if (spec.database) {
      const database = databaseOf(web, spec.database, vpc, spec.production);
      database.connections.allowDefaultPortFrom(asg, 'the web servers');
    }

    // AMI pipeline: source, Packer bake, approval in production, rollout, schedule.
    const ami = new Construct(this, 'Ami');
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
      vpc,
      subnetSelection: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      securityGroups: [bakeSg],
      encryptionKey: platform.key,
      timeout: Duration.hours(2),
      logging: { cloudWatch: { logGroup: logGroup(ami, 'BakeLogs') } },
      environment: {
        buildImage: codebuild.LinuxBuildImage.STANDARD_7_0,
        environmentVariables: {
          PACKER_TEMPLATE: { value: packer.s3ObjectUrl },
          AMI_PARAMETER: { value: amiParameterName },
          SECURITY_GROUP: { value: buildInstanceSg.securityGroupId },
          SUBNET: { value: vpc.selectSubnets({ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }).subnetIds[0] },
        },
      },
      buildSpec: codebuild.BuildSpec.fromObject({
        version: '0.2',
        phases: {
          install: {
            commands: ['aws s3 cp "$PACKER_TEMPLATE" packer.zip', 'unzip packer.zip', 'bash install-packer.sh'],
          },
          build: { commands: ['bash bake.sh', 'bash ami-from-manifest.sh > ami.json'] },
        },
        artifacts: { files: ['ami.json'] },
      }),
    });
    packer.grantRead(bake);
    bake.addToRolePolicy(
      new iam.PolicyStatement({
        actions: [
          'ec2:RunInstances',
          'ec2:CreateTags',
          'ec2:CreateImage',
          'ec2:StopInstances',
          'ec2:TerminateInstances',
          'ec2:CreateKeyPair',
          'ec2:DeleteKeyPair',
        ],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:RequestTag/vending:build': label } },
      }),
    );
    bake.addToRolePolicy(new iam.PolicyStatement({ actions: ['ec2:Describe*'], resources: ['*'] }));
    amiParameter.grantRead(bake);
    const rolloutLogs = logGroup(ami, 'RolloutLogs');
    const writeAmi = new tasks.CallAwsService(ami, 'WriteAmiParameter', {
      service: 'ssm',
      action: 'putParameter',
      parameters: {
        Name: amiParameterName,
        Value: sfn.JsonPath.stringAt('$.imageId'),
        Overwrite: true,
        Type: 'String',
      },
      iamResources: [amiParameter.parameterArn],
    });
    const refresh = new tasks.CallAwsService(ami, 'StartInstanceRefresh', {
      service: 'autoscaling',
      action: 'startInstanceRefresh',
      parameters: { AutoScalingGroupName: asg.autoScalingGroupName, Preferences: { MinHealthyPercentage: 100 } },
      iamResources: [asg.autoScalingGroupArn],
    });
    const rollout = new sfn.StateMachine(ami, 'Rollout', {
      definitionBody: sfn.DefinitionBody.fromChainable(writeAmi.next(refresh)),
      logs: { destination: rolloutLogs, level: sfn.LogLevel.ALL },
      tracingEnabled: true,
    });
    const amiSource = new codepipeline.Artifact('Source');
    const baked = new codepipeline.Artifact('Image');
    const amiStages: codepipeline.StageProps[] = [
      { stageName: 'Source', actions: [sourceAction(ami, spec.amiSource, amiSource)] },
      {
        stageName: 'Bake',
        actions: [
          new actions.CodeBuildAction({ actionName: 'Bake', project: bake, input: amiSource, outputs: [baked] }),
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
          stateMachineInput: actions.StateMachineInput.filePath(baked.atPath('ami.json')),
        }),
      ],
    });
    const amiPipeline = new codepipeline.Pipeline(ami, 'Pipeline', {
      pipelineName: `${label}-ami`,
      pipelineType: codepipeline.PipelineType.V2,
      artifactBucket: artifacts,
      restartExecutionOnUpdate: false,
      stages: amiStages,
    });
    if (spec.amiSchedule) {
      new events.Rule(ami, 'Schedule', {
        schedule: events.Schedule.expression(spec.amiSchedule),
        targets: [new targets.CodePipeline(amiPipeline)],
      });
    }

    // Software pipeline: source, build, approval in production, CodeDeploy.
    const delivery = new Construct(this, 'Delivery');
    const build = new codebuild.PipelineProject(delivery, 'Build', {
      encryptionKey: platform.key,
      logging: { cloudWatch: { logGroup: logGroup(delivery, 'BuildLogs') } },
      environment: {
        buildImage: spec.buildImage
          ? codebuild.LinuxBuildImage.fromEcrRepository(
              ecr.Repository.fromRepositoryName(delivery, 'BuildImage', spec.buildImage.ecrRepository),
              spec.buildImage.tag,
            )
          : codebuild.LinuxBuildImage.STANDARD_7_0,
      },
    });
    const application = new codedeploy.ServerApplication(delivery, 'Application', { applicationName: label });
    const errors = new cloudwatch.Alarm(delivery, 'Http5xx', {
      metric: targetGroup.metrics.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, {
        period: Duration.minutes(1),
      }),
      threshold: 5,
      evaluationPeriods: 2,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    new cloudwatch.Alarm(delivery, 'UnhealthyHosts', {
      metric: targetGroup.metrics.unhealthyHostCount({ period: Duration.minutes(1) }),
      threshold: 1,
      evaluationPeriods: 3,
    });
    const group = new codedeploy.ServerDeploymentGroup(delivery, 'DeploymentGroup', {
      application,
      autoScalingGroups: [asg],
      installAgent: false,
      deploymentConfig: DEPLOYMENT_CONFIGS[spec.deploymentConfig],
      loadBalancers: [codedeploy.LoadBalancer.application(targetGroup)],
      alarms: [errors],
      autoRollback: { failedDeployment: true, deploymentInAlarm: true },
    });
    const source = new codepipeline.Artifact('Source');
    const bundle = new codepipeline.Artifact('Bundle');
    const stages: codepipeline.StageProps[] = [
      { stageName: 'Source', actions: [sourceAction(delivery, spec.source, source)] },
      {
        stageName: 'Build',
        actions: [
          new actions.CodeBuildAction({ actionName: 'Build', project: build, input: source, outputs: [bundle] }),
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
          }),
        ],
      });
    }
    stages.push({
      stageName: 'Deploy',
      actions: [
        new actions.CodeDeployServerDeployAction({ actionName: 'Deploy', input: bundle, deploymentGroup: group }),
      ],
    });
    new codepipeline.Pipeline(delivery, 'Pipeline', {
      pipelineName: `${label}-software`,
      pipelineType: codepipeline.PipelineType.V2,
      artifactBucket: artifacts,
      restartExecutionOnUpdate: false,
      stages,
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
}
