import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { CERTIFICATE_ARN, messages, platform, problemsOf, stagingCustomer, writeFleet } from './fixtures';
import { ConfigLoader, CustomerEnvironment, PlatformReference, VendingFleet } from '../../src';
import { readFleet } from '../../src/config/loader';

/*
 * The environments a platform offers are declared once in platform.yaml, each saying whether it is production. A
 * customer file names one of them, and its file name says which customer and environment it holds.
 */

const customerIn = (environment: string, extra: any = {}) => ({ ...stagingCustomer(), environment, ...extra });

describe('environment names', () => {
  test.each([
    ['prodution', 'production'],
    ['prod', 'production'],
    ['stagin', 'staging'],
  ])('an unknown environment %s is an error with "did you mean %s"', (typo, meant) => {
    const dir = writeFleet(platform(), { [`acme-${typo}.yaml`]: customerIn(typo) });
    const problems = problemsOf(() => readFleet(dir));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ path: 'environment' });
    expect(problems[0].message).toBe(
      `received "${typo}" (did you mean "${meant}"?); expected an environment of platform vending: ` +
        'production, staging or development (environments in platform.yaml)',
    );
  });

  test('without a platform, the default environments are the ones known', () => {
    expect(messages(() => ConfigLoader.parseCustomer(JSON.stringify(customerIn('prod')), 'x.yaml'))).toEqual([
      'environment: received "prod" (did you mean "production"?); expected one of the default environments: ' +
        'production, staging or development (environments in platform.yaml)',
    ]);
  });

  test('a platform declares its environments, and says which are production', () => {
    const declared = {
      ...platform(),
      environment: 'live',
      environments: [{ name: 'live', production: true }, { name: 'qa' }],
    };
    // "live" is production here: approvers are required, and the database is multi-AZ by default.
    const live = customerIn('live', { database: { engine: 'postgres', version: '16' } });
    const dir = writeFleet(declared, { 'acme-live.yaml': live, 'acme-qa.yaml': customerIn('qa') });
    expect(messages(() => readFleet(dir))).toEqual([
      "approvalEmails: received nothing; expected at least one address: production releases wait for a person's approval",
    ]);
    const approved = writeFleet(declared, {
      'acme-live.yaml': { ...live, approvalEmails: ['ops@acme.com'] },
      'acme-qa.yaml': customerIn('qa'),
    });
    const fleet = readFleet(approved);
    expect(fleet.platform.production).toBe(true);
    expect(fleet.customers.map((c) => [c.environment, c.production, c.database?.multiAz])).toEqual([
      ['live', true, true],
      ['qa', false, undefined],
    ]);
    // "production" is no environment of this platform.
    const other = writeFleet(declared, { 'acme-production.yaml': customerIn('production') });
    expect(messages(() => readFleet(other))).toEqual([
      'environment: received "production"; expected an environment of platform vending: live or qa (environments in platform.yaml)',
    ]);
  });

  test("the platform's own environment is one it declares, each name once", () => {
    const problems = messages(() =>
      ConfigLoader.parsePlatform(
        JSON.stringify({
          ...platform(),
          environment: 'prod',
          environments: [{ name: 'production', production: true }, { name: 'staging' }, { name: 'staging' }],
        }),
        'platform.yaml',
      ),
    );
    expect(problems).toEqual([
      'environment: received "prod" (did you mean "production"?); expected one of the environments the platform declares: production or staging',
      'environments[2].name: received "staging", already declared in environments[1]; expected each environment once',
    ]);
  });

  test('a customer file is named <customer>-<environment>', () => {
    const dir = writeFleet(platform(), {
      'contoso-prod.yaml': { ...customerIn('staging'), customer: 'contoso' },
      'acme.yaml': customerIn('staging'),
      'acme-staging.yml': customerIn('staging'),
    });
    const problems = problemsOf(() => readFleet(dir));
    expect(problems.map((p) => `${p.file.replace(/.*customers\//, '')}: ${p.message}`)).toEqual([
      'acme.yaml: holds customer acme, environment staging; expected the file name acme-staging.yaml (or .yml, .json)',
      'contoso-prod.yaml: holds customer contoso, environment staging; expected the file name contoso-staging.yaml (or .yml, .json)',
    ]);
  });

  test("an environment's production safeguards come from the platform's declaration, through to the stack", () => {
    const declared = {
      ...platform(),
      environments: [
        { name: 'production', production: true },
        { name: 'live', production: true },
      ],
    };
    const live = {
      ...customerIn('live'),
      approvalEmails: ['ops@acme.com'],
      customDomain: { name: 'www.acme.com', certificateArn: CERTIFICATE_ARN },
    };
    const dir = writeFleet(declared, { 'acme-live.yaml': live });
    const app = new App();
    const fleet = VendingFleet.fromDirectory(app, dir);
    const stack = fleet.environments[0];
    expect(stack.production).toBe(true);
    expect(stack.terminationProtection).toBe(true);
    // Production with a custom domain: a load balancer of its own.
    Template.fromStack(stack).resourceCountIs('AWS::ElasticLoadBalancingV2::LoadBalancer', 1);
  });

  test('a CustomerEnvironment built in code checks its environment against its platform reference', () => {
    const app = new App();
    const reference = PlatformReference.fromConfig({
      ...platform(),
      environments: [{ name: 'production', production: true }, { name: 'staging' }],
    });
    const config = {
      ...ConfigLoader.parseCustomer(JSON.stringify(customerIn('staging')), 'x.yaml'),
      environment: 'stagng',
    };
    expect(() => new CustomerEnvironment(app, 'acme-stagng', { config, platform: reference })).toThrow(
      'environment: received "stagng" (did you mean "staging"?); expected an environment of platform vending: production or staging',
    );
  });
});
