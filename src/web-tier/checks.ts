import type { CustomerWebTierProps } from './customer-web-tier';
import { ResolvedCompute, ResolvedHealthCheck, resolveCompute, resolveHealthCheck } from '../config/defaults';
import { ComputeConfig, HealthCheckConfig } from '../config/types';
import { ValueRuleName, valueProblem } from '../config/values';

/** Internal: the web tier's names (customer, environment) and its initial image id, by the schema's rules. */
export function validateNames(where: string, props: CustomerWebTierProps): void {
  const checks: [string, ValueRuleName, unknown][] = [
    ['customer', 'customer', props.customer],
    ['environment', 'environment', props.environment],
  ];
  if (props.initialImageId !== undefined) checks.push(['initialImageId', 'imageId', props.initialImageId]);
  for (const [field, rule, value] of checks) {
    const problem = valueProblem(rule, value);
    if (problem) throw new Error(`${where}: ${field}: ${problem}`);
  }
}

/** Internal: compute with its defaults, checked: capacities in order, production's two zones, the instance type. */
export function checkedCompute(
  where: string,
  compute: ComputeConfig | undefined,
  production: boolean,
): ResolvedCompute {
  const resolved = resolveCompute(compute, production);
  if (resolved.minCapacity > resolved.maxCapacity) {
    throw new Error(
      `${where}: compute.minCapacity: received ${resolved.minCapacity} with maxCapacity ${resolved.maxCapacity}; ` +
        'expected minCapacity <= maxCapacity',
    );
  }
  if (production && resolved.minCapacity < 2) {
    throw new Error(
      `${where}: compute.minCapacity: received ${resolved.minCapacity} for a production environment; expected at ` +
        'least 2, so that the instances span two Availability Zones',
    );
  }
  const instanceType = valueProblem('instanceType', resolved.instanceType);
  if (instanceType) throw new Error(`${where}: compute.instanceType: ${instanceType}`);
  return resolved;
}

/** Internal: the health check with its defaults, checked: a timeout shorter than the interval. */
export function checkedHealthCheck(where: string, healthCheck: HealthCheckConfig | undefined): ResolvedHealthCheck {
  const resolved = resolveHealthCheck(healthCheck);
  if (resolved.timeoutSeconds >= resolved.intervalSeconds) {
    throw new Error(
      `${where}: healthCheck.timeoutSeconds: received ${resolved.timeoutSeconds} with intervalSeconds ` +
        `${resolved.intervalSeconds}; expected a timeout shorter than the interval`,
    );
  }
  return resolved;
}
