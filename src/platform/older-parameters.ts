/**
 * Internal: the SSM parameters published before the platform contract, directly under `/vending/<platform>/`
 * (`SharedPlatform.allocatorParameterName` and its siblings name them; `PriorityAllocator.fromParameter` reads
 * the first). Their names and ids stay as they are: stacks of other apps read them.
 */
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { PublicLoadBalancer } from './public-load-balancer';

/** `/vending/<platform>/priority-allocator-arn`: the allocator's ARN. */
export function allocatorParameterName(platformName: string): string {
  return `/vending/${platformName}/priority-allocator-arn`;
}

/** `/vending/<platform>/https-listener-arn[-<n>]`: a shared HTTPS listener's ARN. */
export function listenerParameterName(platformName: string, loadBalancerNumber: number): string {
  return `/vending/${platformName}/https-listener-arn${numberSuffix(loadBalancerNumber)}`;
}

/** `/vending/<platform>/load-balancer-security-group-id[-<n>]`: a shared load balancer's security group id. */
export function loadBalancerSecurityGroupParameterName(platformName: string, loadBalancerNumber: number): string {
  return `/vending/${platformName}/load-balancer-security-group-id${numberSuffix(loadBalancerNumber)}`;
}

/**
 * The older parameters of one shared load balancer, `ListenerParameter` and `SecurityGroupParameter` in `parent`
 * (the platform for the first, its `SharedLoadBalancer<n>` for the others).
 */
export function publishOlderLoadBalancerParameters(
  parent: Construct,
  platformName: string,
  loadBalancerNumber: number,
  front: PublicLoadBalancer,
): void {
  const which = loadBalancerNumber === 1 ? '' : ` ${loadBalancerNumber}`;
  new ssm.StringParameter(parent, 'ListenerParameter', {
    parameterName: listenerParameterName(platformName, loadBalancerNumber),
    stringValue: front.httpsListener.listenerArn,
    description: `Shared HTTPS listener${which} of platform ${platformName}`,
  });
  new ssm.StringParameter(parent, 'SecurityGroupParameter', {
    parameterName: loadBalancerSecurityGroupParameterName(platformName, loadBalancerNumber),
    stringValue: front.securityGroup.securityGroupId,
    description: `Security group of the shared load balancer${which} of platform ${platformName}`,
  });
}

/** Parameter names of the first shared load balancer have no number, as before there could be several. */
function numberSuffix(loadBalancerNumber: number): string {
  return loadBalancerNumber === 1 ? '' : `-${loadBalancerNumber}`;
}
