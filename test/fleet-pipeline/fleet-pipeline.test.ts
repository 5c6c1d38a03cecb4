import { readFileSync } from 'fs';
import { join } from 'path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { buildSpecOf, pipelineStack } from './fixture';
import { CONCURRENCY_BOUNDS, FLEET_DIRECTORY, QUALIFIER } from '../../src/fleet-pipeline/checks';
import { FleetPipeline } from '../../src/fleet-pipeline/fleet-pipeline';

const STAGES = ['Source', 'Build', 'UpdatePipeline', 'Platform', 'NonProduction', 'Approval', 'Production'];
const BOOTSTRAP_ROLE_ARNS = ['deploy-role', 'file-publishing-role', 'image-publishing-role', 'lookup-role'].map(
  (role) => ({
    'Fn::Join': [
      '',
      ['arn:', { Ref: 'AWS::Partition' }, `:iam::123456789012:role/cdk-hnb659fds-${role}-123456789012-eu-west-1`],
    ],
  }),
);

function synth(props: Parameters<typeof pipelineStack>[1] = {}) {
  const app = new App();
  const { stack, pipeline } = pipelineStack(app, props);
  return { stack, pipeline, template: Template.fromStack(stack) };
}

/** Every statement of every IAM policy of the template, with the logical id of the role it is attached to. */
function statementsByRole(template: Template): { role: string; statement: any }[] {
  const out: { role: string; statement: any }[] = [];
  for (const resource of Object.values<any>(template.findResources('AWS::IAM::Policy'))) {
    for (const role of resource.Properties.Roles) {
      for (const statement of resource.Properties.PolicyDocument.Statement) out.push({ role: role.Ref, statement });
    }
  }
  return out;
}

function roleOfProject(stack: Stack, pipeline: FleetPipeline, project: string): string {
  const role = (pipeline.node.findChild(project) as any).role;
  return stack.getLogicalId(role.node.defaultChild);
}

describe('FleetPipeline', () => {
  const { stack, pipeline, template } = synth();
  const pipelineResource = Object.values<any>(template.findResources('AWS::CodePipeline::Pipeline'))[0];

  test('stages run in order: the self-update right after the build, the approval between non-production and production', () => {
    expect(pipelineResource.Properties.Stages.map((s: any) => s.Name)).toEqual(STAGES);
    const actions = pipelineResource.Properties.Stages.map((s: any) => s.Actions.map((a: any) => a.Name));
    expect(actions).toEqual([
      ['Source'],
      ['Synth'],
      ['SelfUpdate'],
      ['Deploy'],
      ['Deploy'],
      ['ApproveProduction'],
      ['Deploy'],
    ]);
  });

  test('a V2 pipeline in QUEUED mode: one execution at a time, so the deploy state is never written by two runs', () => {
    expect(pipelineResource.Properties.PipelineType).toBe('V2');
    expect(pipelineResource.Properties.ExecutionMode).toBe('QUEUED');
    // Restarted by the self-update only when the pipeline's stack changed, not by CloudFormation on every update.
    expect(pipelineResource.Properties.RestartExecutionOnUpdate).toBe(false);
    expect(pipelineResource.Properties.Name).toBe('vending-fleet-pipeline');
  });

  test('each wave runs the deploy project with its group; every deploy action knows the execution', () => {
    const stages = pipelineResource.Properties.Stages;
    const envOf = (stage: string) =>
      JSON.parse(stages.find((s: any) => s.Name === stage).Actions[0].Configuration.EnvironmentVariables);
    expect(envOf('Platform')).toEqual(
      expect.arrayContaining([{ name: 'DEPLOY_GROUP', type: 'PLAINTEXT', value: 'platform' }]),
    );
    expect(envOf('NonProduction')).toEqual(
      expect.arrayContaining([{ name: 'DEPLOY_GROUP', type: 'PLAINTEXT', value: 'nonproduction' }]),
    );
    expect(envOf('Production')).toEqual(
      expect.arrayContaining([{ name: 'DEPLOY_GROUP', type: 'PLAINTEXT', value: 'production' }]),
    );
    for (const stage of ['UpdatePipeline', 'Platform', 'NonProduction', 'Production']) {
      expect(envOf(stage)).toEqual(
        expect.arrayContaining([
          { name: 'PIPELINE_EXECUTION_ID', type: 'PLAINTEXT', value: '#{codepipeline.PipelineExecutionId}' },
        ]),
      );
    }
    // The deploy actions read the Build action's output: the repository, cdk.out and the plan.
    for (const stage of ['UpdatePipeline', 'Platform', 'NonProduction', 'Production']) {
      expect(stages.find((s: any) => s.Name === stage).Actions[0].InputArtifacts).toEqual([{ Name: 'Synth' }]);
    }
  });

  test('the approval message is the text the Build action exported', () => {
    const approval = pipelineResource.Properties.Stages.find((s: any) => s.Name === 'Approval').Actions[0];
    expect(approval.ActionTypeId).toMatchObject({ Category: 'Approval', Provider: 'Manual' });
    expect(approval.Configuration.CustomData).toBe('#{Build.APPROVAL_MESSAGE}');
    const build = pipelineResource.Properties.Stages.find((s: any) => s.Name === 'Build').Actions[0];
    expect(build.Namespace).toBe('Build');
    expect(buildSpecOf(template, pipeline, 'Build').env['exported-variables']).toEqual([
      'APPROVAL_MESSAGE',
      'PRODUCTION_STACKS',
    ]);
    // No addresses: no topic, the approval waits in the console.
    template.resourceCountIs('AWS::SNS::Topic', 0);
    expect(approval.Configuration.NotificationArn).toBeUndefined();
  });

  test('a run whose plan changes no production stack skips the Approval and Production stages', () => {
    const stages = pipelineResource.Properties.Stages;
    const skipUnlessProduction = {
      Conditions: [
        {
          Result: 'SKIP',
          Rules: [
            {
              Name: 'ProductionChanges',
              RuleTypeId: { Category: 'Rule', Owner: 'AWS', Provider: 'VariableCheck', Version: '1' },
              Configuration: { Variable: '#{Build.PRODUCTION_STACKS}', Value: '0', Operator: 'NE' },
            },
          ],
        },
      ],
    };
    for (const stage of stages) {
      expect([stage.Name, stage.BeforeEntry]).toEqual([
        stage.Name,
        ['Approval', 'Production'].includes(stage.Name) ? skipUnlessProduction : undefined,
      ]);
    }
  });

  test('approval addresses get a topic of their own, encrypted and TLS only, each address subscribed once', () => {
    const withEmails = synth({ approvalEmails: ['ops@example.com', 'cto@example.com', 'ops@example.com'] });
    withEmails.template.resourceCountIs('AWS::SNS::Topic', 1);
    const topic = Object.values<any>(withEmails.template.findResources('AWS::SNS::Topic'))[0];
    expect(JSON.stringify(topic.Properties.KmsMasterKeyId)).toContain(':alias/aws/sns');
    withEmails.template.resourceCountIs('AWS::SNS::Subscription', 2);
    withEmails.template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  test('no role may act as an administrator: no wildcard action, no managed policy', () => {
    for (const role of Object.values<any>(template.findResources('AWS::IAM::Role'))) {
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    }
    for (const { statement } of statementsByRole(template)) {
      for (const action of [statement.Action].flat()) {
        expect(action).not.toBe('*');
        expect(action).not.toMatch(/^(iam|sts|cloudformation|ec2|s3):\*$/);
        expect(action).not.toMatch(/^iam:(Create|Put|Attach|PassRole)/);
        expect(action).not.toMatch(/^cloudformation:/);
      }
    }
  });

  test('the deploy builds may assume the four bootstrap roles by their exact names, and no other role', () => {
    const assumes = statementsByRole(template).filter(({ statement }) =>
      [statement.Action].flat().includes('sts:AssumeRole'),
    );
    const deployers = [roleOfProject(stack, pipeline, 'SelfUpdate'), roleOfProject(stack, pipeline, 'Deploy')];
    expect(assumes.map((a) => a.role).sort()).toEqual([...deployers].sort());
    for (const { statement } of assumes) {
      expect(statement.Action).toBe('sts:AssumeRole');
      expect(statement.Resource).toEqual(BOOTSTRAP_ROLE_ARNS);
    }
    // The build plans without AWS credentials of the account's stacks.
    const build = roleOfProject(stack, pipeline, 'Build');
    expect(assumes.some((a) => a.role === build)).toBe(false);
  });

  test('another bootstrap qualifier names other roles', () => {
    const other = synth({ bootstrapQualifier: 'fleet01' });
    const resources = statementsByRole(other.template)
      .filter(({ statement }) => statement.Action === 'sts:AssumeRole')
      .flatMap(({ statement }) => statement.Resource);
    expect(JSON.stringify(resources)).toContain('cdk-fleet01-deploy-role-123456789012-eu-west-1');
    expect(JSON.stringify(resources)).not.toContain('hnb659fds');
  });

  test('only the self-update may start and stop the pipeline, this pipeline only', () => {
    const pipelineActions = statementsByRole(template).filter(({ statement }) =>
      [statement.Action].flat().some((a: string) => /^codepipeline:(Start|Stop)PipelineExecution$/.test(a)),
    );
    expect(pipelineActions.map((p) => p.role)).toEqual([roleOfProject(stack, pipeline, 'SelfUpdate')]);
    expect(pipelineActions[0].statement.Resource).toEqual({
      'Fn::Join': [
        '',
        ['arn:', { Ref: 'AWS::Partition' }, ':codepipeline:eu-west-1:123456789012:vending-fleet-pipeline'],
      ],
    });
  });

  test('another pipeline name reaches the self-update, its variable and its permission', () => {
    const named = synth({ pipelineName: 'fleet-deploy' });
    named.template.hasResourceProperties('AWS::CodePipeline::Pipeline', { Name: 'fleet-deploy' });
    named.template.hasResourceProperties('AWS::CodeBuild::Project', {
      Environment: Match.objectLike({
        EnvironmentVariables: Match.arrayWith([{ Name: 'PIPELINE_NAME', Type: 'PLAINTEXT', Value: 'fleet-deploy' }]),
      }),
    });
    const restart = statementsByRole(named.template).find(
      ({ statement }) => statement.Sid === 'RestartItselfAfterAnUpdate',
    );
    expect(JSON.stringify(restart!.statement.Resource)).toContain(':codepipeline:eu-west-1:123456789012:fleet-deploy');
  });

  test('the state bucket: KMS with the pipeline key, versioned, private, TLS only; the build reads it, the deploys write it', () => {
    const bucketId = stack.getLogicalId(pipeline.stateBucket.node.defaultChild as any);
    const keyId = stack.getLogicalId(pipeline.key.node.defaultChild as any);
    expect(bucketId).toMatch(/^FleetPipelineStateBucket/);
    const bucket = template.toJSON().Resources[bucketId];
    expect(
      bucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault,
    ).toEqual({
      SSEAlgorithm: 'aws:kms',
      KMSMasterKeyID: { 'Fn::GetAtt': [keyId, 'Arn'] },
    });
    expect(bucket.Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(bucket.DeletionPolicy).toBe('Retain');
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: bucketId },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    const writes = (role: string) =>
      statementsByRole(template).some(
        ({ role: r, statement }) =>
          r === role &&
          [statement.Action].flat().includes('s3:PutObject') &&
          JSON.stringify(statement.Resource).includes(bucketId),
      );
    expect(writes(roleOfProject(stack, pipeline, 'Build'))).toBe(false);
    expect(writes(roleOfProject(stack, pipeline, 'Deploy'))).toBe(true);
    expect(writes(roleOfProject(stack, pipeline, 'SelfUpdate'))).toBe(true);
  });

  test('the artifacts bucket is encrypted with the pipeline key too', () => {
    const keyId = stack.getLogicalId(pipeline.key.node.defaultChild as any);
    expect(pipelineResource.Properties.ArtifactStore).toMatchObject({
      Type: 'S3',
      Location: { Ref: stack.getLogicalId(pipeline.artifactsBucket.node.defaultChild as any) },
    });
    const artifacts =
      template.toJSON().Resources[stack.getLogicalId(pipeline.artifactsBucket.node.defaultChild as any)];
    expect(
      artifacts.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault
        .KMSMasterKeyID,
    ).toEqual({
      'Fn::GetAtt': [keyId, 'Arn'],
    });
  });

  test('the projects: Node.js 22, the concurrency, the fleet directory and the pipeline stack as variables', () => {
    const custom = synth({ concurrency: 7, fleetDirectory: 'fleet' });
    for (const project of ['Build', 'SelfUpdate', 'Deploy']) {
      const spec = buildSpecOf(custom.template, custom.pipeline, project);
      expect(spec.phases.install['runtime-versions']).toEqual({ nodejs: '22' });
      expect(spec.phases.install.commands).toEqual(['npm ci']);
    }
    const computeOf = (project: string) =>
      custom.template.toJSON().Resources[
        Stack.of(custom.pipeline).getLogicalId(custom.pipeline.node.findChild(project).node.defaultChild as any)
      ].Properties.Environment.ComputeType;
    // The build synthesizes the whole fleet (memory); the deploys wait on CloudFormation.
    expect(['Build', 'SelfUpdate', 'Deploy'].map(computeOf)).toEqual([
      'BUILD_GENERAL1_MEDIUM',
      'BUILD_GENERAL1_SMALL',
      'BUILD_GENERAL1_SMALL',
    ]);
    custom.template.hasResourceProperties('AWS::CodeBuild::Project', {
      Environment: Match.objectLike({
        Image: 'aws/codebuild/standard:8.0',
        PrivilegedMode: false,
        EnvironmentVariables: Match.arrayWith([
          { Name: 'FLEET_DIR', Type: 'PLAINTEXT', Value: 'fleet' },
          { Name: 'CONCURRENCY', Type: 'PLAINTEXT', Value: '7' },
          { Name: 'PIPELINE_STACK', Type: 'PLAINTEXT', Value: 'vending-fleet-pipeline' },
        ]),
      }),
      TimeoutInMinutes: 480,
    });
    template.hasResourceProperties('AWS::CodeBuild::Project', {
      Environment: Match.objectLike({
        EnvironmentVariables: Match.arrayWith([
          { Name: 'FLEET_DIR', Type: 'PLAINTEXT', Value: '.' },
          { Name: 'CONCURRENCY', Type: 'PLAINTEXT', Value: '20' },
        ]),
      }),
    });
  });

  test('wrong props are refused together, each named with what was received and what is expected', () => {
    const app = new App();
    expect(() =>
      pipelineStack(app, {
        concurrency: 0,
        fleetDirectory: '../elsewhere',
        approvalEmails: ['not-an-address'],
        bootstrapQualifier: 'far-too-long-qualifier',
        buildTimeout: Duration.hours(9),
      }),
    ).toThrow(
      [
        'FleetPipeline vending-fleet-pipeline/FleetPipeline: fleetDirectory: received "../elsewhere"; expected a relative path',
      ].join(''),
    );
    const errorOf = (props: Parameters<typeof pipelineStack>[1]) => {
      try {
        pipelineStack(new App(), props);
      } catch (e) {
        return (e as Error).message;
      }
      return 'no error';
    };
    const all = errorOf({
      concurrency: 0,
      fleetDirectory: '../elsewhere',
      approvalEmails: ['not-an-address'],
      bootstrapQualifier: 'far-too-long-qualifier',
      buildTimeout: Duration.hours(9),
    });
    expect(all.split('\n')).toHaveLength(5);
    expect(all).toContain('concurrency: received 0; expected a whole number from 1 to 50');
    expect(all).toContain('approvalEmails[0]: received "not-an-address"; expected an email address');
    expect(all).toContain('bootstrapQualifier: received "far-too-long-qualifier"; expected 1 to 10 letters');
    expect(all).toContain('buildTimeout: received 540 minutes; expected whole minutes from 5 to 480');
    expect(errorOf({ concurrency: 2.5 })).toContain('concurrency: received 2.5; expected a whole number from 1 to 50');
    expect(errorOf({ concurrency: 51 })).toContain('concurrency: received 51');
    expect(errorOf({ fleetDirectory: 'fleet/./x' })).toContain('fleetDirectory: received "fleet/./x"');
    expect(errorOf({ fleetDirectory: '/abs' })).toContain('fleetDirectory: received "/abs"');
    expect(errorOf({ fleetDirectory: 'fleets/eu-west-1' })).toBe('no error');
  });

  test("the construct's bounds are the platform file's (one rule in two places, held equal here)", () => {
    const schema = JSON.parse(readFileSync(join(__dirname, '../../schema/platform-config.schema.json'), 'utf-8'));
    const props = schema.definitions.FleetPipelineConfig.properties;
    expect([props.concurrency.minimum, props.concurrency.maximum]).toEqual([
      CONCURRENCY_BOUNDS.minimum,
      CONCURRENCY_BOUNDS.maximum,
    ]);
    expect(props.bootstrapQualifier.pattern).toBe(QUALIFIER.source);
    expect(props.directory.pattern).toBe(FLEET_DIRECTORY.source);
    expect(props.concurrency.default).toBe(20);
    expect(props.bootstrapQualifier.default).toBe('hnb659fds');
  });
});
