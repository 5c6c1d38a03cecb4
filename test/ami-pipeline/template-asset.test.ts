/**
 * The directory the Packer template asset is staged from: the rendered files and the bake's scripts, byte for byte
 * the package's, whatever an earlier synthesis left in it.
 */
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'fs';
import { dirname, join } from 'path';
import { PackerBaseImage, PackerTemplate } from '../../src/ami-pipeline/packer-template';
import { AMI_PIPELINE_SCRIPTS } from '../../src/ami-pipeline/scripts';
import { templateDirectory } from '../../src/ami-pipeline/template-asset';

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
