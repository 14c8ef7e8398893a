import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { QUIET_CHECK_MS, releaseWhenQuiet } from '../src/release-when-quiet.js'

/** An idle node's traffic figures, and one figure that is not traffic. */
function idleMetrics() {
  return { bytesPut: 0, bytesGot: 0, bytesReplicated: 0, blobsFetched: 0, blobsReceived: 0, blobsServed: 0, repairPushed: 0, gossipSent: 0 }
}

describe('releaseWhenQuiet', () => {
  beforeEach(() => {
    vi.useFakeTimers()
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('releases once when a busy spell ends, never while it lasts or while the node stays idle', () => {
    const metrics = idleMetrics()
    const release = vi.fn()
    const stop = releaseWhenQuiet(metrics, release)
    vi.advanceTimersByTime(5 * QUIET_CHECK_MS)
    expect(release).not.toHaveBeenCalled()

    // A put: its bytes move at every check.
    for (let i = 0; i < 4; i++) {
      metrics.bytesPut += 8 * 1024 * 1024
      metrics.bytesReplicated += 24 * 1024 * 1024
      vi.advanceTimersByTime(QUIET_CHECK_MS)
    }
    expect(release).not.toHaveBeenCalled()
    vi.advanceTimersByTime(QUIET_CHECK_MS)
    expect(release).toHaveBeenCalledTimes(1)
    vi.advanceTimersByTime(10 * QUIET_CHECK_MS)
    expect(release).toHaveBeenCalledTimes(1)

    // Serving another node's get is traffic too; gossip is not.
    metrics.blobsServed += 100
    vi.advanceTimersByTime(QUIET_CHECK_MS)
    metrics.gossipSent += 3
    vi.advanceTimersByTime(QUIET_CHECK_MS)
    expect(release).toHaveBeenCalledTimes(2)

    stop()
    metrics.blobsReceived += 1
    vi.advanceTimersByTime(10 * QUIET_CHECK_MS)
    expect(release).toHaveBeenCalledTimes(2)
  })
})
