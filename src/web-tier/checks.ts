import { Duration } from 'aws-cdk-lib';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import type { CustomerWebTierProps } from './customer-web-tier';
import { ResolvedCompute, resolveCompute, resolveHealthCheck } from '../config/defaults';
import { gibibytesOf, NumberRuleName, numberProblem, secondsOf, ValueRuleName, valueProblem } from '../config/values';

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

/**
 * Internal: a number of the props by the schema's rule of the config key that holds it, in the props' unit (a
 * duration in seconds, a size in GiB), which the message names.
 */
export function checkNumber(where: string, prop: string, rule: NumberRuleName, value: number | undefined, unit = '') {
  if (value === undefined) return;
  const problem = numberProblem(rule, value, unit);
  if (problem) throw new Error(`${where}: ${prop}: ${problem}`);
}

/**
 * Internal: the instances and their scaling from the props, with the config's defaults, checked by the config's
 * rules: each number in its range, capacities in order, production's two zones, the instance type.
 */
export function checkedCompute(where: string, props: CustomerWebTierProps, production: boolean): ResolvedCompute {
  const instanceType = props.instanceType?.toString();
  if (instanceType !== undefined) {
    const problem = valueProblem('instanceType', instanceType);
    if (problem) throw new Error(`${where}: instanceType: ${problem}`);
  }
  checkNumber(where, 'minCapacity', 'minCapacity', props.minCapacity);
  checkNumber(where, 'maxCapacity', 'maxCapacity', props.maxCapacity);
  checkNumber(where, 'targetCpuUtilizationPercent', 'targetCpuPercent', props.targetCpuUtilizationPercent);
  checkNumber(where, 'targetRequestsPerMinute', 'targetRequestsPerInstance', props.targetRequestsPerMinute);
  checkNumber(where, 'rootVolumeSize', 'rootVolumeGib', gibibytesOf(props.rootVolumeSize), 'GiB');
  const resolved = resolveCompute(
    {
      instanceType,
      minCapacity: props.minCapacity,
      maxCapacity: props.maxCapacity,
      targetCpuPercent: props.targetCpuUtilizationPercent,
      targetRequestsPerInstance: props.targetRequestsPerMinute,
      // A token passes as the token (the check above skipped it).
      rootVolumeGib: props.rootVolumeSize?.toGibibytes(),
    },
    production,
  );
  if (resolved.minCapacity > resolved.maxCapacity) {
    throw new Error(
      `${where}: minCapacity: received ${resolved.minCapacity} with maxCapacity ${resolved.maxCapacity}; ` +
        'expected minCapacity <= maxCapacity',
    );
  }
  if (production && resolved.minCapacity < 2) {
    throw new Error(
      `${where}: minCapacity: received ${resolved.minCapacity} for a production environment; expected at ` +
        'least 2, so that the instances span two Availability Zones',
    );
  }
  return resolved;
}

/**
 * Internal: the target group's health check: the props' check over the config's defaults, checked by the config's
 * rules (path and codes, each number in its range, a timeout shorter than the interval); no gRPC codes (the targets
 * speak HTTP), and not disabled (instance targets are always checked). Its port and protocol pass as given.
 */
export function checkedHealthCheck(where: string, healthCheck: elbv2.HealthCheck = {}): elbv2.HealthCheck {
  const at = `${where}: healthCheck`;
  if (healthCheck.enabled === false) {
    throw new Error(
      `${at}.enabled: received false; expected true or nothing: the load balancer always checks instance targets`,
    );
  }
  if (healthCheck.healthyGrpcCodes !== undefined) {
    throw new Error(
      `${at}.healthyGrpcCodes: received ${JSON.stringify(healthCheck.healthyGrpcCodes)}; expected nothing: the ` +
        'instances are checked over HTTP (set healthyHttpCodes)',
    );
  }
  for (const [prop, rule] of [
    ['path', 'healthCheckPath'],
    ['healthyHttpCodes', 'healthyHttpCodes'],
  ] as const) {
    const value = healthCheck[prop];
    const problem = value === undefined ? undefined : valueProblem(rule, value);
    if (problem) throw new Error(`${at}.${prop}: ${problem}`);
  }
  const intervalSeconds = secondsOf(healthCheck.interval);
  const timeoutSeconds = secondsOf(healthCheck.timeout);
  checkNumber(where, 'healthCheck.interval', 'intervalSeconds', intervalSeconds, 'seconds');
  checkNumber(where, 'healthCheck.timeout', 'timeoutSeconds', timeoutSeconds, 'seconds');
  checkNumber(where, 'healthCheck.healthyThresholdCount', 'healthyThreshold', healthCheck.healthyThresholdCount);
  checkNumber(where, 'healthCheck.unhealthyThresholdCount', 'unhealthyThreshold', healthCheck.unhealthyThresholdCount);
  const resolved = resolveHealthCheck({
    path: healthCheck.path,
    healthyHttpCodes: healthCheck.healthyHttpCodes,
    intervalSeconds,
    timeoutSeconds,
    healthyThreshold: healthCheck.healthyThresholdCount,
    unhealthyThreshold: healthCheck.unhealthyThresholdCount,
  });
  const known =
    (healthCheck.interval === undefined || intervalSeconds !== undefined) &&
    (healthCheck.timeout === undefined || timeoutSeconds !== undefined);
  if (known && resolved.timeoutSeconds >= resolved.intervalSeconds) {
    throw new Error(
      `${at}.timeout: received ${resolved.timeoutSeconds} seconds with an interval of ${resolved.intervalSeconds} ` +
        'seconds; expected a timeout shorter than the interval',
    );
  }
  return {
    ...healthCheck,
    path: resolved.path,
    healthyHttpCodes: resolved.healthyHttpCodes,
    interval: healthCheck.interval ?? Duration.seconds(resolved.intervalSeconds),
    timeout: healthCheck.timeout ?? Duration.seconds(resolved.timeoutSeconds),
    healthyThresholdCount: resolved.healthyThreshold,
    unhealthyThresholdCount: resolved.unhealthyThreshold,
  };
}
