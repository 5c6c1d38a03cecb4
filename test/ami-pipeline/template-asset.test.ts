/**
 * The directory the Packer template asset is staged from: the rendered files and the bake's scripts, byte for byte
 * the package's, whatever an earlier synthesis left in it.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { dirname, join } from 'path';
import { App, Stack, Stage } from 'aws-cdk-lib';
import { Asset } from 'aws-cdk-lib/aws-s3-assets';
import { PackerBaseImage, PackerTemplate } from '../../src/ami-pipeline/packer-template';
import { AMI_PIPELINE_SCRIPTS } from '../../src/ami-pipeline/scripts';
import { confirmStaged, prestageTemplateDirectory, templateDirectory } from '../../src/ami-pipeline/template-asset';

const SCRIPTS = readdirSync(AMI_PIPELINE_SCRIPTS)
  .filter((name) => name.endsWith('.sh'))
  .sort();

function template(customer: string): PackerTemplate {
  return new PackerTemplate({
    customer,
    environment: 'staging',
    baseImage: PackerBaseImage.fromSsmParameter(
      '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64',
    ),
  });
}

function expectPackageContent(directory: string, rendered: PackerTemplate): void {
  expect(readdirSync(directory).sort()).toEqual([...SCRIPTS, ...rendered.files().map((file) => file.fileName)].sort());
  for (const file of rendered.files()) expect(readFileSync(join(directory, file.fileName), 'utf8')).toBe(file.content);
  for (const script of SCRIPTS) {
    const staged = join(directory, script);
    expect(readFileSync(staged)).toEqual(readFileSync(join(AMI_PIPELINE_SCRIPTS, script)));
    // Executable as the package's are (the bake runs them).
    expect(statSync(staged).mode).toBe(statSync(join(AMI_PIPELINE_SCRIPTS, script)).mode);
  }
}

describe('templateDirectory', () => {
  test('holds the rendered template and every script of the package, and nothing else', () => {
    const rendered = template('asset-a');
    const directory = templateDirectory(rendered);
    expectPackageContent(directory, rendered);
    // Named by content: another customer's template has a directory of its own, the same one gives the same.
    expect(templateDirectory(template('asset-b'))).not.toBe(directory);
    expect(templateDirectory(template('asset-a'))).toBe(directory);
    expectPackageContent(directory, rendered);
    // No link left beside the directories.
    expect(readdirSync(dirname(directory)).filter((name) => name.startsWith('.link-'))).toEqual([]);
  });

  test('replaces what an earlier synthesis or a user left in place of a script, without touching the package', () => {
    const rendered = template('asset-c');
    const directory = templateDirectory(rendered);
    const stale = join(directory, 'bake.sh');
    const packaged = readFileSync(join(AMI_PIPELINE_SCRIPTS, 'bake.sh'));
    // A file of its own (not the package's), as an older version of the library copied it, with other content.
    rmSync(stale);
    writeFileSync(stale, '#!/bin/bash\necho stale\n');
    expect(templateDirectory(rendered)).toBe(directory);
    expectPackageContent(directory, rendered);
    expect(readFileSync(join(AMI_PIPELINE_SCRIPTS, 'bake.sh'))).toEqual(packaged);
    // A script missing from the directory comes back.
    rmSync(join(directory, 'install-packer.sh'));
    templateDirectory(rendered);
    expect(existsSync(join(directory, 'install-packer.sh'))).toBe(true);
    expectPackageContent(directory, rendered);
  });

  test('leaves a rendered file that holds its content as it is, and rewrites one that does not', () => {
    const rendered = template('asset-d');
    const directory = templateDirectory(rendered);
    const [plugins, build] = rendered.files().map((file) => join(directory, file.fileName));
    const written = statSync(build, { bigint: true }).mtimeNs;
    // Left as it is: the modification time aws-cdk-lib's cache of fingerprints knows it by stays.
    templateDirectory(rendered);
    expect(statSync(build, { bigint: true }).mtimeNs).toBe(written);
    // Rewritten: other content of the same size, a shorter file, a missing one.
    const content = readFileSync(build, 'utf8');
    writeFileSync(
      build,
      content.replace(/[a-z]/, (c) => (c === 'x' ? 'y' : 'x')),
    );
    writeFileSync(plugins, 'truncated');
    templateDirectory(rendered);
    expectPackageContent(directory, rendered);
    rmSync(build);
    templateDirectory(rendered);
    expectPackageContent(directory, rendered);
  });
});

describe('prestageTemplateDirectory', () => {
  const appWith = (context: Record<string, unknown> = {}) => {
    const app = new App({ outdir: mkdtempSync(join(tmpdir(), 'prestage-')), context });
    return { app, stack: new Stack(app, 'Stack') };
  };

  test("puts the directory where aws-cdk-lib stages it, as links of its files: the asset's hash and folder as before", () => {
    const rendered = template('asset-e');
    const directory = templateDirectory(rendered);
    const { app, stack } = appWith();
    const prestaged = prestageTemplateDirectory(stack, directory);
    const asset = new Asset(stack, 'Asset', { path: directory });
    confirmStaged(prestaged, asset.assetHash);
    // The hash aws-cdk-lib gives the same directory in an App where nothing was put in place beforehand.
    const { stack: other } = appWith();
    expect(asset.assetHash).toBe(new Asset(other, 'Asset', { path: directory }).assetHash);
    expect(prestaged).toBe(join(app.assetOutdir, `asset.${asset.assetHash}`));
    expectPackageContent(prestaged!, rendered);
    // The rendered files are links of the directory's; the scripts copies, never links of the package's own files
    // (something written into the assembly must not reach the installed package).
    for (const file of rendered.files()) {
      expect(statSync(join(prestaged!, file.fileName)).ino).toBe(statSync(join(directory, file.fileName)).ino);
    }
    for (const script of SCRIPTS) {
      expect([script, statSync(join(prestaged!, script)).ino]).not.toEqual([
        script,
        statSync(join(AMI_PIPELINE_SCRIPTS, script)).ino,
      ]);
    }
    // Nothing half made left beside it; a second call finds it there and puts nothing.
    expect(readdirSync(app.assetOutdir).filter((name) => name.startsWith('.asset.'))).toEqual([]);
    expect(prestageTemplateDirectory(stack, directory)).toBeUndefined();
  });

  test('with the asset hash salt of the context, the same hash as aws-cdk-lib', () => {
    const directory = templateDirectory(template('asset-f'));
    const { stack } = appWith({ '@aws-cdk/core:assetHashSalt': 'salt-1' });
    const prestaged = prestageTemplateDirectory(stack, directory);
    const asset = new Asset(stack, 'Asset', { path: directory });
    expect(prestaged).toBe(join(Stage.of(stack)!.assetOutdir, `asset.${asset.assetHash}`));
  });

  test('puts nothing where staging is off, and removes a folder that is not the one aws-cdk-lib staged', () => {
    const directory = templateDirectory(template('asset-g'));
    const { stack: off } = appWith({ 'aws:cdk:disable-asset-staging': true });
    expect(prestageTemplateDirectory(off, directory)).toBeUndefined();
    const { app, stack } = appWith();
    const prestaged = prestageTemplateDirectory(stack, directory);
    expect(existsSync(prestaged!)).toBe(true);
    confirmStaged(prestaged, 'another-hash');
    expect(existsSync(prestaged!)).toBe(false);
    expect(readdirSync(app.assetOutdir).filter((name) => name.startsWith('asset.'))).toEqual([]);
    confirmStaged(undefined, 'another-hash');
  });

  test('a file that cannot be linked nor copied: nothing put in place, nothing left, aws-cdk-lib stages as before', () => {
    // A folder inside the directory: neither a link nor a file copy of it can be made.
    const directory = mkdtempSync(join(tmpdir(), 'prestage-source-'));
    writeFileSync(join(directory, 'a.txt'), 'a');
    mkdirSync(join(directory, 'nested'));
    const { app, stack } = appWith();
    expect(prestageTemplateDirectory(stack, directory)).toBeUndefined();
    expect(readdirSync(app.assetOutdir).filter((name) => /^\.?asset\./.test(name))).toEqual([]);
    const asset = new Asset(stack, 'Asset', { path: directory });
    expect(existsSync(join(app.assetOutdir, `asset.${asset.assetHash}`, 'a.txt'))).toBe(true);
  });
});
