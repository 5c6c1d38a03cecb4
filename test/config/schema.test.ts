import { readFileSync } from 'fs';
import { join } from 'path';
import { generateSchemas } from '../../scripts/generate-schema';
import { DatabaseEngine, DeploymentStrategy } from '../../src';
import { closest } from '../../src/config/schema';

describe('JSON Schemas of the config files', () => {
  const generated = generateSchemas();

  test.each(Object.keys(generated))('schema/%s is generated from src/config/types.ts and up to date', (file) => {
    const committed = readFileSync(join(__dirname, '../../schema', file), 'utf-8');
    // Run `npx projen schema` when this fails: the types changed and the schema did not follow.
    expect(committed).toBe(generated[file]);
  });

  test('the schema carries the contract: required keys, closed objects, enums, patterns', () => {
    const schema = JSON.parse(generated['customer-config.schema.json']);
    const customer = schema.definitions.CustomerConfig;
    expect(customer.required).toEqual(['customer', 'environment', 'software']);
    expect(customer.additionalProperties).toBe(false);
    expect(schema.definitions.DatabaseEngine.enum).toEqual(Object.values(DatabaseEngine));
    expect(schema.definitions.DeploymentStrategy.enum).toEqual(Object.values(DeploymentStrategy));
    expect(customer.properties.customer.pattern).toBe('^(?!.*--)[a-z][a-z0-9-]{1,30}[a-z0-9]$');
    expect(schema.definitions.ComputeConfig.properties.minCapacity).toMatchObject({
      type: 'integer',
      minimum: 0,
      maximum: 100,
    });
    // Prose defaults of the jsii docs become descriptions, never fake values.
    expect(customer.properties.hostname.default).toBeUndefined();
    expect(customer.properties.hostname.description).toContain('Default: "<customer>-<environment>.<platform domain>"');
    expect(customer.properties.approvalEmails.items.pattern).toBeDefined();
  });

  test('typo suggestions only for near misses', () => {
    expect(closest('instanceTyp', ['instanceType', 'minCapacity'])).toBe('instanceType');
    expect(closest('colour', ['instanceType', 'minCapacity'])).toBeUndefined();
  });
});
