/*
 * PipelineSource: each kind of source bound to a bare pipeline (a plain App), what it tells the later stages,
 * the props and configs it refuses. SoftwareDeliveryPipeline's tests cover the sources inside the real pipeline.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as codecommit from 'aws-cdk-lib/aws-codecommit';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as actions from 'aws-cdk-lib/aws-codepipeline-actions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { RepositoryConfig } from '../../src';
import { PipelineSource, PipelineSourceAction } from '../../src/pipeline-common/pipeline-source';
import { CONNECTION_ARN, LEGACY_CONNECTION_ARN } from '../delivery-pipeline/fixture';
import { policyStatementsOfRole, resourcesOf } from '../web-tier/fixture';

const ENV = { account: '123456789012', region: 'eu-west-1' };

interface Bound {
  readonly stack: Stack;
  readonly template: Template;
  readonly bound: PipelineSourceAction;
  readonly pipeline: codepipeline.Pipeline;
  readonly project: codebuild.PipelineProject;
}

/** Binds the source to a pipeline Source → Build (a CodeBuild project reading the source's output). */
function bind(source: PipelineSource, actionName?: string): Bound {
  const stack = new Stack(new App(), 'Stack', { env: ENV });
  const pipeline = new codepipeline.Pipeline(stack, 'Pipeline', { pipelineType: codepipeline.PipelineType.V2 });
  const output = new codepipeline.Artifact('Source');
  const bound = source.bind(pipeline, { pipeline, output, actionName });
  pipeline.addStage({ stageName: 'Source', actions: [bound.action] });
  const project = new codebuild.PipelineProject(stack, 'Build');
  for (const statement of bound.buildStatements ?? []) project.addToRolePolicy(statement);
  pipeline.addStage({
    stageName: 'Build',
    actions: [new actions.CodeBuildAction({ actionName: 'Build', project, input: output })],
  });
  return { stack, template: Template.fromStack(stack), bound, pipeline, project };
}

function sourceAction(template: Template): any {
  const [, pipeline] = resourcesOf(template, 'AWS::CodePipeline::Pipeline')[0];
  return pipeline.Properties.Stages[0].Actions[0];
}

/** The statements of the role a source action runs with. */
function sourceRoleStatements(b: Bound): any[] {
  const role = b.stack.resolve(sourceAction(b.template).RoleArn)['Fn::GetAtt'][0];
  return policyStatementsOfRole(b.template, role);
}

function buildRoleStatements(b: Bound): any[] {
  return policyStatementsOfRole(b.template, b.stack.resolve((b.project.role!.node.defaultChild as any).logicalId));
}

const actionsOf = (statements: any[]): string[] => statements.flatMap((s) => [s.Action].flat());

describe('CodeConnections (GitHub, GitLab, Bitbucket)', () => {
  test('a zip of the branch on each push, with the commit for later stages', () => {
    const b = bind(
      PipelineSource.codeConnections({ connectionArn: CONNECTION_ARN, owner: 'acme', repository: 'website' }),
    );
    const action = sourceAction(b.template);
    expect(action.ActionTypeId).toEqual({
      Category: 'Source',
      Owner: 'AWS',
      Provider: 'CodeStarSourceConnection',
      Version: '1',
    });
    expect(action.Configuration).toEqual({
      ConnectionArn: CONNECTION_ARN,
      FullRepositoryId: 'acme/website',
      BranchName: 'main',
      DetectChanges: true,
    });
    expect(action.Name).toBe('Source');
    expect(b.stack.resolve(b.bound.revision)).toBe(`#{${action.Namespace}.CommitId}`);
    expect(b.stack.resolve(b.bound.message)).toBe(`#{${action.Namespace}.CommitMessage}`);
    expect(b.bound.description).toBe('acme/website@main (CodeConnections)');
    expect(b.bound.buildStatements).toBeUndefined();
  });

  test('a codeconnections ARN: the action role gets UseConnection under both prefixes (IAM matches the ARN prefix)', () => {
    const b = bind(
      PipelineSource.codeConnections({ connectionArn: CONNECTION_ARN, owner: 'acme', repository: 'website' }),
    );
    const statements = sourceRoleStatements(b).filter((s) => /UseConnection/.test(JSON.stringify(s.Action)));
    expect(statements).toEqual([
      { Effect: 'Allow', Action: 'codestar-connections:UseConnection', Resource: CONNECTION_ARN },
      { Effect: 'Allow', Action: 'codeconnections:UseConnection', Resource: CONNECTION_ARN },
    ]);
  });

  test("a legacy codestar-connections ARN: aws-cdk-lib's permission is the right one, nothing added", () => {
    const b = bind(
      PipelineSource.codeConnections({
        connectionArn: LEGACY_CONNECTION_ARN,
        owner: 'acme',
        repository: 'website',
        fullClone: true,
      }),
    );
    expect(actionsOf(sourceRoleStatements(b)).filter((a) => /UseConnection/.test(a))).toEqual([
      'codestar-connections:UseConnection',
    ]);
    expect(b.bound.buildStatements).toBeUndefined();
    expect(actionsOf(buildRoleStatements(b)).filter((a) => /UseConnection/.test(a))).toEqual([
      'codestar-connections:UseConnection',
    ]);
  });

  test('fullClone: a Git clone for CodeBuild, which may use the connection under both prefixes', () => {
    const b = bind(
      PipelineSource.codeConnections({
        connectionArn: CONNECTION_ARN,
        owner: 'acme-org',
        repository: 'web.site',
        branch: 'release/2024',
        fullClone: true,
      }),
      'Checkout',
    );
    const action = sourceAction(b.template);
    expect(action.Name).toBe('Checkout');
    expect(action.Configuration).toMatchObject({
      FullRepositoryId: 'acme-org/web.site',
      BranchName: 'release/2024',
      OutputArtifactFormat: 'CODEBUILD_CLONE_REF',
    });
    expect(b.bound.description).toBe('acme-org/web.site@release/2024 (CodeConnections)');
    const connection = buildRoleStatements(b).filter((s) => /UseConnection/.test(JSON.stringify(s.Action)));
    expect(connection).toEqual(
      expect.arrayContaining([
        { Effect: 'Allow', Action: 'codestar-connections:UseConnection', Resource: CONNECTION_ARN },
        { Effect: 'Allow', Action: 'codeconnections:UseConnection', Resource: CONNECTION_ARN },
      ]),
    );
  });

  test('a connection ARN known at deploy time only: both prefixes, on that ARN', () => {
    const stack = new Stack(new App(), 'Tokens', { env: ENV });
    const token = new s3.Bucket(stack, 'AnyToken').bucketArn;
    const source = PipelineSource.codeConnections({
      connectionArn: token,
      owner: 'acme',
      repository: 'website',
      fullClone: true,
    });
    const pipeline = new codepipeline.Pipeline(stack, 'Pipeline');
    const output = new codepipeline.Artifact('Source');
    const bound = source.bind(pipeline, { pipeline, output });
    expect(bound.buildStatements!.map((s) => s.toStatementJson().Action)).toEqual(['codeconnections:UseConnection']);
  });
});

describe('CodeCommit', () => {
  test('the branch, triggered by the repository events (not by polling)', () => {
    const stack = new Stack(new App(), 'Repo', { env: ENV });
    const repository = new codecommit.Repository(stack, 'Repository', { repositoryName: 'acme-website' });
    const pipeline = new codepipeline.Pipeline(stack, 'Pipeline', { pipelineType: codepipeline.PipelineType.V2 });
    const output = new codepipeline.Artifact('Source');
    const bound = PipelineSource.codeCommit({ repository, branch: 'develop', fullClone: true }).bind(pipeline, {
      pipeline,
      output,
    });
    pipeline.addStage({ stageName: 'Source', actions: [bound.action] });
    const project = new codebuild.PipelineProject(stack, 'Build');
    pipeline.addStage({
      stageName: 'Build',
      actions: [new actions.CodeBuildAction({ actionName: 'Build', project, input: output })],
    });
    const template = Template.fromStack(stack);
    const action = sourceAction(template);
    expect(action.ActionTypeId.Provider).toBe('CodeCommit');
    expect(action.Configuration).toMatchObject({
      BranchName: 'develop',
      PollForSourceChanges: false,
      OutputArtifactFormat: 'CODEBUILD_CLONE_REF',
    });
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: Match.objectLike({
        source: ['aws.codecommit'],
        detail: Match.objectLike({ referenceName: ['develop'] }),
      }),
    });
    expect(stack.resolve(bound.revision)).toBe(`#{${action.Namespace}.CommitId}`);
    expect(stack.resolve(bound.message)).toBe(`#{${action.Namespace}.CommitMessage}`);
    expect(stack.resolve(bound.description)).toEqual({
      'Fn::Join': ['', [{ 'Fn::GetAtt': [expect.stringMatching(/^Repository/), 'Name'] }, '@develop (CodeCommit)']],
    });
    expect(
      actionsOf(policyStatementsOfRole(template, stack.resolve((project.role!.node.defaultChild as any).logicalId))),
    ).toContain('codecommit:GitPull');
  });

  test('the default branch is main, and a zip of it', () => {
    const stack = new Stack(new App(), 'Repo', { env: ENV });
    const repository = codecommit.Repository.fromRepositoryName(stack, 'Repository', 'acme-website');
    const b = bind(PipelineSource.codeCommit({ repository }));
    void stack;
    const action = sourceAction(b.template);
    expect(action.Configuration).toEqual({
      RepositoryName: 'acme-website',
      BranchName: 'main',
      PollForSourceChanges: false,
    });
    expect(b.bound.description).toBe('acme-website@main (CodeCommit)');
  });
});

describe('an S3 object', () => {
  test('the object, started by its Object Created events through EventBridge (no CloudTrail, no polling)', () => {
    const stack = new Stack(new App(), 'Bucket', { env: ENV });
    const bucket = s3.Bucket.fromBucketName(stack, 'Sources', 'initech-sources');
    const b = bind(PipelineSource.s3Object({ bucket, objectKey: 'website/main.zip' }));
    const action = sourceAction(b.template);
    expect(action.ActionTypeId.Provider).toBe('S3');
    expect(action.Configuration).toEqual({
      S3Bucket: 'initech-sources',
      S3ObjectKey: 'website/main.zip',
      PollForSourceChanges: false,
    });
    const [, rule] = resourcesOf(b.template, 'AWS::Events::Rule')[0];
    expect(rule.Properties.EventPattern).toEqual({
      source: ['aws.s3'],
      'detail-type': ['Object Created'],
      detail: { bucket: { name: ['initech-sources'] }, object: { key: ['website/main.zip'] } },
    });
    expect(rule.Properties.Targets).toEqual([
      expect.objectContaining({
        Arn: b.stack.resolve(b.pipeline.pipelineArn),
        RoleArn: { 'Fn::GetAtt': [expect.any(String), 'Arn'] },
      }),
    ]);
    expect(b.bound.description).toBe('s3://initech-sources/website/main.zip (S3)');
    expect(b.stack.resolve(b.bound.revision)).toBe(`#{${action.Namespace}.VersionId}`);
    expect(b.stack.resolve(b.bound.message)).toBe(`#{${action.Namespace}.ETag}`);
    // The source action reads that one object of the bucket.
    const read = sourceRoleStatements(b).find((s) => JSON.stringify(s.Resource).includes('initech-sources/website'));
    expect(read.Action).toEqual(['s3:GetObject*', 's3:GetBucket*', 's3:List*']);
  });
});

describe("from a config file's repository", () => {
  test('connectionArn with owner, name and branch', () => {
    const source = PipelineSource.fromConfig({
      connectionArn: CONNECTION_ARN,
      owner: 'acme',
      name: 'website',
      branch: 'develop',
    });
    expect(source.kind).toBe('codeconnections');
    const b = bind(source);
    expect(sourceAction(b.template).Configuration).toMatchObject({
      FullRepositoryId: 'acme/website',
      BranchName: 'develop',
    });
  });

  test('codeCommitRepository: imported by name where the pipeline is', () => {
    const source = PipelineSource.fromConfig({ codeCommitRepository: 'globex-shop' });
    expect(source.kind).toBe('codecommit');
    const b = bind(source);
    expect(sourceAction(b.template).Configuration).toMatchObject({ RepositoryName: 'globex-shop', BranchName: 'main' });
    expect(b.pipeline.node.tryFindChild('SourceRepository')).toBeDefined();
    expect(b.bound.description).toBe('globex-shop@main (CodeCommit)');
    b.template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: Match.objectLike({
        resources: [{ 'Fn::Join': ['', Match.arrayWith([':codecommit:eu-west-1:123456789012:globex-shop'])] }],
      }),
    });
  });

  test('s3Bucket with s3ObjectKey: the bucket imported by name, its events start the pipeline', () => {
    const source = PipelineSource.fromConfig({ s3Bucket: 'initech-sources', s3ObjectKey: 'website/main.zip' });
    expect(source.kind).toBe('s3');
    const b = bind(source);
    expect(sourceAction(b.template).Configuration).toMatchObject({
      S3Bucket: 'initech-sources',
      S3ObjectKey: 'website/main.zip',
    });
    expect(b.pipeline.node.tryFindChild('SourceBucket')).toBeDefined();
    b.template.resourceCountIs('AWS::Events::Rule', 1);
  });

  test.each<[string, RepositoryConfig, string]>([
    [
      'no kind of source',
      { branch: 'main' },
      'PipelineSource.fromConfig: repository: received {"branch":"main"}; expected one kind of source: connectionArn with owner and name, codeCommitRepository, or s3Bucket with s3ObjectKey',
    ],
    [
      'two kinds of source',
      { codeCommitRepository: 'a', s3Bucket: 'b-sources', s3ObjectKey: 'a.zip' },
      'PipelineSource.fromConfig: repository: received codeCommitRepository and s3Bucket; expected one kind of source: connectionArn with owner and name, codeCommitRepository, or s3Bucket with s3ObjectKey',
    ],
    [
      'a connection without an owner',
      { connectionArn: CONNECTION_ARN, name: 'website' },
      'PipelineSource.fromConfig: repository.owner: received nothing; expected owner with connectionArn',
    ],
    [
      'a connection without a repository name',
      { connectionArn: CONNECTION_ARN, owner: 'acme' },
      'PipelineSource.fromConfig: repository.name: received nothing; expected name with connectionArn',
    ],
    [
      'a bucket without an object key',
      { s3Bucket: 'initech-sources' },
      'PipelineSource.fromConfig: repository.s3ObjectKey: received nothing; expected s3ObjectKey with s3Bucket',
    ],
    [
      'an object key that is not a zip',
      { s3Bucket: 'initech-sources', s3ObjectKey: 'website/main.tar' },
      'PipelineSource.fromConfig: s3ObjectKey: received "website/main.tar"; expected ' +
        'an object key ending in .zip, of letters, digits and . _ - / only (EventBridge matches it exactly), such as website/main.zip',
    ],
    [
      'an object key with a space (S3 encodes it in events: the rule would never match)',
      { s3Bucket: 'initech-sources', s3ObjectKey: 'web site/main.zip' },
      'PipelineSource.fromConfig: s3ObjectKey: received "web site/main.zip"; expected ' +
        'an object key ending in .zip, of letters, digits and . _ - / only (EventBridge matches it exactly), such as website/main.zip',
    ],
    [
      'a CodeCommit repository name with a space',
      { codeCommitRepository: 'globex shop' },
      'PipelineSource.fromConfig: codeCommitRepository: received "globex shop"; expected a CodeCommit repository name such as acme-website',
    ],
    [
      'a CodeCommit branch with a space',
      { codeCommitRepository: 'globex-shop', branch: 'my branch' },
      'PipelineSource.fromConfig: branch: received "my branch"; expected a branch name such as main',
    ],
    [
      'a connection ARN of another service',
      { connectionArn: 'arn:aws:codecommit:eu-west-1:123456789012:repo', owner: 'acme', name: 'website' },
      'PipelineSource.codeConnections: connectionArn: received "arn:aws:codecommit:eu-west-1:123456789012:repo"; expected a connection ARN',
    ],
  ])('%s is refused', (_name, repository, message) => {
    expect(() => PipelineSource.fromConfig(repository)).toThrow(message);
  });
});

describe('bad props', () => {
  const stack = new Stack(new App(), 'Props', { env: ENV });
  const repository = codecommit.Repository.fromRepositoryName(stack, 'Repository', 'acme-website');
  const bucket = s3.Bucket.fromBucketName(stack, 'Bucket', 'acme-sources');

  test.each<[string, () => PipelineSource, string]>([
    [
      'an owner with a space',
      () => PipelineSource.codeConnections({ connectionArn: CONNECTION_ARN, owner: 'ac me', repository: 'website' }),
      'PipelineSource.codeConnections: owner: received "ac me"; expected a repository owner such as acme',
    ],
    [
      'a repository with a slash',
      () => PipelineSource.codeConnections({ connectionArn: CONNECTION_ARN, owner: 'acme', repository: 'web/site' }),
      'PipelineSource.codeConnections: repository: received "web/site"; expected a repository name such as website',
    ],
    [
      'an empty branch',
      () =>
        PipelineSource.codeConnections({
          connectionArn: CONNECTION_ARN,
          owner: 'acme',
          repository: 'website',
          branch: '',
        }),
      'PipelineSource.codeConnections: branch: received ""; expected a branch name such as main',
    ],
    [
      'a CodeCommit branch with a colon',
      () => PipelineSource.codeCommit({ repository, branch: 'a:b' }),
      'PipelineSource.codeCommit: branch: received "a:b"; expected a branch name such as main',
    ],
    [
      'an object key with characters S3 encodes in events',
      () => PipelineSource.s3Object({ bucket, objectKey: 'website/main+1.zip' }),
      'PipelineSource.s3Object: objectKey: received "website/main+1.zip"; expected an object key ending in .zip, of letters',
    ],
    [
      'an object key that is not a zip',
      () => PipelineSource.s3Object({ bucket, objectKey: 'website/main' }),
      'PipelineSource.s3Object: objectKey: received "website/main"; expected an object key ending in .zip',
    ],
  ])('%s is refused', (_name, create, message) => {
    expect(create).toThrow(message);
  });

  test('tokens are left to CloudFormation', () => {
    const name = new s3.Bucket(stack, 'Names').bucketName;
    expect(() => PipelineSource.s3Object({ bucket, objectKey: name }).kind).not.toThrow();
    expect(PipelineSource.codeCommit({ repository, branch: name }).kind).toBe('codecommit');
  });
});
