/**
 * Runs a CodeBuild buildspec's commands locally, as CodeBuild runs them: the phases in order, the commands of a
 * phase one after the other in one bash shell (what one exports, the next sees), the phase stopped at the first
 * command that fails. On PATH, before the machine's own:
 * - `aws`: a fake that appends each call's arguments to `calls.jsonl`, and acts out `s3 sync` and `s3 cp` on a local
 *   folder that stands for S3 (`s3/<bucket>/<key>`); other calls (codepipeline) only succeed;
 * - `npm`: a fake that records its call (the fleet repository's dependencies are this checkout's);
 * - `npx`: `npx --no paas-vending ARGS` runs this checkout's command from its sources (scripts/ts-register.js), and
 *   with `FAKE_DEPLOY` set, stands in for `paas-vending deploy` (which needs AWS) as that file says.
 */
import { spawnSync } from 'child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';

const ROOT = join(__dirname, '..', '..');

/** The fake AWS CLI: records, and copies for s3 sync/cp. */
const FAKE_AWS = `
const fs = require('fs');
const path = require('path');
const args = process.argv.slice(2);
fs.appendFileSync(process.env.FAKE_CALLS, JSON.stringify(args) + '\\n');
const local = (p) => (p.startsWith('s3://') ? path.join(process.env.FAKE_S3, p.slice(5)) : p);
if (args[0] === 's3' && (args[1] === 'sync' || args[1] === 'cp')) {
  const [from, to] = args.slice(2).filter((a) => !a.startsWith('--'));
  const source = local(from);
  if (!fs.existsSync(source)) {
    if (args[1] === 'cp') { console.error('The user-provided path ' + from + ' does not exist.'); process.exit(1); }
    process.exit(0); // sync from an empty prefix copies nothing
  }
  fs.mkdirSync(path.dirname(local(to)), { recursive: true });
  fs.cpSync(source, local(to), { recursive: true });
}
`;

const FAKE_NPM = `
const fs = require('fs');
fs.appendFileSync(process.env.FAKE_CALLS, JSON.stringify(['npm', ...process.argv.slice(2)]) + '\\n');
`;

/**
 * The fake npx. With FAKE_DEPLOY (a JSON file) set, \`paas-vending deploy\` writes the files it lists (paths relative
 * to the working folder, such as the state's templates), writes \`--report\`'s file with its \`report\`, records the
 * call and exits with its \`exit\`.
 */
const FAKE_NPX = `
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const args = process.argv.slice(2);
if (args[0] !== '--no' || args[1] !== 'paas-vending') { console.error('fake npx: unexpected ' + args.join(' ')); process.exit(127); }
const command = args.slice(2);
if (command[0] === 'deploy' && process.env.FAKE_DEPLOY) {
  const fake = JSON.parse(fs.readFileSync(process.env.FAKE_DEPLOY, 'utf-8'));
  fs.appendFileSync(process.env.FAKE_CALLS, JSON.stringify(['paas-vending', ...command]) + '\\n');
  for (const [file, text] of Object.entries(fake.writes || {})) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
  }
  const report = command.indexOf('--report');
  if (report !== -1 && fake.report !== undefined) fs.writeFileSync(command[report + 1], JSON.stringify(fake.report));
  process.exit(fake.exit || 0);
}
const result = spawnSync(process.execPath, ['-r', ${JSON.stringify(join(ROOT, 'scripts', 'ts-register.js'))}, ${JSON.stringify(
  join(ROOT, 'src', 'cli', 'main.ts'),
)}, ...command], { stdio: 'inherit' });
process.exit(result.status === null ? 1 : result.status);
`;

/** What a run did. */
export interface BuildRun {
  /** The exit status of the build: 0 when every phase passed. */
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
  /** Every call of the fakes, in order: `aws …` calls as their arguments, `['npm', …]`, `['paas-vending', 'deploy', …]`. */
  readonly calls: string[][];
  /** The exported variables' values at the end of the build. */
  readonly exported: Record<string, string>;
}

/** A working folder for a build, its fake S3, and the fakes on PATH. */
export class BuildHarness {
  public readonly root = mkdtempSync(join(tmpdir(), 'fleet-buildspec-'));
  /** The fleet repository's checkout: the build's working folder. */
  public readonly work = join(this.root, 'work');
  /** The local folder that stands for S3: `s3/<bucket>/<key>`. */
  public readonly s3 = join(this.root, 's3');
  private readonly bin = join(this.root, 'bin');
  private readonly callsFile = join(this.root, 'calls.jsonl');

  constructor() {
    for (const dir of [this.work, this.s3, this.bin]) mkdirSync(dir, { recursive: true });
    for (const [name, source] of Object.entries({ aws: FAKE_AWS, npm: FAKE_NPM, npx: FAKE_NPX })) {
      const file = join(this.bin, name);
      writeFileSync(file, `#!${process.execPath}\n${source}`);
      chmodSync(file, 0o755);
    }
  }

  /** Runs the buildspec's phases in `work`, with these variables (CodeBuild's, the project's and the action's). */
  public run(spec: any, env: Record<string, string>, fakeDeploy?: unknown): BuildRun {
    writeFileSync(this.callsFile, '');
    const exportedFile = join(this.root, 'exported.json');
    const exportedNames: string[] = spec.env?.['exported-variables'] ?? [];
    const phases = ['install', 'pre_build', 'build', 'post_build'].filter((p) => spec.phases?.[p]);
    const lines: string[] = [`cd ${JSON.stringify(this.work)}`];
    for (const phase of phases) {
      // runtime-versions is CodeBuild's choice of installed runtime: this machine's Node.js stands for it.
      for (const [i, command] of (spec.phases[phase].commands ?? []).entries()) {
        lines.push(
          `${command}`,
          `__rc=$?; if [ $__rc -ne 0 ]; then echo "[harness] ${phase} command ${i + 1} failed with $__rc" >&2; exit $__rc; fi`,
        );
      }
    }
    lines.push(
      `${process.execPath} -e 'const o={};for(const n of process.argv.slice(1))o[n]=process.env[n]??"";require("fs").writeFileSync(${JSON.stringify(
        exportedFile,
      )},JSON.stringify(o))' ${exportedNames.join(' ')}`,
    );
    const fakeFile = join(this.root, 'fake-deploy.json');
    if (fakeDeploy !== undefined) writeFileSync(fakeFile, JSON.stringify(fakeDeploy));
    const result = spawnSync('bash', ['-c', lines.join('\n')], {
      encoding: 'utf-8',
      env: {
        ...process.env,
        ...env,
        PATH: `${this.bin}:${process.env.PATH}`,
        FAKE_CALLS: this.callsFile,
        FAKE_S3: this.s3,
        ...(fakeDeploy !== undefined ? { FAKE_DEPLOY: fakeFile } : { FAKE_DEPLOY: '' }),
      },
      maxBuffer: 64 * 1024 * 1024,
      timeout: 600_000,
    });
    const calls = readFileSync(this.callsFile, 'utf-8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l));
    const exported = existsSync(exportedFile) ? JSON.parse(readFileSync(exportedFile, 'utf-8')) : {};
    return { status: result.status ?? 1, stdout: result.stdout, stderr: result.stderr, calls, exported };
  }
}
