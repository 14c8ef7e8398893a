import * as C from './constants.js'

/** Tunable limits of a host and its connections; every field has a default in constants.ts. */
export interface Limits {
  /** Largest message header accepted or sent. */
  maxHeaderBytes: number
  /** Largest message body accepted or sent. */
  maxBodyBytes: number
  /** Requests this side keeps in flight per connection; further callers wait. */
  maxOutgoingRequests: number
  /** Requests a peer may keep in flight here per connection; excess ones get BUSY. */
  maxIncomingRequests: number
  /** Callers that may wait for a request slot or for drain per connection before getting BUSY. */
  maxQueuedCalls: number
  /** Body bytes held by in-flight incoming requests before reading pauses. */
  maxIncomingBytes: number
  handshakeTimeoutMs: number
  dialTimeoutMs: number
  dialAttempts: number
  dialBackoffMs: number
  dialBackoffMaxMs: number
  requestTimeoutMs: number
  idleTimeoutMs: number
  closeTimeoutMs: number
  /** Offences tolerated per peer or remote host within a minute before a ban. */
  maxOffences: number
  banMs: number
  banMaxMs: number
}

/** The default limits. */
export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxHeaderBytes: C.DEFAULT_MAX_HEADER_BYTES,
  maxBodyBytes: C.DEFAULT_MAX_BODY_BYTES,
  maxOutgoingRequests: C.DEFAULT_MAX_OUTGOING_REQUESTS,
  maxIncomingRequests: C.DEFAULT_MAX_INCOMING_REQUESTS,
  maxQueuedCalls: C.DEFAULT_MAX_QUEUED_CALLS,
  maxIncomingBytes: C.DEFAULT_MAX_INCOMING_BYTES,
  handshakeTimeoutMs: C.DEFAULT_HANDSHAKE_TIMEOUT_MS,
  dialTimeoutMs: C.DEFAULT_DIAL_TIMEOUT_MS,
  dialAttempts: C.DEFAULT_DIAL_ATTEMPTS,
  dialBackoffMs: C.DEFAULT_DIAL_BACKOFF_MS,
  dialBackoffMaxMs: C.DEFAULT_DIAL_BACKOFF_MAX_MS,
  requestTimeoutMs: C.DEFAULT_REQUEST_TIMEOUT_MS,
  idleTimeoutMs: C.DEFAULT_IDLE_TIMEOUT_MS,
  closeTimeoutMs: C.DEFAULT_CLOSE_TIMEOUT_MS,
  maxOffences: C.DEFAULT_MAX_OFFENCES,
  banMs: C.DEFAULT_BAN_MS,
  banMaxMs: C.DEFAULT_BAN_MAX_MS,
})

/** Fills unset limits with defaults. */
export function resolveLimits(partial: Partial<Limits> = {}): Limits {
  const limits = { ...DEFAULT_LIMITS }
  for (const [key, value] of Object.entries(partial) as [keyof Limits, number | undefined][]) {
    if (value !== undefined) limits[key] = value
  }
  return limits
}
