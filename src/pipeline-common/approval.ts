import { Token } from 'aws-cdk-lib';
import * as actions from 'aws-cdk-lib/aws-codepipeline-actions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { approversProblem, valueProblem } from '../config/values';

/*
 * Internal (not re-exported by the package): the manual approval both pipelines of a customer environment use,
 * and the check of its addresses.
 */

/** What a manual approval of a customer environment's pipeline says, and to whom. */
export interface ApprovalOptions {
  readonly customer: string;
  readonly environment: string;
  /** Addresses that receive the approval mails, subscribed once each to the action's own topic. */
  readonly emails: string[];
  /**
   * Shown in the mail and the console, at most 500 characters (CodePipeline's limit); CodePipeline variable
   * expressions (`#{Source.CommitId}`, `#{Bake.AMI_ID}`) are resolved for each execution.
   */
  readonly information: string;
  /** @default "Approve" */
  readonly actionName?: string;
  /** @default - the first action of its stage */
  readonly runOrder?: number;
}

/** CodePipeline's limit on a manual approval's CustomData. */
const MAX_INFORMATION_LENGTH = 500;

/**
 * Checks a pipeline's `approvalEmails`: each one an address, and at least one in production, where releases wait
 * for a person. `what` names what waits, for the message ("releases", "images").
 */
export function checkApprovalEmails(
  where: string,
  emails: string[] | undefined,
  production: boolean,
  what: string,
): void {
  const list = emails ?? [];
  for (const [i, email] of list.entries()) {
    const problem = valueProblem('email', email);
    if (problem) throw new Error(`${where}: approvalEmails[${i}]: ${problem}`);
  }
  const approvers = approversProblem(list, production, what);
  if (approvers) throw new Error(`${where}: approvalEmails: ${approvers}`);
}

/**
 * A manual approval with a topic of its own: encrypted with the AWS managed key `alias/aws/sns` (which
 * CodePipeline's action role may publish with, without a key policy statement) and SSL-only. One topic per
 * approval action, so the two pipelines of an environment never subscribe the same address twice to one topic
 * (aws-cdk-lib refuses that at synth); addresses given twice are subscribed once.
 *
 * The topic's construct ids are `<actionName>Topic` and `<actionName>TopicKey` ("ApprovalTopic" and
 * "ApprovalTopicKey" for the default action name, kept for the pipelines already deployed).
 */
export function approvalAction(
  scope: Construct,
  options: ApprovalOptions,
): { action: actions.ManualApprovalAction; topic: sns.Topic } {
  const actionName = options.actionName ?? 'Approve';
  const where = `approvalAction ${scope.node.path}`;
  if (!Token.isUnresolved(options.information) && options.information.length > MAX_INFORMATION_LENGTH) {
    throw new Error(
      `${where}: information: received ${options.information.length} characters; expected at most ` +
        `${MAX_INFORMATION_LENGTH}, CodePipeline's limit on an approval's custom data`,
    );
  }
  if (options.emails.length === 0) {
    throw new Error(`${where}: emails: received an empty list; expected at least one address to ask for approval`);
  }
  const id = actionName === 'Approve' ? 'Approval' : actionName;
  const topic = new sns.Topic(scope, `${id}Topic`, {
    displayName: `Approvals of ${options.customer}-${options.environment}`,
    masterKey: kms.Alias.fromAliasName(scope, `${id}TopicKey`, 'alias/aws/sns'),
    enforceSSL: true,
  });
  for (const email of new Set(options.emails)) topic.addSubscription(new subscriptions.EmailSubscription(email));
  const action = new actions.ManualApprovalAction({
    actionName,
    // The topic is subscribed above (not through notifyEmails): the action only publishes to it.
    notificationTopic: topic,
    additionalInformation: options.information,
    runOrder: options.runOrder,
  });
  return { action, topic };
}
