import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';

/**
 * Internal: the Step Functions pieces both pipelines' state machines share (the AMI pipeline's rollout, the software
 * pipeline's deployments): AWS SDK tasks with a timeout, failure reasons, and the one-execution-at-a-time lock.
 */

/** Longest AWS API call of a task: a task that takes longer fails with States.Timeout, which is caught. */
export const TASK_TIMEOUT = Duration.seconds(20);

/** What `awsCall` takes: a task's props but its timeout, which is TASK_TIMEOUT. */
export type AwsCallOptions = Omit<tasks.CallAwsServiceProps, 'taskTimeout'>;

/** A builder of AWS SDK tasks in `scope`, each with TASK_TIMEOUT. */
export function awsCall(scope: Construct) {
  const taskTimeout = sfn.Timeout.duration(TASK_TIMEOUT);
  return (id: string, options: AwsCallOptions) => new tasks.CallAwsService(scope, id, { taskTimeout, ...options });
}

/** A builder of Pass states that set a failure's reason in $.failure (Error and Cause). */
export function failureReason(scope: Construct) {
  return (id: string, error: string, cause: string) =>
    new sfn.Pass(scope, id, { result: sfn.Result.fromObject({ Error: error, Cause: cause }), resultPath: '$.failure' });
}

/** The Fail state every failure ends in, its reason in $.failure (Error and Cause). */
export function failedState(scope: Construct, id: string): sfn.Fail {
  return new sfn.Fail(scope, id, {
    errorPath: '$.failure.Error',
    causePath: '$.failure.Cause',
  });
}

/** A state machine's ARN by its name, known before it exists. */
export function stateMachineArnOf(scope: Construct, stateMachineName: string): string {
  return Stack.of(scope).formatArn({
    service: 'states',
    resource: 'stateMachine',
    resourceName: stateMachineName,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
}

/** What `singleExecution` builds its states on. */
export interface SingleExecutionOptions {
  /** The listing task's id. */
  readonly listId: string;
  /** The Fail state's id, and its error. */
  readonly error: string;
  /** What one execution is, in the cause ("deployment", "rollout"). */
  readonly what: string;
  readonly stateMachineArn: string;
}

/**
 * The lock: no second execution while one runs (a re-run of the pipeline's action). The listing task puts the number
 * of running executions (this one included) in $.running.count; its error ends in the returned Fail state.
 */
export function singleExecution(scope: Construct, options: SingleExecutionOptions) {
  const listRunning = awsCall(scope)(options.listId, {
    comment: 'Executions of this state machine that are running, this one included',
    service: 'sfn',
    action: 'listExecutions',
    iamAction: 'states:ListExecutions',
    parameters: {
      StateMachineArn: sfn.JsonPath.stringAt('$$.StateMachine.Id'),
      StatusFilter: 'RUNNING',
      MaxResults: 2,
    },
    iamResources: [options.stateMachineArn],
    resultSelector: { 'count.$': 'States.ArrayLength($.Executions)' },
    resultPath: '$.running',
  });
  const alreadyRunning = new sfn.Fail(scope, options.error, {
    error: options.error,
    cause: `Another ${options.what} of this environment is running (or its listing failed): this one changed nothing. Retry once it has ended.`,
  });
  listRunning.addCatch(alreadyRunning, { errors: [sfn.Errors.ALL], resultPath: '$.failure' });
  return { listRunning, alreadyRunning };
}

/** A loop's counter set to zero at `path` (its `count`). */
export function startCount(scope: Construct, id: string, path: string): sfn.Pass {
  return new sfn.Pass(scope, id, { result: sfn.Result.fromObject({ count: 0 }), resultPath: path });
}

/** A loop's counter at `path` (its `count`) up by one. */
export function addCount(scope: Construct, id: string, path: string): sfn.Pass {
  return new sfn.Pass(scope, id, {
    parameters: { 'count.$': `States.MathAdd(${path}.count, 1)` },
    resultPath: path,
  });
}

/**
 * Under the hour of CodePipeline's invoke action, and above the longest run of every machine (every loop to its
 * limit, every task to its timeout), so that it is never what ends an execution.
 */
export const EXECUTION_TIMEOUT = Duration.minutes(58);

/** What `loggedStateMachine` takes. */
export interface LoggedStateMachineOptions {
  readonly comment: string;
  readonly stateMachineName: string;
  readonly start: sfn.IChainable;
  readonly role?: iam.IRole;
  readonly logsId: string;
  readonly logRetention?: logs.RetentionDays;
  readonly key: kms.IKey;
}

/** A state machine with EXECUTION_TIMEOUT, traced, every execution's data logged to its own encrypted log group. */
export function loggedStateMachine(scope: Construct, id: string, options: LoggedStateMachineOptions): sfn.StateMachine {
  return new sfn.StateMachine(scope, id, {
    comment: options.comment,
    stateMachineName: options.stateMachineName,
    definitionBody: sfn.DefinitionBody.fromChainable(options.start),
    role: options.role,
    timeout: EXECUTION_TIMEOUT,
    tracingEnabled: true,
    logs: {
      destination: new logs.LogGroup(scope, options.logsId, {
        retention: options.logRetention ?? logs.RetentionDays.ONE_YEAR,
        encryptionKey: options.key,
      }),
      level: sfn.LogLevel.ALL,
      includeExecutionData: true,
    },
  });
}
