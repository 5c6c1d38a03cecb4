import { join } from 'path';

/** Where the command writes: injected so tests can read what a user sees. */
export interface Io {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly cwd: string;
  /** Whether `err` writes to a terminal: progress of long commands is shown only then. @default false */
  readonly errIsTTY?: boolean;
  /** Whether stdin is a terminal: offboard asks for confirmation only then. @default false */
  readonly inIsTTY?: boolean;
  /** Asks a question on the terminal and returns the line answered (undefined at end of input). @default none */
  readonly ask?: (question: string) => string | undefined;
  /** The environment (synth reads CDK_OUTDIR from it). @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** Exit codes: 0 success, 1 invalid config or refused action, 2 wrong usage. */
export const EXIT_OK = 0;
export const EXIT_INVALID = 1;
export const EXIT_USAGE = 2;
/** An unexpected failure of the command itself (sysexits' EX_SOFTWARE): a bug to report. */
export const EXIT_INTERNAL = 70;

/** The installed package (or the checkout): its package.json and bundled examples. */
export const PACKAGE_ROOT = join(__dirname, '..', '..');
/** The example fleet shipped in the package, used when no directory is given and none is here. */
export const BUNDLED_FLEET = join(PACKAGE_ROOT, 'examples', 'fleet');

/** Wrong usage of the command (exit code 2, with a pointer to the help). */
export class UsageError extends Error {}
