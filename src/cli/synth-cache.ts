/*
 * The synthesized stacks of `paas-vending synth`, kept between runs: a stack whose inputs are unchanged is neither
 * constructed nor synthesized again; its files (template, asset manifest, metadata, asset folders), its artifacts of
 * manifest.json, its subtree of tree.json and its part of validation-report.json are taken from here, and the merge
 * (assembly-merge.ts) writes the same cloud assembly byte for byte as a synthesis of every stack.
 *
 * The key of a stack is a SHA-256 of everything its files depend on (keyOf below, and CONTRIBUTING.md "The cache of
 * synthesized stacks"):
 *   - the App's key: the library's version and a fingerprint of its code (every file of lib/, or src/ in a checkout),
 *     aws-cdk-lib's and constructs' versions, the App's context (the command's own keys, CDK_CONTEXT_JSON of the
 *     CDK CLI: cdk.json and -c), the validation setting (--validate; CDK_VALIDATION), the environment variables
 *     aws-cdk-lib reads while it synthesizes, the fleet directory and the current directory;
 *   - a customer stack: its resolved customer config, the resolved platform config and its placement entry;
 *   - the platform stack: the resolved platform config, the whole placement and what the platform reads of each
 *     customer (its name, ingress and certificate);
 *   - and, checked when an entry is read, the content of the library's asset folders its assets were staged from
 *     (assets/ of the handler bundles, pipeline-scripts/ of the AMI bake), recorded when the entry was written.
 *
 * Where: a folder per fleet directory in the cache folder of the validated configs (src/config/config-cache.ts:
 * $PAAS_VENDING_CACHE_DIR, else $XDG_CACHE_HOME/paas-vending, else ~/.cache/paas-vending), `synth-<hash>/`, one
 * folder per entry named by its key. An entry is written into a temporary folder and renamed into place, entry.json
 * last, so a crash leaves a temporary folder (removed later), never half an entry. An entry that cannot be read, is
 * not this format, or whose files changed since (size or modification time: the assembly's files are hard links of
 * the entry's where the file system allows) is a miss, and is removed. A cache never decides whether a run succeeds.
 *
 * Bound: after each run, entries not used for 7 days are removed, and the oldest beyond twice the fleet's stacks
 * plus 16 (a validated and an unvalidated synthesis of the fleet, and room for a few changes).
 *
 * Internal: not exported from src/index.ts.
 */
import { createHash, randomBytes } from 'crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'fs';
import { dirname, join, relative, resolve, sep } from 'path';
import { PACKAGE_ROOT } from './io';
import { linkOrCopy } from '../config/atomic-write';
import { cacheDirectory, cacheEnabled } from '../config/config-cache';
import { zipEntries } from '../config/zip';

/** The version of an entry's layout; another one is a miss. */
const FORMAT = 2;
/** The environment variable that turns this cache off alone (`off`); PAAS_VENDING_CACHE=off turns off both caches. */
export const SYNTH_CACHE_SWITCH = 'PAAS_VENDING_SYNTH_CACHE';
/** Entries unused for this long are removed. */
const MAX_AGE_MS = 7 * 24 * 3600 * 1000;
/** Temporary folders of writes that did not finish (a crash) are removed after this long. */
const TEMPORARY_AGE_MS = 3600 * 1000;
/** aws-cdk-lib's environment variables that change what a synthesis writes (CDK_CONTEXT_JSON is in the context). */
const SYNTH_VARIABLES = ['CDK_VALIDATION', 'CDK_DEFAULT_ACCOUNT', 'CDK_DEFAULT_REGION', 'CDK_DEBUG'];

export type Artifacts = [string, any][];

/** One stack as the cache holds it: what the merge needs of it, and where its files are. */
export interface CachedStack {
  readonly id: string;
  readonly key: string;
  /** Its artifacts of manifest.json (its asset manifest, then the stack), the platform's dependency left out. */
  readonly artifacts: Artifacts;
  /** Its node of tree.json, with every child, as the merge writes it (treeText), and how many nodes it holds. */
  readonly treeFile: string;
  readonly treeNodes: number;
  /** Its part of validation-report.json (a report of its own violations), or null when nothing was validated. */
  readonly report: any;
  /** The folder of its files, and the files and folders under it (paths relative to it, `/` separated). */
  readonly dir: string;
  readonly files: string[];
  readonly dirs: string[];
  /** What the command's table and checks read of its template, so that a cached template is not read again. */
  readonly facts: TemplateFacts;
}

/** The sections of a template the command counts (its table, CloudFormation's limits), and its size in bytes. */
export interface TemplateFacts {
  readonly resources: number;
  readonly outputs: number;
  readonly parameters: number;
  readonly bytes: number;
}

/** A template file's counts and size, read once (the split for the cache and the table both count this way). */
export function templateFactsOf(templateFile: string): TemplateFacts {
  const template = JSON.parse(readFileSync(templateFile, 'utf-8'));
  const count = (section: string) => Object.keys(template?.[section] ?? {}).length;
  return {
    resources: count('Resources'),
    outputs: count('Outputs'),
    parameters: count('Parameters'),
    bytes: statSync(templateFile).size,
  };
}

/** What every App of one key writes alike: the manifest's header and own artifacts, cdk.out, the tree's root. */
export interface CachedApp {
  readonly header: Record<string, unknown>;
  readonly artifacts: Artifacts;
  readonly cdkOut: string;
  /** tree.json's root node without children, and its children that are not stacks (Tree), in order. */
  readonly treeRoot: any;
  readonly treeOthers: [string, any][];
  readonly treeMaxNodes?: number;
}

/** The inputs a test replaces (a release of the library or of aws-cdk-lib, other asset folders). */
export interface SynthCacheInputs {
  readonly libraryVersion?: string;
  readonly cdkVersion?: string;
  /** The library's asset folders. @default assets/ and pipeline-scripts/ of the package */
  readonly assetRoots?: string[];
}

/** What a run took from the cache and what it built. */
export interface SynthCacheStats {
  /** The cache's folder of this fleet. */
  readonly folder: string;
  readonly built: string[];
  readonly cached: string[];
}

function sha256(...parts: string[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(`${part.length}:${part}`);
  return hash.digest('hex');
}

/** JSON with the keys of every object sorted: the same value gives the same text, whatever the order it was built in. */
export function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.keys(v)
            .sort()
            .map((k) => [k, v[k]]),
        )
      : v,
  );
}

function packageVersion(manifest: string): string {
  try {
    return String(JSON.parse(readFileSync(manifest, 'utf-8')).version);
  } catch {
    return 'unknown';
  }
}

function moduleVersion(name: string): string {
  try {
    return packageVersion(require.resolve(`${name}/package.json`));
  } catch {
    return 'unknown';
  }
}

/** Every file under a folder, relative to it (`/` separated), in name order; [] when it does not exist. */
function filesUnder(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch {
      return;
    }
    for (const name of names) {
      const path = join(dir, name);
      const stat = statSync(path);
      if (stat.isDirectory()) walk(path);
      else if (stat.isFile()) out.push(relative(root, path).split(sep).join('/'));
    }
  };
  walk(root);
  return out;
}

/** The hash of a folder's files (those `keep` keeps): names and content. */
function folderHash(root: string, keep: (file: string) => boolean = () => true): string {
  const hash = createHash('sha256');
  for (const file of filesUnder(root).filter(keep)) {
    hash.update(`${file}\u0000`);
    hash.update(readFileSync(join(root, file)));
    hash.update('\u0000');
  }
  return hash.digest('hex');
}

let codeFingerprint: string | undefined;

/**
 * The library's code: every file of the folder above this one but type declarations (lib/ of a package, src/ of a
 * checkout, whose version is always 0.0.0). Computed once per process.
 */
function libraryCode(): string {
  // Type declarations (.d.ts) of a package do not run.
  codeFingerprint ??= folderHash(join(__dirname, '..'), (file) => !file.endsWith('.d.ts'));
  return codeFingerprint;
}

/** The cache of synthesized stacks of one fleet directory (see the top of this file). */
export class SynthCache {
  /** The cache of a fleet directory, or undefined when it is off (PAAS_VENDING_CACHE or PAAS_VENDING_SYNTH_CACHE). */
  public static of(
    directory: string,
    env: NodeJS.ProcessEnv = process.env,
    inputs: SynthCacheInputs = {},
  ): SynthCache | undefined {
    const off = ['off', '0', 'false', 'no'].includes((env[SYNTH_CACHE_SWITCH] ?? '').trim().toLowerCase());
    if (off || !cacheEnabled(env)) return undefined;
    const folder = join(cacheDirectory(env), `synth-${sha256(resolve(directory)).slice(0, 24)}`);
    return new SynthCache(folder, resolve(directory), inputs);
  }

  private readonly assetRoots: string[];
  private readonly folderHashes = new Map<string, string>();
  private readonly used = new Set<string>();
  private contentIndex: Map<string, string[]> | undefined;

  private constructor(
    public readonly folder: string,
    private readonly directory: string,
    private readonly inputs: SynthCacheInputs,
  ) {
    this.assetRoots = (inputs.assetRoots ?? [join(PACKAGE_ROOT, 'assets'), join(PACKAGE_ROOT, 'pipeline-scripts')]).map(
      (root) => resolve(root),
    );
  }

  /** The key of the App every stack is built in: code, versions, context, validation, the variables aws-cdk-lib reads. */
  public appKey(context: Record<string, unknown>, validation: boolean | undefined): string {
    return sha256(
      String(FORMAT),
      this.inputs.libraryVersion ?? packageVersion(join(PACKAGE_ROOT, 'package.json')),
      libraryCode(),
      this.inputs.cdkVersion ?? moduleVersion('aws-cdk-lib'),
      moduleVersion('constructs'),
      stableJson(context),
      String(validation),
      // aws-cdk-lib reads them from the process's environment.
      stableJson(SYNTH_VARIABLES.map((name) => process.env[name] ?? null)),
      this.directory,
      process.cwd(),
    );
  }

  /** The key of a stack: the App's key, its id and what it is built from (a value written as stable JSON). */
  public stackKey(appKey: string, id: string, inputs: unknown): string {
    return sha256(appKey, id, stableJson(inputs));
  }

  /** The App's entry of this key, or undefined. */
  public lookupApp(appKey: string): CachedApp | undefined {
    const file = join(this.folder, `app-${appKey}.json`);
    try {
      const entry = JSON.parse(readFileSync(file, 'utf-8'));
      if (entry?.format !== FORMAT || entry.key !== appKey) return undefined;
      this.touch(file, `app-${appKey}.json`);
      return entry.app as CachedApp;
    } catch {
      return undefined;
    }
  }

  /** Keeps the App's entry of this key. */
  public storeApp(appKey: string, app: CachedApp): void {
    const name = `app-${appKey}.json`;
    this.used.add(name);
    if (existsSync(join(this.folder, name))) return;
    try {
      mkdirSync(this.folder, { recursive: true });
      const temporary = join(this.folder, `.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
      writeFileSync(temporary, JSON.stringify({ format: FORMAT, key: appKey, app }));
      renameSync(temporary, join(this.folder, name));
    } catch {
      // A cache that cannot be written costs the next run its time, nothing else.
    }
  }

  /**
   * The stack kept under `key`, or undefined: no entry, one of another format or stack, one whose files changed
   * since it was written, or one whose library asset folders changed (a corrupt entry is removed).
   */
  public lookup(key: string, id: string): CachedStack | undefined {
    const dir = join(this.folder, key);
    const file = join(dir, 'entry.json');
    let entry: any;
    try {
      entry = JSON.parse(readFileSync(file, 'utf-8'));
    } catch {
      if (existsSync(dir)) this.remove(key);
      return undefined;
    }
    try {
      if (entry?.format !== FORMAT || entry.key !== key || entry.id !== id) throw new Error('another entry');
      if (typeof entry.treeNodes !== 'number' || !statSync(join(dir, 'tree.json')).isFile()) throw new Error('no tree');
      for (const [root, hash] of Object.entries<string>(entry.assetInputs ?? {})) {
        if (this.hashOf(root) !== hash) throw new Error(`${root} changed`); // its stack is built again
      }
      const files = join(dir, 'files');
      for (const [path, size, mtimeMs] of entry.files as [string, number, number][]) {
        const stat = statSync(join(files, path));
        if (!stat.isFile() || stat.size !== size || stat.mtimeMs !== mtimeMs) throw new Error(`${path} changed`);
      }
      this.touch(file, key);
      return {
        id,
        key,
        artifacts: entry.artifacts,
        treeFile: join(dir, 'tree.json'),
        treeNodes: entry.treeNodes,
        report: entry.report,
        dir: files,
        files: (entry.files as [string][]).map(([path]) => path),
        dirs: entry.dirs,
        facts: entry.facts,
      };
    } catch {
      this.remove(key);
      return undefined;
    }
  }

  /**
   * Keeps a stack built in the cloud assembly folder `partDir`: its files (hard links where the file system allows,
   * else copies), its artifacts, subtree and report, written into a temporary folder and renamed into place.
   */
  public store(
    stack: Omit<CachedStack, 'dir' | 'treeFile'> & { readonly treeText: string; readonly partDir: string },
  ): void {
    this.used.add(stack.key);
    const target = join(this.folder, stack.key);
    if (existsSync(join(target, 'entry.json'))) return;
    const temporary = join(this.folder, `.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
    try {
      const files = join(temporary, 'files');
      mkdirSync(files, { recursive: true });
      for (const dir of stack.dirs) mkdirSync(join(files, dir), { recursive: true });
      const recorded: [string, number, number][] = [];
      for (const path of stack.files) {
        const to = join(files, path);
        mkdirSync(dirname(to), { recursive: true });
        linkOrCopy(join(stack.partDir, path), to);
        const stat = statSync(to);
        recorded.push([path, stat.size, stat.mtimeMs]);
      }
      const entry = {
        format: FORMAT,
        key: stack.key,
        id: stack.id,
        assetInputs: this.assetInputsOf(stack.partDir, stack.files),
        artifacts: stack.artifacts,
        treeNodes: stack.treeNodes,
        report: stack.report,
        files: recorded,
        dirs: stack.dirs,
        facts: stack.facts,
      };
      writeFileSync(join(temporary, 'tree.json'), stack.treeText);
      writeFileSync(join(temporary, 'entry.json'), JSON.stringify(entry));
      rmSync(target, { recursive: true, force: true });
      renameSync(temporary, target);
    } catch {
      rmSync(temporary, { recursive: true, force: true });
    }
  }

  /**
   * Removes what no run needs any more: temporary folders of writes that never finished, entries unused for
   * MAX_AGE_MS, and the oldest entries beyond `2 * stacks + 16` (those of this run are kept).
   */
  public prune(stacks: number): void {
    let names: string[];
    try {
      names = readdirSync(this.folder);
    } catch {
      return;
    }
    const now = Date.now();
    const entries: { name: string; at: number }[] = [];
    for (const name of names) {
      const path = join(this.folder, name);
      try {
        if (name.startsWith('.tmp-')) {
          if (now - statSync(path).mtimeMs > TEMPORARY_AGE_MS) rmSync(path, { recursive: true, force: true });
          continue;
        }
        if (this.used.has(name)) continue;
        const at = statSync(name.startsWith('app-') ? path : join(path, 'entry.json')).mtimeMs;
        entries.push({ name, at });
      } catch {
        rmSync(path, { recursive: true, force: true }); // an entry without entry.json: never finished
      }
    }
    const bound = Math.max(0, 2 * stacks + 16 - this.used.size);
    entries.sort((a, b) => b.at - a.at);
    entries.forEach((entry, i) => {
      if (i >= bound || now - entry.at > MAX_AGE_MS) {
        rmSync(join(this.folder, entry.name), { recursive: true, force: true });
      }
    });
  }

  /** An entry's last use is its entry file's modification time (pruning removes the oldest). */
  private touch(file: string, name: string): void {
    this.used.add(name);
    try {
      const now = new Date();
      utimesSync(file, now, now);
    } catch {
      // Read-only: the entry is pruned sooner, nothing else.
    }
  }

  private remove(key: string): void {
    rmSync(join(this.folder, key), { recursive: true, force: true });
  }

  private hashOf(root: string): string {
    let hash = this.folderHashes.get(root);
    if (hash === undefined) {
      hash = existsSync(root) ? folderHash(root) : 'missing';
      this.folderHashes.set(root, hash);
    }
    return hash;
  }

  /**
   * The library's asset folders a stack's staged assets came from, with their hashes: each folder holding a file
   * whose content is that of a file of the stack's asset folders (asset.*) or zip archives (asset.*.zip). A file of an asset that is in no library
   * folder was rendered from the config, which is in the key already.
   */
  private assetInputsOf(partDir: string, files: string[]): Record<string, string> {
    if (this.contentIndex === undefined) {
      this.contentIndex = new Map();
      for (const root of this.assetRoots) {
        for (const file of filesUnder(root)) {
          const path = join(root, file);
          const content = createHash('sha256').update(readFileSync(path)).digest('hex');
          this.contentIndex.set(content, [...(this.contentIndex.get(content) ?? []), dirname(path)]);
        }
      }
    }
    const inputs: Record<string, string> = {};
    const add = (content: Buffer) => {
      const digest = createHash('sha256').update(content).digest('hex');
      for (const source of this.contentIndex!.get(digest) ?? []) inputs[source] = this.hashOf(source);
    };
    for (const file of files) {
      if (!file.startsWith('asset.')) continue;
      if (file.includes('/')) {
        add(readFileSync(join(partDir, file)));
      }
      // A folder staged as one archive (the Packer template asset): the files inside it.
      else if (file.endsWith('.zip')) {
        for (const entry of zipEntries(readFileSync(join(partDir, file)))) add(entry.content);
      }
    }
    return inputs;
  }
}

/**
 * A node of tree.json as aws-cdk-lib's TreeMetadata (and the merge's writeTree) writes it in one file: its fields in
 * their order, then its children, each keyed by its id.
 */
export function treeText(node: any): string {
  return JSON.stringify(childrenLast(node));
}

function childrenLast(node: any): any {
  const { children, ...rest } = node;
  const kids = Object.values<any>(children ?? {});
  return kids.length > 0 ? { ...rest, children: Object.fromEntries(kids.map((c) => [c.id, childrenLast(c)])) } : rest;
}

/** The nodes of a tree (the node itself included). */
export function treeNodes(node: any): number {
  return 1 + Object.values<any>(node.children ?? {}).reduce((n, child) => n + treeNodes(child), 0);
}
