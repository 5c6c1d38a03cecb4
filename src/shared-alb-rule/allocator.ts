/**
 * The priority allocator's logic, with its AWS clients, clock, priority choice and response sender injected
 * (priority-allocator.lambda.ts wires the real ones). See the handler file for the design and the API-call
 * cost of each path.
 *
 * This file serves one request (processRequest) and is what the handler and the tests import. The paths are
 * on-create.ts, on-update.ts and on-delete.ts; they share the request being served (request.ts), the parsed
 * properties (rule-spec.ts), the state table (state-table.ts) and the calls on the listener's rules
 * (listener-rules.ts).
 */
import { AllocatorError, errorMessage } from './allocator-error';
import { ApiCallCount, withApiCallCount } from './api-calls';
import { CfnRequest, CfnResponse, truncateReason } from './cfn-response';
import { onCreate } from './on-create';
import { onDelete } from './on-delete';
import { onUpdate } from './on-update';
import { AllocatorDeps, AllocatorRequest, Outcome } from './request';
import { parseProperties } from './rule-spec';
import { PriorityAllocatorProperties } from './types';

export { AllocatorError, isAwsError } from './allocator-error';
export { listenerOfRule } from './listener-rules';
export { unallocatedId } from './request';
export type { AllocatorDeps } from './request';
export { parseProperties, randomPriority } from './rule-spec';
export type { PriorityPicker, RuleSpec } from './rule-spec';

/** The response PUT stops being retried this long before the function's time runs out. */
const RESPONSE_MARGIN_MS = 500;

/** The part of the Lambda context the handler uses. */
export interface LambdaContextLike {
  getRemainingTimeInMillis(): number;
}

/** What one request did: the response sent and the AWS calls it took. */
export interface AllocatorResult {
  readonly response: CfnResponse;
  readonly apiCalls: ApiCallCount;
  /** Set when the response could not be delivered to the ResponseURL. */
  readonly sendError?: string;
}

/** Serves one custom resource request; never throws, always tries to PUT a response. */
export async function processRequest(
  request: CfnRequest<PriorityAllocatorProperties>,
  context: LambdaContextLike,
  deps: AllocatorDeps,
): Promise<AllocatorResult> {
  const endsAt = Date.now() + context.getRemainingTimeInMillis();
  const run = new AllocatorRequest(request, deps, endsAt);
  const margin = deps.safetyMarginMs ?? 10_000;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<Outcome>((resolve) => {
    timer = setTimeout(
      () => {
        run.abort.abort();
        resolve(
          run.failed(
            `the priority allocator ran out of time (answering ${margin} ms before its Lambda timeout); ` +
              'see its CloudWatch logs',
          ),
        );
      },
      Math.max(0, context.getRemainingTimeInMillis() - margin),
    );
  });
  const { result: outcome, apiCalls } = await withApiCallCount(() =>
    Promise.race([
      dispatch(run).catch((error: unknown) => {
        run.log({ level: 'error', message: 'request failed', error: errorMessage(error) });
        return run.failed(errorMessage(error));
      }),
      deadline,
    ]),
  );
  clearTimeout(timer);
  const response: CfnResponse = {
    Status: outcome.status,
    ...(outcome.reason === undefined ? {} : { Reason: truncateReason(outcome.reason) }),
    PhysicalResourceId: outcome.physicalResourceId,
    StackId: request.StackId,
    RequestId: request.RequestId,
    LogicalResourceId: request.LogicalResourceId,
    ...(outcome.data ? { Data: { ...outcome.data } } : {}),
  };
  let sendError: string | undefined;
  try {
    // Retried until shortly before the function's time runs out: CloudFormation waits for nothing else.
    await deps.sendResponse(request.ResponseURL, response, endsAt - RESPONSE_MARGIN_MS);
  } catch (error) {
    sendError = errorMessage(error);
  }
  run.log({
    level: sendError ? 'error' : 'info',
    message: 'request served',
    status: response.Status,
    reason: response.Reason,
    physicalResourceId: response.PhysicalResourceId,
    priority: outcome.data?.Priority,
    apiCalls,
    ...(sendError ? { sendError } : {}),
  });
  return { response, apiCalls, ...(sendError ? { sendError } : {}) };
}

/** The request's path, by its type. */
async function dispatch(run: AllocatorRequest): Promise<Outcome> {
  switch (run.request.RequestType) {
    case 'Create':
      return onCreate(run, parseProperties(run.request.ResourceProperties));
    case 'Update':
      return onUpdate(run);
    case 'Delete':
      return onDelete(run);
    default:
      throw new AllocatorError(`unknown RequestType ${JSON.stringify(run.request.RequestType)}`);
  }
}
