/*
 * Whole customer environments of the example fleet through the compliance gate (cdk-nag, Control Tower rules,
 * cfn-lint, aws-cdk-lib validation): a production one with its own load balancer and database, and a staging one
 * on the shared load balancer, beside the platform, with the findings each construct carries by design
 * acknowledged as their own tests do.
 */
import { join } from 'path';
import { ConfigLoader, VendingFleet } from '../../src';
import { acknowledgeSoftwarePipeline } from '../delivery-pipeline/fixture';
import { acknowledgeFleetPipeline } from '../fleet-pipeline/fixture';
import { expectCompliant, newTestApp } from '../support/compliance';
import {
  acknowledgeAmiPipeline,
  acknowledgeDatabase,
  acknowledgePlatform,
  acknowledgeWebTier,
} from '../support/platform-fixture';

test('acme-production and acme-staging of the example fleet, and its pipeline, pass every check', () => {
  const app = newTestApp();
  const fleet = ConfigLoader.loadFleet(join(__dirname, '..', '..', 'examples', 'fleet'));
  const chosen = fleet.customers.filter((c) => c.customer === 'acme');
  expect(chosen.map((c) => c.environment).sort()).toEqual(['production', 'staging']);
  const vending = new VendingFleet(app, { ...fleet, customers: chosen });
  acknowledgePlatform(vending.platform!);
  for (const environment of vending.environments) {
    acknowledgeWebTier(environment.webTier);
    acknowledgeDatabase(environment.webTier);
    acknowledgeAmiPipeline(environment.amiPipeline);
    acknowledgeSoftwarePipeline(environment.deliveryPipeline, environment.webTier);
  }
  // The example fleet's own pipeline too (platform.yaml's fleetPipeline:), with the findings it has by design.
  acknowledgeFleetPipeline(vending.fleetPipeline!);
  expectCompliant([vending.platformStack!, ...vending.environments, vending.pipelineStack!]);
});
