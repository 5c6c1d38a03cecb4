import { existsSync } from 'fs';
import { join, resolve } from 'path';
import { parseArgs } from 'util';
import { BUNDLED_FLEET, Io, UsageError } from './io';
import {
  CACHE_SWITCH,
  CONFIG_EXTENSIONS,
  displayPath,
  platformFilesIn,
  readFleet,
  ResolvedFleet,
} from '../config/loader';
import { PLACEMENT_FILE, readPlacementFile } from '../environment/placement';

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
  const known = [
    ...booleans.map((b) => `--${b}`),
    ...strings.map((s) => `--${s} VALUE`),
    ...repeatable.map((s) => `--${s} VALUE`),
    '--help',
  ];
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
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
  } catch (e) {
    // Node's own messages name node's syntax, not the command's: said in the command's words instead.
    const code = (e as NodeJS.ErrnoException).code;
    const option = /'(-[^']*)'/.exec((e as Error).message)?.[1] ?? '';
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      throw new UsageError(`${command}: received the option "${option}"; expected one of ${known.join(', ')}`);
    }
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      const name = /--([\w-]+)/.exec((e as Error).message)?.[1];
      const flag = name !== undefined ? `--${name}` : 'an option';
      throw new UsageError(
        name !== undefined && booleans.includes(name)
          ? `${command}: ${flag}: received a value; expected none (it is a flag: ${flag} alone)`
          : `${command}: ${flag}: received no value; expected one after it (${flag} VALUE)`,
      );
    }
    throw e;
  }
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

/**
 * The fleet of a directory, read and checked (a ConfigError otherwise); the files of customers/ that were skipped,
 * editors' temp files and the like, are named on stderr.
 */
export function readFleetOf(given: string | undefined, io: Io, noCache = false): ResolvedFleet {
  const env = io.env ?? process.env;
  // --no-cache: every customer file read and validated again (src/config/config-cache.ts).
  const fleet = readFleet(fleetDirectory(given, io), noCache ? { ...env, [CACHE_SWITCH]: 'off' } : env);
  if (fleet.skipped.length > 0) {
    const files = fleet.skipped.length === 1 ? '1 file' : `${fleet.skipped.length} files`;
    io.err(
      `paas-vending: skipped ${files} of customers/ that are not customer files ` +
        `(${CONFIG_EXTENSIONS.map((e) => `*${e}`).join(', ')}): ${fleet.skipped.join(', ')}`,
    );
  }
  return fleet;
}

/**
 * Why a fleet without customer files must not be taken as it is: its placement.yaml still places environments, so
 * their files are gone (moved, or a checkout gone wrong), and a synthesis would remove every one of them. Undefined
 * when the fleet has customer files, never had any, or `allowEmpty`.
 */
export function emptyFleetProblem(fleet: ResolvedFleet, command: string, allowEmpty: boolean): string | undefined {
  if (allowEmpty || fleet.customers.length > 0) return undefined;
  const file = join(fleet.directory, PLACEMENT_FILE);
  const placed = Object.keys(readPlacementFile(file, displayPath(file), 100)?.environments ?? {});
  if (placed.length === 0) return undefined;
  const names =
    placed.length > 5 ? `${placed.slice(0, 5).join(', ')} and ${placed.length - 5} more` : placed.join(', ');
  const count = placed.length === 1 ? '1 environment' : `${placed.length} environments`;
  return (
    `paas-vending: ${command}: ${displayPath(join(fleet.directory, 'customers'))} has no customer files, but ` +
    `${displayPath(file)} places ${count} (${names}); expected its files in customers/: restore them, or run again ` +
    'with --allow-empty to remove every environment'
  );
}
