import { Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct, IConstruct } from 'constructs';
import {
  allocatorServiceToken,
  CONTRACT_TIERS,
  environmentResourcesServiceToken,
  pascalCase,
  PlatformContract,
  ServiceRole,
} from './contract';
import type { PlatformServiceRoles, SharedLoadBalancer } from './platform-reference';

/** Internal: what the platform contract publishes. */
export interface ContractValues {
  readonly platformName: string;
  readonly vpc: ec2.IVpc;
  readonly key: kms.IKey;
  readonly logsBucketName: string;
  readonly artifactsBucketName: string;
  /** The allocator's function: the service token parameter is created after it. */
  readonly allocatorFunction: IConstruct;
  /** The environment-resources function: its service token parameter is created after it. */
  readonly environmentResourcesFunction: IConstruct;
  readonly sharedLoadBalancers: SharedLoadBalancer[];
  readonly serviceRoles: Required<PlatformServiceRoles>;
}

/** Internal: the SSM parameters of the platform contract, under `/vending/<platform>/v1/`, in `scope`'s `Contract`. */
export function publishContract(scope: Construct, values: ContractValues): void {
  const name = values.platformName;
  const vpc = values.vpc;
  const contract = new Construct(scope, 'Contract');
  const publish = (id: string, parameterName: string, value: string | string[], what: string) => {
    const description = `Platform contract of ${name} (cdk-paas-vending): ${what}`;
    if (Array.isArray(value)) {
      new ssm.StringListParameter(contract, id, { parameterName, stringListValue: value, description });
    } else {
      new ssm.StringParameter(contract, id, { parameterName, stringValue: value, description });
    }
  };
  const tiers = {
    public: vpc.publicSubnets,
    private: vpc.privateSubnets,
    isolated: vpc.isolatedSubnets,
  };
  publish('VpcId', PlatformContract.vpcIdParameter(name), vpc.vpcId, 'VPC id');
  // The zones as the subnets report them: the same order as each tier's subnet ids.
  publish(
    'AvailabilityZones',
    PlatformContract.availabilityZonesParameter(name),
    tiers.private.map(zoneOf),
    'Availability Zones of the VPC, in the order of the subnet lists',
  );
  for (const tier of CONTRACT_TIERS) {
    // An existing VPC may lack a tier: nothing is published for it (and what needs it fails at deploy, by name).
    if (tiers[tier].length === 0) continue;
    publish(
      `${pascalCase(tier)}SubnetIds`,
      PlatformContract.subnetIdsParameter(name, tier),
      tiers[tier].map((subnet) => subnet.subnetId),
      `${tier} subnet ids, one per Availability Zone`,
    );
  }
  publish('KeyArn', PlatformContract.keyArnParameter(name), values.key.keyArn, 'platform key ARN');
  publish(
    'ArtifactsBucket',
    PlatformContract.artifactsBucketParameter(name),
    values.artifactsBucketName,
    'artifacts bucket',
  );
  publish('LogsBucket', PlatformContract.logsBucketParameter(name), values.logsBucketName, 'logs bucket');
  const stack = Stack.of(scope);
  const token = allocatorServiceToken(stack, name, stack.account, stack.region);
  const allocator = new ssm.StringParameter(contract, 'AllocatorServiceToken', {
    parameterName: PlatformContract.allocatorServiceTokenParameter(name),
    stringValue: token,
    description: `Platform contract of ${name} (cdk-paas-vending): ServiceToken of the rule priority allocator`,
  });
  allocator.node.addDependency(values.allocatorFunction);
  const roles: [ServiceRole, string, string][] = [
    ['database-monitoring', values.serviceRoles.databaseMonitoringRole.roleArn, 'RDS enhanced monitoring role'],
    ['deployment', values.serviceRoles.deploymentRole.roleArn, 'CodeDeploy service role'],
    ['pipeline-events', values.serviceRoles.pipelineEventsRole.roleArn, 'role EventBridge starts pipelines with'],
  ];
  for (const [role, arn, what] of roles) {
    publish(`${pascalCase(role)}RoleArn`, PlatformContract.serviceRoleParameter(name, role), arn, `ARN of the ${what}`);
  }
  const resources = new ssm.StringParameter(contract, 'EnvironmentResourcesServiceToken', {
    parameterName: PlatformContract.environmentResourcesServiceTokenParameter(name),
    stringValue: environmentResourcesServiceToken(stack, name, stack.account, stack.region),
    description: `Platform contract of ${name} (cdk-paas-vending): ServiceToken of the environment resources function`,
  });
  resources.node.addDependency(values.environmentResourcesFunction);
  for (const shared of values.sharedLoadBalancers) {
    const n = shared.number;
    const attributes: [string, string, string][] = [
      ['arn', shared.loadBalancer.loadBalancerArn, 'ARN'],
      ['dns-name', shared.loadBalancer.loadBalancerDnsName, 'DNS name'],
      ['canonical-hosted-zone-id', shared.loadBalancer.loadBalancerCanonicalHostedZoneId, 'canonical hosted zone id'],
      ['security-group-id', shared.securityGroup.securityGroupId, 'security group id'],
      ['https-listener-arn', shared.httpsListener.listenerArn, 'HTTPS listener ARN'],
    ];
    for (const [attribute, value, what] of attributes) {
      publish(
        `LoadBalancer${n}${pascalCase(attribute)}`,
        PlatformContract.sharedLoadBalancerParameter(name, n, attribute),
        value,
        `${what} of shared load balancer ${n}`,
      );
    }
  }
}

/** A subnet's zone, from the subnet resource when it is one of this app (no zone name written into a template). */
function zoneOf(subnet: ec2.ISubnet): string {
  const cfn = subnet.node.defaultChild;
  return cfn instanceof ec2.CfnSubnet ? cfn.attrAvailabilityZone : subnet.availabilityZone;
}
