import { readFileSync } from 'fs';
import { join } from 'path';
import { checkAppSpecCommand } from './check-appspec-command';
import { costCommand } from './cost-command';
import { deployCommand } from './deploy/deploy-command';
import { diagram } from './diagram-command';
import { diffCommand } from './diff-command';
import { list, validate } from './fleet-commands';
import { HELP } from './help';
import { init } from './init-command';
import { EXIT_INTERNAL, EXIT_INVALID, EXIT_OK, EXIT_USAGE, Io, PACKAGE_ROOT, UsageError } from './io';
import { offboard } from './offboard-command';
import { synth } from './synth-command';
import { writeRefusal } from '../config/atomic-write';
import { ConfigError } from '../config/errors';
import { displayPath } from '../config/loader';

export type { Io } from './io';
export { BUNDLED_FLEET, EXIT_INTERNAL, EXIT_INVALID, EXIT_OK, EXIT_USAGE } from './io';

/** Runs the command line; returns the exit code. `deploy`, the one asynchronous command, needs runAsync. */
export function run(argv: string[], io: Io): number {
  try {
    return dispatch(argv, io);
  } catch (e) {
    return exitCodeOf(e, io);
  }
}

/** Runs the command line, the asynchronous `deploy` included (main.ts runs this); resolves to the exit code. */
export async function runAsync(argv: string[], io: Io): Promise<number> {
  if (argv[0] !== 'deploy') return run(argv, io);
  try {
    return await deployCommand(argv.slice(1), io);
  } catch (e) {
    return exitCodeOf(e, io);
  }
}

/** The exit code of an error, which is reported on stderr. */
function exitCodeOf(e: unknown, io: Io): number {
  if (e instanceof ConfigError) {
    io.err(e.message);
    return EXIT_INVALID;
  }
  if (e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    io.err(`paas-vending: ${(e as Error).message}\nRun "paas-vending --help" for usage.`);
    return EXIT_USAGE;
  }
  const failed = e as NodeJS.ErrnoException;
  if (typeof failed?.syscall === 'string' && typeof failed.code === 'string') {
    // The file system refused something (a folder made read-only, a full disk): the environment's fault, not a bug.
    const where = typeof failed.path === 'string' ? `${displayPath(failed.path)}: ` : '';
    const reason = typeof failed.path === 'string' ? writeRefusal(failed, failed.path, displayPath) : failed.code;
    io.err(`paas-vending: ${where}${failed.syscall} failed (${reason}); expected a file system that allows it`);
    return EXIT_INVALID;
  }
  io.err(
    `paas-vending: unexpected error: ${(e as Error)?.message ?? String(e)}\nThis is a bug in paas-vending; please report it with the command you ran.`,
  );
  return EXIT_INTERNAL;
}

function dispatch(argv: string[], io: Io): number {
  const [command, ...rest] = argv;
  if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
    if (command === undefined) {
      io.err(HELP.main);
      return EXIT_USAGE;
    }
    io.out(HELP.main);
    return EXIT_OK;
  }
  if (command === '-v' || command === '--version') {
    io.out(versionText(JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf-8')).version));
    return EXIT_OK;
  }
  switch (command) {
    case 'validate':
      return validate(rest, io);
    case 'list':
      return list(rest, io);
    case 'synth':
      return synth(rest, io);
    case 'init':
      return init(rest, io);
    case 'check-appspec':
      return checkAppSpecCommand(rest, io);
    case 'diagram':
      return diagram(rest, io);
    case 'diff':
      return diffCommand(rest, io);
    case 'offboard':
      return offboard(rest, io);
    case 'cost':
      return costCommand(rest, io);
    case 'deploy':
      throw new UsageError('deploy: runs asynchronously; expected runAsync (src/cli/cli.ts), as main.ts calls it');
    default:
      throw new UsageError(
        `unknown command "${command}"; expected validate, list, synth, diff, deploy, cost, offboard, init, check-appspec or diagram`,
      );
  }
}

/**
 * What `--version` prints: the package's version. A checkout's package.json says 0.0.0 (a release sets the version
 * when it is built, `npx projen release`), so that is said instead of passing for a release.
 */
export function versionText(version: string): string {
  return version === '0.0.0'
    ? '0.0.0 (not a release: a build from a checkout; released packages carry their version, see CHANGELOG.md)'
    : version;
}
