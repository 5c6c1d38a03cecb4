// One customer environment in a CDK app of its own, on a platform deployed elsewhere (its own repository and
// pipeline, as the article keeps each customer's infrastructure). The platform is reached through the SSM
// parameters it publishes: nothing is looked up at synth time and nothing is imported from its stack.
//
//   npx aws-cdk synth                                   ../fleet/customers/acme-production.yaml
//   VENDING_CUSTOMER_FILE=/path/to/acme-staging.yaml npx aws-cdk synth
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import { ConfigLoader, CustomerEnvironment, PlatformReference } from 'cdk-paas-vending';

const customerFile =
  process.argv[2] ??
  process.env.VENDING_CUSTOMER_FILE ??
  path.join(__dirname, '..', 'fleet', 'customers', 'acme-production.yaml');
const platformFile = process.env.VENDING_PLATFORM_FILE ?? path.join(path.dirname(customerFile), '..', 'platform.yaml');

const app = new App();
const platform = ConfigLoader.loadPlatformFile(platformFile);
const config = ConfigLoader.loadCustomerFile(customerFile, { platform });
new CustomerEnvironment(app, `${config.customer}-${config.environment}`, {
  config,
  platform: PlatformReference.fromConfig(platform),
});
app.synth();
