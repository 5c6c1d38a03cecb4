/*
 * Proves test/support/compliance.ts on a queue and its dead-letter queue: the smallest realistic set that
 * passes all four checkers. (An S3 bucket would need versioning, lifecycle rules, event notifications and
 * access logging into a log bucket, which GUARD_EXCEPTIONS then exempts from CT.S3.PR.10, .9 and .2.) Each
 * failing case breaks exactly one thing and asserts the report's header, which counts the failing findings
 * per checker, so a finding of another checker fails the test too. The GUARD_EXCEPTIONS cases use buckets and
 * instances that fail other checks too: they assert the findings of the one control, not the whole report.
 */
import { randomUUID } from 'crypto';
import { mkdtempSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { basename, join } from 'path';
import { App, Duration, NestedStack, Stack, Validations } from 'aws-cdk-lib';
import { CfnInstance, FlowLog, FlowLogDestination, SubnetType, Vpc } from 'aws-cdk-lib/aws-ec2';
import { AccountRootPrincipal, PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { BlockPublicAccess, Bucket, BucketEncryption } from 'aws-cdk-lib/aws-s3';
import { CfnQueue, Queue, QueueEncryption, RedrivePermission } from 'aws-cdk-lib/aws-sqs';
import { Construct, IConstruct } from 'constructs';
import {
  acknowledge,
  checkCompliance,
  ComplianceFinding,
  DISABLED_GUARD_RULES,
  expectCompliant,
  GUARD_EXCEPTIONS,
  guardRuleFilesToDisable,
  isLogDestinationBucket,
  lintTemplates,
  MIN_REASON_LENGTH,
  newTestApp,
  TemplateResource,
} from './compliance';

const REASON = 'The queue only carries test fixtures in this unit test.';

interface Queues {
  readonly stack: Stack;
  readonly queue: Queue;
  readonly deadLetters: Queue;
}

/**
 * A queue with its dead-letter queue that passes cdk-nag, the Control Tower rules, aws-cdk-lib's validation
 * and cfn-lint; `change` lets a test break exactly one thing.
 */
function queues(
  app: App = newTestApp(),
  id = 'Stack',
  change: { enforceSSL?: boolean; redriveAllowPolicy?: boolean } = {},
): Queues {
  const stack = new Stack(app, id);
  const deadLetters = new Queue(stack, 'DeadLetters', {
    encryption: QueueEncryption.KMS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
    // Marks it as a dead-letter queue for CT.SQS.PR.1 (dead-letter queues need no dead-letter queue).
    redriveAllowPolicy:
      change.redriveAllowPolicy === false ? undefined : { redrivePermission: RedrivePermission.ALLOW_ALL },
  });
  const queue = new Queue(stack, 'Queue', {
    encryption: QueueEncryption.KMS_MANAGED,
    enforceSSL: change.enforceSSL ?? true,
    deadLetterQueue: { queue: deadLetters, maxReceiveCount: 5 },
  });
  return { stack, queue, deadLetters };
}

function logicalId(construct: Queue): string {
  const resource = construct.node.defaultChild as CfnQueue;
  return Stack.of(construct).resolve(resource.logicalId);
}

/** The findings that fail, as `checker ruleId path`, to assert that nothing else failed. */
function failing(findings: ComplianceFinding[]): string[] {
  return findings.filter((f) => f.fails).map((f) => `${f.checker} ${f.ruleId} ${f.constructPath}`);
}

/** The one Control Tower finding of `control` (`CT.S3.PR.10`) on the construct at `path`. */
function guardFinding(findings: ComplianceFinding[], control: string, path: string): ComplianceFinding {
  const matches = findings.filter(
    (f) => f.checker === 'cfn-guard' && f.ruleId.startsWith(`${control} (`) && f.constructPath === path,
  );
  if (matches.length !== 1) {
    throw new Error(`expected one ${control} finding on ${path}, got ${matches.length}`);
  }
  return matches[0];
}

/** The finding of an exception: reported, not failing, naming the reason. */
const EXCEPTED = expect.objectContaining({
  severity: 'info',
  fails: false,
  message: expect.stringContaining('(excepted: '),
});
/** The finding of a rule that holds: it fails. */
const FAILS = expect.objectContaining({
  severity: 'error',
  fails: true,
  message: expect.not.stringContaining('excepted'),
});

/** The qualified ids (`namespace::id`) acknowledged on the construct itself, by whoever. */
function acknowledgedOn(construct: IConstruct): string[] {
  return construct.node.metadata
    .filter((e) => e.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
    .flatMap((e) => Object.keys(e.data as Record<string, unknown>));
}

function thrownBy(fn: () => void): string {
  try {
    fn();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected an error, none was thrown');
}

describe('expectCompliant', () => {
  test('a clean stack passes all four checkers', () => {
    const { stack } = queues();

    expect(() => expectCompliant(stack)).not.toThrow();
  });

  test('an unacknowledged cdk-nag finding fails, naming rule, construct path and logical id', () => {
    const { stack, queue } = queues(newTestApp(), 'Stack', { enforceSSL: false });

    const message = thrownBy(() => expectCompliant(stack));

    expect(message).toContain('1 compliance finding(s) in Stack (cdk-nag: 1)');
    expect(message).toContain(
      `[cdk-nag] AwsSolutions-SQS4 ERROR Stack/Queue/Resource (${logicalId(queue)} in Stack.template.json)`,
    );
    expect(message).toContain('The SQS queue does not require requests to use SSL.');
  });

  test("aws-cdk-lib's validation runs on a compliance App although the tests set CDK_VALIDATION=false", () => {
    // test/support/jest-setup.ts turns aws-cdk-lib's automatic validation off for every other App.
    expect(process.env.CDK_VALIDATION).toBe('false');
    // A property the resource type does not have: aws-cdk-lib's schema validation names it.
    const { stack, queue } = queues(newTestApp(), 'Checked');
    (queue.node.defaultChild as CfnQueue).addPropertyOverride('NoSuchProperty', 1);
    const findings = checkCompliance(stack).filter((f) => f.checker === 'cloudformation-validate');
    expect(findings).toEqual([
      expect.objectContaining({ fails: true, constructPath: 'Checked/Queue/Resource', location: expect.any(String) }),
    ]);

    // A plain App of the tests synthesizes the same property without a word from it.
    const plainApp = new App({ outdir: mkdtempSync(join(tmpdir(), 'plain-')) });
    const plain = new CfnQueue(new Stack(plainApp, 'Plain'), 'Queue', { sqsManagedSseEnabled: true });
    plain.addPropertyOverride('NoSuchProperty', 1);
    expect(() => plainApp.synth()).not.toThrow();
  });

  test('a cfn-lint error that only cfn-lint sees fails, naming the rule id', () => {
    const { stack, queue } = queues();
    // A standard queue cannot use content-based deduplication; aws-cdk-lib's validation lets it through.
    (queue.node.defaultChild as CfnQueue).addPropertyOverride('ContentBasedDeduplication', true);

    const message = thrownBy(() => expectCompliant(stack));

    expect(message).toContain('1 compliance finding(s) in Stack (cfn-lint: 1)');
    expect(message).toContain(
      `[cfn-lint] E3501 ERROR Stack/Queue/Resource (${logicalId(queue)} in Stack.template.json) ` +
        `at Resources/${logicalId(queue)}/Properties/ContentBasedDeduplication`,
    );
  });

  test('a Control Tower guard violation fails, naming the control', () => {
    const { stack, deadLetters } = queues(newTestApp(), 'Stack', { redriveAllowPolicy: false });

    const message = thrownBy(() => expectCompliant(stack));

    expect(message).toContain('1 compliance finding(s) in Stack (cfn-guard: 1)');
    expect(message).toContain(
      `[cfn-guard] CT.SQS.PR.1 (sqs_dlq_check) ERROR Stack/DeadLetters/Resource (${logicalId(deadLetters)} in Stack.template.json)`,
    );
    expect(message).toContain('Require any Amazon SQS queue to have a dead-letter queue configured');
  });

  test('cfn-lint warnings are reported but do not fail', () => {
    const { stack, queue } = queues();
    queue.addToResourcePolicy(
      new PolicyStatement({
        actions: ['sqs:SendMesage'],
        principals: [new AccountRootPrincipal()],
        resources: [queue.queueArn],
      }),
    );

    const findings = checkCompliance(stack);

    expect(failing(findings)).toEqual([]);
    expect(findings).toContainEqual(
      expect.objectContaining({ checker: 'cfn-lint', ruleId: 'W3037', severity: 'warning', fails: false }),
    );
  });

  test('nested stacks are checked by all checkers, Control Tower rules included', () => {
    const app = newTestApp();
    const stack = new Stack(app, 'Stack');
    const nested = new NestedStack(stack, 'Nested');
    const deadLetters = new Queue(nested, 'DeadLetters', {
      encryption: QueueEncryption.KMS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    const queue = new Queue(nested, 'Queue', {
      encryption: QueueEncryption.KMS_MANAGED,
      deadLetterQueue: { queue: deadLetters, maxReceiveCount: 5 },
    });
    (queue.node.defaultChild as CfnQueue).addPropertyOverride('ContentBasedDeduplication', true);

    const message = thrownBy(() => expectCompliant(stack));

    const template = nested.templateFile;
    expect(message).toContain('3 compliance finding(s) in Stack (cdk-nag: 1, cfn-guard: 1, cfn-lint: 1)');
    expect(message).toContain(
      `[cfn-guard] CT.SQS.PR.1 (sqs_dlq_check) ERROR Stack/Nested/DeadLetters/Resource (${logicalId(deadLetters)} in ${template})`,
    );
    expect(message).toContain(
      `[cdk-nag] AwsSolutions-SQS4 ERROR Stack/Nested/Queue/Resource (${logicalId(queue)} in ${template})`,
    );
    expect(message).toContain(
      `[cfn-lint] E3501 ERROR Stack/Nested/Queue/Resource (${logicalId(queue)} in ${template})`,
    );
  });

  test('only the given stacks are judged, and all of them', () => {
    const app = newTestApp();
    const clean = queues(app, 'Clean');
    const dirty = queues(app, 'Dirty', { enforceSSL: false });

    expect(() => expectCompliant(clean.stack)).not.toThrow();
    const message = thrownBy(() => expectCompliant([clean.stack, dirty.stack]));
    expect(message).toContain('in Clean, Dirty (cdk-nag: 1)');
    expect(message).toContain('[cdk-nag] AwsSolutions-SQS4 ERROR Dirty/Queue/Resource');
  });

  test('refuses stacks of an App that was not made by newTestApp()', () => {
    const { stack } = queues(new App());

    expect(() => expectCompliant(stack)).toThrow(/not in an App made by newTestApp\(\)/);
  });
});

describe('acknowledge', () => {
  test('an acknowledged cdk-nag finding with a reason passes', () => {
    const { stack, queue } = queues(newTestApp(), 'Stack', { enforceSSL: false });

    acknowledge(queue, 'AwsSolutions-SQS4', REASON);

    expect(() => expectCompliant(stack)).not.toThrow();
  });

  test('an acknowledgement covers one resource only', () => {
    const { stack, queue } = queues(newTestApp(), 'Stack', { enforceSSL: false });
    new Queue(stack, 'Other', {
      encryption: QueueEncryption.KMS_MANAGED,
      deadLetterQueue: { queue: queue.deadLetterQueue!.queue, maxReceiveCount: 5 },
    });

    acknowledge(queue, 'AwsSolutions-SQS4', REASON);

    expect(failing(checkCompliance(stack))).toEqual(['cdk-nag AwsSolutions-SQS4 Stack/Other/Resource']);
  });

  test.each([
    ['an empty reason', ''],
    ['a blank reason', '   '],
    ['a short reason', 'not needed'],
  ])('rejects %s', (_, reason) => {
    const { queue } = queues(newTestApp(), 'Stack', { enforceSSL: false });

    expect(() => acknowledge(queue, 'AwsSolutions-SQS4', reason)).toThrow(
      `needs a reason of at least ${MIN_REASON_LENGTH} characters`,
    );
  });

  test('rejects ids that are not one cdk-nag finding', () => {
    const { queue } = queues();

    expect(() => acknowledge(queue, 'CT.SQS.PR.1', REASON)).toThrow(/not a cdk-nag AwsSolutions finding id/);
    expect(() => acknowledge(queue, 'AwsSolutions-*', REASON)).toThrow(/not a cdk-nag AwsSolutions finding id/);
    expect(() => acknowledge(queue, 'E3501', REASON)).toThrow(/not a cdk-nag AwsSolutions finding id/);
  });

  test('rejects a scope wider than one resource', () => {
    const { stack } = queues();

    expect(() => acknowledge(stack, 'AwsSolutions-SQS4', REASON)).toThrow(
      /Stack is not a single CloudFormation resource/,
    );
  });

  test('acknowledgements written with Validations.of() directly are held to the same rules', () => {
    const { stack, deadLetters } = queues(newTestApp(), 'Stack', { enforceSSL: false, redriveAllowPolicy: false });
    Validations.of(stack).acknowledge({ id: 'AwsSolutions-SQS4', reason: REASON });
    Validations.of(deadLetters).acknowledge({ id: 'cdk-validator-cfnguard::sqs_dlq_check', reason: REASON });

    const message = thrownBy(() => expectCompliant(stack));

    // aws-cdk-lib and cdk-nag honour both acknowledgements: what fails is the helper's own check of them.
    expect(message).toContain('2 compliance finding(s) in Stack (acknowledgement: 2)');
    expect(message).toContain('[acknowledgement] AwsSolutions-SQS4 ERROR Stack\n');
    expect(message).toContain('[acknowledgement] sqs_dlq_check ERROR Stack/DeadLetters\n');
    expect(message).toContain('cdk-nag findings are acknowledged on the one CloudFormation resource they name');
    expect(message).toContain('Control Tower rules cannot be acknowledged per construct');
  });

  test("aws-cdk-lib's own acknowledgements of CloudFormation validation findings pass, ours fail", () => {
    const app = newTestApp();
    const cdkLib = new Stack(app, 'CdkLib');
    // Literal AZs make aws-cdk-lib acknowledge W3010 on the Stack; a FlowLog acknowledges F3002 and F3003.
    const vpc = new Vpc(cdkLib, 'Vpc', {
      maxAzs: 1,
      natGateways: 0,
      restrictDefaultSecurityGroup: false,
      subnetConfiguration: [{ name: 'Isolated', subnetType: SubnetType.PRIVATE_ISOLATED }],
      flowLogs: { S3: { destination: FlowLogDestination.toS3() } },
    });
    const { stack: own } = queues(app, 'Own');
    const mine = new Construct(own, 'Mine');
    Validations.of(mine).acknowledge({ id: 'CloudFormation-Validate::E3012', reason: REASON });
    // Our subclasses of aws-cdk-lib classes inherit its type information: still ours.
    class OwnStack extends Stack {}
    const ownStack = new OwnStack(own, 'Sub');
    Validations.of(ownStack).acknowledge({ id: 'CloudFormation-Validate::E3012', reason: REASON });
    // An id that aws-cdk-lib uses, with a reason of our own.
    Validations.of(mine).acknowledge({ id: 'CloudFormation-Validate::W3010', reason: REASON });

    // What the test relies on: aws-cdk-lib did acknowledge, on its own constructs.
    expect(acknowledgedOn(cdkLib)).toContain('CloudFormation-Validate::W3010');
    expect(acknowledgedOn(vpc.node.findChild('S3') as FlowLog)).toEqual(
      expect.arrayContaining(['CloudFormation-Validate::F3002', 'CloudFormation-Validate::F3003']),
    );
    const findings = checkCompliance([cdkLib, own]);

    // (The VPC's flow log bucket fails cdk-nag and Control Tower rules; only the acknowledgements matter here.)
    const refused = (ruleId: string, constructPath: string) =>
      expect.objectContaining({
        ruleId,
        severity: 'error',
        fails: true,
        constructPath,
        message: 'CloudFormation validation findings are fixed, not acknowledged',
      });
    const acknowledgements = findings.filter((f) => f.checker === 'acknowledgement');
    expect(acknowledgements).toHaveLength(3);
    expect(acknowledgements).toEqual(
      expect.arrayContaining([refused('E3012', 'Own/Mine'), refused('W3010', 'Own/Mine'), refused('E3012', 'Own/Sub')]),
    );
  });
});

describe('GUARD_EXCEPTIONS', () => {
  test('every exception names bundled Control Tower rules and gives a reason', () => {
    expect(GUARD_EXCEPTIONS.length).toBeGreaterThan(0);
    for (const exception of GUARD_EXCEPTIONS) {
      expect(exception.rules.length).toBeGreaterThan(0);
      expect(() =>
        guardRuleFilesToDisable(Object.fromEntries(exception.rules.map((rule) => [rule, exception.reason]))),
      ).not.toThrow();
    }
  });

  describe('isLogDestinationBucket', () => {
    const LOG_DELIVERY = {
      Effect: 'Allow',
      Principal: { Service: 'logging.s3.amazonaws.com' },
      Action: 's3:PutObject',
      Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': ['Logs', 'Arn'] }, '/*']] },
    };

    /** The bucket `Logs`, beside a bucket `Other`, with one bucket policy of one statement on `policyOn`. */
    function logsBucket(statement: Record<string, unknown>, policyOn = 'Logs'): TemplateResource {
      const template = {
        Resources: {
          Logs: { Type: 'AWS::S3::Bucket', Properties: {} },
          Other: { Type: 'AWS::S3::Bucket', Properties: {} },
          Policy: {
            Type: 'AWS::S3::BucketPolicy',
            Properties: {
              Bucket: { Ref: policyOn },
              PolicyDocument: { Version: '2012-10-17', Statement: [statement] },
            },
          },
        },
      };
      return { logicalId: 'Logs', type: 'AWS::S3::Bucket', properties: {}, template };
    }

    test.each([
      ['S3 server access logs', 'logging.s3.amazonaws.com'],
      ['VPC flow logs and ALB access logs', 'delivery.logs.amazonaws.com'],
      ['ALB access logs in newer regions', 'logdelivery.elasticloadbalancing.amazonaws.com'],
    ])('a bucket that %s are delivered to is a log destination', (_, service) => {
      expect(isLogDestinationBucket(logsBucket({ ...LOG_DELIVERY, Principal: { Service: service } }))).toBe(true);
    });

    test.each([
      ['anyone', { AWS: '*' }],
      ['an ELB account alone', { AWS: 'arn:aws:iam::127311923021:root' }],
    ])('a bucket that %s may write to is not a log destination', (_, principal) => {
      expect(isLogDestinationBucket(logsBucket({ ...LOG_DELIVERY, Principal: principal }))).toBe(false);
    });

    test('Action and Principal.Service may be lists', () => {
      const statement = {
        ...LOG_DELIVERY,
        Principal: { Service: ['sns.amazonaws.com', 'logging.s3.amazonaws.com'] },
        Action: ['s3:GetBucketAcl', 's3:PutObject'],
      };

      expect(isLogDestinationBucket(logsBucket(statement))).toBe(true);
    });

    test.each([
      ['the statement denies', logsBucket({ ...LOG_DELIVERY, Effect: 'Deny' })],
      ['the policy is on another bucket', logsBucket(LOG_DELIVERY, 'Other')],
      ['the statement only lets it read', logsBucket({ ...LOG_DELIVERY, Action: 's3:GetObject' })],
      [
        'the service does not deliver logs',
        logsBucket({ ...LOG_DELIVERY, Principal: { Service: 'sns.amazonaws.com' } }),
      ],
      ['the resource is not a bucket', { ...logsBucket(LOG_DELIVERY), type: 'AWS::SQS::Queue' }],
      ['the template has no bucket policy', { ...logsBucket(LOG_DELIVERY), template: { Resources: {} } }],
    ])('a bucket is not a log destination when %s', (_, resource) => {
      expect(isLogDestinationBucket(resource)).toBe(false);
    });
  });

  describe('on synthesized templates', () => {
    let findings: ComplianceFinding[];

    beforeAll(() => {
      const app = newTestApp();
      const buckets = new Stack(app, 'Buckets');
      // Two buckets that differ in one thing only: S3 server access logs may be delivered to Logs.
      for (const id of ['Plain', 'Logs']) {
        const bucket = new Bucket(buckets, id, {
          encryption: BucketEncryption.S3_MANAGED,
          enforceSSL: true,
          blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
          versioned: true,
        });
        if (id === 'Logs') {
          bucket.addToResourcePolicy(
            new PolicyStatement({
              actions: ['s3:PutObject'],
              principals: [new ServicePrincipal('logging.s3.amazonaws.com')],
              resources: [bucket.arnForObjects('*')],
            }),
          );
        }
      }
      const instances = new Stack(app, 'Instances');
      // Two instances with a public address that differ in one thing only: Nat forwards traffic.
      for (const [id, sourceDestCheck] of [
        ['Nat', false],
        ['Server', true],
      ] as const) {
        new CfnInstance(instances, id, {
          imageId: 'ami-12345678',
          instanceType: 't4g.nano',
          sourceDestCheck,
          networkInterfaces: [{ associatePublicIpAddress: true, deviceIndex: '0', subnetId: 'subnet-12345678' }],
        });
      }
      findings = checkCompliance([buckets, instances]);
    });

    test('an SSE-S3 bucket that is not a log destination fails CT.S3.PR.10, PR.9 and PR.2', () => {
      expect(guardFinding(findings, 'CT.S3.PR.10', 'Buckets/Plain/Resource')).toEqual(FAILS);
      expect(guardFinding(findings, 'CT.S3.PR.9', 'Buckets/Plain/Resource')).toEqual(FAILS);
      expect(guardFinding(findings, 'CT.S3.PR.2', 'Buckets/Plain/Resource')).toEqual(FAILS);
    });

    test('a log destination bucket is excepted from CT.S3.PR.10, PR.9 and PR.2, and only from these', () => {
      const reason = GUARD_EXCEPTIONS.find((e) => e.rules.includes('CT.S3.PR.10'))!.reason;
      expect(guardFinding(findings, 'CT.S3.PR.10', 'Buckets/Logs/Resource')).toEqual(
        expect.objectContaining({
          ruleId: 'CT.S3.PR.10 (s3_bucket_default_encryption_kms_check)',
          severity: 'info',
          fails: false,
          message:
            'Require an Amazon S3 bucket to have server-side encryption configured using an AWS KMS key ' +
            `(excepted: ${reason})`,
          logicalId: expect.stringMatching(/^Logs[0-9A-F]{8}$/),
          template: 'Buckets.template.json',
        }),
      );
      expect(guardFinding(findings, 'CT.S3.PR.9', 'Buckets/Logs/Resource')).toEqual(EXCEPTED);
      expect(guardFinding(findings, 'CT.S3.PR.2', 'Buckets/Logs/Resource')).toEqual(EXCEPTED);
      // Event notifications are not among the exception's rules.
      expect(guardFinding(findings, 'CT.S3.PR.4', 'Buckets/Logs/Resource')).toEqual(FAILS);
      expect(failing(findings)).toContain(
        'cfn-guard CT.S3.PR.4 (s3_event_notifications_enabled_check) Buckets/Logs/Resource',
      );
    });

    test('a NAT instance (SourceDestCheck false) is excepted from CT.EC2.PR.8 and PR.19, and only from these', () => {
      expect(guardFinding(findings, 'CT.EC2.PR.8', 'Instances/Nat')).toEqual(EXCEPTED);
      expect(guardFinding(findings, 'CT.EC2.PR.19', 'Instances/Nat')).toEqual(EXCEPTED);
      // Detailed monitoring is not among the exception's rules.
      expect(guardFinding(findings, 'CT.EC2.PR.13', 'Instances/Nat')).toEqual(FAILS);
    });

    test('an instance that checks source and destination fails CT.EC2.PR.8 and PR.19', () => {
      expect(guardFinding(findings, 'CT.EC2.PR.8', 'Instances/Server')).toEqual(FAILS);
      expect(guardFinding(findings, 'CT.EC2.PR.19', 'Instances/Server')).toEqual(FAILS);
    });
  });
});

describe('lintTemplates', () => {
  const dir = mkdtempSync(join(tmpdir(), 'compliance-test-'));

  test('reports errors and warnings of a template with rule ids', () => {
    const file = join(dir, 'template.json');
    writeFileSync(
      file,
      JSON.stringify({
        Resources: {
          Logs: { Type: 'AWS::Logs::LogGroup', Properties: { RetentionInDays: 2 } },
          Policy: {
            Type: 'AWS::IAM::ManagedPolicy',
            Properties: {
              PolicyDocument: {
                Version: '2012-10-17',
                Statement: [{ Effect: 'Allow', Action: 's3:GetObjekt', Resource: '*' }],
              },
            },
          },
        },
      }),
    );

    const findings = lintTemplates([file]);

    expect(findings.map((f) => `${f.level} ${f.ruleId} ${f.path.slice(0, 2).join('/')}`).sort()).toEqual([
      'Error E3030 Resources/Logs',
      'Warning W3037 Resources/Policy',
    ]);
  });

  test('a template seen before gets its findings again without cfn-lint; a changed one is linted', () => {
    // A description of this run: the kept findings of earlier runs are not these templates'.
    const run = randomUUID();
    const template = (retention: number) =>
      JSON.stringify({
        Description: run,
        Resources: { Logs: { Type: 'AWS::Logs::LogGroup', Properties: { RetentionInDays: retention } } },
      });
    const first = join(dir, 'first.json');
    const second = join(dir, 'second.json');
    writeFileSync(first, template(2));
    writeFileSync(second, template(2));
    const summary = (findings: ReturnType<typeof lintTemplates>) =>
      findings.map((f) => `${basename(f.file)} ${f.ruleId}`);
    expect(summary(lintTemplates([first]))).toEqual(['first.json E3030']);
    // The same text in another file: the kept findings, named by the file asked about; cfn-lint is not run.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const spawned = jest.spyOn(require('child_process') as typeof import('child_process'), 'spawnSync');
    expect(summary(lintTemplates([second, first]))).toEqual(['second.json E3030', 'first.json E3030']);
    expect(spawned).not.toHaveBeenCalled();
    writeFileSync(second, template(7));
    expect(summary(lintTemplates([second, first]))).toEqual(['first.json E3030']);
    expect(spawned).toHaveBeenCalledTimes(1);
    expect(spawned.mock.calls[0][1]).toContain(second);
    expect(spawned.mock.calls[0][1]).not.toContain(first);
    spawned.mockRestore();
  });

  test('says how to install cfn-lint when .venv is missing', () => {
    jest.isolateModules(() => {
      const fs = jest.requireActual('fs');
      jest.doMock('fs', () => ({ ...fs, existsSync: (p: string) => !p.endsWith('cfn-lint') && fs.existsSync(p) }));
      const isolated: typeof import('./compliance') = jest.requireActual('./compliance');

      expect(() => isolated.lintTemplates([join(dir, 'template.json')])).toThrow(
        /cfn-lint is not installed at .*\.venv\/bin\/cfn-lint: run `npx projen python-tools`/,
      );
    });
    jest.dontMock('fs');
  });
});

describe('DISABLED_GUARD_RULES', () => {
  test('every disabled Control Tower rule is a bundled rule with a reason', () => {
    expect(() => guardRuleFilesToDisable(DISABLED_GUARD_RULES)).not.toThrow();
  });

  test('control ids are mapped to the rule files cfn-guard knows, read from the files', () => {
    expect(
      guardRuleFilesToDisable({
        'CT.SQS.PR.1': REASON,
        // The file name does not follow the id here, which is why ids are read from the rule files.
        'CT.ELASTICFILESYSYSTEM.PR.1': REASON,
      }),
    ).toEqual(['ct-sqs-pr-1', 'ct-elasticfilesysystem-pr-1']);
  });

  test('rejects unknown control ids and short reasons', () => {
    expect(() => guardRuleFilesToDisable({ 'CT.SQS.PR.99': REASON })).toThrow(
      'DISABLED_GUARD_RULES: CT.SQS.PR.99 is not a bundled Control Tower rule',
    );
    expect(() => guardRuleFilesToDisable({ 'CT.SQS.PR.1': 'because' })).toThrow(
      `DISABLED_GUARD_RULES: CT.SQS.PR.1 needs a reason of at least ${MIN_REASON_LENGTH} characters`,
    );
  });
});
