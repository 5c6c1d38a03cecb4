/**
 * The directory the Packer template asset is staged from: the rendered files and the bake's scripts, byte for byte
 * the package's, whatever an earlier synthesis left in it.
 */
import { execFileSync } from 'child_process';
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
import {
  App,
  CfnOutput,
  DefaultStackSynthesizer,
  FileAssetLocation,
  FileAssetSource,
  FileSystem,
  Stack,
  Stage,
} from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { IBucket } from 'aws-cdk-lib/aws-s3';
import { Asset } from 'aws-cdk-lib/aws-s3-assets';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { PackerBaseImage, PackerTemplate } from '../../src/ami-pipeline/packer-template';
import { AMI_PIPELINE_SCRIPTS } from '../../src/ami-pipeline/scripts';
import {
  fingerprintOfFiles,
  ownFolderIn,
  packerTemplateAsset,
  renderedTemplatesFolder,
  templateDirectory,
} from '../../src/ami-pipeline/template-asset';
import { zipEntries } from '../../src/config/zip';

// renameSync made to fail once where a test says so (an assembly folder that refuses the archive).
jest.mock('fs', () => {
  const actual = jest.requireActual('fs');
  return { ...actual, renameSync: jest.fn(actual.renameSync) };
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

describe('packerTemplateAsset', () => {
  const appWith = (context: Record<string, unknown> = {}) => {
    const app = new App({ outdir: mkdtempSync(join(tmpdir(), 'asset-source-')), context });
    return { app, stack: new Stack(app, 'Stack') };
  };
  /** What in the assembly's folder is not an asset's nor a stack's: temporary files of a write. */
  const leftovers = (app: App) => readdirSync(app.assetOutdir).filter((name) => name.startsWith('.'));
  /** What a stack that uses the asset gives: the bucket read by a role, its key in an output. */
  const use = (stack: Stack, asset: { bucket: IBucket; s3ObjectKey: string }) => {
    const role = new Role(stack, 'Reader', { assumedBy: new ServicePrincipal('codebuild.amazonaws.com') });
    asset.bucket.grantRead(role);
    new CfnOutput(stack, 'Location', { value: `${asset.bucket.bucketName}/${asset.s3ObjectKey}` });
  };
  /** The stack's template, and the file assets of its asset manifest (the template itself left out). */
  const synthesized = (app: App, stack: Stack) => {
    const assembly = app.synth();
    const artifact = assembly.getStackByName(stack.stackName);
    const manifest = assembly.artifacts.find(
      (a) => a instanceof cxapi.AssetManifestArtifact && a.id === `${stack.artifactId}.assets`,
    ) as cxapi.AssetManifestArtifact;
    const files = Object.values<any>(JSON.parse(readFileSync(manifest.file, 'utf-8')).files).filter(
      (file) => file.source.path !== artifact.templateFile,
    );
    return { template: artifact.template, files, directory: assembly.directory };
  };
  /** The same stack with aws-cdk-lib's Asset of the template's folder, as the library made it before. */
  const withCdkAsset = (rendered: PackerTemplate, context: Record<string, unknown> = {}) => {
    const { app, stack } = appWith(context);
    const asset = new Asset(stack, 'PackerTemplate', { path: templateDirectory(rendered) });
    use(stack, asset);
    return { asset, ...synthesized(app, stack) };
  };
  /** An independent reader of the archive: Python's zipfile, which also checks every entry's CRC. */
  const pythonEntries = (archive: string) =>
    JSON.parse(
      execFileSync('python3', [
        '-c',
        'import json, sys, zipfile\n' +
          'z = zipfile.ZipFile(sys.argv[1])\n' +
          'assert z.testzip() is None\n' +
          'print(json.dumps([[i.filename, (i.external_attr >> 16) & 0o7777, z.read(i).hex()] for i in z.infolist()]))',
        archive,
      ]).toString(),
    ) as Array<[string, number, string]>;

  test('one archive where aws-cdk-lib stages assets, with the template, key and hash an Asset of the folder gives', () => {
    const rendered = template('asset-e');
    const { app, stack } = appWith();
    const asset = packerTemplateAsset(stack, 'PackerTemplate', rendered);
    use(stack, asset);
    const mine = synthesized(app, stack);
    const cdk = withCdkAsset(rendered);
    expect(asset.assetHash).toBe(cdk.asset.assetHash);
    expect(mine.template).toEqual(cdk.template);
    // The same destination and name in the asset manifest; the source is the archive instead of the folder.
    expect(mine.files).toHaveLength(1);
    expect({ ...mine.files[0], source: undefined }).toEqual({ ...cdk.files[0], source: undefined });
    expect(cdk.files[0].source).toEqual({ path: `asset.${asset.assetHash}`, packaging: 'zip' });
    expect(mine.files[0].source).toEqual({ path: `asset.${asset.assetHash}.zip`, packaging: 'file' });
    // The archive holds the folder's files: names, bytes and modes (the package's scripts keep theirs).
    const folder = join(cdk.directory, `asset.${asset.assetHash}`);
    const archive = join(mine.directory, `asset.${asset.assetHash}.zip`);
    const names = readdirSync(folder).sort();
    const expected = names.map((name) => [
      name,
      SCRIPTS.includes(name) ? statSync(join(AMI_PIPELINE_SCRIPTS, name)).mode % 0o10000 : 0o644,
      readFileSync(join(folder, name)).toString('hex'),
    ]);
    expect(pythonEntries(archive)).toEqual(expected);
    expect(zipEntries(readFileSync(archive)).map((e) => [e.name, e.mode, e.content.toString('hex')])).toEqual(expected);
    expectPackageContent(folder, rendered);
    // Nothing else in the assembly: no folder, no temporary file.
    expect(readdirSync(mine.directory).filter((name) => name.startsWith('asset.'))).toEqual([
      `asset.${asset.assetHash}.zip`,
    ]);
    expect(leftovers(app)).toEqual([]);
  });

  test("with the context's salt, the hash aws-cdk-lib gives; a second asset of the same template keeps the archive", () => {
    const rendered = template('asset-f');
    const context = { '@aws-cdk/core:assetHashSalt': 'salt-1' };
    const { app, stack } = appWith(context);
    const asset = packerTemplateAsset(stack, 'PackerTemplate', rendered);
    expect(asset.assetHash).toBe(withCdkAsset(rendered, context).asset.assetHash);
    expect(asset.assetHash).not.toBe(withCdkAsset(rendered).asset.assetHash);
    const archive = join(app.assetOutdir, `asset.${asset.assetHash}.zip`);
    const before = statSync(archive);
    const again = packerTemplateAsset(new Stack(app, 'Other'), 'PackerTemplate', rendered);
    expect(again.assetHash).toBe(asset.assetHash);
    // Not written again: the same file, untouched.
    const after = statSync(archive);
    expect([after.ino, after.mtimeMs]).toEqual([before.ino, before.mtimeMs]);
    expect(leftovers(app)).toEqual([]);
  });

  test('an archive already there with other bytes (a hand edit, another writer) is replaced', () => {
    const rendered = template('asset-j');
    const { app, stack } = appWith();
    const hash = withCdkAsset(rendered).asset.assetHash;
    mkdirSync(app.assetOutdir, { recursive: true });
    const archive = join(app.assetOutdir, `asset.${hash}.zip`);
    writeFileSync(archive, 'half written');
    packerTemplateAsset(stack, 'PackerTemplate', rendered);
    expect(zipEntries(readFileSync(archive)).map((e) => e.name)).toContain('build.pkr.hcl');
    expect(leftovers(app)).toEqual([]);
  });

  test('an assembly folder that refuses the archive: a clear error that names it, nothing left', () => {
    const rendered = template('asset-k');
    const { app, stack } = appWith();
    const hash = withCdkAsset(rendered).asset.assetHash;
    (fs.renameSync as jest.Mock).mockImplementationOnce(() => {
      throw Object.assign(new Error('EACCES: permission denied, rename'), { code: 'EACCES' });
    });
    const target = join(app.assetOutdir, `asset.${hash}.zip`);
    expect(() => packerTemplateAsset(stack, 'PackerTemplate', rendered)).toThrow(
      `Stack: the Packer template asset could not be written to the cloud assembly at ${target} (EACCES: permission ` +
        'denied, rename); expected a folder this process can write a file into',
    );
    expect(readdirSync(app.assetOutdir)).toEqual([]);
  });

  test("in a nested Stage, the archive is in the top assembly's folder and the manifest names it from the stage's", () => {
    const rendered = template('asset-m');
    const app = new App({ outdir: mkdtempSync(join(tmpdir(), 'asset-stage-')) });
    const inStage = (id: string) => new Stack(new Stage(app, id), 'Stack');
    const mine = inStage('Mine');
    packerTemplateAsset(mine, 'PackerTemplate', rendered);
    const cdk = inStage('Cdk');
    new Asset(cdk, 'PackerTemplate', { path: templateDirectory(rendered) });
    const assembly = app.synth();
    const sourceOf = (stage: string) => {
      const nested = assembly.getNestedAssembly(`assembly-${stage}`);
      const manifest = nested.artifacts.find(
        (a) => a instanceof cxapi.AssetManifestArtifact,
      ) as cxapi.AssetManifestArtifact;
      return Object.values<any>(JSON.parse(readFileSync(manifest.file, 'utf-8')).files)[0].source.path;
    };
    expect(sourceOf('Cdk')).toMatch(/^\.\.\/asset\.[0-9a-f]{64}$/);
    expect(sourceOf('Mine')).toBe(`${sourceOf('Cdk')}.zip`);
    expect(existsSync(join(assembly.directory, `${sourceOf('Mine').slice(3)}`))).toBe(true);
  });

  test("a synthesizer whose file assets are encrypted: the bucket's key, as an Asset has it", () => {
    const keyArn = 'arn:aws:kms:eu-west-1:123456789012:key/0d8b3b1e-2f1c-4a55-9a3b-4f1d2c3b4a5e';
    class Keyed extends DefaultStackSynthesizer {
      public addFileAsset(asset: FileAssetSource): FileAssetLocation {
        return { ...super.addFileAsset(asset), kmsKeyArn: keyArn };
      }
    }
    const rendered = template('asset-n');
    const build = (make: (stack: Stack) => { bucket: IBucket; s3ObjectKey: string }) => {
      const app = new App({ outdir: mkdtempSync(join(tmpdir(), 'asset-keyed-')) });
      const stack = new Stack(app, 'Stack', { synthesizer: new Keyed() });
      const asset = make(stack);
      expect(asset.bucket.encryptionKey?.keyArn).toBe(keyArn);
      use(stack, asset);
      return synthesized(app, stack).template;
    };
    const mine = build((stack) => packerTemplateAsset(stack, 'PackerTemplate', rendered));
    expect(mine).toEqual(build((stack) => new Asset(stack, 'PackerTemplate', { path: templateDirectory(rendered) })));
    expect(JSON.stringify(mine)).toContain('kms:Decrypt');
  });

  test("staging off: aws-cdk-lib's Asset of the folder of the temporary folder, nothing written into the assembly", () => {
    const rendered = template('asset-g');
    const { app, stack } = appWith({ 'aws:cdk:disable-asset-staging': true });
    const asset = packerTemplateAsset(stack, 'PackerTemplate', rendered);
    expect(asset).toBeInstanceOf(Asset);
    expect((asset as Asset).assetPath).toBe(templateDirectory(rendered));
    expect(existsSync(app.assetOutdir) ? readdirSync(app.assetOutdir) : []).toEqual([]);
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
