import { createHash } from 'crypto';
import { ArnFormat, Stack, Token } from 'aws-cdk-lib';

/*
 * The platform contract: the SSM parameters a SharedPlatform publishes and a PlatformReference reads. Names live
 * here and only here; README's "The platform contract" lists them and a test keeps that list equal to this one.
 */

/** Version of the contract: part of every parameter name, raised only by a change a reader must follow. */
export const CONTRACT_VERSION = 'v1';

/** A tier of the platform's VPC, as the contract names it. */
export type ContractTier = 'public' | 'private' | 'isolated';
export const CONTRACT_TIERS: readonly ContractTier[] = ['public', 'private', 'isolated'];

/** The parameter names of one platform's contract. */
export class PlatformContract {
  /**
   * The prefix of a platform's published parameters: `/vending/<platform>/v1`.
   * @param platformName the platform's name
   */
  public static prefix(platformName: string): string {
    return `/vending/${platformName}/${CONTRACT_VERSION}`;
  }

  /** `/vending/<platform>/v1/vpc/id`: the VPC's id. */
  public static vpcIdParameter(platformName: string): string {
    return `${PlatformContract.prefix(platformName)}/vpc/id`;
  }

  /**
   * `/vending/<platform>/v1/vpc/availability-zones`: a StringList of the VPC's Availability Zones, in the order of
   * the subnets of each tier.
   */
  public static availabilityZonesParameter(platformName: string): string {
    return `${PlatformContract.prefix(platformName)}/vpc/availability-zones`;
  }

  /**
   * `/vending/<platform>/v1/subnets/<tier>/ids`: a StringList of the tier's subnet ids, one per Availability Zone,
   * in the order of `vpc/availability-zones`.
   * @param tier public, private or isolated
   */
  public static subnetIdsParameter(platformName: string, tier: string): string {
    return `${PlatformContract.prefix(platformName)}/subnets/${checkTier(tier)}/ids`;
  }

  /** `/vending/<platform>/v1/key/arn`: the platform key's ARN. */
  public static keyArnParameter(platformName: string): string {
    return `${PlatformContract.prefix(platformName)}/key/arn`;
  }

  /** `/vending/<platform>/v1/buckets/artifacts/name`: the artifacts bucket's name. */
  public static artifactsBucketParameter(platformName: string): string {
    return `${PlatformContract.prefix(platformName)}/buckets/artifacts/name`;
  }

  /** `/vending/<platform>/v1/buckets/logs/name`: the logs bucket's name. */
  public static logsBucketParameter(platformName: string): string {
    return `${PlatformContract.prefix(platformName)}/buckets/logs/name`;
  }

  /** `/vending/<platform>/v1/allocator/service-token`: the rule priority allocator's service token. */
  public static allocatorServiceTokenParameter(platformName: string): string {
    return `${PlatformContract.prefix(platformName)}/allocator/service-token`;
  }

  /**
   * `/vending/<platform>/v1/roles/<role>/arn`: the ARN of one of the platform's service roles, which AWS services
   * assume for every environment.
   * @param role database-monitoring, deployment or pipeline-events
   */
  public static serviceRoleParameter(platformName: string, role: string): string {
    if (!SERVICE_ROLES.includes(role as ServiceRole)) {
      throw new Error(
        `PlatformContract.serviceRoleParameter: role: received ${JSON.stringify(role)}; expected one of ` +
          `${SERVICE_ROLES.join(', ')}`,
      );
    }
    return `${PlatformContract.prefix(platformName)}/roles/${role}/arn`;
  }

  /**
   * `/vending/<platform>/v1/environment-resources/service-token`: the service token of the function that serves
   * customer environments' other custom resources (the web tier's image parameter).
   */
  public static environmentResourcesServiceTokenParameter(platformName: string): string {
    return `${PlatformContract.prefix(platformName)}/environment-resources/service-token`;
  }

  /**
   * `/vending/<platform>/v1/shared-load-balancers/<n>/<attribute>`: an attribute of the n-th shared load balancer.
   * @param loadBalancerNumber from 1
   * @param attribute arn, dns-name, canonical-hosted-zone-id, security-group-id or https-listener-arn
   */
  public static sharedLoadBalancerParameter(
    platformName: string,
    loadBalancerNumber: number,
    attribute: string,
  ): string {
    if (!LOAD_BALANCER_ATTRIBUTES.includes(attribute as LoadBalancerAttribute)) {
      throw new Error(
        `PlatformContract.sharedLoadBalancerParameter: attribute: received ${JSON.stringify(attribute)}; expected one ` +
          `of ${LOAD_BALANCER_ATTRIBUTES.join(', ')}`,
      );
    }
    return `${PlatformContract.prefix(platformName)}/shared-load-balancers/${loadBalancerNumber}/${attribute}`;
  }

  /**
   * The allocator function's name, fixed by the platform's name so that its ARN, the ServiceToken of every
   * customer's listener rule, never changes: CloudFormation refuses to change a custom resource's ServiceToken.
   */
  public static allocatorFunctionName(platformName: string): string {
    return `${platformName}-rule-priority-allocator`;
  }

  /**
   * The environment-resources function's name, fixed by the platform's name for the same reason as the allocator's:
   * its ARN is the ServiceToken of every customer's `Custom::WebAmiParameter`.
   */
  public static environmentResourcesFunctionName(platformName: string): string {
    return `${platformName}-environment-resources`;
  }

  /**
   * The name of a platform bucket: `<platform>-<kind>-<account>-<region>`, or, when that exceeds the 63 characters S3
   * allows, the platform name cut short and followed by a hash of it, so that two long platform names never share
   * a bucket.
   * @param kind logs or artifacts
   */
  public static bucketName(platformName: string, kind: string, account: string, region: string): string {
    const suffix = `-${kind}-${account}-${region}`;
    if (Token.isUnresolved(account) || platformName.length + suffix.length <= 63) return `${platformName}${suffix}`;
    const hash = createHash('sha256').update(platformName).digest('hex').slice(0, 6);
    return `${platformName.slice(0, 63 - suffix.length - 7).replace(/-+$/, '')}-${hash}${suffix}`;
  }

  private constructor() {}
}

/**
 * The allocator's service token, `arn:<partition>:lambda:<region>:<account>:function:<platform>-rule-priority-allocator`,
 * as the platform publishes it and as customer stacks write it: the one place it is formed, so that both agree.
 */
export function allocatorServiceToken(stack: Stack, platformName: string, account: string, region: string): string {
  return stack.formatArn({
    service: 'lambda',
    account,
    region,
    resource: 'function',
    resourceName: PlatformContract.allocatorFunctionName(platformName),
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
}

/**
 * The environment-resources function's service token,
 * `arn:<partition>:lambda:<region>:<account>:function:<platform>-environment-resources`, as the platform publishes it
 * and as customer stacks write it.
 */
export function environmentResourcesServiceToken(
  stack: Stack,
  platformName: string,
  account: string,
  region: string,
): string {
  return stack.formatArn({
    service: 'lambda',
    account,
    region,
    resource: 'function',
    resourceName: PlatformContract.environmentResourcesFunctionName(platformName),
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
}

/** `https-listener-arn` -> `HttpsListenerArn`: a contract name as part of a construct or logical id. */
export function pascalCase(text: string): string {
  return text
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}

/** The platform's service roles, as the contract names them (`PlatformServiceRoles`). */
export type ServiceRole = 'database-monitoring' | 'deployment' | 'pipeline-events';
export const SERVICE_ROLES: readonly ServiceRole[] = ['database-monitoring', 'deployment', 'pipeline-events'];

export type LoadBalancerAttribute =
  'arn' | 'dns-name' | 'canonical-hosted-zone-id' | 'security-group-id' | 'https-listener-arn';
export const LOAD_BALANCER_ATTRIBUTES: readonly LoadBalancerAttribute[] = [
  'arn',
  'dns-name',
  'canonical-hosted-zone-id',
  'security-group-id',
  'https-listener-arn',
];

function checkTier(tier: string): ContractTier {
  if (!CONTRACT_TIERS.includes(tier as ContractTier)) {
    throw new Error(
      `PlatformContract: tier: received ${JSON.stringify(tier)}; expected one of ${CONTRACT_TIERS.join(', ')}`,
    );
  }
  return tier as ContractTier;
}
