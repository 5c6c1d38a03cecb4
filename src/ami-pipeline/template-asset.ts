import { createHash, randomBytes } from 'crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'fs';
import { tmpdir } from 'os';
import { basename, dirname, join } from 'path';
import { threadId } from 'worker_threads';
import { Stage } from 'aws-cdk-lib';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { IConstruct } from 'constructs';
import { PackerTemplate } from './packer-template';
import { AMI_PIPELINE_SCRIPTS } from './scripts';

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
 * templateAssetSource writes nothing into the cloud assembly (staging off, no App, a file system that refuses a
 * link). A rendered file that already holds its content is left as it is: its modification time stays, so
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

/** Where the Packer template asset is made from, and what was written into the cloud assembly for it. */
export interface TemplateAssetSource {
  /** The path to give the asset. */
  readonly path: string;
  /** The folder written into the cloud assembly (`asset.<hash>`); undefined when none was. */
  readonly prestaged?: string;
  /** A link to the prestaged folder that `path` names, removed by `confirmStaged`. */
  readonly link?: string;
}

/**
 * The folder the Packer template asset is made from. Where aws-cdk-lib stages assets (in an App or a Stage, staging
 * on), the rendered files and the bake's scripts are written straight into the cloud assembly, as the folder
 * `asset.<hash>` that AssetStaging would stage them to: the hash is aws-cdk-lib's fingerprint of those files,
 * computed from their content in memory (`fingerprintOfFiles`). The asset is made from a symbolic link to that
 * folder (aws-cdk-lib names a staged folder by its source's extension too, and `asset.<hash>` has one), so that
 * AssetStaging fingerprints the folder, finds it staged already and copies nothing: the asset's hash, its folder and
 * the templates are what a copy from anywhere else gives. `confirmStaged` removes the link, and the folder should
 * aws-cdk-lib have computed another hash (its copy, at its own hash, is then the asset). The folder is made beside
 * its place and renamed into it, so that it is never there half made, and the scripts are written from their
 * content: nothing in the assembly is a link of the package's files. A folder already there (an earlier synthesis
 * into the same assembly) is used when it holds exactly these files, and replaced when it does not; every name made
 * beside the assembly's folders is unique to its process, thread and call. Elsewhere (staging off, no App) the asset is
 * made from the folder of `templateDirectory`, as aws-cdk-lib always did; so it is where the file system refuses a
 * link (the folder in the assembly is then found there all the same).
 */
export function templateAssetSource(scope: IConstruct, template: PackerTemplate): TemplateAssetSource {
  const stage = Stage.of(scope);
  if (!stage || scope.node.tryGetContext(cxapi.DISABLE_ASSET_STAGING_CONTEXT)) {
    return { path: templateDirectory(template) };
  }
  const scripts = bakeScripts();
  const files = new Map<string, { content: Buffer; mode?: number }>(scripts.files);
  for (const file of template.files()) files.set(file.fileName, { content: Buffer.from(file.content) });
  const salt = scope.node.tryGetContext(ASSET_HASH_SALT);
  const hash = fingerprintOfFiles(files, salt ? `${salt}` : undefined);
  const target = join(stage.assetOutdir, `asset.${hash}`);
  let prestaged: string | undefined;
  if (!existsSync(target)) {
    prestaged = writeFolder(stage.assetOutdir, hash, files);
  } else if (!holds(target, files)) {
    // Left by an earlier synthesis that did not finish, or changed since: replaced, never staged from.
    removeAside(target);
    prestaged = writeFolder(stage.assetOutdir, hash, files);
  }
  if (prestaged === undefined) {
    // The file system refused: aws-cdk-lib stages the folder of the temporary folder as it always did.
    if (!existsSync(target)) return { path: templateDirectory(template) };
    // Another process put it there meanwhile; with other files, aws-cdk-lib would stage them at this hash.
    if (!holds(target, files)) {
      throw new Error(
        `${scope.node.path}: the cloud assembly's folder ${target} holds other files than the Packer template ` +
          "asset of that hash; expected the asset's files. Remove the folder and synthesize again.",
      );
    }
  }
  // No dot after the first character: the link has no extension for aws-cdk-lib to add to the staged folder's name.
  const link = join(stage.assetOutdir, `.packer-${hash}-${unique()}`);
  try {
    symlinkSync(basename(target), link, 'junction');
    return { path: link, prestaged, link };
  } catch {
    return { path: templateDirectory(template), prestaged };
  }
}

/** A suffix no other process, thread or call uses for a name beside the assembly's folders. */
function unique(): string {
  return `${process.pid}-${threadId}-${randomBytes(6).toString('hex')}`;
}

/** Whether `folder` holds exactly `files`, byte for byte. */
function holds(folder: string, files: ReadonlyMap<string, { readonly content: Buffer }>): boolean {
  try {
    const names = readdirSync(folder);
    return (
      names.length === files.size &&
      names.every((name) => {
        const expected = files.get(name)?.content;
        return expected !== undefined && readFileSync(join(folder, name)).equals(expected);
      })
    );
  } catch {
    return false;
  }
}

/** Removes a folder of the assembly: renamed aside first, so that no one ever reads it half removed. */
function removeAside(folder: string): void {
  const aside = join(dirname(folder), `.removed-${basename(folder)}-${unique()}`);
  try {
    renameSync(folder, aside);
  } catch {
    return;
  }
  rmSync(aside, { recursive: true, force: true });
}

/** Writes `files` as the folder `asset.<hash>` of `assetOutdir`, made beside it and renamed; undefined if refused. */
function writeFolder(
  assetOutdir: string,
  hash: string,
  files: ReadonlyMap<string, { readonly content: Buffer; readonly mode?: number }>,
): string | undefined {
  const target = join(assetOutdir, `asset.${hash}`);
  const temporary = join(assetOutdir, `.asset.${hash}.${unique()}`);
  try {
    mkdirSync(temporary, { recursive: true });
    for (const [name, file] of files) {
      writeFileSync(join(temporary, name), file.content);
      // The package's mode exactly, as a copy keeps it (the umask would narrow a mode given to writeFileSync).
      if (file.mode !== undefined) chmodSync(join(temporary, name), file.mode);
    }
    renameSync(temporary, target);
    return target;
  } catch {
    // Refused, or another process put the same folder there in the meantime.
    rmSync(temporary, { recursive: true, force: true });
    return undefined;
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
 * same files; were it ever not, the asset is still right (see `templateAssetSource`), only staged by a copy.
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
  for (const name of [...files.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
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

/**
 * After the asset: the link templateAssetSource made removed, and the folder it wrote into the assembly unless it is
 * the one AssetStaging staged (an aws-cdk-lib that fingerprints differently would otherwise leave a folder of no
 * asset in the assembly). `assetHash` undefined: the asset was not made (it threw); only the link is removed.
 */
export function confirmStaged(source: TemplateAssetSource, assetHash: string | undefined): void {
  if (source.link !== undefined) rmSync(source.link, { force: true });
  if (
    assetHash !== undefined &&
    source.prestaged !== undefined &&
    basename(source.prestaged) !== `asset.${assetHash}`
  ) {
    removeAside(source.prestaged);
  }
}
