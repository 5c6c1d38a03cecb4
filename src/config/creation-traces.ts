import { IConstruct } from 'constructs';

/** aws-cdk-lib's context key (newer than the floor, which ignores it) that leaves creation stack traces out. */
export const DISABLE_CREATION_STACK_TRACES = 'aws:cdk:disable-creation-stack-traces';

/**
 * Internal: leaves aws-cdk-lib's creation stack traces out of everything a construct of the library builds, unless the
 * app (or a scope above) has set the key either way, or CDK_DEBUG is on (aws-cdk-lib then captures them regardless).
 *
 * A trace records the call stack that created each CloudFormation element, into the assembly's metadata. Under one of
 * the library's constructs it names the library's own files and, at its end, the same line of the app for every
 * resource (the construct's creation), which the construct path in the same metadata names already; capturing and
 * keeping it costs time and memory for every element of a fleet (issue 17's benchmark, docs/BENCHMARKS.md). An app that
 * wants them sets the context key `aws:cdk:disable-creation-stack-traces` to false. The CLI's App leaves them out too
 * (src/cli/synth-app.ts).
 *
 * Called first in the constructor of each of the library's constructs, before any child is added (a construct's context
 * can be set only then); one set on the outermost of the library's constructs is inherited by those inside it.
 */
export function leaveOutCreationStackTraces(scope: IConstruct): void {
  if (scope.node.tryGetContext(DISABLE_CREATION_STACK_TRACES) !== undefined) return;
  scope.node.setContext(DISABLE_CREATION_STACK_TRACES, true);
}
