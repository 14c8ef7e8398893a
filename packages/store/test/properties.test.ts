import fc from 'fast-check'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { blob, chunked, names, readAll, rejectsWith, tempStore } from './helpers.js'

describe('properties', () => {
  test('put then get returns the bytes, whole and in any range, from buffers or streams', async () => {
    const store = await tempStore()
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 0, maxLength: 20_000 }),
        fc.integer({ min: 1, max: 5000 }),
        fc.boolean(),
        fc.nat(),
        fc.option(fc.nat(), { nil: undefined }),
        async (bytes, pieceSize, asStream, offsetSeed, length) => {
          const { id } = blob(bytes)
          const result = await store.put(id, asStream ? chunked(bytes, pieceSize) : bytes)
          expect(result.size).toBe(bytes.length)
          const whole = await store.get(id)
          expect(whole.equals(bytes)).toBe(true)
          const offset = offsetSeed % (bytes.length + 1)
          const end = length === undefined ? bytes.length : Math.min(bytes.length, offset + length)
          const expected = Buffer.from(bytes.subarray(offset, end))
          expect((await store.get(id, { offset, length })).equals(expected)).toBe(true)
          expect((await readAll(await store.createReadStream(id, { offset, length }))).equals(expected)).toBe(true)
        },
      ),
      { numRuns: 60 },
    )
  })

  test('a blob with any one byte changed is refused and leaves nothing behind', async () => {
    const store = await tempStore()
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 1, maxLength: 20_000 }),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        fc.boolean(),
        async (bytes, indexSeed, flip, asStream) => {
          const { id } = blob(bytes)
          const mutated = Buffer.from(bytes)
          const index = indexSeed % mutated.length
          mutated[index] = mutated[index]! ^ flip
          await rejectsWith(store.put(id, asStream ? chunked(mutated, 4096) : mutated), 'CORRUPT')
          expect(await store.has(id)).toBe(false)
        },
      ),
      { numRuns: 60 },
    )
    expect(await names(join(store.root, 'tmp'))).toEqual([])
    expect(await store.stat()).toMatchObject({ count: 0, bytes: 0 })
  })
})
