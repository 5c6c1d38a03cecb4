/*
 * The fleet pipeline's buildspecs, read from the example fleet's pipeline stack and run in bash against a copy of the
 * example fleet (test/fleet-pipeline/buildspec-harness.ts: `aws` and `npm` are fakes that record their calls; `npx
 * --no paas-vending` runs this checkout's command). What needs no AWS runs for real; `paas-vending deploy` without
 * --plan, which needs AWS, is stood for by a fake that does what its agreed interface says (it writes the state's
 * template of each stack it deployed and its --report, and exits non-zero when a stack failed), so that what the
 * buildspec does around it is what is tested: the state's round trip through S3, the reports, the self-update's
 * restart, a failed wave failing after the others deployed.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'fs';
import { join } from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { BuildHarness } from './buildspec-harness';
import { buildSpecOf } from './fixture';
import { VendingFleet } from '../../src';

const FLEET = join(__dirname, '..', '..', 'examples', 'fleet');
const BUCKET = 'vending-fleet-pipeline-state';
const EXECUTION = '0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b';

// The buildspecs and variables as the example fleet's pipeline stack has them.
const app = new App();
const vending = VendingFleet.fromDirectory(app, FLEET, { frozenPlacement: true, stacks: ['vending-fleet-pipeline'] });
const pipeline = vending.fleetPipeline!;
const template = Template.fromStack(Stack.of(pipeline));
const spec = (project: string) => buildSpecOf(template, pipeline, project);

/** The project's variables from the template (the bucket's name stands for its Ref), and CodeBuild's own. */
function variables(project: string): Record<string, string> {
  const id = Stack.of(pipeline).getLogicalId(pipeline.node.findChild(project).node.defaultChild as any);
  const env = template.toJSON().Resources[id].Properties.Environment.EnvironmentVariables as any[];
  const out: Record<string, string> = {};
  for (const v of env) out[v.Name] = typeof v.Value === 'string' ? v.Value : BUCKET;
  return out;
}

/** A harness whose checkout is a copy of the example fleet, its repository's root. */
function checkout(): BuildHarness {
  const harness = new BuildHarness();
  cpSync(FLEET, harness.work, { recursive: true });
  return harness;
}

const aws = (calls: string[][]) => calls.filter((c) => c[0] !== 'npm' && c[0] !== 'paas-vending');

test('the projects carry the variables the commands read', () => {
  expect(variables('Build')).toMatchObject({
    FLEET_DIR: '.',
    CONCURRENCY: '20',
    PIPELINE_STACK: 'vending-fleet-pipeline',
  });
  expect(variables('Deploy').STATE_BUCKET).toBe(BUCKET);
});

describe('the Build action, run against the example fleet', () => {
  let run: ReturnType<BuildHarness['run']>;
  let harness: BuildHarness;
  beforeAll(() => {
    harness = checkout();
    run = harness.run(spec('Build'), variables('Build'));
  });

  test('installs from the lock file, then validates and synthesizes with the placement frozen', () => {
    expect(run.calls[0]).toEqual(['npm', 'ci']);
    const commands = spec('Build').phases.build.commands as string[];
    expect(commands[0]).toBe('npx --no paas-vending validate "$FLEET_DIR"');
    expect(commands[1]).toBe('npx --no paas-vending synth "$FLEET_DIR" --out cdk.out --frozen-placement');
    expect(run.stderr).not.toContain('[harness] build command 1 failed');
    expect(run.stderr).not.toContain('[harness] build command 2 failed');
    const manifest = JSON.parse(readFileSync(join(harness.work, 'cdk.out', 'manifest.json'), 'utf-8'));
    const stacks = Object.entries<any>(manifest.artifacts)
      .filter(([, a]) => a.type === 'aws:cloudformation:stack')
      .map(([id]) => id);
    expect(stacks.sort()).toEqual([...vending.stackNames].sort());
    // CI commits nothing: placement.yaml is as committed.
    expect(readFileSync(join(harness.work, 'placement.yaml'), 'utf-8')).toBe(
      readFileSync(join(FLEET, 'placement.yaml'), 'utf-8'),
    );
  });

  test('the build passes; the plan of a first run (no state) deploys every stack of the fleet but the pipeline', () => {
    expect(run.stderr).not.toContain('[harness]');
    expect(run.status).toBe(0);
    const plan = JSON.parse(readFileSync(join(harness.work, 'fleet-plan', 'plan.json'), 'utf-8'));
    expect(plan.waves.map((w: any) => w.wave)).toEqual(['platform', 'nonproduction', 'production']);
    const planned = plan.waves.flatMap((w: any) => w.stacks.map((st: any) => st.stack));
    // The UpdatePipeline stage deploys the pipeline's own stack; the waves never do.
    expect(planned.sort()).toEqual(vending.stackNames.filter((n) => n !== 'vending-fleet-pipeline').sort());
    expect(plan.waves[0].stacks.map((st: any) => st.stack)).toEqual(['vending-platform']);
  });

  test('the approval text is exported for the Approval stage, as the plan wrote it', () => {
    const text = readFileSync(join(harness.work, 'fleet-plan', 'approval.txt'), 'utf-8');
    expect(text).toMatch(/production stacks? changes?/);
    expect(run.exported.APPROVAL_MESSAGE).toBe(text.replace(/\n+$/, ''));
    expect(run.exported.APPROVAL_MESSAGE.length).toBeGreaterThan(0);
    expect(run.stdout).toContain(run.exported.APPROVAL_MESSAGE.split('\n')[0]);
  });

  test("the count of production stacks the plan deploys is exported for the stages' entry conditions", () => {
    const plan = JSON.parse(readFileSync(join(harness.work, 'fleet-plan', 'plan.json'), 'utf-8'));
    const production = plan.waves.find((w: any) => w.wave === 'production').stacks;
    expect(production.length).toBeGreaterThan(0);
    expect(run.exported.PRODUCTION_STACKS).toBe(String(production.length));
  });

  test("the self-update's selection, planned on the Build's output: the pipeline stack alone", () => {
    const plan = harness.run(
      {
        version: '0.2',
        phases: {
          build: {
            commands: [
              'npx --no paas-vending deploy . --app cdk.out --state state --stack "$PIPELINE_STACK" --plan --json > self.json',
            ],
          },
        },
      },
      variables('SelfUpdate'),
    );
    expect(plan.stderr).not.toContain('[harness]');
    const self = JSON.parse(readFileSync(join(harness.work, 'self.json'), 'utf-8'));
    expect(self.waves).toEqual([
      { wave: 'platform', stacks: [expect.objectContaining({ stack: 'vending-fleet-pipeline' })] },
    ]);
  });

  test('reads the state the last run left from the state bucket, and writes nothing there', () => {
    expect(aws(run.calls)).toEqual([['s3', 'sync', `s3://${BUCKET}/state/`, 'state/', '--only-show-errors']]);
  });

  test('the output artifact is the repository with cdk.out and the plan, without node_modules, .git or the state', () => {
    const artifacts = spec('Build').artifacts;
    expect(artifacts.files).toEqual(['**/*']);
    expect(artifacts['exclude-paths']).toEqual(['node_modules/**/*', '.git/**/*', 'state/**/*']);
  });
});

describe('the UpdatePipeline action', () => {
  const pipelineTemplate = 'state/templates/vending-fleet-pipeline.template.json';
  const env = { ...variables('SelfUpdate'), PIPELINE_EXECUTION_ID: EXECUTION };
  const report = (result: string) => ({
    group: 'all',
    results: [{ stack: 'vending-fleet-pipeline', wave: 'platform', result, reason: '' }],
    removed: [],
  });
  const deployed = (text: string) => ({ writes: { [pipelineTemplate]: text }, report: report('deployed'), exit: 0 });
  /** A checkout whose state bucket holds this template of the pipeline stack (none: a first run). */
  function withState(previous?: string): BuildHarness {
    const harness = checkout();
    if (previous !== undefined) {
      const file = join(harness.s3, BUCKET, pipelineTemplate);
      mkdirSync(join(file, '..'), { recursive: true });
      writeFileSync(file, previous);
    }
    return harness;
  }

  test('an unchanged pipeline stack: the run carries on, nothing restarts', () => {
    const harness = withState('{"v":1}');
    const run = harness.run(spec('SelfUpdate'), env, deployed('{"v":1}'));
    expect(run.status).toBe(0);
    expect(run.calls.find((c) => c[0] === 'paas-vending')).toEqual([
      'paas-vending',
      'deploy',
      '.',
      '--app',
      'cdk.out',
      '--state',
      'state',
      '--stack',
      'vending-fleet-pipeline',
      '--require-approval',
      'never',
      '--report',
      'reports/pipeline.json',
    ]);
    expect(aws(run.calls).filter((c) => c[0] === 'codepipeline')).toEqual([]);
    expect(run.stdout).toContain("the pipeline's stack vending-fleet-pipeline is unchanged");
  });

  test('a changed pipeline stack: the state is saved, a new execution is queued and this one stops', () => {
    const harness = withState('{"v":1}');
    const run = harness.run(spec('SelfUpdate'), env, deployed('{"v":2}'));
    expect(run.status).toBe(0);
    expect(aws(run.calls)).toEqual([
      ['s3', 'sync', `s3://${BUCKET}/state/`, 'state/', '--only-show-errors'],
      ['s3', 'sync', 'state/', `s3://${BUCKET}/state/`, '--only-show-errors'],
      ['codepipeline', 'start-pipeline-execution', '--name', 'vending-fleet-pipeline'],
      [
        'codepipeline',
        'stop-pipeline-execution',
        '--pipeline-name',
        'vending-fleet-pipeline',
        '--pipeline-execution-id',
        EXECUTION,
        '--reason',
        'the pipeline updated itself; the next execution carries on with the new definition',
      ],
    ]);
    expect(readFileSync(join(harness.s3, BUCKET, pipelineTemplate), 'utf-8')).toBe('{"v":2}');
  });

  test('the first run (no state yet) restarts once: the state did not know the pipeline stack', () => {
    const run = withState().run(spec('SelfUpdate'), env, deployed('{"v":1}'));
    expect(run.status).toBe(0);
    expect(
      aws(run.calls)
        .filter((c) => c[0] === 'codepipeline')
        .map((c) => c[1]),
    ).toEqual(['start-pipeline-execution', 'stop-pipeline-execution']);
  });

  test('a failed self-update fails the action after saving the state, and restarts nothing', () => {
    const harness = withState('{"v":1}');
    const run = harness.run(spec('SelfUpdate'), env, { report: report('failed'), exit: 1 });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain("the pipeline's stack vending-fleet-pipeline failed to deploy");
    expect(aws(run.calls).map((c) => c.slice(0, 2))).toEqual([
      ['s3', 'sync'],
      ['s3', 'sync'],
    ]);
  });
});

describe('a deploy wave', () => {
  const env = (group: string) => ({ ...variables('Deploy'), PIPELINE_EXECUTION_ID: EXECUTION, DEPLOY_GROUP: group });

  test("deploys its group at the construct's concurrency, saves the state and the report", () => {
    const harness = checkout();
    const report = {
      group: 'nonproduction',
      results: [{ stack: 'acme-staging', wave: 'nonproduction', result: 'deployed', reason: 'template changed' }],
      removed: [],
    };
    const run = harness.run(spec('Deploy'), env('nonproduction'), {
      writes: { 'state/templates/acme-staging.template.json': '{}' },
      report,
      exit: 0,
    });
    expect(run.status).toBe(0);
    expect(run.calls.find((c) => c[0] === 'paas-vending')).toEqual([
      'paas-vending',
      'deploy',
      '.',
      '--app',
      'cdk.out',
      '--state',
      'state',
      '--group',
      'nonproduction',
      '--concurrency',
      '20',
      '--require-approval',
      'never',
      '--report',
      'reports/nonproduction.json',
    ]);
    expect(existsSync(join(harness.s3, BUCKET, 'state/templates/acme-staging.template.json'))).toBe(true);
    const saved = join(harness.s3, BUCKET, `reports/${EXECUTION}/nonproduction.json`);
    expect(JSON.parse(readFileSync(saved, 'utf-8'))).toEqual(report);
    // The report is in the build log too.
    expect(run.stdout).toContain('"acme-staging"');
  });

  test('a failed stack fails the action at its end: the others stay deployed in the state, the report is saved', () => {
    const harness = checkout();
    const report = {
      group: 'production',
      results: [
        {
          stack: 'acme-production',
          wave: 'production',
          result: 'failed',
          reason: 'Resource handler returned message: ...',
        },
        { stack: 'globex-production', wave: 'production', result: 'deployed', reason: 'template changed' },
      ],
      removed: [],
    };
    const run = harness.run(spec('Deploy'), env('production'), {
      writes: { 'state/templates/globex-production.template.json': '{}' },
      report,
      exit: 1,
    });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain('some production stacks failed to deploy: their reasons are in the report above');
    expect(existsSync(join(harness.s3, BUCKET, 'state/templates/globex-production.template.json'))).toBe(true);
    expect(existsSync(join(harness.s3, BUCKET, `reports/${EXECUTION}/production.json`))).toBe(true);
    expect(run.stdout).toContain('Resource handler returned message');
  });
});
