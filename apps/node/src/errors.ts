import { EXIT_FAILURE, EXIT_USAGE } from './constants.js'

/** Stable codes of {@link CasError}. */
export type CasErrorCode =
  | 'USAGE'
  | 'CONFIG_INVALID'
  | 'NOT_INITIALIZED'
  | 'ALREADY_RUNNING'
  | 'DAEMON_NOT_RUNNING'
  | 'UNAUTHORIZED'
  | 'NOT_FOUND'
  | 'INVALID_REF'
  | 'BAD_REQUEST'
  | 'PAYLOAD_TOO_LARGE'
  | 'RANGE_NOT_SATISFIABLE'
  | 'FULL'
  | 'UNAVAILABLE'
  | 'CORRUPT'
  | 'FORBIDDEN'
  | 'ABORTED'
  | 'INPUT'
  | 'OUTPUT'
  | 'KEYS'
  | 'INTERNAL'
  | (string & {})

/**
 * The one error type of `@cas/node`. `code` is stable and is what callers match on; the HTTP API
 * sends it as `error.code`, and the CLI turns it into an exit code.
 */
export class CasError extends Error {
  override readonly name = 'CasError'
  readonly code: CasErrorCode

  constructor(code: CasErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
  }

  /** Exit code of a CLI command that failed with this error (DESIGN §6: 2 for usage, else 1). */
  get exitCode(): number {
    return this.code === 'USAGE' ? EXIT_USAGE : EXIT_FAILURE
  }
}

/** The `code` property of any error-like value, if it has a string one. */
export function errorCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const code = err.code
    if (typeof code === 'string') return code
  }
  return undefined
}

/** The message of any thrown value. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message
  return String(err)
}
