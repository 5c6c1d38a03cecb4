import { createHash } from 'crypto';
import {
  copyFileSync,
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
import { dirname, join } from 'path';
import { PackerTemplate } from './packer-template';
import { AMI_PIPELINE_SCRIPTS } from './scripts';

/** The bake's scripts and a digest of their names and contents, read once per process (the package's files). */
let packageScripts: { names: string[]; digest: string } | undefined;

function bakeScripts(): { names: string[]; digest: string } {
  if (!packageScripts) {
    const names = readdirSync(AMI_PIPELINE_SCRIPTS).filter((name) => name.endsWith('.sh'));
    const hash = createHash('sha256');
    for (const name of names) {
      hash
        .update(name)
        .update('\0')
        .update(readFileSync(join(AMI_PIPELINE_SCRIPTS, name)));
    }
    packageScripts = { names, digest: hash.digest('hex') };
  }
  return packageScripts;
}

/**
 * Writes the rendered template and the bake's scripts to a directory named by their content (the scripts' too, so
 * that two versions of the library never share a directory). The scripts, the same for every environment, are hard
 * links to the package's files where the file system allows it (a copy otherwise): the directory holds the same
 * bytes either way, and aws-cdk-lib stages it into the cloud assembly by copying, as before. A rendered file that
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
