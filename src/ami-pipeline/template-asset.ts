import { createHash, randomBytes } from 'crypto';
import {
  copyFileSync,
  linkSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'fs';
import { tmpdir } from 'os';
import { basename, dirname, join, relative } from 'path';
import { threadId } from 'worker_threads';
import { FileAssetPackaging, Names, Stack, Stage } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { Construct, IConstruct } from 'constructs';
import { PackerTemplate } from './packer-template';
import { AMI_PIPELINE_SCRIPTS } from './scripts';
import { storedZip } from '../config/zip';

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
 * Internal: the folder of this user's rendered templates, `cdk-paas-vending-<uid>` in the temporary folder, made
 * private (mode 0700) and checked at each use (`ownFolderIn`), so that one removed meanwhile (a cleaner of the
 * temporary folder) is never made again unchecked. Where the system has no user ids (Windows), `cdk-paas-vending` in
 * the user's own temporary folder.
 */
export function renderedTemplatesFolder(): string {
  return ownFolderIn(tmpdir());
}

/**
 * Internal: `cdk-paas-vending-<uid>` in `parent`, made private if it is not there. A folder of that name that is not
 * this user's own private folder is refused, with what to do: on a shared host another user could otherwise have
 * made it first and put other files where the asset is made from.
 */
export function ownFolderIn(parent: string): string {
  const uid = process.getuid?.();
  const folder = join(parent, uid === undefined ? 'cdk-paas-vending' : `cdk-paas-vending-${uid}`);
  const refuse = (what: string) =>
    new Error(
      `cdk-paas-vending: the folder for rendered Packer templates, ${folder}, ${what}; expected a folder ` +
        (uid === undefined
          ? 'of this user. Remove it.'
          : `of this user's (uid ${uid}) that no one else can read or write (mode 700). Remove it, or set TMPDIR to ` +
            'a folder of your own.'),
    );
  try {
    mkdirSync(folder, { recursive: true, mode: 0o700 });
  } catch (error) {
    // A file or a link (a dangling one too) in its place.
    const found = lstatSync(folder, { throwIfNoEntry: false });
    if (found?.isSymbolicLink()) throw refuse('is a symbolic link');
    if (found && !found.isDirectory()) throw refuse('is not a folder');
    throw error;
  }
  if (uid !== undefined) {
    const found = lstatSync(folder);
    if (found.isSymbolicLink()) throw refuse('is a symbolic link');
    if (!found.isDirectory()) throw refuse('is not a folder');
    // The group's and others' bits (the last two octal digits of the mode) must be clear.
    if (found.uid !== uid || found.mode % 0o100 !== 0) {
      throw refuse(`belongs to uid ${found.uid} with mode ${(found.mode % 0o1000).toString(8).padStart(3, '0')}`);
    }
  }
  return folder;
}

/**
 * Writes the rendered template and the bake's scripts to a directory named by their content (the scripts' too, so
 * that two versions of the library never share a directory), in the user's own folder (`renderedTemplatesFolder`).
 * The scripts, the same for every environment, are hard links to the package's files where the file system allows
 * it (a copy otherwise): the directory holds the same bytes either way. The asset is made from it only where
 * packerTemplateAsset writes nothing into the cloud assembly (staging off, no App). A rendered file that already holds its content is left as it is: its modification time stays, so
 * aws-cdk-lib's cache of fingerprints (by inode, modification time and size) knows it again.
 */
export function templateDirectory(template: PackerTemplate): string {
  const files = template.files();
  const scripts = bakeScripts();
  const digest = createHash('sha256').update(JSON.stringify(files)).update(scripts.digest).digest('hex').slice(0, 32);
  const directory = join(renderedTemplatesFolder(), `packer-${digest}`);
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

/** The Packer template asset: where the pipeline's S3 source action finds it. */
export interface PackerTemplateAsset {
  /** The bucket of the stack synthesizer's file assets. */
  readonly bucket: s3.IBucket;
  /** The key of the archive in that bucket: `<assetHash>.zip`. */
  readonly s3ObjectKey: string;
  /** aws-cdk-lib's hash of the asset's files (its fingerprint of their folder). */
  readonly assetHash: string;
}

/**
 * The Packer template asset of `template`: the rendered files and the bake's scripts, one zip archive the pipeline's
 * S3 source action reads. Where aws-cdk-lib stages assets (in an App or a Stage, staging on), the archive is written
 * straight into the cloud assembly, as the one file `asset.<hash>.zip`, and registered with the stack's synthesizer
 * as a file asset; `hash` is aws-cdk-lib's fingerprint of a folder of those files (`fingerprintOfFiles`, computed
 * from their content in memory), so the S3 key, `<hash>.zip`, and with it the template, are what an `Asset` of the
 * folder gives. One file per environment instead of a folder of seven that aws-cdk-lib then reads again to
 * fingerprint it, and nothing for the CDK CLI to zip at deploy time. The archive is made beside its place and renamed
 * into it, so that it is never there half written; one already there (an earlier synthesis into the same assembly)
 * is kept when it holds these bytes, replaced otherwise. Elsewhere (staging off, no App) the asset is aws-cdk-lib's
 * own `Asset` of the folder of `templateDirectory`, as it always was: same hash, same key.
 */
export function packerTemplateAsset(scope: Construct, id: string, template: PackerTemplate): PackerTemplateAsset {
  const stage = Stage.of(scope);
  if (!stage || scope.node.tryGetContext(cxapi.DISABLE_ASSET_STAGING_CONTEXT)) {
    return new s3assets.Asset(scope, id, { path: templateDirectory(template) });
  }
  const scripts = bakeScripts();
  const files = new Map<string, { content: Buffer; mode?: number }>(scripts.files);
  for (const file of template.files()) files.set(file.fileName, { content: Buffer.from(file.content) });
  const salt = scope.node.tryGetContext(ASSET_HASH_SALT);
  const hash = fingerprintOfFiles(files, salt ? `${salt}` : undefined);
  const names = [...files.keys()].sort(codeUnitOrder);
  const archive = storedZip(names.map((name) => ({ name, ...files.get(name)! })));
  const target = join(stage.assetOutdir, `asset.${hash}.zip`);
  writeArchive(scope, target, archive);

  // What aws-cdk-lib's Asset registers, under the same construct path: the same manifest entry's name and bucket.
  const asset = new Construct(scope, id);
  const stack = Stack.of(scope);
  const location = stack.synthesizer.addFileAsset({
    packaging: FileAssetPackaging.FILE,
    sourceHash: hash,
    fileName: relative(Stage.of(stack)?.outdir ?? stage.outdir, target),
    displayName: Names.stackRelativeConstructPath(asset),
  });
  const bucket = s3.Bucket.fromBucketAttributes(asset, 'AssetBucket', {
    bucketName: location.bucketName,
    encryptionKey: location.kmsKeyArn ? kms.Key.fromKeyArn(asset, 'Key', location.kmsKeyArn) : undefined,
  });
  return { bucket, s3ObjectKey: location.objectKey, assetHash: hash };
}

function codeUnitOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Writes `archive` to `target` unless it holds those bytes already: beside it first, then renamed over it. */
function writeArchive(scope: IConstruct, target: string, archive: Buffer): void {
  const existing = statSync(target, { throwIfNoEntry: false });
  if (existing?.isFile() && existing.size === archive.length && readFileSync(target).equals(archive)) return;
  const temporary = join(
    dirname(target),
    `.${basename(target)}.${process.pid}-${threadId}-${randomBytes(6).toString('hex')}`,
  );
  try {
    writeFileSync(temporary, archive);
    renameSync(temporary, target);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw new Error(
      `${scope.node.path}: the Packer template asset could not be written to the cloud assembly at ${target} ` +
        `(${(error as Error).message}); expected a folder this process can write a file into`,
    );
  }
}

/** Field separators of aws-cdk-lib's fingerprint (start of heading, start of text, end of text). */
const FIELD = { start: '\x01', text: '\x02', end: '\x03' };
/** aws-cdk-lib reads a file in chunks of this size, deciding text or binary on the first. */
const CHUNK = 8 * 1024;

/**
 * Internal: the hash aws-cdk-lib's `FileSystem.fingerprint` gives a folder holding these files (names without a
 * folder, no links), with the options an asset of default options passes (symbolic links followed when external,
 * `extraHash` the context's salt), computed from their content. A test holds it equal to aws-cdk-lib's own on the
 * same files (and so the S3 key of `packerTemplateAsset` equal to that of an `Asset` of their folder); were it ever
 * not, the asset would still be right, its key only another content hash than aws-cdk-lib's.
 */
export function fingerprintOfFiles(
  files: ReadonlyMap<string, { readonly content: Buffer }>,
  extraHash?: string,
): string {
  const hash = createHash('sha256');
  const field = (header: string, value: string) =>
    hash.update(FIELD.start).update(header).update(FIELD.text).update(value).update(FIELD.end);
  field('options.extra', extraHash ?? '');
  field('options.follow', 'external');
  for (const name of [...files.keys()].sort(codeUnitOrder)) {
    field(`file:${name}`, contentFingerprint(files.get(name)!.content));
  }
  return hash.digest('hex');
}

/**
 * A file's content as aws-cdk-lib fingerprints it: `size:sha256`, binary when its first chunk holds a zero byte,
 * otherwise text read chunk by chunk with CRLF counted as LF (a chunk ending in CR waits for the next).
 */
function contentFingerprint(content: Buffer): string {
  const hash = createHash('sha256');
  let size = 0;
  let binary = false;
  let pending = '';
  for (let at = 0; at < content.length; at += CHUNK) {
    const chunk = content.subarray(at, at + CHUNK);
    if (size === 0) binary = chunk.indexOf(0) !== -1;
    if (binary) {
      size += chunk.length;
      hash.update(chunk);
      continue;
    }
    const text = chunk.toString();
    if (text.endsWith('\r')) {
      pending += text;
      continue;
    }
    const data = Buffer.from((pending + text).replace(/\r\n/g, '\n'));
    pending = '';
    size += data.length;
    hash.update(data);
  }
  if (pending) hash.update(Buffer.from(pending));
  return `${size}:${hash.digest('hex')}`;
}
