/**
 * The rules of single values that both a config file and the constructs' props obey, stated once. The JSON Schemas
 * carry them (generated from the `@pattern` and `@expected` tags of types.ts); the loader applies the schemas to
 * files, and every construct applies the same rule to its props through `valueProblem`, read from the same schema.
 * test/config/one-source.test.ts shows that a value a file may not hold is refused in props too.
 */
import { Duration, Size, SizeRoundingBehavior, Token } from 'aws-cdk-lib';
import { describeValue } from './errors';
import { expectedOf, schemaDocument } from './schema';

/** A rule of one value: the schema's pattern and the words an error message quotes. */
export interface ValueRule {
  readonly pattern: RegExp;
  readonly expected: string;
}

/** Where each rule is in the customer schema: the definition, the property, and whether it is the rule of an item. */
const PLACES = {
  customer: ['CustomerConfig', 'customer', false],
  environment: ['CustomerConfig', 'environment', false],
  hostname: ['CustomerConfig', 'hostname', false],
  instanceType: ['ComputeConfig', 'instanceType', false],
  buildInstanceType: ['AmiConfig', 'buildInstanceType', false],
  email: ['CustomerConfig', 'approvalEmails', true],
  alertEmail: ['HealthConfig', 'alertEmails', true],
  imageId: ['AmiConfig', 'initialImageId', false],
  databaseInstanceType: ['DatabaseConfig', 'instanceType', false],
  masterUsername: ['DatabaseConfig', 'masterUsername', false],
  databaseIdentifier: ['DatabaseConfig', 'clusterName', false],
  backupWindow: ['DatabaseConfig', 'preferredBackupWindow', false],
  securityGroupId: ['DatabaseConfig', 'securityGroupIds', true],
  healthCheckPath: ['HealthCheckConfig', 'path', false],
  healthyHttpCodes: ['HealthCheckConfig', 'healthyHttpCodes', false],
  settingName: ['CustomerConfig', 'secrets', true],
} as const;

export type ValueRuleName = keyof typeof PLACES;

/** Where each rule of a number is in the customer schema: the definition and the property. */
const NUMBER_PLACES = {
  minCapacity: ['ComputeConfig', 'minCapacity'],
  maxCapacity: ['ComputeConfig', 'maxCapacity'],
  targetCpuPercent: ['ComputeConfig', 'targetCpuPercent'],
  targetRequestsPerInstance: ['ComputeConfig', 'targetRequestsPerInstance'],
  rootVolumeGib: ['ComputeConfig', 'rootVolumeGib'],
  intervalSeconds: ['HealthCheckConfig', 'intervalSeconds'],
  timeoutSeconds: ['HealthCheckConfig', 'timeoutSeconds'],
  healthyThreshold: ['HealthCheckConfig', 'healthyThreshold'],
  unhealthyThreshold: ['HealthCheckConfig', 'unhealthyThreshold'],
  backupRetentionDays: ['DatabaseConfig', 'backupRetentionDays'],
  databasePort: ['DatabaseConfig', 'port'],
  keepImages: ['AmiConfig', 'keepImages'],
  http5xxPercent: ['HealthConfig', 'http5xxPercent'],
  latencyP99Ms: ['HealthConfig', 'latencyP99Ms'],
  unhealthyHosts: ['HealthConfig', 'unhealthyHosts'],
  cpuPercent: ['HealthConfig', 'cpuPercent'],
  dbCpuPercent: ['HealthConfig', 'dbCpuPercent'],
  dbFreeStorageGib: ['HealthConfig', 'dbFreeStorageGib'],
  dbReplicaLagSeconds: ['HealthConfig', 'dbReplicaLagSeconds'],
} as const;

export type NumberRuleName = keyof typeof NUMBER_PLACES;

/** The rule of a number: its bounds, whether it is whole, and the words an error message quotes. */
export interface NumberRule {
  readonly minimum: number;
  readonly maximum: number;
  readonly integer: boolean;
  readonly expected: string;
}

let rules: Map<ValueRuleName, ValueRule> | undefined;
let numberRules: Map<NumberRuleName, NumberRule> | undefined;

/** The rule of a value, as the customer schema states it. */
export function valueRule(name: ValueRuleName): ValueRule {
  rules ??= readRules();
  return rules.get(name)!;
}

function readRules(): Map<ValueRuleName, ValueRule> {
  const schema = schemaDocument('customer');
  const out = new Map<ValueRuleName, ValueRule>();
  for (const [name, [definition, property, item]] of Object.entries(PLACES)) {
    const field = schema.definitions[definition].properties[property];
    const node = item ? field.items : field;
    out.set(name as ValueRuleName, { pattern: new RegExp(node.pattern, 'u'), expected: node.expected });
  }
  return out;
}

/** The rule of a number, as the customer schema states it. */
export function numberRule(name: NumberRuleName): NumberRule {
  numberRules ??= readNumberRules();
  return numberRules.get(name)!;
}

function readNumberRules(): Map<NumberRuleName, NumberRule> {
  const schema = schemaDocument('customer');
  const out = new Map<NumberRuleName, NumberRule>();
  for (const [name, [definition, property]] of Object.entries(NUMBER_PLACES)) {
    const node = schema.definitions[definition].properties[property];
    out.set(name as NumberRuleName, {
      minimum: node.minimum,
      maximum: node.maximum,
      integer: node.type === 'integer',
      expected: expectedOf(node, schema),
    });
  }
  return out;
}

/**
 * Why a number breaks its rule (`received …; expected …`, the words a file's error uses), or undefined when it
 * keeps it or is a token, which is left to CloudFormation. `unit` (a prop's "seconds", "GiB", "days") follows the
 * numbers in the message.
 */
export function numberProblem(name: NumberRuleName, value: unknown, unit?: string): string | undefined {
  if (typeof value === 'number' && Token.isUnresolved(value)) return undefined;
  const rule = numberRule(name);
  if (
    typeof value === 'number' &&
    value >= rule.minimum &&
    value <= rule.maximum &&
    (!rule.integer || Number.isInteger(value))
  ) {
    return undefined;
  }
  // A fraction where a whole number belongs: the words of a file's type error.
  const kind = typeof value === 'number' && rule.integer && !Number.isInteger(value) ? ' (a number)' : '';
  const units = unit ? ` ${unit}` : '';
  return `received ${describeValue(value)}${units}${kind}; expected ${rule.expected}${units}`;
}

/** A duration in seconds, fractions kept (so that a rule of whole seconds can refuse them); undefined for a token. */
export function secondsOf(duration: Duration | undefined): number | undefined {
  if (duration === undefined || duration.isUnresolved()) return undefined;
  return duration.toSeconds({ integral: false });
}

/** A duration in days, fractions kept; undefined for a token. */
export function daysOf(duration: Duration | undefined): number | undefined {
  if (duration === undefined || duration.isUnresolved()) return undefined;
  return duration.toDays({ integral: false });
}

/** A size in GiB, fractions kept; undefined for a token. */
export function gibibytesOf(size: Size | undefined): number | undefined {
  if (size === undefined || size.isUnresolved()) return undefined;
  return size.toGibibytes({ rounding: SizeRoundingBehavior.NONE });
}

/**
 * Why a value breaks its rule (`received …; expected …`), or undefined when it keeps it. A token is not known
 * before deployment: it is left to CloudFormation.
 */
export function valueProblem(name: ValueRuleName, value: unknown): string | undefined {
  if (typeof value === 'string' && Token.isUnresolved(value)) return undefined;
  const rule = valueRule(name);
  if (typeof value === 'string' && rule.pattern.test(value)) return undefined;
  return `received ${describeValue(value)}; expected ${rule.expected}`;
}

/**
 * Why a list of approvers does not do in an environment (production needs at least one), or undefined. `what`
 * names what waits for them: "releases", "images".
 */
export function approversProblem(emails: unknown, production: boolean, what: string): string | undefined {
  if (!production) return undefined;
  if (emails === undefined || (Array.isArray(emails) && emails.length === 0)) {
    return `received ${describeValue(emails)}; expected at least one address: production ${what} wait for a person's approval`;
  }
  return undefined;
}
