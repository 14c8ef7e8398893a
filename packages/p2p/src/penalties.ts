import { MAX_TRACKED_REMOTES, OFFENCE_WINDOW_MS } from './constants.js'

interface Record {
  offences: number
  windowStart: number
  bans: number
  bannedUntil: number
}

/** Options of the offence book. */
export interface PenaltyOptions {
  maxOffences: number
  banMs: number
  banMaxMs: number
  now?: () => number
}

/**
 * Counts protocol offences per key (a peer id or a remote host) and bans repeat offenders for a
 * doubling period. Bounded: the oldest records are forgotten first.
 */
export class Penalties {
  readonly #records = new Map<string, Record>()
  readonly #options: PenaltyOptions
  readonly #now: () => number

  constructor(options: PenaltyOptions) {
    this.#options = options
    this.#now = options.now ?? Date.now
  }

  /** Records one offence; returns true when it got the key banned. */
  offend(key: string): boolean {
    const now = this.#now()
    let record = this.#records.get(key)
    if (record === undefined) {
      if (this.#records.size >= MAX_TRACKED_REMOTES) this.#records.delete(this.#records.keys().next().value!)
      record = { offences: 0, windowStart: now, bans: 0, bannedUntil: 0 }
    } else {
      this.#records.delete(key)
    }
    this.#records.set(key, record)
    if (now - record.windowStart > OFFENCE_WINDOW_MS) {
      record.offences = 0
      record.windowStart = now
    }
    record.offences++
    if (record.offences < this.#options.maxOffences) return false
    const { banMs, banMaxMs } = this.#options
    record.bannedUntil = now + Math.min(banMaxMs, banMs * 2 ** record.bans)
    record.bans++
    record.offences = 0
    record.windowStart = now
    return true
  }

  /** True while the key is banned. */
  isBanned(key: string): boolean {
    const record = this.#records.get(key)
    return record !== undefined && record.bannedUntil > this.#now()
  }

  /** Offences counted in the current window (for metrics and tests). */
  offences(key: string): number {
    return this.#records.get(key)?.offences ?? 0
  }
}
