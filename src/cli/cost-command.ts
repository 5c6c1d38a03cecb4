/*
 * `paas-vending cost`: the estimated monthly cost of each environment of a fleet, offline and without credentials,
 * from the resolved configs (src/cli/cost/estimate.ts), the bundled price table and the fleet's assumptions; with
 * --diff, what a change of the fleet does to each estimate against a git ref or another fleet directory.
 */
import { execFileSync } from 'child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'fs';
import { tmpdir } from 'os';
import { join, resolve } from 'path';
import { args, fleetDirectory, readFleetOf } from './args';
import { Assumptions, readAssumptions } from './cost/assumptions';
import { EnvironmentEstimate, estimateFleet, FleetEstimate, Range, round } from './cost/estimate';
import { PRICE_TABLE_FILE, PriceTable } from './cost/price-table';
import { PRICES } from './cost/prices';
import { help } from './help';
import { EXIT_OK, Io, UsageError } from './io';
import { table } from './table';
import { displayPath, platformFilesIn, readFleet, ResolvedFleet } from '../config/loader';
import { closest } from '../config/schema';
import { plannedPlacement } from '../environment/placement';

/** The estimate of a fleet that has been read, with the assumptions given. */
export function estimateOf(fleet: ResolvedFleet, assumptions: Assumptions, prices: PriceTable = PRICES): FleetEstimate {
  return estimateFleet(fleet, plannedPlacement(fleet), assumptions, prices);
}

/** `paas-vending cost [DIR] [--stack NAME] [--json] [--diff REF]`. */
export function costCommand(argv: string[], io: Io): number {
  const { flags, options, positionals } = args(argv, ['json', 'no-cache'], 1, 'cost', ['stack', 'diff']);
  if (flags.help) return help('cost', io);
  const directory = fleetDirectory(positionals[0], io);
  const fleet = readFleetOf(directory, io, flags['no-cache']);
  const { assumptions, file } = readAssumptions(fleet.directory);
  const all = estimateOf(fleet, assumptions);
  if (options.diff !== undefined) {
    const work = mkdtempSync(join(tmpdir(), 'paas-vending-cost-'));
    try {
      const old = estimateOf(fleetAt(fleet.directory, options.diff, work, io), assumptions);
      // With --diff, a stack may be in one fleet only (added or removed): an error only when it is in neither.
      if (options.stack !== undefined && !old.environments.some((e) => e.stack === options.stack)) {
        only(all, options.stack);
      }
      renderDiff(only(old, options.stack, true), only(all, options.stack, true), options.diff, flags.json ?? false, io);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
    return EXIT_OK;
  }
  const estimate = only(all, options.stack);
  if (flags.json) {
    io.out(JSON.stringify(jsonOf(estimate, file), null, 2));
    return EXIT_OK;
  }
  io.out(renderText(estimate, file));
  return EXIT_OK;
}

/** The estimate of one stack (`--stack`), or of all. An unknown stack is a usage error (none at a ref is fine). */
function only(estimate: FleetEstimate, stack: string | undefined, missingIsEmpty = false): FleetEstimate {
  if (stack === undefined) return estimate;
  const environments = estimate.environments.filter((e) => e.stack === stack);
  if (environments.length === 0 && !missingIsEmpty) {
    const names = estimate.environments.map((e) => e.stack);
    const guess = closest(stack, names);
    throw new UsageError(
      `cost: --stack ${stack}: no such environment${guess ? ` (did you mean "${guess}"?)` : ''}; expected one of ${names.join(', ') || 'none (the fleet has no environments)'}`,
    );
  }
  return { ...estimate, environments, total: totalOf(environments) };
}

function totalOf(environments: EnvironmentEstimate[]): Range {
  return {
    min: environments.reduce((t, e) => t + e.total.min, 0),
    max: environments.reduce((t, e) => t + e.total.max, 0),
  };
}

const money = (value: number) => round(value).toFixed(2);

function headline(e: FleetEstimate, assumptionsFile: string | undefined): string {
  return (
    `Estimated monthly cost in ${e.currency}, platform ${e.platform} (${e.region}): public on-demand prices as of ` +
    `${e.pricesAsOf} (${PRICE_TABLE_FILE}); assumptions ${assumptionsFile ?? 'the defaults (no cost-assumptions.yaml)'}. ` +
    'Taxes, free tiers, savings plans and data transfer out are not counted.'
  );
}

function renderText(e: FleetEstimate, assumptionsFile: string | undefined): string {
  const out = [headline(e, assumptionsFile)];
  for (const env of e.environments) {
    const where =
      env.ingress === 'dedicated'
        ? 'dedicated load balancer'
        : `shared load balancer ${env.loadBalancer ?? '(not placed yet)'}`;
    out.push('', `${env.stack} (${where}; ${env.file})`);
    const rows = [
      ['  COMPONENT', 'DETAIL', 'MIN CAPACITY', 'MAX CAPACITY'],
      ...env.lines.map((l) => [`  ${l.component}`, l.detail, money(l.min), money(l.max)]),
      ['  total', '', money(env.total.min), money(env.total.max)],
    ];
    out.push(table(rows));
  }
  const count = e.environments.length === 1 ? '1 environment' : `${e.environments.length} environments`;
  out.push(
    '',
    `Fleet: ${count}, ${money(e.total.min)} to ${money(e.total.max)} ${e.currency} per month (the platform's costs ` +
      "are in the environments' shares).",
  );
  return out.join('\n');
}

function rangeJson(r: Range) {
  return { min: round(r.min), max: round(r.max) };
}

function jsonOf(e: FleetEstimate, assumptionsFile: string | undefined) {
  return {
    platform: e.platform,
    region: e.region,
    currency: e.currency,
    pricesAsOf: e.pricesAsOf,
    assumptionsFile: assumptionsFile ?? null,
    assumptions: e.assumptions,
    platformCosts: e.platformLines.map((l) => ({ component: l.component, detail: l.detail, monthly: round(l.min) })),
    environments: e.environments.map((env) => ({
      stack: env.stack,
      customer: env.customer,
      environment: env.environment,
      ingress: env.ingress,
      loadBalancer: env.loadBalancer ?? null,
      file: env.file,
      lines: env.lines.map((l) => ({ component: l.component, detail: l.detail, ...rangeJson(l) })),
      total: rangeJson(env.total),
    })),
    total: rangeJson(e.total),
  };
}

/** The fleet at `ref`: another fleet directory, or the fleet's directory at a git ref of its repository. */
function fleetAt(fleetDir: string, ref: string, work: string, io: Io): ResolvedFleet {
  const asDirectory = resolve(io.cwd, ref);
  if (existsSync(asDirectory) && statSync(asDirectory).isDirectory()) {
    if (platformFilesIn(asDirectory).length === 0) {
      throw new UsageError(
        `cost: --diff ${ref}: ${displayPath(asDirectory)} holds no platform.yaml; expected a fleet directory or a git ref`,
      );
    }
    return readFleet(asDirectory, io.env ?? process.env);
  }
  const git = (...argv: string[]) =>
    execFileSync('git', ['-C', fleetDir, ...argv], { stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 512 * 1024 * 1024 });
  let prefix: string;
  try {
    git('rev-parse', '--verify', '--quiet', `${ref}^{commit}`);
    prefix = git('rev-parse', '--show-prefix').toString('utf-8').trim();
  } catch {
    throw new UsageError(
      `cost: --diff ${ref}: not a directory, and not a commit of the git repository of ${displayPath(fleetDir)}; ` +
        'expected a fleet directory or a git ref such as HEAD or main',
    );
  }
  const absent = () =>
    new UsageError(`cost: --diff ${ref}: ${prefix || './'} holds no platform.yaml at ${ref}; expected the fleet there`);
  try {
    git('rev-parse', '--verify', '--quiet', `${ref}:${prefix}`);
  } catch {
    throw absent(); // the fleet's folder did not exist at that commit
  }
  const target = join(work, 'at-ref');
  mkdirSync(target, { recursive: true });
  // Run in the fleet's folder, git archive holds that folder's files relative to it.
  execFileSync('tar', ['-x', '-C', target], { input: git('archive', '--format=tar', ref, '--', '.') });
  if (platformFilesIn(target).length === 0) {
    throw new UsageError(
      `cost: --diff ${ref}: ${prefix || './'} holds no platform.yaml at ${ref}; expected the fleet there`,
    );
  }
  return readFleet(target, io.env ?? process.env);
}

interface StackChange {
  readonly stack: string;
  readonly before: Range | null;
  readonly after: Range | null;
  readonly delta: Range;
}

function changesOf(before: FleetEstimate, after: FleetEstimate): StackChange[] {
  const old = new Map(before.environments.map((e) => [e.stack, e.total]));
  const now = new Map(after.environments.map((e) => [e.stack, e.total]));
  const stacks = [...new Set([...now.keys(), ...old.keys()])].sort();
  return stacks.map((stack) => {
    const b = old.get(stack) ?? null;
    const a = now.get(stack) ?? null;
    return {
      stack,
      before: b,
      after: a,
      delta: { min: (a?.min ?? 0) - (b?.min ?? 0), max: (a?.max ?? 0) - (b?.max ?? 0) },
    };
  });
}

function renderDiff(before: FleetEstimate, after: FleetEstimate, ref: string, json: boolean, io: Io): void {
  const changes = changesOf(before, after);
  const total = {
    before: before.total,
    after: after.total,
    delta: { min: after.total.min - before.total.min, max: after.total.max - before.total.max },
  };
  if (json) {
    io.out(
      JSON.stringify(
        {
          against: ref,
          currency: after.currency,
          pricesAsOf: after.pricesAsOf,
          environments: changes.map((c) => ({
            stack: c.stack,
            before: c.before && rangeJson(c.before),
            after: c.after && rangeJson(c.after),
            delta: rangeJson(c.delta),
          })),
          total: { before: rangeJson(total.before), after: rangeJson(total.after), delta: rangeJson(total.delta) },
        },
        null,
        2,
      ),
    );
    return;
  }
  const range = (r: Range | null) => (r === null ? '-' : `${money(r.min)} to ${money(r.max)}`);
  const signed = (v: number) => `${round(v) > 0 ? '+' : ''}${money(v)}`;
  const delta = (r: Range) => (round(r.min) === round(r.max) ? signed(r.min) : `${signed(r.min)} to ${signed(r.max)}`);
  const status = (c: StackChange) =>
    c.before === null
      ? 'added'
      : c.after === null
        ? 'removed'
        : round(c.delta.min) === 0 && round(c.delta.max) === 0
          ? 'unchanged'
          : 'changed';
  io.out(
    `Estimated monthly cost in ${after.currency} against ${ref}, at minimum to maximum capacity (prices as of ${after.pricesAsOf}, the same assumptions on both sides):`,
  );
  io.out(
    table([
      ['STACK', 'BEFORE', 'AFTER', 'DELTA', ''],
      ...changes.map((c) => [c.stack, range(c.before), range(c.after), delta(c.delta), status(c)]),
      ['fleet', range(total.before), range(total.after), delta(total.delta), ''],
    ]),
  );
}
