import { Annotations, CfnParameter, Fn, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import {
  allocatorServiceToken,
  environmentResourcesServiceToken,
  CONTRACT_TIERS,
  ContractTier,
  LoadBalancerAttribute,
  pascalCase,
  PlatformContract,
  ServiceRole,
} from './contract';
import { ContractParameter } from './contract-parameter';
import type {
  ISharedPlatform,
  PlatformAttributes,
  PlatformServiceRoles,
  SharedLoadBalancer,
  SharedLoadBalancerAttributes,
} from './platform-reference';
import { leaveOutCreationStackTraces } from '../config/creation-traces';
import type { EnvironmentConfig } from '../config/types';
import { IPriorityAllocator, PriorityAllocator } from '../shared-alb-rule/priority-allocator';

/** Internal: what a reference knows without binding. */
export interface ReferenceData {
  readonly platformName: string;
  readonly account: string;
  readonly region: string;
  readonly domain?: string;
  readonly environments?: EnvironmentConfig[];
  readonly availabilityZoneCount: number;
  /** fromAttributes: explicit ids instead of the contract. */
  readonly attributes?: PlatformAttributes;
  /** sharedPlatform.reference: the platform itself, in its own stack. */
  readonly platform?: ISharedPlatform;
  /** sharedPlatform.reference of a platform that publishes no contract. */
  readonly unpublished?: boolean;
}

/** Internal: a platform in another stack or app, by the contract's parameters or by explicit attributes. */
export class ReferencedPlatform extends Construct implements ISharedPlatform {
  public readonly platformName: string;
  public readonly domain?: string;
  public readonly environments?: EnvironmentConfig[];
  public readonly vpc: ec2.IVpc;
  public readonly key: kms.IKey;
  public readonly artifactsBucket: s3.IBucket;
  public readonly logsBucket: s3.IBucket;
  private allocator?: IPriorityAllocator;
  private roles?: PlatformServiceRoles;
  private readonly loadBalancers = new Map<number, SharedLoadBalancer>();

  constructor(
    scope: Construct,
    id: string,
    private readonly data: ReferenceData,
    /** Prefix of the logical ids of the contract's CloudFormation parameters. */
    private readonly parameterPrefix: string,
  ) {
    super(scope, id);
    leaveOutCreationStackTraces(this);
    this.platformName = data.platformName;
    this.domain = data.domain;
    this.environments = data.environments;
    // The customer's constructs use subnets and zones only; the platform's route tables stay the platform's.
    Annotations.of(this).acknowledgeWarning(
      '@aws-cdk/aws-ec2:noSubnetRouteTableId',
      'Customer environments place instances, builds and databases in the platform subnets; they change no route',
    );
    const a = data.attributes;
    const name = data.platformName;
    const zones = a
      ? a.availabilityZones
      : this.listParameter(
          'AvailabilityZones',
          PlatformContract.availabilityZonesParameter(name),
          'Availability Zones of the VPC',
        );
    const subnets = (tier: ContractTier): string[] => {
      if (a) return a[`${tier}SubnetIds`];
      return this.listParameter(
        `${pascalCase(tier)}SubnetIds`,
        PlatformContract.subnetIdsParameter(name, tier),
        `${tier} subnets of the VPC`,
      );
    };
    const [publicSubnetIds, privateSubnetIds, isolatedSubnetIds] = CONTRACT_TIERS.map(subnets);
    this.vpc = ec2.Vpc.fromVpcAttributes(this, 'Vpc', {
      vpcId: a ? a.vpcId : this.parameter('VpcId', PlatformContract.vpcIdParameter(name), 'id of the VPC'),
      availabilityZones: zones,
      publicSubnetIds,
      privateSubnetIds,
      isolatedSubnetIds,
    });
    this.key = kms.Key.fromKeyArn(
      this,
      'Key',
      a ? a.keyArn : this.parameter('KeyArn', PlatformContract.keyArnParameter(name), 'ARN of the platform key'),
    );
    // The bucket names follow from the platform's name, account and region (the contract publishes them too): known
    // at synth time, so that the compliance checks of the customer's template can read them.
    const bucket = (kind: 'logs' | 'artifacts') =>
      a
        ? kind === 'logs'
          ? a.logsBucketName
          : a.artifactsBucketName
        : PlatformContract.bucketName(name, kind, data.account, data.region);
    this.logsBucket = s3.Bucket.fromBucketName(this, 'LogsBucket', bucket('logs'));
    this.artifactsBucket = s3.Bucket.fromBucketAttributes(this, 'ArtifactsBucket', {
      bucketName: bucket('artifacts'),
      encryptionKey: this.key,
    });
  }

  public get environmentResourcesServiceToken(): string | undefined {
    const a = this.data.attributes;
    // The function has a fixed name: its ARN is known from the platform's name, account and region.
    if (a) return a.environmentResourcesServiceToken;
    return environmentResourcesServiceToken(Stack.of(this), this.platformName, this.data.account, this.data.region);
  }

  public get priorityAllocator(): IPriorityAllocator {
    if (!this.allocator) {
      const a = this.data.attributes;
      if (a && !a.allocatorServiceToken) {
        throw new Error(
          `PlatformReference ${this.platformName} (in ${Stack.of(this).node.path}): allocatorServiceToken: received ` +
            "nothing; expected the service token of the platform's rule priority allocator, which an environment on " +
            'shared ingress needs',
        );
      }
      // The allocator's function has a fixed name: its ARN, which no stack update may change in a custom resource,
      // is known from the platform's name, account and region.
      const token =
        a?.allocatorServiceToken ??
        allocatorServiceToken(Stack.of(this), this.platformName, this.data.account, this.data.region);
      this.allocator = PriorityAllocator.fromServiceToken(this, 'PriorityAllocator', token);
    }
    return this.allocator;
  }

  public get serviceRoles(): PlatformServiceRoles {
    if (!this.roles) {
      const a = this.data.attributes;
      const scope = new Construct(this, 'ServiceRoles');
      const role = (contractName: ServiceRole, given: string | undefined, what: string): iam.IRole | undefined => {
        const arn = a
          ? given
          : this.parameter(
              `${pascalCase(contractName)}RoleArn`,
              PlatformContract.serviceRoleParameter(this.platformName, contractName),
              `ARN of the ${what}`,
            );
        // Immutable: a customer stack never adds a statement to a role that serves the whole platform.
        return arn === undefined
          ? undefined
          : iam.Role.fromRoleArn(scope, pascalCase(contractName), arn, { mutable: false });
      };
      this.roles = {
        databaseMonitoringRole: role(
          'database-monitoring',
          a?.databaseMonitoringRoleArn,
          'RDS enhanced monitoring role',
        ),
        deploymentRole: role('deployment', a?.deploymentRoleArn, 'CodeDeploy service role'),
        pipelineEventsRole: role('pipeline-events', a?.pipelineEventsRoleArn, 'role EventBridge starts pipelines with'),
      };
    }
    return this.roles;
  }

  public sharedLoadBalancer(loadBalancerNumber: number): SharedLoadBalancer {
    const known = this.loadBalancers.get(loadBalancerNumber);
    if (known) return known;
    const a = this.data.attributes;
    const count = a ? (a.sharedLoadBalancers ?? []).length : 20;
    if (!Number.isInteger(loadBalancerNumber) || loadBalancerNumber < 1 || loadBalancerNumber > count) {
      throw new Error(
        `PlatformReference ${this.platformName} (in ${Stack.of(this).node.path}): shared load balancer: received ` +
          `${loadBalancerNumber}; expected a number from 1 to ${count}${a ? " (the attributes' sharedLoadBalancers)" : ''}`,
      );
    }
    const given = a?.sharedLoadBalancers?.[loadBalancerNumber - 1];
    const value = (attribute: LoadBalancerAttribute, what: string): string => {
      if (given) {
        const fields: Record<LoadBalancerAttribute, keyof SharedLoadBalancerAttributes> = {
          arn: 'loadBalancerArn',
          'dns-name': 'dnsName',
          'canonical-hosted-zone-id': 'canonicalHostedZoneId',
          'security-group-id': 'securityGroupId',
          'https-listener-arn': 'httpsListenerArn',
        };
        return given[fields[attribute]];
      }
      return this.parameter(
        `LoadBalancer${loadBalancerNumber}${pascalCase(attribute)}`,
        PlatformContract.sharedLoadBalancerParameter(this.platformName, loadBalancerNumber, attribute),
        `${what} of shared load balancer ${loadBalancerNumber}`,
      );
    };
    const scope = new Construct(this, `SharedLoadBalancer${loadBalancerNumber}`);
    const securityGroup = ec2.SecurityGroup.fromSecurityGroupId(
      scope,
      'SecurityGroup',
      value('security-group-id', 'security group id'),
      { mutable: false },
    );
    const loadBalancer = elbv2.ApplicationLoadBalancer.fromApplicationLoadBalancerAttributes(scope, 'LoadBalancer', {
      loadBalancerArn: value('arn', 'ARN'),
      securityGroupId: securityGroup.securityGroupId,
      loadBalancerDnsName: value('dns-name', 'DNS name'),
      loadBalancerCanonicalHostedZoneId: value('canonical-hosted-zone-id', 'canonical hosted zone id'),
      vpc: this.vpc,
    });
    const httpsListener = elbv2.ApplicationListener.fromApplicationListenerAttributes(scope, 'HttpsListener', {
      listenerArn: value('https-listener-arn', 'HTTPS listener ARN'),
      securityGroup,
    });
    const shared: SharedLoadBalancer = { number: loadBalancerNumber, loadBalancer, securityGroup, httpsListener };
    this.loadBalancers.set(loadBalancerNumber, shared);
    return shared;
  }

  /** A CloudFormation parameter that CloudFormation reads from the platform's SSM parameter at each deploy. */
  private parameter(id: string, name: string, what: string): string {
    return this.cfnParameter(id, name, what, 'String').valueAsString;
  }

  /** The entries of a StringList parameter of the contract, one per Availability Zone. */
  private listParameter(id: string, name: string, what: string): string[] {
    const list = this.cfnParameter(id, name, what, 'List<String>').valueAsList;
    return Array.from({ length: this.data.availabilityZoneCount }, (_, i) => Fn.select(i, list));
  }

  private cfnParameter(id: string, name: string, what: string, type: string): CfnParameter {
    const parameter = new ContractParameter(this, id, {
      type: `AWS::SSM::Parameter::Value<${type}>`,
      default: name,
      description: `Platform ${this.platformName}: ${what} (read from its published SSM parameter at deploy time)`,
    });
    parameter.overrideLogicalId(`${this.parameterPrefix}${id}`);
    return parameter;
  }
}
