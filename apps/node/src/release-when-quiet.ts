import type { NodeMetrics } from '@cas/server'

/** The figures of a node's metrics that move whenever file data goes in or out of it. */
const TRAFFIC = ['bytesPut', 'bytesGot', 'bytesReplicated', 'blobsFetched', 'blobsReceived', 'blobsServed', 'repairPushed'] as const satisfies readonly (keyof NodeMetrics)[]

/** The figures {@link releaseWhenQuiet} reads (a node's `metrics` has them). */
export type TrafficFigures = Readonly<Record<(typeof TRAFFIC)[number], number>>

/** How often the daemon looks whether its node's traffic has stopped. */
export const QUIET_CHECK_MS = 2_000

/**
 * Calls `release` once each time a busy spell of the node ends: when one check saw its traffic
 * figures move since the last and the next sees them still. The daemon passes glibc's trim (see
 * `releaseFreeMemory` in @cas/server): a tuned malloc keeps freed memory for the next transfer,
 * which an idle node does not need. Returns the function that stops the checks.
 */
export function releaseWhenQuiet(metrics: TrafficFigures, release: () => void, intervalMs = QUIET_CHECK_MS): () => void {
  const traffic = () => TRAFFIC.reduce((sum, key) => sum + metrics[key], 0)
  let last = traffic()
  let busy = false
  const timer = setInterval(() => {
    const now = traffic()
    if (now !== last) busy = true
    else if (busy) {
      busy = false
      release()
    }
    last = now
  }, intervalMs)
  timer.unref()
  return () => clearInterval(timer)
}
