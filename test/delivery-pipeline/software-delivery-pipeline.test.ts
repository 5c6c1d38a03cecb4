/*
 * SoftwareDeliveryPipeline: what a user of the construct relies on, asserted on synthesized templates (plain Apps),
 * the props and configs it refuses, and at the end the compliance gate (cdk-nag, Control Tower rules, cfn-lint,
 * aws-cdk-lib's validation) on production and staging pipelines of each kind of source.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as codecommit from 'aws-cdk-lib/aws-codecommit';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { stringify } from 'yaml';
import {
  acknowledgeSoftwarePipeline,
  ARTIFACTS_BUCKET,
  CONNECTION_ARN,
  connectionSource,
  defaultProps,
  PipelinePropsOf,
  PipelineSynth,
  synthPipeline,
} from './fixture';
import {
  ConfigLoader,
  CustomerConfig,
  CustomerWebTier,
  DeploymentPolicy,
  DeploymentStrategy,
  SharedPlatform,
} from '../../src';
import { SoftwareDeliveryPipeline } from '../../src/delivery-pipeline/software-delivery-pipeline';
import { approvalAction } from '../../src/pipeline-common/approval';
import { PipelineSource } from '../../src/pipeline-common/pipeline-source';
import { expectCompliant, newTestApp } from '../support/compliance';
import { acknowledgeWebTier, ENV, platformStack } from '../support/platform-fixture';
import {
  addWebTier,
  FLEET,
  importOf,
  logicalId,
  newPlatform,
  only,
  policyStatementsOfRole,
  propertiesOf,
  resourcesOf,
  tagsOf,
} from '../web-tier/fixture';

const ARTIFACTS_ARN = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:s3:::${ARTIFACTS_BUCKET}`]] };
const artifactsObjects = (prefix: string) => ({
  'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:s3:::${ARTIFACTS_BUCKET}/${prefix}*`]],
});
const ECR_REPOSITORY_ARN = {
  'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ecr:eu-west-1:123456789012:repository/acme-build']],
};

function pipelineOf(s: PipelineSynth): any {
  return propertiesOf(s.template, s.pipeline.pipeline);
}

function stageNames(s: PipelineSynth): string[] {
  return pipelineOf(s).Stages.map((stage: any) => stage.Name);
}

function actionOf(s: PipelineSynth, stageName: string): any {
  const stage = pipelineOf(s).Stages.find((x: any) => x.Name === stageName);
  expect(stage.Actions).toHaveLength(1);
  return stage.Actions[0];
}

/** Statements of the role an action of the pipeline runs with: the pipeline's own (no action has a role). */
function actionRoleStatements(s: PipelineSynth, stageName: string): any[] {
  expect(actionOf(s, stageName).RoleArn).toBeUndefined();
  return policyStatementsOfRole(s.template, logicalId(s.pipeline.pipeline.role as any));
}

function roleStatements(s: PipelineSynth, role: { node: any }): any[] {
  return policyStatementsOfRole(s.template, logicalId(role as any));
}

const actionsOf = (statements: any[]): string[] => statements.flatMap((st) => [st.Action].flat());

/** Every statement of every policy of the stack that names the artifacts bucket. */
function artifactStatements(s: PipelineSynth): any[] {
  return resourcesOf(s.template, 'AWS::IAM::Policy')
    .flatMap(([, p]) => p.Properties.PolicyDocument.Statement)
    .filter((st: any) => JSON.stringify(st.Resource ?? null).includes(ARTIFACTS_BUCKET));
}

function userDataOf(s: PipelineSynth): string {
  const data = propertiesOf(s.template, s.web.launchTemplate).LaunchTemplateData.UserData['Fn::Base64'];
  if (typeof data === 'string') return data;
  return (data['Fn::Join'][1] as any[])
    .map((part) => (typeof part === 'string' ? part : `<${JSON.stringify(part)}>`))
    .join('');
}

describe('a staging pipeline on the shared load balancer (defaults, CodeConnections)', () => {
  let s: PipelineSynth;
  beforeAll(() => {
    s = synthPipeline();
  });

  test('stages Source → Build → Deploy, without an approval', () => {
    expect(stageNames(s)).toEqual(['Source', 'Build', 'Deploy']);
    expect(s.pipeline.production).toBe(false);
    expect(s.pipeline.approvalTopic).toBeUndefined();
    s.template.resourceCountIs('AWS::SNS::Subscription', 0);
    expect(actionOf(s, 'Source').ActionTypeId.Provider).toBe('CodeStarSourceConnection');
    expect(actionOf(s, 'Build')).toMatchObject({
      ActionTypeId: { Category: 'Build', Provider: 'CodeBuild' },
      Configuration: { ProjectName: { Ref: logicalId(s.pipeline.buildProject) } },
      InputArtifacts: [{ Name: 'Source' }],
      OutputArtifacts: [{ Name: 'Build' }],
    });
    expect(actionOf(s, 'Deploy')).toMatchObject({
      ActionTypeId: { Category: 'Deploy', Provider: 'CodeDeploy' },
      Configuration: {
        ApplicationName: { Ref: logicalId(s.pipeline.application) },
        DeploymentGroupName: { Ref: logicalId(s.pipeline.deploymentGroup) },
      },
      InputArtifacts: [{ Name: 'Build' }],
    });
  });

  test('a V2 pipeline, its artifacts in the platform bucket under its own folder, encrypted with the platform key', () => {
    const pipeline = pipelineOf(s);
    expect(pipeline.PipelineType).toBe('V2');
    expect(pipeline.RestartExecutionOnUpdate).toBe(false);
    expect(pipeline.ArtifactStore).toEqual({
      Type: 'S3',
      Location: ARTIFACTS_BUCKET,
      EncryptionKey: { Type: 'KMS', Id: importOf(s.platform.key, 'Arn') },
    });
    // CodePipeline's folder of a pipeline is the first 20 characters of its name: a hash of customer and
    // environment, so that two environments never share one.
    expect(pipeline.Name).toMatch(/^software-[0-9a-f]{10}-acme-staging$/);
    expect(s.pipeline.artifactsPrefix).toBe(pipeline.Name.slice(0, 20));
    // No cross-account key or replication bucket of its own.
    s.template.resourceCountIs('AWS::KMS::Key', 0);
    s.template.resourceCountIs('AWS::S3::Bucket', 1); // the web tier's data bucket
  });

  test('the artifact folder differs between environments and customers, and stays the same across syntheses', () => {
    const again = synthPipeline();
    expect(again.pipeline.artifactsPrefix).toBe(s.pipeline.artifactsPrefix);
    const other = synthPipeline(({ web, platform }) => ({ ...defaultProps(web, platform), environment: 'stagingb' }), {
      noTemplate: true,
    });
    expect(other.pipeline.artifactsPrefix).not.toBe(s.pipeline.artifactsPrefix);
  });

  test("every role's grant on the artifacts bucket is limited to the pipeline's folder", () => {
    const statements = artifactStatements(s);
    // the pipeline role, the source action, the build project, the deploy action, the instances
    expect(statements.length).toBeGreaterThanOrEqual(5);
    for (const statement of statements) {
      for (const resource of [statement.Resource].flat()) {
        expect([ARTIFACTS_ARN, artifactsObjects(s.pipeline.artifactsPrefix)]).toContainEqual(resource);
      }
    }
    expect(JSON.stringify(s.template.toJSON())).not.toContain(`${ARTIFACTS_BUCKET}/*`);
  });

  test('the build: the repository buildspec.yml on the standard image, encrypted, logged a year, not privileged', () => {
    const project = propertiesOf(s.template, s.pipeline.buildProject);
    expect(project).toMatchObject({
      Name: 'acme-staging_software',
      Source: { Type: 'CODEPIPELINE', BuildSpec: 'buildspec.yml' },
      Artifacts: { Type: 'CODEPIPELINE' },
      EncryptionKey: importOf(s.platform.key, 'Arn'),
      Environment: {
        Type: 'LINUX_CONTAINER',
        Image: 'aws/codebuild/standard:8.0',
        ImagePullCredentialsType: 'CODEBUILD',
        ComputeType: 'BUILD_GENERAL1_SMALL',
        PrivilegedMode: false,
        EnvironmentVariables: [
          { Name: 'VENDING_CUSTOMER', Type: 'PLAINTEXT', Value: 'acme' },
          { Name: 'VENDING_ENVIRONMENT', Type: 'PLAINTEXT', Value: 'staging' },
        ],
      },
      LogsConfig: { CloudWatchLogs: { Status: 'ENABLED', GroupName: { Ref: logicalId(s.pipeline.buildLogGroup) } } },
    });
    const logGroup = s.template.toJSON().Resources[logicalId(s.pipeline.buildLogGroup)];
    expect(logGroup.Properties).toMatchObject({ RetentionInDays: 365, KmsKeyId: importOf(s.platform.key, 'Arn') });
    expect(logGroup.DeletionPolicy).toBe('Delete');
  });

  test("the build's role: its logs, its own report groups, the artifacts folder, the key; no ECR", () => {
    const statements = roleStatements(s, s.pipeline.buildProject.role as any);
    const project = logicalId(s.pipeline.buildProject);
    expect(statements).toContainEqual({
      Effect: 'Allow',
      Action: [
        'codebuild:CreateReportGroup',
        'codebuild:CreateReport',
        'codebuild:UpdateReport',
        'codebuild:BatchPutTestCases',
        'codebuild:BatchPutCodeCoverages',
      ],
      Resource: {
        'Fn::Join': [
          '',
          [
            'arn:',
            { Ref: 'AWS::Partition' },
            ':codebuild:eu-west-1:123456789012:report-group/',
            { Ref: project },
            '-*',
          ],
        ],
      },
    });
    expect(statements).toContainEqual({
      Effect: 'Allow',
      Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      Resource: { 'Fn::GetAtt': [logicalId(s.pipeline.buildLogGroup), 'Arn'] },
    });
    expect(actionsOf(statements).filter((a) => a.startsWith('ecr:'))).toEqual([]);
    expect(actionsOf(statements).filter((a) => /UseConnection/.test(a))).toEqual([]);
    for (const statement of statements) expect(statement.Resource).not.toEqual('*');
  });

  test('CodeDeploy: the Auto Scaling group behind its target group, one at a time, rolled back on failure, stop and alarm', () => {
    const group = propertiesOf(s.template, s.pipeline.deploymentGroup);
    expect(group).toMatchObject({
      ApplicationName: { Ref: logicalId(s.pipeline.application) },
      DeploymentGroupName: 'web-tier',
      AutoScalingGroups: [{ Ref: logicalId(s.web.autoScalingGroup) }],
      DeploymentStyle: { DeploymentOption: 'WITH_TRAFFIC_CONTROL' },
      LoadBalancerInfo: {
        TargetGroupInfoList: [{ Name: { 'Fn::GetAtt': [logicalId(s.web.targetGroup), 'TargetGroupName'] } }],
      },
      DeploymentConfigName: 'CodeDeployDefault.OneAtATime',
      AutoRollbackConfiguration: {
        Enabled: true,
        Events: ['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_REQUEST', 'DEPLOYMENT_STOP_ON_ALARM'],
      },
      AlarmConfiguration: {
        Enabled: true,
        // The 5xx alarm only: an unhealthy-host alarm in ALARM would stop every deployment, repairs included.
        Alarms: [{ Name: { Ref: logicalId(s.pipeline.alarms[0]) } }],
      },
    });
    // An instance that scale-in or an instance refresh terminates during a deployment first finishes its
    // lifecycle events (CodeDeploy's termination hook), instead of being cut off mid-deployment.
    expect(group.TerminationHookEnabled).toBe(true);
    expect(propertiesOf(s.template, s.pipeline.application)).toEqual(
      expect.objectContaining({ ApplicationName: 'acme-staging-software', ComputePlatform: 'Server' }),
    );
    // The deploy action may deploy to this group only.
    const deploy = actionRoleStatements(s, 'Deploy');
    expect(deploy).toContainEqual({
      Effect: 'Allow',
      Action: ['codedeploy:CreateDeployment', 'codedeploy:GetDeployment'],
      Resource: {
        'Fn::Join': [
          '',
          [
            'arn:',
            { Ref: 'AWS::Partition' },
            ':codedeploy:eu-west-1:123456789012:deploymentgroup:',
            { Ref: logicalId(s.pipeline.application) },
            '/',
            { Ref: logicalId(s.pipeline.deploymentGroup) },
          ],
        ],
      },
    });
  });

  test("the CodeDeploy service role may launch from the web tier's launch template, tag what it launches and pass the instances' role only", () => {
    // CodeDeploy launches replacement instances of a group built on a launch template with its own role: without
    // these, a deployment to such a group fails with an authorization error.
    const statements = roleStatements(s, s.pipeline.deploymentGroup.role!);
    const launchTemplateId = { Ref: logicalId(s.web.launchTemplate) };
    expect(statements).toContainEqual({
      Effect: 'Allow',
      Action: 'ec2:RunInstances',
      Resource: '*',
      Condition: {
        ArnEquals: {
          'ec2:LaunchTemplate': {
            'Fn::Join': [
              '',
              ['arn:', { Ref: 'AWS::Partition' }, ':ec2:eu-west-1:123456789012:launch-template/', launchTemplateId],
            ],
          },
        },
      },
    });
    expect(statements).toContainEqual({
      Effect: 'Allow',
      Action: 'ec2:CreateTags',
      Resource: '*',
      Condition: { StringEquals: { 'ec2:CreateAction': 'RunInstances' } },
    });
    const passRole = statements.filter((st) => [st.Action].flat().includes('iam:PassRole'));
    expect(passRole).toEqual([
      {
        Effect: 'Allow',
        Action: 'iam:PassRole',
        Resource: { 'Fn::GetAtt': [logicalId(s.web.instanceRole), 'Arn'] },
        Condition: { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } },
      },
    ]);
  });

  test("the alarms: the instances' 5xx share and unhealthy hosts of the target group on the shared load balancer", () => {
    expect(s.pipeline.alarms).toHaveLength(2);
    const [errors, unhealthy] = s.pipeline.alarms.map((alarm) => propertiesOf(s.template, alarm));
    // The load balancer of the shared listener, imported from the platform stack.
    const loadBalancer = {
      'Fn::Join': [
        '',
        [0, 1, 2].flatMap((i) => [
          ...(i > 0 ? ['/'] : []),
          { 'Fn::Select': [i + 1, { 'Fn::Split': ['/', importOf(s.platform.httpsListener)] }] },
        ]),
      ],
    };
    const dimensions = [
      { Name: 'LoadBalancer', Value: loadBalancer },
      { Name: 'TargetGroup', Value: { 'Fn::GetAtt': [logicalId(s.web.targetGroup), 'TargetGroupFullName'] } },
    ];
    expect(errors).toMatchObject({
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 5,
      EvaluationPeriods: 3,
      DatapointsToAlarm: 2,
      TreatMissingData: 'notBreaching',
    });
    const metrics = Object.fromEntries(errors.Metrics.map((m: any) => [m.Id, m]));
    expect(metrics.expr_1).toMatchObject({
      Expression: 'IF(requests >= 10, 100 * FILL(errors, 0) / requests, 0)',
      ReturnData: true,
    });
    for (const [id, name] of [
      ['requests', 'RequestCount'],
      ['errors', 'HTTPCode_Target_5XX_Count'],
    ]) {
      expect(metrics[id]).toEqual({
        Id: id,
        ReturnData: false,
        MetricStat: {
          Metric: { Namespace: 'AWS/ApplicationELB', MetricName: name, Dimensions: dimensions },
          Period: 60,
          Stat: 'Sum',
        },
      });
    }
    expect(unhealthy).toMatchObject({
      Namespace: 'AWS/ApplicationELB',
      MetricName: 'UnHealthyHostCount',
      Dimensions: dimensions,
      Statistic: 'Maximum',
      Period: 60,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: 1,
      EvaluationPeriods: 2,
      DatapointsToAlarm: 2,
      TreatMissingData: 'notBreaching',
    });
    // Both alarms open an OpsItem (severity 3 outside production) besides rolling back.
    const opsItem = {
      'Fn::Join': [
        '',
        ['arn:', { Ref: 'AWS::Partition' }, ':ssm:eu-west-1:123456789012:opsitem:3#CATEGORY=Availability'],
      ],
    };
    expect(errors.AlarmActions).toEqual([opsItem]);
    expect(unhealthy.AlarmActions).toEqual([opsItem]);
  });

  test('the CodeDeploy agent is installed through the launch template user data (Amazon Linux 2023), once', () => {
    const script = userDataOf(s);
    expect(script).toContain(
      [
        '# CodeDeploy agent (SoftwareDeliveryPipeline)',
        'if ! rpm -q codedeploy-agent >/dev/null 2>&1; then',
        '  for attempt in 1 2 3 4 5; do dnf install -y ruby && break; [ "$attempt" = 5 ] && exit 1; sleep 10; done',
        '  installer="$(mktemp)"',
        '  curl --fail --silent --show-error --location --retry 5 --retry-all-errors --retry-delay 5 --output "$installer" ' +
          'https://aws-codedeploy-eu-west-1.s3.eu-west-1.<{"Ref":"AWS::URLSuffix"}>/latest/install',
        '  chmod +x "$installer"',
        '  "$installer" auto',
        '  rm -f "$installer"',
        'fi',
        'systemctl enable --now codedeploy-agent',
      ].join('\n'),
    );
    // After the web tier's own start (strict mode), and only once.
    expect(script.indexOf('set -euo pipefail')).toBeLessThan(script.indexOf('CodeDeploy agent'));
    expect(script.split('CodeDeploy agent').length).toBe(2);
    // Not aws-cdk-lib's installer (yum update of every package at each launch).
    expect(script).not.toContain('update -y');
  });

  test('the instances may read the revisions in the folder (decrypted through S3), and nothing else of the bucket', () => {
    const statements = roleStatements(s, s.web.instanceRole as any).filter((st) =>
      JSON.stringify(st.Resource ?? null).includes(ARTIFACTS_BUCKET),
    );
    expect(statements).toEqual([
      {
        Effect: 'Allow',
        Action: ['s3:GetObject', 's3:GetObjectVersion'],
        Resource: artifactsObjects(s.pipeline.artifactsPrefix),
      },
      // Listing: the folder's keys only, never another customer's.
      {
        Effect: 'Allow',
        Action: 's3:ListBucket',
        Condition: { StringLike: { 's3:prefix': [`${s.pipeline.artifactsPrefix}*`] } },
        Resource: ARTIFACTS_ARN,
      },
      { Effect: 'Allow', Action: ['s3:GetBucketLocation', 's3:GetBucketVersioning'], Resource: ARTIFACTS_ARN },
    ]);
    // The platform key, shared by every customer: through S3 only, never a direct Decrypt.
    const keyStatements = roleStatements(s, s.web.instanceRole as any).filter(
      (st) => JSON.stringify(st.Action).includes('kms:') && JSON.stringify(st.Resource ?? null).includes('Key'),
    );
    expect(keyStatements.length).toBeGreaterThan(0);
    for (const statement of keyStatements) {
      expect(JSON.stringify(statement.Condition)).toContain('kms:ViaService');
    }
    expect(keyStatements).toContainEqual({
      Effect: 'Allow',
      Action: 'kms:Decrypt',
      Condition: {
        StringEquals: {
          'kms:ViaService': { 'Fn::Join': ['', ['s3.eu-west-1.', { Ref: 'AWS::URLSuffix' }]] },
        },
      },
      Resource: importOf(s.platform.key, 'Arn'),
    });
  });

  test('tags: vending:customer and vending:environment on what it creates', () => {
    for (const construct of [
      s.pipeline.pipeline,
      s.pipeline.buildProject,
      s.pipeline.buildLogGroup,
      s.pipeline.deploymentGroup,
      ...s.pipeline.alarms,
    ]) {
      expect(tagsOf(propertiesOf(s.template, construct).Tags)).toMatchObject({
        'vending:customer': 'acme',
        'vending:environment': 'staging',
      });
    }
  });
});

describe("grants on the pipeline's artifact bucket", () => {
  test('every kind of grant covers the folder only (aws-cdk-lib may use any of them)', () => {
    const s = synthPipeline({}, { noTemplate: true });
    const bucket = s.pipeline.pipeline.artifactBucket;
    const grants: [string, (role: iam.Role) => iam.Grant][] = [
      ['read', (role) => bucket.grantRead(role, '*')],
      ['write', (role) => bucket.grantWrite(role, '*')],
      ['readWrite', (role) => bucket.grantReadWrite(role, '*')],
      ['put', (role) => bucket.grantPut(role, '*')],
      ['putAcl', (role) => bucket.grantPutAcl(role, '*')],
      ['delete', (role) => bucket.grantDelete(role, '*')],
    ];
    const roles = grants.map(([name, grant]) => {
      const role = new iam.Role(s.stack, `Grantee${name}`, { assumedBy: new iam.AccountRootPrincipal() });
      grant(role);
      return role;
    });
    const template = Template.fromStack(s.stack);
    for (const role of roles) {
      const statements = policyStatementsOfRole(template, logicalId(role)).filter((st) =>
        JSON.stringify(st.Resource ?? null).includes(ARTIFACTS_BUCKET),
      );
      expect(statements.length).toBeGreaterThan(0);
      for (const resource of statements.flatMap((st) => [st.Resource].flat())) {
        expect([ARTIFACTS_ARN, artifactsObjects(s.pipeline.artifactsPrefix)]).toContainEqual(resource);
      }
    }
  });
});

describe('approvalAction (shared with the AMI pipeline)', () => {
  const scope = () => new Stack(new App(), 'Approvals', { env: ENV });
  const options = { customer: 'acme', environment: 'production', emails: ['ops@acme.example'], information: 'Release' };

  test('its own topic per action name, ids kept for the default name', () => {
    const stack = scope();
    const first = approvalAction(stack, options);
    const second = approvalAction(stack, { ...options, actionName: 'ApproveAgain', runOrder: 2 });
    expect(first.topic.node.id).toBe('ApprovalTopic');
    expect(second.topic.node.id).toBe('ApproveAgainTopic');
    expect(second.action.actionProperties).toMatchObject({ actionName: 'ApproveAgain', runOrder: 2 });
  });

  test("information beyond 500 characters is refused (CodePipeline's limit)", () => {
    expect(() => approvalAction(scope(), { ...options, information: 'x'.repeat(501) })).toThrow(
      "approvalAction Approvals: information: received 501 characters; expected at most 500, CodePipeline's limit on an approval's custom data",
    );
  });

  test('no address is refused', () => {
    expect(() => approvalAction(scope(), { ...options, emails: [] })).toThrow(
      'approvalAction Approvals: emails: received an empty list; expected at least one address to ask for approval',
    );
  });
});

describe('a production pipeline on a load balancer of its own', () => {
  let s: PipelineSynth;
  beforeAll(() => {
    s = synthPipeline(
      { approvalEmails: ['ops@acme.example', 'cto@acme.example', 'ops@acme.example'], tags: { CostCenter: '1234' } },
      { production: true },
    );
  });

  test('stages Source → Build → Approve → Deploy', () => {
    expect(s.pipeline.production).toBe(true);
    expect(stageNames(s)).toEqual(['Source', 'Build', 'Approve', 'Deploy']);
  });

  test('the approval names the customer, the environment, the repository and the commit', () => {
    const approve = actionOf(s, 'Approve');
    const namespace = actionOf(s, 'Source').Namespace;
    expect(approve.ActionTypeId).toEqual({ Category: 'Approval', Owner: 'AWS', Provider: 'Manual', Version: '1' });
    expect(approve.Configuration).toEqual({
      NotificationArn: { Ref: logicalId(s.pipeline.approvalTopic!) },
      CustomData:
        `Release of acme production: revision #{${namespace}.CommitId} of acme/website@main (CodeConnections). ` +
        'Approve to deploy it to the instances with CodeDeploy.',
    });
    // The approval action may publish to its topic, and the pipeline's role publishes nowhere else.
    const publishing = actionRoleStatements(s, 'Approve').filter((st) => actionsOf([st]).includes('sns:Publish'));
    expect(publishing).toEqual([
      { Effect: 'Allow', Action: 'sns:Publish', Resource: { Ref: logicalId(s.pipeline.approvalTopic!) } },
    ]);
  });

  test('its topic: encrypted with the AWS managed key, SSL only, each address subscribed once', () => {
    const topic = propertiesOf(s.template, s.pipeline.approvalTopic!);
    expect(topic.KmsMasterKeyId).toEqual({
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':kms:eu-west-1:123456789012:alias/aws/sns']],
    });
    const [, policy] = resourcesOf(s.template, 'AWS::SNS::TopicPolicy').find(
      ([, p]) =>
        JSON.stringify(p.Properties.Topics) === JSON.stringify([{ Ref: logicalId(s.pipeline.approvalTopic!) }]),
    )!;
    expect(policy.Properties.PolicyDocument.Statement).toContainEqual(
      expect.objectContaining({
        Effect: 'Deny',
        Action: 'sns:Publish',
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        Resource: { Ref: logicalId(s.pipeline.approvalTopic!) },
      }),
    );
    const subscriptions = resourcesOf(s.template, 'AWS::SNS::Subscription').map(([, r]) => r.Properties);
    expect(subscriptions).toEqual([
      expect.objectContaining({
        Protocol: 'email',
        Endpoint: 'ops@acme.example',
        TopicArn: { Ref: logicalId(s.pipeline.approvalTopic!) },
      }),
      expect.objectContaining({
        Protocol: 'email',
        Endpoint: 'cto@acme.example',
        TopicArn: { Ref: logicalId(s.pipeline.approvalTopic!) },
      }),
    ]);
  });

  test('the alarms watch the target group on its own load balancer, and open high-severity OpsItems', () => {
    const [errors, unhealthy] = s.pipeline.alarms.map((alarm) => propertiesOf(s.template, alarm));
    const listener = { Ref: logicalId(s.web.node.findChild('LoadBalancer').node.findChild('Https')) };
    expect(unhealthy.Dimensions[0]).toEqual({
      Name: 'LoadBalancer',
      Value: {
        'Fn::Join': [
          '',
          [
            { 'Fn::Select': [1, { 'Fn::Split': ['/', listener] }] },
            '/',
            { 'Fn::Select': [2, { 'Fn::Split': ['/', listener] }] },
            '/',
            { 'Fn::Select': [3, { 'Fn::Split': ['/', listener] }] },
          ],
        ],
      },
    });
    expect(JSON.stringify(errors.AlarmActions)).toContain(':opsitem:2#CATEGORY=Availability');
  });

  test('the build logs are kept when the stack goes; the tags given reach the resources', () => {
    expect(s.template.toJSON().Resources[logicalId(s.pipeline.buildLogGroup)].DeletionPolicy).toBe('Retain');
    expect(tagsOf(propertiesOf(s.template, s.pipeline.pipeline).Tags)).toMatchObject({ CostCenter: '1234' });
  });

  test('the approval action can be left to production only, whatever the emails', () => {
    const staging = synthPipeline({ approvalEmails: ['ops@acme.example'] });
    expect(stageNames(staging)).toEqual(['Source', 'Build', 'Deploy']);
    const approved = synthPipeline({ production: true, approvalEmails: ['ops@acme.example'] });
    expect(stageNames(approved)).toEqual(['Source', 'Build', 'Approve', 'Deploy']);
  });

  test('a long repository description is left out of the approval (CodePipeline takes 500 characters)', () => {
    const long = synthPipeline(
      { source: connectionSource({ owner: 'o'.repeat(100), repository: 'r'.repeat(100), branch: 'b'.repeat(255) }) },
      { production: true },
    );
    const data = actionOf(long, 'Approve').Configuration.CustomData;
    expect(data).toMatch(/^Release of acme production: revision #\{.*\.CommitId\}\. Approve to deploy it/);
    expect(data.length).toBeLessThanOrEqual(500);
  });
});

describe('the build image from ECR', () => {
  test('pulled with the project role, which may pull from that repository only', () => {
    const s = synthPipeline(({ stack }) => ({
      buildImage: {
        ecrRepository: ecr.Repository.fromRepositoryName(stack, 'BuildImage', 'acme-build'),
        tag: '2024.1',
      },
    }));
    const project = propertiesOf(s.template, s.pipeline.buildProject);
    expect(project.Environment).toMatchObject({
      ImagePullCredentialsType: 'SERVICE_ROLE',
      Image: {
        'Fn::Join': ['', ['123456789012.dkr.ecr.eu-west-1.', { Ref: 'AWS::URLSuffix' }, '/acme-build:2024.1']],
      },
    });
    const ecrStatements = roleStatements(s, s.pipeline.buildProject.role as any).filter((st) =>
      actionsOf([st]).some((a) => a.startsWith('ecr:')),
    );
    expect(ecrStatements).toEqual([
      {
        Effect: 'Allow',
        Action: ['ecr:BatchCheckLayerAvailability', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchGetImage'],
        Resource: ECR_REPOSITORY_ARN,
      },
      // No resource-level permission exists for the registry token.
      { Effect: 'Allow', Action: 'ecr:GetAuthorizationToken', Resource: '*' },
    ]);
  });

  test('the tag defaults to latest', () => {
    const s = synthPipeline(({ stack }) => ({
      buildImage: { ecrRepository: ecr.Repository.fromRepositoryName(stack, 'BuildImage', 'acme-build') },
    }));
    expect(JSON.stringify(propertiesOf(s.template, s.pipeline.buildProject).Environment.Image)).toContain(
      '/acme-build:latest',
    );
  });
});

describe('deployment strategies', () => {
  test.each<[DeploymentStrategy, string]>([
    [DeploymentStrategy.ONE_AT_A_TIME, 'CodeDeployDefault.OneAtATime'],
    [DeploymentStrategy.HALF_AT_A_TIME, 'CodeDeployDefault.HalfAtATime'],
    [DeploymentStrategy.ALL_AT_ONCE, 'CodeDeployDefault.AllAtOnce'],
  ])('%s → %s', (deploymentStrategy, name) => {
    const s = synthPipeline({ deploymentStrategy });
    expect(propertiesOf(s.template, s.pipeline.deploymentGroup).DeploymentConfigName).toBe(name);
    expect(actionRoleStatements(s, 'Deploy')).toContainEqual({
      Effect: 'Allow',
      Action: 'codedeploy:GetDeploymentConfig',
      Resource: {
        'Fn::Join': [
          '',
          ['arn:', { Ref: 'AWS::Partition' }, `:codedeploy:eu-west-1:123456789012:deploymentconfig:${name}`],
        ],
      },
    });
  });
});

describe('rolling deployments with custom minimum healthy hosts', () => {
  const deploymentConfigs = (template: Template) =>
    Object.entries(template.toJSON().Resources).filter(
      ([, r]: [string, any]) => r.Type === 'AWS::CodeDeploy::DeploymentConfig',
    );

  test.each<[string, codedeploy.MinimumHealthyHosts, { Type: string; Value: number }]>([
    ['a count', codedeploy.MinimumHealthyHosts.count(3), { Type: 'HOST_COUNT', Value: 3 }],
    ['a share', codedeploy.MinimumHealthyHosts.percentage(75), { Type: 'FLEET_PERCENT', Value: 75 }],
  ])(
    'as %s: a deployment configuration of the pipeline, used by its group and its Deploy action',
    (_, minimum, expected) => {
      const s = synthPipeline({ minimumHealthyHosts: minimum });
      const configs = deploymentConfigs(s.template);
      expect(configs).toHaveLength(1);
      const [configId, config] = configs[0] as [string, any];
      // No ComputePlatform: CloudFormation's default, Server (EC2).
      expect(config.Properties).toEqual({ MinimumHealthyHosts: expected });
      expect(propertiesOf(s.template, s.pipeline.deploymentGroup).DeploymentConfigName).toEqual({ Ref: configId });
      expect(JSON.stringify(actionRoleStatements(s, 'Deploy'))).toContain(`"Ref":"${configId}"`);
    },
  );

  test('the presets add no deployment configuration (their templates stay as they were)', () => {
    const s = synthPipeline({ deploymentStrategy: DeploymentStrategy.HALF_AT_A_TIME });
    expect(deploymentConfigs(s.template)).toEqual([]);
  });

  test('minimumHealthyHosts beside deploymentStrategy is refused, naming both', () => {
    expect(() =>
      synthPipeline({
        deploymentStrategy: DeploymentStrategy.ALL_AT_ONCE,
        minimumHealthyHosts: codedeploy.MinimumHealthyHosts.count(1),
      }),
    ).toThrow(
      /SoftwareDeliveryPipeline .*: minimumHealthyHosts: received it beside deploymentStrategy "all-at-once"; expected one of the two/,
    );
  });

  test.each<[string, any, string | { Type: string; Value: number }]>([
    ['deploymentConfig one-at-a-time', { deploymentConfig: 'one-at-a-time' }, 'CodeDeployDefault.OneAtATime'],
    ['policy rolling alone', { deployment: { policy: 'rolling' } }, 'CodeDeployDefault.OneAtATime'],
    ['batchSizePercent 50', { deployment: { batchSizePercent: 50 } }, 'CodeDeployDefault.HalfAtATime'],
    ['policy all-at-once', { deployment: { policy: 'all-at-once' } }, 'CodeDeployDefault.AllAtOnce'],
    ['batchSize 1 of minCapacity 3', { deployment: { batchSize: 1 } }, { Type: 'HOST_COUNT', Value: 2 }],
    ['batchSizePercent 20', { deployment: { batchSizePercent: 20 } }, { Type: 'FLEET_PERCENT', Value: 80 }],
    ['minimumHealthyHosts 1', { deployment: { minimumHealthyHosts: 1 } }, { Type: 'HOST_COUNT', Value: 1 }],
  ])('a customer file with %s deploys as it says', (_, software, expected) => {
    const app = new App();
    const { platform } = platformStack(app);
    const stack = new Stack(app, 'Acme', { env: ENV });
    const config = ConfigLoader.parseCustomer(
      stringify({
        customer: 'acme',
        environment: 'staging',
        hostname: 'acme.apps.example.com',
        compute: { minCapacity: 3 },
        software: { repository: { codeCommitRepository: 'acme-website' }, ...software },
      }),
      'customers/acme-staging.yaml',
    );
    const web = CustomerWebTier.fromConfig(stack, 'Web', config, platform);
    const pipeline = SoftwareDeliveryPipeline.fromConfig(stack, 'Software', config, platform, web);
    const template = Template.fromStack(stack);
    const name = propertiesOf(template, pipeline.deploymentGroup).DeploymentConfigName;
    const configs = deploymentConfigs(template);
    if (typeof expected === 'string') {
      expect(name).toBe(expected);
      expect(configs).toEqual([]);
    } else {
      expect(configs).toHaveLength(1);
      expect(name).toEqual({ Ref: configs[0][0] });
      expect((configs[0][1] as any).Properties.MinimumHealthyHosts).toEqual(expected);
    }
  });
});

describe('the kinds of source in the pipeline', () => {
  test('CodeConnections with a full clone: the build may use the connection', () => {
    const s = synthPipeline({ source: connectionSource({ fullClone: true }) });
    expect(actionOf(s, 'Source').Configuration.OutputArtifactFormat).toBe('CODEBUILD_CLONE_REF');
    const connection = roleStatements(s, s.pipeline.buildProject.role as any).filter((st) =>
      /UseConnection/.test(JSON.stringify(st.Action)),
    );
    expect(connection).toEqual(
      expect.arrayContaining([
        { Effect: 'Allow', Action: 'codestar-connections:UseConnection', Resource: CONNECTION_ARN },
        { Effect: 'Allow', Action: 'codeconnections:UseConnection', Resource: CONNECTION_ARN },
      ]),
    );
    expect(actionRoleStatements(s, 'Source')).toContainEqual({
      Effect: 'Allow',
      Action: 'codeconnections:UseConnection',
      Resource: CONNECTION_ARN,
    });
  });

  test('CodeCommit: the repository events start the pipeline', () => {
    const s = synthPipeline(({ stack }) => ({
      source: PipelineSource.codeCommit({
        repository: codecommit.Repository.fromRepositoryName(stack, 'Repository', 'acme-website'),
        branch: 'main',
      }),
    }));
    expect(actionOf(s, 'Source').Configuration).toEqual({
      RepositoryName: 'acme-website',
      BranchName: 'main',
      PollForSourceChanges: false,
    });
    const [, rule] = only(s.template, 'AWS::Events::Rule');
    expect(rule.Properties.EventPattern).toMatchObject({
      source: ['aws.codecommit'],
      detail: { referenceName: ['main'] },
    });
    expect(rule.Properties.Targets[0].Arn).toEqual(s.stack.resolve(s.pipeline.pipeline.pipelineArn));
    expect(actionRoleStatements(s, 'Source')).toContainEqual(
      expect.objectContaining({ Action: expect.arrayContaining(['codecommit:GetBranch', 'codecommit:UploadArchive']) }),
    );
  });

  test('an S3 object: its EventBridge rule starts the pipeline; the revision is the object version', () => {
    const s = synthPipeline(
      ({ stack }) => ({
        source: PipelineSource.s3Object({
          bucket: s3.Bucket.fromBucketName(stack, 'Sources', 'acme-sources'),
          objectKey: 'website/main.zip',
        }),
      }),
      { production: true },
    );
    const [, rule] = only(s.template, 'AWS::Events::Rule');
    expect(rule.Properties).toMatchObject({
      EventPattern: {
        source: ['aws.s3'],
        'detail-type': ['Object Created'],
        detail: { bucket: { name: ['acme-sources'] }, object: { key: ['website/main.zip'] } },
      },
      Targets: [{ Arn: s.stack.resolve(s.pipeline.pipeline.pipelineArn) }],
    });
    // The rule's role may start this pipeline only.
    const ruleRole = rule.Properties.Targets[0].RoleArn['Fn::GetAtt'][0];
    expect(policyStatementsOfRole(s.template, ruleRole)).toEqual([
      {
        Effect: 'Allow',
        Action: 'codepipeline:StartPipelineExecution',
        Resource: s.stack.resolve(s.pipeline.pipeline.pipelineArn),
      },
    ]);
    expect(actionOf(s, 'Approve').Configuration.CustomData).toMatch(
      /revision #\{.*\.VersionId\} of s3:\/\/acme-sources\/website\/main\.zip \(S3\)/,
    );
  });
});

describe('user data and instance role', () => {
  test("without userData, the agent goes into the Auto Scaling group's (its launch template's) user data", () => {
    const s = synthPipeline({ userData: undefined });
    expect(userDataOf(s)).toContain('# CodeDeploy agent (SoftwareDeliveryPipeline)');
  });

  test('without instanceRole, the grant goes to the Auto Scaling group role (aws-cdk-lib knows it from the launch template)', () => {
    const s = synthPipeline({ instanceRole: undefined });
    expect(
      roleStatements(s, s.web.instanceRole as any).filter(
        (st) =>
          JSON.stringify(st.Resource ?? null).includes(ARTIFACTS_BUCKET) &&
          JSON.stringify(st.Action).includes('s3:GetObject'),
      ),
    ).toHaveLength(1);
  });

  test('an imported Auto Scaling group without user data: a warning, and the image must bring the agent', () => {
    const s = synthPipeline(({ stack }) => ({
      autoScalingGroup: autoscaling.AutoScalingGroup.fromAutoScalingGroupName(stack, 'Imported', 'acme-web'),
      userData: undefined,
      instanceRole: undefined,
    }));
    Annotations.fromStack(s.stack).hasWarning(
      '/Customer/Software',
      Match.stringLikeRegexp('No user data to install the CodeDeploy agent in'),
    );
    Annotations.fromStack(s.stack).hasWarning(
      '/Customer/Software',
      Match.stringLikeRegexp(
        `^The instances' role is unknown .* read s3://${ARTIFACTS_BUCKET}/${s.pipeline.artifactsPrefix}\\*`,
      ),
    );
    // The web tier installs the agent on its own instances (once); the imported group's are not its.
    expect(userDataOf(s).split('# CodeDeploy agent').length).toBe(2);
    // The web tier's instances are not the imported group's: their role got no grant on the artifacts.
    expect(
      roleStatements(s, s.web.instanceRole as any).filter((st) =>
        JSON.stringify(st.Resource ?? null).includes(ARTIFACTS_BUCKET),
      ),
    ).toEqual([]);
    expect(propertiesOf(s.template, s.pipeline.deploymentGroup).AutoScalingGroups).toEqual(['acme-web']);
  });

  test('an Auto Scaling group on a launch template without user data: a warning too', () => {
    const fixture = newPlatform();
    const { stack, web } = addWebTier(fixture, 'Customer');
    const template = new ec2.LaunchTemplate(stack, 'Bare', {
      instanceType: new ec2.InstanceType('t3.micro'),
      machineImage: ec2.MachineImage.latestAmazonLinux2023(),
    });
    const asg = new autoscaling.AutoScalingGroup(stack, 'Bare Group', {
      vpc: fixture.platform.vpc,
      launchTemplate: template,
    });
    new SoftwareDeliveryPipeline(stack, 'Software', {
      ...defaultProps(web, fixture.platform),
      autoScalingGroup: asg,
      userData: undefined,
    });
    Annotations.fromStack(stack).hasWarning('/Customer/Software', Match.stringLikeRegexp('No user data'));
  });

  test('user data of another launch template is used as given', () => {
    const data = ec2.UserData.forLinux();
    synthPipeline({ userData: data }, { noTemplate: true });
    expect(data.render()).toContain('systemctl enable --now codedeploy-agent');
  });
});

describe('alarms', () => {
  test('the 5xx threshold and the alarm actions can be chosen', () => {
    let topic: sns.Topic | undefined;
    const s = synthPipeline(({ stack }) => {
      topic = new sns.Topic(stack, 'Pager');
      return { maxServerErrorPercent: 1.5, alarmActions: [new cloudwatchActions.SnsAction(topic)] };
    });
    const [errors, unhealthy] = s.pipeline.alarms.map((alarm) => propertiesOf(s.template, alarm));
    expect(errors.Threshold).toBe(1.5);
    expect(errors.AlarmDescription).toBe(
      'More than 1.5% of the requests to acme-staging answered with 5xx by its instances: stops and rolls back a deployment',
    );
    expect(errors.AlarmActions).toEqual([{ Ref: logicalId(topic!) }]);
    expect(unhealthy.AlarmActions).toEqual([{ Ref: logicalId(topic!) }]);
  });

  test('an imported target group with its load balancer: its metrics', () => {
    const s = synthPipeline(({ stack }) => ({
      targetGroup: elbv2.ApplicationTargetGroup.fromTargetGroupAttributes(stack, 'Imported', {
        targetGroupArn: 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web/0123456789abcdef',
        loadBalancerArns: 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/web/fedcba9876543210',
      }),
    }));
    const unhealthy = propertiesOf(s.template, s.pipeline.alarms[1]);
    expect(unhealthy.Dimensions).toEqual([
      { Name: 'LoadBalancer', Value: 'app/web/fedcba9876543210' },
      { Name: 'TargetGroup', Value: 'targetgroup/web/0123456789abcdef' },
    ]);
  });

  test('a target group attached to no load balancer is refused', () => {
    const fixture = newPlatform();
    const { stack, web } = addWebTier(fixture, 'Customer');
    const loose = new elbv2.ApplicationTargetGroup(stack, 'Loose', { vpc: fixture.platform.vpc, port: 80 });
    expect(
      () =>
        new SoftwareDeliveryPipeline(stack, 'Software', { ...defaultProps(web, fixture.platform), targetGroup: loose }),
    ).toThrow(
      'SoftwareDeliveryPipeline Customer/Software: targetGroup: received a target group attached to no load balancer; ' +
        "expected one behind a listener (the deployment alarms read the load balancer's metrics of it)",
    );
  });

  test('the alarms are CloudWatch alarms the user can extend', () => {
    const s = synthPipeline({}, { noTemplate: true });
    for (const alarm of s.pipeline.alarms) expect(alarm).toBeInstanceOf(cloudwatch.Alarm);
  });
});

describe('from a customer config', () => {
  const fleet = ConfigLoader.loadFleet(FLEET);
  const customer = (name: string, environment: string): CustomerConfig => {
    const found = fleet.customers.find((c) => c.customer === name && c.environment === environment);
    if (!found) throw new Error(`no ${name}-${environment} in ${FLEET}`);
    return found;
  };

  /** A web tier and its pipeline from a config, on the fleet's platform, in a new App. */
  function fromConfig(config: CustomerConfig, webConfig: CustomerConfig = config) {
    const fixture = newPlatform({ domain: fleet.platform.domain });
    const stack = new Stack(fixture.app, 'Customer', { env: ENV });
    const web = CustomerWebTier.fromConfig(stack, 'Web', webConfig, fixture.platform);
    const pipeline = SoftwareDeliveryPipeline.fromConfig(stack, 'Software', config, fixture.platform, web);
    const s: PipelineSynth = {
      app: fixture.app,
      platform: fixture.platform,
      stack,
      web,
      pipeline,
      template: Template.fromStack(stack),
    };
    return s;
  }

  test('acme-production.yaml: CodeConnections, the ECR image, one at a time, two approvers, its tags', () => {
    const s = fromConfig(customer('acme', 'production'));
    expect(stageNames(s)).toEqual(['Source', 'Build', 'Approve', 'Deploy']);
    expect(actionOf(s, 'Source').Configuration).toMatchObject({ FullRepositoryId: 'acme/website', BranchName: 'main' });
    expect(JSON.stringify(propertiesOf(s.template, s.pipeline.buildProject).Environment.Image)).toContain(
      '/acme-build:2024.1',
    );
    expect(roleStatements(s, s.pipeline.buildProject.role as any)).toContainEqual(
      expect.objectContaining({ Resource: ECR_REPOSITORY_ARN }),
    );
    expect(propertiesOf(s.template, s.pipeline.deploymentGroup).DeploymentConfigName).toBe(
      'CodeDeployDefault.OneAtATime',
    );
    expect(resourcesOf(s.template, 'AWS::SNS::Subscription').map(([, r]) => r.Properties.Endpoint)).toEqual([
      'ops@acme.com',
      'cto@acme.com',
    ]);
    expect(tagsOf(propertiesOf(s.template, s.pipeline.pipeline).Tags)).toMatchObject({ CostCenter: '1234' });
    expect(userDataOf(s)).toContain('# CodeDeploy agent');
    expect(
      roleStatements(s, s.web.instanceRole as any).some((st) =>
        JSON.stringify(st.Resource ?? null).includes(s.pipeline.artifactsPrefix),
      ),
    ).toBe(true);
  });

  test('globex-production.yaml: CodeCommit, half at a time, on the shared load balancer', () => {
    const s = fromConfig(customer('globex', 'production'));
    expect(actionOf(s, 'Source').Configuration).toMatchObject({ RepositoryName: 'globex-shop', BranchName: 'main' });
    expect(propertiesOf(s.template, s.pipeline.deploymentGroup).DeploymentConfigName).toBe(
      'CodeDeployDefault.HalfAtATime',
    );
    expect(propertiesOf(s.template, s.pipeline.buildProject).Environment.Image).toBe('aws/codebuild/standard:8.0');
  });

  test('initech-production.yaml: the S3 object, its bucket imported by name, started by its events', () => {
    const s = fromConfig(customer('initech', 'production'));
    expect(actionOf(s, 'Source').Configuration).toEqual({
      S3Bucket: 'initech-sources',
      S3ObjectKey: 'website/main.zip',
      PollForSourceChanges: false,
    });
    s.template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: Match.objectLike({
        detail: { bucket: { name: ['initech-sources'] }, object: { key: ['website/main.zip'] } },
      }),
    });
  });

  test('acme-staging.yaml: the develop branch, no approval', () => {
    const s = fromConfig(customer('acme', 'staging'));
    expect(stageNames(s)).toEqual(['Source', 'Build', 'Deploy']);
    expect(actionOf(s, 'Source').Configuration.BranchName).toBe('develop');
  });

  test('the web tier of another environment is refused', () => {
    expect(() => fromConfig(customer('acme', 'production'), customer('acme', 'staging'))).toThrow(
      'SoftwareDeliveryPipeline.fromConfig Customer/Software: webTier: received the web tier of acme-staging; ' +
        'expected the web tier of the config, acme-production',
    );
  });

  test('an invalid config is refused, naming SoftwareDeliveryPipeline.fromConfig, the path and the problem', () => {
    const config = { ...customer('acme', 'production'), approvalEmails: [] };
    const fixture = newPlatform({ domain: fleet.platform.domain });
    const stack = new Stack(fixture.app, 'Customer', { env: ENV });
    const web = CustomerWebTier.fromConfig(stack, 'Web', customer('acme', 'production'), fixture.platform);
    expect(() => SoftwareDeliveryPipeline.fromConfig(stack, 'Software', config, fixture.platform, web)).toThrow(
      /SoftwareDeliveryPipeline\.fromConfig Customer\/Software: approvalEmails: received \[\]; expected at least one address/,
    );
  });
});

describe('bad props', () => {
  // Props are checked in the constructor: one platform and web tier serve every case (nothing is synthesized).
  let platform: SharedPlatform;
  let stack: Stack;
  let web: CustomerWebTier;
  let count = 0;
  beforeAll(() => {
    const fixture = newPlatform();
    ({ stack, web } = addWebTier(fixture, 'Customer'));
    platform = fixture.platform;
  });

  test.each<[string, PipelinePropsOf, string]>([
    [
      'a customer name in capitals',
      { customer: 'Acme' },
      'customer: received "Acme"; expected 3 to 32 lower-case letters, digits or hyphens, starting with a letter, ' +
        'without -- and not ending with -',
    ],
    [
      'an environment name ending with a hyphen',
      { environment: 'staging-' },
      'environment: received "staging-"; expected 2 to 16 lower-case letters or digits',
    ],
    [
      'a customer known at deploy time only',
      ({ stack: s }) => ({ customer: new s3.Bucket(s, `Token${count++}`).bucketName }),
      "customer: received a token; expected a name known at synth time (the pipeline's name, and the folder of its artifacts, are made from it)",
    ],
    [
      'a bucket without its key',
      ({ stack: s }) => ({ artifactsBucket: s3.Bucket.fromBucketName(s, `NoKey${count++}`, 'acme-artifacts') }),
      "artifactsBucket: received a bucket without its encryptionKey; expected the platform's artifacts bucket with its KMS key",
    ],
    [
      'production without approvers',
      { production: true, approvalEmails: undefined },
      "approvalEmails: received []; expected at least one address: production releases wait for a person's approval",
    ],
    [
      'an approver that is not an address',
      { approvalEmails: ['ops@acme.example', 'ops at acme'] },
      'approvalEmails[1]: received "ops at acme"; expected an email address such as ops@example.com',
    ],
    [
      'an image tag with a slash',
      ({ stack: s }) => ({
        buildImage: { ecrRepository: ecr.Repository.fromRepositoryName(s, `Repo${count++}`, 'acme-build'), tag: 'a/b' },
      }),
      'buildImage.tag: received "a/b"; expected an image tag such as latest or 1.4.2',
    ],
    [
      'a 5xx threshold of 0',
      { maxServerErrorPercent: 0 },
      'maxServerErrorPercent: received 0; expected a percentage above 0 and at most 100',
    ],
    [
      'a 5xx threshold above 100',
      { maxServerErrorPercent: 101 },
      'maxServerErrorPercent: received 101; expected a percentage above 0 and at most 100',
    ],
    [
      'an unknown deployment strategy (from an untyped language)',
      { deploymentStrategy: 'two-at-a-time' as DeploymentStrategy },
      'deploymentStrategy: received "two-at-a-time"; expected one of one-at-a-time, half-at-a-time, all-at-once',
    ],
  ])('%s is refused', (_name, props, message) => {
    const given = typeof props === 'function' ? props({ platform, stack, web }) : props;
    const id = `Software${count++}`;
    expect(() => new SoftwareDeliveryPipeline(stack, id, { ...defaultProps(web, platform), ...given })).toThrow(
      `SoftwareDeliveryPipeline ${stack.node.id}/${id}: ${message}`,
    );
  });

  test('the first 20 characters of CodePipeline names hold the hash whatever the names', () => {
    const pipeline = new SoftwareDeliveryPipeline(stack, `Software${count++}`, {
      ...defaultProps(web, platform),
      customer: 'a'.repeat(32),
      environment: 'b'.repeat(16),
    });
    expect(pipeline.artifactsPrefix).toMatch(/^software-[0-9a-f]{10}-$/);
  });
});

describe('compliance', () => {
  test('production (CodeConnections with a full clone, ECR image) and staging (CodeCommit, S3 object) pipelines pass every check', () => {
    const app: App = newTestApp();
    const { stack: platformScope, platform } = platformStack(app, { production: true, domain: 'apps.example.com' });
    const fleet = ConfigLoader.loadFleet(FLEET);
    const config = (name: string, environment: string) =>
      fleet.customers.find((c) => c.customer === name && c.environment === environment)!;

    // Production, from props, on a load balancer of its own.
    const production = new Stack(app, 'AcmeProduction', { env: ENV });
    const { database, ...withoutDatabase } = config('acme', 'production');
    void database;
    // Without its database, without the database's thresholds of its health either.
    const noDatabase = { dbCpuPercent: undefined, dbFreeStorageGib: undefined, dbReplicaLagSeconds: undefined };
    const acme = { ...withoutDatabase, health: { ...withoutDatabase.health, ...noDatabase } };
    const acmeWeb = CustomerWebTier.fromConfig(production, 'Web', acme, platform);
    acknowledgeWebTier(acmeWeb);
    const acmePipeline = new SoftwareDeliveryPipeline(production, 'Software', {
      ...defaultProps(acmeWeb, platform),
      source: connectionSource({ fullClone: true }),
      buildImage: {
        ecrRepository: ecr.Repository.fromRepositoryName(production, 'BuildImage', 'acme-build'),
        tag: '2024.1',
      },
    });
    acknowledgeSoftwarePipeline(acmePipeline, acmeWeb);

    // Staging from configs on the shared load balancer: a CodeCommit repository, an S3 object.
    const stacks = [production];
    for (const [name, repository] of [
      ['globex', { codeCommitRepository: 'globex-shop' }],
      ['initech', { s3Bucket: 'initech-sources', s3ObjectKey: 'website/main.zip' }],
    ] as const) {
      const stack = new Stack(app, `${name}Staging`, { env: ENV });
      const customer: CustomerConfig = {
        customer: name,
        environment: 'staging',
        // The preset, and a rolling deployment in batches of a quarter (a deployment configuration of its own).
        softwareDelivery:
          name === 'globex'
            ? { repository, deploymentConfig: DeploymentStrategy.ALL_AT_ONCE }
            : { repository, deployment: { policy: DeploymentPolicy.ROLLING, batchSizePercent: 25 } },
      };
      const web = CustomerWebTier.fromConfig(stack, 'Web', customer, platform);
      acknowledgeWebTier(web);
      acknowledgeSoftwarePipeline(SoftwareDeliveryPipeline.fromConfig(stack, 'Software', customer, platform, web), web);
      stacks.push(stack);
    }
    expectCompliant([platformScope, ...stacks]);
  });
});
