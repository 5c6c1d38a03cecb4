/*
 * The real deployer (toolkit-lib) against CloudFormation in moto: a tiny stack created, found unchanged, updated, and
 * a stack that CloudFormation refuses reported as failed with the reason, through deploy's waves and state. moto's
 * change sets cannot update a stack (DescribeChangeSet of an existing stack answers "does not exist"), so the
 * updates here go through direct stack updates (`method: 'direct'`); the command uses change sets.
 */
import { mkdtempSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { SSMClient, GetParameterCommand } from '@aws-sdk/client-ssm';
import { App, CfnResource, LegacyStackSynthesizer, Stack } from 'aws-cdk-lib';
import { assemblyStacks } from '../../../src/cli/deploy/fingerprint';
import { planDeploy } from '../../../src/cli/deploy/selection';
import { DeployState } from '../../../src/cli/deploy/state';
import { ToolkitDeployer } from '../../../src/cli/deploy/toolkit-deployer';
import { runWaves } from '../../../src/cli/deploy/waves';
import { MotoServer, startMoto } from '../../support/moto';

let moto: MotoServer;
let work: string;
const saved: Record<string, string | undefined> = {};

beforeAll(async () => {
  moto = await startMoto();
  for (const [key, value] of Object.entries(moto.env)) {
    saved[key] = process.env[key];
    process.env[key] = value;
  }
  work = mkdtempSync(join(tmpdir(), 'deploy-moto-'));
}, 60_000);
afterAll(async () => {
  for (const [key, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  await moto?.stop();
  rmSync(work, { recursive: true, force: true });
});

/** An assembly of SSM parameters, one stack each: name -> [parameter name, value]. */
function assembly(dir: string, stacks: Record<string, [string, string]>): string {
  const outdir = join(work, dir);
  const app = new App({ outdir });
  for (const [name, [parameter, value]] of Object.entries(stacks)) {
    // No bootstrap in moto: the template goes inline, as the legacy synthesizer does for small templates.
    const stack = new Stack(app, name, {
      synthesizer: new LegacyStackSynthesizer(),
      env: { account: '123456789012', region: 'us-east-1' },
    });
    new CfnResource(stack, 'Parameter', {
      type: 'AWS::SSM::Parameter',
      properties: { Type: 'String', Name: parameter, Value: value },
    });
  }
  app.synth();
  return outdir;
}

async function valueOf(name: string): Promise<string | undefined> {
  const ssm = new SSMClient(moto.clientConfig);
  return (await ssm.send(new GetParameterCommand({ Name: name }))).Parameter?.Value;
}

test('a stack is created, then unchanged, then updated; a refused one fails with the reason, and is not recorded', async () => {
  const deployer = (dir: string) => new ToolkitDeployer({ assembly: dir, requireApproval: 'never', method: 'direct' });
  const first = assembly('one', { 'tiny-staging': ['/tiny/value', 'one'] });
  const lines: string[] = [];
  expect(await deployer(first).deploy('tiny-staging', (l) => lines.push(l))).toEqual({ result: 'deployed' });
  expect(await valueOf('/tiny/value')).toBe('one');
  expect(await deployer(first).deploy('tiny-staging', () => undefined)).toEqual({ result: 'unchanged' });

  // The waves and the state on top: the changed stack deploys, the conflicting one fails and stays out of the state.
  const second = assembly('two', {
    'tiny-staging': ['/tiny/value', 'two'],
    'tiny-conflict': ['/tiny/value', 'taken'],
  });
  const stacks = assemblyStacks(second, { name: 'tiny' } as never, '1.0.0').map((s) => ({
    ...s,
    wave: 'nonproduction' as const,
  }));
  const state = DeployState.read(join(work, 'state'));
  const plan = planDeploy(stacks, state.previous(), { group: 'all' });
  const progress: string[] = [];
  const results = await runWaves(plan, deployer(second), {
    concurrency: 2,
    progress: (l) => progress.push(l),
    succeeded: (s) =>
      state.record(
        s.name,
        { fingerprint: s.fingerprint, deployedAt: new Date().toISOString(), inputs: s.inputs },
        readFileSync(join(second, `${s.name}.template.json`), 'utf-8'),
      ),
  });
  expect(results.find((r) => r.stack === 'tiny-staging')).toMatchObject({ result: 'deployed' });
  const conflict = results.find((r) => r.stack === 'tiny-conflict');
  expect(conflict).toMatchObject({ result: 'failed' });
  expect(conflict?.reason).toMatch(/^ParameterAlreadyExists: The parameter already exists/);
  expect(await valueOf('/tiny/value')).toBe('two');
  const recorded = JSON.parse(readFileSync(join(work, 'state', 'state.json'), 'utf-8'));
  expect(Object.keys(recorded.stacks)).toEqual(['tiny-staging']);
  expect(progress).toEqual(expect.arrayContaining(['tiny-staging: started (new)', 'tiny-staging: deployed']));
}, 120_000);
