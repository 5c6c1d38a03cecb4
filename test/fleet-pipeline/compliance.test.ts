import { acknowledgeFleetPipeline, pipelineStack } from './fixture';
import { expectCompliant, newTestApp } from '../support/compliance';

test('the pipeline stack passes the compliance gate (cdk-nag, Control Tower, cfn-lint, CloudFormation validation)', () => {
  const app = newTestApp();
  const withTopic = pipelineStack(app, { approvalEmails: ['ops@example.com'] });
  const plain = pipelineStack(app, { fleetDirectory: 'fleet', bootstrapQualifier: 'fleet01' }, 'other-fleet-pipeline');
  acknowledgeFleetPipeline(withTopic.pipeline);
  acknowledgeFleetPipeline(plain.pipeline);
  expectCompliant([withTopic.stack, plain.stack]);
});
