import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { EnvironmentResourcesFunction } from './environment-resources-function';
import { leaveOutCreationStackTraces } from '../config/creation-traces';

/** Internal: what the platform's environment-resources function is built from. */
export interface EnvironmentResourcesProps {
  readonly vpc: ec2.IVpc;
  readonly encryptionKey: kms.IKey;
  /** Fixed: its ARN is the ServiceToken of every customer's custom resources, which no update may change. */
  readonly functionName: string;
  /** Keep the log group when the platform is deleted (production). */
  readonly retainLogs: boolean;
}

/**
 * The SSM parameters the function may manage: every web tier's image parameter, `/vending/<customer>/<environment>/ami-id`
 * (`CustomerWebTier.amiParameterName`), and nothing else (the platform contract's parameters do not end in ami-id).
 */
export const AMI_PARAMETER_PATTERN = 'vending/*/ami-id';

/**
 * Internal: the ONE function that serves the custom resources of customer stacks besides listener rules (the web
 * tier's image parameter), so that no customer stack holds a function. In the VPC's private subnets (Control Tower
 * CT.LAMBDA.PR.3), HTTPS out only; its own role, log group and security group, in the platform stack.
 */
export class EnvironmentResources extends Construct {
  public readonly function: lambda.IFunction;
  public readonly role: iam.IRole;
  public readonly serviceToken: string;

  public constructor(scope: Construct, id: string, props: EnvironmentResourcesProps) {
    super(scope, id);
    leaveOutCreationStackTraces(this);
    const stack = Stack.of(this);
    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: logs.RetentionDays.ONE_YEAR,
      encryptionKey: props.encryptionKey,
      removalPolicy: props.retainLogs ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    const role = new iam.Role(this, 'Role', {
      // Named as the function: a customer stack's data bucket policy names this role (aws:PrincipalArn), derived from
      // the function's ARN that the contract publishes.
      roleName: props.functionName,
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: "Serves customer environments' custom resources: image parameters, data buckets' cleanup",
    });
    this.role = role;
    const parameterArn = stack.formatArn({
      service: 'ssm',
      resource: 'parameter',
      resourceName: AMI_PARAMETER_PATTERN,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
    const policy = new iam.Policy(this, 'Policy', {
      statements: [
        new iam.PolicyStatement({
          actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          resources: [logGroup.logGroupArn],
        }),
        new iam.PolicyStatement({
          actions: [
            'ssm:GetParameter',
            'ssm:PutParameter',
            'ssm:DeleteParameter',
            'ssm:AddTagsToResource',
            'ssm:RemoveTagsFromResource',
            'ssm:ListTagsForResource',
          ],
          resources: [parameterArn],
        }),
        // The stock images' public parameters, read when CloudFormation hands the initial image over unresolved.
        new iam.PolicyStatement({
          actions: ['ssm:GetParameter'],
          resources: [
            stack.formatArn({
              service: 'ssm',
              account: '',
              resource: 'parameter',
              resourceName: 'aws/service/ami-amazon-linux-latest/*',
              arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
            }),
          ],
        }),
        // A data bucket's cleanup asks whether its stack is being deleted and which bucket the stack holds. The S3
        // permissions are not here: each non-production data bucket's own policy grants them to this function.
        new iam.PolicyStatement({
          actions: ['cloudformation:DescribeStacks', 'cloudformation:DescribeStackResource'],
          resources: [stack.formatArn({ service: 'cloudformation', resource: 'stack', resourceName: '*' })],
        }),
        // Parameter Store checks an aws:ec2:image value with the caller's DescribeImages (no resource-level
        // permission exists for it; it only reads).
        new iam.PolicyStatement({ actions: ['ec2:DescribeImages'], resources: ['*'] }),
        // The function's environment, encrypted with the platform key: Lambda decrypts it as the function's role.
        new iam.PolicyStatement({
          actions: ['kms:Decrypt'],
          resources: [props.encryptionKey.keyArn],
          conditions: { StringEquals: { 'kms:ViaService': `lambda.${stack.region}.amazonaws.com` } },
        }),
        // What a function in a VPC needs for its network interfaces (Lambda's own list; IAM cannot scope them).
        new iam.PolicyStatement({
          actions: [
            'ec2:CreateNetworkInterface',
            'ec2:DescribeNetworkInterfaces',
            'ec2:DescribeSubnets',
            'ec2:DeleteNetworkInterface',
            'ec2:AssignPrivateIpAddresses',
            'ec2:UnassignPrivateIpAddresses',
          ],
          resources: ['*'],
        }),
      ],
    });
    policy.attachToRole(role);
    const securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'Environment resources function: HTTPS to AWS APIs only',
      allowAllOutbound: false,
    });
    securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'AWS APIs and the CloudFormation response URL');
    const fn = new EnvironmentResourcesFunction(this, 'Function', {
      vpc: props.vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      securityGroups: [securityGroup],
      description:
        "Serves customer environments' custom resources: image parameters, data buckets' cleanup (cdk-paas-vending)",
      functionName: props.functionName,
      role,
      logGroup,
      memorySize: 256,
      timeout: Duration.minutes(2),
      environmentEncryption: props.encryptionKey,
    });
    fn.node.addDependency(policy);
    this.function = fn;
    this.serviceToken = fn.functionArn;
  }
}
