import { Stack, Token } from 'aws-cdk-lib';
import type { SharedPlatformProps } from './shared-platform';

/** The most shared load balancers of one platform (an account has 50 load balancers per region by default). */
export const MAX_SHARED_LOAD_BALANCERS = 20;

const PLATFORM_NAME = /^(?!.*--)[a-z][a-z0-9-]{1,30}[a-z0-9]$/;
const CIDR = /^((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\/(1[6-9]|20)$/;

/** Internal: SharedPlatform's props checked (name, region, load balancer count, the new VPC's network). */
export function validateProps(where: string, props: SharedPlatformProps, stack: Stack): void {
  if (!Token.isUnresolved(props.platformName) && !PLATFORM_NAME.test(props.platformName)) {
    throw new Error(
      `${where}: platformName: received ${JSON.stringify(props.platformName)}; expected 3 to 32 lower-case ` +
        'letters, digits or hyphens, starting with a letter, without -- and not ending with -',
    );
  }
  if (Token.isUnresolved(stack.region)) {
    throw new Error(
      `${where}: the stack ${stack.node.path} has no region; expected a stack with an explicit env ` +
        "({ account, region }): load balancer access logs are delivered by the region's log service",
    );
  }
  const count = props.sharedLoadBalancers ?? 1;
  if (!Number.isInteger(count) || count < 1 || count > MAX_SHARED_LOAD_BALANCERS) {
    throw new Error(
      `${where}: sharedLoadBalancers: received ${count}; expected a whole number from 1 to ${MAX_SHARED_LOAD_BALANCERS}`,
    );
  }
  if (props.vpc) {
    const given = (
      ['vpcCidr', 'maxAzs', 'availabilityZones', 'natInstances', 'natInstanceImage', 'natInstanceType'] as const
    ).filter((k) => props[k] !== undefined);
    if (given.length > 0) {
      throw new Error(
        `${where}: ${given.join(', ')} apply to a new VPC only; expected either vpc or ${given.join(', ')}, not both`,
      );
    }
    return;
  }
  checkNatImage(where, props, stack);
  if (props.vpcCidr !== undefined && !CIDR.test(props.vpcCidr)) {
    throw new Error(
      `${where}: vpcCidr: received ${JSON.stringify(props.vpcCidr)}; expected an IPv4 CIDR from /16 to /20 such as 10.10.0.0/16`,
    );
  }
  if (props.availabilityZones !== undefined) {
    checkZones(where, props.availabilityZones, props.maxAzs, stack);
    return;
  }
  const maxAzs = props.maxAzs ?? 3;
  if (!Number.isInteger(maxAzs) || maxAzs < 1 || maxAzs > 6) {
    throw new Error(`${where}: maxAzs: received ${maxAzs}; expected a whole number from 1 to 6`);
  }
  if (maxAzs < 2) {
    throw new Error(
      `${where}: maxAzs: received ${maxAzs}; expected at least 2: a load balancer and a database need two Availability Zones`,
    );
  }
}

function checkZones(where: string, zones: string[], maxAzs: number | undefined, stack: Stack): void {
  if (maxAzs !== undefined) {
    throw new Error(
      `${where}: maxAzs applies without availabilityZones only; expected either maxAzs or availabilityZones, not both`,
    );
  }
  const expected = Token.isUnresolved(stack.region)
    ? 'an Availability Zone name'
    : `an Availability Zone of ${stack.region}`;
  for (const zone of zones) {
    const region = zone.slice(0, -1);
    if (!/^[a-z]{2}(-[a-z]+)+-\d[a-z]$/.test(zone) || (!Token.isUnresolved(stack.region) && region !== stack.region)) {
      throw new Error(
        `${where}: availabilityZones: received ${JSON.stringify(zone)}; expected ${expected}, such as ${Token.isUnresolved(stack.region) ? 'eu-west-1' : stack.region}a`,
      );
    }
  }
  if (zones.length < 2 || zones.length > 6 || new Set(zones).size !== zones.length) {
    throw new Error(
      `${where}: availabilityZones: received ${JSON.stringify(zones)}; expected 2 to 6 different zones: a load balancer ` +
        'and a database need two',
    );
  }
}

/** NAT instances run a pinned image: an id known at synth time, so that no deploy replaces them by itself. */
function checkNatImage(where: string, props: SharedPlatformProps, stack: Stack): void {
  const example = `such as ec2.MachineImage.genericLinux({ '${stack.region}': 'ami-0123456789abcdef0' })`;
  if (!props.natInstances) {
    if (props.natInstanceImage !== undefined) {
      throw new Error(
        `${where}: natInstanceImage applies to NAT instances only; expected natInstances: true, or no natInstanceImage`,
      );
    }
    return;
  }
  if (props.natInstanceImage === undefined) {
    throw new Error(
      `${where}: natInstanceImage: is missing; expected the image of the NAT instances, pinned (${example}), so ` +
        'that no deploy replaces them when a newer image is published',
    );
  }
  if (Token.isUnresolved(props.natInstanceImage.getImage(stack).imageId)) {
    throw new Error(
      `${where}: natInstanceImage: received an image resolved at deploy time (an SSM parameter); expected a pinned ` +
        `image (${example})`,
    );
  }
}
