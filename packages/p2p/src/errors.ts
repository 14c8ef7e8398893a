/** Stable error codes of @cas/p2p. Error replies from a peer carry the peer's code in `remoteCode`. */
export type P2PErrorCode =
  | 'HANDSHAKE_FAILED'
  | 'UNEXPECTED_PEER'
  | 'TIMEOUT'
  | 'ABORTED'
  | 'CLOSED'
  | 'MESSAGE_TOO_LARGE'
  | 'PROTOCOL'
  | 'BUSY'
  | 'REMOTE'
  | 'DIAL_FAILED'
  | 'BANNED'
  | 'UNKNOWN_TYPE'
  | 'INVALID_ARGUMENT'
  | 'DECRYPT_FAILED'
  | 'NOISE'

/** The one error class of @cas/p2p: match on `code`, never on the message. */
export class P2PError extends Error {
  override readonly name = 'P2PError'
  readonly code: P2PErrorCode | (string & {})
  /** For errors replied by a peer: the code the peer sent. */
  readonly remoteCode?: string

  constructor(code: P2PErrorCode | (string & {}), message: string, options?: { cause?: unknown; remoteCode?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    if (options?.remoteCode !== undefined) this.remoteCode = options.remoteCode
  }
}

/** True for a P2PError with the given code. */
export function isP2PError(err: unknown, code?: string): err is P2PError {
  return err instanceof P2PError && (code === undefined || err.code === code)
}

/** Programmer errors that must escape instead of being treated as a peer's fault. */
export function isProgrammerError(err: unknown): boolean {
  return err instanceof TypeError || err instanceof ReferenceError
}
