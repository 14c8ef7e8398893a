import { setFlagsFromString } from 'node:v8'

/**
 * Heap growth V8 is told to allow after each full collection: 400% (the heap may grow to 5× what
 * survived) instead of its own factor, which for a node's small heap (about 10 MB) is near 1.5×.
 *
 * Why: V8 counts the bytes of live Buffers against the old generation's limit, and a node always
 * has tens of MiB of them in flight (chunks, sealed blobs, frames). With a tight limit, every
 * few MiB moved started a full mark-compact: over 200 of them for a 256 MiB put on 4 nodes. With
 * this setting a 512 MiB put on 4 nodes used 31.8 instead of 47 ms of CPU per MiB and a remote get
 * 8.4 instead of 13.8 (`bench/cluster.mjs`, same machine, same hour); peak RSS per process rose
 * from about 150 to 175 MiB.
 */
export const HEAP_GROWING_PERCENT = 400

/**
 * Tunes this process's garbage collector for a node's traffic (see {@link HEAP_GROWING_PERCENT}).
 * A process-wide setting, so it is left to whoever owns the process: the `cas` daemon calls it,
 * an application embedding a node may. Safe to call more than once.
 */
export function tuneGarbageCollector(): void {
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`)
}
