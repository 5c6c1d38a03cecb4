/*
 * scripts/system-tools.sh, the first step of README's test command: on a machine that lacks a system tool the
 * tests run, it installs it with apt when it can, and otherwise stops before any test with one message that
 * names what to install. Run here with a PATH of stand-ins, so that nothing is installed for real.
 */
import { spawnSync } from 'child_process';
import { mkdtempSync, symlinkSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';

const SCRIPT = join(__dirname, '..', '..', 'scripts', 'system-tools.sh');
/** What the script and the stand-ins need from the system. */
const BASICS = ['bash', 'sed', 'head', 'tail', 'mktemp', 'rm', 'env', 'cat', 'dirname', 'chmod'];

function stub(dir: string, name: string, body: string): void {
  writeFileSync(join(dir, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
}

/** A bin directory with the basics and the given stand-ins, and the script's result run on it alone. */
function runWith(stubs: Record<string, string>) {
  const bin = mkdtempSync(join(tmpdir(), 'system-tools-'));
  for (const tool of BASICS) {
    const found = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf-8' }).stdout.trim();
    symlinkSync(found, join(bin, tool));
  }
  for (const [name, body] of Object.entries(stubs)) stub(bin, name, body);
  const result = spawnSync(join(bin, 'bash'), [SCRIPT], { encoding: 'utf-8', env: { PATH: bin } });
  return { status: result.status, out: result.stdout, err: result.stderr, bin };
}

const PRESENT = {
  packer: 'echo "Packer v1.6.6"',
  jq: 'echo jq-1.6',
  unzip: 'exit 0',
  curl: 'exit 0',
};

describe('scripts/system-tools.sh', () => {
  test('passes when every tool is there', () => {
    const result = runWith(PRESENT);
    expect(result.err).toBe('');
    expect(result.status).toBe(0);
    expect(result.out).toMatch(/packer 1\.6\.6, jq-1\.6, unzip and curl are installed/);
  });

  test('without apt-get, stops with one message that names every missing tool and how to install it', () => {
    const { packer: _packer, unzip: _unzip, ...rest } = PRESENT;
    const result = runWith(rest);
    expect(result.status).toBe(1);
    expect(result.out).toBe('');
    expect(result.err.trim().split('\n')).toHaveLength(1);
    expect(result.err).toMatch(/the tests need packer unzip, which are not installed/);
    expect(result.err).toMatch(/sudo apt-get install packer unzip/);
  });

  test('with apt-get (as root, or with passwordless sudo), installs the missing tools with it and checks again', () => {
    const { packer: _packer, ...rest } = PRESENT;
    // sudo stand-in, used when the tests do not run as root: runs its command.
    const sudo = 'if [ "$1" = -n ]; then shift; fi\nexec "$@"';
    // apt-get stand-in: records its arguments; "installs" packer by writing a stand-in beside itself.
    const apt = `echo "$@" >> "$(dirname "$0")/apt.log"\ncase "$*" in *install*) printf '#!/bin/sh\\necho "Packer v1.6.6"\\n' > "$(dirname "$0")/packer"; chmod +x "$(dirname "$0")/packer";; esac`;
    const result = runWith({ ...rest, 'apt-get': apt, sudo });
    expect(result.err).toBe('');
    expect(result.status).toBe(0);
    expect(result.out).toMatch(/installing packer with apt-get/);
    const log = spawnSync('cat', [join(result.bin, 'apt.log')], { encoding: 'utf-8' }).stdout;
    expect(log).toMatch(/update -qq/);
    expect(log).toMatch(/install -y -qq --no-install-recommends packer/);
  });

  test('refuses a packer other than 1.6, which the offline template checks need', () => {
    const result = runWith({ ...PRESENT, packer: 'echo "Packer v1.11.2"' });
    expect(result.status).toBe(1);
    expect(result.err).toMatch(/packer 1\.11\.2 is at .*; the tests need Debian's packer 1\.6\.x/);
  });
});
