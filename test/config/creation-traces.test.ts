/*
 * The library's constructs leave aws-cdk-lib's creation stack traces out of the assembly (they would name the
 * library's own files, and the same line of the app for every resource), and nothing else: the templates are the same
 * either way, an app's own constructs keep theirs, and an app that sets the context key to false, or runs with
 * CDK_DEBUG on, gets them for everything.
 */
import { join } from 'path';
import { App, CfnResource, Stack } from 'aws-cdk-lib';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { Construct } from 'constructs';
import { VendingFleet } from '../../src';
import { DISABLE_CREATION_STACK_TRACES, leaveOutCreationStackTraces } from '../../src/config/creation-traces';

const FLEET = join(__dirname, '..', '..', 'examples', 'fleet');
const CREATION_STACK = 'aws:cdk:creationStack';

/** The example fleet's platform and one customer stack, with a resource of the app's own in the customer stack. */
function synth(context?: Record<string, unknown>): cxapi.CloudAssembly {
  const app = new App({ context });
  const fleet = VendingFleet.fromDirectory(app, FLEET, {
    frozenPlacement: true,
    stacks: ['vending-platform', 'acme-production'],
  });
  new CfnResource(fleet.environments[0], 'AppsOwnTopic', { type: 'AWS::SNS::Topic' });
  return app.synth();
}

/** Construct paths (of one stack) that carry a creation stack trace, and those that carry a logical id. */
function traced(assembly: cxapi.CloudAssembly, stackName: string): { traced: string[]; elements: string[] } {
  // The artifact's metadata: the manifest's entries and those of its additional metadata file.
  const metadata = assembly.getStackByName(stackName).metadata;
  const paths = Object.keys(metadata);
  return {
    traced: paths.filter((p) => metadata[p].some((e) => e.type === CREATION_STACK)),
    elements: paths.filter((p) => metadata[p].some((e) => e.type === 'aws:cdk:logicalId')),
  };
}

/**
 * The CloudFormation elements of the library's constructs: every path but the stack itself (a stack keeps its own
 * trace, which leads to the app's line that made it), the stack's own elements and the app's resource.
 */
const libraryElements = (paths: string[]) =>
  paths.filter((p) => !/^\/[^/]+$/.test(p) && !/\/(BootstrapVersion|CheckBootstrapVersion|AppsOwnTopic)$/.test(p));

describe('creation stack traces', () => {
  const previousDebug = process.env.CDK_DEBUG;
  beforeEach(() => delete process.env.CDK_DEBUG);
  afterAll(() => {
    if (previousDebug === undefined) delete process.env.CDK_DEBUG;
    else process.env.CDK_DEBUG = previousDebug;
  });

  test("are left out of the library's elements; the app's own resource keeps its trace", () => {
    const assembly = synth();
    for (const stackName of ['vending-platform', 'acme-production']) {
      const { traced: withTrace, elements } = traced(assembly, stackName);
      // Hundreds of elements, none of the library's with a trace.
      expect(libraryElements(elements).length).toBeGreaterThan(stackName === 'vending-platform' ? 100 : 50);
      expect(libraryElements(withTrace)).toEqual([]);
    }
    expect(traced(assembly, 'acme-production').traced).toContain('/acme-production/AppsOwnTopic');
  });

  test('come back for every element when the app sets the key to false, and the templates are the same', () => {
    const without = synth();
    const withTraces = synth({ [DISABLE_CREATION_STACK_TRACES]: false });
    for (const stackName of ['vending-platform', 'acme-production']) {
      const { traced: withTrace, elements } = traced(withTraces, stackName);
      expect(libraryElements(withTrace)).toEqual(libraryElements(elements));
      expect(withTraces.getStackByName(stackName).template).toEqual(without.getStackByName(stackName).template);
    }
  });

  test('come back under CDK_DEBUG, as aws-cdk-lib captures them then regardless of the context', () => {
    process.env.CDK_DEBUG = 'true';
    const { traced: withTrace, elements } = traced(synth(), 'acme-production');
    expect(libraryElements(withTrace)).toEqual(libraryElements(elements));
  });

  test('a scope that already has the key, either way, keeps it; one without gets it', () => {
    const app = new App();
    const kept = new Stack(app, 'Kept');
    kept.node.setContext(DISABLE_CREATION_STACK_TRACES, false);
    const inside = new Construct(kept, 'Inside');
    leaveOutCreationStackTraces(inside);
    expect(inside.node.tryGetContext(DISABLE_CREATION_STACK_TRACES)).toBe(false);
    const fresh = new Construct(new Stack(app, 'Fresh'), 'Inside');
    leaveOutCreationStackTraces(fresh);
    expect(fresh.node.tryGetContext(DISABLE_CREATION_STACK_TRACES)).toBe(true);
  });
});
