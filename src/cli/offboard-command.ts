/*
 * `paas-vending offboard DIR <customer>-<environment>`: prints what the deletion of the environment's stack deletes
 * and keeps, asks for confirmation (or takes --yes), then takes the environment out of the fleet without losing its
 * stack: the customer file moves to offboarded/, offboarded.yaml records it, placement.yaml frees its slot. Nothing
 * in AWS is changed; `cdk destroy` with vending:include-offboarded=true deletes the stack afterwards.
 *
 * Internal: not exported from src/index.ts.
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from 'fs';
import { basename, join, resolve } from 'path';
import { args, readFleetOf } from './args';
import { help } from './help';
import { EXIT_INVALID, EXIT_OK, Io, UsageError } from './io';
import { offboardPlan } from './offboard-plan';
import { writeFileAtomically } from '../config/atomic-write';
import { displayPath } from '../config/loader';
import {
  OFFBOARDED_FILE,
  OFFBOARDED_FOLDER,
  readOffboardingRecord,
  renderOffboardingRecord,
} from '../config/offboarding';
import { PLACEMENT_FILE, readPlacementFile, renderPlacement } from '../environment/placement';

/** `paas-vending offboard`. */
export function offboard(argv: string[], io: Io): number {
  const { flags, positionals } = args(argv, ['yes', 'no-cache'], 2, 'offboard');
  if (flags.help) return help('offboard', io);
  if (positionals.length < 2) {
    throw new UsageError(
      'offboard: expected the fleet directory and the environment, such as: paas-vending offboard fleet acme-staging',
    );
  }
  const [given, name] = positionals;
  const directory = resolve(io.cwd, given);
  const fleet = readFleetOf(directory, io, flags['no-cache']);
  const record = readOffboardingRecord(directory);
  const recordFile = join(directory, OFFBOARDED_FILE);
  const index = fleet.customers.findIndex((c) => `${c.customer}-${c.environment}` === name);
  if (index === -1) {
    const entry = record.environments[name];
    if (entry !== undefined) {
      io.err(
        `paas-vending: offboard: ${name}: was offboarded at ${entry.offboardedAt} (${displayPath(recordFile)}); ` +
          `its last customer file is ${displayPath(join(directory, entry.file))}: nothing to do`,
      );
    } else {
      const known = fleet.customers.map((c) => `${c.customer}-${c.environment}`);
      io.err(
        `paas-vending: offboard: received ${JSON.stringify(name)}; expected an environment of the fleet in ` +
          `${displayPath(join(directory, 'customers'))} (${known.length > 0 ? known.join(', ') : 'it has none'})`,
      );
    }
    return EXIT_INVALID;
  }
  const config = fleet.customers[index];
  const file = resolve(fleet.files[index]);
  const target = join(directory, OFFBOARDED_FOLDER, basename(file));
  const text = readFileSync(file, 'utf-8');
  // A copy with the same text is this offboarding, stopped half-way (the copy is its first step): it goes on from
  // there. Another text is the last file of an earlier offboarding, which is not to be overwritten.
  const resuming = existsSync(target) && readFileSync(target, 'utf-8') === text;
  if (existsSync(target) && !resuming) {
    io.err(
      `paas-vending: offboard: ${displayPath(target)}: exists already with other content; expected no file there: ` +
        `it is the last file of an earlier offboarding of ${name} (remove it once that stack is destroyed, or move it away)`,
    );
    return EXIT_INVALID;
  }
  const plan = offboardPlan(fleet, config, displayPath(file));
  const placementFile = join(directory, PLACEMENT_FILE);
  const placement = readPlacementFile(placementFile, displayPath(placementFile), 100);
  const placed = placement?.environments[name];
  if (resuming) {
    io.out(
      `Resuming the offboarding of ${name} that stopped half-way: ${displayPath(target)} holds its customer file ` +
        'already. The steps that are done are skipped.\n',
    );
  }
  io.out(plan.lines.join('\n'));
  io.out(
    [
      '',
      'This command changes files of the fleet only, nothing in AWS:',
      `  - moves ${displayPath(file)} to ${displayPath(target)}`,
      `  - records ${name} as offboarded in ${displayPath(recordFile)}`,
      ...(placed !== undefined
        ? [`  - frees its place on shared load balancer ${placed} in ${displayPath(placementFile)}`]
        : []),
    ].join('\n'),
  );
  if (!flags.yes) {
    if (!io.inIsTTY || io.ask === undefined) {
      io.err(
        `paas-vending: offboard: ${name}: not offboarded: stdin is not a terminal, so nothing can confirm it; ` +
          'expected --yes, once the plan above is what you want. Nothing was changed',
      );
      return EXIT_INVALID;
    }
    const answer = io.ask(`Type ${name} to offboard it (anything else cancels): `);
    if (answer?.trim() !== name) {
      io.err(`paas-vending: offboard: ${name}: not offboarded (the answer was not ${name}). Nothing was changed`);
      return EXIT_INVALID;
    }
  }
  // In an order that loses nothing if it stops half-way: the copy and the record first, the customer file last.
  mkdirSync(join(directory, OFFBOARDED_FOLDER), { recursive: true });
  if (!resuming) writeFileAtomically(target, text, displayPath(target));
  const entry = record.environments[name] ?? {
    file: `${OFFBOARDED_FOLDER}/${basename(file)}`,
    offboardedAt: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    ...(placed !== undefined || plan.sharedLoadBalancer !== undefined
      ? { sharedLoadBalancer: placed ?? plan.sharedLoadBalancer }
      : {}),
  };
  const next = { environments: { ...record.environments, [name]: entry } };
  writeFileAtomically(recordFile, renderOffboardingRecord(next), displayPath(recordFile));
  if (placement && placed !== undefined) {
    const environments = Object.fromEntries(Object.entries(placement.environments).filter(([n]) => n !== name));
    writeFileAtomically(placementFile, renderPlacement({ ...placement, environments }), displayPath(placementFile));
  }
  rmSync(file);
  const fleetArg = displayPath(directory);
  io.out(
    [
      '',
      `Offboarded ${name}. Commit ${displayPath(target)}, ${displayPath(recordFile)}, ${displayPath(placementFile)} and ` +
        `the removal of ${displayPath(file)}. Its stack is still deployed; a synthesis leaves it out, so the next ` +
        'environment may take its place. To delete the stack:',
      `  in ${fleetArg} (with its cdk.json): cdk destroy -c vending:include-offboarded=true ${name}`,
      `  or: paas-vending synth ${fleetArg} --include-offboarded --out cdk.out && cdk destroy --app cdk.out ${name}`,
      `Once it is destroyed, remove its entry from ${displayPath(recordFile)} and ${displayPath(target)}.`,
    ].join('\n'),
  );
  return EXIT_OK;
}
