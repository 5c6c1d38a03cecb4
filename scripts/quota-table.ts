/*
 * The table of docs/QUOTAS.md: each AWS quota a fleet is bound by, its default, and what the example fleet and
 * generated fleets of 100 and 1,000 environments (scripts/bench-fleet-generate.ts) use of it, counted by the same
 * function VendingFleet checks at synthesis (fleetQuotaUse, on the built stacks). Run: `npx projen quotas:table`.
 */
import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { App, CfnResource } from 'aws-cdk-lib';
import { generateFleet } from './bench-fleet-generate';
import { ConfigLoader, VendingFleet } from '../src';
import { fleetQuotaUse, QUOTAS, sharedEnvironmentUses } from '../src/environment/quotas';

const ROOT = join(__dirname, '..');

interface Column {
  readonly label: string;
  readonly use: Map<string, number>;
  readonly largestTemplate: number;
}

function columnOf(label: string, directory: string): Column {
  const fleetConfig = ConfigLoader.loadFleet(directory);
  const app = new App();
  const fleet = new VendingFleet(app, fleetConfig, { placement: undefined });
  const stacks = [fleet.platformStack!, ...fleet.environments];
  const shared = sharedEnvironmentUses(fleet.environments, fleetConfig.customers, fleet.placement);
  const use = new Map<string, number>();
  for (const u of fleetQuotaUse(stacks, shared)) {
    // Per load balancer: the most any one holds.
    use.set(u.key, Math.max(use.get(u.key) ?? 0, u.used));
  }
  const largestTemplate = Math.max(
    ...stacks.map((s) => s.node.findAll().filter((c) => CfnResource.isCfnResource(c) && c.stack === s).length),
  );
  return { label, use, largestTemplate };
}

const columns: Column[] = [columnOf('example fleet (6)', join(ROOT, 'examples', 'fleet'))];
for (const size of [100, 1000]) {
  const dir = mkdtempSync(join(tmpdir(), 'quota-table-'));
  try {
    generateFleet(join(ROOT, 'examples', 'fleet'), dir, size);
    columns.push(columnOf(`${size.toLocaleString('en')} environments`, dir));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
const fmt = (n: number) => n.toLocaleString('en');
const lines = [
  `| quota (\`quotas:\` key) | scope | AWS default | ${columns.map((c) => c.label).join(' | ')} |`,
  `|---|---|---:|${columns.map(() => '---:').join('|')}|`,
  ...QUOTAS.map(
    (q) =>
      `| ${q.service}: ${q.name} (\`${q.key}\`) | ${q.scope === 'load balancer' ? 'per load balancer (most on one)' : q.scope} | ` +
      `${fmt(q.defaultLimit)} | ${columns.map((c) => fmt(c.use.get(q.key) ?? 0)).join(' | ')} |`,
  ),
  `| CloudFormation: resources per template (fixed) | template (largest) | 500 | ${columns.map((c) => fmt(c.largestTemplate)).join(' | ')} |`,
];
process.stdout.write(`${lines.join('\n')}\n`);
