import { existsSync, statSync } from 'fs';
import { dirname, resolve } from 'path';
import { args } from './args';
import { help } from './help';
import { EXIT_INVALID, EXIT_OK, Io, UsageError } from './io';
import { checkAppSpec } from '../appspec/appspec';
import { ConfigError, formatProblem } from '../config/errors';
import { displayPath, readFile } from '../config/loader';

/** `paas-vending check-appspec`: a customer's appspec.yml checked as the CodeDeploy agent reads it, and more. */
export function checkAppSpecCommand(argv: string[], io: Io): number {
  const { flags, options, positionals } = args(argv, ['json'], 1, 'check-appspec', ['root']);
  if (flags.help) return help('check-appspec', io);
  const [given] = positionals;
  if (given === undefined) {
    throw new UsageError(
      'check-appspec: expected FILE, such as: paas-vending check-appspec build/revision/appspec.yml',
    );
  }
  const file = resolve(io.cwd, given);
  const shown = displayPath(file);
  const root = resolve(io.cwd, options.root ?? dirname(file));
  let text: string;
  try {
    // A regular file of at most 1 MiB, as config files: a FIFO would block, a device would never end.
    text = readFile(file, shown, 'the appspec.yml of a revision');
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    io.err(e.problems.map((p) => formatProblem(p)).join('\n'));
    return EXIT_INVALID;
  }
  if (!existsSync(root) || !statSync(root).isDirectory()) {
    io.err(`${displayPath(root)}: is not a directory; expected the root of the revision (--root)`);
    return EXIT_INVALID;
  }
  const problems = checkAppSpec(text, { fileName: shown, revisionRoot: root });
  if (flags.json) {
    io.out(
      JSON.stringify(
        problems.map((p) => ({ file: shown, ...p })),
        null,
        2,
      ),
    );
    return problems.length > 0 ? EXIT_INVALID : EXIT_OK;
  }
  if (problems.length > 0) {
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    const lines = problems.map((p) => `  ${formatProblem({ file: shown, ...p })}`);
    io.err(`Invalid AppSpec file (${count}):\n${lines.join('\n')}`);
    return EXIT_INVALID;
  }
  io.out(`Valid: ${shown} (revision root ${displayPath(root)}).`);
  return EXIT_OK;
}
