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

function zones(): Zone[] {
  const config = JSON.parse(
    readFileSync(join(ROOT, '.eslintrc.json'), 'utf-8')
      .split('\n')
      .filter((line) => !line.startsWith('//'))
      .join('\n'),
  );
  return config.rules['import/no-restricted-paths'][1].zones;
}

async function lint(file: string, text: string): Promise<string[]> {
  // The project's .eslintrc.json (projen's), as `npx projen eslint` reads it. typescript-eslint's "single run"
  // mode (on when CI=true) parses files from disk and would ignore the text given here: off.
  process.env.TSESTREE_SINGLE_RUN = 'false';
  const LegacyESLint = await loadESLint({ useFlatConfig: false });
  const eslint = new LegacyESLint({ cwd: ROOT });
  const [result] = await eslint.lintText(text, { filePath: join(ROOT, file) });
  return result.messages.filter((m) => m.ruleId === 'import/no-restricted-paths').map((m) => m.message);
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
