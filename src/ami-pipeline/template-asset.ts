import { createHash } from 'crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  linkSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'fs';
import { tmpdir } from 'os';
import { basename, dirname, join } from 'path';
import { FileSystem, Stage } from 'aws-cdk-lib';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { IConstruct } from 'constructs';
import { PackerTemplate } from './packer-template';
import { AMI_PIPELINE_SCRIPTS } from './scripts';
import { linkOrCopy } from '../config/atomic-write';

/** The bake's scripts (content and mode) and a digest of their names and contents, read once per process. */
let packageScripts:
  { names: string[]; digest: string; files: Map<string, { content: Buffer; mode: number }> } | undefined;

function bakeScripts(): NonNullable<typeof packageScripts> {
  if (!packageScripts) {
    const names = readdirSync(AMI_PIPELINE_SCRIPTS).filter((name) => name.endsWith('.sh'));
    const hash = createHash('sha256');
    const files = new Map<string, { content: Buffer; mode: number }>();
    for (const name of names) {
      const content = readFileSync(join(AMI_PIPELINE_SCRIPTS, name));
      files.set(name, { content, mode: statSync(join(AMI_PIPELINE_SCRIPTS, name)).mode % 0o1000 });
      hash.update(name).update('\0').update(content);
    }
    packageScripts = { names, digest: hash.digest('hex'), files };
  }
  return packageScripts;
}

/**
 * Writes the rendered template and the bake's scripts to a directory named by their content (the scripts' too, so
 * that two versions of the library never share a directory). The scripts, the same for every environment, are hard
 * links to the package's files where the file system allows it (a copy otherwise): the directory holds the same
 * bytes either way. It reaches the cloud assembly through prestageTemplateDirectory (or aws-cdk-lib's copy where
 * that puts nothing there), never as links of the package's files. A rendered file that
 * already holds its content is left as it is: its modification time stays, so aws-cdk-lib's cache of fingerprints
 * (by inode, modification time and size) knows it again and is not rewritten, as in every later synthesis.
 */
export function templateDirectory(template: PackerTemplate): string {
  const files = template.files();
  const scripts = bakeScripts();
  const digest = createHash('sha256').update(JSON.stringify(files)).update(scripts.digest).digest('hex').slice(0, 32);
  const directory = join(tmpdir(), 'cdk-paas-vending', `packer-${digest}`);
  mkdirSync(directory, { recursive: true });
  for (const file of files) writeUnlessSame(join(directory, file.fileName), file.content);
  for (const script of scripts.names) placeScript(join(AMI_PIPELINE_SCRIPTS, script), join(directory, script));
  return directory;
}

/** Writes `content` to `file` unless the file holds it already. */
function writeUnlessSame(file: string, content: string): void {
  const existing = statSync(file, { throwIfNoEntry: false });
  if (existing?.size === Buffer.byteLength(content) && readFileSync(file, 'utf-8') === content) return;
  writeFileSync(file, content);
}

/**
 * The package's script at `target`, as a hard link: nothing to do when the target already is that link; otherwise
 * the link is made beside the directory and renamed over the target, so that the directory never misses the file
 * nor holds a stray one (synthesis in other processes may fingerprint the same directory at the same time). A copy
 * where links fail (another file system, no permission).
 */
function placeScript(source: string, target: string): void {
  const original = statSync(source);
  const existing = statSync(target, { throwIfNoEntry: false });
  if (existing && existing.ino === original.ino && existing.dev === original.dev) return;
  const link = join(dirname(dirname(target)), `.link-${process.pid}`);
  try {
    rmSync(link, { force: true });
    linkSync(source, link);
    renameSync(link, target);
  } catch {
    copyFileSync(source, target);
  } finally {
    // Left behind when the rename did nothing: another process had linked the target in the meantime.
    rmSync(link, { force: true });
  }
}

/** aws-cdk-lib's context key that salts every asset's hash (AssetStaging adds it to the fingerprint). */
const ASSET_HASH_SALT = '@aws-cdk/core:assetHashSalt';

/**
 * Puts the template's directory into the cloud assembly where aws-cdk-lib's AssetStaging stages a directory asset,
 * `asset.<fingerprint>` in the assembly's asset folder, its rendered files as hard links (copies where links fail)
 * and the bake's scripts as copies: AssetStaging finds the folder there and stages nothing. The
 * fingerprint is aws-cdk-lib's own (FileSystem.fingerprint, with the options AssetStaging passes for this asset), so
 * the folder, the asset's hash and the templates are what they were; `confirmStaged` removes the folder should
 * AssetStaging have computed another hash. The folder is made beside its place and renamed into it, so that it is
 * never there half made. Undefined when nothing was put there: staging off (`cdk synth --no-staging`), no App or
 * Stage, the folder there already, or the file system refused.
 */
export function prestageTemplateDirectory(scope: IConstruct, directory: string): string | undefined {
  const stage = Stage.of(scope);
  if (!stage || scope.node.tryGetContext(cxapi.DISABLE_ASSET_STAGING_CONTEXT)) return undefined;
  const salt = scope.node.tryGetContext(ASSET_HASH_SALT);
  const hash = FileSystem.fingerprint(directory, {
    exclude: ['.is_custom_resource'],
    ...(salt ? { extraHash: `${salt}` } : {}),
  });
  const target = join(stage.assetOutdir, `asset.${hash}`);
  if (existsSync(target)) return undefined;
  const temporary = join(stage.assetOutdir, `.asset.${hash}.${process.pid}`);
  try {
    rmSync(temporary, { recursive: true, force: true });
    mkdirSync(temporary, { recursive: true });
    // The bake's scripts are hard links to the package's own files there: written from their content, read once
    // (cheaper than a file system copy, measured), so that nothing written into the assembly's folder can reach the
    // installed package. The rendered files, the directory's own, are linked.
    const scripts = bakeScripts().files;
    for (const name of readdirSync(directory)) {
      const script = scripts.get(name);
      if (script) {
        writeFileSync(join(temporary, name), script.content);
        // The package's mode exactly, as a copy keeps it (the umask would narrow a mode given to writeFileSync).
        chmodSync(join(temporary, name), script.mode);
      } else {
        linkOrCopy(join(directory, name), join(temporary, name));
      }
    }
    renameSync(temporary, target);
    return target;
  } catch {
    // AssetStaging copies the directory as it always did.
    rmSync(temporary, { recursive: true, force: true });
    return undefined;
  }
}

/**
 * After the asset: the folder prestageTemplateDirectory made, removed unless it is the one AssetStaging staged (an
 * aws-cdk-lib that fingerprints differently would otherwise leave a folder of no asset in the assembly).
 */
export function confirmStaged(prestaged: string | undefined, assetHash: string): void {
  if (prestaged !== undefined && basename(prestaged) !== `asset.${assetHash}`) {
    rmSync(prestaged, { recursive: true, force: true });
  }
}
