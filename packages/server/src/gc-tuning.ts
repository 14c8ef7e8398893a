import { setFlagsFromString } from 'node:v8'

/**
 * Heap growth V8 is told to allow after each full collection: 300% (the heap may grow to 4× what
 * survived) instead of its own factor, which for a node's small heap (about 10 MB) is near 1.5×.
 *
 * Why: V8 counts the bytes of live Buffers against the old generation's limit, and a node always
 * has tens of MiB of them in flight (chunks, sealed blobs, frames). With a tight limit, every
 * few MiB moved started a full mark-compact: `--trace-gc` counted 210 of them for a 256 MiB put on
 * 4 nodes. Measured with `bench/cluster.mjs`, 512 MiB, same hour: CPU of a put over the four
 * processes 47 ms per MiB untuned, 35.8 at 200%, 33.3 at 300%, 31.8 at 400%; of a remote get
 * 13.8, 10.7, 10.1, 8.4. The price is memory: dead Buffers wait longer for a collection. In
 * `bench/memory.mjs` (real daemons, 2.5 GiB through HTTP) the busiest daemon peaked at 203 MiB
 * untuned and 220 MiB at 300%; at 400% a 5 GiB run reached 269 MiB, so 300% it is.
 */
export const HEAP_GROWING_PERCENT = 300

/**
 * Tunes this process's garbage collector for a node's traffic (see {@link HEAP_GROWING_PERCENT}).
 * A process-wide setting, so it is left to whoever owns the process: the `cas` daemon calls it,
 * an application embedding a node may. Safe to call more than once.
 */
export function tuneGarbageCollector(): void {
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`)
}
