/*
 * README's "What a customer costs" shows the command's output on the example fleet: each figure it prints there is
 * the one the command prints today (a change to the estimate that leaves README behind fails here).
 */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { EXIT_OK, Io, run } from '../../src/cli/cli';

const ROOT = join(__dirname, '..', '..');
const FLEET = join(ROOT, 'examples', 'fleet');
const section = (() => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf-8');
  const start = readme.indexOf('## What a customer costs');
  return readme.slice(start, readme.indexOf('\n## ', start + 3));
})();
/** README's console blocks of the section, in order. */
const consoles = [...section.matchAll(/```console\n([\s\S]*?)```/g)].map((m) => m[1]);

function cli(argv: string[], cwd: string) {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = { out: (t) => out.push(t), err: (t) => err.push(t), cwd, env: { PAAS_VENDING_CACHE: 'off' } };
  const code = run(argv, io);
  expect(err.join('\n')).toBe('');
  expect(code).toBe(EXIT_OK);
  return out.join('\n');
}

/** The lines of `shown` but `...`, each found in `printed` once its runs of spaces are one. */
function expectShownIn(shown: string, printed: string) {
  const squeeze = (s: string) => s.replace(/\s+/g, ' ').trim();
  const lines = printed.split('\n').map(squeeze);
  for (const l of shown.split('\n').slice(1)) {
    if (l.trim() === '' || l.trim() === '...') continue;
    expect(lines).toContain(squeeze(l.replace(/\s+#.*$/, '')));
  }
}

test("README's estimate of acme-staging is the command's", () => {
  const block = consoles.find((c) => c.startsWith('$ paas-vending cost examples/fleet --stack acme-staging'));
  expect(block).toBeDefined();
  expectShownIn(block!, cli(['cost', 'examples/fleet', '--stack', 'acme-staging'], ROOT));
});

const WORDS = ['no', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten'];

test("README's fleet total is the command's", () => {
  const json = JSON.parse(cli(['cost', 'examples/fleet', '--json'], ROOT));
  const usd = (v: number) => Math.round(v).toLocaleString('en-US');
  expect(section).toContain(
    `On the example fleet's defaults the ${WORDS[json.environments.length]} ` +
      `environments come to ${usd(json.total.min)} to ${usd(json.total.max)} USD a month`,
  );
});

test("README's --diff example is what the command prints for the change it names", () => {
  const block = consoles.find((c) => c.startsWith('$ paas-vending cost --diff main'));
  expect(block).toBeDefined();
  // The change the example names: acme-staging from t3.micro, 1 to 2, to t3.small, 1 to 4.
  const changed = join(mkdtempSync(join(tmpdir(), 'cost-readme-')), 'fleet');
  cpSync(FLEET, changed, { recursive: true });
  const file = join(changed, 'customers', 'acme-staging.yaml');
  const text = readFileSync(file, 'utf-8');
  const before = 'compute: { instanceType: t3.micro, minCapacity: 1, maxCapacity: 2 }';
  expect(text).toContain(before);
  writeFileSync(file, text.replace(before, 'compute: { instanceType: t3.small, minCapacity: 1, maxCapacity: 4 }'));
  const printed = cli(['cost', changed, '--diff', FLEET], ROOT).replace(`against ${FLEET}`, 'against main');
  expectShownIn(block!, printed);
});
