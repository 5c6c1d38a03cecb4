/** Errors of the priority allocator: its own, meant for CloudFormation's console, and AWS's, by their codes. */

/** An error whose message is meant for CloudFormation's console as is. */
export class AllocatorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AllocatorError';
  }
}

/** True when `error` is an AWS error with one of these codes (SDK v3 names them with or without `Exception`). */
export function isAwsError(error: unknown, ...codes: string[]): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { name?: unknown; Code?: unknown };
  return codes.some((c) => e.name === c || e.name === `${c}Exception` || e.Code === c);
}

/** The message of an error, as the response's Reason and the log say it. */
export function errorMessage(error: unknown): string {
  if (error instanceof AllocatorError) return error.message;
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
