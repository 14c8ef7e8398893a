/** Stable codes of {@link StoreError}; match on these, never on message text. */
export type StoreErrorCode =
  | 'NOT_FOUND'
  | 'CORRUPT'
  | 'FULL'
  | 'INVALID_ID'
  | 'INVALID_ARGUMENT'
  | 'CLOSED'
  | 'ABORTED'
  | 'IO'

/** The one error type of `@cas/store`. The underlying error, if any, is kept as `cause`. */
export class StoreError extends Error {
  override readonly name = 'StoreError'
  readonly code: StoreErrorCode

  constructor(code: StoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
  }
}

/** True for Node system errors carrying the given errno code (ENOENT, EEXIST, ...). */
export function isErrno(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as NodeJS.ErrnoException).code === code
}

/**
 * Wraps an unexpected failure: store errors pass through, a full disk becomes FULL, a missing file
 * NOT_FOUND, anything else IO. Programmer errors (TypeError, RangeError) are re-thrown untouched.
 */
export function toStoreError(err: unknown, what: string): Error {
  if (err instanceof StoreError || err instanceof TypeError || err instanceof RangeError) return err
  if (isErrno(err, 'ENOSPC') || isErrno(err, 'EDQUOT')) return new StoreError('FULL', `${what}: disk full`, { cause: err })
  if (isErrno(err, 'ENOENT')) return new StoreError('NOT_FOUND', `${what}: not found`, { cause: err })
  return new StoreError('IO', `${what}: ${err instanceof Error ? err.message : 'failed'}`, { cause: err })
}

/** The error to throw when `signal` has fired. */
export function abortError(signal: AbortSignal, what: string): StoreError {
  return new StoreError('ABORTED', `${what}: aborted`, { cause: signal.reason })
}
