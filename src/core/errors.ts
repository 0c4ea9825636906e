/** An error whose message is meant for the user. `code` lets callers pick an action. */
export type BankErrorCode =
  | 'NOT_FOUND'
  | 'INVALID_INPUT'
  | 'CONFLICT'
  | 'LOCKED'
  | 'CORRUPT'
  | 'LIMIT'
  /** A database refused the login (no password, or a wrong one). */
  | 'AUTH'
  /** The event was already captured (by another window on the same bank). */
  | 'DUPLICATE'
  | 'IO';

export class BankError extends Error {
  constructor(
    readonly code: BankErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'BankError';
  }
}

export type LlmErrorCode = 'UNREACHABLE' | 'TIMEOUT' | 'HTTP' | 'RATE_LIMITED' | 'CANCELLED' | 'BAD_OUTPUT';

/** A model call failed; `retryable` tells the capture queue to keep the work queued. */
export class LlmError extends Error {
  constructor(
    readonly code: LlmErrorCode,
    message: string,
    readonly retryable: boolean,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'LlmError';
  }
}

export function isAbortError(err: unknown): boolean {
  return (
    err instanceof Error &&
    (err.name === 'AbortError' || err.name === 'APIUserAbortError' || (err as { code?: string }).code === 'ABORT_ERR')
  );
}
