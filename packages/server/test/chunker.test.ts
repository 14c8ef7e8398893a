import { Readable } from 'node:stream'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { chunkStream } from '../src/chunker.js'

async function collect(pieces: Uint8Array[], size: number, reuse = false): Promise<Buffer[]> {
  const out: Buffer[] = []
  for await (const c of chunkStream(Readable.from(pieces), size, undefined, { reuse })) out.push(Buffer.from(c))
  return out
}

describe('chunkStream', () => {
  it('cuts any split of the input into fixed chunks with a short last one', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 12 }), fc.integer({ min: 1, max: 97 }), async (pieces, size) => {
        const chunks = await collect(pieces, size)
        const all = Buffer.concat(pieces)
        expect(Buffer.concat(chunks).equals(all)).toBe(true)
        expect(chunks.length).toBe(Math.ceil(all.length / size))
        chunks.forEach((c, i) => {
          if (i < chunks.length - 1) expect(c.length).toBe(size)
          else expect(c.length).toBeGreaterThan(0)
        })
      }),
    )
  })

  it('with reuse, copied chunks share one memory and each is whole until the next is asked for', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 12 }), fc.integer({ min: 1, max: 97 }), async (pieces, size) => {
        expect(Buffer.concat(await collect(pieces, size, true)).equals(Buffer.concat(pieces))).toBe(true)
      }),
    )
    const memories = new Set<ArrayBufferLike>()
    const seen: number[][] = []
    // Pieces smaller than a chunk: every chunk is a copy, and all of them land in the same memory.
    for await (const c of chunkStream(Readable.from([1, 2, 3, 4, 5].map((v) => Buffer.alloc(1, v))), 2, undefined, { reuse: true })) {
      memories.add(c.buffer)
      seen.push([...c])
    }
    expect(seen).toEqual([[1, 2], [3, 4], [5]])
    expect(memories.size).toBe(1)
  })

  it('yields nothing for an empty stream', async () => {
    expect(await collect([], 4)).toEqual([])
    expect(await collect([new Uint8Array(0)], 4)).toEqual([])
  })

  it('passes aligned whole chunks through without copying', async () => {
    const big = Buffer.alloc(8, 7)
    const out: Buffer[] = []
    for await (const c of chunkStream(Readable.from([big]), 4)) out.push(c)
    expect(out[0]!.buffer).toBe(big.buffer)
  })

  it('rejects a bad chunk size and honours abort', async () => {
    await expect(collect([Buffer.alloc(1)], 0)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
    const ac = new AbortController()
    ac.abort()
    await expect(
      (async () => {
        for await (const _ of chunkStream(Readable.from([Buffer.alloc(4)]), 2, ac.signal)) void _
      })(),
    ).rejects.toMatchObject({ code: 'ABORTED' })
  })
})
