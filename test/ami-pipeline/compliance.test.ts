/*
 * CustomerAmiPipeline through the compliance gate (cdk-nag, Control Tower rules, cfn-lint, aws-cdk-lib
 * validation): a production pipeline with approval and a rebuild schedule, and a staging one from an S3 object
 * with an AMI name filter, each on its web tier beside their platform.
 */
import { Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { CustomerAmiPipeline, CustomerWebTier, PackerBaseImage, PipelineSource, WebTierIngress } from '../../src';
import { expectCompliant, newTestApp } from '../support/compliance';
import { acknowledgeAmiPipeline, acknowledgeWebTier, ENV, platformStack } from '../support/platform-fixture';

const CONNECTION = 'arn:aws:codeconnections:eu-west-1:123456789012:connection/0a1b2c3d-4e5f-6789-abcd-ef0123456789';

test('production and staging AMI pipelines pass every check', () => {
  const app = newTestApp();
  const { stack: platformScope, platform } = platformStack(app, { production: true });
  const stacks = (['production', 'staging'] as const).map((environment) => {
    const stack = new Stack(app, `Acme-${environment}`, { env: ENV });
    const web = new CustomerWebTier(stack, 'Web', {
      customer: 'acme',
      environment,
      vpc: platform.vpc,
      encryptionKey: platform.key,
      logsBucket: platform.logsBucket,
      ingress: WebTierIngress.sharedRule({
        listener: platform.httpsListener,
        allocator: platform.allocator,
        hostnames: [`acme-${environment}.apps.example.com`],
      }),
    });
    acknowledgeWebTier(web);
    const production = environment === 'production';
    const pipeline = new CustomerAmiPipeline(stack, 'Ami', {
      customer: 'acme',
      environment,
      source: production
        ? PipelineSource.codeConnections({ connectionArn: CONNECTION, owner: 'acme', repository: 'infrastructure' })
        : PipelineSource.s3Object({
            bucket: s3.Bucket.fromBucketName(stack, 'Sources', 'acme-sources'),
            objectKey: 'infrastructure/main.zip',
          }),
      vpc: platform.vpc,
      artifactsBucket: platform.artifactsBucket,
      amiParameter: web.amiParameter,
      autoScalingGroup: web.autoScalingGroup,
      baseImage: production ? undefined : PackerBaseImage.fromFilter('al2023-ami-2023.*-x86_64', ['amazon']),
      approvalEmails: production ? ['ops@acme.example'] : undefined,
      rebuildSchedule: production ? events.Schedule.expression('cron(0 3 ? * SUN *)') : undefined,
    });
    acknowledgeAmiPipeline(pipeline);
    return stack;
  });
  expectCompliant([platformScope, ...stacks]);
});
