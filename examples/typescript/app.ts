// A whole fleet as a CDK app: the platform stack and one stack per customer file.
//
//   npx aws-cdk synth                              the bundled example fleet (../fleet)
//   VENDING_FLEET_DIR=/path/to/fleet npx aws-cdk synth
//   npx ts-node --prefer-ts-exts app.ts /path/to/fleet   (without the CDK CLI; writes cdk.out/)
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import { VendingFleet } from 'cdk-paas-vending';

// A directory with platform.yaml and customers/*.yaml: the first argument, else $VENDING_FLEET_DIR,
// else the example fleet next to this directory.
const fleetDirectory = process.argv[2] ?? process.env.VENDING_FLEET_DIR ?? path.join(__dirname, '..', 'fleet');

const app = new App();
VendingFleet.fromDirectory(app, fleetDirectory);
app.synth();
