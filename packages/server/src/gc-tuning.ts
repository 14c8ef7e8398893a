import { setFlagsFromString } from 'node:v8'
import type { Worker } from 'node:worker_threads'

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
 * Growth factor of V8's young generation after a scavenge: 1, so it stays at its initial size
 * (1 MiB per semi-space) instead of doubling up to 16 MiB.
 *
 * Why: a node allocates few JS objects but moves many Buffers, so scavenges that promote a little
 * made V8 grow the young generation to its maximum, and its 32 MiB of semi-spaces then stayed
 * resident: the putting daemon of `bench/memory.mjs` reported a heap of 57 MiB with 21 MiB in
 * use. Kept small from the start, the heap stayed at 27 MiB and the peak RSS of the busiest
 * cluster processes fell by 10–15 MiB. `bench/cluster.mjs` (512 MiB, two runs each, alternating):
 * put CPU over the four processes 28.9 and 26.5 ms per MiB as V8 sizes it, 27.0 and 28.4 kept
 * small (`--max-semi-space-size=1`).
 */
export const YOUNG_GROWTH_FACTOR = 1

/**
 * Tunes this process's garbage collector for a node's traffic (see {@link HEAP_GROWING_PERCENT}
 * and {@link YOUNG_GROWTH_FACTOR}). A process-wide setting, so it is left to whoever owns the
 * process: the `cas` CLI calls it, an application embedding a node may. Safe to call more than
 * once. Call it first, before the process loads its modules: V8 never shrinks a young generation
 * that has grown, and loading grows it. `@cas/server/gc-tuning` exports it alone (it loads nothing
 * but `node:v8`) for that purpose.
 */
export function tuneGarbageCollector(): void {
  applyFlags()
  if (watchingWorkers) return
  watchingWorkers = true
  // V8 resets a growth factor below 2 whenever it sets up a heap, and each new worker thread (the
  // crypto threads among them) gets one: set it again once the thread runs.
  process.on('worker', (worker: Worker) => worker.once('online', applyFlags))
}

let watchingWorkers = false

function applyFlags(): void {
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`)
  setFlagsFromString(`--semi-space-growth-factor=${YOUNG_GROWTH_FACTOR}`)
}
