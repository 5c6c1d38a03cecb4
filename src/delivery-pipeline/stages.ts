import { Duration, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as actions from 'aws-cdk-lib/aws-codepipeline-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { batchDeploymentNames, batchDeploymentStateMachine } from './batch-deployment';
import { immutableDeploymentStateMachine } from './immutable-deployment';
import type { SoftwareDeliveryPipelineProps } from './software-delivery-pipeline';
import { DEFAULT_EVALUATION_MINUTES } from '../config/defaults';
import { approvalAction } from '../pipeline-common/approval';

/** Internal: what the pipeline is made of. */
export interface PipelineContext {
  readonly props: SoftwareDeliveryPipelineProps;
  readonly production: boolean;
  readonly pipelineName: string;
  /** The pipeline's folder of the artifacts bucket (pipelineArtifacts). */
  readonly artifacts: s3.IBucket;
  readonly buildProject: codebuild.PipelineProject;
  readonly application: codedeploy.IServerApplication;
  readonly deploymentGroup: codedeploy.IServerDeploymentGroup;
  /** The alarm that stops a deployment (the 5xx share), which traffic splitting watches. */
  readonly deploymentAlarm: cloudwatch.IAlarm;
  /** The standby group's deployment group (an immutable deployment). */
  readonly standbyDeploymentGroup?: codedeploy.IServerDeploymentGroup;
  /** The pipeline's folder's key (the platform key), which encrypts the deployment state machine's logs. */
  readonly key: kms.IKey;
  /** The pipeline's folder of the artifacts bucket, before pipelineArtifacts scoped it (its name). */
  readonly artifactsPrefix: string;
}

/**
 * Internal: the pipeline, in the pipeline construct's scope, with its stages: Source, Build, Approve (production
 * only) and Deploy.
 */
export function createPipeline(
  scope: Construct,
  context: PipelineContext,
): { pipeline: codepipeline.Pipeline; approvalTopic?: sns.ITopic; deploymentStateMachine?: sfn.StateMachine } {
  const { props, production, pipelineName, artifacts, buildProject, deploymentGroup } = context;
  const pipeline = new codepipeline.Pipeline(scope, 'Pipeline', {
    pipelineName,
    pipelineType: codepipeline.PipelineType.V2,
    artifactBucket: artifacts,
    restartExecutionOnUpdate: false,
    // The actions act as the pipeline's own role: one role per pipeline instead of one per action, so that an
    // environment of the example fleet costs 6 IAM roles of the account's quota, not 14 to 19 (each
    // action's permissions are still only what its resources need, on the one role).
    usePipelineRoleForActions: true,
  });
  const sourceOutput = new codepipeline.Artifact('Source');
  const source = props.source.bind(scope, { pipeline, output: sourceOutput, eventsRole: props.eventsRole });
  pipeline.addStage({ stageName: 'Source', actions: [source.action] });
  for (const statement of source.buildStatements ?? []) buildProject.addToRolePolicy(statement);

  const buildOutput = new codepipeline.Artifact('Build');
  pipeline.addStage({
    stageName: 'Build',
    actions: [
      new actions.CodeBuildAction({
        actionName: 'Build',
        project: buildProject,
        input: sourceOutput,
        outputs: [buildOutput],
      }),
    ],
  });

  let approvalTopic: sns.ITopic | undefined;
  if (production) {
    const approval = approvalAction(scope, {
      customer: props.customer,
      environment: props.environment,
      emails: props.approvalEmails!,
      information: approvalInformation(props, source.description, source.revision),
    });
    approvalTopic = approval.topic;
    pipeline.addStage({ stageName: 'Approve', actions: [approval.action] });
  }

  if (props.additionalBatch || props.standbyAutoScalingGroup) {
    const deploymentStateMachine = stateMachineStage(scope, context, pipeline, buildOutput);
    return { pipeline, approvalTopic, deploymentStateMachine };
  }
  pipeline.addStage({
    stageName: 'Deploy',
    actions: [
      new actions.CodeDeployServerDeployAction({
        actionName: 'Deploy',
        input: buildOutput,
        deploymentGroup,
      }),
    ],
  });
  return { pipeline, approvalTopic };
}

/**
 * The Deploy stage of a deployment with an additional batch, or an immutable one: the build's revision copied, as the zip it is, to a key
 * of the pipeline's folder named by the pipeline execution (`Revision`), then the deployment state machine invoked
 * with that location (`Deploy`). The machine runs as the pipeline's role (README, "Deployment policies": an
 * environment stays within its 6 roles), which Step Functions may assume for this machine only.
 */
function stateMachineStage(
  scope: Construct,
  context: PipelineContext,
  pipeline: codepipeline.Pipeline,
  buildOutput: codepipeline.Artifact,
): sfn.StateMachine {
  const { props, artifacts, artifactsPrefix, application, deploymentGroup, key } = context;
  const names = batchDeploymentNames(scope, props);
  const role = pipeline.role as iam.Role;
  role.assumeRolePolicy?.addStatements(
    new iam.PolicyStatement({
      actions: ['sts:AssumeRole'],
      principals: [new iam.ServicePrincipal('states.amazonaws.com')],
      conditions: {
        StringEquals: { 'aws:SourceAccount': Stack.of(scope).account },
        ArnEquals: { 'aws:SourceArn': names.stateMachineArn },
      },
    }),
  );
  const machineScope = new Construct(scope, 'Deploy');
  const machine = props.standbyAutoScalingGroup
    ? immutableDeploymentStateMachine(machineScope, {
        props,
        standby: props.standbyAutoScalingGroup,
        application,
        deploymentGroup,
        standbyDeploymentGroup: context.standbyDeploymentGroup!,
        role,
        key,
        canary:
          props.canaryPercent !== undefined
            ? {
                percent: props.canaryPercent,
                minutes: (props.canaryEvaluation ?? Duration.minutes(DEFAULT_EVALUATION_MINUTES)).toMinutes(),
                alarms: [context.deploymentAlarm],
              }
            : undefined,
      })
    : batchDeploymentStateMachine(machineScope, {
        props,
        batch: props.additionalBatch!,
        application,
        deploymentGroup,
        role,
        key,
      });
  const revisionKey = `${artifactsPrefix}/revisions/#{codepipeline.PipelineExecutionId}.zip`;
  pipeline.addStage({
    stageName: 'Deploy',
    actions: [
      new actions.S3DeployAction({
        actionName: 'Revision',
        input: buildOutput,
        bucket: artifacts,
        extract: false,
        objectKey: revisionKey,
        runOrder: 1,
      }),
      new actions.StepFunctionInvokeAction({
        actionName: 'Deploy',
        // By its ARN: the pipeline's role holds the grants to start it, and the machine runs as that role.
        stateMachine: sfn.StateMachine.fromStateMachineArn(scope, 'DeployStateMachine', names.stateMachineArn),
        stateMachineInput: actions.StateMachineInput.literal({
          revision: { bucket: artifacts.bucketName, key: revisionKey },
          pipelineExecutionId: '#{codepipeline.PipelineExecutionId}',
        }),
        runOrder: 2,
      }),
    ],
  });
  // The pipeline's resource only (its role and policy must come before the machine, which runs as that role).
  (pipeline.node.defaultChild as codepipeline.CfnPipeline).node.addDependency(
    machine.node.defaultChild as sfn.CfnStateMachine,
  );
  return machine;
}

/**
 * What the approval mail says: customer, environment, where the revision comes from and which revision (CodePipeline
 * resolves the variable). Not the commit message, whose length is the committer's: CodePipeline takes 500
 * characters at most.
 */
function approvalInformation(props: SoftwareDeliveryPipelineProps, description: string, revision: string): string {
  const release = `Release of ${props.customer} ${props.environment}`;
  const ask = 'Approve to deploy it to the instances with CodeDeploy.';
  const full = `${release}: revision ${revision} of ${description}. ${ask}`;
  return Token.isUnresolved(description) || full.length <= 500 ? full : `${release}: revision ${revision}. ${ask}`;
}
