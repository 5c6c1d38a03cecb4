/*
 * vending-app-env, the script user data installs on every instance, run for real with bash and the AWS CLI against
 * moto: it writes the environment's settings and declared secrets (decrypted) to the env file, mode 0600, in a form
 * a shell reads back exactly; it fails, naming the command that puts it, when a declared secret is missing; and it
 * reads nothing of another environment.
 */
import { spawnSync } from 'child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { ParameterType, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { appEnvScript, EnvironmentPaths } from '../../src/web-tier/logs-and-settings';
import { MotoServer, startMoto } from '../support/moto';
import { toolPath } from '../support/tools';

const VENV_BIN = join(__dirname, '..', '..', '.venv', 'bin');

let moto: MotoServer;
let ssm: SSMClient;
let dir: string;
let script: string;

beforeAll(async () => {
  moto = await startMoto();
  ssm = new SSMClient({ ...moto.clientConfig });
  dir = mkdtempSync(join(tmpdir(), 'app-env-'));
  script = join(dir, 'vending-app-env');
  writeFileSync(script, appEnvScript(new EnvironmentPaths('acme', 'staging'), 'eu-west-1'));
});
afterAll(async () => {
  ssm?.destroy();
  await moto?.stop();
});
beforeEach(async () => moto.reset());

function aws(args: string[]) {
  const result = spawnSync(join(VENV_BIN, 'aws'), args, { encoding: 'utf8', env: { ...process.env, ...moto.env } });
  if (result.status !== 0) throw new Error(`aws ${args.join(' ')} failed: ${result.stderr}`);
  return result.stdout;
}

/** Puts a parameter (through the SDK: quicker than the CLI, which also fetches a value that looks like a URL). */
async function put(name: string, value: string, type: ParameterType = 'String', keyId?: string) {
  await ssm.send(new PutParameterCommand({ Name: name, Value: value, Type: type, KeyId: keyId }));
}

function run(output: string) {
  return spawnSync('bash', [script, '--output', output, '--owner', process.env.USER ?? String(process.getuid!())], {
    encoding: 'utf8',
    // The script calls `aws` and `python3` from PATH, as on the instance.
    env: { ...process.env, ...moto.env, PATH: `${VENV_BIN}:${process.env.PATH}` },
  });
}

/** The env file as a shell reads it: each variable's value. */
function sourced(file: string, names: string[]): Record<string, string> {
  const printed = names.map((n) => `printf '%s\\0' "$${n}"`).join('; ');
  const result = spawnSync('bash', ['-c', `set -a; . '${file}'; ${printed}`], { encoding: 'utf8', env: {} });
  const values = result.stdout.split('\0');
  return Object.fromEntries(names.map((n, i) => [n, values[i]]));
}

test('the script passes bash -n and shellcheck', () => {
  expect(spawnSync('bash', ['-n', script], { encoding: 'utf8' }).status).toBe(0);
  const lint = spawnSync(toolPath('shellcheck'), ['--shell=bash', '--severity=style', script], { encoding: 'utf8' });
  expect(lint.stdout).toBe('');
  expect(lint.status).toBe(0);
});

test('settings and declared secrets, decrypted, in a 0600 env file that a shell reads back exactly', async () => {
  // The secrets as the README says to put them: SecureString with a customer managed key.
  const key = JSON.parse(aws(['kms', 'create-key'])).KeyMetadata.KeyId;
  await put('/vending/acme/staging/settings/API_URL', 'https://api.example.com/v1?a=1&b=2');
  await put('/vending/acme/staging/settings/GREETING', 'it\'s a "test" $HOME `id` \\n');
  await put('/vending/acme/staging/secret-names', 'API_TOKEN,DB_PASSWORD', 'StringList');
  aws([
    'ssm',
    'put-parameter',
    '--name',
    '/vending/acme/staging/secrets/API_TOKEN',
    '--value',
    's3cr3t',
    '--type',
    'SecureString',
    '--key-id',
    key,
  ]);
  await put('/vending/acme/staging/secrets/DB_PASSWORD', "p'w", 'SecureString', key);
  // Another environment's, and an undeclared secret of this one: not written.
  await put('/vending/acme/production/settings/API_URL', 'https://production.example.com');
  await put('/vending/acme/staging/secrets/UNDECLARED', 'x', 'SecureString', key);

  const file = join(dir, 'app.env');
  const result = run(file);
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
  expect(statSync(file).mode.toString(8).slice(-3)).toBe('600');
  expect(
    readFileSync(file, 'utf8')
      .split('\n')
      .map((l) => l.split('=')[0]),
  ).toEqual(['API_TOKEN', 'API_URL', 'DB_PASSWORD', 'GREETING', '']);
  expect(sourced(file, ['API_TOKEN', 'API_URL', 'DB_PASSWORD', 'GREETING'])).toEqual({
    API_TOKEN: 's3cr3t',
    API_URL: 'https://api.example.com/v1?a=1&b=2',
    DB_PASSWORD: "p'w",
    GREETING: 'it\'s a "test" $HOME `id` \\n',
  });
});

test('no settings and no secrets: an empty env file', () => {
  const file = join(dir, 'empty.env');
  const result = run(file);
  expect(result.status).toBe(0);
  expect(readFileSync(file, 'utf8')).toBe('');
});

test('a declared secret nobody put: fails, names the put-parameter command, and leaves the env file as it was', async () => {
  const file = join(dir, 'kept.env');
  writeFileSync(file, "OLD='1'\n");
  await put('/vending/acme/staging/secret-names', 'API_TOKEN', 'StringList');
  const result = run(file);
  expect(result.status).toBe(1);
  expect(result.stderr).toContain(
    'vending-app-env: secret /vending/acme/staging/secrets/API_TOKEN is missing; put it with: aws ssm put-parameter ' +
      '--name /vending/acme/staging/secrets/API_TOKEN --type SecureString --key-id <platform key>',
  );
  expect(readFileSync(file, 'utf8')).toBe("OLD='1'\n");
});

test('more than ten secrets are read in batches', async () => {
  const names = [...Array(12).keys()].map((i) => `S${i}`);
  await put('/vending/acme/staging/secret-names', names.join(','), 'StringList');
  for (const name of names) await put(`/vending/acme/staging/secrets/${name}`, `v-${name}`, 'SecureString');
  const file = join(dir, 'many.env');
  const result = run(file);
  expect(result.stderr).toBe('');
  expect(sourced(file, names)).toEqual(Object.fromEntries(names.map((n) => [n, `v-${n}`])));
});

test('an unknown argument is refused with the usage', () => {
  const result = spawnSync('bash', [script, '--bogus'], { encoding: 'utf8' });
  expect(result.status).toBe(2);
  expect(result.stderr).toBe('vending-app-env: unknown argument --bogus; expected --owner USER or --output FILE\n');
});
