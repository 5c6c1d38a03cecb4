/*
 * The modules of src/ in layers (.projenrc.ts LAYERS, enforced by eslint's import/no-restricted-paths): a module
 * imports only modules of lower layers. These tests show that the rule refuses an import against the direction,
 * allows one along it, and places every module of src/.
 */
import { readdirSync, readFileSync } from 'fs';
import { join } from 'path';
import { loadESLint } from 'eslint';

const ROOT = join(__dirname, '..', '..');

interface Zone {
  readonly target: string;
  readonly from: string[];
}

/** The project's .eslintrc.json (projen's, with its `//` comment lines). */
function eslintrc(): any {
  return JSON.parse(
    readFileSync(join(ROOT, '.eslintrc.json'), 'utf-8')
      .split('\n')
      .filter((line) => !line.startsWith('//'))
      .join('\n'),
  );
}

function zones(): Zone[] {
  return eslintrc().rules['import/no-restricted-paths'][1].zones;
}

let linter: Promise<any> | undefined;

/**
 * An ESLint with the project's parser, import settings (resolver included) and its import/no-restricted-paths rule
 * as `npx projen eslint` reads them, and no other rule: the others, some of which need type information, would have
 * the parser build a TypeScript program of the whole project (about 17 s) for rules these probes do not test.
 */
function layersLinter(): Promise<any> {
  linter ??= loadESLint({ useFlatConfig: false }).then((LegacyESLint) => {
    const config = eslintrc();
    return new LegacyESLint({
      cwd: ROOT,
      useEslintrc: false,
      overrideConfig: {
        root: true,
        parser: config.parser,
        plugins: ['import'],
        parserOptions: { ecmaVersion: config.parserOptions.ecmaVersion, sourceType: config.parserOptions.sourceType },
        settings: config.settings,
        rules: { 'import/no-restricted-paths': config.rules['import/no-restricted-paths'] },
      },
    });
  });
  return linter;
}

async function lint(file: string, text: string): Promise<string[]> {
  const [result] = await (await layersLinter()).lintText(text, { filePath: join(ROOT, file) });
  expect(result.messages.filter((m: any) => m.fatal)).toEqual([]);
  return result.messages.filter((m: any) => m.ruleId === 'import/no-restricted-paths').map((m: any) => m.message);
}

test('every module of src/ is in a layer', () => {
  const modules = readdirSync(join(ROOT, 'src'), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => `./src/${entry.name}`)
    .sort();
  expect(
    zones()
      .map((zone) => zone.target)
      .sort(),
  ).toEqual(modules);
});

test('a pipeline may not import the other pipeline, nor a module above it', async () => {
  const messages = await lint(
    'src/ami-pipeline/scripts.ts',
    "import { SoftwareDeliveryPipeline } from '../delivery-pipeline/software-delivery-pipeline';\n" +
      "import { VendingFleet } from '../environment/vending-fleet';\n" +
      'export const probe = [SoftwareDeliveryPipeline, VendingFleet];\n',
  );
  expect(messages).toHaveLength(2);
  expect(messages[0]).toMatch(
    /src\/ami-pipeline is in layer \d+ \(\.projenrc\.ts LAYERS\): it may import only modules of lower layers/,
  );
});

test('the web tier may not import what is built on it', async () => {
  const messages = await lint(
    'src/web-tier/ingress.ts',
    "import { PipelineSource } from '../pipeline-common/pipeline-source';\nexport const probe = PipelineSource;\n",
  );
  expect(messages).toHaveLength(1);
});

test('a module may import the modules of lower layers', async () => {
  const messages = await lint(
    'src/delivery-pipeline/index.ts',
    "import { PipelineSource } from '../pipeline-common/pipeline-source';\n" +
      "import { CustomerWebTier } from '../web-tier/customer-web-tier';\n" +
      "import { ConfigLoader } from '../config/loader';\n" +
      'export const probe = [PipelineSource, CustomerWebTier, ConfigLoader];\n',
  );
  expect(messages).toEqual([]);
});
