/*
 * The cloud assemblies of `paas-vending synth --jobs N`'s worker processes merged into the one that a single App
 * holding every stack writes, byte for byte (test/cli/synth-jobs.test.ts compares them file by file):
 *
 * - manifest.json: each stack's artifacts (its asset manifest, then the stack) in the fleet's order, then the
 *   artifacts of the App itself (the tree, the feature flag report), which every worker writes alike. A customer stack
 *   built without the platform's stack in its App has no dependency on it; in one App it has (the platform reference
 *   adds it, so that cdk deploy --all deploys the platform first), so the merge puts it first, where aws-cdk-lib lists
 *   stack dependencies. Written by aws-cdk-lib's own Manifest.saveAssemblyManifest.
 * - tree.json: the App's node with each stack's subtree in the fleet's order, then the App's other children, written
 *   as aws-cdk-lib's TreeMetadata writes it (split into trees-N.json files past its node limit).
 * - validation-report.json (--validate): each plugin's violations, grouped by rule in the order the stacks bring them.
 * - every other file (templates, asset manifests, metadata, asset folders named by their content's hash) moved over;
 *   an asset that two workers staged is kept once.
 *
 * Internal: not exported from src/index.ts.
 */
import { spawn } from 'child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'fs';
import { join } from 'path';
import * as cxschema from 'aws-cdk-lib/cloud-assembly-schema';
import { Artifacts, CachedApp, CachedStack, templateFactsOf, treeNodes, treeText } from './synth-cache';
import { linkOrCopy } from '../config/atomic-write';

/** One worker's cloud assembly folder and the stacks (artifact ids) it built. */
export interface AssemblyPart {
  readonly dir: string;
  readonly stacks: string[];
  /** The App's context `@aws-cdk/core.TreeMetadata:maxNodes`, as the worker read it. */
  readonly treeMaxNodes?: number;
}

const MANIFEST = 'manifest.json';
const TREE = 'tree.json';
const VALIDATION_REPORT = 'validation-report.json';
/** aws-cdk-lib's default of `@aws-cdk/core.TreeMetadata:maxNodes`: nodes per tree file. */
const TREE_MAX_NODES = 500_000;
const STACK_ARTIFACT = 'aws:cloudformation:stack';

/** Files of an assembly that are the App's, rebuilt by the merge. */
const special = (name: string) =>
  name === MANIFEST ||
  name === 'cdk.out' ||
  name === TREE ||
  name === VALIDATION_REPORT ||
  /^trees-\d+\.json$/.test(name);

/**
 * Merges the parts (and the stacks taken from the cache, synth-cache.ts, with the App's entry when no part was built)
 * into the new folder `into`; `order` holds every stack artifact id, the fleet's order. Customer stacks get the
 * dependency on `platformStack` that one App gives them; `standalone` stacks (the fleet pipeline's) depend on
 * nothing, as in one App.
 */
export function mergeAssemblies(
  parts: AssemblyPart[],
  order: string[],
  platformStack: string | undefined,
  into: string,
  cached: CachedStack[] = [],
  cachedApp?: CachedApp,
  standalone: readonly string[] = [],
) {
  mkdirSync(into, { recursive: true });
  if (parts.length === 0 && cachedApp === undefined) throw new Error('no part of the assembly was built or kept');
  const manifests = parts.map((p) => JSON.parse(readFileSync(join(p.dir, MANIFEST), 'utf-8')));
  const trees = parts.map((p) => (existsSync(join(p.dir, TREE)) ? partTree(p) : undefined));
  for (const part of parts) {
    for (const name of readdirSync(part.dir)) {
      if (special(name)) continue;
      const target = join(into, name);
      if (existsSync(target)) {
        if (name.startsWith('asset.')) continue; // named by the hash of its content: the same asset
        if (!readFileSync(target).equals(readFileSync(join(part.dir, name)))) {
          throw new Error(`the worker processes wrote different files ${name}`);
        }
        continue;
      }
      renameSync(join(part.dir, name), target);
    }
  }
  for (const stack of cached) {
    // Asset folders are named by the hash of their content: one that another stack brought is the same asset.
    const tops = new Set([...stack.dirs, ...stack.files].map((p) => p.split('/')[0]));
    const present = new Set([...tops].filter((top) => existsSync(join(into, top))));
    for (const top of present) {
      if (!top.startsWith('asset.')) throw new Error(`the cache and the worker processes wrote different files ${top}`);
    }
    // Each folder after its parent (splitPart lists them so): no recursive mkdir, which looks at every parent again.
    for (const dir of stack.dirs) if (!present.has(dir.split('/')[0])) mkdirSync(join(into, dir));
    for (const path of stack.files) {
      if (!present.has(path.split('/')[0])) linkOrCopy(join(stack.dir, path), join(into, path));
    }
  }

  // manifest.json
  const groups = manifests.map(stackGroups);
  const owner = new Map<string, Artifacts>();
  groups.forEach((g) => g.stacks.forEach((artifacts, id) => owner.set(id, artifacts)));
  for (const stack of cached) owner.set(stack.id, stack.artifacts);
  const app = groups[0]?.app ?? cachedApp!.artifacts;
  for (const g of groups) {
    if (JSON.stringify(g.app) !== JSON.stringify(app)) {
      throw new Error('the worker processes wrote different artifacts of the App (manifest.json)');
    }
  }
  const artifacts: Record<string, any> = {};
  for (const id of order) {
    const own = owner.get(id);
    if (!own) throw new Error(`no worker process wrote the stack ${id}`);
    for (const [key, artifact] of own) {
      const deps: string[] | undefined = artifact.dependencies;
      const isCustomer =
        artifact.type === STACK_ARTIFACT &&
        platformStack !== undefined &&
        key !== platformStack &&
        !standalone.includes(key);
      artifacts[key] =
        isCustomer && order.includes(platformStack) && !(deps ?? []).includes(platformStack)
          ? { ...artifact, dependencies: [platformStack, ...(deps ?? [])] }
          : artifact;
    }
  }
  for (const [key, artifact] of app) artifacts[key] = artifact;
  const missing = manifests
    .flatMap((m) => (m.missing ?? []) as { key: string }[])
    .filter((m, i, all) => all.findIndex((n) => n.key === m.key) === i);
  const first = manifests.length > 0 ? headerOf(manifests[0]) : cachedApp!.header;
  const manifest = { ...first, artifacts, ...(missing.length > 0 ? { missing } : {}) } as cxschema.AssemblyManifest;
  cxschema.Manifest.saveAssemblyManifest(manifest, join(into, MANIFEST));
  if (parts.length > 0) writeFileSync(join(into, 'cdk.out'), readFileSync(join(parts[0].dir, 'cdk.out')));
  else writeFileSync(join(into, 'cdk.out'), cachedApp!.cdkOut);

  // tree.json: written in one file from the stacks' texts (the parts' and the cache's) while it holds at most the node
  // limit, as TreeMetadata writes it; beyond, split by writeTree.
  const treeRoot = parts.length > 0 ? trees[0]?.root : cachedApp!.treeRoot;
  if (trees.every((t) => t !== undefined) && treeRoot) {
    const cachedTrees = new Map(cached.map((stack) => [stack.id, stack]));
    const children: [string, { node?: any; text?: string; nodes: number; file?: string }][] = [];
    for (const id of order) {
      const part = parts.findIndex((p) => p.stacks.includes(id));
      if (part >= 0) {
        const kept = trees[part]!.stacks.get(id);
        if (!kept) throw new Error(`tree.json: the worker process that built ${id} wrote no node of it`);
        children.push([id, kept]);
      } else {
        const stack = cachedTrees.get(id)!;
        children.push([id, { file: stack.treeFile, nodes: stack.treeNodes }]);
      }
    }
    const others: [string, any][] = parts.length > 0 ? trees[0]!.others : (cachedApp!.treeOthers ?? []);
    for (const [id, node] of others) {
      if (!order.includes(id)) children.push([node.id ?? id, { node, nodes: treeNodes(node) }]);
    }
    const maxNodes = parts[0]?.treeMaxNodes ?? cachedApp?.treeMaxNodes ?? TREE_MAX_NODES;
    const textOf = (child: { node?: any; text?: string; file?: string }) =>
      child.text ?? (child.file ? readFileSync(child.file, 'utf-8') : treeText(child.node));
    const total = 1 + children.reduce((n, [, child]) => n + child.nodes, 0);
    if (total <= maxNodes) {
      // Written piece by piece: the whole text (about 135 KB per stack) is never one string.
      const root = JSON.stringify(treeRoot);
      const fd = openSync(join(into, TREE), 'w');
      try {
        // The App always has children: its stacks, and aws-cdk-lib's Tree node. writeFileSync on the descriptor
        // writes each piece whole (it loops over short writes, which writeSync leaves to its caller).
        writeFileSync(fd, `{"version":"tree-0.1","tree":${root.slice(0, -1)},"children":{`);
        children.forEach(([id, child], i) =>
          writeFileSync(fd, `${i > 0 ? ',' : ''}${JSON.stringify(id)}:${textOf(child)}`),
        );
        writeFileSync(fd, '}}}');
      } finally {
        closeSync(fd);
      }
    } else {
      const root = { ...treeRoot, children: {} as Record<string, any> };
      for (const [id, child] of children) root.children[id] = child.node ?? JSON.parse(textOf(child));
      writeTree(root, into, maxNodes);
    }
  }

  // validation-report.json
  const reports = [
    ...parts
      .map((p) => join(p.dir, VALIDATION_REPORT))
      .filter((f) => existsSync(f))
      .map((f) => JSON.parse(readFileSync(f, 'utf-8'))),
    ...cached.filter((stack) => stack.report).map((stack) => stack.report),
  ];
  if (reports.length > 0) {
    writeFileSync(join(into, VALIDATION_REPORT), JSON.stringify(mergeReports(reports, order), undefined, 2));
  }
  for (const part of parts) partTrees.delete(part.dir);
}

/** A manifest without what the merge writes itself: its artifacts, lookups, and the CLI version saveAssemblyManifest adds. */
function headerOf(manifest: any): Record<string, unknown> {
  const { minimumCliVersion: _ignored, missing: _own, artifacts: _artifacts, ...header } = manifest;
  return header;
}

/** A stack of a built part as the cache keeps it (synth-cache.ts), without its key and folder. */
export type SplitStack = Omit<CachedStack, 'dir' | 'key' | 'treeFile'> & { readonly treeText: string };

/**
 * A built part cut into what the cache keeps: each stack (its artifacts, subtree, part of the report, files) and the
 * App's entry. Undefined when the part holds something the cache cannot give back as it was: context looked up
 * (missing), a file of no stack, an artifact that is not a stack's or its asset manifest's, a violation of no stack
 * of the part, no tree.json.
 */
export function splitPart(
  part: AssemblyPart,
  platformStack: string | undefined,
): { readonly stacks: SplitStack[]; readonly app: CachedApp } | undefined {
  const manifest = JSON.parse(readFileSync(join(part.dir, MANIFEST), 'utf-8'));
  if ((manifest.missing ?? []).length > 0 || !existsSync(join(part.dir, TREE))) return undefined;
  const tree = partTree(part);
  const groups = stackGroups(manifest);
  const reportFile = join(part.dir, VALIDATION_REPORT);
  const report = existsSync(reportFile) ? JSON.parse(readFileSync(reportFile, 'utf-8')) : undefined;
  const owned = new Set<string>();
  const stacks: SplitStack[] = [];
  for (const id of part.stacks) {
    const artifacts = groups.stacks.get(id);
    if (!artifacts) return undefined;
    const names: string[] = [];
    for (const [, artifact] of artifacts) {
      if (artifact.type === STACK_ARTIFACT) {
        names.push(artifact.properties?.templateFile, artifact.additionalMetadataFile);
      } else if (artifact.type === 'cdk:asset-manifest') {
        const file = artifact.properties?.file;
        names.push(file);
        const assets = JSON.parse(readFileSync(join(part.dir, file), 'utf-8'));
        for (const asset of Object.values<any>(assets.files ?? {})) names.push(asset.source?.path);
        for (const image of Object.values<any>(assets.dockerImages ?? {})) names.push(image.source?.directory);
      } else {
        return undefined;
      }
    }
    const files: string[] = [];
    const dirs: string[] = [];
    for (const name of new Set(names.filter((n): n is string => typeof n === 'string'))) {
      if (name.includes('/') || name.includes('\\') || !existsSync(join(part.dir, name))) return undefined;
      owned.add(name);
      collect(part.dir, name, files, dirs);
    }
    const withoutPlatform: Artifacts = artifacts.map(([key, artifact]) => {
      const deps: string[] | undefined = artifact.dependencies;
      if (artifact.type !== STACK_ARTIFACT || platformStack === undefined || key === platformStack || !deps) {
        return [key, artifact];
      }
      return [key, { ...artifact, dependencies: deps.filter((d) => d !== platformStack) }];
    });
    const node = tree.stacks.get(id);
    const stackArtifact = artifacts.find(([, artifact]) => artifact.type === STACK_ARTIFACT)?.[1];
    const templateFile = join(part.dir, stackArtifact?.properties?.templateFile ?? '');
    if (!node || !stackArtifact || !existsSync(templateFile)) return undefined;
    const facts = templateFactsOf(templateFile);
    stacks.push({
      id,
      artifacts: withoutPlatform,
      treeText: node.text,
      treeNodes: node.nodes,
      report: null,
      files,
      dirs,
      facts,
    });
  }
  if (readdirSync(part.dir).some((name) => !special(name) && !owned.has(name))) return undefined;
  if (report) {
    const pieces = splitReport(report, part.stacks);
    if (!pieces) return undefined;
    stacks.forEach((stack, i) => Object.assign(stack, { report: pieces[i] }));
  }
  const app: CachedApp = {
    header: headerOf(manifest),
    artifacts: groups.app,
    cdkOut: readFileSync(join(part.dir, 'cdk.out'), 'utf-8'),
    treeRoot: tree.root,
    treeOthers: tree.others,
    ...(part.treeMaxNodes !== undefined ? { treeMaxNodes: part.treeMaxNodes } : {}),
  };
  return { stacks, app };
}

/** The files and folders under `name` of `root` (itself included), relative, `/` separated. */
function collect(root: string, name: string, files: string[], dirs: string[]): void {
  if (statSync(join(root, name)).isDirectory()) {
    dirs.push(name);
    for (const child of readdirSync(join(root, name)).sort()) collect(root, `${name}/${child}`, files, dirs);
  } else {
    files.push(name);
  }
}

/** The violation lists of a plugin's report that the merge regroups: found, and found but acknowledged. */
const VIOLATION_LISTS = ['violations', 'suppressedViolations'];

/**
 * A validation report cut into one report per stack: each plugin with the violations of that stack's constructs
 * alone (a plugin without any concludes success). Undefined when a violation names a construct of no such stack.
 */
function splitReport(report: any, stacks: string[]): any[] | undefined {
  const pieces = stacks.map(() => ({ ...report, pluginReports: [] as any[] }));
  for (const plugin of report.pluginReports ?? []) {
    const own = stacks.map(() => ({ ...plugin }) as any);
    let violated = stacks.map(() => false);
    for (const list of VIOLATION_LISTS) {
      if (!Array.isArray(plugin[list])) continue;
      own.forEach((o) => (o[list] = []));
      for (const violation of plugin[list]) {
        const byStack = stacks.map(() => [] as any[]);
        for (const construct of violation.violatingConstructs ?? []) {
          const index = stacks.indexOf(String(construct.constructPath ?? '').split('/')[0]);
          if (index < 0) return undefined;
          byStack[index].push(construct);
        }
        byStack.forEach((constructs, i) => {
          if (constructs.length === 0) return;
          own[i][list].push({ ...violation, violatingConstructs: constructs });
          if (list === 'violations') violated[i] = true;
        });
      }
    }
    own.forEach((o, i) => {
      if (!violated[i]) o.conclusion = 'success';
      pieces[i].pluginReports.push(o);
    });
    violated = [];
  }
  return pieces;
}

/** A manifest's artifacts by stack: each stack artifact with the ones before it (its asset manifest); the rest the App's. */
function stackGroups(manifest: any): { stacks: Map<string, Artifacts>; app: Artifacts } {
  const stacks = new Map<string, Artifacts>();
  let pending: Artifacts = [];
  for (const [key, artifact] of Object.entries<any>(manifest.artifacts ?? {})) {
    pending.push([key, artifact]);
    if (artifact.type === STACK_ARTIFACT) {
      stacks.set(key, pending);
      pending = [];
    }
  }
  return { stacks, app: pending };
}

/**
 * A part's tree.json as the cache (splitPart) and the merge use it: the App node's own fields, each stack's subtree
 * as its text (treeText) and node count, and the App's other children as nodes. Read once for both, and kept as text:
 * a fleet's trees are about 135 KB of text per stack, several times that as objects.
 */
interface PartTree {
  readonly root: Record<string, unknown>;
  readonly stacks: Map<string, { readonly text: string; readonly nodes: number }>;
  readonly others: [string, any][];
}
const partTrees = new Map<string, PartTree>();
function partTree(part: AssemblyPart): PartTree {
  let kept = partTrees.get(part.dir);
  if (kept === undefined) {
    const { children, ...root } = readTree(part.dir);
    const stacks = new Map<string, { text: string; nodes: number }>();
    const others: [string, any][] = [];
    for (const [id, node] of Object.entries<any>(children ?? {})) {
      if (part.stacks.includes(id)) stacks.set(id, { text: treeText(node), nodes: treeNodes(node) });
      else others.push([id, node]);
    }
    kept = { root, stacks, others };
    partTrees.set(part.dir, kept);
  }
  return kept;
}

/** A worker's tree.json as one tree: the subtrees it wrote to trees-N.json files put back in place. */
function readTree(dir: string): any {
  const files = new Map<string, any>();
  const resolve = (node: any): any => {
    if (typeof node.fileName === 'string' && typeof node.treeId === 'string') {
      if (!files.has(node.fileName)) {
        files.set(node.fileName, JSON.parse(readFileSync(join(dir, node.fileName), 'utf-8')));
      }
      return resolve(files.get(node.fileName).forest[node.treeId]);
    }
    if (node.children) {
      for (const [id, child] of Object.entries(node.children)) node.children[id] = resolve(child);
    }
    return node;
  };
  return resolve(JSON.parse(readFileSync(join(dir, TREE), 'utf-8')).tree);
}

interface Tree {
  readonly root: any;
  readonly reference?: any;
  nodes: number;
}

/**
 * Writes a tree as aws-cdk-lib's TreeMetadata does: the nodes in breadth-first order, each in the file of its
 * parent until that file holds `maxNodes`; then the parent starts a tree of its own, referenced from its parent, and
 * the trees beyond the first are packed into trees-1.json, trees-2.json, ... up to `maxNodes` each.
 */
function writeTree(full: any, outdir: string, maxNodes: number): void {
  const forest: Tree[] = [];
  const roots = new Map<any, Tree>();
  const parentOf = new Map<any, any>();
  const copy = (node: any) => {
    const { children: _children, ...rest } = node;
    return rest;
  };
  const count = (node: any): number =>
    1 + Object.values<any>(node.children ?? {}).reduce((n, child) => n + count(child), 0);
  const treeOf = (node: any): Tree => {
    for (let at = node; at !== undefined; at = parentOf.get(at)) {
      const tree = roots.get(at);
      if (tree) return tree;
    }
    throw new Error(`tree.json: no tree holds ${node.path}`);
  };
  const setChild = (parent: any, child: any) => {
    parent.children ??= {};
    parent.children[child.id] = child;
  };
  const main: Tree = { root: copy(full), nodes: 1 };
  forest.push(main);
  roots.set(main.root, main);
  let level: [any, any][] = Object.values<any>(full.children ?? {}).map((child) => [child, main.root]);
  while (level.length > 0) {
    const next: [any, any][] = [];
    for (const [source, parent] of level) {
      const node = copy(source);
      let tree = treeOf(parent);
      if (tree.nodes >= maxNodes) {
        const grandParent = parentOf.get(parent);
        const reference: any = { id: parent.id, path: parent.path, fileName: 'xxx' };
        tree = { root: parent, reference, nodes: count(parent) };
        forest.push(tree);
        roots.set(parent, tree);
        setChild(grandParent, reference);
      }
      setChild(parent, node);
      parentOf.set(node, parent);
      tree.nodes += 1;
      for (const child of Object.values<any>(source.children ?? {})) next.push([child, node]);
    }
    level = next;
  }
  const files: {
    name: string;
    file: { version: string; forest: Record<string, any> };
    nodes: number;
    trees: number;
  }[] = [];
  for (const tree of forest) {
    if (tree === main) continue;
    let target = files[files.length - 1];
    if (target === undefined || target.nodes + tree.nodes > maxNodes) {
      target = {
        name: `trees-${files.length + 1}.json`,
        file: { version: 'forest-0.1', forest: {} },
        nodes: 0,
        trees: 0,
      };
      files.push(target);
    }
    const treeId = `t${target.trees++}`;
    target.file.forest[treeId] = tree.root;
    target.nodes += tree.nodes;
    tree.reference.fileName = target.name;
    tree.reference.treeId = treeId;
  }
  writeFileSync(join(outdir, TREE), JSON.stringify({ version: 'tree-0.1', tree: main.root }), { encoding: 'utf-8' });
  for (const f of files) writeFileSync(join(outdir, f.name), JSON.stringify(f.file), { encoding: 'utf-8' });
}

/**
 * The validation reports of the workers as one: per plugin, its violations grouped by rule in the order the stacks
 * (in the fleet's order) bring them, as one App validating every template in that order reports them.
 */
function mergeReports(reports: any[], order: string[]): any {
  const stackOf = (construct: any) => {
    const path = String(construct.constructPath ?? '');
    const index = order.indexOf(path.split('/')[0]);
    return index < 0 ? order.length : index;
  };
  const plugins = new Map<string, { plugin: any; items: Map<string, any[]> }>();
  for (const report of reports) {
    for (const plugin of report.pluginReports ?? []) {
      const seen = plugins.get(plugin.pluginName);
      if (!seen) {
        plugins.set(plugin.pluginName, { plugin, items: new Map() });
      } else if (plugin.conclusion !== 'success') {
        seen.plugin = { ...seen.plugin, conclusion: plugin.conclusion };
      }
      const items = plugins.get(plugin.pluginName)!.items;
      if (!items.has('violations')) items.set('violations', []);
      for (const list of VIOLATION_LISTS) {
        if (!Array.isArray(plugin[list])) continue;
        if (!items.has(list)) items.set(list, []);
        for (const violation of plugin[list]) {
          for (const construct of violation.violatingConstructs ?? []) items.get(list)!.push({ violation, construct });
        }
      }
    }
  }
  const pluginReports = [...plugins.values()].map(({ plugin, items }) => {
    const merged = { ...plugin };
    for (const [list, found] of items) {
      const sorted = found
        .map((item: any, i: number) => ({ ...item, i, stack: stackOf(item.construct) }))
        .sort((a: any, b: any) => a.stack - b.stack || a.i - b.i);
      const rules = new Map<string, any>();
      for (const { violation, construct } of sorted) {
        const key = JSON.stringify({ ...violation, violatingConstructs: undefined });
        if (!rules.has(key)) rules.set(key, { ...violation, violatingConstructs: [] });
        rules.get(key).violatingConstructs.push(construct);
      }
      merged[list] = [...rules.values()];
    }
    return merged;
  });
  return { ...reports[0], pluginReports };
}

/**
 * Puts a merged assembly in place of `outdir`. A folder that is missing, empty or a cloud assembly (manifest.json)
 * is replaced whole: renamed aside, the new one renamed in, the old one removed. Any other folder (one the CDK CLI
 * gave, with its lock files; one holding other files) receives the assembly's entries one by one, manifest.json
 * last, and keeps what else it holds.
 */
export function installAssembly(merged: string, outdir: string, aside: string, replaceWhole: boolean): void {
  const entries = existsSync(outdir) ? readdirSync(outdir) : [];
  if (replaceWhole && (entries.length === 0 || entries.includes(MANIFEST))) {
    if (existsSync(outdir)) renameSync(outdir, aside);
    renameSync(merged, outdir);
    discard(aside, entries.length);
    return;
  }
  const names = readdirSync(merged).sort((a, b) => Number(a === MANIFEST) - Number(b === MANIFEST));
  for (const name of names) {
    rmSync(join(outdir, name), { recursive: true, force: true });
    renameSync(join(merged, name), join(outdir, name));
  }
}

/** Above this many entries, a previous assembly is removed by a process of its own, after the command has ended. */
const REMOVED_IN_BACKGROUND = 500;

/**
 * Removes a folder put aside: at once when it is small, else by a detached Node.js process (a fleet's assembly holds
 * thousands of files, whose removal was a large share of an incremental synthesis). A folder it could not remove is
 * removed by the next synthesis (synth.ts, leftoverFolders).
 */
function discard(folder: string, entries: number): void {
  if (!existsSync(folder)) return;
  if (entries > REMOVED_IN_BACKGROUND) {
    try {
      const remover = spawn(
        process.execPath,
        ['-e', 'require("fs").rmSync(process.argv[1], { recursive: true, force: true })', folder],
        { detached: true, stdio: 'ignore' },
      );
      remover.on('error', () => rmSync(folder, { recursive: true, force: true }));
      remover.unref();
      return;
    } catch {
      // Removed here, below.
    }
  }
  rmSync(folder, { recursive: true, force: true });
}
