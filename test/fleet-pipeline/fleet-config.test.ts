/*
 * The platform file's `fleetPipeline:` block: its errors, and the stack VendingFleet builds from it, which leaves the
 * fleet's other stacks as they were.
 */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ConfigLoader, FleetPipeline, VendingFleet } from '../../src';

const FLEET = join(__dirname, '..', '..', 'examples', 'fleet');
const PLATFORM = readFileSync(join(FLEET, 'platform.yaml'), 'utf-8');
const WITHOUT_PIPELINE = PLATFORM.slice(0, PLATFORM.indexOf('# The pipeline that deploys this fleet'));

/** The platform file with this `fleetPipeline:` block instead of the example's. */
function withBlock(block: string): string {
  return `${WITHOUT_PIPELINE}fleetPipeline:\n${block.replace(/^/gm, '  ')}\n`;
}

function problemsOf(text: string): string {
  try {
    ConfigLoader.parsePlatform(text, 'platform.yaml');
  } catch (e) {
    return (e as Error).message;
  }
  return 'no error';
}

/** A copy of the example fleet with this platform file. */
function fleetCopy(platform: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'fleet-pipeline-config-'));
  cpSync(FLEET, dir, { recursive: true });
  writeFileSync(join(dir, 'platform.yaml'), platform);
  return dir;
}

describe('fleetPipeline in platform.yaml', () => {
  const repository = 'repository: { codeCommitRepository: fleet }';

  test('the example block is valid, and a minimal one too', () => {
    expect(problemsOf(PLATFORM)).toBe('no error');
    expect(problemsOf(withBlock(repository))).toBe('no error');
  });

  test('a missing or ambiguous repository is an error at its field', () => {
    expect(problemsOf(withBlock('concurrency: 5'))).toMatch(
      /platform\.yaml:\d+:\d+: fleetPipeline\.repository: is missing; expected a mapping/,
    );
    const both = problemsOf(
      withBlock('repository: { codeCommitRepository: fleet, s3Bucket: acme-sources, s3ObjectKey: fleet/main.zip }'),
    );
    expect(both).toMatch(
      /fleetPipeline\.repository: sets codeCommitRepository and s3Bucket; expected exactly one kind of source/,
    );
    expect(
      problemsOf(
        withBlock(
          'repository: { connectionArn: "arn:aws:codeconnections:eu-west-1:123456789012:connection/7c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f" }',
        ),
      ),
    ).toMatch(/fleetPipeline\.repository\.owner: is missing; connectionArn needs owner and name/);
  });

  test('out-of-range and malformed values name the field, the value and the rule', () => {
    expect(problemsOf(withBlock(`${repository}\nconcurrency: 0`))).toMatch(
      /fleetPipeline\.concurrency: received 0; expected .*1/,
    );
    expect(problemsOf(withBlock(`${repository}\nconcurrency: 51`))).toMatch(
      /fleetPipeline\.concurrency: received 51; expected .*50/,
    );
    expect(problemsOf(withBlock(`${repository}\ndirectory: ../other`))).toMatch(
      /fleetPipeline\.directory: received "\.\.\/other"; expected a relative path/,
    );
    expect(problemsOf(withBlock(`${repository}\napprovalEmails: [nobody]`))).toMatch(
      /fleetPipeline\.approvalEmails\[0\]: received "nobody"; expected an email address/,
    );
    expect(problemsOf(withBlock(`${repository}\nbootstrapQualifier: "has space"`))).toMatch(
      /fleetPipeline\.bootstrapQualifier: received "has space"; expected 1 to 10 letters/,
    );
    expect(problemsOf(withBlock(`${repository}\nconcurency: 5`))).toMatch(/fleetPipeline.*concurency/);
  });
});

describe('VendingFleet with a fleet pipeline', () => {
  const app = new App();
  const fleet = VendingFleet.fromDirectory(app, FLEET, { frozenPlacement: true });
  const assembly = app.synth();
  const plainApp = new App();
  const plain = VendingFleet.fromDirectory(plainApp, fleetCopy(WITHOUT_PIPELINE), { frozenPlacement: true });
  const plainAssembly = plainApp.synth();

  test('the fleet gets one more stack, <platform>-fleet-pipeline, last, in the platform account, depending on nothing', () => {
    expect(fleet.stackNames).toEqual([...plain.stackNames, 'vending-fleet-pipeline']);
    const artifact = assembly.getStackByName('vending-fleet-pipeline');
    // Its own asset manifest only: no dependency on the platform or any customer stack.
    expect(artifact.dependencies.map((d) => d.id)).toEqual(['vending-fleet-pipeline.assets']);
    expect(artifact.environment).toMatchObject({ account: '123456789012', region: 'eu-west-1' });
    expect(fleet.pipelineStack!.terminationProtection).toBe(true);
    expect(fleet.fleetPipeline).toBeInstanceOf(FleetPipeline);
    const template = Template.fromStack(fleet.pipelineStack!);
    template.resourceCountIs('AWS::CodePipeline::Pipeline', 1);
    template.hasResourceProperties('AWS::CodePipeline::Pipeline', { Name: 'vending-fleet-pipeline' });
    template.resourceCountIs('AWS::SNS::Subscription', 1);
    expect(plain.pipelineStack).toBeUndefined();
  });

  test("the fleet's other stacks are the same with and without the pipeline", () => {
    for (const name of plain.stackNames) {
      expect(assembly.getStackByName(name).template).toEqual(plainAssembly.getStackByName(name).template);
    }
  });

  test('the source is the repository of the block', () => {
    const template = Template.fromStack(fleet.pipelineStack!);
    const pipeline = Object.values<any>(template.findResources('AWS::CodePipeline::Pipeline'))[0];
    expect(pipeline.Properties.Stages[0].Actions[0].Configuration).toMatchObject({
      FullRepositoryId: 'example-platform/fleet',
      BranchName: 'main',
    });
  });

  test('vending:stacks selects the pipeline stack alone', () => {
    const one = new App({ context: { [VendingFleet.STACKS_CONTEXT_KEY]: 'vending-fleet-pipeline' } });
    const selected = VendingFleet.fromDirectory(one, FLEET, { frozenPlacement: true });
    expect(one.synth().stacks.map((s) => s.stackName)).toEqual(['vending-fleet-pipeline']);
    expect(selected.platformStack).toBeUndefined();
  });

  test('a customer environment named like the pipeline stack is a ConfigError naming both', () => {
    const platform = WITHOUT_PIPELINE.replace(
      /^environment: production$/m,
      'environment: production\nenvironments: [{ name: production, production: true }, { name: staging }, { name: development }, { name: pipeline }]',
    );
    const dir = fleetCopy(`${platform}fleetPipeline:\n  repository: { codeCommitRepository: fleet }\n`);
    const hooli = readFileSync(join(FLEET, 'customers', 'hooli-staging.yaml'), 'utf-8');
    writeFileSync(
      join(dir, 'customers', 'vending-fleet-pipeline.yaml'),
      hooli
        .replace('customer: hooli', 'customer: vending-fleet')
        .replace('environment: staging', 'environment: pipeline'),
    );
    expect(() => VendingFleet.fromDirectory(new App(), dir)).toThrow(
      /platform\.yaml: fleetPipeline: makes a stack named vending-fleet-pipeline, the name of customer vending-fleet's pipeline environment too/,
    );
  });
});
