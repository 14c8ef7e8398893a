import { createHash, randomBytes } from 'node:crypto'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { MAX_MANIFEST_ENTRIES } from '../src/constants.js'
import { decodeManifest, encodeManifest, ManifestBuilder, walkBlobs, walkChunks, type Manifest, type ManifestEntry } from '../src/manifest.js'

const hex = (n: number): string => createHash('sha256').update(String(n)).digest('hex')

function entries(count: number, chunkSize: number, last = chunkSize): ManifestEntry[] {
  return Array.from({ length: count }, (_, i) => ({ id: hex(i), key: hex(-i - 1), size: i === count - 1 ? last : chunkSize }))
}

/** A builder whose children are kept in a map instead of being encrypted. */
function memoryBuilder(chunkSize: number): { builder: ManifestBuilder; children: Map<string, Manifest> } {
  const children = new Map<string, Manifest>()
  let n = 0
  const builder = new ManifestBuilder(chunkSize, (json) => {
    const id = hex(1e9 + n++)
    children.set(id, decodeManifest(json, { root: false }))
    return Promise.resolve({ id, key: hex(2e9 + n) })
  })
  return { builder, children }
}

describe('manifest encoding', () => {
  it('writes the keys in the documented order', () => {
    const m: Manifest = { v: 1, kind: 'file', size: 5, sha256: hex(1), chunkSize: 4, chunks: entries(2, 4, 1) }
    const text = encodeManifest(m).toString('utf8')
    expect(text.startsWith(`{"v":1,"kind":"file","size":5,"sha256":"${hex(1)}","chunkSize":4,"chunks":[{"id":"${hex(0)}","key":`)).toBe(true)
    expect(decodeManifest(Buffer.from(text), { root: true })).toEqual(m)
  })

  it('rejects inconsistent manifests', () => {
    const good: Manifest = { v: 1, kind: 'file', size: 9, sha256: hex(1), chunkSize: 4, chunks: entries(3, 4, 1) }
    const bad = (patch: Partial<Manifest>, root = true): unknown => {
      try {
        decodeManifest(encodeManifest({ ...good, ...patch }), { root })
        return 'accepted'
      } catch (err) {
        return (err as { code: string }).code
      }
    }
    expect(bad({})).toBe('accepted')
    expect(bad({ size: 10 })).toBe('INVALID_MANIFEST')
    expect(bad({ sha256: undefined })).toBe('INVALID_MANIFEST')
    expect(bad({ sha256: undefined }, false)).toBe('accepted')
    expect(bad({ chunks: entries(3, 4, 5), size: 13 })).toBe('INVALID_MANIFEST')
    expect(bad({ chunks: [...entries(1, 3), ...entries(1, 4)], size: 7 })).toBe('INVALID_MANIFEST')
    expect(bad({ kind: 'tree', chunks: [], size: 0 })).toBe('INVALID_MANIFEST')
    expect(() => decodeManifest(Buffer.from('{"v":2}'), { root: true })).toThrow(expect.objectContaining({ code: 'INVALID_MANIFEST' }))
    expect(() => decodeManifest(randomBytes(64), { root: true })).toThrow(expect.objectContaining({ code: 'INVALID_MANIFEST' }))
  })

  it('never throws anything but INVALID_MANIFEST on arbitrary input', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array(), fc.json().map((j) => Buffer.from(j))), (bytes) => {
        try {
          decodeManifest(bytes, { root: true })
        } catch (err) {
          expect((err as { code: string }).code).toBe('INVALID_MANIFEST')
        }
      }),
    )
  })
})

describe('ManifestBuilder', () => {
  it('keeps up to 4096 chunks in one file manifest', async () => {
    const { builder, children } = memoryBuilder(4)
    for (const e of entries(MAX_MANIFEST_ENTRIES, 4)) await builder.add(e)
    const root = await builder.finish(MAX_MANIFEST_ENTRIES * 4, hex(7))
    expect(root.kind).toBe('file')
    expect(root.chunks).toHaveLength(MAX_MANIFEST_ENTRIES)
    expect(children.size).toBe(0)
  })

  it('builds a tree beyond 4096 chunks and walks it back in order, ranges loading only what they need', async () => {
    const count = MAX_MANIFEST_ENTRIES * 2 + 10
    const all = entries(count, 4, 3)
    const { builder, children } = memoryBuilder(4)
    for (const e of all) await builder.add(e)
    const size = (count - 1) * 4 + 3
    const root = await builder.finish(size, hex(7))
    expect(root.kind).toBe('tree')
    expect(root.chunks.map((c) => c.size)).toEqual([MAX_MANIFEST_ENTRIES * 4, MAX_MANIFEST_ENTRIES * 4, 9 * 4 + 3])
    decodeManifest(encodeManifest(root), { root: true })
    const loaded: string[] = []
    const load = (e: ManifestEntry): Promise<Manifest> => {
      loaded.push(e.id)
      return Promise.resolve(children.get(e.id)!)
    }
    const walked = []
    for await (const ref of walkChunks(root, load)) walked.push(ref)
    expect(walked.map((r) => r.entry)).toEqual(all)
    expect(walked.every((r, i) => r.index === i && r.offset === i * 4)).toBe(true)

    loaded.length = 0
    const start = MAX_MANIFEST_ENTRIES * 4 + 6
    const part = []
    for await (const ref of walkChunks(root, load, { start, end: start + 5 })) part.push(ref.index)
    expect(part).toEqual([MAX_MANIFEST_ENTRIES + 1, MAX_MANIFEST_ENTRIES + 2])
    expect(loaded).toEqual([root.chunks[1]!.id])

    const blobs = []
    for await (const b of walkBlobs(root, load)) blobs.push(b)
    expect(blobs.filter((b) => b.kind === 'manifest')).toHaveLength(3)
    expect(blobs.filter((b) => b.kind === 'chunk')).toHaveLength(count)
  })

  it('nests more levels as needed and walks any depth back in order', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 200 }), fc.integer({ min: 2, max: 5 }), async (count, fanout) => {
        const children = new Map<string, Manifest>()
        let n = 0
        const builder = new ManifestBuilder(
          2,
          (json) => {
            const id = hex(1e9 + n++)
            children.set(id, decodeManifest(json, { root: false }))
            return Promise.resolve({ id, key: hex(2e9 + n) })
          },
          fanout,
        )
        const all = entries(count, 2, 1)
        for (const e of all) await builder.add(e)
        const root = await builder.finish(count * 2 - 1, hex(3))
        expect(root.chunks.length).toBeLessThanOrEqual(fanout)
        const walked = []
        for await (const ref of walkChunks(root, (e) => Promise.resolve(children.get(e.id)!), undefined, 64)) walked.push(ref.entry)
        expect(walked).toEqual(all)
      }),
      { numRuns: 60 },
    )
  })

  it('gives an empty file an empty file manifest', async () => {
    const { builder } = memoryBuilder(4)
    const root = await builder.finish(0, hex(0))
    expect(root).toMatchObject({ kind: 'file', size: 0, chunks: [] })
    const walked = []
    for await (const ref of walkChunks(root, () => Promise.reject(new Error('no children')))) walked.push(ref)
    expect(walked).toEqual([])
  })
})
