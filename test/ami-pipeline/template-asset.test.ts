/**
 * The directory the Packer template asset is staged from: the rendered files and the bake's scripts, byte for byte
 * the package's, whatever an earlier synthesis left in it.
 */
import * as fs from 'fs';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'fs';
import { tmpdir } from 'os';
import { dirname, join } from 'path';
import { App, FileSystem, Stack } from 'aws-cdk-lib';
import { Asset } from 'aws-cdk-lib/aws-s3-assets';
import { PackerBaseImage, PackerTemplate } from '../../src/ami-pipeline/packer-template';
import { AMI_PIPELINE_SCRIPTS } from '../../src/ami-pipeline/scripts';
import {
  confirmStaged,
  fingerprintOfFiles,
  ownFolderIn,
  renderedTemplatesFolder,
  templateAssetSource,
  templateDirectory,
} from '../../src/ami-pipeline/template-asset';

// renameSync and symlinkSync made to fail once where a test says so (a file system that refuses the folder written
// into the assembly, or the link to it).
jest.mock('fs', () => {
  const actual = jest.requireActual('fs');
  return { ...actual, renameSync: jest.fn(actual.renameSync), symlinkSync: jest.fn(actual.symlinkSync) };
});

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

describe('fingerprintOfFiles', () => {
  /** aws-cdk-lib's own fingerprint of a folder holding `files`, with the options an asset passes. */
  const cdkFingerprint = (files: Map<string, { content: Buffer }>, extraHash?: string) => {
    const folder = mkdtempSync(join(tmpdir(), 'fingerprint-'));
    try {
      for (const [name, file] of files) writeFileSync(join(folder, name), file.content);
      return FileSystem.fingerprint(folder, { exclude: ['.is_custom_resource'], ...(extraHash ? { extraHash } : {}) });
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  };
  const filesOf = (entries: Record<string, string | Buffer>) =>
    new Map(Object.entries(entries).map(([name, content]) => [name, { content: Buffer.from(content) }]));

  test("gives aws-cdk-lib's hash of the template's folder, with and without the context's salt", () => {
    const directory = templateDirectory(template('fingerprint-a'));
    const files = new Map(
      readdirSync(directory).map((name) => [name, { content: readFileSync(join(directory, name)) }]),
    );
    expect(fingerprintOfFiles(files)).toBe(FileSystem.fingerprint(directory, { exclude: ['.is_custom_resource'] }));
    expect(fingerprintOfFiles(files, 'salt-1')).toBe(cdkFingerprint(files, 'salt-1'));
    expect(fingerprintOfFiles(files, 'salt-1')).not.toBe(fingerprintOfFiles(files));
  });

  test('reads content as aws-cdk-lib does: CRLF as LF, binary as it is, chunk edges, names in code-unit order', () => {
    const chunk = 8 * 1024;
    const cases = filesOf({
      'crlf.txt': 'a\r\nb\r\n',
      'empty.txt': '',
      'binary.bin': Buffer.from([0, 13, 10, 1, 2]),
      // A chunk that ends in CR waits for the next; a CR LF split by the chunk edge is counted as LF.
      'edge-cr.txt': `${'x'.repeat(chunk - 1)}\r\n${'y'.repeat(10)}`,
      'ends-cr.txt': `${'x'.repeat(chunk - 1)}\r`,
      // A character of two bytes across the chunk edge (aws-cdk-lib decodes each chunk apart).
      'utf8-edge.txt': `${'x'.repeat(chunk - 1)}é tail`,
      // Text in its first chunk and a zero byte later: text.
      'late-zero.txt': Buffer.concat([Buffer.from('t'.repeat(chunk)), Buffer.from([0, 65])]),
      // A first chunk ending in CR, then a chunk with a zero byte: decided on the second (nothing counted yet).
      'cr-then-zero.bin': Buffer.concat([Buffer.from(`${'x'.repeat(chunk - 1)}\r`), Buffer.from([0, 1, 2])]),
      // Two chunks in a row ending in CR, then the rest.
      'cr-cr.txt': `${'x'.repeat(chunk - 1)}\r${'y'.repeat(chunk - 1)}\r\nend`,
      'B-upper.txt': 'B',
      'a-lower.txt': 'a',
    });
    expect(fingerprintOfFiles(cases)).toBe(cdkFingerprint(cases));
    // Each file counts: a change to any one gives another hash.
    for (const name of cases.keys()) {
      const changed = new Map(cases);
      changed.set(name, { content: Buffer.concat([cases.get(name)!.content, Buffer.from('!')]) });
      expect([name, fingerprintOfFiles(changed)]).toEqual([name, cdkFingerprint(changed)]);
      expect([name, fingerprintOfFiles(changed)]).not.toEqual([name, fingerprintOfFiles(cases)]);
    }
  });
});

describe('templateAssetSource', () => {
  const appWith = (context: Record<string, unknown> = {}) => {
    const app = new App({ outdir: mkdtempSync(join(tmpdir(), 'asset-source-')), context });
    return { app, stack: new Stack(app, 'Stack') };
  };
  const leftovers = (app: App) => readdirSync(app.assetOutdir).filter((name) => /^\.(asset|packer)/.test(name));
  /** The asset's hash and folder when aws-cdk-lib stages the template's folder of the temporary folder itself. */
  const stagedByCdk = (rendered: PackerTemplate) => {
    const { app, stack } = appWith();
    const asset = new Asset(stack, 'Asset', { path: templateDirectory(rendered) });
    return { hash: asset.assetHash, folder: join(app.assetOutdir, `asset.${asset.assetHash}`) };
  };

  test("writes the folder where aws-cdk-lib stages it: the asset's hash and folder as a copy gives them", () => {
    const rendered = template('asset-e');
    const { app, stack } = appWith();
    const source = templateAssetSource(stack, rendered);
    const asset = new Asset(stack, 'Asset', { path: source.path });
    confirmStaged(source, asset.assetHash);
    const expected = stagedByCdk(rendered);
    expect(asset.assetHash).toBe(expected.hash);
    expect(source.prestaged).toBe(join(app.assetOutdir, `asset.${asset.assetHash}`));
    expectPackageContent(source.prestaged!, rendered);
    // The staged folder is the one written, not a copy of it: nothing else in the assembly.
    expect(readdirSync(app.assetOutdir).filter((name) => name.startsWith('asset.'))).toEqual([
      `asset.${asset.assetHash}`,
    ]);
    expect(lstatSync(source.prestaged!).isDirectory()).toBe(true);
    // The scripts are copies, never links of the package's own files (something written into the assembly must
    // not reach the installed package).
    for (const script of SCRIPTS) {
      const staged = statSync(join(source.prestaged!, script));
      const packaged = statSync(join(AMI_PIPELINE_SCRIPTS, script));
      expect([script, staged.dev, staged.ino]).not.toEqual([script, packaged.dev, packaged.ino]);
      expect([script, staged.nlink]).toEqual([script, 1]);
    }
    // Neither the link the asset was made from nor a half-made folder is left.
    expect(source.link).toBeDefined();
    expect(existsSync(source.link!)).toBe(false);
    expect(leftovers(app)).toEqual([]);
  });

  test("with the context's salt, the hash aws-cdk-lib gives; a second asset of the same template finds the folder", () => {
    const rendered = template('asset-f');
    const { app, stack } = appWith({ '@aws-cdk/core:assetHashSalt': 'salt-1' });
    const source = templateAssetSource(stack, rendered);
    const asset = new Asset(stack, 'Asset', { path: source.path });
    confirmStaged(source, asset.assetHash);
    expect(source.prestaged).toBe(join(app.assetOutdir, `asset.${asset.assetHash}`));
    const { stack: other } = appWith({ '@aws-cdk/core:assetHashSalt': 'salt-1' });
    expect(asset.assetHash).toBe(new Asset(other, 'Asset', { path: templateDirectory(rendered) }).assetHash);
    expect(asset.assetHash).not.toBe(stagedByCdk(rendered).hash);
    // The same template again (another stack of the App): the folder is there, nothing written, the same asset.
    const again = templateAssetSource(new Stack(app, 'Other'), rendered);
    expect(again.prestaged).toBeUndefined();
    // A link of its own (a name no other call uses), so that aws-cdk-lib fingerprints the folder again.
    expect(again.link).not.toBe(source.link);
    const second = new Asset(Stack.of(app.node.findChild('Other')), 'Asset', { path: again.path });
    confirmStaged(again, second.assetHash);
    expect(second.assetHash).toBe(asset.assetHash);
    expectPackageContent(source.prestaged!, rendered);
    expect(leftovers(app)).toEqual([]);
  });

  test('a folder already there with other files (a synthesis cut short, a hand edit) is replaced, not staged', () => {
    const rendered = template('asset-j');
    const expected = stagedByCdk(rendered);
    const { app, stack } = appWith();
    const stale = join(app.assetOutdir, `asset.${expected.hash}`);
    mkdirSync(stale, { recursive: true });
    writeFileSync(join(stale, 'build.pkr.hcl'), 'half written');
    const source = templateAssetSource(stack, rendered);
    expect(source.prestaged).toBe(stale);
    const asset = new Asset(stack, 'Asset', { path: source.path });
    confirmStaged(source, asset.assetHash);
    expect(asset.assetHash).toBe(expected.hash);
    expectPackageContent(stale, rendered);
    expect(readdirSync(app.assetOutdir)).toEqual([`asset.${expected.hash}`]);
  });

  test('another process puts other files at that folder meanwhile: a clear error, nothing staged from them', () => {
    const rendered = template('asset-k');
    const expected = stagedByCdk(rendered);
    const { app, stack } = appWith();
    const target = join(app.assetOutdir, `asset.${expected.hash}`);
    (fs.renameSync as jest.Mock).mockImplementationOnce(() => {
      mkdirSync(target, { recursive: true });
      writeFileSync(join(target, 'bake.sh'), 'not the package');
      throw Object.assign(new Error('ENOTEMPTY: directory not empty'), { code: 'ENOTEMPTY' });
    });
    expect(() => templateAssetSource(stack, rendered)).toThrow(
      `Stack: the cloud assembly's folder ${target} holds other files than the Packer template asset of that hash; ` +
        "expected the asset's files. Remove the folder and synthesize again.",
    );
    expect(leftovers(app)).toEqual([]);
  });

  test('an asset that could not be made: the link is removed, the folder written kept for a later synthesis', () => {
    const rendered = template('asset-l');
    const { app, stack } = appWith();
    const source = templateAssetSource(stack, rendered);
    confirmStaged(source, undefined);
    expect(existsSync(source.link!)).toBe(false);
    expectPackageContent(source.prestaged!, rendered);
    expect(leftovers(app)).toEqual([]);
  });

  test('staging off: the folder of the temporary folder, nothing written into the assembly', () => {
    const rendered = template('asset-g');
    const { app, stack } = appWith({ 'aws:cdk:disable-asset-staging': true });
    const source = templateAssetSource(stack, rendered);
    expect(source).toEqual({ path: templateDirectory(rendered) });
    expect(existsSync(app.assetOutdir) ? readdirSync(app.assetOutdir) : []).toEqual([]);
  });

  test('another hash from aws-cdk-lib: the folder written is removed, the asset is its own copy', () => {
    const rendered = template('asset-h');
    const { app, stack } = appWith();
    const source = templateAssetSource(stack, rendered);
    expect(existsSync(source.prestaged!)).toBe(true);
    confirmStaged(source, 'another-hash');
    expect(existsSync(source.prestaged!)).toBe(false);
    expect(readdirSync(app.assetOutdir)).toEqual([]);
  });

  test('a file system that refuses the folder or the link: the asset as aws-cdk-lib stages it, nothing left', () => {
    const rendered = template('asset-i');
    const expected = stagedByCdk(rendered);
    // The folder cannot be put in place: the asset is made from the temporary folder and copied as always.
    const refused = appWith();
    (fs.renameSync as jest.Mock).mockImplementationOnce(() => {
      throw Object.assign(new Error('EXDEV: cross-device link not permitted'), { code: 'EXDEV' });
    });
    {
      const source = templateAssetSource(refused.stack, rendered);
      expect(source).toEqual({ path: templateDirectory(rendered) });
      expect(leftovers(refused.app)).toEqual([]);
      const asset = new Asset(refused.stack, 'Asset', { path: source.path });
      expect(asset.assetHash).toBe(expected.hash);
      expectPackageContent(join(refused.app.assetOutdir, `asset.${asset.assetHash}`), rendered);
    }
    // The folder is written but no link can be made: the asset is made from the temporary folder and finds the
    // folder written.
    const noLink = appWith();
    (fs.symlinkSync as jest.Mock).mockImplementationOnce(() => {
      throw Object.assign(new Error('EPERM: operation not permitted, symlink'), { code: 'EPERM' });
    });
    const source = templateAssetSource(noLink.stack, rendered);
    expect(source).toEqual({
      path: templateDirectory(rendered),
      prestaged: join(noLink.app.assetOutdir, `asset.${expected.hash}`),
    });
    const asset = new Asset(noLink.stack, 'Asset', { path: source.path });
    confirmStaged(source, asset.assetHash);
    expect(asset.assetHash).toBe(expected.hash);
    expectPackageContent(source.prestaged!, rendered);
  });
});

describe('renderedTemplatesFolder', () => {
  test("is the user's own private folder", () => {
    const folder = renderedTemplatesFolder();
    expect(dirname(templateDirectory(template('own-folder')))).toBe(folder);
    const found = lstatSync(folder);
    expect(found.isDirectory()).toBe(true);
    if (process.getuid) {
      expect(folder).toBe(join(tmpdir(), `cdk-paas-vending-${process.getuid()}`));
      expect(found.uid).toBe(process.getuid());
      expect(found.mode % 0o100).toBe(0);
    }
  });

  test('refuses a folder of that name that others can write, or that is not a folder, and says what to do', () => {
    const uid = process.getuid?.();
    if (uid === undefined) return;
    const attempt = (setup: (folder: string) => void) => {
      const parent = mkdtempSync(join(tmpdir(), 'own-folder-'));
      const folder = join(parent, `cdk-paas-vending-${uid}`);
      setup(folder);
      try {
        return { taken: ownFolderIn(parent), message: '', folder };
      } catch (error) {
        return { taken: undefined, message: (error as Error).message, folder };
      }
    };
    const expected = (folder: string, what: string) =>
      `cdk-paas-vending: the folder for rendered Packer templates, ${folder}, ${what}; expected a folder of this ` +
      `user's (uid ${uid}) that no one else can read or write (mode 700). Remove it, or set TMPDIR to a folder of ` +
      'your own.';
    const shared = attempt((folder) => {
      mkdirSync(folder);
      chmodSync(folder, 0o777);
    });
    expect(shared.message).toBe(expected(shared.folder, `belongs to uid ${uid} with mode 777`));
    const readable = attempt((folder) => {
      mkdirSync(folder);
      // Set after the mkdir: the umask would narrow a mode given to it.
      chmodSync(folder, 0o750);
    });
    expect(readable.message).toBe(expected(readable.folder, `belongs to uid ${uid} with mode 750`));
    const linked = attempt((folder) => fs.symlinkSync(mkdtempSync(join(tmpdir(), 'own-target-')), folder));
    expect(linked.message).toBe(expected(linked.folder, 'is a symbolic link'));
    const file = attempt((folder) => writeFileSync(folder, 'x'));
    expect(file.message).toBe(expected(file.folder, 'is not a folder'));
    const dangling = attempt((folder) => fs.symlinkSync(join(tmpdir(), 'no-such-folder-of-own-folder'), folder));
    expect(dangling.message).toBe(expected(dangling.folder, 'is a symbolic link'));
    // Its own private folder, made or found, is taken.
    const own = attempt((folder) => mkdirSync(folder, { mode: 0o700 }));
    expect(own).toEqual({ taken: own.folder, message: '', folder: own.folder });
    const made = attempt(() => undefined);
    expect(made.taken).toBe(made.folder);
    expect(lstatSync(made.folder).mode % 0o1000).toBe(0o700);
  });
});
