import { mkdtempSync, mkdirSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { stringify } from 'yaml';
import { ConfigError, ConfigProblem } from '../../src/config/errors';
import { toStructKeys } from '../../src/config/keys';

export const CONNECTION_ARN =
  'arn:aws:codeconnections:eu-west-1:123456789012:connection/0f5e1c2a-3b4d-4e6f-8a9b-0c1d2e3f4a5b';
export const CERTIFICATE_ARN = 'arn:aws:acm:eu-west-1:123456789012:certificate/aaaaaaaa-0000-4000-8000-000000000001';

/** A minimal valid staging customer, as plain data. */
export function stagingCustomer(): any {
  return {
    customer: 'acme',
    environment: 'staging',
    software: { repository: { connectionArn: CONNECTION_ARN, owner: 'acme', name: 'website' } },
  };
}

/** A full valid production customer, as plain data. */
export function productionCustomer(): any {
  return {
    customer: 'acme',
    environment: 'production',
    customDomain: { name: 'www.acme.com', certificateArn: CERTIFICATE_ARN },
    approvalEmails: ['ops@acme.com'],
    compute: { instanceType: 't3.small', minCapacity: 2, maxCapacity: 6, targetCpuPercent: 60 },
    healthCheck: { path: '/health', healthyHttpCodes: '200-399', intervalSeconds: 30, timeoutSeconds: 5 },
    database: { engine: 'postgres', version: '16', masterUsername: 'app_admin', preferredBackupWindow: '02:00-03:00' },
    ami: { baseImage: { ssmParameter: '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64' } },
    software: {
      repository: { connectionArn: CONNECTION_ARN, owner: 'acme', name: 'website', branch: 'main' },
      buildImage: { ecrRepository: 'acme-build' },
      deploymentConfig: 'one-at-a-time',
    },
    tags: { CostCenter: '1234' },
  };
}

export function platform(): any {
  return {
    name: 'vending',
    environment: 'production',
    region: 'eu-west-1',
    account: '123456789012',
    domain: 'apps.example.com',
    certificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/11111111-2222-3333-4444-555555555555',
  };
}

/** The problems a call reports; fails the test when it reports none or throws anything else. */
export function problemsOf(call: () => unknown): ConfigProblem[] {
  try {
    call();
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  throw new Error('expected a ConfigError, but the input was accepted');
}

/** The one-line texts of the problems, `path: message`. */
export function messages(call: () => unknown): string[] {
  return problemsOf(call).map((p) => `${p.path}: ${p.message}`);
}

/** Writes a fleet directory from data (or raw text) and returns its path. */
export function writeFleet(platformDoc: any, customers: Record<string, any>): string {
  const dir = mkdtempSync(join(tmpdir(), 'fleet-'));
  if (platformDoc !== undefined) {
    writeFileSync(join(dir, 'platform.yaml'), typeof platformDoc === 'string' ? platformDoc : stringify(platformDoc));
  }
  mkdirSync(join(dir, 'customers'));
  for (const [name, doc] of Object.entries(customers)) {
    writeFileSync(join(dir, 'customers', name), typeof doc === 'string' ? doc : stringify(doc));
  }
  return dir;
}

/** A customer document shaped as the jsii struct (`softwareDelivery` instead of the file's `software`). */
export function asStruct(doc: any): any {
  return toStructKeys(doc);
}
