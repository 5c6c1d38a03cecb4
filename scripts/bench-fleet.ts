/*
 * Fleet synthesis benchmark (not a test): synthesizes generated fleets of 1, 10, 100 and 500 customer
 * environments three ways, each in a fresh child process (scripts/bench-fleet-app.ts), and prints wall time,
 * peak RSS, templates and resources written, the marginal cost per environment and per resource, and the ratios:
 *
 * - library: `VendingFleet.fromDirectory` on the compiled library (lib/, the code users run, installed as npm
 *   installs the package: see --lib-from) over a fleet generated from examples/fleet
 *   (scripts/bench-fleet-generate.ts);
 * - plain: the same fleet written by hand with aws-cdk-lib L2 constructs (scripts/bench-fleet-plain.ts);
 * - empty: as many empty stacks (the floor aws-cdk-lib sets per stack);
 * - alone: one customer environment stack alone out of the fleet (`VendingFleet.fromDirectory(app, dir,
 *   { stacks: [name] })`: the whole fleet read, validated and placed, one stack built and synthesized), by default
 *   c0001-production (the first customer, production with a custom domain: dedicated ingress), after one warm-up
 *   run that is not counted (it writes placement.yaml, as a fleet's first synthesis does); min, median and max of
 *   the runs, with the time spent reading and validating the configs and placing the fleet;
 * - alone-cli (not by default): the same through the command line, `paas-vending synth DIR --stack NAME --out OUT
 *   --json` (lib/cli/main.js, run in the child process), the cache of synthesized stacks off (the stack is built);
 * - cached-one-changed (not by default): incremental synthesis, `paas-vending synth DIR --out OUT --json` with the
 *   cache of synthesized stacks on (src/cli/synth-cache.ts): a warm-up on an empty cache, the whole fleet built (its
 *   wall time and every process's peak RSS are the full-synthesis figures), then before each counted run the
 *   customer file of --stack gets a new tag, so that one stack is built and every other one comes from the cache.
 *   Every other case runs with that cache off.
 *
 *   npx projen bench                     # or: ts-node --project tsconfig.dev.json scripts/bench-fleet.ts
 *   ... --quick                          # sizes 1, 10
 *   ... --sizes 1,10,100                 # any sizes
 *   ... --cases library,plain            # a subset of library, plain, empty, alone, alone-cli, cli-jobs-N,
 *                                        # cached-one-changed (cli-jobs-N: `paas-vending synth DIR --json --jobs N`,
 *                                        # the whole fleet)
 *   ... --stack c0002-staging            # the stack of alone and alone-cli, and the file cached-one-changed
 *                                        # changes (default c0001-production)
 *   ... --validation both                # also run every case with CDK_VALIDATION=false (on, off, both; default on)
 *   ... --repeat 3                       # best (lowest wall time) of 3 runs per case
 *   ... --profile DIR                    # children run with --cpu-prof into DIR; prints a summary per profile
 *   ... --lib DIR                        # another compiled library (e.g. a clone's lib/); default ./lib
 *   ... --keep                           # keep the generated fleets and cloud assemblies (path printed)
 *                                        # (compare two by resource type: scripts/bench-fleet-compare.ts)
 *   ... --config-cache off               # children validate every config file each run (default on: the cache of
 *                                        # validated configs in a folder of the benchmark's, filled by the warm-up)
 *   ... --lib-from source                # children load lib/ itself (default package: the files of `npm pack`
 *                                        # installed into a node_modules folder of the benchmark's, as a user's app
 *                                        # loads the library; aws-cdk-lib's creation stack traces fold an installed
 *                                        # package's frames into one line and keep every other frame)
 *
 * Wall time is the child's, from spawn to exit (Node start-up and module loading included); peak RSS is the
 * child's maxRSS. Resources and templates are counted in the written cloud assembly. Targets are reported as
 * met or missed, never asserted: the exit code is non-zero only on an error (a failed synthesis, a bad option).
 */
import { spawn, spawnSync } from 'child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'fs';
import { cpus, loadavg, tmpdir, totalmem } from 'os';
import { dirname, join, resolve } from 'path';
import * as ts from 'typescript';
import { parse, stringify } from 'yaml';
import { generateFleet, GeneratedFleet, MAX_SHARED_ENVIRONMENTS } from './bench-fleet-generate';
import { formatSummary, summarize } from './bench-fleet-profile';

const ROOT = resolve(__dirname, '..');
const DEFAULT_SIZES = [1, 10, 100, 500];
const QUICK_SIZES = [1, 10];

type Kind = 'library' | 'plain' | 'empty' | 'alone' | 'alone-cli' | 'cached-one-changed' | `cli-jobs-${number}`;
const KINDS: Kind[] = [
  'library',
  'plain',
  'empty',
  'alone',
  'alone-cli',
  'cli-jobs-1',
  'cli-jobs-2',
  'cached-one-changed',
];
const DEFAULT_KINDS: Kind[] = ['library', 'plain', 'empty', 'alone'];
/** The stack the alone cases synthesize: the first customer, production with a custom domain (dedicated ingress). */
const DEFAULT_ALONE_STACK = 'c0001-production';
const isAlone = (kind: Kind) => kind === 'alone' || kind === 'alone-cli';
/** The whole fleet through the command line in N worker processes: `paas-vending synth DIR --jobs N`. */
const jobsOfKind = (kind: Kind): number | undefined =>
  /^cli-jobs-[1-9][0-9]*$/.test(kind) ? Number(kind.slice(9)) : undefined;
/** Incremental synthesis: the whole fleet with the cache of synthesized stacks on, one file changed per run. */
const isCached = (kind: Kind) => kind === 'cached-one-changed';
/** Cases that run once, uncounted, before their counted runs (placement.yaml and the config cache written). */
const warmsUp = (kind: Kind) => isAlone(kind) || jobsOfKind(kind) !== undefined || isCached(kind);

/** A case's name: its kind, and ", no validation" when it runs with CDK_VALIDATION=false. */
const caseName = (kind: Kind, validation: boolean) => (validation ? kind : `${kind}, no validation`);

interface Case {
  readonly name: string;
  readonly kind: Kind;
  readonly validation: boolean;
}

interface ChildResult {
  readonly loadMs: number;
  readonly buildMs: number;
  readonly synthMs: number;
  readonly validateMs: number | null;
  readonly validateTemplateMs: number | null;
  readonly validatedTemplates: number | null;
  readonly maxRssKib: number;
  readonly endMs: number;
  /** alone cases: reading and validating the fleet's configs (every file), and how many times it was done. */
  readonly configMs?: number | null;
  readonly configLoads?: number | null;
  /** alone cases: reading placement.yaml, placing the fleet and writing placement.yaml when it changed. */
  readonly placementMs?: number | null;
  readonly placementWritten?: boolean;
  /** command cases: stacks built and stacks taken from the cache of synthesized stacks (null: cache off). */
  readonly cacheBuilt?: number | null;
  readonly cacheCached?: number | null;
  /** command cases: worker processes started and the largest peak RSS among them. */
  readonly workers?: number;
  readonly workerMaxRssKib?: number | null;
}

interface Run {
  readonly case: Case;
  readonly envs: number;
  readonly templates: number;
  readonly resources: number;
  /** Resources of the platform stack (`<platform>-platform`). */
  readonly platformResources: number;
  readonly assets: number;
  /** Bytes of the templates written. */
  readonly templateBytes: number;
  readonly wallS: number;
  readonly rssMib: number;
  readonly child: ChildResult;
}

interface Options {
  readonly sizes: number[];
  readonly cases: Case[];
  readonly repeat: number;
  readonly profile?: string;
  readonly lib: string;
  readonly keep: boolean;
  /** The stack of the alone cases. */
  readonly stack: string;
  /**
   * Whether the children keep validated configs between runs (src/config/config-cache.ts), in a folder of the
   * benchmark's own: on, the warm-up of an alone case fills it and the counted runs read it back.
   */
  readonly configCache: boolean;
  /**
   * How the children load the library: `package` (the default), the files `npm pack` puts in the package installed
   * into a node_modules folder of the benchmark's, as a user's app loads it from npm; `source`, the checkout's lib/
   * itself. It matters beyond module loading: aws-cdk-lib's creation stack traces keep every frame outside a
   * node_modules folder as the user's own code, and fold an installed package's frames into one line.
   */
  readonly libFrom: 'package' | 'source';
}

const TARGETS = {
  wallAt100S: 15,
  wallAt500S: 60,
  rssAt500Mib: 1536,
  /** Issue 17: the library's marginal cost per resource at most this times the plain app's, at 100 and at 500. */
  perResourceVsPlain: 1.0,
  /** Growth counted as linear when the last interval's marginal cost per resource is at most this times the one before. */
  growth: 1.2,
  /** One environment alone: median wall time under this at every size, ... */
  aloneWallS: 3,
  /** ... and at the largest size within this fraction of the one-environment fleet's. */
  aloneVsOne: 0.1,
};

function parseOptions(argv: string[]): Options {
  const value = (flag: string): string | undefined => {
    const at = argv.indexOf(flag);
    if (at < 0) return undefined;
    const v = argv[at + 1];
    if (v === undefined || v.startsWith('--')) throw new Error(`${flag}: expected a value`);
    return v;
  };
  const known = [
    '--quick',
    '--sizes',
    '--cases',
    '--validation',
    '--repeat',
    '--profile',
    '--lib',
    '--keep',
    '--stack',
    '--config-cache',
    '--lib-from',
  ];
  const unknown = argv.filter((a, i) => a.startsWith('--') && !known.includes(a) && !known.includes(argv[i - 1] ?? ''));
  if (unknown.length) throw new Error(`unknown option(s) ${unknown.join(', ')}; expected ${known.join(', ')}`);

  const sizesText = value('--sizes');
  const sizes = sizesText
    ? sizesText.split(',').map((s) => {
        const n = Number(s);
        if (!Number.isInteger(n) || n < 1) throw new Error(`--sizes: received ${s}; expected positive integers`);
        return n;
      })
    : argv.includes('--quick')
      ? QUICK_SIZES
      : DEFAULT_SIZES;
  const kinds = (value('--cases')?.split(',') ?? DEFAULT_KINDS) as Kind[];
  for (const k of kinds) {
    if (!KINDS.includes(k) && jobsOfKind(k) === undefined) {
      throw new Error(`--cases: received ${k}; expected one or more of ${KINDS.join(', ')} (or cli-jobs-N)`);
    }
  }
  const validation = value('--validation') ?? 'on';
  if (!['on', 'off', 'both'].includes(validation)) {
    throw new Error(`--validation: received ${validation}; expected on, off or both`);
  }
  const cases: Case[] = [
    ...(validation !== 'off' ? kinds.map((kind) => ({ name: caseName(kind, true), kind, validation: true })) : []),
    ...(validation !== 'on' ? kinds.map((kind) => ({ name: caseName(kind, false), kind, validation: false })) : []),
  ];
  const repeat = Number(value('--repeat') ?? 1);
  if (!Number.isInteger(repeat) || repeat < 1) {
    throw new Error(`--repeat: received ${repeat}; expected a positive integer`);
  }
  const profile = value('--profile');
  const configCache = value('--config-cache') ?? 'on';
  if (!['on', 'off'].includes(configCache)) {
    throw new Error(`--config-cache: received ${configCache}; expected on or off`);
  }
  const libFrom = value('--lib-from') ?? 'package';
  if (libFrom !== 'package' && libFrom !== 'source') {
    throw new Error(`--lib-from: received ${libFrom}; expected package or source`);
  }
  return {
    sizes: [...new Set(sizes)].sort((a, b) => a - b),
    cases,
    repeat,
    profile: profile ? resolve(profile) : undefined,
    lib: resolve(value('--lib') ?? join(ROOT, 'lib')),
    keep: argv.includes('--keep'),
    stack: value('--stack') ?? DEFAULT_ALONE_STACK,
    configCache: configCache === 'on',
    libFrom,
  };
}

/**
 * The library as a user's app gets it from npm: the files `npm pack` puts in the package (lib/, the bake's scripts,
 * the bundled dependencies, package.json), copied into `<work>/node_modules/cdk-paas-vending`, and beside it links to
 * the checkout's copies of its peer dependencies (aws-cdk-lib, constructs), the app's own, and nothing else: a module
 * the package neither bundles nor lists as a peer does not resolve, as in a user's app. Returns the installed lib/.
 */
function installPackage(lib: string, work: string): string {
  const root = dirname(lib);
  const listed = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: root,
    encoding: 'utf-8',
    maxBuffer: 64 * 2 ** 20,
    shell: process.platform === 'win32',
  });
  if (listed.error || listed.status !== 0) {
    throw new Error(
      `npm pack --dry-run in ${root}: ${listed.error?.message ?? `exited with ${listed.status ?? listed.signal}`}: ` +
        listed.stderr,
    );
  }
  const files: string[] = JSON.parse(listed.stdout)[0].files.map((f: { path: string }) => f.path);
  const modules = join(work, 'node_modules');
  const installed = join(modules, 'cdk-paas-vending');
  for (const file of files) {
    mkdirSync(dirname(join(installed, file)), { recursive: true });
    copyFileSync(join(root, file), join(installed, file));
  }
  const peers = Object.keys(JSON.parse(readFileSync(join(root, 'package.json'), 'utf-8')).peerDependencies ?? {});
  for (const peer of peers) {
    mkdirSync(dirname(join(modules, peer)), { recursive: true });
    symlinkSync(join(root, 'node_modules', peer), join(modules, peer), 'junction');
  }
  const installedLib = join(installed, 'lib');
  if (!existsSync(join(installedLib, 'index.js'))) {
    throw new Error(`${installed}: the package has no lib/index.js; compile the library first (npx projen compile)`);
  }
  return installedLib;
}

/** Transpiles the child app (and the plain app it imports) to JavaScript, so each case runs as `node app.js`. */
function transpileChild(directory: string): string {
  mkdirSync(directory, { recursive: true });
  for (const name of ['bench-fleet-app', 'bench-fleet-plain']) {
    const source = readFileSync(join(__dirname, `${name}.ts`), 'utf-8');
    const { outputText } = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 },
      fileName: `${name}.ts`,
    });
    writeFileSync(join(directory, `${name}.js`), outputText);
  }
  return join(directory, 'bench-fleet-app.js');
}

/** The Packer template directory the plain app ships as one asset: the library's bake scripts and a template. */
function writePackerDirectory(directory: string): void {
  mkdirSync(directory, { recursive: true });
  const scripts = join(ROOT, 'pipeline-scripts', 'ami');
  if (existsSync(scripts)) {
    for (const f of readdirSync(scripts).filter((n) => n.endsWith('.sh'))) {
      copyFileSync(join(scripts, f), join(directory, f));
    }
  }
  writeFileSync(
    join(directory, 'build.pkr.hcl'),
    'variable "base_image" { type = string }\nsource "amazon-ebs" "web" {\n  source_ami = var.base_image\n  instance_type = "t3.small"\n  ssh_username = "ec2-user"\n  ami_name = "web-{{timestamp}}"\n}\nbuild { sources = ["source.amazon-ebs.web"] }\n',
  );
}

/** Templates, resources and asset directories in a cloud assembly (nested assemblies included). */
function countAssembly(outdir: string): {
  templates: number;
  resources: number;
  platformResources: number;
  assets: number;
  templateBytes: number;
} {
  let templates = 0;
  let resources = 0;
  let platformResources = 0;
  let assets = 0;
  let templateBytes = 0;
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.name.startsWith('asset.')) {
        assets++;
      } else if (entry.isDirectory()) {
        walk(path);
      } else if (entry.name.endsWith('.template.json')) {
        templates++;
        const text = readFileSync(path, 'utf-8');
        templateBytes += Buffer.byteLength(text);
        const count = Object.keys(JSON.parse(text).Resources ?? {}).length;
        resources += count;
        if (entry.name.endsWith('-platform.template.json')) platformResources += count;
      }
    }
  };
  walk(outdir);
  return { templates, resources, platformResources, assets, templateBytes };
}

/** Runs the child; resolves with the wall time in seconds, rejects with the tail of its output on failure. */
function runChild(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let tail = '';
    const keep = (chunk: Buffer) => {
      tail = (tail + chunk.toString()).slice(-6000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (code === 0) resolvePromise(seconds);
      else reject(new Error(`child ${args.join(' ')} exited with ${code ?? signal}:\n${tail}`));
    });
  });
}

async function runCase(
  c: Case,
  envs: number,
  fleet: GeneratedFleet,
  work: string,
  app: string,
  options: Options,
  attempt: number,
  childLib: string,
): Promise<Run> {
  // Attempt 0 is an alone case's warm-up: not counted, not profiled.
  const tag = `${c.name.replace(/[^a-z]+/g, '-')}-${envs}-${attempt}`;
  const outdir = join(work, `cdk.out-${tag}`);
  const result = join(work, `result-${tag}.json`);
  const input =
    c.kind === 'library' || isAlone(c.kind) || jobsOfKind(c.kind) !== undefined || isCached(c.kind)
      ? fleet.directory
      : c.kind === 'plain'
        ? join(fleet.directory, '..', 'plain.json')
        : String(envs);
  const nodeArgs =
    options.profile && attempt > 0
      ? ['--cpu-prof', `--cpu-prof-dir=${options.profile}`, `--cpu-prof-name=${tag}.cpuprofile`]
      : [];
  // From the checkout's lib/, its node_modules serve every require; installed, the package resolves as in an app.
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_PATH: join(dirname(options.lib), 'node_modules') };
  if (options.libFrom === 'package') delete env.NODE_PATH;
  delete env.CDK_VALIDATION;
  if (!c.validation) env.CDK_VALIDATION = 'false';
  env.PAAS_VENDING_CACHE_DIR = join(dirname(fleet.directory), 'config-cache');
  if (options.configCache) delete env.PAAS_VENDING_CACHE;
  else env.PAAS_VENDING_CACHE = 'off';
  // The cache of synthesized stacks: on in the incremental case only, which starts from an empty one (its warm-up
  // builds the whole fleet) and changes one customer file before each counted run.
  env.PAAS_VENDING_SYNTH_CACHE = isCached(c.kind) ? 'on' : 'off';
  if (isCached(c.kind) && attempt === 0 && existsSync(env.PAAS_VENDING_CACHE_DIR)) {
    for (const name of readdirSync(env.PAAS_VENDING_CACHE_DIR).filter((n) => n.startsWith('synth-'))) {
      rmSync(join(env.PAAS_VENDING_CACHE_DIR, name), { recursive: true, force: true });
    }
  }
  if (isCached(c.kind) && attempt > 0) changeCustomerFile(fleet.directory, options.stack, `${tag}-${Date.now()}`);
  const stackArgs = isAlone(c.kind)
    ? [options.stack]
    : jobsOfKind(c.kind) !== undefined
      ? [String(jobsOfKind(c.kind))]
      : [];
  const wallS = await runChild([...nodeArgs, app, c.kind, input, outdir, result, childLib, ...stackArgs], env);
  const child: ChildResult = JSON.parse(readFileSync(result, 'utf-8'));
  const counts = countAssembly(outdir);
  if (!options.keep) rmSync(outdir, { recursive: true, force: true });
  return { case: c, envs, ...counts, wallS, rssMib: child.maxRssKib / 1024, child };
}

/** A new tag in a customer file: its config changes, so its stack's key does. */
function changeCustomerFile(fleetDirectory: string, stack: string, value: string): void {
  const file = join(fleetDirectory, 'customers', `${stack}.yaml`);
  const doc = parse(readFileSync(file, 'utf-8'));
  doc.tags = { ...doc.tags, BenchRun: value };
  writeFileSync(file, stringify(doc));
}

const f = (n: number | null | undefined, digits = 2) =>
  n === null || n === undefined || !isFinite(n) ? '-' : n.toFixed(digits);

function markdownTable(header: string[], rows: string[][]): string {
  return [header, header.map(() => '---'), ...rows].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

interface Marginal {
  readonly sPerEnv?: number;
  readonly msPerResource?: number;
}

/** Slopes between this size and the next smaller one of the same case. */
function marginals(runs: Run[]): Map<Run, Marginal> {
  const out = new Map<Run, Marginal>();
  const byCase = new Map<string, Run[]>();
  for (const r of runs) byCase.set(r.case.name, [...(byCase.get(r.case.name) ?? []), r]);
  for (const list of byCase.values()) {
    list.sort((a, b) => a.envs - b.envs);
    list.forEach((r, i) => {
      if (i === 0) return out.set(r, {});
      const p = list[i - 1];
      return out.set(r, {
        sPerEnv: (r.wallS - p.wallS) / (r.envs - p.envs),
        msPerResource:
          r.resources > p.resources ? (1000 * (r.wallS - p.wallS)) / (r.resources - p.resources) : undefined,
      });
    });
  }
  return out;
}

function report(runs: Run[], options: Options): string[] {
  const m = marginals(runs);
  const find = (name: string, envs: number) => runs.find((r) => r.case.name === name && r.envs === envs);
  const ratio = (a?: number, b?: number) => (a !== undefined && b !== undefined && b > 0 ? a / b : undefined);
  const lines: string[] = [];

  const header = [
    'case',
    'envs',
    'stacks',
    'resources',
    'resources/env',
    'templates MiB',
    'wall s',
    'peak RSS MiB',
    's/env (marginal)',
    'ms/resource (marginal)',
    'wall library/plain',
    'ms/resource library/plain',
    'wall library/empty',
  ];
  const rows = [...runs]
    .sort((a, b) => a.envs - b.envs || options.cases.indexOf(a.case) - options.cases.indexOf(b.case))
    .map((r) => {
      const mine = m.get(r)!;
      const isLibrary = r.case.kind === 'library';
      // The alone cases write one environment's stack out of a fleet of r.envs.
      const built = isAlone(r.case.kind) ? r.templates : r.envs;
      const suffix = r.case.validation ? '' : ', no validation';
      const plain = find(`plain${suffix}`, r.envs);
      const empty = find(`empty${suffix}`, r.envs);
      return [
        r.case.name,
        String(r.envs),
        String(r.templates),
        String(r.resources),
        f((r.resources - r.platformResources) / built, 1),
        f(r.templateBytes / 2 ** 20, 1),
        f(r.wallS),
        f(r.rssMib, 0),
        f(mine.sPerEnv, 3),
        f(mine.msPerResource, 2),
        isLibrary ? f(ratio(r.wallS, plain?.wallS)) : '',
        isLibrary ? f(ratio(mine.msPerResource, plain && m.get(plain)?.msPerResource)) : '',
        isLibrary ? f(ratio(r.wallS, empty?.wallS)) : '',
      ];
    });
  lines.push(markdownTable(header, rows));

  lines.push('');
  lines.push(
    'Phases (seconds, inside the child): load = Node start-up and modules, build = constructs, synth = app.synth(), of which validate = aws-cdk-lib template validation (engine start-up and every template), exit = wall time after the result is written (process teardown)',
  );
  lines.push(
    markdownTable(
      ['case', 'envs', 'load', 'build', 'synth', 'validate', 'validate: per template ms', 'exit', 'assets written'],
      runs.map((r) => [
        r.case.name,
        String(r.envs),
        f(r.child.loadMs / 1000),
        f(r.child.buildMs / 1000),
        f(r.child.synthMs / 1000),
        r.case.validation ? f(r.child.validateMs === null ? null : r.child.validateMs / 1000) : 'off',
        r.case.validation && r.child.validatedTemplates
          ? f((r.child.validateTemplateMs ?? 0) / r.child.validatedTemplates, 1)
          : '-',
        f(r.wallS - r.child.endMs / 1000),
        String(r.assets),
      ]),
    ),
  );

  // Targets: for the library as users get it (validation on), and without validation when that was run.
  const target = (what: string, met: boolean | undefined, detail: string) =>
    lines.push(`- ${met === undefined ? 'NOT MEASURED' : met ? 'met   ' : 'MISSED'}  ${what}: ${detail}`);
  for (const suffix of ['', ', no validation']) {
    const library = `library${suffix}`;
    if (!runs.some((r) => r.case.name === library)) continue;
    lines.push('');
    lines.push(
      suffix ? `Targets (${library}: CDK_VALIDATION=false):` : 'Targets (library, with validation as users get it):',
    );
    const lib100 = find(library, 100);
    const lib500 = find(library, 500);
    target(
      '100 environments in under 15 s',
      lib100 && lib100.wallS < TARGETS.wallAt100S,
      lib100 ? `${f(lib100.wallS)} s` : 'size 100 not run',
    );
    target(
      '500 environments in under 60 s',
      lib500 && lib500.wallS < TARGETS.wallAt500S,
      lib500 ? `${f(lib500.wallS)} s` : 'size 500 not run',
    );
    target(
      '500 environments under 1.5 GiB peak RSS',
      lib500 && lib500.rssMib < TARGETS.rssAt500Mib,
      lib500 ? `${f(lib500.rssMib, 0)} MiB` : 'size 500 not run',
    );
    const libRuns = runs.filter((r) => r.case.name === library).sort((a, b) => a.envs - b.envs);
    const last = libRuns.at(-1);
    const before = libRuns.at(-2);
    const lastM = last && m.get(last)?.msPerResource;
    const beforeM = before && m.get(before)?.msPerResource;
    target(
      'growth no worse than linear (marginal ms/resource of the last interval within 1.2x of the one before)',
      lastM !== undefined && beforeM !== undefined ? lastM <= TARGETS.growth * beforeM : undefined,
      lastM !== undefined && beforeM !== undefined
        ? `${f(beforeM)} ms/resource (${libRuns.at(-3)?.envs}->${before!.envs}), ${f(lastM)} ms/resource (${before!.envs}->${last!.envs})`
        : 'needs three sizes',
    );
    const perResource = perResourceRatios(runs, m, suffix);
    target(
      `per-resource cost at most ${f(TARGETS.perResourceVsPlain, 1)}x the plain aws-cdk-lib app's (marginal, at each size)`,
      perResource.length ? perResource.every((x) => x.ratio <= TARGETS.perResourceVsPlain) : undefined,
      perResource.length
        ? perResource
            .map((x) => `${f(x.ratio)}x at ${x.envs} (${f(x.library)} vs ${f(x.plain)} ms/resource)`)
            .join(', ')
        : 'needs two sizes of library and plain',
    );
  }
  return lines;
}

/** At each size with a marginal cost in both apps: the library's and the plain app's ms per resource, and their ratio. */
function perResourceRatios(
  runs: Run[],
  m: Map<Run, Marginal>,
  suffix: string,
): { envs: number; library: number; plain: number; ratio: number }[] {
  const out: { envs: number; library: number; plain: number; ratio: number }[] = [];
  for (const library of runs.filter((r) => r.case.name === `library${suffix}`).sort((a, b) => a.envs - b.envs)) {
    const plain = runs.find((r) => r.case.name === `plain${suffix}` && r.envs === library.envs);
    const l = m.get(library)?.msPerResource;
    const p = plain && m.get(plain)?.msPerResource;
    if (l !== undefined && p !== undefined && p > 0) {
      out.push({ envs: library.envs, library: l, plain: p, ratio: l / p });
    }
  }
  return out;
}

/**
 * Issue 17's table, every row, met, missed or not measured (with the command that measures it): per resource against
 * the plain app at 100 and 500 (validation off), and at 1,000 environments the full synthesis (time, every process's
 * peak RSS), one file changed, one stack alone and the full synthesis with --validate.
 */
function issueReport(runs: Run[], series: Map<string, Run[]>, warmups: Map<string, Run>): string[] {
  const m = marginals(runs);
  const ratios = perResourceRatios(runs, m, ', no validation');
  const rows: string[][] = [];
  const row = (what: string, target: string, measured: string | undefined, met: boolean | undefined, how: string) =>
    rows.push([
      what,
      target,
      measured ?? `not measured: ${how}`,
      measured === undefined ? 'NOT MEASURED' : met ? 'met' : 'MISSED',
    ]);
  const perResourceCommand = '--sizes 10,100,500 --cases library,plain --validation off';
  for (const envs of [100, 500]) {
    const x = ratios.find((r) => r.envs === envs);
    row(
      `per resource, library / plain aws-cdk-lib, validation off, ${envs} envs (marginal)`,
      `<= ${f(TARGETS.perResourceVsPlain, 1)}x`,
      x && `${f(x.ratio)}x (${f(x.library)} vs ${f(x.plain)} ms/resource)`,
      x && x.ratio <= TARGETS.perResourceVsPlain,
      perResourceCommand,
    );
  }
  const lib = runs.filter((r) => r.case.name === 'library, no validation').sort((a, b) => a.envs - b.envs);
  const at = (envs: number) => lib.find((r) => r.envs === envs);
  const growth = [at(10), at(100), at(500)].every((r) => r !== undefined)
    ? [m.get(at(100)!)?.msPerResource, m.get(at(500)!)?.msPerResource]
    : undefined;
  row(
    'growth linear from 100 to 500 (marginal ms/resource 100->500 within 1.2x of 10->100)',
    `<= ${f(TARGETS.growth, 1)}x`,
    growth && growth[0] && growth[1] ? `${f(growth[1] / growth[0])}x (${f(growth[0])}, ${f(growth[1])})` : undefined,
    growth && growth[0] && growth[1] ? growth[1] <= TARGETS.growth * growth[0] : undefined,
    perResourceCommand,
  );
  const key = (kind: Kind, validation: boolean) =>
    seriesKey({ kind, validation, name: caseName(kind, validation) }, 1000);
  const full = warmups.get(key('cached-one-changed', false));
  const cachedCommand = '--sizes 1000 --cases cached-one-changed,alone-cli --validation off --repeat 3';
  row(
    '1,000 environments, full synthesis, validation off',
    '< 60 s',
    full && `${f(full.wallS)} s (${full.child.workers ?? 0} worker processes)`,
    full && full.wallS < 60,
    cachedCommand,
  );
  const peak = full && Math.max(full.rssMib, (full.child.workerMaxRssKib ?? 0) / 1024);
  row(
    '1,000 environments, full synthesis: peak RSS in every process',
    '< 1 GiB',
    full &&
      `${f(peak, 0)} MiB (the command ${f(full.rssMib, 0)}, the largest worker ${f((full.child.workerMaxRssKib ?? 0) / 1024, 0)})`,
    peak !== undefined && peak < 1024,
    cachedCommand,
  );
  // The median wall time of a case's counted runs, against a limit in seconds.
  const medianRow = (label: string, limitS: number, counted: Run[] | undefined) => {
    const wall = counted?.length ? median(counted.map((r) => r.wallS)) : undefined;
    row(
      label,
      `< ${limitS} s`,
      wall !== undefined ? `${f(wall)} s (median of ${counted!.length})` : undefined,
      wall !== undefined && wall < limitS,
      cachedCommand,
    );
  };
  medianRow('1,000 environments, one file changed', 5, series.get(key('cached-one-changed', false)));
  medianRow('one environment alone (paas-vending synth --stack) out of 1,000', 3, series.get(key('alone-cli', false)));
  const validated = warmups.get(key('cached-one-changed', true));
  row(
    '1,000 environments with --validate, full synthesis',
    '< 150 s',
    validated &&
      `${f(validated.wallS)} s (the command ${f(validated.rssMib, 0)} MiB, the largest worker ${f((validated.child.workerMaxRssKib ?? 0) / 1024, 0)} MiB)`,
    validated && validated.wallS < 150,
    '--sizes 1000 --cases cached-one-changed --validation on --repeat 1',
  );
  return ['', "Issue 17's targets (npx projen bench ...):", markdownTable(['case', 'target', 'measured', ''], rows)];
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

const seriesKey = (c: Case, envs: number) => `${c.name}|${envs}`;

/**
 * The alone cases: every counted run's wall time and peak RSS (min, median, max), the phases' medians, the warm-up,
 * and the targets (under 3 s at every size; the largest fleet within 10 % of the one-environment fleet).
 */
function aloneReport(series: Map<string, Run[]>, warmups: Map<string, Run>, options: Options): string[] {
  const lines: string[] = [];
  const cases = options.cases.filter((c) => isAlone(c.kind));
  if (!cases.length) return lines;
  const mm = (values: number[], digits: number) =>
    `${f(Math.min(...values), digits)} / ${f(median(values), digits)} / ${f(Math.max(...values), digits)}`;
  const ms = (values: Array<number | null | undefined>) =>
    values.some((v) => v === null || v === undefined) ? '-' : f(median(values as number[]) / 1000);
  lines.push('');
  lines.push(
    `One environment alone: stack ${options.stack} out of fleets of each size, ${options.repeat} run(s) each after one warm-up ` +
      "that is not counted; wall and peak RSS as min / median / max, phases as medians in seconds (configs: the fleet's " +
      'files read, parsed and validated, with the number of times; placement: placement.yaml read, the fleet placed, ' +
      'the file written when it changed; construct: the rest of the build; exit: wall time after the result is written)',
  );
  const rows: string[][] = [];
  for (const c of cases) {
    const one = series.get(seriesKey(c, 1));
    for (const envs of options.sizes) {
      const list = series.get(seriesKey(c, envs));
      if (!list?.length) continue;
      const walls = list.map((r) => r.wallS);
      const child = (pick: (r: ChildResult) => number | null | undefined) => list.map((r) => pick(r.child));
      const construct = list.map((r) =>
        r.child.configMs === null ||
        r.child.configMs === undefined ||
        r.child.placementMs === null ||
        r.child.placementMs === undefined
          ? null
          : r.child.buildMs - r.child.configMs - r.child.placementMs,
      );
      const warm = warmups.get(seriesKey(c, envs));
      rows.push([
        c.name,
        String(envs),
        String(list[0].templates),
        String(list[0].resources),
        mm(walls, 2),
        mm(
          list.map((r) => r.rssMib),
          0,
        ),
        ms(child((r) => r.loadMs)),
        `${ms(child((r) => r.configMs))}${list[0].child.configLoads ? ` (x${list[0].child.configLoads})` : ''}`,
        ms(child((r) => r.placementMs)),
        ms(construct),
        ms(child((r) => r.synthMs)),
        c.validation ? ms(child((r) => r.validateMs)) : 'off',
        f(median(list.map((r) => r.wallS - r.child.endMs / 1000))),
        one?.length ? `${f(100 * (median(walls) / median(one.map((r) => r.wallS)) - 1), 0)} %` : '-',
        warm ? `${f(warm.wallS)} s${warm.child.placementWritten ? ', wrote placement.yaml' : ''}` : '-',
      ]);
    }
  }
  lines.push(
    markdownTable(
      [
        'case',
        'envs in fleet',
        'stacks',
        'resources',
        'wall s min / median / max',
        'peak RSS MiB min / median / max',
        'load',
        'configs',
        'placement',
        'construct',
        'synth',
        'validate',
        'exit',
        'median vs 1 env',
        'warm-up',
      ],
      rows,
    ),
  );
  const target = (what: string, met: boolean | undefined, detail: string) =>
    lines.push(`- ${met === undefined ? 'NOT MEASURED' : met ? 'met   ' : 'MISSED'}  ${what}: ${detail}`);
  for (const c of cases) {
    const medians = options.sizes
      .map((envs) => ({ envs, list: series.get(seriesKey(c, envs)) }))
      .filter((x) => x.list?.length)
      .map(({ envs, list }) => ({ envs, wallS: median(list!.map((r) => r.wallS)) }));
    if (!medians.length) continue;
    lines.push('');
    lines.push(`Targets (${c.name}${c.validation ? ', with validation' : ': CDK_VALIDATION=false'}, medians):`);
    target(
      `one environment alone in under ${TARGETS.aloneWallS} s at every size`,
      medians.every((x) => x.wallS < TARGETS.aloneWallS),
      medians.map((x) => `${f(x.wallS)} s at ${x.envs}`).join(', '),
    );
    const one = medians.find((x) => x.envs === 1);
    const last = medians.at(-1)!;
    target(
      `the largest fleet within ${100 * TARGETS.aloneVsOne} % of a fleet of 1`,
      one && last.envs > 1 ? last.wallS <= (1 + TARGETS.aloneVsOne) * one.wallS : undefined,
      one && last.envs > 1
        ? `${f(last.wallS)} s at ${last.envs} against ${f(one.wallS)} s at 1: ${f(100 * (last.wallS / one.wallS - 1), 0)} %`
        : 'needs size 1 and a larger size',
    );
  }
  return lines;
}

/**
 * The cli-jobs-N cases: the whole fleet through `paas-vending synth DIR --out OUT --json --jobs N`, every counted run's
 * wall time (min, median, max) and the median against cli-jobs-1's at the same size. Peak RSS is the command's own
 * process (the workers are processes of their own: measure them from outside, /usr/bin/time -v).
 */
function jobsReport(series: Map<string, Run[]>, options: Options): string[] {
  const cases = options.cases.filter((c) => jobsOfKind(c.kind) !== undefined);
  if (!cases.length) return [];
  const rows: string[][] = [];
  for (const envs of options.sizes) {
    for (const c of cases) {
      const list = series.get(seriesKey(c, envs));
      if (!list?.length) continue;
      const walls = list.map((r) => r.wallS);
      const one = series.get(
        seriesKey({ ...c, kind: 'cli-jobs-1', name: c.name.replace(/cli-jobs-\d+/, 'cli-jobs-1') }, envs),
      );
      rows.push([
        c.name,
        String(envs),
        String(list[0].templates),
        String(list[0].resources),
        `${f(Math.min(...walls))} / ${f(median(walls))} / ${f(Math.max(...walls))}`,
        f(median(list.map((r) => r.rssMib)), 0),
        one?.length ? f(median(walls) / median(one.map((r) => r.wallS))) : '-',
      ]);
    }
  }
  return [
    '',
    `The whole fleet through the command, --jobs N, ${options.repeat} run(s) each after one warm-up that is not counted:`,
    markdownTable(
      ['case', 'envs', 'stacks', 'resources', 'wall s min / median / max', "command's RSS MiB", 'median vs --jobs 1'],
      rows,
    ),
  ];
}

/**
 * cached-one-changed: the warm-up (an empty cache: the whole fleet built, in worker processes) and the counted runs
 * (one customer file changed each time), with what the cache built and kept and every process's peak RSS; the
 * targets of incremental and full synthesis at the largest size.
 */
function cachedReport(series: Map<string, Run[]>, warmups: Map<string, Run>, options: Options): string[] {
  const cases = options.cases.filter((c) => isCached(c.kind));
  if (!cases.length) return [];
  const rss = (r: Run) =>
    `${f(r.rssMib, 0)}${r.child.workerMaxRssKib ? ` / ${f(r.child.workerMaxRssKib / 1024, 0)} (${r.child.workers})` : ''}`;
  const rows: string[][] = [];
  const lines: string[] = [];
  const target = (what: string, met: boolean | undefined, detail: string) =>
    lines.push(`- ${met === undefined ? 'NOT MEASURED' : met ? 'met   ' : 'MISSED'}  ${what}: ${detail}`);
  for (const envs of options.sizes) {
    for (const c of cases) {
      const warm = warmups.get(seriesKey(c, envs));
      const list = series.get(seriesKey(c, envs)) ?? [];
      if (warm) {
        rows.push([
          `${c.name}: full (cache empty)`,
          String(envs),
          String(warm.templates),
          `${warm.child.cacheBuilt ?? '-'} / ${warm.child.cacheCached ?? '-'}`,
          f(warm.wallS),
          rss(warm),
        ]);
      }
      if (list.length) {
        const walls = list.map((r) => r.wallS);
        rows.push([
          `${c.name}: one file changed`,
          String(envs),
          String(list[0].templates),
          `${list[0].child.cacheBuilt ?? '-'} / ${list[0].child.cacheCached ?? '-'}`,
          `${f(Math.min(...walls))} / ${f(median(walls))} / ${f(Math.max(...walls))}`,
          rss(list[0]),
        ]);
      }
    }
  }
  const largest = options.sizes.at(-1)!;
  for (const c of cases) {
    const warm = warmups.get(seriesKey(c, largest));
    const list = series.get(seriesKey(c, largest)) ?? [];
    const label = c.validation ? ', with --validate' : '';
    lines.push('', `Targets (${c.name}${label}, ${largest} environments):`);
    if (list.length) {
      const m = median(list.map((r) => r.wallS));
      target('one file changed in under 5 s (median)', m < 5, `${f(m)} s, ${list[0].child.cacheBuilt} stack(s) built`);
    }
    if (warm) {
      const limit = c.validation ? 150 : 60;
      target(`full synthesis in under ${limit} s`, warm.wallS < limit, `${f(warm.wallS)} s (cache empty, filled)`);
      const peak = Math.max(warm.rssMib, (warm.child.workerMaxRssKib ?? 0) / 1024);
      target('peak RSS under 1 GiB in every process', peak < 1024, `${f(peak, 0)} MiB at most`);
    }
  }
  return [
    '',
    'Incremental synthesis (cache of synthesized stacks on): a warm-up on an empty cache, then one customer file ' +
      `(${options.stack}) changed before each of ${options.repeat} counted run(s); peak RSS: the command / the largest worker (workers)`,
    markdownTable(
      ['case', 'envs', 'stacks', 'built / from cache', 'wall s (min / median / max)', 'peak RSS MiB'],
      rows,
    ),
    ...lines,
  ];
}

function machine(options: Options): string[] {
  const cdkVersion = (() => {
    try {
      return JSON.parse(
        readFileSync(join(dirname(options.lib), 'node_modules', 'aws-cdk-lib', 'package.json'), 'utf-8'),
      ).version;
    } catch {
      return 'unknown';
    }
  })();
  const cpu = cpus();
  return [
    `machine: ${cpu.length} cores (${cpu[0]?.model.trim()}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB; Node ${process.version}; aws-cdk-lib ${cdkVersion}`,
    `library: ${options.lib}; load average at start ${loadavg()
      .map((l) => l.toFixed(2))
      .join(', ')}; ${new Date().toISOString()}`,
  ];
}

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  const libEntry = join(options.lib, 'environment', 'vending-fleet.js');
  if (options.cases.some((c) => c.kind === 'library') && !existsSync(libEntry)) {
    console.error(
      `${libEntry}: not found; compile the library first (npx projen compile), or point --lib at a compiled lib/`,
    );
    return 1;
  }
  const srcDir = join(dirname(options.lib), 'src');
  if (existsSync(srcDir) && existsSync(libEntry)) {
    const newest = (dir: string): number =>
      readdirSync(dir, { withFileTypes: true }).reduce(
        (max, e) => Math.max(max, e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs),
        0,
      );
    if (newest(srcDir) > statSync(join(options.lib, 'index.js')).mtimeMs) {
      console.warn(
        `warning: ${srcDir} has files newer than ${options.lib}: the benchmark measures the compiled lib/ (npx projen compile)`,
      );
    }
  }
  if (options.profile) mkdirSync(options.profile, { recursive: true });

  const work = mkdtempSync(join(tmpdir(), 'bench-fleet-'));
  try {
    const app = transpileChild(join(work, 'js'));
    const childLib = options.libFrom === 'package' ? installPackage(options.lib, work) : options.lib;
    for (const line of machine(options)) console.log(line);
    console.log(
      options.libFrom === 'package'
        ? `the library loaded as installed from npm: ${childLib} (the files of npm pack; --lib-from source: lib/ itself)`
        : `the library loaded from ${childLib} itself (--lib-from source: its frames count as the user's own code in aws-cdk-lib's creation stack traces)`,
    );
    console.log(
      `sizes ${options.sizes.join(', ')}; cases ${options.cases.map((c) => c.name).join('; ')}; best of ${options.repeat}` +
        (options.cases.some((c) => isAlone(c.kind))
          ? ` (alone: stack ${options.stack}, one warm-up, then min/median/max of ${options.repeat}; ` +
            `cache of validated configs ${options.configCache ? 'on' : 'off'})`
          : '') +
        `; at most ${MAX_SHARED_ENVIRONMENTS ?? 'any number of'} environments on the shared load balancer` +
        (options.profile ? `; CPU profiles in ${options.profile} (wall times include the profiler)` : ''),
    );
    const runs: Run[] = [];
    const series = new Map<string, Run[]>();
    const warmups = new Map<string, Run>();
    for (const envs of options.sizes) {
      const sizeDir = join(work, `fleet-${envs}`);
      const fleet = generateFleet(join(ROOT, 'examples', 'fleet'), join(sizeDir, 'fleet'), envs);
      writeFileSync(join(sizeDir, 'plain.json'), JSON.stringify(fleet.plain));
      writePackerDirectory(join(sizeDir, 'packer'));
      console.log(
        `\n${envs} environments: ${fleet.shared} shared` +
          (fleet.shared
            ? ` (${fleet.sharedLoadBalancers} shared load balancer(s)` +
              (fleet.maxSharedLoadBalancers !== undefined
                ? `; maxSharedLoadBalancers ${fleet.maxSharedLoadBalancers} in platform.yaml)`
                : ')')
            : '') +
          `, ${fleet.dedicated} dedicated ingress, ${fleet.production} production, ${fleet.withDatabase} with a database`,
      );
      if (options.cases.some((c) => isAlone(c.kind)) && !fleet.stacks.includes(options.stack)) {
        throw new Error(
          `--stack: ${options.stack} is not a stack of the ${envs}-environment fleet; expected one of ${fleet.stacks.slice(0, 6).join(', ')}, ...`,
        );
      }
      for (const c of options.cases) {
        if (warmsUp(c.kind)) {
          const warm = await runCase(c, envs, fleet, work, app, options, 0, childLib);
          warmups.set(seriesKey(c, envs), warm);
        }
        let best: Run | undefined;
        const list: Run[] = [];
        for (let attempt = 1; attempt <= options.repeat; attempt++) {
          const run = await runCase(c, envs, fleet, work, app, options, attempt, childLib);
          list.push(run);
          if (!best || run.wallS < best.wallS) best = run;
        }
        series.set(seriesKey(c, envs), list);
        runs.push(best!);
        const r = best!;
        console.log(
          `  ${c.name.padEnd(24)} ${String(r.templates).padStart(4)} stacks ${String(r.resources).padStart(6)} resources ` +
            `${f(r.wallS).padStart(7)} s ${f(r.rssMib, 0).padStart(5)} MiB  (load ${f(r.child.loadMs / 1000)}, build ${f(r.child.buildMs / 1000)}, ` +
            `synth ${f(r.child.synthMs / 1000)}${r.child.validateMs !== null && c.validation ? `, validate ${f(r.child.validateMs / 1000)}` : ''})` +
            (isCached(c.kind) ? `; built ${r.child.cacheBuilt}, from the cache ${r.child.cacheCached}` : '') +
            (isAlone(c.kind)
              ? `; configs ${f((r.child.configMs ?? NaN) / 1000)}, placement ${f((r.child.placementMs ?? NaN) / 1000)}; ` +
                `runs ${list.map((x) => f(x.wallS)).join(', ')} s`
              : ''),
        );
      }
    }
    console.log('');
    for (const line of report(runs, options)) console.log(line);
    for (const line of aloneReport(series, warmups, options)) console.log(line);
    for (const line of jobsReport(series, options)) console.log(line);
    for (const line of cachedReport(series, warmups, options)) console.log(line);
    for (const line of issueReport(runs, series, warmups)) console.log(line);
    console.log(
      `\nload average at end ${loadavg()
        .map((l) => l.toFixed(2))
        .join(', ')}`,
    );

    if (options.profile) {
      for (const file of readdirSync(options.profile)
        .filter((n) => n.endsWith('.cpuprofile'))
        .sort()) {
        console.log('');
        console.log(formatSummary(file, summarize(JSON.parse(readFileSync(join(options.profile, file), 'utf-8')))));
      }
    }
    return 0;
  } finally {
    if (options.keep) {
      console.log(`\nkept ${work}`);
      console.log(
        `compare two assemblies by resource type: npx ts-node --project tsconfig.dev.json scripts/bench-fleet-compare.ts ${join(work, 'cdk.out-library-…')} ${join(work, 'cdk.out-plain-…')}`,
      );
    } else {
      rmSync(work, { recursive: true, force: true });
    }
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  },
);
