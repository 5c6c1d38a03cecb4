/**
 * Where the tests find the programs they run. Python tools (shellcheck among them) are in the project's .venv/,
 * which `npx projen python-tools` installs; system tools (packer, jq, unzip, curl) are on PATH, where
 * `npx projen system-tools` installs them. Both run first in `npx projen test`. A missing tool fails the test with
 * the command that installs it: a check never skips.
 */
import { spawnSync } from 'child_process';
import { existsSync } from 'fs';
import { join } from 'path';

const VENV_BIN = join(__dirname, '..', '..', '.venv', 'bin');

/** Python tools, from scripts/python-requirements.txt. */
const PYTHON_TOOLS = ['shellcheck', 'cfn-lint', 'aws'];

/** The path of a tool the tests run, or an error that says how to install it. */
export function toolPath(tool: string): string {
  if (PYTHON_TOOLS.includes(tool)) {
    const path = join(VENV_BIN, tool);
    if (!existsSync(path)) {
      throw new Error(`${path} is missing; run npx projen python-tools (npx projen test runs it first)`);
    }
    return path;
  }
  if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) {
    throw new Error(`${tool} is not installed; run npx projen system-tools (npx projen test runs it first)`);
  }
  return tool;
}
