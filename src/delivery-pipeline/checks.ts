import { Token } from 'aws-cdk-lib';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as kms from 'aws-cdk-lib/aws-kms';
import type { SoftwareDeliveryPipelineProps } from './software-delivery-pipeline';
import { describeValue } from '../config/errors';
import { DeploymentStrategy } from '../config/types';
import { valueProblem } from '../config/values';
import { checkApprovalEmails } from '../pipeline-common/approval';

const IMAGE_TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;

/** Internal: checks the pipeline's props; returns the artifacts bucket's key. */
export function validate(where: string, props: SoftwareDeliveryPipelineProps, production: boolean): kms.IKey {
  for (const prop of ['customer', 'environment'] as const) {
    const value = props[prop];
    if (Token.isUnresolved(value)) {
      throw new Error(
        `${where}: ${prop}: received a token; expected a name known at synth time (the pipeline's name, and the ` +
          'folder of its artifacts, are made from it)',
      );
    }
    const problem = valueProblem(prop, value);
    if (problem) throw new Error(`${where}: ${prop}: ${problem}`);
  }
  const key = props.artifactsBucket.encryptionKey;
  if (!key) {
    throw new Error(
      `${where}: artifactsBucket: received a bucket without its encryptionKey; expected the platform's artifacts ` +
        'bucket with its KMS key (SharedPlatform.artifactsBucket), which also encrypts the build',
    );
  }
  checkApprovalEmails(where, props.approvalEmails, production, 'releases');
  const tag = props.buildImage?.tag;
  if (tag !== undefined && !Token.isUnresolved(tag) && !IMAGE_TAG.test(tag)) {
    throw new Error(
      `${where}: buildImage.tag: received ${describeValue(tag)}; expected an image tag such as latest or 1.4.2`,
    );
  }
  if (props.minimumHealthyHosts && props.deploymentStrategy !== undefined) {
    throw new Error(
      `${where}: minimumHealthyHosts: received it beside deploymentStrategy ${describeValue(props.deploymentStrategy)}; ` +
        'expected one of the two (each says how many instances CodeDeploy updates at a time)',
    );
  }
  if (props.additionalBatch) {
    const beside =
      props.deploymentStrategy !== undefined
        ? 'deploymentStrategy'
        : props.minimumHealthyHosts
          ? 'minimumHealthyHosts'
          : undefined;
    if (beside) {
      throw new Error(
        `${where}: additionalBatch: received it beside ${beside}; expected one of the two (with an additional batch, ` +
          'CodeDeploy keeps as many instances in service as ran before and updates a batch at a time)',
      );
    }
    const problem = props.additionalBatch._problem();
    if (problem) throw new Error(`${where}: additionalBatch: ${problem}`);
  }
  if (props.standbyAutoScalingGroup) {
    const beside =
      props.deploymentStrategy !== undefined
        ? 'deploymentStrategy'
        : props.minimumHealthyHosts
          ? 'minimumHealthyHosts'
          : props.additionalBatch
            ? 'additionalBatch'
            : undefined;
    if (beside) {
      throw new Error(
        `${where}: standbyAutoScalingGroup: received it beside ${beside}; expected one of the two (an immutable ` +
          'deployment updates the standby group, then the group, each all at once)',
      );
    }
  }
  const canary = props.canaryPercent;
  if (canary !== undefined && !props.standbyAutoScalingGroup) {
    throw new Error(
      `${where}: canaryPercent: received it without standbyAutoScalingGroup; expected both (the canary's instances are ` +
        "the standby group's)",
    );
  }
  if (
    canary !== undefined &&
    !Token.isUnresolved(canary) &&
    !(Number.isInteger(canary) && canary >= 1 && canary <= 50)
  ) {
    throw new Error(`${where}: canaryPercent: received ${describeValue(canary)}; expected a whole number from 1 to 50`);
  }
  const evaluation = props.canaryEvaluation;
  if (evaluation !== undefined && canary === undefined) {
    throw new Error(`${where}: canaryEvaluation: received it without canaryPercent; expected both, or neither`);
  }
  if (evaluation !== undefined && !evaluation.isUnresolved()) {
    const minutes = evaluation.toSeconds() / 60;
    if (!(Number.isInteger(minutes) && minutes >= 1 && minutes <= 10)) {
      throw new Error(
        `${where}: canaryEvaluation: received ${evaluation.toHumanString()}; expected whole minutes from 1 to 10 (the ` +
          "pipeline action's hour bounds the deployment)",
      );
    }
  }
  const percent = props.maxServerErrorPercent;
  if (percent !== undefined && !Token.isUnresolved(percent) && !(percent > 0 && percent <= 100)) {
    throw new Error(
      `${where}: maxServerErrorPercent: received ${describeValue(percent)}; expected a percentage above 0 and at most 100`,
    );
  }
  return key;
}

/** Internal: CodeDeploy's deployment configuration of a deployment strategy. */
export function deploymentConfigOf(where: string, strategy: DeploymentStrategy): codedeploy.IServerDeploymentConfig {
  switch (strategy) {
    case DeploymentStrategy.ALL_AT_ONCE:
      return codedeploy.ServerDeploymentConfig.ALL_AT_ONCE;
    case DeploymentStrategy.HALF_AT_A_TIME:
      return codedeploy.ServerDeploymentConfig.HALF_AT_A_TIME;
    case DeploymentStrategy.ONE_AT_A_TIME:
      return codedeploy.ServerDeploymentConfig.ONE_AT_A_TIME;
    default:
      throw new Error(
        `${where}: deploymentStrategy: received ${describeValue(strategy)}; expected one of ` +
          Object.values(DeploymentStrategy).join(', '),
      );
  }
}
