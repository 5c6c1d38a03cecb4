/*
 * The real StackDeployer: the AWS CDK toolkit library (@aws-cdk/toolkit-lib) deploying one stack of the cloud
 * assembly by name, with CloudFormation change sets, as `cdk deploy --exclusively STACK` does; no `cdk` binary.
 *
 * toolkit-lib is a dev dependency of cdk-paas-vending, loaded here when deploy runs (like @aws-cdk/cloudformation-diff
 * for diff): it is no jsii module, so a jsii library could only bundle it, with the AWS SDK it brings, into every
 * Python and Java package that never deploys. A user who deploys installs it beside the library, and a missing one is
 * a clear error. Each stack gets a Toolkit of its own, whose IoHost hears only that stack: its CloudFormation events
 * (the first failed resource's reason), whether the deploy was a no-op, and the approval request toolkit-lib makes
 * for security changes, answered by --require-approval.
 *
 * Internal: not exported from src/index.ts.
 */
import type { DeployOutcome, StackDeployer } from './waves';
import { UsageError } from '../io';

/** --require-approval, as the AWS CDK CLI has it. */
export type RequireApproval = 'never' | 'any-change' | 'broadening';
export const REQUIRE_APPROVAL: readonly RequireApproval[] = ['never', 'any-change', 'broadening'];

/** What the deployer needs of @aws-cdk/toolkit-lib (loaded when deploy runs). */
export interface ToolkitLib {
  readonly Toolkit: new (props: { ioHost: IoHostLike; emojis?: boolean; color?: boolean }) => ToolkitLike;
  readonly StackSelectionStrategy: { readonly PATTERN_MUST_MATCH_SINGLE: string; readonly PATTERN_MUST_MATCH: string };
  readonly ExpandStackSelection: { readonly NONE: string };
}
interface ToolkitLike {
  fromAssemblyDirectory(directory: string): Promise<unknown>;
  deploy(source: unknown, options: object): Promise<unknown>;
  list(source: unknown, options: object): Promise<{ name: string; dependencies: { id: string }[] }[]>;
}
interface IoMessageLike {
  readonly code?: string;
  readonly level: string;
  readonly message: string;
  readonly data?: any;
  readonly defaultResponse?: unknown;
}
interface IoHostLike {
  notify(msg: IoMessageLike): Promise<void>;
  requestResponse(msg: IoMessageLike): Promise<unknown>;
}

export function loadToolkitLib(): ToolkitLib {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports, import/no-extraneous-dependencies
    return require('@aws-cdk/toolkit-lib') as ToolkitLib;
  } catch {
    throw new UsageError(
      'deploy: needs @aws-cdk/toolkit-lib, which is not installed; expected it beside cdk-paas-vending: ' +
        'npm install --save-dev @aws-cdk/toolkit-lib (deploy --plan needs nothing of it)',
    );
  }
}

export interface ToolkitDeployerOptions {
  /** The cloud assembly directory. */
  readonly assembly: string;
  readonly requireApproval: RequireApproval;
  /**
   * Asks a person to approve a stack's security-relevant change; undefined when nobody can be asked (not a
   * terminal), and the change is then refused. @default nobody
   */
  readonly ask?: (question: string) => Promise<boolean>;
  /**
   * How CloudFormation applies a change: `change-set` (a change set created, then executed, as the CDK CLI does) or
   * `direct` (CreateStack/UpdateStack). @default 'change-set'
   */
  readonly method?: 'change-set' | 'direct';
  /** toolkit-lib itself (tests may hand their own). @default require('@aws-cdk/toolkit-lib') */
  readonly lib?: ToolkitLib;
}

/** Whether a change needs a person's yes under --require-approval. */
export function needsApproval(requireApproval: RequireApproval, permissionChangeType: string | undefined): boolean {
  if (requireApproval === 'never') return false;
  if (requireApproval === 'any-change') return true;
  return permissionChangeType === 'broadening';
}

/** Deploys stacks of one cloud assembly with toolkit-lib, one Toolkit per stack. */
export class ToolkitDeployer implements StackDeployer {
  private readonly lib: ToolkitLib;

  constructor(private readonly options: ToolkitDeployerOptions) {
    this.lib = options.lib ?? loadToolkitLib();
  }

  /** The stacks of the assembly as toolkit-lib reads them, with their dependencies (no AWS call). */
  public async list(): Promise<{ name: string; dependencies: string[] }[]> {
    const toolkit = new this.lib.Toolkit({ ioHost: quietHost(), emojis: false, color: false });
    const source = await toolkit.fromAssemblyDirectory(this.options.assembly);
    const stacks = await toolkit.list(source, {
      stacks: { strategy: this.lib.StackSelectionStrategy.PATTERN_MUST_MATCH, patterns: ['*'] },
    });
    return stacks.map((s) => ({ name: s.name, dependencies: s.dependencies.map((d) => d.id) }));
  }

  public async deploy(stack: string, events: (line: string) => void): Promise<DeployOutcome> {
    let noOp: boolean | undefined;
    let firstFailure: string | undefined;
    let refused: string | undefined;
    const ask = this.options.ask;
    const requireApproval = this.options.requireApproval;
    const host: IoHostLike = {
      notify: async (msg) => {
        if (msg.code === 'CDK_TOOLKIT_I5900') noOp = msg.data?.noOp === true;
        if (msg.code === 'CDK_TOOLKIT_I5502') {
          const event = msg.data?.event ?? {};
          const status = String(event.ResourceStatus ?? '');
          if (status.endsWith('_FAILED') && firstFailure === undefined && event.ResourceStatusReason) {
            firstFailure = `${event.LogicalResourceId} (${event.ResourceType}): ${event.ResourceStatusReason}`;
            events(`${status} ${firstFailure}`);
          }
        }
      },
      requestResponse: async (msg) => {
        if (msg.code !== 'CDK_TOOLKIT_I5060') return msg.defaultResponse;
        const change = msg.data?.permissionChangeType as string | undefined;
        if (!needsApproval(requireApproval, change)) return true;
        const what = change === 'broadening' ? 'broadens IAM permissions or security groups' : 'changes the stack';
        if (!ask) {
          refused = `the change ${what}; --require-approval ${requireApproval} needs a person's yes and none can be asked here (not a terminal)`;
          return false;
        }
        const yes = await ask(`${stack}: the change ${what}. Deploy it? (y/N) `);
        if (!yes) refused = 'not approved';
        return yes;
      },
    };
    const toolkit = new this.lib.Toolkit({ ioHost: host, emojis: false, color: false });
    try {
      const source = await toolkit.fromAssemblyDirectory(this.options.assembly);
      await toolkit.deploy(source, {
        stacks: {
          strategy: this.lib.StackSelectionStrategy.PATTERN_MUST_MATCH_SINGLE,
          patterns: [stack],
          expand: this.lib.ExpandStackSelection.NONE,
        },
        deploymentMethod: { method: this.options.method ?? 'change-set' },
      });
    } catch (e) {
      return { result: 'failed', reason: refused ?? firstFailure ?? reasonOf(e, stack) };
    }
    if (refused) return { result: 'failed', reason: refused };
    return { result: noOp ? 'unchanged' : 'deployed' };
  }
}

/**
 * toolkit-lib's error without its decoration ("❌  STACK failed: ", "STACK: "): the reason CloudFormation or the SDK
 * gave.
 */
function reasonOf(error: unknown, stack: string): string {
  let message = (error as Error)?.message ?? String(error);
  const failed = message.indexOf(`${stack} failed: `);
  if (failed >= 0 && failed < 8) message = message.slice(failed + stack.length + ' failed: '.length);
  if (message.startsWith(`${stack}: `)) message = message.slice(stack.length + 2);
  return message;
}

function quietHost(): IoHostLike {
  return { notify: async () => undefined, requestResponse: async (msg) => msg.defaultResponse };
}
