/**
 * Helpers of the PackerTemplate tests: Debian's packer in a scratch build directory, and @cdktf/hcl2json.
 *
 * Debian's packer 1.6.6 is the Packer CI installs with apt (`apt-get install packer`). Its `packer validate`
 * decodes the amazon-ebs source and runs the builder's Prepare (value checks such as gp3's iops) without calling
 * AWS: it passes offline, with no credentials and no AWS setting at all, which is why runPacker() gives it an
 * environment of PATH, a scratch HOME and CHECKPOINT_DISABLE (no version check over the network) only.
 */
import { spawnSync } from 'child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { dirname, join } from 'path';
import { parse } from '@cdktf/hcl2json';
import { PackerTemplate } from '../../src/ami-pipeline/packer-template';

export interface PackerRun {
  readonly status: number | null;
  /** stdout and stderr together. */
  readonly output: string;
}

/** Runs Debian's packer; fails with install instructions when it is missing. */
export function runPacker(args: string[], cwd: string, input?: string): PackerRun {
  const result = spawnSync('packer', args, {
    cwd,
    input,
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: cwd, CHECKPOINT_DISABLE: '1' },
  });
  if (result.error) {
    throw new Error(
      `packer could not run (${result.error.message}): these tests need Debian's packer 1.6.6 on PATH ` +
        '(sudo apt-get install packer), as CI installs it',
    );
  }
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

/**
 * A scratch build directory: build.pkr.hcl only (Debian's packer rejects plugins.pkr.hcl, see PackerTemplate),
 * and a repository holding the provision scripts. `edit` changes the build file's text first.
 */
export function buildDir(
  template: PackerTemplate,
  scripts: string[],
  edit: (text: string) => string = (t) => t,
): string {
  const dir = mkdtempSync(join(tmpdir(), 'packer-template-'));
  writeFileSync(join(dir, template.buildFileName), edit(template.renderBuild()));
  for (const script of scripts) {
    mkdirSync(dirname(join(dir, 'repo', script)), { recursive: true });
    writeFileSync(join(dir, 'repo', script), '#!/bin/sh\nset -eu\n', { mode: 0o755 });
  }
  return dir;
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** A value for each variable a build may expect, as the pipeline would pass them. */
export function variableValues(dir: string, commitMessage = 'Fix the login page'): Record<string, string> {
  return {
    build_number: '42',
    commit_id: '0123456789abcdef0123456789abcdef01234567',
    commit_author: 'Jane Doe <jane@example.com>',
    commit_message: commitMessage,
    commit_time: '2024-05-01T12:00:00+02:00',
    region: 'eu-west-1',
    subnet_id: 'subnet-0123456789abcdef0',
    security_group_id: 'sg-0123456789abcdef0',
    source_ami: 'ami-0123456789abcdef0',
    repository_dir: join(dir, 'repo'),
    manifest_path: join(dir, 'manifest.json'),
  };
}

/** `-var name=value` for each name. */
export function varArgs(names: string[], values: Record<string, string>): string[] {
  return names.flatMap((name) => ['-var', `${name}=${values[name]}`]);
}

/**
 * Debian's packer 1.6.6 predates the amazon-ebs `metadata_options` block (IMDSv2 on the build instance):
 * the full validation runs on the file without it, after a test has shown that it is the only thing 1.6.6 refuses.
 */
export function withoutMetadataOptions(text: string): string {
  const stripped = text.replace(/\n {2}metadata_options \{\n( {4}.*\n)* {2}\}\n/, '\n');
  if (stripped === text) throw new Error('build.pkr.hcl has no metadata_options block to strip');
  return stripped;
}

/** The file parsed by @cdktf/hcl2json (HCL2 to Terraform-style JSON). */
export async function parseHcl(fileName: string, content: string): Promise<any> {
  return parse(fileName, content);
}

/**
 * The value of a string literal as hcl2json returns it. hcl2json answers in Terraform's JSON syntax, where a
 * string is a template: `$${` and `%%{` stand for a literal `${` and `%{`. A live `${` or `%{` (an
 * interpolation, which a literal must never become) fails.
 */
export function literal(parsed: unknown): string {
  if (typeof parsed !== 'string') throw new Error(`expected a string, received ${JSON.stringify(parsed)}`);
  return parsed.replace(/\$\$\{|%%\{|\$\{|%\{/g, (match) => {
    if (match.length === 2) throw new Error(`live template sequence ${match} in ${JSON.stringify(parsed)}`);
    return match.slice(1);
  });
}
