import { open } from 'lmdb'
import type { Database, RootDatabase } from 'lmdb'
import { META_MAP_SIZE, PRUNE_BATCH } from './constants.js'

/** One owner's pin on a blob. */
export interface Pin {
  owner: string
  seq: number
}

/** Record that `owner` unpinned a blob at its sequence number `seq`, at `time` (ms since epoch). */
export interface Tombstone {
  seq: number
  time: number
}

/** Blob counters persisted between runs; `clean` is false while a process has the store open. */
export interface StoredStats {
  count: number
  bytes: number
  clean: boolean
}

const STATS_KEY = 'stats'

// Keys are `<id>/<owner>`: ids have a fixed length, so every pin of one blob is one contiguous key
// range from `<id>/` up to `<id>0` ('0' sorts right after '/').
const pairKey = (id: string, owner: string): string => `${id}/${owner}`
const blobRange = (id: string) => ({ start: `${id}/`, end: `${id}0` })

/**
 * Metadata of the store in LMDB: pins, tombstones (indexed by time for expiry) and the blob
 * counters. Reads are synchronous memory-map lookups; each write is one ACID transaction, and the
 * pin/unpin methods resolve only once it is flushed to disk.
 */
export class Metadata {
  readonly #env: RootDatabase
  readonly #pins: Database<number, string>
  readonly #tombstones: Database<Tombstone, string>
  readonly #expiry: Database<true, [number, string]>
  readonly #state: Database<StoredStats, string>

  private constructor(env: RootDatabase) {
    this.#env = env
    this.#pins = env.openDB<number, string>({ name: 'pins' })
    this.#tombstones = env.openDB<Tombstone, string>({ name: 'tombstones' })
    this.#expiry = env.openDB<true, [number, string]>({ name: 'tombstone-expiry' })
    this.#state = env.openDB<StoredStats, string>({ name: 'state' })
  }

  /** Opens (or creates) the database in directory `dir`. */
  static open(dir: string): Metadata {
    return new Metadata(open({ path: dir, maxDbs: 8, mapSize: META_MAP_SIZE }))
  }

  readStats(): StoredStats | undefined {
    return this.#state.get(STATS_KEY)
  }

  async writeStats(stats: StoredStats): Promise<void> {
    await this.#state.put(STATS_KEY, stats)
    await this.#env.flushed
  }

  /**
   * Records `owner`'s pin on `id` at sequence `seq`. Refused (false) when the owner's tombstone
   * for this blob is at least as new: an unpin wins a tie, so a stale pin cannot resurrect data.
   */
  async pin(id: string, owner: string, seq: number): Promise<boolean> {
    const key = pairKey(id, owner)
    const ok = await this.#env.transaction(() => {
      const tombstone = this.#tombstones.get(key)
      if (tombstone !== undefined && tombstone.seq >= seq) return false
      const current = this.#pins.get(key)
      if (current === undefined || current < seq) this.#pins.putSync(key, seq)
      if (tombstone !== undefined) {
        this.#tombstones.removeSync(key)
        this.#expiry.removeSync([tombstone.time, key])
      }
      return true
    })
    await this.#env.flushed
    return ok
  }

  /**
   * Removes `owner`'s pin on `id` and records a tombstone at `seq`. Refused (false) when the
   * owner's pin is newer than `seq`. Unpinning a blob that is not pinned still records the
   * tombstone, so a later stale pin is refused.
   */
  async unpin(id: string, owner: string, seq: number, now: number): Promise<boolean> {
    const key = pairKey(id, owner)
    const ok = await this.#env.transaction(() => {
      const current = this.#pins.get(key)
      if (current !== undefined && current > seq) return false
      if (current !== undefined) this.#pins.removeSync(key)
      const tombstone = this.#tombstones.get(key)
      if (tombstone !== undefined && tombstone.seq >= seq) return true
      if (tombstone !== undefined) this.#expiry.removeSync([tombstone.time, key])
      this.#tombstones.putSync(key, { seq, time: now })
      this.#expiry.putSync([now, key], true)
      return true
    })
    await this.#env.flushed
    return ok
  }

  pins(id: string): Pin[] {
    const prefix = id.length + 1
    return Array.from(this.#pins.getRange(blobRange(id)), ({ key, value }) => ({ owner: key.slice(prefix), seq: value }))
  }

  isPinned(id: string): boolean {
    for (const _ of this.#pins.getKeys({ ...blobRange(id), limit: 1 })) return true
    return false
  }

  tombstone(id: string, owner: string): Tombstone | undefined {
    return this.#tombstones.get(pairKey(id, owner))
  }

  /** Forgets tombstones recorded before `before` (ms since epoch). Returns how many. */
  async pruneTombstones(before: number): Promise<number> {
    let pruned = 0
    for (;;) {
      // In bounded batches: memory and transaction size stay small however many have expired.
      const expired = Array.from(this.#expiry.getKeys({ end: [before], limit: PRUNE_BATCH }))
      if (expired.length === 0) break
      await this.#env.transaction(() => {
        for (const [time, key] of expired) {
          this.#expiry.removeSync([time, key])
          const tombstone = this.#tombstones.get(key)
          if (tombstone?.time === time) this.#tombstones.removeSync(key)
        }
      })
      pruned += expired.length
    }
    await this.#env.flushed
    return pruned
  }

  async close(): Promise<void> {
    await this.#env.close()
  }
}
