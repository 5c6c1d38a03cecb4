import { stringify } from 'yaml';
import { CONNECTION_ARN, messages, productionCustomer, stagingCustomer } from './fixtures';
import { ConfigLoader, DeploymentPolicy, DeploymentStrategy } from '../../src';
import { checkCustomer } from '../../src/config/loader';

/** A staging customer whose software section has `software` merged in. */
function withSoftware(software: any, base: any = stagingCustomer()): any {
  return { ...base, software: { ...base.software, ...software } };
}

const parse = (doc: any) => () => ConfigLoader.parseCustomer(stringify(doc), 'customers/acme-staging.yaml');
const deploymentOf = (doc: any) =>
  (ConfigLoader.parseCustomer(stringify(doc), 'acme.yaml').softwareDelivery as any).deployment;

describe('software.deployment: the deployment policies', () => {
  test('the three presets of deploymentConfig keep working and keep their meaning', () => {
    expect(deploymentOf(stagingCustomer())).toEqual({ policy: DeploymentPolicy.ROLLING });
    expect(ConfigLoader.parseCustomer(stringify(stagingCustomer())).softwareDelivery.deploymentConfig).toBe(
      DeploymentStrategy.ONE_AT_A_TIME,
    );
    expect(deploymentOf(withSoftware({ deploymentConfig: 'half-at-a-time' }))).toEqual({
      policy: DeploymentPolicy.ROLLING,
      minimumHealthyPercent: 50,
    });
    expect(deploymentOf(withSoftware({ deploymentConfig: 'all-at-once' }))).toEqual({
      policy: DeploymentPolicy.ALL_AT_ONCE,
    });
  });

  test('rolling with a batch size as a count keeps minCapacity minus the batch in service', () => {
    const doc = withSoftware({ deployment: { policy: 'rolling', batchSize: 2 } }, productionCustomer());
    delete doc.software.deploymentConfig;
    expect(deploymentOf(doc)).toEqual({ policy: DeploymentPolicy.ROLLING, minimumHealthyHosts: 0 });
    doc.compute.minCapacity = 5;
    expect(deploymentOf(doc)).toEqual({ policy: DeploymentPolicy.ROLLING, minimumHealthyHosts: 3 });
  });

  test('rolling with a batch size as a percentage, and custom minimum healthy hosts', () => {
    expect(deploymentOf(withSoftware({ deployment: { batchSizePercent: 25 } }))).toEqual({
      policy: DeploymentPolicy.ROLLING,
      minimumHealthyPercent: 75,
    });
    expect(deploymentOf(withSoftware({ deployment: { minimumHealthyPercent: 80 } }))).toEqual({
      policy: DeploymentPolicy.ROLLING,
      minimumHealthyPercent: 80,
    });
    const doc = withSoftware({ deployment: { minimumHealthyHosts: 3 } });
    doc.compute = { minCapacity: 4 };
    expect(deploymentOf(doc)).toEqual({ policy: DeploymentPolicy.ROLLING, minimumHealthyHosts: 3 });
    expect(deploymentOf(withSoftware({ deployment: { policy: 'all-at-once' } }))).toEqual({
      policy: DeploymentPolicy.ALL_AT_ONCE,
    });
  });

  test('a resolved config validates again and resolves to itself (fromConfig checks what the loader returned)', () => {
    for (const software of [
      {},
      { deploymentConfig: 'half-at-a-time' },
      { deploymentConfig: 'all-at-once' },
      { deployment: { batchSize: 1 } },
      { deployment: { batchSizePercent: 30 } },
      { deployment: { policy: 'all-at-once' } },
    ]) {
      const config = ConfigLoader.parseCustomer(stringify(withSoftware(software)), 'acme.yaml');
      expect(checkCustomer(config).softwareDelivery).toEqual(config.softwareDelivery);
    }
  });

  test('a misspelled policy is refused with the five policies, a misspelled key with the nearest one', () => {
    expect(messages(parse(withSoftware({ deployment: { policy: 'rollin' } })))).toEqual([
      'software.deployment.policy: received "rollin"; expected one of all-at-once, rolling, ' +
        'rolling-with-additional-batch, immutable, traffic-splitting',
    ]);
    expect(messages(parse(withSoftware({ deployment: { batchsize: 1 } })))).toEqual([
      expect.stringMatching(/^software\.deployment.*"batchsize".*did you mean "batchSize"/),
    ]);
  });

  test('deploymentConfig beside a deployment that says something else is refused, naming both', () => {
    expect(
      messages(parse(withSoftware({ deploymentConfig: 'all-at-once', deployment: { batchSizePercent: 50 } }))),
    ).toEqual([
      'software.deploymentConfig: received "all-at-once" beside software.deployment; expected one of the two ' +
        '(one-at-a-time is deployment.policy rolling alone, half-at-a-time is rolling with batchSizePercent 50, ' +
        'all-at-once is policy all-at-once)',
    ]);
  });

  test('two batch keys, or a batch key on all-at-once, are refused', () => {
    expect(messages(parse(withSoftware({ deployment: { batchSize: 1, batchSizePercent: 20 } })))).toEqual([
      'software.deployment.batchSizePercent: received batchSize and batchSizePercent; expected at most one of ' +
        'batchSize, batchSizePercent, minimumHealthyHosts, minimumHealthyPercent (each says how many instances ' +
        'CodeDeploy updates at a time)',
    ]);
    expect(messages(parse(withSoftware({ deployment: { policy: 'all-at-once', batchSize: 1 } })))).toEqual([
      'software.deployment.batchSize: received batchSize with policy all-at-once; expected it with policy rolling ' +
        'or rolling-with-additional-batch only (all-at-once updates every instance at once)',
    ]);
  });

  test('rolling-with-additional-batch: an extra batch of batchSize instances (one by default) or batchSizePercent', () => {
    const policy = 'rolling-with-additional-batch';
    expect(deploymentOf(withSoftware({ deployment: { policy } }))).toEqual({ policy, batchSize: 1 });
    expect(deploymentOf(withSoftware({ deployment: { policy, batchSize: 3 } }))).toEqual({ policy, batchSize: 3 });
    expect(deploymentOf(withSoftware({ deployment: { policy, batchSizePercent: 30 } }))).toEqual({
      policy,
      batchSizePercent: 30,
    });
    // The extra batch may be larger than minCapacity (1 in staging): it runs beside the instances, up to maxCapacity.
    expect(deploymentOf(withSoftware({ deployment: { policy, batchSize: 4 } }))).toEqual({ policy, batchSize: 4 });
    expect(messages(parse(withSoftware({ deployment: { policy, batchSize: 5 } })))).toEqual([
      'software.deployment.batchSize: received 5, more than compute.maxCapacity (4); expected at most 4 ' +
        '(the extra batch is launched beside the running instances, and updated at a time)',
    ]);
    expect(messages(parse(withSoftware({ deployment: { policy, minimumHealthyHosts: 1 } })))).toEqual([
      'software.deployment.minimumHealthyHosts: received minimumHealthyHosts with policy rolling-with-additional-batch; ' +
        "expected batchSize or batchSizePercent (the extra batch's size: as many instances as ran before stay in " +
        'service), or minimumHealthyHosts with policy rolling',
    ]);
    expect(messages(parse(withSoftware({ deployment: { policy, batchSize: 1, batchSizePercent: 10 } })))).toEqual([
      'software.deployment.batchSizePercent: received batchSize and batchSizePercent; expected at most one of ' +
        'batchSize, batchSizePercent (each says how many instances CodeDeploy updates at a time)',
    ]);
    // Beside a preset, which never says the same.
    expect(messages(parse(withSoftware({ deploymentConfig: 'one-at-a-time', deployment: { policy } })))).toEqual([
      expect.stringMatching(/^software\.deploymentConfig: received "one-at-a-time" beside software\.deployment/),
    ]);
  });

  test('a batch larger than the minimum, or minimum healthy hosts that leave nothing to update, are refused', () => {
    expect(messages(parse(withSoftware({ deployment: { batchSize: 2 } })))).toEqual([
      'software.deployment.batchSize: received 2, more than compute.minCapacity (1); expected at most 1 ' +
        '(CodeDeploy keeps minCapacity minus batchSize instances in service)',
    ]);
    const doc = withSoftware({ deployment: { minimumHealthyHosts: 2 } });
    doc.compute = { minCapacity: 2 };
    expect(messages(parse(doc))).toEqual([
      'software.deployment.minimumHealthyHosts: received 2, not less than compute.minCapacity (2); expected at most ' +
        '1, so that CodeDeploy has an instance to update while the group runs at its minimum',
    ]);
  });

  test('out-of-range numbers are refused by the schema with their rule', () => {
    const problems = messages(parse(withSoftware({ deployment: { batchSizePercent: 100 } })));
    expect(problems).toEqual([
      expect.stringMatching(/^software\.deployment\.batchSizePercent: received 100; expected .*99/),
    ]);
    expect(messages(parse(withSoftware({ deployment: { batchSize: 0 } })))).toEqual([
      expect.stringMatching(/^software\.deployment\.batchSize: received 0; expected .*1/),
    ]);
  });

  test('immutable takes no batch key', () => {
    expect(deploymentOf(withSoftware({ deployment: { policy: 'immutable' } }))).toEqual({ policy: 'immutable' });
    expect(messages(parse(withSoftware({ deployment: { policy: 'immutable', batchSize: 1 } })))).toEqual([
      'software.deployment.batchSize: received batchSize with policy immutable; expected it with policy rolling or ' +
        "rolling-with-additional-batch only (immutable deploys to new instances first, then to the group's)",
    ]);
  });

  test('traffic-splitting: a canary share and an evaluation, 10 % and 5 minutes by default, for that policy only', () => {
    const policy = 'traffic-splitting';
    expect(deploymentOf(withSoftware({ deployment: { policy } }))).toEqual({
      policy,
      canaryPercent: 10,
      evaluationMinutes: 5,
    });
    expect(deploymentOf(withSoftware({ deployment: { policy, canaryPercent: 25, evaluationMinutes: 8 } }))).toEqual({
      policy,
      canaryPercent: 25,
      evaluationMinutes: 8,
    });
    expect(messages(parse(withSoftware({ deployment: { policy: 'immutable', canaryPercent: 10 } })))).toEqual([
      'software.deployment.canaryPercent: received canaryPercent with policy immutable; expected it with policy ' +
        'traffic-splitting only',
    ]);
    expect(messages(parse(withSoftware({ deployment: { policy, canaryPercent: 60 } })))).toEqual([
      expect.stringMatching(/^software\.deployment\.canaryPercent: received 60; expected .*50/),
    ]);
    expect(messages(parse(withSoftware({ deployment: { policy, evaluationMinutes: 11 } })))).toEqual([
      expect.stringMatching(/^software\.deployment\.evaluationMinutes: received 11; expected .*10/),
    ]);
    expect(messages(parse(withSoftware({ deployment: { policy, batchSize: 1 } })))).toEqual([
      'software.deployment.batchSize: received batchSize with policy traffic-splitting; expected it with policy ' +
        "rolling or rolling-with-additional-batch only (traffic-splitting deploys to new instances first, then to the group's)",
    ]);
  });

  test('a config built in code takes the same block (softwareDelivery.deployment)', () => {
    const config = checkCustomer({
      customer: 'acme',
      environment: 'staging',
      softwareDelivery: {
        repository: { connectionArn: CONNECTION_ARN, owner: 'acme', name: 'website' },
        deployment: { policy: DeploymentPolicy.ROLLING, batchSizePercent: 40 },
      },
    });
    expect(config.softwareDelivery.deployment).toEqual({ policy: DeploymentPolicy.ROLLING, minimumHealthyPercent: 60 });
    expect(config.softwareDelivery.deploymentConfig).toBeUndefined();
  });
});
