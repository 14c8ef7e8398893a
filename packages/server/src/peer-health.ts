import type { Clock } from './clock.js'
import { errorCode } from './errors.js'

/**
 * Peers that failed to answer a request: timed out, could not be dialled, or dropped the
 * connection mid-request. Gossip heartbeats only prove that a peer's process runs; a peer that
 * takes requests and never answers (overloaded, wedged, or hostile) would otherwise stay in
 * placement and make every put and get wait for a timeout on it. Such a peer is routed around
 * for a backoff period that doubles while it keeps failing, and forgiven as soon as it answers
 * or connects afresh. An error reply from the peer (FULL, CORRUPT, ...) is an answer.
 */
export class PeerHealth {
  private readonly down = new Map<string, { until: number; failures: number }>()
  private readonly distrusted = new Map<string, number>()

  constructor(
    private readonly clock: Clock,
    private readonly baseMs: number,
    private readonly maxMs: number,
  ) {}

  /** Records a failed request to `peer`; returns true when this failure newly marked it down. */
  failed(peer: string, err: unknown): boolean {
    // Requests that were in flight together fail together: one incident, counted once.
    if (!isNoAnswer(err) || this.isDown(peer)) return false
    const failures = (this.down.get(peer)?.failures ?? 0) + 1
    const backoff = Math.min(this.maxMs, this.baseMs * 2 ** (failures - 1))
    this.down.set(peer, { until: this.clock.now() + backoff, failures })
    return true
  }

  /** A request to the peer has gone unanswered for a while (it may still answer): route around it meanwhile. */
  slow(peer: string): boolean {
    return this.failed(peer, { code: 'TIMEOUT' })
  }

  /** The peer answered (or connected afresh): it is trusted again. */
  answered(peer: string): void {
    this.down.delete(peer)
  }

  /**
   * The peer served bytes that do not match the blob id it was asked for. An honest node checks
   * every copy before it serves it, so this one is broken or lying: it is routed around for `ms`
   * whatever it answers meanwhile (answering is exactly what a liar does well).
   */
  distrust(peer: string, ms: number): void {
    this.distrusted.set(peer, Math.max(this.distrusted.get(peer) ?? 0, this.clock.now() + ms))
  }

  /** True while the peer is distrusted for serving wrong bytes (see {@link distrust}). */
  isDistrusted(peer: string): boolean {
    const until = this.distrusted.get(peer)
    return until !== undefined && until > this.clock.now()
  }

  /** True while the peer is being routed around. */
  isDown(peer: string): boolean {
    const now = this.clock.now()
    const distrustedUntil = this.distrusted.get(peer)
    if (distrustedUntil !== undefined) {
      if (distrustedUntil > now) return true
      this.distrusted.delete(peer)
    }
    const entry = this.down.get(peer)
    return entry !== undefined && entry.until > now
  }
}

/** Failures that mean the peer did not answer, as opposed to an error reply it sent or our own abort. */
function isNoAnswer(err: unknown): boolean {
  if (typeof err === 'object' && err !== null && 'remoteCode' in err && (err as { remoteCode?: unknown }).remoteCode !== undefined) return false
  const code = errorCode(err)
  return code === 'TIMEOUT' || code === 'DIAL_FAILED' || code === 'CLOSED' || code === 'HANDSHAKE_FAILED' || code === 'UNAVAILABLE'
}
