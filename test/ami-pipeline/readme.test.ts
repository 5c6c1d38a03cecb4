/*
 * README shows the build.pkr.hcl that the example fleet's acme-production gets; it must stay what the library
 * renders (change the README when the rendering changes on purpose).
 */
import { readFileSync } from 'fs';
import { join } from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { ConfigLoader, CustomerAmiPipeline, CustomerWebTier, SharedPlatform } from '../../src';

const ROOT = join(__dirname, '..', '..');

test("README's rendered template is the example fleet's acme-production template", () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const shown = readme.match(/<code>acme-production<\/code><\/summary>\n\n```hcl\n([\s\S]*?)```/);
  expect(shown).not.toBeNull();
  const fleet = ConfigLoader.loadFleet(join(ROOT, 'examples', 'fleet'));
  const acme = fleet.customers.find((c) => c.customer === 'acme' && c.environment === 'production')!;
  const app = new App();
  const env = { account: fleet.platform.account, region: fleet.platform.region };
  const platform = SharedPlatform.fromConfig(new Stack(app, 'Platform', { env }), 'Platform', fleet.platform);
  const stack = new Stack(app, 'AcmeProduction', { env });
  const web = CustomerWebTier.fromConfig(stack, 'Web', acme, platform);
  const pipeline = CustomerAmiPipeline.fromConfig(stack, 'Ami', acme, platform, web);
  expect(shown![1]).toBe(pipeline.packerTemplate.renderBuild());
});
