import fc from 'fast-check'
import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { AlignedBuffers, DIRECT_ALIGNMENT, DIRECT_BUFFER_SIZE, MAX_DIRECT_BUFFERS, probeDirectIo } from '../src/direct-io.js'
import { blobPath } from '../src/id.js'
import { blob, chunked, names, rejectsWith, tempDir, tempStore } from './helpers.js'

const MiB = 1024 * 1024
// Sizes at and around the alignment and the staging buffer size, where the last write is padded.
const edgeSizes = [0, 1, DIRECT_ALIGNMENT - 1, DIRECT_ALIGNMENT, DIRECT_ALIGNMENT + 1, DIRECT_BUFFER_SIZE - 1, DIRECT_BUFFER_SIZE + 1, MiB - 1, MiB, MiB + 16, 2 * DIRECT_BUFFER_SIZE + 1, 3 * MiB + 5]

function bytesOf(size: number, seed: number): Buffer {
  const bytes = Buffer.allocUnsafe(size)
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + seed) & 0xff
  return bytes
}

describe('direct I/O', () => {
  test('staging buffers are of one size, reused, and bounded', () => {
    const pool = new AlignedBuffers(10)
    const taken: Buffer[] = []
    for (let i = 0; i < 10; i++) taken.push(pool.acquire()!)
    expect(taken.every((b) => b.byteLength === DIRECT_BUFFER_SIZE)).toBe(true)
    expect(new Set(taken).size).toBe(10)
    expect(pool.acquire()).toBeUndefined()
    pool.release(taken[3]!)
    expect(pool.acquire()).toBe(taken[3])
  })

  test('the probe leaves no file behind and agrees with the store it opens', async () => {
    const dir = await tempDir()
    const supported = await probeDirectIo(join(dir, 'probe'), new AlignedBuffers(2))
    expect(await readdir(dir)).toEqual([])
    const store = await tempStore()
    // Same filesystem (both under the OS temp dir), so the same answer.
    expect(store.directIo).toBe(supported)
    expect((await tempStore({ directIo: false })).directIo).toBe(false)
  })

  for (const directIo of [true, false]) {
    test(`directIo ${directIo}: blobs at alignment edges come back whole and in ranges, with their exact size on disk`, async () => {
      const store = await tempStore({ directIo })
      for (const [i, size] of edgeSizes.entries()) {
        const bytes = bytesOf(size, i)
        const { id } = blob(bytes)
        // Ready bytes, then the same size again as a stream of odd pieces.
        expect(await store.put(id, bytes)).toMatchObject({ stored: true, size })
        expect((await store.get(id)).equals(bytes)).toBe(true)
        expect((await stat(blobPath(join(store.root, 'blobs'), id))).size).toBe(size)
        // Ranges that start inside a block and cross block and staging-buffer edges.
        for (const [offset, length] of [[DIRECT_ALIGNMENT - 1, 2], [DIRECT_BUFFER_SIZE - 3, 10], [MiB - 3, 10], [size - 1, 5], [5, undefined], [size, undefined]] as const) {
          if (offset < 0 || offset > size) continue
          const expected = bytes.subarray(offset, length === undefined ? size : Math.min(size, offset + length))
          expect((await store.get(id, { offset, length })).equals(expected)).toBe(true)
        }
        const other = bytesOf(size, i + 100)
        const streamed = blob(other)
        // Every empty blob is the same blob.
        expect(await store.put(streamed.id, chunked(other, 4093), { size })).toMatchObject({ stored: size > 0, size })
        expect((await store.get(streamed.id)).equals(other)).toBe(true)
      }
      expect(await store.stat()).toMatchObject({ count: 2 * edgeSizes.length - 1 })
      expect(await names(join(store.root, 'tmp'))).toEqual([])
    })
  }

  test('a corrupt stream written directly leaves nothing behind', async () => {
    const store = await tempStore()
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 2 * MiB + 100 }), fc.integer({ min: 1, max: 200_000 }), async (size, piece) => {
        const bytes = bytesOf(size, size)
        const { id } = blob(bytes)
        bytes[size - 1] = bytes[size - 1]! ^ 1
        await rejectsWith(store.put(id, chunked(bytes, piece)), 'CORRUPT')
        expect(await store.has(id)).toBe(false)
      }),
      { numRuns: 15 },
    )
    expect(await names(join(store.root, 'tmp'))).toEqual([])
  })

  test('more writers than staging buffers, blobs larger than one: the rest are written through the cache, all correct', async () => {
    const store = await tempStore()
    // More writers than buffers; every other blob needs more than one buffer, when none is left free.
    const writers = MAX_DIRECT_BUFFERS + 6
    // Every stream holds back its last piece until all writers have started, so they overlap.
    let started = 0
    let go: () => void = () => {}
    const allStarted = new Promise<void>((resolve) => (go = resolve))
    const blobs = Array.from({ length: writers }, (_, i) => blob(bytesOf((i % 2 === 0 ? MiB : 2 * DIRECT_BUFFER_SIZE + 3) + 7 * i, i)))
    async function* source(bytes: Buffer): AsyncGenerator<Buffer> {
      yield bytes.subarray(0, 1000)
      if (++started === writers) go()
      await allStarted
      yield bytes.subarray(1000)
    }
    const results = await Promise.all(blobs.map(({ id, bytes }) => store.put(id, source(bytes))))
    expect(results.every((r) => r.stored)).toBe(true)
    for (const { id, bytes } of blobs) expect((await store.get(id)).equals(bytes)).toBe(true)
  })
})
