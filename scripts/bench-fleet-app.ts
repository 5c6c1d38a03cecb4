/*
 * One case of the fleet benchmark, run by scripts/bench-fleet.ts in a fresh child process (transpiled to
 * JavaScript first, so the process is `node app.js`, as a user's compiled CDK app is):
 *
 *   node bench-fleet-app.js <library|plain|empty> <input> <outdir> <result.json> [<lib directory>]
 *
 * library: `VendingFleet.fromDirectory(app, input)` on the compiled library (lib/); plain: the hand-written
 * aws-cdk-lib app of scripts/bench-fleet-plain.ts on the fleet spec in `input` (JSON); empty: as many empty
 * stacks as the fleet has (platform + environments; `input` is the number of environments). Then `app.synth()`
 * into `outdir`. Writes what only the process itself knows to `result.json`: time to load the modules, to build
 * the constructs and to synthesize, aws-cdk-lib's own performance counters (template validation among them),
 * and the peak RSS.
 */
import { readFileSync, writeFileSync } from 'fs';
import { join } from 'path';
import { performance } from 'perf_hooks';
import type * as Library from '../src';
import type { PlainFleetSpec } from './bench-fleet-plain';

/** aws-cdk-lib writes its counters here when a synth is slower per stack than the threshold set below (0). */
const countersFile = (result: string) => `${result}.counters.json`;

function main(): void {
  const [kind, input, outdir, result, libDirectory] = process.argv.slice(2);
  if (!['library', 'plain', 'empty'].includes(kind) || !input || !outdir || !result) {
    throw new Error('usage: bench-fleet-app <library|plain|empty> <input> <outdir> <result.json> [<lib directory>]');
  }
  process.env.CDK_PERF_COUNTERS_FILE = countersFile(result);

  // Module load: what a user's app loads (aws-cdk-lib's root module loads its submodules lazily), timed after
  // the counters file is set, and each case loads only its own modules (the library from a path given at run time).
  /* eslint-disable @typescript-eslint/no-require-imports */
  const cdk: typeof import('aws-cdk-lib') = require('aws-cdk-lib');
  const library: typeof Library | undefined = kind === 'library' ? require(libDirectory) : undefined;
  const plain: typeof import('./bench-fleet-plain') | undefined =
    kind === 'plain' ? require('./bench-fleet-plain') : undefined;
  /* eslint-enable @typescript-eslint/no-require-imports */
  const loaded = performance.now();

  const app = new cdk.App({ outdir, context: { '@aws-cdk/core.slowSynthThreshold': 0 } });
  if (library) {
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

  let counters: Record<string, number> = {};
  try {
    counters = JSON.parse(readFileSync(countersFile(result), 'utf-8')).counters;
  } catch {
    // aws-cdk-lib older than its performance counters: phases only.
  }
  writeFileSync(
    result,
    JSON.stringify({
      // performance.now() counts from the process's start: loading is Node's start-up and the modules.
      loadMs: loaded,
      buildMs: built - loaded,
      synthMs: synthesized - built,
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

main();
