import { resolve } from 'path';
import { args, emptyFleetProblem, readFleetOf } from './args';
import { help } from './help';
import { EXIT_INVALID, EXIT_OK, Io, UsageError } from './io';
import { orphanWarnings } from './orphans';
import { synthesizeFleet } from './synth';
import { jobsOf, stacksPerProcessOf } from './synth-jobs';
import { table } from './table';

/** `paas-vending synth`: the fleet synthesized into a cloud assembly (also as the app of the CDK CLI). */
export function synth(argv: string[], io: Io): number {
  const startedAt = Date.now();
  const { flags, options, lists, positionals } = args(
    argv,
    ['json', 'frozen-placement', 'validate', 'allow-empty', 'no-cache', 'include-offboarded'],
    1,
    'synth',
    ['out', 'jobs'],
    ['stack'],
  );
  if (flags.help) return help('synth', io);
  // The CDK CLI runs an app with CDK_OUTDIR set, reads the cloud assembly there, and needs nothing on stdout.
  const cdkOutdir = (io.env ?? process.env).CDK_OUTDIR || undefined;
  if (cdkOutdir !== undefined && (options.out !== undefined || flags.json || flags.validate)) {
    const flag = flags.json ? '--json' : options.out !== undefined ? '--out' : '--validate';
    throw new UsageError(`synth: ${flag} does not apply when the CDK CLI runs the command (CDK_OUTDIR is set)`);
  }
  // Worker processes (--jobs, default the machine's processors), at most one per stack built.
  const jobs = jobsOf(options.jobs, io.env ?? process.env);
  // A large fleet is built by more processes than --jobs, at most this many stacks each (a heap that stays small).
  const stacksPerProcess = stacksPerProcessOf(io.env ?? process.env);
  const fleet = readFleetOf(positionals[0], io, flags['no-cache']);
  const empty = emptyFleetProblem(fleet, 'synth', flags['allow-empty'] ?? false);
  if (empty !== undefined) {
    io.err(empty);
    return EXIT_INVALID;
  }
  const outdir = resolve(io.cwd, cdkOutdir ?? options.out ?? 'cdk.out');
  // Before the synthesis writes the assembly and placement.yaml: stacks whose file went without an offboarding.
  const orphans = orphanWarnings(fleet, outdir);
  if (orphans.length > 0) io.err(orphans.join('\n'));
  const progress = io.errIsTTY && !flags.json && cdkOutdir === undefined ? io.err : undefined;
  const frozenPlacement = flags['frozen-placement'] ?? false;
  // Alone, the templates are not validated again by aws-cdk-lib unless asked (--validate): its validation is half the
  // time and a third of the memory of a synthesis, and the constructs' templates pass it in this project's tests.
  // Under the CDK CLI, aws-cdk-lib's default stands, so that `cdk synth --no-validation` decides.
  const validation = cdkOutdir !== undefined ? undefined : (flags.validate ?? false);
  const selected = lists.stack?.flatMap((names) => names.split(',')).map((name) => name.trim());
  const result = synthesizeFleet(fleet, {
    outdir,
    cwd: io.cwd,
    progress,
    startedAt,
    frozenPlacement,
    validation,
    stacks: selected,
    // Without the flag, the context key vending:include-offboarded decides (cdk destroy -c vending:include-offboarded=true).
    includeOffboarded: flags['include-offboarded'] || undefined,
    jobs,
    stacksPerProcess,
    cdkCli: cdkOutdir !== undefined,
    // --no-cache: every stack built again, and every customer file validated again (readFleetOf above).
    cache: !flags['no-cache'],
    // The command's environment over the process's (they are one outside tests; aws-cdk-lib reads the process's).
    env: { ...process.env, ...io.env },
  });
  if ('problem' in result) {
    io.err(`paas-vending: synth: ${result.problem}`);
    return EXIT_INVALID;
  }
  if (result.cache) {
    // On stderr, also under the CDK CLI: which stacks were built and which came unchanged from the cache.
    const { built, cached } = result.cache;
    const names = built.length > 0 && built.length <= 10 ? ` (${built.join(', ')})` : '';
    io.err(
      `paas-vending: synth: built ${built.length === 1 ? '1 stack' : `${built.length} stacks`}${names}, ` +
        `${cached.length} unchanged from the cache (${result.cache.folder}; --no-cache builds every stack)`,
    );
  }
  if (result.placementChanges.length > 0) {
    // On stderr, also under the CDK CLI: the file changed and wants committing.
    io.err(
      `paas-vending: synth: wrote ${result.placementFile} (commit it with the fleet):\n` +
        result.placementChanges.map((change) => `  ${change}`).join('\n'),
    );
  }
  if (result.templateLimits.length > 0) {
    // Also under the CDK CLI: CloudFormation would refuse these templates.
    io.err(
      `paas-vending: synth: ${result.templateLimits.length} template(s) over CloudFormation's limits:\n${result.templateLimits.join('\n')}`,
    );
    return EXIT_INVALID;
  }
  if (cdkOutdir !== undefined) return EXIT_OK; // the CDK CLI reports the annotations itself
  if (result.warnings.length > 0) io.err(result.warnings.join('\n'));
  if (result.lookups.length > 0) {
    // Alone, nothing looks them up: the templates would deploy subnets into zones named dummy1a.
    io.err(`paas-vending: synth: the templates cannot be deployed as written:\n${result.lookups.join('\n')}`);
    return EXIT_INVALID;
  }
  if (result.errors.length > 0) {
    io.err(
      `paas-vending: synth: ${result.errors.length} error(s) in the synthesized stacks:\n${result.errors.join('\n')}`,
    );
    return EXIT_INVALID;
  }
  if (flags.json) {
    io.out(JSON.stringify(result.rows, null, 2));
    return EXIT_OK;
  }
  const header = ['STACK', 'CUSTOMER', 'ENVIRONMENT', 'HOSTNAME', 'INGRESS', 'RESOURCES', 'TEMPLATE'];
  // "shared N" once there are several shared load balancers.
  const manyLoadBalancers = result.rows.some((r) => (r.sharedLoadBalancer ?? 1) > 1);
  const rows = result.rows.map((r) => [
    r.stack,
    r.customer ?? '-',
    r.environment ?? '-',
    r.hosts.join(', ') || '-',
    r.sharedLoadBalancer !== null && manyLoadBalancers ? `shared ${r.sharedLoadBalancer}` : (r.ingress ?? '-'),
    String(r.resources),
    r.template,
  ]);
  io.out(table([header, ...rows]));
  if (result.offboarded.length > 0) {
    io.out(
      `\nOffboarded, built for cdk destroy only (offboarded.yaml): ${result.offboarded.join(', ')}. Destroy one with: ` +
        `cdk destroy --app ${result.outdir} STACK`,
    );
  }
  const stacks = rows.length === 1 ? '1 stack' : `${rows.length} stacks`;
  io.out(`\n${stacks} in ${result.outdir}. Deploy one with: cdk deploy --app ${result.outdir} STACK`);
  return EXIT_OK;
}
