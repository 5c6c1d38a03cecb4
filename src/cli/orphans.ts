/*
 * `paas-vending synth`'s check for stacks that nothing names any more: a stack of the previous cloud assembly
 * (manifest.json in the output folder) or an environment of placement.yaml that has no customer file and no entry
 * in the offboarding record. Its file was deleted by hand: if its stack is deployed, a synthesis no longer holds
 * it, so `cdk destroy` cannot name it, and its placement slot is given away.
 *
 * Internal: not exported from src/index.ts.
 */
import { existsSync, readFileSync } from 'fs';
import { join } from 'path';
import { ConfigError } from '../config/errors';
import { displayPath, ResolvedFleet } from '../config/loader';
import { OFFBOARDED_FILE, readOffboardingRecord } from '../config/offboarding';
import { PLACEMENT_FILE, readPlacementFile } from '../environment/placement';
import { fleetStackNames } from '../environment/vending-fleet';

/** The stack names of a cloud assembly's manifest; undefined when it has none, a problem when it cannot be read. */
function stacksOfAssembly(outdir: string): { names: string[] } | { problem: string } | undefined {
  const file = join(outdir, 'manifest.json');
  if (!existsSync(file)) return undefined;
  try {
    const manifest = JSON.parse(readFileSync(file, 'utf-8')) as {
      artifacts?: Record<string, { type?: string; properties?: { stackName?: string } }>;
    };
    const names = Object.entries(manifest.artifacts ?? {})
      .filter(([, a]) => a?.type === 'aws:cloudformation:stack')
      .map(([id, a]) => a.properties?.stackName ?? id);
    return { names };
  } catch (e) {
    return {
      problem: `${displayPath(file)}: cannot be read (${(e as Error).message}); the previous stacks are not compared`,
    };
  }
}

/**
 * Warnings, one line each, about stacks of the previous assembly in `outdir` and environments of placement.yaml that
 * have neither a customer file nor an offboarding record. Read before the synthesis writes either.
 */
export function orphanWarnings(fleet: ResolvedFleet, outdir: string): string[] {
  const record = (() => {
    try {
      return readOffboardingRecord(fleet.directory);
    } catch (e) {
      if (e instanceof ConfigError) return undefined; // the synthesis reports it when it reads the record
      throw e;
    }
  })();
  const known = new Set([
    ...fleetStackNames(fleet.platform, fleet.customers),
    ...Object.keys(record?.environments ?? {}),
  ]);
  const placementFile = join(fleet.directory, PLACEMENT_FILE);
  let placedOn: { [name: string]: number } = {};
  try {
    placedOn = readPlacementFile(placementFile, displayPath(placementFile), 100)?.environments ?? {};
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e; // the synthesis reports a bad placement.yaml
  }
  const assembly = stacksOfAssembly(outdir);
  const warnings: string[] = [];
  if (assembly && 'problem' in assembly) warnings.push(`paas-vending: synth: warning: ${assembly.problem}`);
  const previous = assembly && 'names' in assembly ? assembly.names : [];
  const where = new Map<string, string[]>();
  for (const name of previous) if (!known.has(name)) where.set(name, [displayPath(join(outdir, 'manifest.json'))]);
  for (const name of Object.keys(placedOn)) {
    if (!known.has(name)) where.set(name, [...(where.get(name) ?? []), displayPath(placementFile)]);
  }
  for (const [name, sources] of [...where].sort(([a], [b]) => (a < b ? -1 : 1))) {
    warnings.push(
      `paas-vending: synth: warning: ${name}: is in ${sources.join(' and ')} but has no file in ` +
        `${displayPath(join(fleet.directory, 'customers'))} and no entry in ${displayPath(join(fleet.directory, OFFBOARDED_FILE))}; ` +
        'if its stack is deployed, this synthesis no longer holds it and cdk destroy cannot name it: restore its ' +
        `customer file (from version control) and run paas-vending offboard ${displayPath(fleet.directory)} ${name}` +
        (placedOn[name] !== undefined
          ? `; its slot on shared load balancer ${placedOn[name]} stays held until then (or until its entry is removed ` +
            `from ${displayPath(placementFile)} by hand, once its stack is destroyed)`
          : ''),
    );
  }
  return warnings;
}
