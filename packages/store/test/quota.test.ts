import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { blob, chunked, listAll, names, pseudoRandom, rejectsWith, tempStore } from './helpers.js'

describe('capacity', () => {
  test('ready bytes beyond the capacity are refused before any write', async () => {
    const store = await tempStore({ capacity: 1000 })
    const small = blob(pseudoRandom(600, 1))
    const large = blob(pseudoRandom(600, 2))
    await store.put(small.id, small.bytes)
    const err = await rejectsWith(store.put(large.id, large.bytes), 'FULL')
    expect(err.message).toMatch(/full/)
    expect(await store.has(large.id)).toBe(false)
    expect(await store.stat()).toEqual({ count: 1, bytes: 600, capacity: 1000 })
    // A blob that fits still goes in; exactly full is allowed.
    const fits = blob(pseudoRandom(400, 3))
    await store.put(fits.id, fits.bytes)
    expect(await store.stat()).toEqual({ count: 2, bytes: 1000, capacity: 1000 })
  })

  test('a stream is stopped as soon as it passes the capacity and leaves no half blob', async () => {
    const store = await tempStore({ capacity: 100_000 })
    const big = blob(pseudoRandom(1_000_000))
    let pulled = 0
    async function* counting(): AsyncGenerator<Uint8Array> {
      for await (const piece of chunked(big.bytes, 10_000)) {
        pulled += piece.byteLength
        yield piece
      }
    }
    await rejectsWith(store.put(big.id, counting()), 'FULL')
    expect(pulled).toBeLessThanOrEqual(110_000)
    expect(await listAll(store)).toEqual([])
    expect(await names(join(store.root, 'tmp'))).toEqual([])
    expect(await store.stat()).toMatchObject({ count: 0, bytes: 0 })
  })

  test('a declared size beyond the capacity is refused without reading the stream', async () => {
    const store = await tempStore({ capacity: 10 })
    const { id, bytes } = blob('more than ten bytes')
    let pulled = false
    async function* source(): AsyncGenerator<Uint8Array> {
      await Promise.resolve()
      pulled = true
      yield bytes
    }
    await rejectsWith(store.put(id, source(), { size: bytes.length }), 'FULL')
    expect(pulled).toBe(false)
  })

  test('concurrent puts together cannot overshoot the capacity', async () => {
    const store = await tempStore({ capacity: 250_000 })
    const blobs = Array.from({ length: 5 }, (_, i) => blob(pseudoRandom(100_000, i + 10)))
    const results = await Promise.allSettled(blobs.map((b) => store.put(b.id, chunked(b.bytes, 8192))))
    const stored = results.filter((r) => r.status === 'fulfilled').length
    const full = results.filter((r) => r.status === 'rejected' && (r.reason as { code: string }).code === 'FULL').length
    expect(stored + full).toBe(5)
    expect(stored).toBeLessThanOrEqual(2)
    expect(stored).toBeGreaterThanOrEqual(1)
    const { bytes } = await store.stat()
    expect(bytes).toBe(stored * 100_000)
    expect(await names(join(store.root, 'tmp'))).toEqual([])
  })

  test('re-putting a present blob needs no room, and deleting frees room', async () => {
    const store = await tempStore({ capacity: 100 })
    const a = blob(pseudoRandom(100, 1))
    const b = blob(pseudoRandom(100, 2))
    await store.put(a.id, a.bytes)
    expect(await store.put(a.id, a.bytes)).toEqual({ stored: false, size: 100 })
    await rejectsWith(store.put(b.id, b.bytes), 'FULL')
    await store.delete(a.id)
    expect(await store.put(b.id, b.bytes)).toEqual({ stored: true, size: 100 })
  })

  test('a zero capacity stores only the empty blob', async () => {
    const store = await tempStore({ capacity: 0 })
    const empty = blob('')
    await store.put(empty.id, empty.bytes)
    const one = blob('x')
    await rejectsWith(store.put(one.id, one.bytes), 'FULL')
  })
})
