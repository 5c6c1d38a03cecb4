import { Token } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as actions from 'aws-cdk-lib/aws-codepipeline-actions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { SoftwareDeliveryPipelineProps } from './software-delivery-pipeline';
import { approvalAction } from '../pipeline-common/approval';

/** Internal: what the pipeline is made of. */
export interface PipelineContext {
  readonly props: SoftwareDeliveryPipelineProps;
  readonly production: boolean;
  readonly pipelineName: string;
  /** The pipeline's folder of the artifacts bucket (pipelineArtifacts). */
  readonly artifacts: s3.IBucket;
  readonly buildProject: codebuild.PipelineProject;
  readonly deploymentGroup: codedeploy.IServerDeploymentGroup;
}

/**
 * Internal: the pipeline, in the pipeline construct's scope, with its stages: Source, Build, Approve (production
 * only) and Deploy.
 */
export function createPipeline(
  scope: Construct,
  context: PipelineContext,
): { pipeline: codepipeline.Pipeline; approvalTopic?: sns.ITopic } {
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
