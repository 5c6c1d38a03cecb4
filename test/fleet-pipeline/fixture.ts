import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { FleetPipeline, FleetPipelineProps } from '../../src/fleet-pipeline/fleet-pipeline';
import { PipelineSource } from '../../src/pipeline-common/pipeline-source';

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
