import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { dirname, join, relative } from 'path';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { EXIT_INVALID, EXIT_OK, EXIT_USAGE, run } from '../../src/cli/cli';
import * as jobs from '../../src/cli/synth-jobs';
import type { WorkerOutcome } from '../../src/cli/synth-jobs';
import { platform, productionCustomer, stagingCustomer, writeFleet } from '../config/fixtures';

/*
 * `paas-vending synth --jobs N`: worker processes, each building and synthesizing a share of the stacks, and one
 * cloud assembly merged from theirs. From the sources each worker compiles the library with ts-node first (3 s or
 * more), so the fleets here are small: the platform and three customers (dedicated and shared ingress, a database).
 */

jest.setTimeout(240_000);

function cli(argv: string[], cwd: string, env: Record<string, string | undefined> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = run(argv, { out: (t) => out.push(t), err: (t) => err.push(t), cwd, errIsTTY: false, env });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** Every file under a folder, by its path in it, with its bytes. */
function filesOf(dir: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  const walk = (at: string) => {
    for (const name of readdirSync(at).sort()) {
      const path = join(at, name);
      if (statSync(path).isDirectory()) walk(path);
      else files.set(relative(dir, path), readFileSync(path));
    }
  };
  walk(dir);
  return files;
}

function expectSameFiles(a: string, b: string): void {
  const left = filesOf(a);
  const right = filesOf(b);
  expect([...right.keys()]).toEqual([...left.keys()]);
  for (const [file, bytes] of left) {
    // The file's name in the assertion, so that a difference names it.
    expect([file, right.get(file)!.equals(bytes)]).toEqual([file, true]);
  }
}

const zones = { vpc: { availabilityZones: ['eu-west-1a', 'eu-west-1b'] } };
const fleetOfFour = () =>
  writeFleet(
    { ...platform(), ...zones },
    {
      'acme-production.yaml': productionCustomer(),
      'acme-staging.yaml': stagingCustomer(),
      'globex-staging.yaml': { ...stagingCustomer(), customer: 'globex' },
    },
  );

/**
 * A module that worker processes load first (NODE_OPTIONS --require): it changes what the workers do, as jest.spyOn
 * does in this process. Only the workers (synth-worker) run it; `body` sees aws-cdk-lib as `cdk`.
 */
function inWorkers(body: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'synth-hook-')), 'hook.js');
  const cdk = dirname(require.resolve('aws-cdk-lib/package.json'));
  writeFileSync(
    file,
    `if (/synth-worker\\.[jt]s$/.test(process.argv[1] || '')) {\n  const cdk = require(${JSON.stringify(cdk)});\n${body}\n}\n`,
  );
  return `--require ${file}`;
}

/** A hook (inWorkers) under which the worker that builds `stack` throws `message` when its App synthesizes. */
function failingSynthOf(stack: string, message: string): string {
  return inWorkers(`
  const synth = cdk.App.prototype.synth;
  cdk.App.prototype.synth = function (...args) {
    if (this.node.tryFindChild(${JSON.stringify(stack)})) throw new Error(${JSON.stringify(message)});
    return synth.apply(this, args);
  };`);
}

/** Runs `call` with these variables set (undefined: unset), in this process and the workers (they inherit it). */
function withEnv<T>(variables: Record<string, string | undefined>, call: () => T): T {
  const before = Object.fromEntries(Object.keys(variables).map((name) => [name, process.env[name]]));
  const set = (values: Record<string, string | undefined>) => {
    for (const [name, value] of Object.entries(values)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
  set(variables);
  try {
    return call();
  } finally {
    set(before);
  }
}

/** The outcomes of every runWorkers call from now until the test ends (the workers still run). */
function spyOnWorkers(): WorkerOutcome[][] {
  const calls: WorkerOutcome[][] = [];
  const real = jobs.runWorkers;
  jest.spyOn(jobs, 'runWorkers').mockImplementation((...args) => {
    const outcomes = real(...args);
    calls.push(outcomes);
    return outcomes;
  });
  return calls;
}

/** The most workers that were building at one time, from their start and end times. */
function mostAtOnce(outcomes: WorkerOutcome[]): number {
  const spans = outcomes.map((o) => {
    if (!('ok' in o) || o.startedAt === undefined || o.endedAt === undefined) {
      throw new Error(`a worker without its times: ${JSON.stringify(o)}`);
    }
    return [o.startedAt, o.endedAt];
  });
  return Math.max(...spans.map(([start]) => spans.filter(([s, e]) => s <= start && start < e).length));
}

afterEach(() => jest.restoreAllMocks());

describe('--jobs 3 against --jobs 1 on a fleet of four stacks', () => {
  let fleet: string;
  let cwd: string;
  let three: ReturnType<typeof cli>;
  let one: ReturnType<typeof cli>;

  beforeAll(() => {
    fleet = fleetOfFour();
    cwd = mkdtempSync(join(tmpdir(), 'synth-jobs-'));
    three = cli(['synth', fleet, '--out', 'three', '--jobs', '3', '--json'], cwd);
    one = cli(['synth', fleet, '--out', 'one', '--jobs', '1', '--json'], cwd);
  });

  test('both succeed with the same rows; placement.yaml is written once, by the command, not its workers', () => {
    expect(three.code).toBe(EXIT_OK);
    expect(one.code).toBe(EXIT_OK);
    expect(three.err).toContain(`paas-vending: synth: wrote ${join(fleet, 'placement.yaml')}`);
    expect(one.err).not.toContain('placement.yaml');
    expect(three.out.split('three/').join('X/')).toBe(one.out.split('one/').join('X/'));
    expect(JSON.parse(three.out).map((row: any) => row.stack)).toEqual([
      'vending-platform',
      'acme-production',
      'acme-staging',
      'globex-staging',
    ]);
  });

  test('every file of the two assemblies is the same, byte for byte; no work folder is left beside them', () => {
    expectSameFiles(join(cwd, 'one'), join(cwd, 'three'));
    expect(readdirSync(cwd).sort()).toEqual(['one', 'three']);
  });

  test("aws-cdk-lib's cloud assembly reader reads the merged assembly: every stack, template and asset", () => {
    const assembly = new cxapi.CloudAssembly(join(cwd, 'three'));
    expect(assembly.stacks.map((s) => s.stackName).sort()).toEqual(
      ['acme-production', 'acme-staging', 'globex-staging', 'vending-platform'].sort(),
    );
    for (const stack of assembly.stacks) {
      expect(Object.keys(stack.template.Resources).length).toBeGreaterThan(10);
      // cdk deploy --all deploys the platform first, as from one App.
      if (stack.stackName !== 'vending-platform') {
        expect(stack.dependencies.map((d) => d.id)).toContain('vending-platform');
      }
      const assets = assembly.tryGetArtifact(`${stack.id}.assets`) as cxapi.AssetManifestArtifact;
      const files = JSON.parse(readFileSync(assets.file, 'utf-8')).files as Record<string, any>;
      expect(Object.keys(files).length).toBeGreaterThan(0);
      for (const file of Object.values(files)) {
        expect(existsSync(join(assembly.directory, file.source.path))).toBe(true);
      }
    }
    expect(assembly.tree()).toBeDefined();
    expect(Object.keys(JSON.parse(readFileSync(join(assembly.directory, 'tree.json'), 'utf-8')).tree.children)).toEqual(
      ['vending-platform', 'acme-production', 'acme-staging', 'globex-staging', 'Tree'],
    );
  });

  test('PAAS_VENDING_STACKS_PER_PROCESS 1 with --jobs 2: four processes, two at a time, the same files', () => {
    const outcomes = spyOnWorkers();
    const limited = cli(['synth', fleet, '--out', 'limited', '--jobs', '2', '--json'], cwd, {
      PAAS_VENDING_STACKS_PER_PROCESS: '1',
    });
    expect(limited.code).toBe(EXIT_OK);
    expect(outcomes.map((o) => o.length)).toEqual([4]);
    expect(mostAtOnce(outcomes[0])).toBe(2);
    expectSameFiles(join(cwd, 'one'), join(cwd, 'limited'));
    rmSync(join(cwd, 'limited'), { recursive: true });
  });

  test('more stacks than one process builds, with --jobs 1: worker processes one after the other, the same files', () => {
    const outcomes = spyOnWorkers();
    const limited = cli(['synth', fleet, '--out', 'limited', '--jobs', '1', '--no-cache', '--json'], cwd, {
      PAAS_VENDING_STACKS_PER_PROCESS: '2',
    });
    expect(limited.code).toBe(EXIT_OK);
    expect(outcomes.map((o) => o.length)).toEqual([2]);
    expect(mostAtOnce(outcomes[0])).toBe(1);
    expectSameFiles(join(cwd, 'one'), join(cwd, 'limited'));
    rmSync(join(cwd, 'limited'), { recursive: true });
  });

  test('a worker that fails: its message, no stack trace, exit 1, the previous assembly kept whole', () => {
    const before = filesOf(join(cwd, 'three'));
    const message = 'CustomerWebTier acme-staging/Web: compute: received 0 instances; expected at least 1';
    const hook = failingSynthOf('acme-staging', message);
    const failed = withEnv({ NODE_OPTIONS: hook }, () => cli(['synth', fleet, '--out', 'three', '--jobs', '2'], cwd));
    expect(failed).toMatchObject({ code: EXIT_INVALID, out: '', err: `paas-vending: synth: ${message}` });
    expect(filesOf(join(cwd, 'three'))).toEqual(before);
    expect(readdirSync(cwd).sort()).toEqual(['one', 'three']);
  });

  test("workers that are killed: the command names the first one's stacks and fails, the old assembly kept", () => {
    const before = filesOf(join(cwd, 'three'));
    const hook = inWorkers(`
  process.kill(process.pid, 'SIGKILL');`);
    const failed = withEnv({ NODE_OPTIONS: hook }, () => cli(['synth', fleet, '--out', 'three', '--jobs', '3'], cwd));
    expect(failed.code).toBe(EXIT_INVALID);
    expect(failed.err).toBe(
      'paas-vending: synth: the process that synthesized vending-platform, globex-staging ended (signal SIGKILL) ' +
        'before it finished; ' +
        'expected it to write its stacks: its output is above (out of memory? try fewer --jobs)',
    );
    expect(filesOf(join(cwd, 'three'))).toEqual(before);
    expect(readdirSync(cwd).sort()).toEqual(['one', 'three']);
  });

  test('after a worker fails, none queued behind it is started: the first failure is reported without waiting', () => {
    const before = filesOf(join(cwd, 'three'));
    const outcomes = spyOnWorkers();
    const message = 'CustomerWebTier acme-production/Web: compute: received 0 instances; expected at least 1';
    // One stack a process, one process at a time: the platform's, then acme-production's, which fails.
    const failing = failingSynthOf('acme-production', message);
    const failed = withEnv({ NODE_OPTIONS: failing }, () =>
      cli(['synth', fleet, '--out', 'three', '--jobs', '1', '--no-cache'], cwd, {
        PAAS_VENDING_STACKS_PER_PROCESS: '1',
      }),
    );
    expect(failed).toMatchObject({ code: EXIT_INVALID, out: '', err: `paas-vending: synth: ${message}` });
    expect(outcomes).toHaveLength(1);
    expect(outcomes[0].map((o) => ('ok' in o ? 'ok' : 'error' in o ? o.error.message : o.ended))).toEqual([
      'ok',
      message,
      'not started: worker 2 ended with an error',
      'not started: worker 2 ended with an error',
    ]);
    // A worker killed: the same, and the command names it.
    const killing = inWorkers(`
  if (JSON.parse(require('fs').readFileSync(process.argv[process.argv.length - 1], 'utf-8')).stacks.includes('acme-production')) {
    process.kill(process.pid, 'SIGKILL');
  }`);
    const killed = withEnv({ NODE_OPTIONS: killing }, () =>
      cli(['synth', fleet, '--out', 'three', '--jobs', '1', '--no-cache'], cwd, {
        PAAS_VENDING_STACKS_PER_PROCESS: '1',
      }),
    );
    expect(killed.code).toBe(EXIT_INVALID);
    expect(killed.err).toContain(
      'the process that synthesized acme-production ended (signal SIGKILL) before it finished',
    );
    expect(outcomes[1].map((o) => ('ok' in o ? 'ok' : 'error' in o ? o.error.message : o.ended))).toEqual([
      'ok',
      'signal SIGKILL',
      'not started: worker 2 ended with signal SIGKILL',
      'not started: worker 2 ended with signal SIGKILL',
    ]);
    expect(filesOf(join(cwd, 'three'))).toEqual(before);
    expect(readdirSync(cwd).sort()).toEqual(['one', 'three']);
  });
});

test("--validate: aws-cdk-lib's validation runs in the workers, and the merged report is the one-process report", () => {
  const fleet = writeFleet({ ...platform(), ...zones }, { 'acme-staging.yaml': stagingCustomer() });
  writeFileSync(join(fleet, 'placement.yaml'), 'loadBalancers: 1\nenvironments:\n  acme-staging: 1\n');
  const cwd = mkdtempSync(join(tmpdir(), 'synth-jobs-validate-'));
  // A misspelled property in every stack, for the validation to find: in the workers, and in this process (a
  // source text, not a function of this file, which coverage would instrument).
  const misspell = `
  const synth = cdk.App.prototype.synth;
  cdk.App.prototype.synth = function (...args) {
    for (const stack of this.node.children.filter((c) => cdk.Stack.isStack(c))) {
      new cdk.CfnResource(stack, 'Misspelled', { type: 'AWS::SNS::Topic', properties: { TopicNam: 'x' } });
    }
    return synth.apply(this, args);
  };
  return () => { cdk.App.prototype.synth = synth; };`;
  const quiet = jest.spyOn(console, 'error').mockImplementation(() => undefined);
  // aws-cdk-lib's own default, which the jest setup turns off (CDK_VALIDATION=false wins over --validate).
  const two = withEnv({ NODE_OPTIONS: inWorkers(`(function () {${misspell}\n})();`), CDK_VALIDATION: undefined }, () =>
    cli(['synth', fleet, '--out', 'two', '--jobs', '2', '--validate', '--json'], cwd),
  );
  // eslint-disable-next-line @typescript-eslint/no-require-imports, @typescript-eslint/no-implied-eval
  const restore = new Function('cdk', misspell)(require('aws-cdk-lib'));
  let one: ReturnType<typeof cli>;
  try {
    one = withEnv({ CDK_VALIDATION: undefined }, () =>
      cli(['synth', fleet, '--out', 'one', '--jobs', '1', '--validate', '--json'], cwd),
    );
  } finally {
    restore();
    quiet.mockRestore();
  }
  expect(two.code).toBe(EXIT_OK);
  expect(one.code).toBe(EXIT_OK);
  const report = JSON.parse(readFileSync(join(cwd, 'two', 'validation-report.json'), 'utf-8'));
  const paths = report.pluginReports.flatMap((p: any) =>
    p.violations.flatMap((v: any) => v.violatingConstructs.map((c: any) => c.constructPath)),
  );
  expect(paths).toEqual(expect.arrayContaining(['vending-platform/Misspelled', 'acme-staging/Misspelled']));
  expectSameFiles(join(cwd, 'one'), join(cwd, 'two'));
});

test("a tree past aws-cdk-lib's node limit: split into trees-N.json files as one App splits it", () => {
  const fleet = fleetOfFour();
  const cwd = mkdtempSync(join(tmpdir(), 'synth-jobs-tree-'));
  // About 250 nodes a customer stack: a limit of 200 splits the App's tree and the stacks' subtrees.
  const context = JSON.stringify({ '@aws-cdk/core.TreeMetadata:maxNodes': 200 });
  const [two, one] = withEnv({ CDK_CONTEXT_JSON: context }, () => [
    cli(['synth', fleet, '--out', 'two', '--jobs', '2', '--json'], cwd, { PAAS_VENDING_STACKS_PER_PROCESS: '2' }),
    cli(['synth', fleet, '--out', 'one', '--jobs', '1', '--no-cache', '--json'], cwd),
  ]);
  expect([two.code, one.code]).toEqual([EXIT_OK, EXIT_OK]);
  const treeFiles = readdirSync(join(cwd, 'one')).filter((name) => /^trees-\d+\.json$/.test(name));
  expect(treeFiles.length).toBeGreaterThan(2);
  expectSameFiles(join(cwd, 'one'), join(cwd, 'two'));
  expect(new cxapi.CloudAssembly(join(cwd, 'two')).tree()).toBeDefined();
});

describe('--jobs and PAAS_VENDING_JOBS', () => {
  test.each([['0'], ['-1'], ['two'], ['1.5'], ['']])('--jobs %j is wrong usage, before the fleet is read', (value) => {
    const result = cli(['synth', join(tmpdir(), 'no-such-fleet'), `--jobs=${value}`], tmpdir());
    expect(result.code).toBe(EXIT_USAGE);
    expect(result.err).toContain(
      `paas-vending: synth: --jobs: received ${JSON.stringify(value)}; expected a whole number of processes from 1 up, such as --jobs 4`,
    );
  });

  test('PAAS_VENDING_JOBS sets the default, and is named when it is wrong', () => {
    const result = cli(['synth', join(tmpdir(), 'no-such-fleet')], tmpdir(), { PAAS_VENDING_JOBS: 'many' });
    expect(result.code).toBe(EXIT_USAGE);
    expect(result.err).toContain('paas-vending: synth: PAAS_VENDING_JOBS: received "many"; expected a whole number');
  });

  test.each([['0'], ['many'], ['2.5']])('PAAS_VENDING_STACKS_PER_PROCESS %j is named as wrong usage', (value) => {
    const result = cli(['synth', join(tmpdir(), 'no-such-fleet')], tmpdir(), {
      PAAS_VENDING_STACKS_PER_PROCESS: value,
    });
    expect(result.code).toBe(EXIT_USAGE);
    expect(result.err).toContain(
      `paas-vending: synth: PAAS_VENDING_STACKS_PER_PROCESS: received ${JSON.stringify(value)}; expected a whole number of stacks from 1 up, such as 200 (the default)`,
    );
  });

  test('the shares: --jobs processes, or more when a process would build more than its limit, dealt in turn', () => {
    const stacks = ['p', 'a', 'b', 'c', 'd', 'e', 'f'];
    expect(jobs.sharesOf(stacks, 2)).toEqual([
      ['p', 'b', 'd', 'f'],
      ['a', 'c', 'e'],
    ]);
    expect(jobs.sharesOf(stacks, 2, 2)).toEqual([['p', 'd'], ['a', 'e'], ['b', 'f'], ['c']]);
    expect(jobs.sharesOf(stacks, 1, 3)).toEqual([
      ['p', 'c', 'f'],
      ['a', 'd'],
      ['b', 'e'],
    ]);
    expect(jobs.sharesOf(['p', 'a'], 8, 1)).toEqual([['p'], ['a']]);
    expect(jobs.stacksPerProcessOf({})).toBe(jobs.DEFAULT_STACKS_PER_PROCESS);
    expect(jobs.stacksPerProcessOf({ PAAS_VENDING_STACKS_PER_PROCESS: ' 50 ' })).toBe(50);
  });

  test('a single stack needs no worker: --jobs 8 with one --stack', () => {
    const fleet = writeFleet({ ...platform(), ...zones }, { 'acme-staging.yaml': stagingCustomer() });
    mkdirSync(join(fleet, 'out'));
    const result = cli(['synth', fleet, '--stack', 'acme-staging', '--jobs', '8', '--out', 'out', '--json'], fleet);
    expect(result.code).toBe(EXIT_OK);
    expect(JSON.parse(result.out).map((r: any) => r.stack)).toEqual(['acme-staging']);
  });
});

describe('a fleet with its pipeline (platform.yaml fleetPipeline:)', () => {
  test('--jobs 2 writes the same files as --jobs 1: the pipeline stack built by a worker, depending on no stack', () => {
    const fleet = writeFleet(
      { ...platform(), ...zones, fleetPipeline: { repository: { codeCommitRepository: 'fleet' } } },
      { 'acme-staging.yaml': stagingCustomer() },
    );
    const cwd = mkdtempSync(join(tmpdir(), 'synth-jobs-pipeline-'));
    const two = cli(['synth', fleet, '--out', 'two', '--jobs', '2', '--json'], cwd);
    const one = cli(['synth', fleet, '--out', 'one', '--jobs', '1', '--json'], cwd);
    expect([two.code, one.code]).toEqual([EXIT_OK, EXIT_OK]);
    expect(JSON.parse(two.out).map((row: any) => row.stack)).toEqual([
      'vending-platform',
      'acme-staging',
      'vending-fleet-pipeline',
    ]);
    expectSameFiles(join(cwd, 'one'), join(cwd, 'two'));
    const assembly = new cxapi.CloudAssembly(join(cwd, 'two'));
    expect(assembly.getStackByName('vending-fleet-pipeline').dependencies.map((d) => d.id)).not.toContain(
      'vending-platform',
    );
    expect(assembly.getStackByName('acme-staging').dependencies.map((d) => d.id)).toContain('vending-platform');
  });
});
