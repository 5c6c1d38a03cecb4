/*
 * The state directory of `paas-vending deploy --state DIR`: what was last deployed of each stack.
 *
 *   DIR/state.json                         {"version":1,"stacks":{"<stack>":{"fingerprint","deployedAt","inputs"}}}
 *   DIR/templates/<stack>.template.json    the template deployed (the approval message's diff reads it)
 *
 * A stack's entry is written after its deploy succeeded, template first, then state.json, each through a temporary
 * file and a rename (writeFileAtomically): a stop between the two leaves the old entry, so the stack is deployed
 * again, never skipped. A failed stack keeps its old entry. The pipeline copies the directory from and to S3 around
 * the command.
 *
 * Internal: not exported from src/index.ts.
 */
import { existsSync, mkdirSync, readFileSync, statSync } from 'fs';
import { join } from 'path';
import type { FingerprintInputs } from './fingerprint';
import type { PreviousStack } from './selection';
import { writeFileAtomically } from '../../config/atomic-write';
import { ConfigError, ConfigProblem } from '../../config/errors';
import { displayPath } from '../../config/loader';

export const STATE_FILE = 'state.json';
export const TEMPLATES_DIR = 'templates';
export const STATE_VERSION = 1;

/** A stack's entry in state.json. */
export interface StateEntry {
  readonly fingerprint: string;
  /** When its deploy succeeded (ISO 8601). */
  readonly deployedAt: string;
  /** The fingerprint's parts, to tell why a stack is selected again. Optional: an entry without them still works. */
  readonly inputs?: Partial<FingerprintInputs>;
}

export interface DeployStateFile {
  readonly version: 1;
  readonly stacks: Record<string, StateEntry>;
}

const STACK_NAME = /^[A-Za-z][A-Za-z0-9-]{0,127}$/;
const HASH = /^[0-9a-f]{64}$/;

/** The state directory: read once, then each successful deploy recorded. */
export class DeployState {
  /** Reads DIR/state.json; a missing directory or file is an empty state (the first deploy). */
  public static read(directory: string): DeployState {
    const file = join(directory, STATE_FILE);
    const shown = displayPath(file);
    if (existsSync(directory) && !statSync(directory).isDirectory()) {
      throw new ConfigError([
        { file: displayPath(directory), path: '', message: 'is not a directory; expected the deploy state directory' },
      ]);
    }
    if (!existsSync(file)) return new DeployState(directory, {});
    let data: unknown;
    try {
      data = JSON.parse(readFileSync(file, 'utf-8'));
    } catch (e) {
      throw new ConfigError([
        { file: shown, path: '', message: `is not JSON (${(e as Error).message}); expected ${SHAPE}` },
      ]);
    }
    return new DeployState(directory, checkState(data, shown));
  }

  private constructor(
    public readonly directory: string,
    private readonly stacks: Record<string, StateEntry>,
  ) {}

  /** What was deployed, by stack name. */
  public previous(): Map<string, PreviousStack> {
    return new Map(Object.entries(this.stacks));
  }

  public entry(stack: string): StateEntry | undefined {
    return this.stacks[stack];
  }

  /** The template last deployed of a stack, parsed; undefined when none was recorded. */
  public template(stack: string): object | undefined {
    const file = this.templateFile(stack);
    if (!existsSync(file)) return undefined;
    try {
      return JSON.parse(readFileSync(file, 'utf-8'));
    } catch (e) {
      throw new ConfigError([
        { file: displayPath(file), path: '', message: `is not JSON (${(e as Error).message}); expected a template` },
      ]);
    }
  }

  /** Records a successful deploy: the template, then the entry in state.json. */
  public record(stack: string, entry: StateEntry, templateText: string): void {
    if (!STACK_NAME.test(stack)) throw new Error(`deploy state: unexpected stack name ${JSON.stringify(stack)}`);
    mkdirSync(join(this.directory, TEMPLATES_DIR), { recursive: true });
    const templateFile = this.templateFile(stack);
    writeFileAtomically(templateFile, templateText, displayPath(templateFile));
    this.stacks[stack] = entry;
    const file = join(this.directory, STATE_FILE);
    const sorted = Object.fromEntries(Object.entries(this.stacks).sort(([a], [b]) => (a < b ? -1 : 1)));
    const data: DeployStateFile = { version: STATE_VERSION, stacks: sorted };
    writeFileAtomically(file, `${JSON.stringify(data, null, 2)}\n`, displayPath(file));
  }

  private templateFile(stack: string): string {
    return join(this.directory, TEMPLATES_DIR, `${stack}.template.json`);
  }
}

const SHAPE = '{"version":1,"stacks":{"<stack>":{"fingerprint":"<sha256>","deployedAt":"<ISO date>"}}}';

/** state.json checked: every problem named by its field. */
function checkState(data: unknown, file: string): Record<string, StateEntry> {
  const problems: ConfigProblem[] = [];
  const problem = (path: string, received: unknown, expected: string) =>
    problems.push({ file, path, message: `received ${JSON.stringify(received)}; expected ${expected}` });
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    problem('', data, SHAPE);
    throw new ConfigError(problems);
  }
  const { version, stacks } = data as { version?: unknown; stacks?: unknown };
  if (version !== STATE_VERSION) {
    problem('version', version, `${STATE_VERSION} (written by this version of paas-vending)`);
  }
  if (stacks === null || typeof stacks !== 'object' || Array.isArray(stacks)) {
    problem('stacks', stacks, 'an object of entries by stack name');
    throw new ConfigError(problems);
  }
  const entries: Record<string, StateEntry> = {};
  for (const [name, value] of Object.entries(stacks as Record<string, unknown>)) {
    const at = `stacks.${name}`;
    if (!STACK_NAME.test(name)) problem(at, name, 'a CloudFormation stack name');
    const entry = (value ?? {}) as Record<string, unknown>;
    if (typeof entry.fingerprint !== 'string' || !HASH.test(entry.fingerprint)) {
      problem(`${at}.fingerprint`, entry.fingerprint, 'a SHA-256 in hex (64 characters)');
    }
    if (typeof entry.deployedAt !== 'string' || Number.isNaN(Date.parse(entry.deployedAt))) {
      problem(`${at}.deployedAt`, entry.deployedAt, 'an ISO 8601 date');
    }
    const inputs = entry.inputs;
    if (inputs !== undefined && (inputs === null || typeof inputs !== 'object' || Array.isArray(inputs))) {
      problem(`${at}.inputs`, inputs, 'an object of SHA-256 hashes (template, assets, platform, library)');
    }
    entries[name] = {
      fingerprint: String(entry.fingerprint),
      deployedAt: String(entry.deployedAt),
      ...(inputs && typeof inputs === 'object' ? { inputs: inputs as Partial<FingerprintInputs> } : {}),
    };
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return entries;
}
