import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { FleetPipeline, FleetPipelineProps } from '../../src/fleet-pipeline/fleet-pipeline';
import { PipelineSource } from '../../src/pipeline-common/pipeline-source';
import { acknowledge } from '../support/compliance';

export const ACCOUNT = '123456789012';
export const REGION = 'eu-west-1';
export const CONNECTION_ARN =
  'arn:aws:codeconnections:eu-west-1:123456789012:connection/0a1b2c3d-4e5f-6789-abcd-ef0123456789';

/** A source of the fleet repository through a connection. */
export function fleetSource(): PipelineSource {
  return PipelineSource.codeConnections({ connectionArn: CONNECTION_ARN, owner: 'acme-platform', repository: 'fleet' });
}

/** A pipeline stack named as VendingFleet names it, with a FleetPipeline of these props (source given). */
export function pipelineStack(
  app: App,
  props: Partial<FleetPipelineProps> = {},
  name = 'vending-fleet-pipeline',
): { stack: Stack; pipeline: FleetPipeline } {
  const stack = new Stack(app, name, { env: { account: ACCOUNT, region: REGION }, stackName: name });
  const pipeline = new FleetPipeline(stack, 'FleetPipeline', { source: fleetSource(), ...props });
  return { stack, pipeline };
}

/** The buildspec of one of the pipeline's CodeBuild projects, parsed from the template (a JSON string there). */
export function buildSpecOf(template: Template, pipeline: FleetPipeline, project: string): any {
  const stack = Stack.of(pipeline);
  const logicalId = stack.getLogicalId(pipeline.node.findChild(project).node.defaultChild as any);
  const resource = template.toJSON().Resources[logicalId];
  return JSON.parse(resource.Properties.Source.BuildSpec);
}

/**
 * The cdk-nag findings a FleetPipeline carries by design (README, "The fleet pipeline"), each acknowledged on its
 * one policy with its reason.
 */
export function acknowledgeFleetPipeline(pipeline: FleetPipeline): void {
  const stack = Stack.of(pipeline);
  const id = (construct: any) => stack.getLogicalId(construct.node.defaultChild);
  const artifacts = id(pipeline.artifactsBucket);
  const state = id(pipeline.stateBucket);
  const grants: [string, string][] = [
    [
      'Action::kms:GenerateDataKey*',
      "aws-cdk-lib's grant on the pipeline's own key, which encrypts only its buckets and logs.",
    ],
    [
      'Action::kms:ReEncrypt*',
      "aws-cdk-lib's grant on the pipeline's own key, which encrypts only its buckets and logs.",
    ],
    ['Action::s3:Abort*', "aws-cdk-lib's read-write grant on the pipeline's own buckets, limited to their objects."],
    [
      'Action::s3:DeleteObject*',
      "aws-cdk-lib's read-write grant on the pipeline's own buckets (the state sync replaces objects).",
    ],
    ['Action::s3:GetBucket*', "aws-cdk-lib's read grant on the pipeline's own buckets: read-only actions."],
    ['Action::s3:GetObject*', "aws-cdk-lib's read grant on the pipeline's own buckets: read-only actions."],
    ['Action::s3:List*', "aws-cdk-lib's read grant on the pipeline's own buckets: read-only actions."],
    [
      `Resource::<${artifacts}.Arn>/*`,
      'Pipeline artifacts have names made by CodePipeline at run time, in the bucket of this pipeline only.',
    ],
  ];
  const projectGrants = (project: string): [string, string][] => [
    [
      `Resource::arn:<AWS::Partition>:logs:eu-west-1:123456789012:log-group:/aws/codebuild/<${id(pipeline.node.findChild(project))}>:*`,
      "CodeBuild's log streams are named per build at run time, in the project's own log group.",
    ],
  ];
  const statePaths = (reports: boolean): [string, string][] => [
    [
      `Resource::<${state}.Arn>/state/*`,
      'The deploy state has an object per stack (templates/<stack>.template.json), under state/ only.',
    ],
    ...(reports
      ? ([
          [
            `Resource::<${state}.Arn>/reports/*`,
            'Reports are named by the execution id at run time, under reports/ only.',
          ],
        ] as [string, string][])
      : []),
  ];
  const policies: [string, [string, string][]][] = [
    ['Pipeline', grants],
    ['Build', [...grants, ...projectGrants('Build'), ...statePaths(false)]],
    ['SelfUpdate', [...grants, ...projectGrants('SelfUpdate'), ...statePaths(true)]],
    ['Deploy', [...grants, ...projectGrants('Deploy'), ...statePaths(true)]],
  ];
  for (const [owner, findings] of policies) {
    const policy = pipeline.node.findChild(owner).node.findChild('Role').node.findChild('DefaultPolicy');
    for (const [finding, reason] of findings) acknowledge(policy, `AwsSolutions-IAM5[${finding}]`, reason);
  }
}
