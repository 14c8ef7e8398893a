import { setTimeout as delay } from 'node:timers/promises'
import { abortError } from './errors.js'

/** Clock and sleep, injectable so the rate arithmetic can be tested without waiting. */
export interface ThrottleTiming {
  now(): number
  sleep(ms: number, signal?: AbortSignal): Promise<void>
}

const realTiming: ThrottleTiming = {
  now: () => performance.now(),
  sleep: (ms, signal) => delay(ms, undefined, { signal }),
}

/** At most this much unused allowance is carried forward, so a pause does not buy a long burst. */
const MAX_CREDIT_MS = 1000

/**
 * Keeps a byte-consuming loop at or below `bytesPerSecond` on average: after each piece of work the
 * caller reports its size and waits out however far ahead of schedule it is.
 */
export class Throttle {
  readonly #bytesPerSecond: number
  readonly #timing: ThrottleTiming
  #start: number
  #bytes = 0

  constructor(bytesPerSecond: number, timing: ThrottleTiming = realTiming) {
    if (!(bytesPerSecond > 0)) throw new RangeError(`bytesPerSecond must be positive, got ${bytesPerSecond}`)
    this.#bytesPerSecond = bytesPerSecond
    this.#timing = timing
    this.#start = timing.now()
  }

  /** Accounts for `bytes` just processed and sleeps until the average rate is back within bounds. */
  async consume(bytes: number, signal?: AbortSignal): Promise<void> {
    if (this.#bytesPerSecond === Infinity) return
    this.#bytes += bytes
    const now = this.#timing.now()
    const due = this.#start + (this.#bytes / this.#bytesPerSecond) * 1000
    if (due < now - MAX_CREDIT_MS) {
      // Idle for a while: forget the old schedule instead of allowing a burst to catch up.
      this.#start = now - MAX_CREDIT_MS
      this.#bytes = 0
      return
    }
    if (due <= now) return
    try {
      await this.#timing.sleep(due - now, signal)
    } catch (err) {
      if (signal?.aborted === true) throw abortError(signal, 'throttled work')
      throw err
    }
  }
}
