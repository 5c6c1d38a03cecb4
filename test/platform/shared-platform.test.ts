import { join } from 'path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { ConfigLoader, PlatformConfig, SharedAlbRule, SharedPlatform, SharedPlatformProps } from '../../src';
import { expectCompliant, newTestApp } from '../support/compliance';
import { acknowledgePlatform, ENV, PLATFORM_CERTIFICATE_ARN, platformStack } from '../support/platform-fixture';

const NAT_IMAGE = ec2.MachineImage.genericLinux({ 'eu-west-1': 'ami-0123456789abcdef0' });
const EXAMPLE_PLATFORM = join(__dirname, '..', '..', 'examples', 'fleet', 'platform.yaml');

/** A platform in a plain App (no compliance plugins): fast template assertions. */
function synth(props: Partial<SharedPlatformProps> = {}): {
  template: Template;
  platform: SharedPlatform;
  stack: Stack;
} {
  const app = new App();
  const stack = new Stack(app, 'Platform', { env: ENV });
  const platform = new SharedPlatform(stack, 'Platform', {
    platformName: 'acme',
    certificate: acm.Certificate.fromCertificateArn(stack, 'Wildcard', PLATFORM_CERTIFICATE_ARN),
    ...props,
  });
  return { template: Template.fromStack(stack), platform, stack };
}

function attributes(template: Template): Record<string, string> {
  const [alb] = Object.values(template.findResources('AWS::ElasticLoadBalancingV2::LoadBalancer'));
  return Object.fromEntries(
    (alb.Properties.LoadBalancerAttributes as { Key: string; Value: string }[]).map((a) => [a.Key, a.Value]),
  );
}

describe('SharedPlatform passes the compliance gate', () => {
  test('production with NAT instances, staging with NAT gateways, and a platform in a given VPC', () => {
    const app = newTestApp();
    const production = platformStack(
      app,
      { production: true, natInstances: true, natInstanceImage: NAT_IMAGE },
      'Production',
    );
    const staging = platformStack(app, { maxAzs: 2 }, 'Staging');
    // An existing VPC of another team, known by its ids.
    const vpcStack = new Stack(app, 'InGivenVpc', { env: ENV });
    const vpc = ec2.Vpc.fromVpcAttributes(vpcStack, 'Vpc', {
      vpcId: 'vpc-0123456789abcdef0',
      vpcCidrBlock: '10.30.0.0/16',
      availabilityZones: ['eu-west-1a', 'eu-west-1b'],
      publicSubnetIds: ['subnet-0a000000000000001', 'subnet-0a000000000000002'],
      privateSubnetIds: ['subnet-0b000000000000001', 'subnet-0b000000000000002'],
      isolatedSubnetIds: ['subnet-0c000000000000001', 'subnet-0c000000000000002'],
    });
    const givenVpc = new SharedPlatform(vpcStack, 'Platform', {
      platformName: 'acme',
      certificate: acm.Certificate.fromCertificateArn(vpcStack, 'Wildcard', PLATFORM_CERTIFICATE_ARN),
      vpc,
    });
    acknowledgePlatform(givenVpc);
    expectCompliant([production.stack, staging.stack, vpcStack]);
  });
});

describe('network', () => {
  test('a /16 VPC with public, private-with-egress and isolated subnets in 3 AZs, flow logs to the logs bucket', () => {
    const { template, platform, stack } = synth();
    template.hasResourceProperties('AWS::EC2::VPC', { CidrBlock: '10.10.0.0/16' });
    const vpc = platform.vpc;
    expect(vpc.publicSubnets).toHaveLength(3);
    expect(vpc.privateSubnets).toHaveLength(3);
    expect(vpc.isolatedSubnets).toHaveLength(3);
    template.resourceCountIs('AWS::EC2::Subnet', 9);
    template.hasResourceProperties('AWS::EC2::FlowLog', {
      TrafficType: 'ALL',
      LogDestinationType: 's3',
      LogDestination: Match.objectLike({
        'Fn::Join': Match.arrayWith([
          Match.arrayWith([{ 'Fn::GetAtt': [logicalId(stack, platform.node.findChild('LogsBucket')), 'Arn'] }]),
        ]),
      }),
    });
    // Public subnets never give instances a public address.
    template.allResourcesProperties('AWS::EC2::Subnet', { MapPublicIpOnLaunch: false });
    template.resourceCountIs('AWS::EC2::VPCEndpoint', 2);
  });

  test('NAT gateways by default: one outside production, one per AZ in production', () => {
    const staging = synth().template;
    staging.resourceCountIs('AWS::EC2::NatGateway', 1);
    staging.resourceCountIs('AWS::EC2::Instance', 0);
    const production = synth({ production: true }).template;
    production.resourceCountIs('AWS::EC2::NatGateway', 3);
    production.resourceCountIs('AWS::EC2::Instance', 0);
  });

  test('NAT instances as an option: hardened, on the pinned image, with termination protection and recovery', () => {
    const staging = synth({ natInstances: true, natInstanceImage: NAT_IMAGE }).template;
    staging.resourceCountIs('AWS::EC2::Instance', 1);
    staging.resourceCountIs('AWS::EC2::NatGateway', 0);
    staging.hasResourceProperties('AWS::EC2::Instance', {
      ImageId: 'ami-0123456789abcdef0',
      InstanceType: 't4g.nano',
      SourceDestCheck: false,
      DisableApiTermination: true,
      Monitoring: true,
      MetadataOptions: { HttpTokens: 'required', HttpPutResponseHopLimit: 1, HttpEndpoint: 'enabled' },
      BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: Match.objectLike({ Encrypted: true, VolumeType: 'gp3' }) }],
    });
    // No SSM parameter decides the image: a newer Amazon Linux release changes nothing. (The template names the
    // public image parameters elsewhere: the environment resources function may read them, for web tiers.)
    expect(Object.values(staging.toJSON().Parameters ?? {}).map((p: any) => p.Type)).not.toContain(
      'AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>',
    );
    expect(JSON.stringify(staging.findResources('AWS::EC2::Instance'))).not.toContain('resolve:ssm');
    // A failed host is recovered onto another one, with its address and id.
    const [nat] = Object.keys(staging.findResources('AWS::EC2::Instance'));
    staging.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'StatusCheckFailed_System',
      Namespace: 'AWS/EC2',
      Dimensions: [{ Name: 'InstanceId', Value: { Ref: nat } }],
      AlarmActions: [{ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':automate:eu-west-1:ec2:recover']] }],
    });
    // The NAT accepts traffic from the VPC only.
    staging.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: 'Security Group for NAT instances',
      SecurityGroupIngress: [Match.objectLike({ CidrIp: '10.10.0.0/16', IpProtocol: '-1' })],
    });

    const production = synth({ natInstances: true, natInstanceImage: NAT_IMAGE, production: true }).template;
    production.resourceCountIs('AWS::EC2::Instance', 3);
    production.resourceCountIs(
      'AWS::CloudWatch::Alarm',
      3 + Object.keys(synth({ production: true }).template.findResources('AWS::CloudWatch::Alarm')).length,
    );
    synth({
      natInstances: true,
      natInstanceImage: NAT_IMAGE,
      natInstanceType: ec2.InstanceType.of(ec2.InstanceClass.T4G, ec2.InstanceSize.MICRO),
    }).template.hasResourceProperties('AWS::EC2::Instance', { InstanceType: 't4g.micro' });
  });

  test('NAT instances without a pinned image are refused', () => {
    const where = 'SharedPlatform Platform/Platform';
    expect(() => synth({ natInstances: true })).toThrow(
      `${where}: natInstanceImage: is missing; expected the image of the NAT instances, pinned ` +
        "(such as ec2.MachineImage.genericLinux({ 'eu-west-1': 'ami-0123456789abcdef0' })), so that no deploy " +
        'replaces them when a newer image is published',
    );
    expect(() => synth({ natInstances: true, natInstanceImage: ec2.MachineImage.latestAmazonLinux2023() })).toThrow(
      `${where}: natInstanceImage: received an image resolved at deploy time (an SSM parameter); expected a pinned ` +
        "image (such as ec2.MachineImage.genericLinux({ 'eu-west-1': 'ami-0123456789abcdef0' }))",
    );
    expect(() => synth({ natInstanceImage: NAT_IMAGE })).toThrow(
      `${where}: natInstanceImage applies to NAT instances only; expected natInstances: true, or no natInstanceImage`,
    );
  });

  test('from a platform file: natInstances and natInstanceImageId', () => {
    const app = new App();
    const stack = new Stack(app, 'Platform', { env: ENV });
    const config: PlatformConfig = {
      name: 'acme',
      environment: 'production',
      region: ENV.region,
      account: ENV.account,
      domain: 'apps.example.com',
      certificateArn: PLATFORM_CERTIFICATE_ARN,
      vpc: {
        availabilityZones: ['eu-west-1a', 'eu-west-1b'],
        natInstances: true,
        natInstanceImageId: 'ami-0fedcba9876543210',
      },
    };
    SharedPlatform.fromConfig(stack, 'Platform', config);
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::EC2::Instance', 2);
    template.allResourcesProperties('AWS::EC2::Instance', {
      ImageId: 'ami-0fedcba9876543210',
      DisableApiTermination: true,
    });
  });

  test('a smaller CIDR and fewer AZs size the subnets from the VPC prefix', () => {
    const { template } = synth({ vpcCidr: '10.20.0.0/20', maxAzs: 2 });
    template.hasResourceProperties('AWS::EC2::VPC', { CidrBlock: '10.20.0.0/20' });
    template.resourceCountIs('AWS::EC2::Subnet', 6);
    const cidrs = Object.values(template.findResources('AWS::EC2::Subnet')).map(
      (s) => s.Properties.CidrBlock as string,
    );
    expect(cidrs.map((c) => c.split('/')[1]).sort()).toEqual(['23', '23', '26', '26', '26', '26']);
  });

  test('a given VPC is used as it is', () => {
    const app = new App();
    const stack = new Stack(app, 'Platform', { env: ENV });
    const vpc = new ec2.Vpc(stack, 'Given', { restrictDefaultSecurityGroup: false });
    const platform = new SharedPlatform(stack, 'Platform', {
      platformName: 'acme',
      certificate: acm.Certificate.fromCertificateArn(stack, 'Wildcard', PLATFORM_CERTIFICATE_ARN),
      vpc,
    });
    expect(platform.vpc).toBe(vpc);
    Template.fromStack(stack).resourceCountIs('AWS::EC2::VPC', 1);
  });
});

describe('key and buckets', () => {
  test('a rotated key that is kept, that CloudWatch Logs may use and that grants only for AWS resources', () => {
    const { template } = synth();
    template.hasResource('AWS::KMS::Key', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        EnableKeyRotation: true,
        KeyPolicy: Match.objectLike({
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Allow',
              Principal: { Service: 'logs.eu-west-1.amazonaws.com' },
              Condition: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': Match.anyValue() } },
            }),
            Match.objectLike({
              Effect: 'Deny',
              Action: 'kms:CreateGrant',
              Condition: {
                BoolIfExists: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' },
              },
            }),
          ]),
        }),
      }),
    });
  });

  test('the artifacts bucket: platform key, versioned, SSL only, private, access-logged, kept', () => {
    const { template, platform, stack } = synth();
    template.hasResource('AWS::S3::Bucket', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [
            {
              BucketKeyEnabled: true,
              ServerSideEncryptionByDefault: {
                SSEAlgorithm: 'aws:kms',
                KMSMasterKeyID: { 'Fn::GetAtt': [logicalId(stack, platform.key), 'Arn'] },
              },
            },
          ],
        },
        VersioningConfiguration: { Status: 'Enabled' },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        LoggingConfiguration: {
          DestinationBucketName: { Ref: logicalId(stack, platform.node.findChild('LogsBucket')) },
          LogFilePrefix: 's3-access-logs/artifacts/',
        },
        LifecycleConfiguration: { Rules: [Match.objectLike({ NoncurrentVersionExpiration: { NoncurrentDays: 90 } })] },
        BucketName: 'acme-artifacts-123456789012-eu-west-1',
      }),
    });
    expectSslOnly(template, stack, platform.node.findChild('ArtifactsBucket'));
    // Other stacks see it by name, with its key: no export of the bucket.
    expect(platform.artifactsBucket.bucketName).toBe('acme-artifacts-123456789012-eu-west-1');
    expect(platform.artifactsBucket.encryptionKey).toBe(platform.key);
  });

  test('the logs bucket: S3-managed keys (log delivery needs them), expiring logs, writable by log delivery', () => {
    const { template, platform, stack } = synth({ logRetention: Duration.days(90) });
    const id = logicalId(stack, platform.node.findChild('LogsBucket'));
    const bucket = template.findResources('AWS::S3::Bucket')[id];
    expect(bucket.DeletionPolicy).toBe('Retain');
    expect(bucket.Properties.BucketEncryption).toEqual({
      ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
    });
    expect(bucket.Properties.LifecycleConfiguration.Rules[0]).toMatchObject({
      ExpirationInDays: 90,
      Status: 'Enabled',
    });
    expectSslOnly(template, stack, platform.node.findChild('LogsBucket'));
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: id },
      PolicyDocument: Match.objectLike({
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'logging.s3.amazonaws.com' },
            Action: 's3:PutObject',
            Condition: { StringEquals: { 'aws:SourceAccount': ENV.account } },
          }),
        ]),
      }),
    });
  });
});

describe('log delivery', () => {
  test('VPC flow logs may write to the logs bucket, stated in the template', () => {
    const { template, platform, stack } = synth();
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: logicalId(stack, platform.node.findChild('LogsBucket')) },
      PolicyDocument: Match.objectLike({
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: 'VpcFlowLogsOfThisAccount',
            Effect: 'Allow',
            Principal: { Service: 'delivery.logs.amazonaws.com' },
            Action: 's3:PutObject',
            Condition: { StringEquals: { 'aws:SourceAccount': ENV.account } },
          }),
          Match.objectLike({ Sid: 'VpcFlowLogsBucketCheck', Action: ['s3:GetBucketAcl', 's3:ListBucket'] }),
        ]),
      }),
    });
  });

  test('logs kept 30 days or less expire without a move to Infrequent Access (S3 refuses that order)', () => {
    const { template, platform, stack } = synth({ logRetention: Duration.days(14) });
    const bucket = template.findResources('AWS::S3::Bucket')[logicalId(stack, platform.node.findChild('LogsBucket'))];
    const [rule] = bucket.Properties.LifecycleConfiguration.Rules;
    expect(rule.ExpirationInDays).toBe(14);
    expect(rule.Transitions).toBeUndefined();
  });
});

describe('logs bucket name', () => {
  test('known at synth time, so that other stacks log to it without an import', () => {
    const { template, platform } = synth();
    expect(platform.logsBucket.bucketName).toBe('acme-logs-123456789012-eu-west-1');
    template.hasResourceProperties('AWS::S3::Bucket', { BucketName: 'acme-logs-123456789012-eu-west-1' });
  });

  test('a long platform name is cut and hashed to fit the 63 characters of S3', () => {
    const nameIn = (platformName: string) => {
      const stack = new Stack(new App(), 'Platform', { env: { account: '123456789012', region: 'ap-southeast-2' } });
      return new SharedPlatform(stack, 'Platform', {
        platformName,
        certificate: acm.Certificate.fromCertificateArn(stack, 'Wildcard', PLATFORM_CERTIFICATE_ARN),
      }).logsBucket.bucketName;
    };
    const [one, two] = [`${'a'.repeat(28)}-one`, `${'a'.repeat(28)}-two`].map(nameIn);
    for (const name of [one, two]) {
      expect(name.length).toBeLessThanOrEqual(63);
      expect(name).toMatch(/^a+-[0-9a-f]{6}-logs-123456789012-ap-southeast-2$/);
    }
    expect(one).not.toBe(two);
  });
});

describe('shared load balancer', () => {
  test('internet-facing in the public subnets, drops invalid headers, logs access, deletion-protected', () => {
    const staging = synth();
    const attrs = attributes(staging.template);
    expect(attrs).toMatchObject({
      'routing.http.drop_invalid_header_fields.enabled': 'true',
      'access_logs.s3.enabled': 'true',
      'access_logs.s3.prefix': 'alb',
    });
    expect(attrs['deletion_protection.enabled']).toBe('true');
    staging.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      Scheme: 'internet-facing',
      Subnets: staging.platform.vpc.publicSubnets.map((s) => ({ Ref: logicalId(staging.stack, s.node.defaultChild!) })),
    });
    expect(attributes(synth({ deletionProtection: false }).template)['deletion_protection.enabled']).toBe('false');
  });

  test('port 80 redirects permanently to 443', () => {
    synth().template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 80,
      Protocol: 'HTTP',
      DefaultActions: [
        { Type: 'redirect', RedirectConfig: { Protocol: 'HTTPS', Port: '443', StatusCode: 'HTTP_301' } },
      ],
    });
  });

  test('port 443: the platform certificate, a TLS 1.3 policy, and 503 "host not found" for unknown hosts', () => {
    const { template } = synth();
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 443,
      Protocol: 'HTTPS',
      Certificates: [{ CertificateArn: PLATFORM_CERTIFICATE_ARN }],
      SslPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06',
      DefaultActions: [
        {
          Type: 'fixed-response',
          FixedResponseConfig: { StatusCode: '503', ContentType: 'text/plain', MessageBody: 'host not found' },
        },
      ],
    });
  });

  test('its security group: 80 and 443 from anywhere, out only to the VPC', () => {
    const { template, platform, stack } = synth();
    const group =
      template.findResources('AWS::EC2::SecurityGroup')[logicalId(stack, platform.loadBalancerSecurityGroup)];
    const ingress = group.Properties.SecurityGroupIngress.map((r: any) => `${r.CidrIp}:${r.FromPort}-${r.ToPort}`);
    expect(ingress.sort()).toEqual(['0.0.0.0/0:443-443', '0.0.0.0/0:80-80']);
    expect(group.Properties.SecurityGroupEgress).toEqual([
      expect.objectContaining({
        CidrIp: { 'Fn::GetAtt': [expect.any(String), 'CidrBlock'] },
        FromPort: 0,
        ToPort: 65535,
      }),
    ]);
  });

  test('targets in customer stacks are let in from it, and never add rules to it', () => {
    // A security group holds 60 rules by default: one egress rule per customer would not scale.
    const app = new App();
    const shared = new Stack(app, 'Platform', { env: ENV });
    const platform = new SharedPlatform(shared, 'Platform', {
      platformName: 'acme',
      certificate: acm.Certificate.fromCertificateArn(shared, 'Wildcard', PLATFORM_CERTIFICATE_ARN),
    });
    const customers = [1, 2].map((n) => {
      const stack = new Stack(app, `Customer${n}`, { env: ENV });
      const targetGroup = new elbv2.ApplicationTargetGroup(stack, 'Targets', {
        vpc: platform.vpc,
        port: 8080,
        protocol: elbv2.ApplicationProtocol.HTTP,
      });
      new SharedAlbRule(stack, 'Rule', {
        listener: platform.httpsListener,
        allocator: platform.allocator,
        hostHeaders: [`c${n}.apps.example.com`],
        targetGroup,
      });
      const group = new ec2.SecurityGroup(stack, 'Instances', { vpc: platform.vpc });
      const asg = new autoscaling.AutoScalingGroup(stack, 'Asg', {
        vpc: platform.vpc,
        launchTemplate: new ec2.LaunchTemplate(stack, 'Template', {
          machineImage: ec2.MachineImage.latestAmazonLinux2023(),
          instanceType: new ec2.InstanceType('t3.micro'),
          securityGroup: group,
        }),
      });
      asg.attachToApplicationTargetGroup(targetGroup);
      return { stack, group };
    });
    const before = Template.fromStack(shared);
    for (const { stack, group } of customers) {
      const template = Template.fromStack(stack);
      template.resourceCountIs('AWS::EC2::SecurityGroupEgress', 0);
      template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
        GroupId: { 'Fn::GetAtt': [logicalId(stack, group), 'GroupId'] },
        SourceSecurityGroupId: { 'Fn::ImportValue': Match.stringLikeRegexp('LoadBalancerSecurityGroup') },
        FromPort: 8080,
        ToPort: 8080,
      });
    }
    before.resourceCountIs('AWS::EC2::SecurityGroupEgress', 0);
    before.resourceCountIs('AWS::EC2::SecurityGroupIngress', 0);
  });
});

describe('priority allocator', () => {
  test("the function's environment is encrypted with the platform key (checkov CKV_AWS_173), which its role may decrypt", () => {
    const { template, platform, stack } = synth();
    const key = { 'Fn::GetAtt': [logicalId(stack, platform.key), 'Arn'] };
    template.hasResourceProperties('AWS::Lambda::Function', { KmsKeyArn: key });
    const role = logicalId(stack, platform.allocator.function.role!);
    const statements = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((p: any) => JSON.stringify(p.Properties.Roles).includes(`"${role}"`))
      .flatMap((p: any) => p.Properties.PolicyDocument.Statement);
    expect(statements).toContainEqual({
      Effect: 'Allow',
      Action: 'kms:Decrypt',
      Resource: key,
      Condition: { StringEquals: { 'kms:ViaService': 'lambda.eu-west-1.amazonaws.com' } },
    });
  });

  test('one allocator function, in the VPC, allowed to change rules of this load balancer only', () => {
    const { template, platform, stack } = synth();
    // Two functions: the allocator, and the environment-resources function (its own test below).
    template.resourceCountIs('AWS::Lambda::Function', 2);
    template.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'acme-rule-priority-allocator',
      Runtime: 'nodejs24.x',
      VpcConfig: {
        SubnetIds: platform.vpc.privateSubnets.map((s) => ({ Ref: logicalId(stack, s.node.defaultChild!) })),
      },
    });
    const lb = logicalId(stack, platform.loadBalancer.node.defaultChild!);
    const scoped = (kind: string) => ({
      'Fn::Join': [
        '',
        [
          'arn:',
          { Ref: 'AWS::Partition' },
          `:elasticloadbalancing:eu-west-1:123456789012:${kind}/`,
          { 'Fn::GetAtt': [lb, 'LoadBalancerFullName'] },
          '/*',
        ],
      ],
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Action: ['elasticloadbalancing:DescribeRules', 'elasticloadbalancing:DescribeTags'],
            Effect: 'Allow',
            Resource: '*',
          },
          { Action: 'elasticloadbalancing:CreateRule', Effect: 'Allow', Resource: scoped('listener') },
          {
            Action: [
              'elasticloadbalancing:ModifyRule',
              'elasticloadbalancing:DeleteRule',
              'elasticloadbalancing:AddTags',
              'elasticloadbalancing:RemoveTags',
            ],
            Effect: 'Allow',
            Resource: scoped('listener-rule'),
          },
        ],
      },
    });
  });

  test('state encrypted with the platform key; kept and protected in production', () => {
    const staging = synth();
    staging.template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Delete',
      Properties: Match.objectLike({
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: {
          SSEEnabled: true,
          SSEType: 'KMS',
          KMSMasterKeyId: { 'Fn::GetAtt': [logicalId(staging.stack, staging.platform.key), 'Arn'] },
        },
      }),
    });
    synth({ production: true }).template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({ DeletionProtectionEnabled: true }),
    });
  });

  test('published in SSM for other apps, with the listener and the security group; or not', () => {
    const { template } = synth();
    for (const name of [
      SharedPlatform.allocatorParameterName('acme'),
      SharedPlatform.listenerParameterName('acme'),
      SharedPlatform.loadBalancerSecurityGroupParameterName('acme'),
    ]) {
      template.hasResourceProperties('AWS::SSM::Parameter', { Name: name, Type: 'String' });
    }
    expect(SharedPlatform.allocatorParameterName('acme')).toBe('/vending/acme/priority-allocator-arn');
    synth({ publishParameters: false }).template.resourceCountIs('AWS::SSM::Parameter', 0);
  });
});

describe('service roles', () => {
  const roleOf = (template: Template, service: string) => {
    const [found] = Object.entries(template.findResources('AWS::IAM::Role')).filter(([, r]) =>
      JSON.stringify(r.Properties.AssumeRolePolicyDocument).includes(`"${service}"`),
    );
    return found;
  };
  const statementsOf = (template: Template, roleId: string) =>
    Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((p) => JSON.stringify(p.Properties.Roles) === JSON.stringify([{ Ref: roleId }]))
      .flatMap((p) => p.Properties.PolicyDocument.Statement);

  test('RDS monitoring, CodeDeploy and EventBridge roles, once for every environment, published in the contract', () => {
    const { template } = synth();
    const [monitoring, monitoringRole] = roleOf(template, 'monitoring.rds.amazonaws.com');
    expect(JSON.stringify(monitoringRole.Properties.ManagedPolicyArns)).toContain(
      'service-role/AmazonRDSEnhancedMonitoringRole',
    );
    expect(statementsOf(template, monitoring)).toEqual([]);
    const [deployment] = roleOf(template, 'codedeploy.amazonaws.com');
    const [events] = roleOf(template, 'events.amazonaws.com');
    for (const [role, id] of [
      ['database-monitoring', monitoring],
      ['deployment', deployment],
      ['pipeline-events', events],
    ]) {
      template.hasResourceProperties('AWS::SSM::Parameter', {
        Name: `/vending/acme/v1/roles/${role}/arn`,
        Value: { 'Fn::GetAtt': [id, 'Arn'] },
      });
    }
  });

  test("the CodeDeploy role launches only from environments' launch templates and passes only their roles, to EC2", () => {
    const { template } = synth();
    const [deployment] = roleOf(template, 'codedeploy.amazonaws.com');
    const statements = statementsOf(template, deployment);
    const arn = (service: string, rest: string) => ({
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:${service}:${rest}`]],
    });
    expect(statements).toEqual([
      {
        Action: 'ec2:RunInstances',
        Effect: 'Allow',
        Resource: arn('ec2', 'eu-west-1:123456789012:launch-template/*'),
        Condition: { Null: { 'aws:ResourceTag/vending:customer': 'false' } },
      },
      {
        Action: 'ec2:RunInstances',
        Effect: 'Allow',
        Resource: [
          ...['instance', 'volume', 'network-interface', 'subnet', 'security-group'].map((r) =>
            arn('ec2', `eu-west-1:123456789012:${r}/*`),
          ),
          arn('ec2', 'eu-west-1::image/*'),
        ],
        Condition: { ArnLike: { 'ec2:LaunchTemplate': arn('ec2', 'eu-west-1:123456789012:launch-template/*') } },
      },
      {
        Action: 'ec2:CreateTags',
        Effect: 'Allow',
        Resource: '*',
        Condition: { StringEquals: { 'ec2:CreateAction': 'RunInstances' } },
      },
      {
        Action: 'iam:PassRole',
        Effect: 'Allow',
        Resource: arn('iam', ':123456789012:role/*'),
        Condition: {
          StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' },
          Null: { 'iam:ResourceTag/vending:customer': 'false' },
        },
      },
    ]);
  });

  test('the EventBridge role starts only pipelines of the environments (tagged with their customer), here', () => {
    const { template } = synth();
    const [events] = roleOf(template, 'events.amazonaws.com');
    expect(statementsOf(template, events)).toEqual([
      {
        Action: 'codepipeline:StartPipelineExecution',
        Effect: 'Allow',
        Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':codepipeline:eu-west-1:123456789012:*']] },
        Condition: { Null: { 'aws:ResourceTag/vending:customer': 'false' } },
      },
    ]);
  });
});

describe('from a platform config', () => {
  const config = (): PlatformConfig => ConfigLoader.loadPlatformFile(EXAMPLE_PLATFORM);

  test('the example platform.yaml gives its name, production flag, certificate and network', () => {
    const platformConfig = config();
    const app = new App();
    const stack = new Stack(app, 'Platform', {
      env: { account: platformConfig.account, region: platformConfig.region },
    });
    const platform = SharedPlatform.fromConfig(stack, 'Platform', platformConfig);
    expect(platform.platformName).toBe(platformConfig.name);
    expect(platform.production).toBe(platformConfig.environment === 'production');
    expect(platform.domain).toBe(platformConfig.domain);
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::EC2::VPC', { CidrBlock: platformConfig.vpc?.cidr ?? '10.10.0.0/16' });
    // Its zones by name: subnets in exactly those (VendingFleet also spares the CDK CLI the lookup; see its tests).
    const zones = new Set(
      Object.values(template.findResources('AWS::EC2::Subnet')).map((s) => s.Properties.AvailabilityZone),
    );
    expect([...zones].sort()).toEqual(platformConfig.vpc?.availabilityZones);
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Certificates: [{ CertificateArn: platformConfig.certificateArn }],
    });
  });

  test('options add what the config does not say: an existing VPC, deletion protection, parameters', () => {
    const platformConfig = config();
    const app = new App();
    const stack = new Stack(app, 'Platform', {
      env: { account: platformConfig.account, region: platformConfig.region },
    });
    const vpc = new ec2.Vpc(stack, 'Existing', { restrictDefaultSecurityGroup: false });
    const platform = SharedPlatform.fromConfig(stack, 'Platform', platformConfig, {
      vpc,
      deletionProtection: false,
      publishParameters: false,
    });
    expect(platform.vpc).toBe(vpc);
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::EC2::VPC', 1);
    template.resourceCountIs('AWS::SSM::Parameter', 0);
    expect(attributes(template)['deletion_protection.enabled']).toBe('false');
  });

  test('a stack in another region or account than the config is refused', () => {
    const platformConfig = config();
    const app = new App();
    const elsewhere = new Stack(app, 'Elsewhere', { env: { account: platformConfig.account, region: 'ap-south-1' } });
    expect(() => SharedPlatform.fromConfig(elsewhere, 'Platform', platformConfig)).toThrow(
      `SharedPlatform.fromConfig Elsewhere/Platform: region: the stack is in ap-south-1 but the platform config says ${platformConfig.region}`,
    );
    const otherAccount = new Stack(app, 'Other', { env: { account: '210987654321', region: platformConfig.region } });
    expect(() => SharedPlatform.fromConfig(otherAccount, 'Platform', platformConfig)).toThrow(
      /account: the stack is in 210987654321 but the platform config says \d{12}/,
    );
  });

  test('an invalid config is refused with every problem named', () => {
    const app = new App();
    const stack = new Stack(app, 'Platform', { env: ENV });
    expect(() =>
      SharedPlatform.fromConfig(stack, 'Platform', { ...config(), name: 'Acme', vpc: { maxAzs: 9 } }),
    ).toThrow(/SharedPlatform.fromConfig Platform\/Platform: name: received "Acme"[\s\S]*vpc.maxAzs: received 9/);
  });
});

describe('bad props', () => {
  const cases: [string, Partial<SharedPlatformProps>, RegExp][] = [
    [
      'platform name',
      { platformName: 'Acme_Hosting' },
      /platformName: received "Acme_Hosting"; expected 3 to 32 lower-case/,
    ],
    ['CIDR', { vpcCidr: '10.0.0.0/24' }, /vpcCidr: received "10.0.0.0\/24"; expected an IPv4 CIDR from \/16 to \/20/],
    ['AZ count', { maxAzs: 7 }, /maxAzs: received 7; expected a whole number from 1 to 6/],
    [
      'a zone of another region',
      { availabilityZones: ['eu-west-1a', 'us-east-1a'] },
      /availabilityZones: received "us-east-1a"; expected an Availability Zone of eu-west-1, such as eu-west-1a/,
    ],
    [
      'one zone',
      { availabilityZones: ['eu-west-1a'] },
      /availabilityZones: received \["eu-west-1a"\]; expected 2 to 6 different zones/,
    ],
    [
      'zones and maxAzs',
      { availabilityZones: ['eu-west-1a', 'eu-west-1b'], maxAzs: 2 },
      /maxAzs applies without availabilityZones only; expected either maxAzs or availabilityZones, not both/,
    ],
    [
      'no shared load balancer',
      { sharedLoadBalancers: 0 },
      /sharedLoadBalancers: received 0; expected a whole number from 1 to 20/,
    ],
    [
      'too many shared load balancers',
      { sharedLoadBalancers: 21 },
      /sharedLoadBalancers: received 21; expected a whole number from 1 to 20/,
    ],
    [
      'a fraction of a load balancer',
      { sharedLoadBalancers: 1.5 },
      /sharedLoadBalancers: received 1.5; expected a whole number/,
    ],
    [
      'one AZ in production',
      { maxAzs: 1 },
      /maxAzs: received 1; expected at least 2: a load balancer and a database need two Availability Zones/,
    ],
  ];
  test.each(cases)('%s', (_name, props, message) => {
    expect(() => synth(props)).toThrow(message);
    expect(() => synth(props)).toThrow(/^SharedPlatform Platform\/Platform: /);
  });

  test('network props beside a given VPC', () => {
    const app = new App();
    const stack = new Stack(app, 'Platform', { env: ENV });
    const vpc = new ec2.Vpc(stack, 'Given');
    expect(
      () =>
        new SharedPlatform(stack, 'Platform', {
          platformName: 'acme',
          certificate: acm.Certificate.fromCertificateArn(stack, 'Wildcard', PLATFORM_CERTIFICATE_ARN),
          vpc,
          maxAzs: 2,
          natInstances: false,
        }),
    ).toThrow(
      'SharedPlatform Platform/Platform: maxAzs, natInstances apply to a new VPC only; expected either vpc or maxAzs, natInstances, not both',
    );
  });

  test('a stack without a region', () => {
    const app = new App();
    const stack = new Stack(app, 'Anywhere');
    expect(
      () =>
        new SharedPlatform(stack, 'Platform', {
          platformName: 'acme',
          certificate: acm.Certificate.fromCertificateArn(stack, 'Wildcard', PLATFORM_CERTIFICATE_ARN),
        }),
    ).toThrow(
      /SharedPlatform Anywhere\/Platform: the stack Anywhere has no region; expected a stack with an explicit env/,
    );
  });
});

function logicalId(stack: Stack, construct: { node: { defaultChild?: unknown } } | object): string {
  const element = ((construct as any).node?.defaultChild ?? construct) as any;
  return stack.resolve(element.logicalId);
}

function expectSslOnly(template: Template, stack: Stack, bucket: object): void {
  template.hasResourceProperties('AWS::S3::BucketPolicy', {
    Bucket: { Ref: logicalId(stack, bucket) },
    PolicyDocument: Match.objectLike({
      Statement: Match.arrayWith([
        Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      ]),
    }),
  });
}

describe('the environment-resources function', () => {
  test('one function of a fixed name in the private subnets, HTTPS out only, its token published in the contract', () => {
    const { template, platform, stack } = synth();
    template.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'acme-environment-resources',
      Runtime: 'nodejs24.x',
      KmsKeyArn: { 'Fn::GetAtt': [logicalId(stack, platform.key), 'Arn'] },
      VpcConfig: {
        SubnetIds: platform.vpc.privateSubnets.map((s) => ({ Ref: logicalId(stack, s.node.defaultChild!) })),
      },
    });
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: 'Environment resources function: HTTPS to AWS APIs only',
      SecurityGroupEgress: [Match.objectLike({ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, CidrIp: '0.0.0.0/0' })],
    });
    expect(stack.resolve(platform.environmentResourcesServiceToken)).toEqual({
      'Fn::GetAtt': [
        logicalId(stack, platform.node.findChild('EnvironmentResources').node.findChild('Function')),
        'Arn',
      ],
    });
    template.hasResourceProperties('AWS::SSM::Parameter', {
      Name: '/vending/acme/v1/environment-resources/service-token',
      Value: {
        'Fn::Join': [
          '',
          ['arn:', { Ref: 'AWS::Partition' }, ':lambda:eu-west-1:123456789012:function:acme-environment-resources'],
        ],
      },
    });
  });

  test('its role may manage image parameters only, /vending/*/ami-id, and no other parameter', () => {
    const { template, platform, stack } = synth();
    const policy = platform.node.findChild('EnvironmentResources').node.findChild('Policy');
    const statements = template.toJSON().Resources[logicalId(stack, policy)].Properties.PolicyDocument.Statement;
    const ssm = statements.filter((s: any) => [s.Action].flat().some((a: string) => a.startsWith('ssm:')));
    expect(ssm).toEqual([
      {
        Action: [
          'ssm:GetParameter',
          'ssm:PutParameter',
          'ssm:DeleteParameter',
          'ssm:AddTagsToResource',
          'ssm:RemoveTagsFromResource',
          'ssm:ListTagsForResource',
        ],
        Effect: 'Allow',
        Resource: {
          'Fn::Join': [
            '',
            ['arn:', { Ref: 'AWS::Partition' }, ':ssm:eu-west-1:123456789012:parameter/vending/*/ami-id'],
          ],
        },
      },
      {
        Action: 'ssm:GetParameter',
        Effect: 'Allow',
        Resource: {
          'Fn::Join': [
            '',
            ['arn:', { Ref: 'AWS::Partition' }, ':ssm:eu-west-1::parameter/aws/service/ami-amazon-linux-latest/*'],
          ],
        },
      },
    ]);
    const wildcard = statements.filter((s: any) => s.Resource === '*').flatMap((s: any) => [s.Action].flat());
    expect(wildcard.sort()).toEqual(
      [
        'ec2:AssignPrivateIpAddresses',
        'ec2:CreateNetworkInterface',
        'ec2:DeleteNetworkInterface',
        'ec2:DescribeImages',
        'ec2:DescribeNetworkInterfaces',
        'ec2:DescribeSubnets',
        'ec2:UnassignPrivateIpAddresses',
      ].sort(),
    );
  });
});
