import { DEFAULT_BASE_IMAGE_PARAMETER, environmentsOf, productionIn } from '../config/defaults';
import { placeholder } from '../config/placeholders';
import { PlatformConfig } from '../config/types';

/**
 * The commented starter file `paas-vending init` writes. Values only the user knows are placeholders
 * (`<REPLACE: …>`, see placeholders.ts): the file fails validation, naming each one, until they are replaced; it
 * has no other problem. `schemaPath` points editors at the JSON Schema, relative to the file.
 */
export function starterCustomerFile(
  customer: string,
  environment: string,
  schemaPath: string,
  platform?: PlatformConfig,
): string {
  const production = productionIn(environment, environmentsOf(platform));
  const region = platform?.region ?? 'eu-west-1';
  const account = platform?.account ?? '123456789012';
  const host = platform
    ? `${customer}-${environment}.${platform.domain}`
    : `${customer}-${environment}.<platform domain>`;
  return `# yaml-language-server: $schema=${schemaPath}
# Customer environment ${customer}/${environment}. Check it with: paas-vending validate
# Every key is documented in the JSON Schema named on the first line.
customer: ${customer}
environment: ${environment}${production ? '                # production: approvals, multi-AZ, retained data' : ''}

# Served at ${host} on the platform's shared load balancer.
# hostname: ${customer}.example.com
# A custom domain gets its own load balancer in production. Its certificate must be in ${region}.
# customDomain:
#   name: www.${customer}.example
#   certificateArn: "arn:aws:acm:${region}:${account}:certificate/${placeholder('certificate id')}"

${
  production
    ? `# Who approves releases and images (at least one address in production).
approvalEmails: ["${placeholder("an approver's e-mail address")}"]
`
    : `# No approvals outside production: releases and images roll out once built.
`
}
compute:
  instanceType: t3.small
  minCapacity: ${production ? 2 : 1}${production ? '                    # at least 2 in production' : ''}
  maxCapacity: 4
  targetCpuPercent: 60

healthCheck:
  path: /
  healthyHttpCodes: "200-399"

# A dedicated database; remove the block for none.
# Engines: postgres, mysql, mariadb, aurora-postgresql, aurora-mysql. Write the major alone ("16"; mysql "8.0",
# mariadb "10.11"): RDS creates the database at its current minor and keeps it current. Aurora MySQL needs a full
# version ("3.10.0").
database:
  engine: postgres
  version: "16"
  instanceType: t4g.medium
  backupRetentionDays: 7

ami:
  baseImage: { ssmParameter: ${DEFAULT_BASE_IMAGE_PARAMETER} }
  provisionScript: packer/provision.sh   # in the infrastructure repository

software:
  # The customer's repository with buildspec.yml and appspec.yml.
  repository:
    connectionArn: "arn:aws:codeconnections:${region}:${account}:connection/${placeholder('connection id')}"
    owner: ${customer}
    name: website
    branch: main
  deploymentConfig: one-at-a-time   # one-at-a-time | half-at-a-time | all-at-once

tags:
  Customer: ${customer}
`;
}
