/** Stable codes of {@link CryptoError}; match on these, never on messages. */
export type CryptoErrorCode =
  | 'KEY_FILE_MISSING'
  | 'KEY_FILE_INVALID'
  | 'KEY_FILE_INSECURE'
  | 'INVALID_KEY'
  | 'INVALID_BLOB'
  | 'INVALID_ARGUMENT'
  | 'SEAL_FAILED'
  | 'CLOSED'

/** The one error type of @cas/crypto. */
export class CryptoError extends Error {
  override readonly name = 'CryptoError'
  readonly code: CryptoErrorCode

  constructor(code: CryptoErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
  }
}
