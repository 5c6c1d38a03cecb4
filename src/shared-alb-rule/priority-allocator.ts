import { ArnFormat, Duration, Fn, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { PriorityAllocatorFunction } from './priority-allocator-function';
import { ENV_STATE_TABLE, SWEEP_INTERVAL_MINUTES } from './types';
import { leaveOutCreationStackTraces } from '../config/creation-traces';

/**
 * The ALB rule priority allocator that SharedAlbRule custom resources call.
 *
 * One allocator serves a whole platform; customer stacks only need its `serviceToken`.
 */
export interface IPriorityAllocator {
  /** ARN of the allocator's Lambda function: the custom resources' `ServiceToken`. */
  readonly serviceToken: string;
}

/** Props of PriorityAllocator. */
export interface PriorityAllocatorProps {
  /**
   * VPC the function runs in (its private subnets with egress): it calls the ELB and DynamoDB APIs and
   * answers CloudFormation through an S3 URL.
   */
  readonly vpc: ec2.IVpc;
  /**
   * Subnets of the function.
   * @default - the VPC's private subnets with egress
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /**
   * Load balancers whose listeners the allocator may add rules to. More can be added with
   * `serveLoadBalancer()`. The allocator's role can change rules of these load balancers only.
   * @default - none until `serveLoadBalancer()` adds them
   */
  readonly loadBalancers?: elbv2.IApplicationLoadBalancer[];
  /**
   * Key that encrypts the state table, the function's log group and its environment. The key policy must let CloudWatch
   * Logs of this region use it (SharedPlatform's key does).
   * @default - the state table uses the AWS managed key `aws/dynamodb`, the log group CloudWatch Logs' own encryption and the environment Lambda's own key
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * Keep the state table when the stack is deleted. The table holds only allocation bookkeeping: a new
   * table recounts each listener's rules on its first allocation.
   * @default false
   */
  readonly retainState?: boolean;
  /**
   * How long the function's logs are kept.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * SSM parameter name under which the allocator's ARN is published for stacks of other apps
   * (read it with `PriorityAllocator.fromParameter`).
   * @default - not published
   */
  readonly parameterName?: string;
  /**
   * The function's name. A fixed name keeps its ARN, the ServiceToken of every SharedAlbRule, the same for the life
   * of the platform, which CloudFormation requires of a custom resource (SharedPlatform sets one).
   * @default - a name CloudFormation generates
   */
  readonly functionName?: string;
}

/**
 * The ONE Lambda function (bundled at build time) and the DynamoDB state table that allocate listener
 * rule priorities for SharedAlbRule, without races, for any number of stacks.
 *
 * @example
 * declare const vpc: ec2.IVpc;
 * declare const loadBalancer: elbv2.IApplicationLoadBalancer;
 * const allocator = new PriorityAllocator(this, 'Allocator', { vpc, loadBalancers: [loadBalancer] });
 */
export class PriorityAllocator extends Construct implements IPriorityAllocator {
  /** An allocator from its function ARN, e.g. one made by another app. */
  public static fromServiceToken(scope: Construct, id: string, serviceToken: string): IPriorityAllocator {
    return new ImportedPriorityAllocator(scope, id, serviceToken);
  }

  /**
   * An allocator published with `parameterName` in an SSM parameter of this account and region (read at
   * deploy time, so the platform can be deployed by another app).
   */
  public static fromParameter(scope: Construct, id: string, parameterName: string): IPriorityAllocator {
    if (!Token.isUnresolved(parameterName) && !/^\/[A-Za-z0-9_.\-/]{1,1010}$/.test(parameterName)) {
      throw new Error(
        `PriorityAllocator.fromParameter ${scope.node.path}/${id}: parameterName: received ` +
          `${JSON.stringify(parameterName)}; expected an SSM parameter path such as /vending/acme/priority-allocator-arn`,
      );
    }
    const importScope = new Construct(scope, id);
    return new ImportedPriorityAllocator(
      importScope,
      'Import',
      ssm.StringParameter.valueForStringParameter(importScope, parameterName),
    );
  }

  public readonly serviceToken: string;
  /** The allocator's Lambda function. */
  public readonly function: lambda.IFunction;
  /** Claims and per-listener rule counters. */
  public readonly stateTable: dynamodb.ITable;
  /** The function's role. */
  public readonly role: iam.IRole;
  /** The published SSM parameter, when `parameterName` is given. */
  public readonly parameter?: ssm.IStringParameter;

  private readonly elbPolicy: iam.Policy;
  private readonly served = new Set<string>();

  public constructor(scope: Construct, id: string, props: PriorityAllocatorProps) {
    super(scope, id);
    leaveOutCreationStackTraces(this);
    const stack = Stack.of(this);

    const table = new dynamodb.Table(this, 'State', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: props.encryptionKey
        ? dynamodb.TableEncryption.CUSTOMER_MANAGED
        : dynamodb.TableEncryption.AWS_MANAGED,
      encryptionKey: props.encryptionKey,
      deletionProtection: props.retainState ?? false,
      removalPolicy: props.retainState ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    this.stateTable = table;

    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      encryptionKey: props.encryptionKey,
      removalPolicy: props.retainState ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });

    // A role of our own: the managed AWSLambdaBasicExecutionRole would allow logging to any log group.
    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Allocates listener rule priorities for SharedAlbRule custom resources',
    });
    this.role = role;
    const statePolicy = new iam.Policy(this, 'StatePolicy', {
      statements: [
        new iam.PolicyStatement({
          actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          resources: [logGroup.logGroupArn],
        }),
        new iam.PolicyStatement({
          actions: [
            'dynamodb:GetItem',
            'dynamodb:PutItem',
            'dynamodb:UpdateItem',
            'dynamodb:DeleteItem',
            'dynamodb:Query',
          ],
          resources: [table.tableArn],
        }),
        ...(props.encryptionKey
          ? [
              new iam.PolicyStatement({
                actions: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'],
                resources: [props.encryptionKey.keyArn],
                conditions: { StringEquals: { 'kms:ViaService': `dynamodb.${stack.region}.amazonaws.com` } },
              }),
              // The function's environment, encrypted with the key: Lambda decrypts it as the function's role.
              new iam.PolicyStatement({
                actions: ['kms:Decrypt'],
                resources: [props.encryptionKey.keyArn],
                conditions: { StringEquals: { 'kms:ViaService': `lambda.${stack.region}.amazonaws.com` } },
              }),
            ]
          : []),
      ],
    });
    statePolicy.attachToRole(role);
    this.elbPolicy = new iam.Policy(this, 'ListenerPolicy', {
      statements: [
        new iam.PolicyStatement({
          // DescribeRules and DescribeTags have no resource-level permissions in IAM: they only read. The handler
          // finds the rules it made by their tags (a lost answer, a lost record).
          actions: ['elasticloadbalancing:DescribeRules', 'elasticloadbalancing:DescribeTags'],
          resources: ['*'],
        }),
      ],
    });
    this.elbPolicy.attachToRole(role);
    // What a function in a VPC needs for its network interfaces (Lambda's own list; IAM cannot scope them).
    const networkPolicy = new iam.Policy(this, 'NetworkPolicy', {
      statements: [
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
    networkPolicy.attachToRole(role);

    const securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'ALB rule priority allocator: HTTPS to AWS APIs only',
      allowAllOutbound: false,
    });
    securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'AWS APIs and the CloudFormation response URL');

    const fn = new PriorityAllocatorFunction(this, 'Function', {
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      securityGroups: [securityGroup],
      description: 'Allocates race-free listener rule priorities for SharedAlbRule (cdk-paas-vending)',
      functionName: props.functionName,
      role,
      logGroup,
      memorySize: 256,
      // The handler answers FAILED 10 s before this timeout; SharedAlbRule's ServiceTimeout is longer.
      timeout: Duration.minutes(2),
      // No reserved concurrency: new accounts have a concurrency quota of 10, and reserving any of it fails there.
      environment: { [ENV_STATE_TABLE]: table.tableName },
      // With the key, the environment is encrypted with it at rest (checkov CKV_AWS_173); its role may decrypt.
      ...(props.encryptionKey ? { environmentEncryption: props.encryptionKey } : {}),
    });
    fn.node.addDependency(statePolicy, this.elbPolicy, networkPolicy);
    this.function = fn;

    // The sweep of rules that a CreateRule of unknown outcome makes after its resource's Delete (see sweep.ts).
    new events.Rule(this, 'Sweep', {
      description: 'Deletes listener rules that appeared after their custom resource was deleted (cdk-paas-vending)',
      schedule: events.Schedule.rate(Duration.minutes(SWEEP_INTERVAL_MINUTES)),
      targets: [
        new targets.LambdaFunction(fn, {
          event: events.RuleTargetInput.fromObject({ action: 'sweep' }),
          retryAttempts: 0, // the next sweep runs in 15 minutes and does the same
        }),
      ],
    });
    this.serviceToken = fn.functionArn;

    for (const loadBalancer of props.loadBalancers ?? []) this.serveLoadBalancer(loadBalancer);

    if (props.parameterName !== undefined) {
      this.parameter = new ssm.StringParameter(this, 'Parameter', {
        parameterName: props.parameterName,
        stringValue: fn.functionArn,
        description: 'ServiceToken of the cdk-paas-vending ALB rule priority allocator',
      });
    }
  }

  /**
   * Lets the allocator create, change, tag and delete rules on the listeners of this load balancer
   * (and nothing else of it).
   */
  public serveLoadBalancer(loadBalancer: elbv2.IApplicationLoadBalancer): void {
    const stack = Stack.of(this);
    const key = stack.resolve(loadBalancer.loadBalancerArn);
    const keyText = JSON.stringify(key);
    if (this.served.has(keyText)) return;
    this.served.add(keyText);
    // Listeners and rules of arn:...:loadbalancer/app/<name>/<id> are listener(-rule)/app/<name>/<id>/...
    const resourceName = loadBalancerFullName(loadBalancer);
    const arn = (resourceType: string) =>
      stack.formatArn({
        service: 'elasticloadbalancing',
        resource: resourceType,
        resourceName: `${resourceName}/*`,
        arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
      });
    this.elbPolicy.addStatements(
      new iam.PolicyStatement({
        actions: ['elasticloadbalancing:CreateRule'],
        resources: [arn('listener')],
      }),
      new iam.PolicyStatement({
        actions: [
          'elasticloadbalancing:ModifyRule',
          'elasticloadbalancing:DeleteRule',
          'elasticloadbalancing:AddTags',
          'elasticloadbalancing:RemoveTags',
        ],
        resources: [arn('listener-rule')],
      }),
    );
  }
}

/** `app/<name>/<id>` of a load balancer, from its attribute or, when imported, from its ARN. */
function loadBalancerFullName(loadBalancer: elbv2.IApplicationLoadBalancer): string {
  if (loadBalancer instanceof elbv2.ApplicationLoadBalancer) return loadBalancer.loadBalancerFullName;
  const parts = Fn.split('/', loadBalancer.loadBalancerArn);
  return Fn.join('/', [Fn.select(1, parts), Fn.select(2, parts), Fn.select(3, parts)]);
}

class ImportedPriorityAllocator extends Construct implements IPriorityAllocator {
  public constructor(
    scope: Construct,
    id: string,
    public readonly serviceToken: string,
  ) {
    super(scope, id);
    if (
      !Token.isUnresolved(serviceToken) &&
      !/^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[\w-]+(:[\w$-]+)?$/.test(serviceToken)
    ) {
      throw new Error(
        `PriorityAllocator.fromServiceToken ${this.node.path}: serviceToken: received ${JSON.stringify(serviceToken)}; ` +
          'expected the ARN of the allocator function, arn:aws:lambda:REGION:ACCOUNT:function:NAME',
      );
    }
  }
}
