/*
 * CustomerWebTier: what a user of the construct relies on, asserted on the synthesized templates (a plain App, no
 * compliance plugins: test/web-tier/compliance.test.ts runs the compliance gate), and the props it refuses.
 */
import { Duration, Size, Stack, Tags } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import {
  addWebTier,
  allIngressRules,
  asList,
  attributesOf,
  CUSTOMER_CERTIFICATE_ARN,
  dedicatedIngress,
  exportOf,
  Fixture,
  FLEET,
  importOf,
  importsOf,
  ingressRulesOf,
  logicalId,
  newPlatform,
  only,
  policyStatementsOfRole,
  propertiesOf,
  PropsOf,
  resourcesOf,
  sharedIngress,
  STAGING_HOST,
  Synth,
  synth,
  synthProduction,
  tagsOf,
} from './fixture';
import { ConfigLoader, CustomerConfig, CustomerWebTier, SharedPlatformProps, WebTierIngress } from '../../src';
import { ENV } from '../support/platform-fixture';

const EXTRA_CERTIFICATE_ARN = 'arn:aws:acm:eu-west-1:123456789012:certificate/31111111-2222-3333-4444-555555555555';
/** The platform's logs bucket, by the literal name SharedPlatform gives it (no cross-stack import). */
const LOGS_BUCKET_NAME = 'acme-logs-123456789012-eu-west-1';
const AMI_PARAMETER_NAME = '/vending/acme/staging/ami-id';
const LATEST_AL2023 = '{{resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64}}';
const VENDING_TAGS = { 'vending:customer': 'acme', 'vending:environment': 'staging' };

/** Resource types that carry no tags of their own in CloudFormation (or that are deliberately left untagged). */
const UNTAGGED_TYPES = new Set([
  'AWS::S3::BucketPolicy',
  'AWS::SNS::TopicPolicy',
  'AWS::IAM::Policy',
  'AWS::IAM::InstanceProfile',
  'AWS::EC2::SecurityGroupIngress',
  'AWS::EC2::SecurityGroupEgress',
  'AWS::AutoScaling::ScalingPolicy',
  'AWS::ElasticLoadBalancingV2::ListenerCertificate',
  // Tagged through its own `tags` property (the allocator tags the listener rule it creates).
  'Custom::SharedAlbRulePriority',
  // Deliberately untagged: any change to it rewrites the AMI id (see "the AMI parameter").
  'AWS::SSM::Parameter',
]);

describe('a staging web tier on the shared load balancer (defaults)', () => {
  let s: Synth;
  beforeAll(() => {
    s = synth();
  });

  describe('the data bucket', () => {
    test('SSE-KMS with the platform key, versioned, private, SSL only, removed with the stack', () => {
      const bucket = s.template.toJSON().Resources[logicalId(s.web.dataBucket)];
      expect(bucket.Type).toBe('AWS::S3::Bucket');
      expect(bucket.DeletionPolicy).toBe('Delete');
      expect(bucket.Properties.BucketEncryption).toEqual({
        ServerSideEncryptionConfiguration: [
          {
            BucketKeyEnabled: true,
            ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: importOf(s.platform.key, 'Arn') },
          },
        ],
      });
      expect(bucket.Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
      expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
      const [, policy] = only(s.template, 'AWS::S3::BucketPolicy');
      expect(policy.Properties.Bucket).toEqual({ Ref: logicalId(s.web.dataBucket) });
      expect(policy.Properties.PolicyDocument.Statement).toContainEqual(
        expect.objectContaining({
          Effect: 'Deny',
          Action: 's3:*',
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          Resource: [
            { 'Fn::GetAtt': [logicalId(s.web.dataBucket), 'Arn'] },
            { 'Fn::Join': ['', [{ 'Fn::GetAtt': [logicalId(s.web.dataBucket), 'Arn'] }, '/*']] },
          ],
        }),
      );
    });

    test("access logs go to the platform's logs bucket by its literal name, under s3-access-logs/acme-staging/", () => {
      const logging = propertiesOf(s.template, s.web.dataBucket).LoggingConfiguration;
      // A literal name, not an import: Control Tower's proactive controls can check it (CT.S3.PR.2).
      expect(logging).toEqual({
        DestinationBucketName: LOGS_BUCKET_NAME,
        LogFilePrefix: 's3-access-logs/acme-staging/',
      });
      expect(JSON.stringify(logging)).not.toContain('Fn::ImportValue');
    });
  });

  describe('the AMI parameter', () => {
    test('/vending/acme/staging/ami-id, an aws:ec2:image starting on the latest Amazon Linux 2023', () => {
      const [, parameter] = only(s.template, 'AWS::SSM::Parameter');
      expect(parameter.Properties).toMatchObject({
        Name: AMI_PARAMETER_NAME,
        Type: 'String',
        DataType: 'aws:ec2:image',
        Value: LATEST_AL2023,
      });
      expect(s.web.amiParameter.parameterName).toBe(AMI_PARAMETER_NAME);
    });

    test('the launch template resolves the image from it at each launch', () => {
      const [, launchTemplate] = only(s.template, 'AWS::EC2::LaunchTemplate');
      expect(launchTemplate.Properties.LaunchTemplateData.ImageId).toBe(`resolve:ssm:${AMI_PARAMETER_NAME}`);
    });
  });

  describe('the launch template', () => {
    test('a launch template, never a launch configuration', () => {
      s.template.resourceCountIs('AWS::AutoScaling::LaunchConfiguration', 0);
      s.template.resourceCountIs('AWS::EC2::LaunchTemplate', 1);
      const [, asg] = only(s.template, 'AWS::AutoScaling::AutoScalingGroup');
      expect(asg.Properties.LaunchTemplate).toEqual({
        LaunchTemplateId: { Ref: logicalId(s.web.launchTemplate) },
        Version: { 'Fn::GetAtt': [logicalId(s.web.launchTemplate), 'LatestVersionNumber'] },
      });
    });

    test('the web tier installs the CodeDeploy agent on its instances, once, after its own start', () => {
      const data = propertiesOf(s.template, s.web.launchTemplate).LaunchTemplateData;
      const script = JSON.stringify(data.UserData);
      expect(script.split('# CodeDeploy agent').length).toBe(2);
      expect(script.indexOf('instance starting')).toBeLessThan(script.indexOf('# CodeDeploy agent'));
      expect(script).toContain('systemctl enable --now codedeploy-agent');
    });

    test('IMDSv2 only (one hop), an encrypted gp3 root volume of 20 GiB, user data, detailed monitoring', () => {
      const data = propertiesOf(s.template, s.web.launchTemplate).LaunchTemplateData;
      expect(data.MetadataOptions).toMatchObject({ HttpTokens: 'required', HttpPutResponseHopLimit: 1 });
      expect(data.BlockDeviceMappings).toEqual([
        {
          DeviceName: '/dev/xvda',
          Ebs: { DeleteOnTermination: true, Encrypted: true, VolumeSize: 20, VolumeType: 'gp3' },
        },
      ]);
      expect(JSON.stringify(data.UserData)).toMatch(
        /^\{"Fn::Base64":\{"Fn::Join":\["",\["#!\/bin\/bash\\nset -euo pipefail\\n/,
      );
      expect(data.Monitoring).toEqual({ Enabled: true });
      expect(data.InstanceType).toBe('t3.small');
    });

    test("the instance role's profile and the instance security group", () => {
      const data = propertiesOf(s.template, s.web.launchTemplate).LaunchTemplateData;
      const [profileId, profile] = only(s.template, 'AWS::IAM::InstanceProfile');
      expect(profile.Properties.Roles).toEqual([{ Ref: logicalId(s.web.instanceRole) }]);
      expect(data.IamInstanceProfile).toEqual({ Arn: { 'Fn::GetAtt': [profileId, 'Arn'] } });
      expect(data.SecurityGroupIds).toEqual([{ 'Fn::GetAtt': [logicalId(s.web.securityGroup), 'GroupId'] }]);
    });
  });

  describe('the instance role', () => {
    test('assumed by EC2, with Session Manager through AmazonSSMManagedInstanceCore', () => {
      const role = propertiesOf(s.template, s.web.instanceRole);
      expect(role.AssumeRolePolicyDocument.Statement).toEqual([
        { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' } },
      ]);
      expect(role.ManagedPolicyArns).toEqual([
        { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/AmazonSSMManagedInstanceCore']] },
      ]);
    });

    test('reads its own data bucket only, decrypting through S3 only', () => {
      const bucket = logicalId(s.web.dataBucket);
      const all = policyStatementsOfRole(s.template, logicalId(s.web.instanceRole));
      // Besides its logs and its parameters (logs-and-settings.test.ts).
      expect(all.map((statement) => statement.Sid).filter(Boolean)).toEqual([
        'WriteOwnLogs',
        'ReadOwnSettings',
        'NoOtherParameters',
      ]);
      const statements = all.filter((statement) => statement.Sid === undefined);
      expect(statements).toEqual([
        {
          Effect: 'Allow',
          Action: ['s3:GetObject', 's3:GetObjectVersion'],
          Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucket, 'Arn'] }, '/*']] },
        },
        {
          Effect: 'Allow',
          Action: ['s3:ListBucket', 's3:GetBucketLocation'],
          Resource: { 'Fn::GetAtt': [bucket, 'Arn'] },
        },
        {
          Effect: 'Allow',
          Action: 'kms:Decrypt',
          Resource: importOf(s.platform.key, 'Arn'),
          Condition: { StringEquals: { 'kms:ViaService': 's3.eu-west-1.amazonaws.com' } },
        },
      ]);
    });

    test('no S3 write action and no "*" resource in any of its policies', () => {
      const statements = policyStatementsOfRole(s.template, logicalId(s.web.instanceRole));
      expect(statements.length).toBeGreaterThan(0);
      for (const statement of statements) {
        for (const action of asList<string>(statement.Action)) {
          expect(action).not.toMatch(/^s3:(\*|Put|Delete|Replicate|Restore|Create|Abort|Bypass)/);
        }
        for (const resource of asList(statement.Resource)) expect(resource).not.toBe('*');
        expect(statement.NotAction).toBeUndefined();
        // NotResource only where it narrows: the deny of every parameter but the environment's own.
        if (statement.NotResource !== undefined) {
          expect(statement).toMatchObject({ Effect: 'Deny', Sid: 'NoOtherParameters' });
        }
      }
    });
  });

  describe('the Auto Scaling group', () => {
    test('1 to 4 instances, ELB health checks with a 5 minute grace period', () => {
      const asg = propertiesOf(s.template, s.web.autoScalingGroup);
      expect(asg).toMatchObject({ MinSize: '1', MaxSize: '4', HealthCheckType: 'ELB', HealthCheckGracePeriod: 300 });
    });

    test("in the platform's private subnets, with their Availability Zones spelled out (at least 2)", () => {
      const asg = propertiesOf(s.template, s.web.autoScalingGroup);
      const privateSubnets = s.platform.vpc.privateSubnets;
      expect(asg.VPCZoneIdentifier).toEqual(privateSubnets.map((subnet) => importOf(subnet)));
      expect(new Set(asg.AvailabilityZones.map((zone: unknown) => JSON.stringify(zone))).size).toBeGreaterThanOrEqual(
        2,
      );
      // Read from the subnets themselves: the zones always match them, and no zone name is written here.
      expect(asg.AvailabilityZones).toEqual(privateSubnets.map((subnet) => importOf(subnet, 'AvailabilityZone')));
    });

    test('scaling events go to an encrypted SNS topic that refuses non-SSL publishing', () => {
      const asg = propertiesOf(s.template, s.web.autoScalingGroup);
      const [topicId, topic] = only(s.template, 'AWS::SNS::Topic');
      expect(asg.NotificationConfigurations).toEqual([
        expect.objectContaining({
          TopicARN: { Ref: topicId },
          NotificationTypes: expect.arrayContaining([
            'autoscaling:EC2_INSTANCE_LAUNCH_ERROR',
            'autoscaling:EC2_INSTANCE_TERMINATE_ERROR',
          ]),
        }),
      ]);
      expect(topic.Properties.KmsMasterKeyId).toEqual({
        'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':kms:eu-west-1:123456789012:alias/aws/sns']],
      });
      const [, policy] = only(s.template, 'AWS::SNS::TopicPolicy');
      expect(policy.Properties.Topics).toEqual([{ Ref: topicId }]);
      expect(policy.Properties.PolicyDocument.Statement).toContainEqual(
        expect.objectContaining({
          Effect: 'Deny',
          Action: 'sns:Publish',
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        }),
      );
    });

    test('registered in the target group; CPU target tracking at 60%, no request-count scaling', () => {
      const asg = propertiesOf(s.template, s.web.autoScalingGroup);
      expect(asg.TargetGroupARNs).toContainEqual({ Ref: logicalId(s.web.targetGroup) });
      const policies = resourcesOf(s.template, 'AWS::AutoScaling::ScalingPolicy').map(([, p]) => p.Properties);
      expect(policies).toEqual([
        {
          AutoScalingGroupName: { Ref: logicalId(s.web.autoScalingGroup) },
          PolicyType: 'TargetTrackingScaling',
          TargetTrackingConfiguration: {
            PredefinedMetricSpecification: { PredefinedMetricType: 'ASGAverageCPUUtilization' },
            TargetValue: 60,
          },
        },
      ]);
    });
  });

  test('the target group: HTTP 80 to instances, the default health check, a 30 s drain', () => {
    const targetGroup = propertiesOf(s.template, s.web.targetGroup);
    expect(targetGroup).toMatchObject({
      Port: 80,
      Protocol: 'HTTP',
      TargetType: 'instance',
      HealthCheckPath: '/',
      Matcher: { HttpCode: '200-399' },
      HealthCheckIntervalSeconds: 30,
      HealthCheckTimeoutSeconds: 5,
      HealthyThresholdCount: 2,
      UnhealthyThresholdCount: 3,
    });
    expect(attributesOf({ Properties: targetGroup }, 'TargetGroupAttributes')).toMatchObject({
      'deregistration_delay.timeout_seconds': '30',
    });
  });

  describe('ingress through the shared load balancer', () => {
    test('one allocated rule for the host names, forwarding to the target group, tagged', () => {
      const [ruleId, rule] = only(s.template, 'Custom::SharedAlbRulePriority');
      expect(rule.Properties).toMatchObject({
        ServiceToken: importOf(s.platform.allocator.function, 'Arn'),
        listenerArn: importOf(s.platform.httpsListener),
        hosts: [STAGING_HOST],
        targetGroupArn: { Ref: logicalId(s.web.targetGroup) },
        tags: [
          { Key: 'vending:customer', Value: 'acme' },
          { Key: 'vending:environment', Value: 'staging' },
        ],
      });
      expect(s.web.sharedRule).toBeDefined();
      expect(logicalId(s.web.sharedRule!.resource)).toBe(ruleId);
    });

    test('no load balancer (nor listener) of its own, no listener certificate without certificates', () => {
      s.template.resourceCountIs('AWS::ElasticLoadBalancingV2::LoadBalancer', 0);
      s.template.resourceCountIs('AWS::ElasticLoadBalancingV2::Listener', 0);
      s.template.resourceCountIs('AWS::ElasticLoadBalancingV2::ListenerCertificate', 0);
      expect(s.web.loadBalancer).toBeUndefined();
    });

    test("the instances admit the shared load balancer's security group on port 80, and nothing from anywhere", () => {
      const rules = ingressRulesOf(s.template, logicalId(s.web.securityGroup));
      expect(rules).toEqual([
        expect.objectContaining({
          IpProtocol: 'tcp',
          FromPort: 80,
          ToPort: 80,
          SourceSecurityGroupId: importOf(s.platform.loadBalancerSecurityGroup, 'GroupId'),
        }),
      ]);
      // No ingress from an address range anywhere in the stack (the instance group is its only group).
      s.template.resourceCountIs('AWS::EC2::SecurityGroup', 1);
      for (const rule of allIngressRules(s.template)) {
        expect(rule.CidrIp).toBeUndefined();
        expect(rule.CidrIpv6).toBeUndefined();
      }
    });

    test('the URL is https:// and the first host name, as the Url output; the DNS target when the load balancer is known', () => {
      expect(s.web.url).toBe(`https://${STAGING_HOST}`);
      const outputs = Object.entries(s.template.findOutputs('*'));
      const url = [expect.stringMatching(/^WebUrl/), expect.objectContaining({ Value: s.web.url })];
      if (s.web.loadBalancer) {
        expect(outputs).toEqual([
          url,
          [
            expect.stringMatching(/^WebLoadBalancerDnsName/),
            expect.objectContaining({ Value: s.stack.resolve(s.web.loadBalancer.loadBalancerDnsName) }),
          ],
        ]);
      } else {
        expect(outputs).toEqual([url]);
      }
    });
  });

  test('every taggable resource carries vending:customer and vending:environment', () => {
    const resources = Object.entries(s.template.toJSON().Resources as Record<string, any>);
    const tagged = resources.filter(([, r]) => !UNTAGGED_TYPES.has(r.Type));
    // At least these (a new taggable resource is checked below as well).
    expect(tagged.map(([, r]) => r.Type)).toEqual(
      expect.arrayContaining([
        'AWS::AutoScaling::AutoScalingGroup',
        'AWS::EC2::LaunchTemplate',
        'AWS::EC2::SecurityGroup',
        'AWS::ElasticLoadBalancingV2::TargetGroup',
        'AWS::IAM::Role',
        'AWS::S3::Bucket',
        'AWS::SNS::Topic',
      ]),
    );
    for (const [id, resource] of tagged) {
      const tags =
        resource.Type === 'AWS::EC2::LaunchTemplate'
          ? resource.Properties.TagSpecifications.flatMap((t: any) => t.Tags)
          : resource.Properties.Tags;
      expect([id, tagsOf(tags)]).toEqual([id, expect.objectContaining(VENDING_TAGS)]);
    }
  });
});

describe('a production web tier on a load balancer of its own (defaults)', () => {
  let s: Synth;
  beforeAll(() => {
    s = synthProduction();
  });

  test('the data bucket is kept when the stack is deleted or the bucket replaced', () => {
    const bucket = s.template.toJSON().Resources[logicalId(s.web.dataBucket)];
    expect(bucket.DeletionPolicy).toBe('Retain');
    expect(bucket.UpdateReplacePolicy).toBe('Retain');
  });

  test('2 to 4 instances', () => {
    expect(propertiesOf(s.template, s.web.autoScalingGroup)).toMatchObject({ MinSize: '2', MaxSize: '4' });
    expect(s.web.production).toBe(true);
  });

  test('one internet-facing load balancer in the public subnets: deletion-protected, strict headers, logged', () => {
    const [, loadBalancer] = only(s.template, 'AWS::ElasticLoadBalancingV2::LoadBalancer');
    expect(loadBalancer.Properties.Scheme).toBe('internet-facing');
    expect(loadBalancer.Properties.Subnets).toEqual(s.platform.vpc.publicSubnets.map((subnet) => importOf(subnet)));
    expect(attributesOf(loadBalancer)).toMatchObject({
      'deletion_protection.enabled': 'true',
      'routing.http.drop_invalid_header_fields.enabled': 'true',
      'access_logs.s3.enabled': 'true',
      // The platform's logs bucket by its literal name, under the prefix its policy lets load balancers write.
      'access_logs.s3.bucket': LOGS_BUCKET_NAME,
      'access_logs.s3.prefix': 'alb',
    });
    expect(s.web.loadBalancer).toBeDefined();
  });

  test('port 80 redirects permanently to HTTPS 443', () => {
    s.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 80,
      Protocol: 'HTTP',
      DefaultActions: [
        { Type: 'redirect', RedirectConfig: { Protocol: 'HTTPS', Port: '443', StatusCode: 'HTTP_301' } },
      ],
    });
  });

  test('port 443: the customer certificate, a TLS 1.3 policy, 503 "host not found" for other hosts', () => {
    s.template.resourceCountIs('AWS::ElasticLoadBalancingV2::Listener', 2);
    s.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 443,
      Protocol: 'HTTPS',
      Certificates: [{ CertificateArn: CUSTOMER_CERTIFICATE_ARN }],
      SslPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06',
      DefaultActions: [
        {
          Type: 'fixed-response',
          FixedResponseConfig: { StatusCode: '503', ContentType: 'text/plain', MessageBody: 'host not found' },
        },
      ],
    });
  });

  test('a rule for www.acme.com forwards to the target group; no shared rule', () => {
    const [httpsId] = resourcesOf(s.template, 'AWS::ElasticLoadBalancingV2::Listener').find(
      ([, l]) => l.Properties.Port === 443,
    )!;
    const [, rule] = only(s.template, 'AWS::ElasticLoadBalancingV2::ListenerRule');
    expect(rule.Properties).toMatchObject({
      ListenerArn: { Ref: httpsId },
      Conditions: [{ Field: 'host-header', HostHeaderConfig: { Values: ['www.acme.com'] } }],
      Actions: [{ Type: 'forward', TargetGroupArn: { Ref: logicalId(s.web.targetGroup) } }],
    });
    s.template.resourceCountIs('Custom::SharedAlbRulePriority', 0);
    expect(s.web.sharedRule).toBeUndefined();
  });

  test("the instances admit only the dedicated load balancer's security group, on port 80", () => {
    const loadBalancerGroup = s.web.node.findChild('LoadBalancerSecurityGroup');
    const rules = ingressRulesOf(s.template, logicalId(s.web.securityGroup));
    expect(rules).toEqual([
      expect.objectContaining({
        IpProtocol: 'tcp',
        FromPort: 80,
        ToPort: 80,
        SourceSecurityGroupId: { 'Fn::GetAtt': [logicalId(loadBalancerGroup), 'GroupId'] },
      }),
    ]);
    // Nothing refers to the shared load balancer's group.
    const sharedGroup = exportOf(s.platform.loadBalancerSecurityGroup, 'GroupId');
    expect(importsOf(s.template).filter((name) => sharedGroup.test(name))).toEqual([]);
    expect(importsOf(s.template).length).toBeGreaterThan(0);
    // Only the load balancer's own group is open to the internet, on 80 and 443.
    const open = propertiesOf(s.template, loadBalancerGroup).SecurityGroupIngress.map(
      (r: any) => `${r.CidrIp}:${r.FromPort}-${r.ToPort}`,
    );
    expect(open.sort()).toEqual(['0.0.0.0/0:443-443', '0.0.0.0/0:80-80']);
  });

  test('the URL is https://www.acme.com, as the Url output; the DNS target of www.acme.com is its load balancer', () => {
    expect(s.web.url).toBe('https://www.acme.com');
    s.template.hasOutput('*', { Value: 'https://www.acme.com' });
    s.template.hasOutput('*', {
      Value: { 'Fn::GetAtt': [logicalId(s.web.loadBalancer!), 'DNSName'] },
      Description: "Load balancer of acme-production: the target of its host names' DNS records (alias or CNAME)",
    });
  });

  test('every taggable resource carries the vending tags, the load balancer and its listeners too', () => {
    const resources = Object.entries(s.template.toJSON().Resources as Record<string, any>);
    const types = new Set(resources.map(([, r]) => r.Type));
    for (const type of ['AWS::ElasticLoadBalancingV2::LoadBalancer', 'AWS::ElasticLoadBalancingV2::Listener']) {
      expect(types.has(type)).toBe(true);
    }
    for (const [id, resource] of resources.filter(([, r]) => !UNTAGGED_TYPES.has(r.Type))) {
      const tags =
        resource.Type === 'AWS::EC2::LaunchTemplate'
          ? resource.Properties.TagSpecifications.flatMap((t: any) => t.Tags)
          : resource.Properties.Tags;
      expect([id, tagsOf(tags)]).toEqual([
        id,
        expect.objectContaining({ 'vending:customer': 'acme', 'vending:environment': 'production' }),
      ]);
    }
  });
});

describe('options', () => {
  test('compute: instance type, capacities, CPU target, request-count scaling, root volume', () => {
    const { template, web } = synth({
      instanceType: new ec2.InstanceType('m7i.large'),
      minCapacity: 3,
      maxCapacity: 7,
      targetCpuUtilizationPercent: 45,
      targetRequestsPerMinute: 800,
      rootVolumeSize: Size.gibibytes(50),
    });
    const data = propertiesOf(template, web.launchTemplate).LaunchTemplateData;
    expect(data.InstanceType).toBe('m7i.large');
    expect(data.BlockDeviceMappings[0].Ebs.VolumeSize).toBe(50);
    expect(propertiesOf(template, web.autoScalingGroup)).toMatchObject({ MinSize: '3', MaxSize: '7' });
    const targets = resourcesOf(template, 'AWS::AutoScaling::ScalingPolicy').map(
      ([, p]) => p.Properties.TargetTrackingConfiguration,
    );
    expect(targets).toHaveLength(2);
    expect(targets).toContainEqual({
      PredefinedMetricSpecification: { PredefinedMetricType: 'ASGAverageCPUUtilization' },
      TargetValue: 45,
    });
    expect(targets).toContainEqual({
      PredefinedMetricSpecification: {
        PredefinedMetricType: 'ALBRequestCountPerTarget',
        ResourceLabel: expect.objectContaining({ 'Fn::Join': expect.anything() }),
      },
      TargetValue: 800,
    });
  });

  test('a larger minimum raises the default maximum; production with only minCapacity', () => {
    const six = synth({ minCapacity: 6 });
    expect(propertiesOf(six.template, six.web.autoScalingGroup)).toMatchObject({ MinSize: '6', MaxSize: '6' });
    const production = synthProduction({ maxCapacity: 10 });
    expect(propertiesOf(production.template, production.web.autoScalingGroup)).toMatchObject({
      MinSize: '2',
      MaxSize: '10',
    });
  });

  test('request-count scaling behind a dedicated load balancer', () => {
    const { template, web } = synthProduction({ targetRequestsPerMinute: 300 });
    const request = resourcesOf(template, 'AWS::AutoScaling::ScalingPolicy').find(
      ([, p]) =>
        p.Properties.TargetTrackingConfiguration.PredefinedMetricSpecification.PredefinedMetricType ===
        'ALBRequestCountPerTarget',
    );
    expect(request).toBeDefined();
    expect(request![1].Properties.TargetTrackingConfiguration.TargetValue).toBe(300);
    expect(JSON.stringify(request![1].Properties)).toContain(logicalId(web.targetGroup));
  });

  test('health check: path, codes, interval, timeout and thresholds; defaults for what is not given', () => {
    const full = synth({
      healthCheck: {
        path: '/health',
        healthyHttpCodes: '200,302',
        interval: Duration.seconds(15),
        timeout: Duration.seconds(10),
        healthyThresholdCount: 3,
        unhealthyThresholdCount: 5,
      },
    });
    expect(propertiesOf(full.template, full.web.targetGroup)).toMatchObject({
      HealthCheckPath: '/health',
      Matcher: { HttpCode: '200,302' },
      HealthCheckIntervalSeconds: 15,
      HealthCheckTimeoutSeconds: 10,
      HealthyThresholdCount: 3,
      UnhealthyThresholdCount: 5,
    });
    const partial = synth({ healthCheck: { path: '/status' } });
    expect(propertiesOf(partial.template, partial.web.targetGroup)).toMatchObject({
      HealthCheckPath: '/status',
      Matcher: { HttpCode: '200-399' },
      HealthCheckIntervalSeconds: 30,
      HealthCheckTimeoutSeconds: 5,
      HealthyThresholdCount: 2,
      UnhealthyThresholdCount: 3,
    });
  });

  // A key given as undefined (allowed by the type, e.g. `{ interval: settings.interval }`) takes its default.
  test('health check keys given as undefined take their defaults', () => {
    const { template, web } = synth({
      healthCheck: { path: undefined, interval: undefined, timeout: undefined },
    });
    expect(propertiesOf(template, web.targetGroup)).toMatchObject({
      HealthCheckPath: '/',
      HealthCheckIntervalSeconds: 30,
      HealthCheckTimeoutSeconds: 5,
    });
  });

  test('initialImageId is the starting value of the AMI parameter', () => {
    const { template } = synth({ initialImageId: 'ami-0123456789abcdef0' });
    const [, parameter] = only(template, 'AWS::SSM::Parameter');
    expect(parameter.Properties.Value).toBe('ami-0123456789abcdef0');
    expect(parameter.Properties.Name).toBe(AMI_PARAMETER_NAME);
  });

  test('production may be set apart from the environment name', () => {
    const { template, web } = synth({ environment: 'live', production: true });
    expect(template.toJSON().Resources[logicalId(web.dataBucket)].DeletionPolicy).toBe('Retain');
    expect(propertiesOf(template, web.autoScalingGroup).MinSize).toBe('2');
    const notProduction = synthProduction({ production: false, minCapacity: 1 });
    expect(notProduction.template.toJSON().Resources[logicalId(notProduction.web.dataBucket)].DeletionPolicy).toBe(
      'Delete',
    );
  });

  test('shared ingress: several host names, and certificates added to the shared listener', () => {
    const { template, web, platform } = synth(({ platform: p, stack }) => ({
      ingress: sharedIngress(p, {
        hostnames: [STAGING_HOST, 'staging.acme.com'],
        certificates: [acm.Certificate.fromCertificateArn(stack, 'Extra', EXTRA_CERTIFICATE_ARN)],
      }),
    }));
    const [, rule] = only(template, 'Custom::SharedAlbRulePriority');
    expect(rule.Properties.hosts).toEqual([STAGING_HOST, 'staging.acme.com']);
    const [, certificate] = only(template, 'AWS::ElasticLoadBalancingV2::ListenerCertificate');
    expect(certificate.Properties).toEqual({
      ListenerArn: importOf(platform.httpsListener),
      Certificates: [{ CertificateArn: EXTRA_CERTIFICATE_ARN }],
    });
    expect(web.url).toBe(`https://${STAGING_HOST}`);
  });

  test('dedicated ingress: deletionProtection false is honoured', () => {
    const { template } = synthProduction({}, { deletionProtection: false });
    const [, loadBalancer] = only(template, 'AWS::ElasticLoadBalancingV2::LoadBalancer');
    expect(attributesOf(loadBalancer)['deletion_protection.enabled']).toBe('false');
  });

  test('tags: the tags prop on every taggable resource, propagated to instances and their volumes', () => {
    const { template, web } = synth({ tags: { CostCenter: '1234', team: 'web' } });
    const expected = { ...VENDING_TAGS, CostCenter: '1234', team: 'web' };
    for (const construct of [web.dataBucket, web.securityGroup, web.targetGroup, web.instanceRole]) {
      expect(tagsOf(propertiesOf(template, construct).Tags)).toEqual(expected);
    }
    const asgTags = propertiesOf(template, web.autoScalingGroup).Tags;
    expect(tagsOf(asgTags)).toEqual(expected);
    for (const tag of asgTags) expect(tag.PropagateAtLaunch).toBe(true);
    const launchTemplate = propertiesOf(template, web.launchTemplate);
    const specifications = [
      ...launchTemplate.TagSpecifications,
      ...launchTemplate.LaunchTemplateData.TagSpecifications,
    ] as { ResourceType: string; Tags: { Key: string; Value: string }[] }[];
    expect(specifications.map((t) => t.ResourceType).sort()).toEqual(['instance', 'launch-template', 'volume']);
    for (const specification of specifications) {
      expect(tagsOf(specification.Tags)).toEqual(expect.objectContaining(expected));
    }
    const resources = Object.entries(template.toJSON().Resources as Record<string, any>);
    for (const [id, resource] of resources.filter(([, r]) => !UNTAGGED_TYPES.has(r.Type))) {
      if (resource.Type === 'AWS::EC2::LaunchTemplate') continue;
      expect([id, tagsOf(resource.Properties.Tags)]).toEqual([id, expect.objectContaining(expected)]);
    }
  });
});

describe('the AMI parameter belongs to the AMI pipeline after its first bake', () => {
  /*
   * CloudFormation writes a parameter's Value again whenever the parameter resource changes, over the image
   * that the AMI pipeline put there: every instance launched afterwards would start on the initial image. So
   * the resource must not change with anything a user may change later.
   */
  const parameterOf = (template: Template) => template.findResources('AWS::SSM::Parameter');

  test('byte-identical whatever else changes: compute, health check, tags, app tags, host names, ingress', () => {
    const before = synth();
    const after = synth(
      ({ platform, stack }) => ({
        instanceType: new ec2.InstanceType('c7i.xlarge'),
        minCapacity: 2,
        maxCapacity: 12,
        targetCpuUtilizationPercent: 40,
        targetRequestsPerMinute: 2000,
        rootVolumeSize: Size.gibibytes(100),
        healthCheck: {
          path: '/healthz',
          healthyHttpCodes: '200',
          interval: Duration.seconds(10),
          timeout: Duration.seconds(4),
        },
        tags: { CostCenter: '999', owner: 'web-team' },
        ingress: sharedIngress(platform, {
          hostnames: ['acme-staging.apps.example.com', 'staging.acme.com'],
          certificates: [acm.Certificate.fromCertificateArn(stack, 'Extra', EXTRA_CERTIFICATE_ARN)],
        }),
      }),
      {
        stackProps: { tags: { stage: 'two' } },
        configure: (app, stack) => {
          Tags.of(app).add('team', 'web');
          Tags.of(stack).add('release', '2');
        },
      },
    );
    const dedicated = synth(({ stack }) => ({ ingress: dedicatedIngress(stack) }));

    // Everything else did change.
    expect(after.template.toJSON()).not.toEqual(before.template.toJSON());
    expect(propertiesOf(after.template, after.web.launchTemplate).LaunchTemplateData.InstanceType).toBe('c7i.xlarge');
    expect(tagsOf(propertiesOf(after.template, after.web.dataBucket).Tags)).toMatchObject({ team: 'web' });

    const original = parameterOf(before.template);
    expect(Object.keys(original)).toEqual([logicalId(before.web.node.findChild('AmiParameter'))]);
    for (const changed of [after, dedicated]) {
      // Logical id, type, properties, policies and dependencies: the whole resource, byte for byte.
      expect(parameterOf(changed.template)).toEqual(original);
      expect(JSON.stringify(parameterOf(changed.template))).toBe(JSON.stringify(original));
    }
  });

  test('untagged even when the stack and the app are tagged', () => {
    const { template, web } = synth(
      { tags: { CostCenter: '1234' } },
      {
        stackProps: { tags: { stage: 'one' } },
        configure: (app, stack) => {
          Tags.of(app).add('team', 'web');
          Tags.of(stack).add('owner', 'platform');
        },
      },
    );
    // The tags did reach the rest of the stack.
    expect(tagsOf(propertiesOf(template, web.dataBucket).Tags)).toMatchObject({
      team: 'web',
      owner: 'platform',
      CostCenter: '1234',
    });
    const [, parameter] = only(template, 'AWS::SSM::Parameter');
    expect(parameter.Properties).not.toHaveProperty('Tags');
    expect(Object.keys(parameter.Properties).sort()).toEqual(['DataType', 'Description', 'Name', 'Type', 'Value']);
  });

  test('CustomerWebTier.amiParameterName', () => {
    expect(CustomerWebTier.amiParameterName('acme', 'staging')).toBe('/vending/acme/staging/ami-id');
    expect(CustomerWebTier.amiParameterName('globex', 'production')).toBe('/vending/globex/production/ami-id');
  });
});

describe('the default image follows the instance architecture', () => {
  test('a Graviton instance type starts on Amazon Linux 2023 for arm64', () => {
    const { template } = synth({ instanceType: new ec2.InstanceType('t4g.small') });
    const [, parameter] = only(template, 'AWS::SSM::Parameter');
    expect(parameter.Properties.Value).toBe(
      '{{resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64}}',
    );
  });
});

describe('logical ids of stateful resources', () => {
  test('the data bucket and the AMI parameter keep their logical ids', () => {
    const { template, web } = synth();
    // Do not change these ids (construct ids `DataBucket` and `AmiParameter`, or the construct tree above them):
    // a new logical id of the data bucket makes CloudFormation create an empty bucket and delete (outside
    // production) or orphan (production) the customer's data; a new logical id of the AMI parameter creates
    // it again with its initial value, throwing away the image the AMI pipeline baked.
    expect(logicalId(web.dataBucket)).toBe('WebDataBucketF865F87B');
    expect(logicalId(web.node.findChild('AmiParameter'))).toBe('WebAmiParameterB85AD722');
    expect(template.toJSON().Resources.WebDataBucketF865F87B.Type).toBe('AWS::S3::Bucket');
    expect(template.toJSON().Resources.WebAmiParameterB85AD722.Type).toBe('AWS::SSM::Parameter');
    const production = synthProduction();
    expect(production.template.toJSON().Resources.WebDataBucketF865F87B.Type).toBe('AWS::S3::Bucket');
    expect(production.template.toJSON().Resources.WebAmiParameterB85AD722.Type).toBe('AWS::SSM::Parameter');
  });
});

describe('from a customer config', () => {
  const fleet = ConfigLoader.loadFleet(FLEET);
  const customer = (name: string, environment: string): CustomerConfig => {
    const found = fleet.customers.find((c) => c.customer === name && c.environment === environment);
    if (!found) throw new Error(`no ${name}-${environment} in ${FLEET}`);
    return found;
  };

  /** A web tier from a config, on the fleet's platform (domain apps.example.com), in a new App. */
  function fromConfig(config: CustomerConfig, platformProps: Partial<SharedPlatformProps> = {}) {
    const fixture = newPlatform({ domain: fleet.platform.domain, ...platformProps });
    const stack = new Stack(fixture.app, 'Customer', { env: ENV });
    const web = CustomerWebTier.fromConfig(stack, 'Web', config, fixture.platform);
    return { ...fixture, stack, web, template: Template.fromStack(stack) };
  }

  test('production with a custom domain (acme-production.yaml): a load balancer of its own', () => {
    const config = customer('acme', 'production');
    const { template, web } = fromConfig(config);
    expect(web.production).toBe(true);
    expect(web.url).toBe('https://www.acme.com');
    template.resourceCountIs('AWS::ElasticLoadBalancingV2::LoadBalancer', 1);
    template.resourceCountIs('Custom::SharedAlbRulePriority', 0);
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 443,
      Certificates: [{ CertificateArn: config.customDomain!.certificateArn }],
    });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::ListenerRule', {
      Conditions: [{ Field: 'host-header', HostHeaderConfig: { Values: ['www.acme.com'] } }],
    });
    // The rest of the config reaches the resources.
    expect(propertiesOf(template, web.autoScalingGroup)).toMatchObject({ MinSize: '2', MaxSize: '6' });
    expect(propertiesOf(template, web.targetGroup).HealthCheckPath).toBe('/health');
    expect(tagsOf(propertiesOf(template, web.dataBucket).Tags)).toMatchObject({
      CostCenter: '1234',
      'vending:customer': 'acme',
      'vending:environment': 'production',
    });
    expect(template.toJSON().Resources[logicalId(web.dataBucket)].DeletionPolicy).toBe('Retain');
    template.hasResourceProperties('AWS::SSM::Parameter', { Name: '/vending/acme/production/ami-id' });
  });

  test('staging (acme-staging.yaml, hooli-staging.yaml): a shared rule for <customer>-<environment>.apps.example.com', () => {
    for (const [name, environment] of [
      ['acme', 'staging'],
      ['hooli', 'staging'],
    ]) {
      const { template, web, platform } = fromConfig(customer(name, environment));
      const host = `${name}-${environment}.apps.example.com`;
      const [, rule] = only(template, 'Custom::SharedAlbRulePriority');
      expect(rule.Properties.hosts).toEqual([host]);
      template.resourceCountIs('AWS::ElasticLoadBalancingV2::LoadBalancer', 0);
      template.resourceCountIs('AWS::ElasticLoadBalancingV2::ListenerCertificate', 0);
      expect(web.url).toBe(`https://${host}`);
      expect(web.production).toBe(false);
      // The shared load balancer is the one in front.
      expect(web.loadBalancer).toBe(platform.loadBalancer);
    }
  });

  test('production without a custom domain (globex-production.yaml): a shared rule for its config hostname', () => {
    const { template, web } = fromConfig(customer('globex', 'production'));
    const [, rule] = only(template, 'Custom::SharedAlbRulePriority');
    expect(rule.Properties.hosts).toEqual(['globex.apps.example.com']);
    template.resourceCountIs('AWS::ElasticLoadBalancingV2::LoadBalancer', 0);
    expect(web.url).toBe('https://globex.apps.example.com');
    expect(propertiesOf(template, web.autoScalingGroup)).toMatchObject({ MinSize: '2', MaxSize: '8' });
    expect(propertiesOf(template, web.launchTemplate).LaunchTemplateData.InstanceType).toBe('m7i.large');
  });

  test('a config without a hostname gets <customer>-<environment>.<platform domain>', () => {
    const { hostname, ...config } = customer('hooli', 'staging');
    expect(hostname).toBe('hooli-staging.apps.example.com');
    const { template } = fromConfig(config, { domain: 'web.example.org' });
    expect(only(template, 'Custom::SharedAlbRulePriority')[1].Properties.hosts).toEqual([
      'hooli-staging.web.example.org',
    ]);
  });

  test('a config without a hostname on a platform without a domain is refused', () => {
    const { hostname, ...config } = customer('hooli', 'staging');
    void hostname;
    expect(() => fromConfig(config, { domain: undefined })).toThrow(
      'CustomerWebTier.fromConfig Customer/Web: hostname: received nothing, and the platform has no domain',
    );
  });

  test('a custom domain outside production: a shared rule for both names and a listener certificate', () => {
    const certificateArn = 'arn:aws:acm:eu-west-1:123456789012:certificate/aaaaaaaa-0000-4000-8000-000000000003';
    const { template, web, platform } = fromConfig({
      ...customer('acme', 'staging'),
      customDomain: { name: 'staging.acme.com', certificateArn },
    });
    template.resourceCountIs('AWS::ElasticLoadBalancingV2::LoadBalancer', 0);
    const [, rule] = only(template, 'Custom::SharedAlbRulePriority');
    expect(rule.Properties.hosts).toEqual(['acme-staging.apps.example.com', 'staging.acme.com']);
    const [, certificate] = only(template, 'AWS::ElasticLoadBalancingV2::ListenerCertificate');
    expect(certificate.Properties).toEqual({
      ListenerArn: importOf(platform.httpsListener),
      Certificates: [{ CertificateArn: certificateArn }],
    });
    expect(web.url).toBe('https://acme-staging.apps.example.com');
  });

  test('an invalid config is refused, naming CustomerWebTier.fromConfig, the path and the problem', () => {
    const config = { ...customer('acme', 'staging'), compute: { minCapacity: 5, maxCapacity: 2 } };
    expect(() => fromConfig(config)).toThrow(
      /CustomerWebTier\.fromConfig Customer\/Web: compute\.minCapacity: received 5, more than maxCapacity \(2\); expected minCapacity <= maxCapacity/,
    );
  });
});

describe('bad props', () => {
  // Props are checked in the constructor: one platform serves every case (nothing is synthesized).
  let fixture: Fixture;
  let count = 0;
  beforeAll(() => {
    fixture = newPlatform();
  });

  test.each<[string, PropsOf, string]>([
    [
      'minCapacity above maxCapacity',
      { minCapacity: 5, maxCapacity: 2 },
      'minCapacity: received 5 with maxCapacity 2; expected minCapacity <= maxCapacity',
    ],
    [
      'one instance in production',
      ({ stack }) => ({ environment: 'production', ingress: dedicatedIngress(stack), minCapacity: 1 }),
      'minCapacity: received 1 for a production environment; expected at least 2, so that the instances ' +
        'span two Availability Zones',
    ],
    [
      'an instance type without a family and size',
      { instanceType: new ec2.InstanceType('large') },
      'instanceType: received "large"; expected an EC2 instance type such as t3.small',
    ],
    [
      "a capacity above the schema's maximum",
      { maxCapacity: 101 },
      'maxCapacity: received 101; expected an integer from 1 to 100',
    ],
    [
      "a CPU target below the schema's minimum",
      { targetCpuUtilizationPercent: 5 },
      'targetCpuUtilizationPercent: received 5; expected an integer from 10 to 90',
    ],
    [
      'a root volume of a fraction of a GiB',
      { rootVolumeSize: Size.mebibytes(20_000) },
      'rootVolumeSize: received 19.53125 GiB (a number); expected an integer from 8 to 16384 GiB',
    ],
    [
      'a health check interval of less than 5 seconds',
      { healthCheck: { interval: Duration.seconds(3), timeout: Duration.seconds(2) } },
      'healthCheck.interval: received 3 seconds; expected an integer from 5 to 300 seconds',
    ],
    [
      'a healthy threshold above 10',
      { healthCheck: { healthyThresholdCount: 11 } },
      'healthCheck.healthyThresholdCount: received 11; expected an integer from 2 to 10',
    ],
    [
      'a health check path that is not absolute',
      { healthCheck: { path: 'health' } },
      'healthCheck.path: received "health"; expected an absolute URL path such as /health',
    ],
    [
      'a disabled health check',
      { healthCheck: { enabled: false } },
      'healthCheck.enabled: received false; expected true or nothing: the load balancer always checks instance targets',
    ],
    [
      'a health check timeout as long as the interval',
      { healthCheck: { interval: Duration.seconds(10), timeout: Duration.seconds(10) } },
      'healthCheck.timeout: received 10 seconds with an interval of 10 seconds; expected a timeout shorter than the ' +
        'interval',
    ],
    [
      'a customer name in capitals',
      { customer: 'Acme' },
      'customer: received "Acme"; expected 3 to 32 lower-case letters, digits or hyphens, starting with a letter, ' +
        'without -- and not ending with -',
    ],
    [
      'an environment name ending with a hyphen',
      { environment: 'staging-' },
      'environment: received "staging-"; expected 2 to 16 lower-case letters or digits, starting with a letter',
    ],
    [
      'an initialImageId that is not an AMI id',
      { initialImageId: 'ami-xyz' },
      'initialImageId: received "ami-xyz"; expected an AMI id such as ami-0123456789abcdef0',
    ],
    [
      'no host names',
      ({ platform }) => ({ ingress: sharedIngress(platform, { hostnames: [] }) }),
      'ingress.hostnames: received an empty list; expected 1 to 5 host names',
    ],
    [
      'a custom domain that is not a DNS name',
      ({ stack }) => ({
        ingress: WebTierIngress.dedicatedLoadBalancer({
          domainName: 'www.acme.com/shop',
          certificate: acm.Certificate.fromCertificateArn(stack, 'BadDomainCertificate', CUSTOMER_CERTIFICATE_ARN),
        }),
      }),
      'ingress.domainName: received "www.acme.com/shop"; expected a lower-case DNS name such as acme.apps.example.com',
    ],
  ])('%s', (_name, props, message) => {
    const id = `Bad${++count}`;
    let error: Error | undefined;
    try {
      addWebTier(fixture, id, props);
    } catch (e) {
      error = e as Error;
    }
    expect(error).toBeInstanceOf(Error);
    // The construct's path first, then the prop, the value received and what is expected.
    expect(error!.message.startsWith(`CustomerWebTier ${id}/Web: ${message}`)).toBe(true);
  });
});

describe('switching production between shared and dedicated ingress (adding or removing customDomain)', () => {
  // A target group belongs to one load balancer: when the update keeps its logical id, CloudFormation attaches it to
  // the new listener while the old one still holds it, and the update fails and rolls back. A new logical id makes
  // CloudFormation create a new target group first, point the listener and the Auto Scaling group at it, and
  // delete the old one with the old ingress at the end of the update.
  const shared = () => synthProduction(({ platform }) => ({ ingress: sharedIngress(platform) }));
  const dedicated = () => synthProduction();

  test.each([
    ['shared to dedicated', shared, dedicated],
    ['dedicated to shared', dedicated, shared],
  ])('%s: a new target group, and nothing points at the old one', (_name, before, after) => {
    const old = before();
    const next = after();
    const oldId = logicalId(old.web.targetGroup);
    const newId = logicalId(next.web.targetGroup);
    expect(newId).not.toBe(oldId);
    const resources = next.template.toJSON().Resources;
    expect(resources[oldId]).toBeUndefined();
    expect(resources[newId].Type).toBe('AWS::ElasticLoadBalancingV2::TargetGroup');
    expect(old.template.toJSON().Resources[newId]).toBeUndefined();
    expect(JSON.stringify(resources)).not.toContain(`"${oldId}"`);
    expect(propertiesOf(next.template, next.web.autoScalingGroup).TargetGroupARNs).toEqual([{ Ref: newId }]);
  });

  test('the data bucket keeps its logical id through the switch', () => {
    expect(logicalId(shared().web.dataBucket)).toBe(logicalId(dedicated().web.dataBucket));
  });
});
