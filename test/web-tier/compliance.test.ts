/*
 * CustomerWebTier through the compliance gate (cdk-nag, Control Tower rules, cfn-lint, aws-cdk-lib validation):
 * a staging environment on the shared load balancer (with request-count scaling) and a production one with a
 * custom domain on its own load balancer, beside their production platform; then every database family, in
 * production and elsewhere.
 */
import { mkdtempSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import { CustomerWebTier, DatabaseEngine, WebTierIngress } from '../../src';
import { expectCompliant, lintTemplates, newTestApp } from '../support/compliance';
import { acknowledgeDatabase, acknowledgeWebTier, ENV, platformStack } from '../support/platform-fixture';

const CUSTOMER_CERTIFICATE = 'arn:aws:acm:eu-west-1:123456789012:certificate/21111111-2222-3333-4444-555555555555';

test('shared staging and dedicated production web tiers pass every check', () => {
  const app = newTestApp();
  const { stack: platformScope, platform } = platformStack(app, { production: true });
  const base = {
    vpc: platform.vpc,
    encryptionKey: platform.key,
    logsBucket: platform.logsBucket,
    // The image parameter as a Custom::WebAmiParameter of the platform's function (no function in these stacks).
    amiParameterServiceToken: platform.environmentResourcesServiceToken,
  };

  const staging = new Stack(app, 'AcmeStaging', { env: ENV });
  acknowledgeWebTier(
    new CustomerWebTier(staging, 'Web', {
      ...base,
      customer: 'acme',
      environment: 'staging',
      ingress: WebTierIngress.sharedRule({
        listener: platform.httpsListener,
        allocator: platform.allocator,
        hostnames: ['acme-staging.apps.example.com'],
      }),
      targetRequestsPerMinute: 500,
      // Settings parameters and the secrets' grants go through the gate too (log groups are in every tier).
      settings: { API_URL: 'https://api.example.com' },
      secrets: ['API_TOKEN'],
    }),
  );

  const production = new Stack(app, 'AcmeProduction', { env: ENV });
  acknowledgeWebTier(
    new CustomerWebTier(production, 'Web', {
      ...base,
      customer: 'acme',
      environment: 'production',
      ingress: WebTierIngress.dedicatedLoadBalancer({
        domainName: 'www.acme.com',
        certificate: acm.Certificate.fromCertificateArn(production, 'Certificate', CUSTOMER_CERTIFICATE),
      }),
      settings: { MODE: 'production' },
    }),
  );

  expectCompliant([platformScope, staging, production]);
});

test('every database family, in production and elsewhere, passes every check', () => {
  const app = newTestApp();
  const { stack: platformScope, platform } = platformStack(app, { production: true });
  const cases: [DatabaseEngine, string, string][] = [
    [DatabaseEngine.POSTGRES, '16', 'staging'],
    [DatabaseEngine.MYSQL, '8.0', 'production'],
    [DatabaseEngine.MARIADB, '10.11', 'staging'],
    [DatabaseEngine.AURORA_POSTGRESQL, '16', 'production'],
    [DatabaseEngine.AURORA_MYSQL, '3.08.0', 'staging'],
    [DatabaseEngine.MYSQL, '8.0.43', 'staging'],
  ];
  const stacks = cases.map(([engine, version, environment], i) => {
    const stack = new Stack(app, `Customer${i}`, { env: ENV });
    const web = new CustomerWebTier(stack, 'Web', {
      customer: `customer${i}`,
      environment,
      vpc: platform.vpc,
      encryptionKey: platform.key,
      logsBucket: platform.logsBucket,
      ingress: WebTierIngress.sharedRule({
        listener: platform.httpsListener,
        allocator: platform.allocator,
        hostnames: [`customer${i}-${environment}.apps.example.com`],
      }),
      database: { engine, version },
    });
    acknowledgeWebTier(web);
    acknowledgeDatabase(web);
    return stack;
  });
  expectCompliant([platformScope, ...stacks]);
});

test("a major version alone: cfn-lint's engine-version checks are ignored on the database only, and no wider than they fire", () => {
  const app = new App();
  const { platform } = platformStack(app, { production: true });
  const cases: [DatabaseEngine, string][] = [
    [DatabaseEngine.POSTGRES, '16'],
    [DatabaseEngine.MYSQL, '8.0'],
    [DatabaseEngine.MARIADB, '10.11'],
    [DatabaseEngine.AURORA_POSTGRESQL, '16'],
  ];
  const dir = mkdtempSync(join(tmpdir(), 'major-alone-'));
  const stacks = cases.map(([engine, version], i) => {
    const stack = new Stack(app, `Major${i}`, { env: ENV });
    new CustomerWebTier(stack, 'Web', {
      customer: `major${i}`,
      environment: 'staging',
      vpc: platform.vpc,
      encryptionKey: platform.key,
      logsBucket: platform.logsBucket,
      ingress: WebTierIngress.sharedRule({
        listener: platform.httpsListener,
        allocator: platform.allocator,
        hostnames: [`major${i}.apps.example.com`],
      }),
      database: { engine, version },
    });
    return stack;
  });
  const files = cases.flatMap(([engine], i) => {
    const template = Template.fromStack(stacks[i]).toJSON();
    const type = engine.startsWith('aurora') ? 'AWS::RDS::DBCluster' : 'AWS::RDS::DBInstance';
    const [id] = Object.entries(template.Resources).find(([, r]: [string, any]) => r.Type === type)!;
    const ignored: string[] = template.Resources[id].Metadata['cfn-lint'].config.ignore_checks;
    // Nothing else of the stack ignores a check.
    const others = Object.entries(template.Resources).filter(
      ([k, r]: [string, any]) => k !== id && r.Metadata?.['cfn-lint'],
    );
    expect(others).toEqual([]);
    const bare = JSON.parse(JSON.stringify(template));
    delete bare.Resources[id].Metadata['cfn-lint'];
    const withFile = join(dir, `with${i}.json`);
    const withoutFile = join(dir, `without${i}.json`);
    writeFileSync(withFile, JSON.stringify(template));
    writeFileSync(withoutFile, JSON.stringify(bare));
    return [{ id, ignored, withFile, withoutFile }];
  });
  const findings = lintTemplates(
    files.flatMap((f) => [f.withFile, f.withoutFile]),
    ['eu-west-1'],
  );
  const engineChecks = /^[EW]369[01]$/;
  for (const f of files) {
    const on = (file: string) =>
      findings.filter((x) => x.file === file && x.path[1] === f.id && engineChecks.test(x.ruleId)).map((x) => x.ruleId);
    expect(on(f.withFile)).toEqual([]);
    const fired = on(f.withoutFile);
    expect(fired).toHaveLength(1);
    expect(f.ignored).toContain(fired[0]);
  }
});
