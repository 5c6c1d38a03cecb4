/*
 * Proves test/support/compliance.ts on a queue and its dead-letter queue: the smallest realistic set that
 * passes all four checkers. (An access-logged S3 bucket cannot: the access-log target bucket must use SSE-S3,
 * which the Control Tower control CT.S3.PR.10 rejects.) Each failing case breaks exactly one thing and
 * asserts the report's header, which counts the failing findings per checker, so a finding of another
 * checker fails the test too.
 */
import { mkdtempSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { App, Duration, NestedStack, Stack, Validations } from 'aws-cdk-lib';
import { AccountRootPrincipal, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { CfnQueue, Queue, QueueEncryption, RedrivePermission } from 'aws-cdk-lib/aws-sqs';
import {
  acknowledge,
  checkCompliance,
  ComplianceFinding,
  DISABLED_GUARD_RULES,
  expectCompliant,
  guardRuleFilesToDisable,
  lintTemplates,
  MIN_REASON_LENGTH,
  newTestApp,
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
