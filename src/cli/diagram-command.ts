import { mkdirSync, writeFileSync } from 'fs';
import { dirname, resolve } from 'path';
import { args, readFleetOf } from './args';
// The folder's index by name: a lib/cli/diagram.js left by a build from before the split would be found first.
import { diagramFileText, diagramUsageProblem, drawDiagram } from './diagram/index';
import { help } from './help';
import { EXIT_INVALID, EXIT_OK, Io, UsageError } from './io';
import { writeRefusal } from '../config/atomic-write';
import { displayPath } from '../config/loader';
import { plannedPlacement } from '../environment/placement';

/** `paas-vending diagram`: a customer environment, or the platform, drawn as Mermaid or SVG. */
export function diagram(argv: string[], io: Io): number {
  const { flags, options, positionals } = args(argv, [], 1, 'diagram', ['customer', 'environment', 'format', 'out']);
  if (flags.help) return help('diagram', io);
  const usage = diagramUsageProblem(options);
  if (usage !== undefined) throw new UsageError(`diagram: ${usage}`);
  const fleet = readFleetOf(positionals[0], io);
  const drawn = drawDiagram(fleet, options, plannedPlacement(fleet));
  if ('problem' in drawn) {
    if (drawn.usage) throw new UsageError(`diagram: ${drawn.problem}`);
    io.err(`paas-vending: diagram: ${drawn.problem}`);
    return EXIT_INVALID;
  }
  if (options.out === undefined) {
    io.out(drawn.text);
    return EXIT_OK;
  }
  const file = resolve(io.cwd, options.out);
  try {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, diagramFileText(drawn.text, options.format, file));
  } catch (e) {
    io.err(
      `${displayPath(file)}: cannot be written (${writeRefusal(e, file, displayPath)}); expected a file path for --out`,
    );
    return EXIT_INVALID;
  }
  io.err(`Wrote the diagram of ${drawn.subject} to ${displayPath(file)}.`);
  return EXIT_OK;
}
