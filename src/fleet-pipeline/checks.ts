import { Duration, Token } from 'aws-cdk-lib';
import { describeValue } from '../config/errors';
import { valueProblem } from '../config/values';

/*
 * Internal: FleetPipeline's props checked. The bounds are the platform file's (`fleetPipeline:` in
 * platform-types.ts); test/fleet-pipeline/fleet-pipeline.test.ts holds them equal to the schema's.
 */

/** Stacks deployed at the same time in a wave: the bounds of `fleetPipeline.concurrency`. */
export const CONCURRENCY_BOUNDS = { minimum: 1, maximum: 50 } as const;
/** A bootstrap qualifier, as `fleetPipeline.bootstrapQualifier` and `cdk bootstrap --qualifier` take it. */
export const QUALIFIER = /^[A-Za-z0-9_-]{1,10}$/;
/** A fleet directory inside the repository: relative, no `.` or `..` parts (the root is `.`). */
export const FLEET_DIRECTORY = /^(\.|(?!\.\.?(\/|$))[A-Za-z0-9_.-]+(\/(?!\.\.?(\/|$))[A-Za-z0-9_.-]+)*)$/;
/** A CodePipeline pipeline name. */
const PIPELINE_NAME = /^[A-Za-z0-9.@_-]{1,100}$/;
/** CodeBuild's bounds of a build's timeout, and CodePipeline's timeout of a CodeBuild action (8 hours). */
const TIMEOUT_MINUTES = { minimum: 5, maximum: 480 } as const;

export interface CheckedProps {
  readonly fleetDirectory: string;
  readonly concurrency: number;
  readonly approvalEmails: string[];
  readonly bootstrapQualifier: string;
  readonly pipelineName: string;
  readonly buildTimeout: Duration;
}

/** The props, with their defaults, or an Error naming every prop that is wrong. */
export function checkProps(
  where: string,
  props: {
    readonly fleetDirectory?: string;
    readonly concurrency?: number;
    readonly approvalEmails?: string[];
    readonly bootstrapQualifier?: string;
    readonly pipelineName?: string;
    readonly buildTimeout?: Duration;
  },
  defaults: CheckedProps,
): CheckedProps {
  const problems: string[] = [];
  const checked: CheckedProps = {
    fleetDirectory: props.fleetDirectory ?? defaults.fleetDirectory,
    concurrency: props.concurrency ?? defaults.concurrency,
    approvalEmails: props.approvalEmails ?? defaults.approvalEmails,
    bootstrapQualifier: props.bootstrapQualifier ?? defaults.bootstrapQualifier,
    pipelineName: props.pipelineName ?? defaults.pipelineName,
    buildTimeout: props.buildTimeout ?? defaults.buildTimeout,
  };
  const pattern = (prop: string, value: string, rule: RegExp, expected: string) => {
    if (!Token.isUnresolved(value) && !rule.test(value)) {
      problems.push(`${prop}: received ${describeValue(value)}; expected ${expected}`);
    }
  };
  pattern(
    'fleetDirectory',
    checked.fleetDirectory,
    FLEET_DIRECTORY,
    'a relative path of letters, digits and . _ - separated by /, without . or .. parts, such as fleet, or . for the root',
  );
  pattern(
    'bootstrapQualifier',
    checked.bootstrapQualifier,
    QUALIFIER,
    '1 to 10 letters, digits, _ or -, such as hnb659fds (CDK default)',
  );
  pattern(
    'pipelineName',
    checked.pipelineName,
    PIPELINE_NAME,
    'a pipeline name of 1 to 100 letters, digits or . @ _ -',
  );
  const concurrency = checked.concurrency;
  if (
    !Token.isUnresolved(concurrency) &&
    !(
      Number.isInteger(concurrency) &&
      concurrency >= CONCURRENCY_BOUNDS.minimum &&
      concurrency <= CONCURRENCY_BOUNDS.maximum
    )
  ) {
    problems.push(
      `concurrency: received ${describeValue(concurrency)}; expected a whole number from ${CONCURRENCY_BOUNDS.minimum} ` +
        `to ${CONCURRENCY_BOUNDS.maximum} (stacks deployed at the same time in a wave)`,
    );
  }
  checked.approvalEmails.forEach((email, i) => {
    const problem = valueProblem('email', email);
    if (problem) problems.push(`approvalEmails[${i}]: ${problem}`);
  });
  if (!checked.buildTimeout.isUnresolved()) {
    const minutes = checked.buildTimeout.toMinutes({ integral: false });
    if (!Number.isInteger(minutes) || minutes < TIMEOUT_MINUTES.minimum || minutes > TIMEOUT_MINUTES.maximum) {
      problems.push(
        `buildTimeout: received ${minutes} minutes; expected whole minutes from ${TIMEOUT_MINUTES.minimum} to ` +
          `${TIMEOUT_MINUTES.maximum} (8 hours: CodePipeline's timeout of a CodeBuild action)`,
      );
    }
  }
  if (problems.length > 0) throw new Error(problems.map((p) => `${where}: ${p}`).join('\n'));
  return checked;
}
