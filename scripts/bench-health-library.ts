/*
 * Health library benchmark (not a test): what an environment's health costs at synthesis built by the library
 * (EnvironmentHealth) against the nearest equivalent built with cdk-monitoring-constructs, on the same generated
 * fleets (scripts/bench-fleet-generate.ts: the example's mix of shared and dedicated load balancers, RDS and
 * Aurora), each case in a fresh child process (scripts/bench-health-library-app.ts), in turn case by case:
 *
 * - none: the fleet without any environment's health (the floor);
 * - library: EnvironmentHealth, as the library builds it;
 * - monitoring: cdk-monitoring-constructs' MonitoringFacade with the same metrics, thresholds and composite alarms.
 *
 *   npx projen bench:health-library      # or: ts-node --project tsconfig.dev.json scripts/bench-health-library.ts
 *   ... --sizes 1,100,500                # environments (default 1,100)
 *   ... --repeat 3                       # runs per case and size (default 3): min / median / max
 *   ... --cases library,monitoring       # a subset of none, library, monitoring
 *   ... --keep                           # keep the fleets, the cloud assemblies and the transpiled child; prints
 *                                        # each case's command line, to time it from outside
 *
 * cdk-monitoring-constructs is not a dependency of the project: install it first, in a checkout of your own,
 * `npm install --no-save cdk-monitoring-constructs@10.2.0`. Measures the compiled lib/ (`npx projen compile`
 * first). Validation is off (CDK_VALIDATION=false, as `paas-vending synth` runs without --validate). Wall time is the
 * child's, from spawn to exit; peak RSS is the child's maxRSS; resources and template bytes are counted in the
 * written cloud assembly, per environment against `none` when it ran. Also checks what the issue asks of each
 * case's output: every environment's alarms read its target group (TargetGroup dimension, shared load balancer
 * included), a composite `<customer>-<environment>-health` per environment with Severe and Degraded ones, and the
 * fleet overview naming every environment's health alarm.
 */
import { spawn } from 'child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'fs';
import { cpus, loadavg, tmpdir } from 'os';
import { join, resolve } from 'path';
import * as ts from 'typescript';
import { generateFleet } from './bench-fleet-generate';
import { MONITORING_PACKAGE, MONITORING_VERSION } from './bench-health-library-app';

const ROOT = resolve(__dirname, '..');
const CASES = ['none', 'library', 'monitoring'] as const;
type Case = (typeof CASES)[number];

interface Options {
  sizes: number[];
  repeat: number;
  cases: Case[];
  keep: boolean;
}

function parseOptions(argv: string[]): Options {
  const value = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const sizes = (value('--sizes') ?? '1,100').split(',').map(Number);
  const repeat = Number(value('--repeat') ?? 3);
  const cases = (value('--cases') ?? CASES.join(',')).split(',') as Case[];
  if (sizes.some((n) => !Number.isInteger(n) || n < 1)) throw new Error('--sizes: expected whole numbers from 1');
  if (!Number.isInteger(repeat) || repeat < 1) throw new Error('--repeat: expected a whole number from 1');
  for (const c of cases) if (!CASES.includes(c)) throw new Error(`--cases: ${c}: expected ${CASES.join(', ')}`);
  return { sizes, repeat, cases, keep: argv.includes('--keep') };
}

/** Templates' resources by type and bytes, in a cloud assembly. */
function countAssembly(outdir: string) {
  const types: Record<string, number> = {};
  let resources = 0;
  let bytes = 0;
  const templates: any[] = [];
  for (const name of readdirSync(outdir)) {
    if (!name.endsWith('.template.json')) continue;
    const text = readFileSync(join(outdir, name), 'utf-8');
    bytes += Buffer.byteLength(text);
    const template = JSON.parse(text);
    templates.push({ name, template });
    for (const r of Object.values<any>(template.Resources ?? {})) {
      resources++;
      types[r.Type] = (types[r.Type] ?? 0) + 1;
    }
  }
  return { resources, bytes, types, templates };
}

/** What the issue asks of the output, checked in the templates. */
function checkOutput(templates: { name: string; template: any }[], stacks: string[]): string[] {
  const problems: string[] = [];
  const platform = templates.find((t) => t.name.endsWith('-platform.template.json'));
  const platformText = JSON.stringify(platform?.template ?? {});
  for (const stack of stacks) {
    const t = templates.find((x) => x.name === `${stack}.template.json`)?.template;
    if (!t) {
      problems.push(`${stack}: no template`);
      continue;
    }
    const resources = Object.values<any>(t.Resources ?? {});
    const alarms = resources.filter((r) => r.Type === 'AWS::CloudWatch::Alarm');
    const composites = resources.filter((r) => r.Type === 'AWS::CloudWatch::CompositeAlarm');
    const names = composites.map((c) => c.Properties.AlarmName);
    if (!names.includes(`${stack}-health`)) problems.push(`${stack}: no composite alarm ${stack}-health`);
    if (!names.includes(`${stack}-degraded`)) problems.push(`${stack}: no composite alarm ${stack}-degraded`);
    const readsTargetGroup = alarms.some((a) => JSON.stringify(a.Properties).includes('"TargetGroup"'));
    if (!readsTargetGroup) problems.push(`${stack}: no alarm reads the TargetGroup dimension`);
    if (!resources.some((r) => r.Type === 'AWS::CloudWatch::Dashboard')) problems.push(`${stack}: no dashboard`);
    if (!platformText.includes(`${stack}-health`)) problems.push(`${stack}: not in the fleet overview`);
  }
  return problems;
}

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
      if (code === 0) resolvePromise(Number(process.hrtime.bigint() - started) / 1e9);
      else reject(new Error(`child ${args.join(' ')} exited with ${code ?? signal}:\n${tail}`));
    });
  });
}

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { min: s[0], median: s[Math.floor((s.length - 1) / 2)], max: s[s.length - 1] };
};
const mmm = (xs: number[], digits = 2) => {
  const { min, median, max } = stats(xs);
  return `${min.toFixed(digits)} / ${median.toFixed(digits)} / ${max.toFixed(digits)}`;
};
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const lib = join(ROOT, 'lib');
  if (!existsSync(join(lib, 'index.js'))) throw new Error('no compiled lib/: run `npx projen compile` first');
  if (options.cases.includes('monitoring')) {
    try {
      require.resolve(MONITORING_PACKAGE, { paths: [ROOT] });
    } catch {
      console.error(
        `${MONITORING_PACKAGE} is not installed (it is not a dependency of the project): ` +
          `npm install --no-save ${MONITORING_PACKAGE}@${MONITORING_VERSION} first`,
      );
      process.exit(1);
    }
  }
  const newest = (dir: string): number =>
    Math.max(
      ...readdirSync(dir, { withFileTypes: true }).map((e) =>
        e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs,
      ),
    );
  if (newest(join(ROOT, 'src')) > statSync(join(lib, 'index.js')).mtimeMs) {
    console.warn('warning: src/ is newer than lib/: `npx projen compile` measures what you changed');
  }

  const work = mkdtempSync(join(tmpdir(), 'bench-health-library-'));
  const source = readFileSync(join(__dirname, 'bench-health-library-app.ts'), 'utf-8');
  const { outputText } = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 },
    fileName: 'bench-health-library-app.ts',
  });
  const app = join(work, 'bench-health-library-app.js');
  writeFileSync(app, outputText);
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_PATH: join(ROOT, 'node_modules'), CDK_VALIDATION: 'false' };
  env.PAAS_VENDING_CACHE_DIR = join(work, 'config-cache');

  console.log(`${cpus().length} × ${cpus()[0]?.model}, Node ${process.version}; load average ${load()}`);
  const rows: string[] = [];
  try {
    for (const size of options.sizes) {
      const fleetDir = join(work, `fleet-${size}`);
      mkdirSync(fleetDir, { recursive: true });
      const fleet = generateFleet(join(ROOT, 'examples', 'fleet'), fleetDir, size);
      const per: Record<string, { wall: number[]; build: number[]; synth: number[]; rss: number[]; counts?: any }> = {};
      for (const c of options.cases) per[c] = { wall: [], build: [], synth: [], rss: [] };
      // A warm-up (not counted): the fleet's first synthesis writes placement.yaml and fills the config cache.
      for (let run = 0; run <= options.repeat; run++) {
        for (const c of options.cases) {
          const outdir = join(work, `cdk.out-${c}-${size}`);
          rmSync(outdir, { recursive: true, force: true });
          const result = join(work, `result-${c}-${size}.json`);
          const args = [app, c, fleet.directory, outdir, result, lib];
          if (run === 0 && options.keep) {
            console.log(`  ${c} ${size}: NODE_PATH=${env.NODE_PATH} CDK_VALIDATION=false node ${args.join(' ')}`);
          }
          const wall = await runChild(args, env);
          if (run === 0) {
            const counts = countAssembly(outdir);
            per[c].counts = { ...counts, problems: c === 'none' ? [] : checkOutput(counts.templates, fleet.stacks) };
            continue;
          }
          const child = JSON.parse(readFileSync(result, 'utf-8'));
          per[c].wall.push(wall);
          per[c].build.push(child.buildMs / 1000);
          per[c].synth.push(child.synthMs / 1000);
          per[c].rss.push(child.maxRssKib / 1024);
          console.log(`  ${size} envs, ${c}, run ${run}: wall ${wall.toFixed(2)} s; load average ${load()}`);
        }
      }
      const floor = per.none?.counts;
      for (const c of options.cases) {
        const p = per[c];
        const k = p.counts;
        const health = (n: number, f: number | undefined) =>
          floor && f !== undefined ? ((n - f) / size).toFixed(1) : '-';
        const t = (type: string) => k.types[type] ?? 0;
        rows.push(
          `| ${c} | ${size} | ${mmm(p.wall)} | ${mmm(p.build)} | ${mmm(p.synth)} | ${mmm(p.rss, 0)} | ` +
            `${k.resources} (${health(k.resources, floor?.resources)}) | ${(k.bytes / 1024).toFixed(0)} (${floor ? ((k.bytes - floor.bytes) / 1024 / size).toFixed(1) : '-'}) | ` +
            `${t('AWS::CloudWatch::Alarm')} / ${t('AWS::CloudWatch::CompositeAlarm')} / ${t('AWS::CloudWatch::Dashboard')} | ` +
            `${c === 'none' ? '-' : k.problems.length === 0 ? 'yes' : `no: ${k.problems.length} (${k.problems[0]})`} |`,
        );
      }
      if (per.library && per.monitoring) {
        const ratio = (a: number[], b: number[]) => stats(b.map((x, i) => x / a[i])).median.toFixed(2);
        rows.push(
          `| monitoring / library, pair by pair (median) | ${size} | ${ratio(per.library.wall, per.monitoring.wall)} | ` +
            `${ratio(per.library.build, per.monitoring.build)} | ${ratio(per.library.synth, per.monitoring.synth)} | ` +
            `${ratio(per.library.rss, per.monitoring.rss)} | | | | |`,
        );
      }
    }
  } finally {
    if (options.keep) console.log(`kept: ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }
  console.log(`\nload average at the end ${load()}\n`);
  console.log(
    '| case | envs | wall s (min / median / max) | build s | synth s | peak RSS MiB | resources (health per env) | template KiB (health per env) | alarms / composites / dashboards | meets the issue |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of rows) console.log(r);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
