import * as cdk from 'aws-cdk-lib';
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { FLOW_LOGS_PREFIX } from './log-delivery';
import type { SharedPlatformProps } from './shared-platform';

/**
 * Internal: the platform's new VPC, `Vpc` in `scope`: public, private (with egress) and isolated subnets in each
 * zone, NAT gateways or NAT instances (hardened, pinned image, termination protection, recovery), flow logs to the logs bucket, S3 and DynamoDB gateway endpoints.
 * @param production one NAT per Availability Zone instead of one
 */
export function createVpc(
  scope: Construct,
  props: SharedPlatformProps,
  production: boolean,
  logsBucket: s3.IBucket,
): ec2.Vpc {
  const cidr = props.vpcCidr ?? '10.10.0.0/16';
  const prefix = Number(cidr.split('/')[1]);
  const maxAzs = props.availabilityZones?.length ?? props.maxAzs ?? 3;
  const natInstances = props.natInstances ?? false;
  const natInstanceType = props.natInstanceType ?? ec2.InstanceType.of(ec2.InstanceClass.T4G, ec2.InstanceSize.NANO);
  const natProvider = natInstances
    ? ec2.NatProvider.instanceV2({
        instanceType: natInstanceType,
        // Checked in checks.ts: an id known at synth time, so that no deploy replaces the instances by itself.
        machineImage: props.natInstanceImage!,
        defaultAllowedTraffic: ec2.NatTrafficDirection.OUTBOUND_ONLY,
        associatePublicIpAddress: true,
      })
    : ec2.NatProvider.gateway();
  const vpc = new ec2.Vpc(scope, 'Vpc', {
    ipAddresses: ec2.IpAddresses.cidr(cidr),
    ...(props.availabilityZones ? { availabilityZones: props.availabilityZones } : { maxAzs }),
    natGatewayProvider: natProvider,
    // One NAT per AZ keeps production's egress up when an AZ fails; one is enough elsewhere.
    natGateways: production ? maxAzs : 1,
    subnetConfiguration: [
      { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: prefix + 6, mapPublicIpOnLaunch: false },
      { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: prefix + 3 },
      { name: 'isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: prefix + 6 },
    ],
    // Restricting the default security group needs a custom-resource Lambda; nothing here uses it.
    restrictDefaultSecurityGroup: false,
    flowLogs: {
      all: {
        destination: ec2.FlowLogDestination.toS3(logsBucket, FLOW_LOGS_PREFIX),
        trafficType: ec2.FlowLogTrafficType.ALL,
      },
    },
  });
  if (natProvider instanceof ec2.NatInstanceProviderV2) {
    natProvider.connections.allowFrom(ec2.Peer.ipv4(cidr), ec2.Port.allTraffic(), 'From the VPC');
    natProvider.gatewayInstances.forEach(hardenNatInstance);
  }
  // Free gateway endpoints: S3 and DynamoDB traffic stays off the NAT.
  vpc.addGatewayEndpoint('S3Endpoint', { service: ec2.GatewayVpcEndpointAwsService.S3 });
  vpc.addGatewayEndpoint('DynamoDbEndpoint', { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB });
  return vpc;
}

/** Why the NAT instances' literal AMI id (aws-cdk-lib's template validation warns of one, W9010) is meant. */
export const PINNED_NAT_IMAGE_REASON =
  "The NAT instances' image is pinned on purpose (natInstanceImage): an id resolved from an SSM parameter replaces " +
  'every NAT instance at the first deploy after each new release.';

/**
 * Encrypted root volume, IMDSv2 only, detailed monitoring, termination protection (a NAT instance is no
 * Auto Scaling group's: nothing would start another), and a recovery alarm that moves it to healthy hardware,
 * with its id, addresses and routes, when the host fails: what the NAT provider leaves out.
 */
function hardenNatInstance(instance: ec2.Instance): void {
  const cfn = instance.instance;
  cfn.monitoring = true;
  cfn.disableApiTermination = true;
  // Validations is newer than the aws-cdk-lib floor: acknowledged where it exists, as aws-cdk-lib does for lookups.
  const validations = (
    cdk as unknown as {
      Validations?: { of(scope: Construct): { acknowledge(a: { id: string; reason: string }): void } };
    }
  ).Validations;
  validations?.of(instance).acknowledge({
    id: 'CloudFormation-Validate::W9010',
    reason: PINNED_NAT_IMAGE_REASON,
  });
  const recovery = new cloudwatch.Alarm(instance, 'RecoveryAlarm', {
    alarmDescription: `Recovers NAT instance ${instance.node.path} when its host fails its system status check`,
    metric: new cloudwatch.Metric({
      namespace: 'AWS/EC2',
      metricName: 'StatusCheckFailed_System',
      dimensionsMap: { InstanceId: instance.instanceId },
      statistic: 'Maximum',
      period: Duration.minutes(1),
    }),
    threshold: 1,
    evaluationPeriods: 2,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.MISSING,
  });
  recovery.addAlarmAction(new actions.Ec2Action(actions.Ec2InstanceAction.RECOVER));
  cfn.blockDeviceMappings = [
    { deviceName: '/dev/xvda', ebs: { encrypted: true, volumeType: 'gp3', deleteOnTermination: true } },
  ];
  cfn.addPropertyOverride('MetadataOptions', {
    HttpTokens: 'required',
    HttpPutResponseHopLimit: 1,
    HttpEndpoint: 'enabled',
  });
}
