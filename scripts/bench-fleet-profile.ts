/*
 * Summarizes V8 CPU profiles (`node --cpu-prof`), as scripts/bench-fleet.ts --profile writes them: self time
 * by module (package, aws-cdk-lib submodule or library directory) and by function, and inclusive time of the
 * functions that matter for synthesis (each sample counted once per function on its stack).
 *
 *   ts-node --project tsconfig.dev.json scripts/bench-fleet-profile.ts <file.cpuprofile>... [--top 15]
 */
import { readFileSync } from 'fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  readonly totalMs: number;
  readonly byModule: Array<[string, number]>;
  readonly bySelf: Array<[string, number]>;
  readonly byInclusive: Array<[string, number]>;
}

/** The module a script URL belongs to: a package (with aws-cdk-lib's submodule), the library's directory, Node. */
export function moduleOf(url: string): string {
  if (!url) return '(native / V8)';
  if (url.startsWith('node:')) return 'node internals';
  if (url.startsWith('wasm://')) return 'WebAssembly';
  const path = url.replace(/^file:\/\//, '');
  const nm = path.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const parts = path.slice(nm + '/node_modules/'.length).split('/');
    const pkg = parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
    const rest = parts.slice(pkg.split('/').length);
    if (pkg === 'aws-cdk-lib') {
      const sub = rest[0] === 'core' || rest[0] === 'cx-api' ? `${rest[0]}/${rest[2] ?? ''}` : rest[0];
      return `aws-cdk-lib/${sub}`.replace(/\.js$/, '');
    }
    return pkg;
  }
  const lib = path.match(/\/lib\/([^/]+)\//);
  if (lib) return `cdk-paas-vending lib/${lib[1]}`;
  return path.split('/').slice(-2).join('/');
}

function frameName(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const where = url ? `${moduleOf(url)}:${lineNumber + 1}` : '';
  return `${functionName || '(anonymous)'}${where ? ` [${where}]` : ''}`;
}

export function summarize(profile: CpuProfile, top = 15): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
  const add = (map: Map<string, number>, key: string, ms: number) => map.set(key, (map.get(key) ?? 0) + ms);
  const modules = new Map<string, number>();
  const functions = new Map<string, number>();
  const inclusive = new Map<string, number>();
  for (const [id, ms] of self) {
    const node = byId.get(id)!;
    const name = node.callFrame.functionName;
    const special = name.startsWith('(') && !node.callFrame.url;
    add(modules, special ? name : moduleOf(node.callFrame.url), ms);
    add(functions, frameName(node), ms);
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const key = frameName(byId.get(at)!);
      if (!seen.has(key)) {
        seen.add(key);
        add(inclusive, key, ms);
      }
    }
  }
  const sorted = (map: Map<string, number>) => [...map.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
  return {
    totalMs: (profile.endTime - profile.startTime) / 1000,
    byModule: sorted(modules),
    bySelf: sorted(functions),
    byInclusive: sorted(inclusive),
  };
}

export function formatSummary(title: string, s: ProfileSummary): string {
  const rows = (entries: Array<[string, number]>) =>
    entries.map(
      ([k, ms]) =>
        `  ${(ms / 1000).toFixed(2).padStart(7)} s  ${((100 * ms) / s.totalMs).toFixed(1).padStart(5)} %  ${k}`,
    );
  return [
    `${title}: ${(s.totalMs / 1000).toFixed(2)} s profiled`,
    ' self time by module:',
    ...rows(s.byModule),
    ' self time by function:',
    ...rows(s.bySelf),
    ' inclusive time by function:',
    ...rows(s.byInclusive),
  ].join('\n');
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const topAt = args.indexOf('--top');
  const top = topAt >= 0 ? Number(args.splice(topAt, 2)[1]) : 15;
  for (const file of args) {
    console.log(formatSummary(file, summarize(JSON.parse(readFileSync(file, 'utf-8')), top)));
    console.log('');
  }
}
