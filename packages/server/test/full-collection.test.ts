import { setImmediate as nextTurn } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { collectGarbage } from '../src/full-collection.js'

const MiB = 1024 * 1024

describe('collectGarbage', () => {
  it('frees what nothing references any more', async () => {
    let buffer: ArrayBuffer | undefined = new ArrayBuffer(MiB)
    const ref = new WeakRef(buffer)
    buffer = undefined
    // A WeakRef holds its target until the current turn of the event loop is over.
    await nextTurn()
    collectGarbage()
    expect(ref.deref()).toBeUndefined()
  })

  it('with freeBuffers, returns once the dead Buffers are freed', () => {
    // Three times: without the option, V8's helper thread sometimes has freed none of them yet.
    for (let i = 0; i < 3; i++) {
      let held: Buffer[] | undefined = Array.from({ length: 64 }, () => Buffer.alloc(MiB))
      const before = process.memoryUsage().arrayBuffers
      expect(held).toHaveLength(64)
      held = undefined
      collectGarbage({ freeBuffers: true })
      expect(before - process.memoryUsage().arrayBuffers).toBeGreaterThanOrEqual(60 * MiB)
    }
  })
})
