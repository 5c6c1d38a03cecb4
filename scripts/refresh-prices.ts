/*
 * Rewrites src/cli/cost/prices.ts, the price table of `paas-vending cost`, from AWS's public Price List bulk offer
 * files (https://pricing.us-east-1.amazonaws.com/offers/v1.0/aws/<service>/current/<region>/index.json): no AWS
 * account, no credentials. Run as `npx projen prices` (this script, then eslint --fix on the file it wrote); the
 * EC2 offer file of a region is several hundred MB, so `--offers DIR` reads files downloaded before
 * (DIR/<service>/<region>.json) instead.
 *
 * Every price of the table is read by one rule (`ec2` and `rds` per type, `FLAT_RULES` for the rest): the offer's
 * service, the product family and attributes; a rule that matches no product, or products of different prices, stops
 * the refresh with the rule named, so a renamed attribute is never a silently stale or zero price.
 */
import { execFileSync } from 'child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'fs';
import { join } from 'path';
import type { PriceTable, RegionPrices } from '../src/cli/cost/price-table';
import { PRICES } from '../src/cli/cost/prices';

/** A product of an offer file and its on-demand prices. */
interface OfferProduct {
  readonly productFamily?: string;
  readonly attributes: Record<string, string>;
}
/** The part of an offer file this script reads. */
export interface OfferFile {
  readonly products: Record<string, OfferProduct>;
  readonly terms: {
    readonly OnDemand?: Record<
      string,
      Record<
        string,
        { priceDimensions: Record<string, { unit: string; beginRange?: string; pricePerUnit: { USD?: string } }> }
      >
    >;
  };
}

/** What a price of the table is in an offer file. */
export interface PriceRule {
  readonly service: string;
  readonly family?: string;
  /** Attributes the product has, each exactly (a RegExp: matched). */
  readonly attributes: Record<string, string | RegExp>;
}

/**
 * The one USD on-demand price of the products of `offer` that `rule` selects (the first non-zero tier: the
 * free tier of CloudWatch alarms is priced 0; S3's first 50 TB are its first tier).
 */
export function onDemandPrice(offer: OfferFile, rule: PriceRule, label: string): number {
  const prices = new Set<number>();
  for (const [sku, product] of Object.entries(offer.products)) {
    if (rule.family !== undefined && product.productFamily !== rule.family) continue;
    const matches = Object.entries(rule.attributes).every(([key, want]) => {
      const value = product.attributes[key];
      return value !== undefined && (typeof want === 'string' ? value === want : want.test(value));
    });
    if (!matches) continue;
    for (const term of Object.values(offer.terms.OnDemand?.[sku] ?? {})) {
      // The tiers in order of their first unit; the first that is not free (CloudWatch's first 10 alarms are).
      const tiers = Object.values(term.priceDimensions)
        .map((d) => ({ from: Number(d.beginRange ?? 0), usd: Number(d.pricePerUnit.USD) }))
        .filter((d) => Number.isFinite(d.usd) && d.usd > 0)
        .sort((a, b) => a.from - b.from);
      if (tiers.length > 0) prices.add(tiers[0].usd);
    }
  }
  if (prices.size !== 1) {
    const found = prices.size === 0 ? 'no priced product' : `${prices.size} prices (${[...prices].join(', ')})`;
    throw new Error(`refresh-prices: ${label}: ${rule.service} has ${found}; expected one on-demand price`);
  }
  return [...prices][0];
}

const ec2 = (instanceType: string): PriceRule => ({
  service: 'AmazonEC2',
  family: 'Compute Instance',
  attributes: {
    instanceType,
    operatingSystem: 'Linux',
    tenancy: 'Shared',
    preInstalledSw: 'NA',
    capacitystatus: 'Used',
    licenseModel: 'No License required',
  },
});
const RDS_ENGINES: Record<string, string> = {
  postgres: 'PostgreSQL',
  mysql: 'MySQL',
  mariadb: 'MariaDB',
  'aurora-postgresql': 'Aurora PostgreSQL',
  'aurora-mysql': 'Aurora MySQL',
};
const rds = (engine: string, instanceType: string, deploymentOption: string): PriceRule => ({
  service: 'AmazonRDS',
  family: 'Database Instance',
  attributes: { instanceType, databaseEngine: RDS_ENGINES[engine], deploymentOption },
});
const usage = (service: string, usagetype: RegExp, family?: string): PriceRule => ({
  service,
  ...(family !== undefined ? { family } : {}),
  attributes: { usagetype },
});

/** The rules of the prices of a region that are not per instance type, by key of RegionPrices. */
const FLAT_RULES: Record<string, PriceRule> = {
  ebsGp3GbMonth: { service: 'AmazonEC2', family: 'Storage', attributes: { volumeApiName: 'gp3' } },
  'rdsGp3GbMonth.singleAz': {
    service: 'AmazonRDS',
    family: 'Database Storage',
    attributes: { volumeType: 'General Purpose-GP3', deploymentOption: 'Single-AZ', databaseEngine: 'PostgreSQL' },
  },
  'rdsGp3GbMonth.multiAz': {
    service: 'AmazonRDS',
    family: 'Database Storage',
    attributes: { volumeType: 'General Purpose-GP3', deploymentOption: 'Multi-AZ', databaseEngine: 'PostgreSQL' },
  },
  auroraStorageGbMonth: usage('AmazonRDS', /(^|-)Aurora:StorageUsage$/),
  'backupGbMonth.rds': usage('AmazonRDS', /(^|-)RDS:ChargedBackupUsage$/),
  'backupGbMonth.aurora': usage('AmazonRDS', /(^|-)Aurora:BackupUsage$/),
  albHour: usage('AWSELB', /(^|-)LoadBalancerUsage$/, 'Load Balancer-Application'),
  albLcuHour: usage('AWSELB', /(^|-)LCUUsage$/, 'Load Balancer-Application'),
  natGatewayHour: usage('AmazonEC2', /(^|-)NatGateway-Hours$/),
  natGatewayGb: usage('AmazonEC2', /(^|-)NatGateway-Bytes$/),
  publicIpv4Hour: usage('AmazonVPC', /(^|-)PublicIPv4:InUseAddress$/),
  codeBuildSmallMinute: usage('CodeBuild', /(^|-)Build-Min:Linux:g1\.small$/),
  codePipelineV2ActionMinute: usage('AWSCodePipeline', /(^|-)actionExecutionMinute$/),
  alarmMetricMonth: usage('AmazonCloudWatch', /(^|-)CW:AlarmMonitorUsage$/),
  dashboardMonth: usage('AmazonCloudWatch', /(^|-)DashboardsUsageHour(-Basic)?$/),
  s3GbMonth: usage('AmazonS3', /(^|-)TimedStorage-ByteHrs$/),
  kmsKeyMonth: usage('awskms', /(^|-)KMS-Keys$/),
  secretMonth: usage('AWSSecretsManager', /(^|-)AWSSecretsManager-Secrets$/),
};

/** Reads an offer file of a service and region (from `offers` when given, else from AWS's public URL). */
export type OfferSource = (service: string, region: string) => OfferFile;

/** The prices of a region: the same instance types, classes and keys as `previous`, each read from the offers. */
export function regionPrices(region: string, previous: RegionPrices, offerOf: OfferSource): RegionPrices {
  const price = (rule: PriceRule, label: string) =>
    onDemandPrice(offerOf(rule.service, region), rule, `${region} ${label}`);
  const flat = (key: string) => price(FLAT_RULES[key], key);
  const perType = <T>(table: Readonly<Record<string, T>>, value: (name: string, old: T) => T) =>
    Object.fromEntries(Object.entries(table).map(([name, old]) => [name, value(name, old)]));
  return {
    ec2Hour: perType(previous.ec2Hour, (t) => price(ec2(t), `ec2Hour ${t}`)),
    ebsGp3GbMonth: flat('ebsGp3GbMonth'),
    rdsHour: perType(previous.rdsHour, (engine, classes) =>
      perType(classes, (c) => ({
        singleAz: price(rds(engine, c, 'Single-AZ'), `rdsHour ${engine} ${c} single-AZ`),
        multiAz: price(rds(engine, c, 'Multi-AZ'), `rdsHour ${engine} ${c} multi-AZ`),
      })),
    ),
    auroraHour: perType(previous.auroraHour, (engine, classes) =>
      perType(classes, (c) => price(rds(engine, c, 'Single-AZ'), `auroraHour ${engine} ${c}`)),
    ),
    rdsGp3GbMonth: { singleAz: flat('rdsGp3GbMonth.singleAz'), multiAz: flat('rdsGp3GbMonth.multiAz') },
    auroraStorageGbMonth: flat('auroraStorageGbMonth'),
    backupGbMonth: { rds: flat('backupGbMonth.rds'), aurora: flat('backupGbMonth.aurora') },
    albHour: flat('albHour'),
    albLcuHour: flat('albLcuHour'),
    natGatewayHour: flat('natGatewayHour'),
    natGatewayGb: flat('natGatewayGb'),
    publicIpv4Hour: flat('publicIpv4Hour'),
    codeBuildSmallMinute: flat('codeBuildSmallMinute'),
    codePipelineV2ActionMinute: flat('codePipelineV2ActionMinute'),
    alarmMetricMonth: flat('alarmMetricMonth'),
    // Dashboards are priced per dashboard-hour in some offers and per month in others: a monthly figure either way.
    dashboardMonth: ((p) => (p < 0.1 ? Math.round(p * 730 * 100) / 100 : p))(flat('dashboardMonth')),
    s3GbMonth: flat('s3GbMonth'),
    kmsKeyMonth: flat('kmsKeyMonth'),
    secretMonth: flat('secretMonth'),
    ssmStandardParameterMonth: 0,
  };
}

/** The whole table again, for the regions and types of `previous`, dated `asOf`. */
export function refreshedTable(previous: PriceTable, offerOf: OfferSource, asOf: string): PriceTable {
  return {
    ...previous,
    asOf,
    regions: Object.fromEntries(
      Object.entries(previous.regions).map(([region, prices]) => [region, regionPrices(region, prices, offerOf)]),
    ),
  };
}

/** prices.ts's text for a table (eslint --fix formats it afterwards). */
export function renderTable(table: PriceTable): string {
  return `/*
 * GENERATED by scripts/refresh-prices.ts (\`npx projen prices\`) from AWS's public Price List offer files: do not edit
 * by hand. CONTRIBUTING.md ("The price table") says how to refresh it, add a region or an instance type.
 *
 * Public on-demand prices in USD (Linux, shared tenancy), per hour or per GB-month, as of \`asOf\`: refresh them
 * before they are trusted for a budget.
 */
import type { PriceTable } from './price-table';

/** The bundled price table. */
export const PRICES: PriceTable = ${JSON.stringify(table, null, 2)};
`;
}

/** Writes the table refreshed from `previous` to `out`; returns it. */
export function writeRefreshed(previous: PriceTable, offerOf: OfferSource, asOf: string, out: string): PriceTable {
  const table = refreshedTable(previous, offerOf, asOf);
  writeFileSync(out, renderTable(table));
  return table;
}

const OFFERS_URL = 'https://pricing.us-east-1.amazonaws.com/offers/v1.0/aws';

/** The command: `[--offers DIR] [--out FILE] [--as-of YYYY-MM-DD]`. */
export function main(argv: string[]): void {
  const option = (name: string) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
  const dir = option('--offers');
  const cache = new Map<string, OfferFile>();
  const offerOf: OfferSource = (service, region) => {
    const key = `${service}/${region}`;
    let offer = cache.get(key);
    if (offer === undefined) {
      const file = dir !== undefined ? join(dir, service, `${region}.json`) : download(service, region);
      offer = JSON.parse(readFileSync(file, 'utf-8')) as OfferFile;
      cache.set(key, offer);
    }
    return offer;
  };
  const out = option('--out') ?? join(__dirname, '..', 'src', 'cli', 'cost', 'prices.ts');
  const table = writeRefreshed(PRICES, offerOf, option('--as-of') ?? new Date().toISOString().slice(0, 10), out);
  console.log(`refresh-prices: wrote ${out} as of ${table.asOf}`);
}

/** Downloads a public offer file with curl (no credentials) into .prices/; returns its path. */
function download(service: string, region: string): string {
  const dir = join(__dirname, '..', '.prices', service);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${region}.json`);
  execFileSync('curl', ['-fsSL', '-o', file, `${OFFERS_URL}/${service}/current/${region}/index.json`], {
    stdio: 'inherit',
  });
  return file;
}

if (require.main === module) main(process.argv.slice(2));
