/** Stable error codes of @cas/server. */
export type ServerErrorCode =
  | 'NOT_FOUND'
  | 'INVALID_REF'
  | 'INVALID_MANIFEST'
  | 'FULL'
  | 'UNAVAILABLE'
  | 'CORRUPT'
  | 'ABORTED'
  | 'FORBIDDEN'
  | 'CLOSED'
  | 'INVALID_ARGUMENT'

/** The one error type of @cas/server; match on `code`, the cause is kept. */
export class ServerError extends Error {
  override readonly name = 'ServerError'
  readonly code: ServerErrorCode

  constructor(code: ServerErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
  }
}

/** True for errors that indicate a bug rather than an operational failure; those must escape. */
export function isProgrammerError(err: unknown): boolean {
  return err instanceof TypeError || err instanceof RangeError || err instanceof ReferenceError || err instanceof SyntaxError
}

/** The `code` of an error-like value, if it has a string one. */
export function errorCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const code = err.code
    if (typeof code === 'string') return code
  }
  return undefined
}

/** Throws ABORTED if the signal has fired. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new ServerError('ABORTED', 'operation aborted', { cause: signal.reason })
}
