/*
 * The shell scripts the AMI pipeline's bake runs (pipeline-scripts/ami/): bash syntax and shellcheck, the
 * manifest step on real Packer manifest shapes, and the checksum check of the Packer install, run for real.
 */
import { spawnSync } from 'child_process';
import { createHash } from 'crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { buildDir, removeDir, runPacker, variableValues, varArgs, withoutMetadataOptions } from './packer-fixture';
import { PackerBaseImage, PackerTemplate } from '../../src';
import { AMI_PIPELINE_SCRIPTS } from '../../src/ami-pipeline/scripts';
import { toolPath } from '../support/tools';

const SCRIPTS = readdirSync(AMI_PIPELINE_SCRIPTS).filter((name) => name.endsWith('.sh'));

function run(command: string, args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(command, args, { encoding: 'utf8', env: { ...process.env, ...env } });
  if (result.error) throw new Error(`${command} could not run: ${result.error.message}`);
  return result;
}

test('the bake runs four scripts', () => {
  expect(SCRIPTS.sort()).toEqual(['ami-from-manifest.sh', 'bake.sh', 'install-packer.sh', 'retain-images.sh']);
});

test.each(SCRIPTS)('%s passes bash -n and shellcheck', (script) => {
  const path = join(AMI_PIPELINE_SCRIPTS, script);
  const syntax = run('bash', ['-n', path]);
  expect(syntax.stderr).toBe('');
  expect(syntax.status).toBe(0);
  const lint = run(toolPath('shellcheck'), ['--shell=bash', '--severity=style', path]);
  expect(lint.stdout).toBe('');
  expect(lint.status).toBe(0);
});

describe('ami-from-manifest.sh', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ami-manifest-'));
  const RUN_1 = '6d1c3f0e-9a53-4c1e-8e3b-0b5f3f1d2a10';
  const RUN_2 = 'f2a7c9d4-1b6e-4f0a-9c8d-7e5b3a2c1d00';
  const entry = (run_: string, artifact: string, time: number) => ({
    name: 'web',
    builder_type: 'amazon-ebs',
    build_time: time,
    files: null,
    artifact_id: artifact,
    packer_run_uuid: run_,
    custom_data: { build_number: '7', commit_id: '3f2a1b0' },
  });

  function amiOf(manifest: unknown, region = 'eu-west-1') {
    const path = join(dir, `${createHash('sha1').update(JSON.stringify(manifest)).digest('hex')}.json`);
    writeFileSync(path, typeof manifest === 'string' ? manifest : JSON.stringify(manifest, null, 2));
    return run('bash', [join(AMI_PIPELINE_SCRIPTS, 'ami-from-manifest.sh'), path, region]);
  }

  beforeAll(() => toolPath('jq'));

  test('one build, one run', () => {
    const result = amiOf({ builds: [entry(RUN_1, 'eu-west-1:ami-0123456789abcdef0', 1)], last_run_uuid: RUN_1 });
    expect(result.stdout).toBe('ami-0123456789abcdef0\n');
    expect(result.status).toBe(0);
  });

  test('a manifest appended to by several runs: the last run counts, not the last line', () => {
    const result = amiOf({
      builds: [entry(RUN_2, 'eu-west-1:ami-0aaaaaaaaaaaaaaa2', 2), entry(RUN_1, 'eu-west-1:ami-0bbbbbbbbbbbbbbb1', 3)],
      last_run_uuid: RUN_2,
    });
    expect(result.stdout).toBe('ami-0aaaaaaaaaaaaaaa2\n');
  });

  test('a run that copied the image to several regions: the build region counts', () => {
    const manifest = {
      builds: [entry(RUN_1, 'us-east-1:ami-0ccccccccccccccc1,eu-west-1:ami-0ddddddddddddddd1', 1)],
      last_run_uuid: RUN_1,
    };
    expect(amiOf(manifest).stdout).toBe('ami-0ddddddddddddddd1\n');
    expect(amiOf(manifest, 'us-east-1').stdout).toBe('ami-0ccccccccccccccc1\n');
  });

  test.each<[string, unknown, RegExp]>([
    [
      'no image of the region',
      { builds: [entry(RUN_1, 'us-east-1:ami-0ccccccccccccccc1', 1)], last_run_uuid: RUN_1 },
      /no AMI of region eu-west-1 in the last run/,
    ],
    [
      'no build of the last run',
      { builds: [entry(RUN_1, 'eu-west-1:ami-0ccccccccccccccc1', 1)], last_run_uuid: RUN_2 },
      /no AMI of region eu-west-1/,
    ],
    [
      'a failed build without artifact',
      { builds: [{ ...entry(RUN_1, '', 1), artifact_id: null }], last_run_uuid: RUN_1 },
      /no AMI of region/,
    ],
    ['an empty file', '', /is missing or empty/],
    ['not JSON', '{"builds": [', /parse error|Unfinished JSON/i],
  ])('fails on %s', (_name, manifest, message) => {
    const result = amiOf(manifest);
    expect(result.status).not.toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(message);
  });
});

describe('install-packer.sh', () => {
  const releases = mkdtempSync(join(tmpdir(), 'packer-releases-'));
  const version = '9.8.7';
  const arch = process.arch === 'arm64' ? 'arm64' : 'amd64';
  let sha256 = '';

  beforeAll(() => {
    toolPath('unzip');
    // A release laid out as on releases.hashicorp.com, with a stand-in binary.
    const staging = mkdtempSync(join(tmpdir(), 'packer-binary-'));
    writeFileSync(join(staging, 'packer'), `#!/bin/sh\necho "Packer v${version}"\n`, { mode: 0o755 });
    mkdirSync(join(releases, version));
    const zip = join(releases, version, `packer_${version}_linux_${arch}.zip`);
    const zipped = run('python3', [
      '-c',
      'import sys, zipfile\nwith zipfile.ZipFile(sys.argv[1], "w") as z:\n  z.write(sys.argv[2], "packer")',
      zip,
      join(staging, 'packer'),
    ]);
    expect(zipped.status).toBe(0);
    sha256 = createHash('sha256').update(readFileSync(zip)).digest('hex');
  });

  function install(checksum: string) {
    const destination = mkdtempSync(join(tmpdir(), 'packer-bin-'));
    const result = run('bash', [join(AMI_PIPELINE_SCRIPTS, 'install-packer.sh'), version, checksum, destination], {
      PACKER_RELEASES_URL: `file://${releases}`,
    });
    return { result, binary: join(destination, 'packer') };
  }

  test('installs the release whose checksum matches', () => {
    const { result, binary } = install(sha256);
    expect(result.stderr).toContain(`Packer v${version}`);
    expect(result.status).toBe(0);
    expect(existsSync(binary)).toBe(true);
  });

  test('refuses a release whose checksum differs, and installs nothing', () => {
    const { result, binary } = install('0'.repeat(64));
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(
      `checksum mismatch for packer ${version} (${arch}): expected ${'0'.repeat(64)}, got ${sha256}`,
    );
    expect(existsSync(binary)).toBe(false);
  });

  test('fails when the release cannot be downloaded', () => {
    const result = run('bash', [join(AMI_PIPELINE_SCRIPTS, 'install-packer.sh'), '0.0.1', sha256, tmpdir()], {
      PACKER_RELEASES_URL: `file://${releases}`,
    });
    expect(result.status).not.toBe(0);
  });
});

describe("the example customer's provisioning script", () => {
  const repository = join(__dirname, '..', '..', 'examples', 'customer-app');
  const script = join(repository, 'packer', 'provision.sh');

  test('passes bash -n and shellcheck', () => {
    expect(run('bash', ['-n', script]).status).toBe(0);
    const lint = run(toolPath('shellcheck'), ['--shell=bash', '--severity=style', script]);
    expect(lint.stdout).toBe('');
  });

  test('is what the default template runs, and Packer validates the build against the example repository', () => {
    const template = new PackerTemplate({
      customer: 'acme',
      environment: 'production',
      baseImage: PackerBaseImage.fromSsmParameter(
        '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64',
      ),
    });
    const dir = buildDir(template, []);
    try {
      writeFileSync(join(dir, template.buildFileName), withoutMetadataOptions(template.renderBuild()));
      const values = { ...variableValues(dir), repository_dir: repository };
      const result = runPacker(['validate', ...varArgs(template.variables, values), '.'], dir);
      expect(result.output).toBe('');
      expect(result.status).toBe(0);
      // Without the script, Packer refuses the build: the check above is not vacuous.
      const empty = mkdtempSync(join(tmpdir(), 'empty-repo-'));
      const missing = runPacker(
        ['validate', ...varArgs(template.variables, { ...values, repository_dir: empty }), '.'],
        dir,
      );
      expect(missing.status).not.toBe(0);
      expect(missing.output).toContain('packer/provision.sh');
    } finally {
      removeDir(dir);
    }
  });
});

describe('bake.sh: the commit message of a source without Git history', () => {
  // Stand-ins on PATH: `aws` answers get-pipeline-execution as told (or is refused), `packer` records its -var
  // arguments and writes the manifest a real build writes.
  const bin = mkdtempSync(join(tmpdir(), 'bake-bin-'));
  const record = join(bin, 'packer-args');
  writeFileSync(
    join(bin, 'aws'),
    [
      '#!/usr/bin/env bash',
      'if [[ "$1 $2" == "codepipeline get-pipeline-execution" ]]; then',
      '  if [[ -n "${FAKE_AWS_DENY:-}" ]]; then',
      '    echo "An error occurred (AccessDeniedException) when calling the GetPipelineExecution operation" >&2; exit 254',
      '  fi',
      '  echo "$FAKE_REVISION_SUMMARY"; exit 0',
      'fi',
      'exit 1',
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
  writeFileSync(
    join(bin, 'packer'),
    [
      '#!/usr/bin/env bash',
      '[[ "$1" == "build" ]] || exit 0',
      'printf "%s\\n" "$@" > "$FAKE_PACKER_RECORD"',
      'for arg in "$@"; do [[ "$arg" == manifest_path=* ]] && manifest="${arg#manifest_path=}"; done',
      'printf \'{"builds":[{"artifact_id":"eu-west-1:ami-0123456789abcdef0","packer_run_uuid":"r1"}],"last_run_uuid":"r1"}\' > "$manifest"',
      '',
    ].join('\n'),
    { mode: 0o755 },
  );

  function bake(env: Record<string, string>) {
    const templateDir = mkdtempSync(join(tmpdir(), 'bake-template-'));
    for (const script of SCRIPTS) {
      writeFileSync(join(templateDir, script), readFileSync(join(AMI_PIPELINE_SCRIPTS, script)));
    }
    return run('bash', [join(templateDir, 'bake.sh')], {
      PATH: `${bin}:${process.env.PATH}`,
      TEMPLATE_DIR: templateDir,
      REPOSITORY_DIR: mkdtempSync(join(tmpdir(), 'bake-zip-source-')), // a zip: no .git
      BUILD_REGION: 'eu-west-1',
      SUBNET_ID: 'subnet-0123456789abcdef0',
      SECURITY_GROUP_ID: 'sg-0123456789abcdef0',
      BUILD_NUMBER: '7',
      KEEP_IMAGES: '3',
      PACKER_BUILD_TAG: 'acme-production',
      AMI_PARAMETER: '/vending/acme/production/ami-id',
      PIPELINE_NAME: 'acme-production-ami',
      PIPELINE_EXECUTION_ID: '0f5e1c2a-3b4d-4e6f-8a9b-0c1d2e3f4a5b',
      FAKE_PACKER_RECORD: record,
      ...env,
    });
  }

  beforeAll(() => toolPath('jq'));

  test('the revision summary of the pipeline execution reaches Packer as the commit message', () => {
    const result = bake({ FAKE_REVISION_SUMMARY: 'Fix the login page' });
    expect(result.stdout).toBe('ami-0123456789abcdef0\n');
    expect(result.status).toBe(0);
    expect(readFileSync(record, 'utf8').split('\n')).toContain('commit_message=Fix the login page');
  });

  test('a refused GetPipelineExecution fails the bake, saying what was refused, instead of an empty message', () => {
    const result = bake({ FAKE_AWS_DENY: '1', FAKE_REVISION_SUMMARY: '' });
    expect(result.status).not.toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('AccessDeniedException');
    expect(result.stderr).toContain(
      'bake: cannot read the commit message of pipeline execution 0f5e1c2a-3b4d-4e6f-8a9b-0c1d2e3f4a5b of acme-production-ami',
    );
  });
});
