import { constants, PerformanceObserver } from 'node:perf_hooks'
import { setImmediate as tick } from 'node:timers/promises'
import { getHeapSpaceStatistics } from 'node:v8'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { OLD_SPACE_CHECK_MS, OLD_SPACE_STEP_BYTES, watchOldSpace } from '../src/old-space-watch.js'

const MiB = 1024 * 1024
const oldSpaceUsed = () => getHeapSpaceStatistics().find((space) => space.space_name === 'old_space')!.space_used_size

/**
 * About `bytes` of small objects that live long enough to reach the old space (they outlive
 * several scavenges, forced by short-lived garbage), then die: a transfer's per-chunk state.
 */
async function promotedGarbage(bytes: number): Promise<void> {
  let batch: number[][] | undefined = []
  // An array of 8 small integers costs about 100 bytes of heap.
  for (let i = 0; i < bytes / 100; i++) batch.push([i, i + 1, i + 2, i + 3, i + 4, i + 5, i + 6, i + 7])
  for (let round = 0; round < 4; round++) {
    let young: unknown[] = []
    for (let i = 0; i < 200_000; i++) young.push({ i })
    young = []
    await tick()
  }
  expect(batch.length).toBeGreaterThan(0)
  batch = undefined
}

describe('watchOldSpace', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('collects each time the old space grew by a step since the smallest size it was seen at', () => {
    vi.useFakeTimers()
    let used = 20 * MiB
    const collect = vi.fn(() => {
      used = 21 * MiB // what survived
    })
    const stop = watchOldSpace({ used: () => used, collect })

    // Growth up to the step is left to V8.
    used += OLD_SPACE_STEP_BYTES
    vi.advanceTimersByTime(4 * OLD_SPACE_CHECK_MS)
    expect(collect).not.toHaveBeenCalled()
    used += 1
    vi.advanceTimersByTime(OLD_SPACE_CHECK_MS)
    expect(collect).toHaveBeenCalledTimes(1)

    // The next step counts from what survived the collection...
    used = 21 * MiB + OLD_SPACE_STEP_BYTES
    vi.advanceTimersByTime(OLD_SPACE_CHECK_MS)
    expect(collect).toHaveBeenCalledTimes(1)
    // ...or from lower, when V8 collected on its own in between.
    used = 15 * MiB
    vi.advanceTimersByTime(OLD_SPACE_CHECK_MS)
    used = 15 * MiB + OLD_SPACE_STEP_BYTES + 1
    vi.advanceTimersByTime(OLD_SPACE_CHECK_MS)
    expect(collect).toHaveBeenCalledTimes(2)

    stop()
    used += 10 * OLD_SPACE_STEP_BYTES
    vi.advanceTimersByTime(10 * OLD_SPACE_CHECK_MS)
    expect(collect).toHaveBeenCalledTimes(2)
  })

  it("with V8's collector, keeps a pile of dead objects in the old space from growing past the step", async () => {
    const majors: number[] = []
    const observer = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        if ((entry as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) majors.push(entry.startTime)
      }
    })
    observer.observe({ entryTypes: ['gc'] })
    const step = 4 * MiB
    const stop = watchOldSpace({ stepBytes: step, intervalMs: 5 })
    try {
      const start = oldSpaceUsed()
      let highest = start
      // 48 MiB of garbage promoted 2 MiB at a time, with time between for the checks.
      for (let i = 0; i < 24; i++) {
        await promotedGarbage(2 * MiB)
        await new Promise((resolve) => setTimeout(resolve, 20))
        highest = Math.max(highest, oldSpaceUsed())
      }
      // At most a step, a batch still alive when a check collected (the floor then includes it) and
      // the batch after: about 10 MiB. V8 alone let this heap grow by 70 MiB before it collected.
      expect(highest - start).toBeLessThan(step + 12 * MiB)
      expect(majors.length).toBeGreaterThan(0)
      // And the process's own global gained no `gc`.
      expect((globalThis as { gc?: unknown }).gc).toBeUndefined()
    } finally {
      stop()
      observer.disconnect()
    }
  })
})
