import { existsSync } from 'fs';
import { join, resolve } from 'path';
import { parseArgs } from 'util';
import { BUNDLED_FLEET, Io, UsageError } from './io';
import { platformFilesIn } from '../config/loader';

/**
 * A subcommand's arguments: its boolean flags (and --help), string options, repeatable options and at most
 * `maxPositionals` positionals.
 */
export function args(
  argv: string[],
  booleans: string[],
  maxPositionals: number,
  command: string,
  strings: string[] = [],
  repeatable: string[] = [],
) {
  const parsed = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: Object.fromEntries([
      ['help', { type: 'boolean', short: 'h' }],
      ...booleans.map((b) => [b, { type: 'boolean' }]),
      ...strings.map((s) => [s, { type: 'string' }]),
      ...repeatable.map((s) => [s, { type: 'string', multiple: true }]),
    ]),
  });
  if (parsed.positionals.length > maxPositionals) {
    throw new UsageError(`${command}: unexpected argument "${parsed.positionals[maxPositionals]}"`);
  }
  const values = parsed.values as Record<string, boolean | string | undefined>;
  const flags = Object.fromEntries(booleans.concat('help').map((b) => [b, values[b] as boolean | undefined]));
  const options = Object.fromEntries(strings.map((s) => [s, values[s] as string | undefined]));
  const lists = Object.fromEntries(repeatable.map((s) => [s, values[s] as unknown as string[] | undefined]));
  return { flags, options, lists, positionals: parsed.positionals };
}

/** The fleet directory: given, or here when here looks like a fleet, or the bundled example. */
export function fleetDirectory(given: string | undefined, io: Io): string {
  if (given !== undefined) return resolve(io.cwd, given);
  if (platformFilesIn(io.cwd).length > 0 || existsSync(join(io.cwd, 'customers'))) return io.cwd;
  io.err(`No platform.yaml here; using the bundled example fleet (${BUNDLED_FLEET}).`);
  return BUNDLED_FLEET;
}
