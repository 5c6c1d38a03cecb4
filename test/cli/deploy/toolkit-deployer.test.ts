/*
 * The toolkit-lib deployer's answers to toolkit-lib, with a stand-in for the library: the approval request of a
 * security change under each --require-approval, a no-op deploy as unchanged, the first failed resource's reason.
 */
import { needsApproval, ToolkitDeployer, ToolkitLib } from '../../../src/cli/deploy/toolkit-deployer';

type Script = (host: any) => Promise<void>;

/** A toolkit-lib whose deploy plays `script` against the IoHost it was given, and records the options. */
function lib(script: Script, calls: object[] = []): ToolkitLib {
  class Toolkit {
    constructor(private readonly props: { ioHost: any }) {}
    async fromAssemblyDirectory(directory: string) {
      return { directory };
    }
    async deploy(source: unknown, options: object) {
      calls.push({ source, options });
      await script(this.props.ioHost);
    }
    async list() {
      return [];
    }
  }
  return {
    Toolkit,
    StackSelectionStrategy: { PATTERN_MUST_MATCH_SINGLE: 'single', PATTERN_MUST_MATCH: 'must' },
    ExpandStackSelection: { NONE: 'none' },
  } as unknown as ToolkitLib;
}

const confirm = (permissionChangeType: string) => async (host: any) => {
  const yes = await host.requestResponse({
    code: 'CDK_TOOLKIT_I5060',
    level: 'info',
    message: 'Do you wish to deploy these changes',
    data: { permissionChangeType },
    defaultResponse: true,
  });
  if (!yes) throw new Error('Aborted by user');
  await host.notify({ code: 'CDK_TOOLKIT_I5900', level: 'info', message: 'done', data: { noOp: false } });
};

test('needsApproval follows the CDK CLI: never, any-change, broadening', () => {
  expect(needsApproval('never', 'broadening')).toBe(false);
  expect(needsApproval('any-change', 'none')).toBe(true);
  expect(needsApproval('broadening', 'broadening')).toBe(true);
  expect(needsApproval('broadening', 'non-broadening')).toBe(false);
});

test('one stack, exactly, by change sets unless told; a no-op is unchanged', async () => {
  const calls: any[] = [];
  const noOp = lib(async (host) => {
    await host.notify({ code: 'CDK_TOOLKIT_I5900', level: 'info', message: '', data: { noOp: true } });
  }, calls);
  const deployer = new ToolkitDeployer({ assembly: '/a', requireApproval: 'never', lib: noOp });
  expect(await deployer.deploy('acme-staging', () => undefined)).toEqual({ result: 'unchanged' });
  expect(calls[0]).toEqual({
    source: { directory: '/a' },
    options: {
      stacks: { strategy: 'single', patterns: ['acme-staging'], expand: 'none' },
      deploymentMethod: { method: 'change-set' },
    },
  });
  const direct = new ToolkitDeployer({ assembly: '/a', requireApproval: 'never', method: 'direct', lib: noOp });
  await direct.deploy('acme-staging', () => undefined);
  expect(calls[1].options.deploymentMethod).toEqual({ method: 'direct' });
});

test('a broadening change: approved without a terminal only under never; asked on a terminal', async () => {
  const broadening = lib(confirm('broadening'));
  const refused = new ToolkitDeployer({ assembly: '/a', requireApproval: 'broadening', lib: broadening });
  expect(await refused.deploy('acme-production', () => undefined)).toEqual({
    result: 'failed',
    reason:
      "the change broadens IAM permissions or security groups; --require-approval broadening needs a person's yes and none can be asked here (not a terminal)",
  });
  const never = new ToolkitDeployer({ assembly: '/a', requireApproval: 'never', lib: broadening });
  expect(await never.deploy('acme-production', () => undefined)).toEqual({ result: 'deployed' });
  const questions: string[] = [];
  const asked = (answer: boolean) =>
    new ToolkitDeployer({
      assembly: '/a',
      requireApproval: 'broadening',
      lib: broadening,
      ask: async (q) => (questions.push(q), answer),
    });
  expect(await asked(true).deploy('acme-production', () => undefined)).toEqual({ result: 'deployed' });
  expect(await asked(false).deploy('acme-production', () => undefined)).toEqual({
    result: 'failed',
    reason: 'not approved',
  });
  expect(questions[0]).toBe(
    'acme-production: the change broadens IAM permissions or security groups. Deploy it? (y/N) ',
  );
  // A change that does not broaden deploys under broadening, and needs a yes under any-change.
  const narrow = lib(confirm('non-broadening'));
  expect(
    await new ToolkitDeployer({ assembly: '/a', requireApproval: 'broadening', lib: narrow }).deploy(
      'x',
      () => undefined,
    ),
  ).toEqual({ result: 'deployed' });
  expect(
    await new ToolkitDeployer({ assembly: '/a', requireApproval: 'any-change', lib: narrow }).deploy(
      'x',
      () => undefined,
    ),
  ).toMatchObject({
    result: 'failed',
    reason: expect.stringMatching(/^the change changes the stack; --require-approval any-change/),
  });
});

test("a failed deploy reports the first failed resource's CloudFormation reason, else toolkit-lib's error", async () => {
  const events: string[] = [];
  const failing = lib(async (host) => {
    const activity = (status: string, reason?: string) =>
      host.notify({
        code: 'CDK_TOOLKIT_I5502',
        level: 'info',
        message: '',
        data: {
          event: {
            ResourceStatus: status,
            ResourceStatusReason: reason,
            LogicalResourceId: 'WebDatabase',
            ResourceType: 'AWS::RDS::DBInstance',
          },
        },
      });
    await activity('CREATE_IN_PROGRESS');
    await activity('CREATE_FAILED', 'DB instance quota exceeded');
    await activity('ROLLBACK_FAILED', 'later failure');
    throw new Error('❌  acme-staging failed: The stack named acme-staging failed creation');
  });
  const deployer = new ToolkitDeployer({ assembly: '/a', requireApproval: 'never', lib: failing });
  expect(await deployer.deploy('acme-staging', (l) => events.push(l))).toEqual({
    result: 'failed',
    reason: 'WebDatabase (AWS::RDS::DBInstance): DB instance quota exceeded',
  });
  expect(events).toEqual(['CREATE_FAILED WebDatabase (AWS::RDS::DBInstance): DB instance quota exceeded']);
  const plain = lib(async () => {
    throw new Error(
      '❌  acme-staging failed: acme-staging: ExpiredToken: The security token included in the request is expired',
    );
  });
  expect(
    await new ToolkitDeployer({ assembly: '/a', requireApproval: 'never', lib: plain }).deploy(
      'acme-staging',
      () => undefined,
    ),
  ).toEqual({ result: 'failed', reason: 'ExpiredToken: The security token included in the request is expired' });
});
