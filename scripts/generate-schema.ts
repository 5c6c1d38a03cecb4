/*
 * Generates schema/customer-config.schema.json and schema/platform-config.schema.json from the
 * interfaces in src/config/types.ts (and the pipeline-types.ts and platform-types.ts it re-exports), the one
 * source of truth of the config file contract.
 * Run by the pre-compile task (`npx projen schema`); CI fails when the committed files are stale.
 */
import { writeFileSync } from 'fs';
import { join } from 'path';
import { createGenerator } from 'ts-json-schema-generator';

const root = join(__dirname, '..');

type Json = { [key: string]: any };

/** Moves the library's own doc tags into standard places and drops jsii-only prose defaults. */
function tidy(node: Json): void {
  if (Array.isArray(node)) {
    node.forEach(tidy);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  if (typeof node.default === 'string' && node.default.startsWith('- ')) {
    // `@default - prose` documents a computed default: say it, but do not pretend it is a value.
    node.description = `${node.description ?? ''} Default: ${node.default.slice(2)}.`.trim();
    delete node.default;
  }
  if (node.properties && typeof node.properties === 'object') {
    // `@configKey name`: the key a config file uses for a struct property of another name.
    for (const [property, schema] of Object.entries<Json>(node.properties)) {
      const fileKey = schema.configKey;
      if (typeof fileKey !== 'string') continue;
      delete schema.configKey;
      node.properties = Object.fromEntries(
        Object.entries<Json>(node.properties).map(([k, v]) => [k === property ? fileKey : k, v]),
      );
      node.required = node.required?.map((k: string) => (k === property ? fileKey : k));
    }
  }
  if (node.itemPattern !== undefined || node.itemExpected !== undefined) {
    node.items = { ...node.items, pattern: node.itemPattern, expected: node.itemExpected };
    delete node.itemPattern;
    delete node.itemExpected;
  }
  Object.values(node).forEach(tidy);
}

/** The schema files, by file name, as generated from the current types. */
export function generateSchemas(): Record<string, string> {
  const files: Record<string, string> = {};
  for (const [type, file, title] of [
    ['CustomerConfig', 'customer-config.schema.json', 'cdk-paas-vending customer environment'],
    ['PlatformConfig', 'platform-config.schema.json', 'cdk-paas-vending platform'],
  ]) {
    const schema: Json = createGenerator({
      path: join(root, 'src/config/*types.ts'),
      tsconfig: join(root, 'tsconfig.dev.json'),
      type,
      extraTags: ['expected', 'itemPattern', 'itemExpected', 'configKey'],
      additionalProperties: false,
      skipTypeCheck: true,
    }).createSchema(type);
    tidy(schema);
    // Editors may be pointed at the schema with a `$schema` key in JSON files; the loader drops it.
    schema.definitions[type].properties.$schema = { type: 'string', description: 'URL or path of this JSON Schema.' };
    const out = {
      $schema: schema.$schema,
      $id: `https://cdk-paas-vending.invalid/schema/${file}`,
      title,
      ...schema,
    };
    files[file] = JSON.stringify(out, null, 2) + '\n';
  }
  return files;
}

if (require.main === module) {
  for (const [file, text] of Object.entries(generateSchemas())) {
    writeFileSync(join(root, 'schema', file), text);
    console.log(`wrote schema/${file}`);
  }
}
