import { getHeapSpaceStatistics } from 'node:v8'
import { collectGarbage } from './full-collection.js'

/**
 * Growth of V8's old space since its last full collection after which {@link watchOldSpace} has
 * the process collect: 4 MiB.
 *
 * Why: with the heap allowed to grow 4× between full collections (see `HEAP_GROWING_PERCENT`), a
 * long transfer's per-chunk garbage (requests, promises, closures that outlived two scavenges)
 * piles up in the old space for minutes: a daemon putting 5 GiB saw it reach 40 MiB, with 20 live,
 * and V8 keeps the pages it grew into. Dead Buffers promoted with that garbage wait as long, and
 * malloc's heap grows to hold them. Collecting every 8 MiB of growth cost 6–7 collections of a few
 * milliseconds in that put, and no measurable CPU per MiB; every 4 MiB, twice as many, and the
 * putting daemon of `bench/memory.mjs` (5 GiB, four runs each, alternating) peaked at 179–198 MiB
 * (mean 186) instead of 192–199 (mean 196).
 */
export const OLD_SPACE_STEP_BYTES = 4 * 1024 * 1024

/** How often {@link watchOldSpace} reads the old space's size. */
export const OLD_SPACE_CHECK_MS = 250

/** Options of {@link watchOldSpace}; the defaults are the process's own heap and collector. */
export interface OldSpaceWatchOptions {
  stepBytes?: number
  intervalMs?: number
  /** Bytes the old space holds, live or dead. */
  used?: () => number
  /** Runs a full collection, synchronously. */
  collect?: () => void
}

/**
 * Starts a full garbage collection each time V8's old space has grown by `stepBytes` since the
 * smallest size it was seen at (which a collection of V8's own also lowers); see
 * {@link OLD_SPACE_STEP_BYTES}. A process-wide policy, so it is left to whoever owns the process:
 * the `cas` daemon starts it. Returns the function that stops the checks.
 */
export function watchOldSpace(options: OldSpaceWatchOptions = {}): () => void {
  const step = options.stepBytes ?? OLD_SPACE_STEP_BYTES
  const used = options.used ?? oldSpaceUsed
  const collect = options.collect ?? (() => collectGarbage())
  let floor = used()
  const timer = setInterval(() => {
    const now = used()
    if (now - floor <= step) {
      floor = Math.min(floor, now)
      return
    }
    collect()
    floor = used()
  }, options.intervalMs ?? OLD_SPACE_CHECK_MS)
  timer.unref()
  return () => clearInterval(timer)
}

function oldSpaceUsed(): number {
  return getHeapSpaceStatistics().find((space) => space.space_name === 'old_space')?.space_used_size ?? 0
}
