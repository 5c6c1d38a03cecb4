/*
 * One case of the fleet benchmark, run by scripts/bench-fleet.ts in a fresh child process (transpiled to
 * JavaScript first, so the process is `node app.js`, as a user's compiled CDK app is):
 *
 *   node bench-fleet-app.js <library|plain|empty|alone|alone-cli|cli-jobs-N|cached-one-changed> <input> <outdir> <result.json> [<lib directory>] [<stack>|<N>]
 *
 * library: `VendingFleet.fromDirectory(app, input)` on the compiled library (the lib/ given: the package as npm
 * installs it, or the checkout's own lib/); plain: the hand-written
 * aws-cdk-lib app of scripts/bench-fleet-plain.ts on the fleet spec in `input` (JSON); empty: as many empty
 * stacks as the fleet has (platform + environments; `input` is the number of environments). Then `app.synth()`
 * into `outdir`. alone: `VendingFleet.fromDirectory(app, input, { stacks: [stack] })`, the whole fleet read,
 * validated and placed, one customer environment stack built and synthesized; alone-cli: the same through the
 * command line, `paas-vending synth <input> --stack <stack> --out <outdir> --json` (lib/cli/main.js, in this
 * process); cli-jobs-N: the whole fleet through `paas-vending synth <input> --jobs N --out <outdir> --json`;
 * cached-one-changed: the whole fleet through `paas-vending synth <input> --out <outdir> --json` with the cache of
 * synthesized stacks on (the parent changes one customer file before each counted run). The command cases also record
 * what the cache built and kept, and the peak RSS of each worker process. Writes what only the process itself knows to `result.json`: time to load the modules, to build the
 * constructs and to synthesize, aws-cdk-lib's own performance counters (template validation among them), and the
 * peak RSS; for alone and alone-cli also the time spent reading and validating the fleet's configs and placing it.
 */
import { existsSync, readFileSync, writeFileSync } from 'fs';
import { join } from 'path';
import { performance } from 'perf_hooks';
import type * as Library from '../src';
import type { PlainFleetSpec } from './bench-fleet-plain';

/** aws-cdk-lib writes its counters here when a synth is slower per stack than the threshold set below (0). */
const countersFile = (result: string) => `${result}.counters.json`;

/** Time (and calls) spent in functions of the library that the alone cases wrap: configs read and validated, placement. */
interface Spent {
  ms: number;
  calls: number;
}

/**
 * Wraps `owner[name]` (a module's export or a class's static method, looked up at each call by the library's
 * compiled code) so that its time adds to `spent`. Leaves it alone when the library has no such function (an older
 * lib/ given with --lib): the figure is then reported as not measured.
 */
function timed(owner: any, name: string, spent: Spent): boolean {
  const original = owner?.[name];
  if (typeof original !== 'function') return false;
  owner[name] = function (this: unknown, ...args: unknown[]) {
    const started = performance.now();
    try {
      return original.apply(this, args);
    } finally {
      spent.ms += performance.now() - started;
      spent.calls++;
    }
  };
  return true;
}

function main(): void {
  const [kind, input, outdir, result, libDirectory, stack] = process.argv.slice(2);
  const jobs = /^cli-jobs-[1-9][0-9]*$/.test(kind ?? '') ? kind.slice(9) : undefined;
  if (
    (!['library', 'plain', 'empty', 'alone', 'alone-cli', 'cached-one-changed'].includes(kind) && jobs === undefined) ||
    !input ||
    !outdir ||
    !result
  ) {
    throw new Error(
      'usage: bench-fleet-app <library|plain|empty|alone|alone-cli> <input> <outdir> <result.json> [<lib directory>] [<stack>]',
    );
  }
  const alone = kind === 'alone' || kind === 'alone-cli';
  if (alone && (!libDirectory || !stack)) throw new Error(`${kind}: expected a lib directory and a stack name`);
  process.env.CDK_PERF_COUNTERS_FILE = countersFile(result);
  if (kind === 'alone-cli') return cli(input, outdir, result, libDirectory, ['--stack', stack]);
  if (jobs !== undefined) return cli(input, outdir, result, libDirectory, ['--jobs', jobs]);
  if (kind === 'cached-one-changed') return cli(input, outdir, result, libDirectory, []);

  // Module load: what a user's app loads (aws-cdk-lib's root module loads its submodules lazily), timed after
  // the counters file is set, and each case loads only its own modules (the library from a path given at run time).
  /* eslint-disable @typescript-eslint/no-require-imports */
  const cdk: typeof import('aws-cdk-lib') = require('aws-cdk-lib');
  const library: typeof Library | undefined = kind === 'library' || alone ? require(libDirectory) : undefined;
  const plain: typeof import('./bench-fleet-plain') | undefined =
    kind === 'plain' ? require('./bench-fleet-plain') : undefined;
  /* eslint-enable @typescript-eslint/no-require-imports */
  const loaded = performance.now();

  const spent = alone ? instrument(libDirectory) : undefined;
  const placementBefore = alone ? placementText(input) : undefined;

  const app = new cdk.App({ outdir, context: { '@aws-cdk/core.slowSynthThreshold': 0 } });
  if (library && alone) {
    library.VendingFleet.fromDirectory(app, input, { stacks: [stack] });
  } else if (library) {
    library.VendingFleet.fromDirectory(app, input);
  } else if (plain) {
    const spec: PlainFleetSpec = JSON.parse(readFileSync(input, 'utf-8'));
    plain.plainFleet(app, spec, join(input, '..', 'packer'));
  } else {
    const envs = Number(input);
    const env = { account: '123456789012', region: 'eu-west-1' };
    new cdk.Stack(app, 'vending-platform', { env });
    for (let i = 1; i <= envs; i++) new cdk.Stack(app, `c${String(i).padStart(4, '0')}-env`, { env });
  }
  const built = performance.now();
  app.synth();
  const synthesized = performance.now();

  writeResult(result, {
    // performance.now() counts from the process's start: loading is Node's start-up and the modules.
    loadMs: loaded,
    buildMs: built - loaded,
    synthMs: synthesized - built,
    ...(spent ? spentFields(spent, placementBefore, input) : {}),
  });
}

/** The wrapped library functions of the alone cases: configs (read, parsed, validated) and placement. */
function instrument(libDirectory: string): { config: Spent; placement: Spent; measured: boolean } {
  const config: Spent = { ms: 0, calls: 0 };
  const placement: Spent = { ms: 0, calls: 0 };
  const load = (path: string) => (existsSync(`${path}.js`) ? require(path) : undefined); // eslint-disable-line @typescript-eslint/no-require-imports
  const loader = load(join(libDirectory, 'config', 'loader'));
  const placing = load(join(libDirectory, 'environment', 'placement'));
  // ConfigLoader.loadFleet (VendingFleet.fromDirectory) and readFleet (the CLI, before fromDirectory) read and
  // validate every file of the fleet; loadFleet calls readFleet inside its own module, so nothing counts twice.
  const measured = [
    timed(loader?.ConfigLoader, 'loadFleet', config),
    timed(loader, 'readFleet', config),
    timed(placing, 'readPlacementFile', placement),
    timed(placing, 'placeEnvironments', placement),
    timed(placing, 'writePlacementFile', placement),
  ];
  return { config, placement, measured: measured[0] && measured[2] && measured[3] };
}

function placementText(fleetDirectory: string): string | undefined {
  const file = join(fleetDirectory, 'placement.yaml');
  return existsSync(file) ? readFileSync(file, 'utf-8') : undefined;
}

function spentFields(
  spent: { config: Spent; placement: Spent; measured: boolean },
  placementBefore: string | undefined,
  fleetDirectory: string,
) {
  return {
    configMs: spent.measured ? spent.config.ms : null,
    configLoads: spent.measured ? spent.config.calls : null,
    placementMs: spent.measured ? spent.placement.ms : null,
    placementWritten: placementText(fleetDirectory) !== placementBefore,
  };
}

function writeResult(result: string, fields: Record<string, unknown>): void {
  let counters: Record<string, number> = {};
  try {
    counters = JSON.parse(readFileSync(countersFile(result), 'utf-8')).counters;
  } catch {
    // aws-cdk-lib older than its performance counters, or no synth slow enough to write them: phases only.
  }
  writeFileSync(
    result,
    JSON.stringify({
      ...fields,
      validateMs: counters.validateTemplates ?? null,
      validateTemplateMs: counters['CloudFormationValidate.validate'] ?? null,
      validatedTemplates: counters['CloudFormationValidate.validate(cnt)'] ?? null,
      counters,
      maxRssKib: process.resourceUsage().maxRSS,
      /** The parent subtracts this from the wall time: what the process takes to exit. */
      endMs: performance.now(),
    }),
  );
}

/**
 * alone-cli: `paas-vending synth <fleet> --stack <stack> --out <outdir> --json` as lib/cli/main.js runs it, in this
 * process, so that its peak RSS and phases are measured. build is from the modules loaded to `app.synth()` (the
 * command's own read of the fleet, then VendingFleet.fromDirectory), synth is `app.synth()`; the command's output
 * (its JSON on stdout) comes after, before the result is written at exit.
 */
function cli(fleetDirectory: string, outdir: string, result: string, libDirectory: string, extra: string[]): void {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const cdk: typeof import('aws-cdk-lib') = require('aws-cdk-lib');
  require(join(libDirectory, 'cli', 'cli'));
  /* eslint-enable @typescript-eslint/no-require-imports */
  const loaded = performance.now();
  const spent = instrument(libDirectory);
  const placementBefore = placementText(fleetDirectory);
  // What the cache built and kept (synthesizeFleet's result), and the workers' peak RSS (their outcomes).
  const synthModule = require(join(libDirectory, 'cli', 'synth')); // eslint-disable-line @typescript-eslint/no-require-imports
  const jobsModule = require(join(libDirectory, 'cli', 'synth-jobs')); // eslint-disable-line @typescript-eslint/no-require-imports
  let cacheStats: { built: string[]; cached: string[] } | undefined;
  const workerRss: number[] = [];
  const synthesizeFleet = synthModule.synthesizeFleet;
  synthModule.synthesizeFleet = (...args: unknown[]) => {
    const r = synthesizeFleet(...args);
    cacheStats = r?.cache;
    return r;
  };
  const runWorkers = jobsModule.runWorkers;
  jobsModule.runWorkers = (...args: unknown[]) => {
    const outcomes = runWorkers(...args);
    for (const o of outcomes) if (typeof o?.maxRssKib === 'number') workerRss.push(o.maxRssKib);
    return outcomes;
  };
  let synthStarted: number | undefined;
  let synthMs = 0;
  const appSynth = cdk.App.prototype.synth;
  cdk.App.prototype.synth = function (this: InstanceType<typeof cdk.App>, ...args: Parameters<typeof appSynth>) {
    synthStarted ??= performance.now();
    const started = performance.now();
    try {
      return appSynth.apply(this, args);
    } finally {
      synthMs += performance.now() - started;
    }
  };
  // aws-cdk-lib's counters (template validation among them), as the other cases ask for them; the App reads its
  // context from this variable as it does under the CDK CLI. It changes no template.
  process.env.CDK_CONTEXT_JSON = JSON.stringify({ '@aws-cdk/core.slowSynthThreshold': 0 });
  process.on('exit', (code) => {
    if (code !== 0 || (process.exitCode !== undefined && process.exitCode !== 0)) return; // the parent reports the output
    writeResult(result, {
      loadMs: loaded,
      buildMs: (synthStarted ?? performance.now()) - loaded,
      synthMs,
      ...spentFields(spent, placementBefore, fleetDirectory),
      cacheBuilt: cacheStats?.built.length ?? null,
      cacheCached: cacheStats?.cached.length ?? null,
      workers: workerRss.length,
      workerMaxRssKib: workerRss.length > 0 ? Math.max(...workerRss) : null,
    });
  });
  process.argv = [
    process.argv[0],
    join(libDirectory, 'cli', 'main.js'),
    'synth',
    fleetDirectory,
    ...extra,
    '--out',
    outdir,
    '--json',
    ...(process.env.CDK_VALIDATION === 'false' ? [] : ['--validate']),
  ];
  require(join(libDirectory, 'cli', 'main')); // eslint-disable-line @typescript-eslint/no-require-imports
}

main();
