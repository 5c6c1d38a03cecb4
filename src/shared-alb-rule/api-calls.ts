/**
 * Counts the AWS API calls made on behalf of one custom resource request, even when many requests run
 * concurrently in one process (the integration tests and the benchmark do that): the count lives in an
 * AsyncLocalStorage, and a middleware on each SDK client adds to the count of the request it serves.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

/** The AWS API calls one request made. */
export interface ApiCallCount {
  /** Operations sent (one per `client.send`, whatever the SDK's retries). */
  calls: number;
  /** HTTP attempts (calls plus the SDK's own retries, e.g. on throttling). */
  attempts: number;
  /** Calls per operation, e.g. `{ CreateRule: 1, PutItem: 1 }`. */
  byOperation: Record<string, number>;
}

const current = new AsyncLocalStorage<ApiCallCount>();

/** The minimal part of an SDK v3 client this module touches. */
export interface MiddlewareClient {
  readonly middlewareStack: {
    add(middleware: any, options: any): void;
  };
}

/** Installs the counting middleware on an SDK v3 client (once per client). */
export function countApiCalls<C extends MiddlewareClient>(client: C): C {
  client.middlewareStack.add(
    (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) => async (args: unknown) => {
      const count = current.getStore();
      if (count) {
        count.calls += 1;
        const op = (context.commandName ?? 'Unknown').replace(/Command$/, '');
        count.byOperation[op] = (count.byOperation[op] ?? 0) + 1;
      }
      return next(args);
    },
    { step: 'initialize', name: 'vendingApiCallCounter', override: true },
  );
  client.middlewareStack.add(
    (next: (args: unknown) => Promise<unknown>) => async (args: unknown) => {
      const count = current.getStore();
      if (count) count.attempts += 1;
      return next(args);
    },
    { step: 'deserialize', name: 'vendingApiAttemptCounter', override: true },
  );
  return client;
}

/** Runs `fn` with a fresh count and returns the count with the result. */
export async function withApiCallCount<T>(fn: () => Promise<T>): Promise<{ result: T; apiCalls: ApiCallCount }> {
  const apiCalls: ApiCallCount = { calls: 0, attempts: 0, byOperation: {} };
  const result = await current.run(apiCalls, fn);
  return { result, apiCalls };
}
