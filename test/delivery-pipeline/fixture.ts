/*
 * Builders and readers shared by the SoftwareDeliveryPipeline tests: a platform and a web tier (from the web
 * tier's fixture, plain Apps), the pipeline beside the web tier in the customer stack, and the acknowledgements of
 * the pipeline's cdk-nag findings by design (for the compliance tests).
 */
import { App, CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as iam from 'aws-cdk-lib/aws-iam';
import { IConstruct } from 'constructs';
import { CustomerWebTier, SharedPlatform } from '../../src';
import {
  SoftwareDeliveryPipeline,
  SoftwareDeliveryPipelineProps,
} from '../../src/delivery-pipeline/software-delivery-pipeline';
import { PipelineSource } from '../../src/pipeline-common/pipeline-source';
import { acknowledge } from '../support/compliance';
import { acknowledgeSourceRead, readsS3Source } from '../support/platform-fixture';
import { addWebTier, dedicatedIngress, newPlatform } from '../web-tier/fixture';

export const CONNECTION_ARN =
  'arn:aws:codeconnections:eu-west-1:123456789012:connection/0f5e1c2a-3b4d-4e6f-8a9b-0c1d2e3f4a5b';
export const LEGACY_CONNECTION_ARN =
  'arn:aws:codestar-connections:eu-west-1:123456789012:connection/1f5e1c2a-3b4d-4e6f-8a9b-0c1d2e3f4a5b';
/** The platform's artifacts bucket, by the literal name SharedPlatform gives it. */
export const ARTIFACTS_BUCKET = 'acme-artifacts-123456789012-eu-west-1';

export const connectionSource = (props: Partial<Parameters<typeof PipelineSource.codeConnections>[0]> = {}) =>
  PipelineSource.codeConnections({ connectionArn: CONNECTION_ARN, owner: 'acme', repository: 'website', ...props });

export type PipelineProps = Partial<SoftwareDeliveryPipelineProps>;
export type PipelinePropsOf =
  PipelineProps | ((context: { platform: SharedPlatform; stack: Stack; web: CustomerWebTier }) => PipelineProps);

export interface PipelineSynth {
  readonly app: App;
  readonly platform: SharedPlatform;
  readonly stack: Stack;
  readonly web: CustomerWebTier;
  readonly pipeline: SoftwareDeliveryPipeline;
  readonly template: Template;
}

export interface PipelineSynthOptions {
  /** Production on a load balancer of its own (www.acme.com) instead of staging on the shared one. */
  readonly production?: boolean;
  /** Skip `Template.fromStack` (tests of refused props). */
  readonly noTemplate?: boolean;
}

/** The props a pipeline of the fixture's web tier gets unless a test says otherwise. */
export function defaultProps(web: CustomerWebTier, platform: SharedPlatform): SoftwareDeliveryPipelineProps {
  return {
    customer: web.customer,
    environment: web.environment,
    source: connectionSource(),
    artifactsBucket: platform.artifactsBucket,
    autoScalingGroup: web.autoScalingGroup,
    targetGroup: web.targetGroup,
    instanceRole: web.instanceRole,
    userData: web.launchTemplate.userData,
    approvalEmails: web.production ? ['ops@acme.example', 'cto@acme.example'] : undefined,
  };
}

/** A web tier `Web` and a pipeline `Software` in stack `Customer` beside a platform, in a new plain App. */
export function synthPipeline(props: PipelinePropsOf = {}, options: PipelineSynthOptions = {}): PipelineSynth {
  const fixture = newPlatform();
  const { stack, web } = addWebTier(
    fixture,
    'Customer',
    options.production ? ({ stack: s }) => ({ environment: 'production', ingress: dedicatedIngress(s) }) : {},
  );
  const given = typeof props === 'function' ? props({ platform: fixture.platform, stack, web }) : props;
  const pipeline = new SoftwareDeliveryPipeline(stack, 'Software', {
    ...defaultProps(web, fixture.platform),
    ...given,
  });
  return {
    app: fixture.app,
    platform: fixture.platform,
    stack,
    web,
    pipeline,
    template: options.noTemplate ? (undefined as unknown as Template) : Template.fromStack(stack),
  };
}

/** How cdk-nag writes a construct's Ref in finding ids: `<LogicalId>`. */
function nagRef(construct: IConstruct): string {
  const element = (construct.node.defaultChild ?? construct) as CfnElement;
  return `<${Stack.of(construct).resolve(element.logicalId)}>`;
}

/**
 * The grant on the pipeline's folder of the artifacts bucket (see src/pipeline-common/artifacts.ts: exact
 * actions, the folder's objects, listing limited to its prefix, the key through S3 only), as cdk-nag reports it.
 */
function acknowledgeArtifacts(
  policy: IConstruct,
  pipeline: SoftwareDeliveryPipeline,
  _write: boolean,
  also = '',
): void {
  acknowledge(
    policy,
    `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::${pipeline.pipeline.artifactBucket.bucketName}/${pipeline.artifactsPrefix}*]`,
    `CodePipeline names artifact objects at run time under the pipeline's folder (the first 20 characters of its name, which hold a hash of customer and environment): the grant is that folder${also}.`,
  );
}

/**
 * The findings of the deployment state machine (additional batch, immutable), which runs as the pipeline's role: reads without
 * resource-level permissions, the group's ARN and the executions of the one machine.
 */
function acknowledgeDeploymentMachine(
  pipeline: SoftwareDeliveryPipeline,
  web: CustomerWebTier,
  policy: IConstruct,
): void {
  const stack = Stack.of(pipeline);
  const region = `${stack.region}:${stack.account}`;
  acknowledge(
    policy,
    'AwsSolutions-IAM5[Resource::*]',
    'autoscaling:DescribeAutoScalingGroups and DescribeInstanceRefreshes, and the log delivery and X-Ray actions of a ' +
      'state machine, have no resource-level permissions in IAM; the deployment machine only reads with the first two.',
  );
  // The machine scales the group (an additional batch) or the standby group (immutable).
  const scaled = pipeline.standbyDeploymentGroup ? web.standbyAutoScalingGroup! : web.autoScalingGroup;
  acknowledge(
    policy,
    `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:autoscaling:${region}:autoScalingGroup:*:autoScalingGroupName/${nagRef(scaled)}]`,
    "An Auto Scaling group ARN holds a UUID CloudFormation does not return; the group's name scopes it to the customer's fleet.",
  );
  acknowledge(
    policy,
    `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:${region}:execution:${pipeline.customer}-${pipeline.environment}-deploy:*]`,
    "The executions of the environment's one deployment state machine (aws-cdk-lib's permission to read the execution the Deploy action started).",
  );
}

/** The cdk-nag findings a SoftwareDeliveryPipeline (and the instance role it grants) carries by design. */
export function acknowledgeSoftwarePipeline(pipeline: SoftwareDeliveryPipeline, web: CustomerWebTier): void {
  // The actions run as the pipeline's role: its one policy holds what each action needs.
  const pipelinePolicy = pipeline.pipeline.role.node.findChild('DefaultPolicy');
  acknowledgeArtifacts(pipelinePolicy, pipeline, true, ', and for an S3 source to the one source object');
  if (readsS3Source(pipeline.pipeline)) {
    acknowledgeSourceRead(pipelinePolicy, "the customer's source bucket");
  }
  acknowledgeArtifacts(web.instanceRole.node.findChild('DefaultPolicy'), pipeline, false);
  if (pipeline.deploymentStateMachine) acknowledgeDeploymentMachine(pipeline, web, pipelinePolicy);

  const build = pipeline.buildProject;
  const buildPolicy = build.role!.node.findChild('DefaultPolicy');
  acknowledgeArtifacts(buildPolicy, pipeline, true, ', and the build project encrypts its output with that key');
  const region = `${Stack.of(build).region}:${Stack.of(build).account}`;
  acknowledge(
    buildPolicy,
    `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:codebuild:${region}:report-group/${nagRef(build)}-*]`,
    "aws-cdk-lib's permission for the test report groups of this project only (named <project>-<report group> by CodeBuild).",
  );
  acknowledge(
    buildPolicy,
    `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:${region}:log-group:/aws/codebuild/${nagRef(build)}:*]`,
    "aws-cdk-lib's permission for the project's default log group, whose streams are named per build.",
  );
  const environment = (build.node.defaultChild as codebuild.CfnProject)
    .environment as codebuild.CfnProject.EnvironmentProperty;
  if (environment.imagePullCredentialsType === 'SERVICE_ROLE') {
    acknowledge(
      build,
      'AwsSolutions-CB5',
      "The customer's own build image, from an ECR repository of the platform account that the project alone may pull from.",
    );
    acknowledge(
      buildPolicy,
      'AwsSolutions-IAM5[Resource::*]',
      'ecr:GetAuthorizationToken has no resource-level permission in IAM; pulling is allowed from the build image repository only.',
    );
  }
  // The platform's service role (fromConfig) is acknowledged with the platform (acknowledgePlatform).
  if (!(pipeline.deploymentGroup.role instanceof iam.Role)) return;
  acknowledge(
    pipeline.deploymentGroup.role,
    'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSCodeDeployRole]',
    'The CodeDeploy service role with the policy AWS maintains for it (Auto Scaling lifecycle hooks, load balancer registration).',
  );
  acknowledge(
    pipeline.deploymentGroup.role.node.findChild('DefaultPolicy'),
    'AwsSolutions-IAM5[Resource::*]',
    'RunInstances limited by the ec2:LaunchTemplate condition to the group launch template, CreateTags to tags given at launch (ec2:CreateAction), for groups on a launch template.',
  );
}
