import type { Clock } from './clock.js'
import { throwIfAborted } from './errors.js'

/**
 * Token bucket over bytes: `take(n)` resolves once `n` bytes fit under
 * `bytesPerSecond`, allowing bursts of one second's worth. Used to keep
 * repair traffic from starving user transfers.
 */
export class RateLimiter {
  private tokens: number
  private last: number

  constructor(
    private readonly bytesPerSecond: number,
    private readonly clock: Clock,
  ) {
    this.tokens = bytesPerSecond
    this.last = clock.now()
  }

  /** Waits until `bytes` may be sent. */
  async take(bytes: number, signal?: AbortSignal): Promise<void> {
    if (!Number.isFinite(this.bytesPerSecond)) return
    for (;;) {
      throwIfAborted(signal)
      const now = this.clock.now()
      this.tokens = Math.min(this.bytesPerSecond, this.tokens + ((now - this.last) * this.bytesPerSecond) / 1000)
      this.last = now
      // A request larger than the bucket goes through once the bucket is full.
      if (this.tokens >= Math.min(bytes, this.bytesPerSecond)) {
        this.tokens -= bytes
        return
      }
      const waitMs = Math.ceil(((Math.min(bytes, this.bytesPerSecond) - this.tokens) * 1000) / this.bytesPerSecond)
      await new Promise<void>((resolve) => this.clock.setTimeout(resolve, Math.max(1, waitMs)))
    }
  }
}
