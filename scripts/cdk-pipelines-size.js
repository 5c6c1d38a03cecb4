// Measures a CDK Pipelines pipeline (aws-cdk-lib's `pipelines` module) that deploys N one-resource stacks in waves of
// 25 (the most a CodePipeline stage holds at two actions per stack): its stages, actions and template size, the
// figures docs/FLEET-DEPLOY-QUOTAS.md compares FleetPipeline with. Offline; usage: node scripts/cdk-pipelines-size.js N
'use strict';
const { mkdtempSync, statSync } = require('fs');
const { tmpdir } = require('os');
const { join } = require('path');
const cdk = require('aws-cdk-lib');
const pipelines = require('aws-cdk-lib/pipelines');
const sns = require('aws-cdk-lib/aws-sns');

const count = Number(process.argv[2]);
if (!Number.isInteger(count) || count < 1) {
  console.error(`cdk-pipelines-size: received ${JSON.stringify(process.argv[2])}; expected a number of stacks, such as 250`);
  process.exit(2);
}
const PER_WAVE = 25;
const env = { account: '123456789012', region: 'eu-west-1' };
const app = new cdk.App({ outdir: mkdtempSync(join(tmpdir(), 'cdk-pipelines-size-')) });
const stack = new cdk.Stack(app, 'Pipeline', { env });
const pipeline = new pipelines.CodePipeline(stack, 'Pipeline', {
  synth: new pipelines.ShellStep('Synth', {
    input: pipelines.CodePipelineSource.connection('example/fleet', 'main', {
      connectionArn: 'arn:aws:codeconnections:eu-west-1:123456789012:connection/0a1b2c3d-4e5f-6789-abcd-ef0123456789',
    }),
    commands: ['npx cdk synth'],
  }),
});
let wave;
for (let i = 0; i < count; i++) {
  if (i % PER_WAVE === 0) wave = pipeline.addWave(`Wave${i / PER_WAVE}`);
  const stage = new cdk.Stage(app, `Customer${i}`, { env });
  new sns.Topic(new cdk.Stack(stage, 'Environment'), 'Topic');
  wave.addStage(stage);
}
const assembly = app.synth();
const template = assembly.getStackByName('Pipeline').template;
const resource = Object.values(template.Resources).find((r) => r.Type === 'AWS::CodePipeline::Pipeline');
const stages = resource.Properties.Stages;
console.log(
  JSON.stringify({
    stacks: count,
    stages: stages.length,
    actions: stages.reduce((sum, s) => sum + s.Actions.length, 0),
    mostActionsInAStage: Math.max(...stages.map((s) => s.Actions.length)),
    templateBytes: statSync(join(app.outdir, 'Pipeline.template.json')).size,
  }),
);
