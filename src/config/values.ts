/**
 * The rules of single values that both a config file and the constructs' props obey, stated once. The JSON Schemas
 * carry them (generated from the `@pattern` and `@expected` tags of types.ts); the loader applies the schemas to
 * files, and every construct applies the same rule to its props through `valueProblem`, read from the same schema.
 * test/config/one-source.test.ts shows that a value a file may not hold is refused in props too.
 */
import { Token } from 'aws-cdk-lib';
import { describeValue } from './errors';
import { schemaDocument } from './schema';

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
  imageId: ['AmiConfig', 'initialImageId', false],
} as const;

export type ValueRuleName = keyof typeof PLACES;

let rules: Map<ValueRuleName, ValueRule> | undefined;

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
