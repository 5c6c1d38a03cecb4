/*
 * The shape of the price table of `paas-vending cost` (prices.ts, written by scripts/refresh-prices.ts): USD, Linux,
 * shared tenancy, on demand, per hour or per GB-month, by region.
 */

/** A price single-AZ and multi-AZ. */
export interface AzPrices {
  readonly singleAz: number;
  readonly multiAz: number;
}

/** The prices of one region. */
export interface RegionPrices {
  /** EC2 on-demand, Linux, shared tenancy: USD per instance-hour, by instance type. */
  readonly ec2Hour: Readonly<Record<string, number>>;
  /** EBS gp3 storage: USD per GB-month. */
  readonly ebsGp3GbMonth: number;
  /** RDS for PostgreSQL, MySQL and MariaDB: USD per instance-hour by engine, class, single-AZ and multi-AZ. */
  readonly rdsHour: Readonly<Record<string, Readonly<Record<string, AzPrices>>>>;
  /** Aurora: USD per instance-hour (each writer and reader) by engine and class. */
  readonly auroraHour: Readonly<Record<string, Readonly<Record<string, number>>>>;
  /** RDS gp3 storage: USD per GB-month, single-AZ and multi-AZ. */
  readonly rdsGp3GbMonth: { readonly singleAz: number; readonly multiAz: number };
  /** Aurora (standard) storage: USD per GB-month. */
  readonly auroraStorageGbMonth: number;
  /** Backup storage beyond the free share (100% of the provisioned storage): USD per GB-month, RDS and Aurora. */
  readonly backupGbMonth: { readonly rds: number; readonly aurora: number };
  /** Application Load Balancer: USD per hour and per LCU-hour. */
  readonly albHour: number;
  readonly albLcuHour: number;
  /** NAT gateway: USD per hour and per GB processed. */
  readonly natGatewayHour: number;
  readonly natGatewayGb: number;
  /** A public IPv4 address (each load balancer node, NAT gateway and NAT instance has one): USD per hour. */
  readonly publicIpv4Hour: number;
  /** CodeBuild, general1.small on Linux (both pipelines' compute type): USD per build-minute. */
  readonly codeBuildSmallMinute: number;
  /** CodePipeline V2 (both pipelines' type): USD per action execution minute. */
  readonly codePipelineV2ActionMinute: number;
  /** CloudWatch: a standard-resolution alarm metric per month; a dashboard per month (the first 3 are free). */
  readonly alarmMetricMonth: number;
  readonly dashboardMonth: number;
  /** S3 Standard storage: USD per GB-month (first 50 TB). */
  readonly s3GbMonth: number;
  /** A KMS customer managed key: USD per month. */
  readonly kmsKeyMonth: number;
  /** A Secrets Manager secret (the database's RDS-managed master password): USD per month. */
  readonly secretMonth: number;
  /** SSM Parameter Store standard parameters: free. */
  readonly ssmStandardParameterMonth: number;
}

/** The price table. */
export interface PriceTable {
  /** The date the prices were read. */
  readonly asOf: string;
  readonly currency: 'USD';
  /** Where they come from. */
  readonly sources: readonly string[];
  readonly regions: Readonly<Record<string, RegionPrices>>;
}

/** Where the table is, as messages name it. */
export const PRICE_TABLE_FILE = 'src/cli/cost/prices.ts';
