/*
 * Compares two cloud assemblies resource type by resource type: how many resources of each type, and how many KiB
 * of template they take (each resource's JSON, compact), in the first (e.g. the library's) and the second (e.g. the
 * plain aws-cdk-lib app's). The fleet benchmark keeps both with --keep (scripts/bench-fleet.ts prints where):
 *
 *   npx projen bench --sizes 10 --cases library,plain --validation off --keep
 *   npx ts-node --project tsconfig.dev.json scripts/bench-fleet-compare.ts \
 *     /tmp/bench-fleet-XXXX/cdk.out-library-no-validation-10-1 /tmp/bench-fleet-XXXX/cdk.out-plain-no-validation-10-1
 *
 * Options: --names A,B (the columns' names; default library,plain), --markdown (a Markdown table), --stack NAME
 * (only the templates named NAME.template.json, e.g. one environment in both). Nested assemblies are included.
 */
import { readdirSync, readFileSync } from 'fs';
import { join } from 'path';

/** Per resource type: how many, and their bytes of compact JSON. */
export type TypeSizes = Map<string, { count: number; bytes: number }>;

export interface AssemblySizes {
  readonly templates: number;
  /** Bytes of the template files as written (indented). */
  readonly fileBytes: number;
  readonly types: TypeSizes;
}

/** The templates of a cloud assembly (nested assemblies included), by resource type. */
export function assemblySizes(outdir: string, stack?: string): AssemblySizes {
  const types: TypeSizes = new Map();
  let templates = 0;
  let fileBytes = 0;
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.name.startsWith('asset.')) continue;
      if (entry.isDirectory()) {
        walk(path);
      } else if (entry.name.endsWith('.template.json')) {
        if (stack !== undefined && entry.name !== `${stack}.template.json`) continue;
        templates++;
        const text = readFileSync(path, 'utf-8');
        fileBytes += Buffer.byteLength(text);
        const template = JSON.parse(text);
        for (const resource of Object.values<any>(template.Resources ?? {})) {
          const sizes = types.get(resource.Type) ?? { count: 0, bytes: 0 };
          sizes.count++;
          sizes.bytes += Buffer.byteLength(JSON.stringify(resource));
          types.set(resource.Type, sizes);
        }
        for (const section of ['Outputs', 'Parameters', 'Conditions', 'Mappings', 'Rules']) {
          const value = template[section];
          if (!value) continue;
          const key = `(${section})`;
          const sizes = types.get(key) ?? { count: 0, bytes: 0 };
          sizes.count += Object.keys(value).length;
          sizes.bytes += Buffer.byteLength(JSON.stringify(value));
          types.set(key, sizes);
        }
      }
    }
  };
  walk(outdir);
  return { templates, fileBytes, types };
}

const kib = (bytes: number) => (bytes / 1024).toFixed(1);
const ratio = (a: number, b: number) => (a === 0 ? (b === 0 ? '' : 'new') : (b / a).toFixed(2));

/** The comparison as table rows: type, count A, KiB A, count B, KiB B, B/A count, B/A KiB; totals last. */
export function comparisonRows(a: AssemblySizes, b: AssemblySizes): string[][] {
  const names = [...new Set([...a.types.keys(), ...b.types.keys()])];
  const zero = { count: 0, bytes: 0 };
  const of = (sizes: AssemblySizes, name: string) => sizes.types.get(name) ?? zero;
  names.sort((x, y) => Math.max(of(b, y).bytes, of(a, y).bytes) - Math.max(of(b, x).bytes, of(a, x).bytes));
  const sizesRow = (label: string, x: { count: number; bytes: number }, y: { count: number; bytes: number }) => [
    label,
    String(x.count),
    kib(x.bytes),
    String(y.count),
    kib(y.bytes),
    ratio(x.count, y.count),
    ratio(x.bytes, y.bytes),
  ];
  const rows = names.map((name) => sizesRow(name, of(a, name), of(b, name)));
  // The resource types only: the other rows ("(Outputs)", "(Parameters)", ...) are named in parentheses.
  const resources = (sizes: AssemblySizes) =>
    [...sizes.types.entries()]
      .filter(([name]) => !name.startsWith('('))
      .reduce((sum, [, s]) => ({ count: sum.count + s.count, bytes: sum.bytes + s.bytes }), { count: 0, bytes: 0 });
  rows.push(sizesRow('all resources', resources(a), resources(b)));
  rows.push([
    `template files (${a.templates} / ${b.templates})`,
    '',
    kib(a.fileBytes),
    '',
    kib(b.fileBytes),
    '',
    ratio(a.fileBytes, b.fileBytes),
  ]);
  return rows;
}

function main(): void {
  const argv = process.argv.slice(2);
  const value = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const flags = new Set(['--names', '--stack']);
  const paths = argv.filter((arg, i) => !arg.startsWith('--') && !flags.has(argv[i - 1]));
  if (paths.length !== 2) {
    throw new Error(
      'usage: bench-fleet-compare <cloud assembly A> <cloud assembly B> [--names A,B] [--stack NAME] [--markdown]',
    );
  }
  const [nameA, nameB] = (value('--names') ?? 'library,plain').split(',');
  const stack = value('--stack');
  const a = assemblySizes(paths[0], stack);
  const b = assemblySizes(paths[1], stack);
  const header = [
    'resource type',
    `${nameA} count`,
    `${nameA} KiB`,
    `${nameB} count`,
    `${nameB} KiB`,
    'count B/A',
    'KiB B/A',
  ];
  const rows = comparisonRows(a, b);
  if (argv.includes('--markdown')) {
    console.log(`| ${header.join(' | ')} |`);
    console.log(`| ${header.map(() => '---').join(' | ')} |`);
    for (const row of rows) console.log(`| ${row.join(' | ')} |`);
    return;
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log(line(header));
  for (const row of rows) console.log(line(row));
}

if (require.main === module) main();
