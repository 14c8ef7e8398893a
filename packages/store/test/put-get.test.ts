import { readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { describe, expect, test } from 'vitest'
import { StoreError, isBlobId } from '../src/index.js'
import { blob, chunked, listAll, names, pseudoRandom, readAll, rejectsWith, tempStore } from './helpers.js'

describe('put', () => {
  test('stores ready bytes at the CAS path, read-only, and reports stored', async () => {
    const store = await tempStore()
    const { id, bytes } = blob('hello blob')
    expect(await store.put(id, bytes)).toEqual({ stored: true, size: bytes.length })
    const path = join(store.root, 'blobs', id.slice(0, 2), id.slice(2, 4), id)
    expect(await readFile(path)).toEqual(bytes)
    expect((await stat(path)).mode & 0o777).toBe(0o444)
    expect(await names(join(store.root, 'tmp'))).toEqual([])
  })

  test('a second put of a present blob is a no-op that does not read the source', async () => {
    const store = await tempStore()
    const { id, bytes } = blob('twice')
    await store.put(id, bytes)
    let pulled = false
    async function* source(): AsyncGenerator<Uint8Array> {
      await Promise.resolve()
      pulled = true
      yield bytes
    }
    expect(await store.put(id, source())).toEqual({ stored: false, size: bytes.length })
    expect(pulled).toBe(false)
    expect(await store.stat()).toMatchObject({ count: 1, bytes: bytes.length })
  })

  test('stores from an async iterable of small pieces and from a Readable', async () => {
    const store = await tempStore()
    const big = blob(pseudoRandom(3 * 1024 * 1024 + 17, 7))
    expect(await store.put(big.id, chunked(big.bytes, 10_000))).toEqual({ stored: true, size: big.bytes.length })
    expect((await store.get(big.id)).equals(big.bytes)).toBe(true)

    const other = blob(pseudoRandom(200_000, 9))
    expect(await store.put(other.id, Readable.from(chunked(other.bytes, 65_536)))).toEqual({ stored: true, size: 200_000 })
    expect((await store.get(other.id)).equals(other.bytes)).toBe(true)
  })

  test('stores a source that yields one chunk larger than the IO size', async () => {
    const store = await tempStore()
    const big = blob(pseudoRandom(2.5 * 1024 * 1024, 3))
    async function* once(): AsyncGenerator<Uint8Array> {
      await Promise.resolve()
      yield big.bytes
    }
    await store.put(big.id, once())
    expect((await store.get(big.id)).equals(big.bytes)).toBe(true)
  })

  test('recreates a fan-out directory removed behind its back', async () => {
    const store = await tempStore()
    const { id, bytes } = blob('phoenix')
    await store.put(id, bytes)
    await store.delete(id)
    const { rm } = await import('node:fs/promises')
    await rm(join(store.root, 'blobs', id.slice(0, 2)), { recursive: true })
    expect(await store.put(id, bytes)).toEqual({ stored: true, size: bytes.length })
    expect((await store.get(id)).equals(bytes)).toBe(true)
  })

  test('stores the empty blob', async () => {
    const store = await tempStore()
    const empty = blob('')
    expect(await store.put(empty.id, Buffer.alloc(0))).toEqual({ stored: true, size: 0 })
    expect(await store.get(empty.id)).toEqual(Buffer.alloc(0))
    expect(await store.size(empty.id)).toBe(0)
  })

  test('refuses bytes that do not hash to the id: CORRUPT, nothing kept', async () => {
    const store = await tempStore()
    const { id } = blob('the real bytes')
    await rejectsWith(store.put(id, Buffer.from('other bytes')), 'CORRUPT')
    await rejectsWith(store.put(id, chunked(pseudoRandom(2_000_000), 100_000)), 'CORRUPT')
    expect(await store.has(id)).toBe(false)
    expect(await listAll(store)).toEqual([])
    expect(await names(join(store.root, 'tmp'))).toEqual([])
    expect(await store.stat()).toMatchObject({ count: 0, bytes: 0 })
  })

  test('refuses a source longer or shorter than its declared size', async () => {
    const store = await tempStore()
    const { id, bytes } = blob('declared')
    await rejectsWith(store.put(id, chunked(bytes, 3), { size: bytes.length - 1 }), 'CORRUPT')
    await rejectsWith(store.put(id, chunked(bytes, 3), { size: bytes.length + 1 }), 'CORRUPT')
    await rejectsWith(store.put(id, bytes, { size: 1 }), 'CORRUPT')
    expect(await store.put(id, chunked(bytes, 3), { size: bytes.length })).toEqual({ stored: true, size: bytes.length })
    expect(await names(join(store.root, 'tmp'))).toEqual([])
  })

  test('rejects invalid ids and arguments', async () => {
    const store = await tempStore()
    for (const bad of ['', 'abc', 'A'.repeat(64), 'g'.repeat(64), `${'a'.repeat(64)}/`, '../' + 'a'.repeat(61)]) {
      expect(isBlobId(bad)).toBe(false)
      await rejectsWith(store.put(bad, Buffer.from('x')), 'INVALID_ID')
      await rejectsWith(store.get(bad), 'INVALID_ID')
      await rejectsWith(store.has(bad), 'INVALID_ID')
      await rejectsWith(store.delete(bad), 'INVALID_ID')
      await rejectsWith(store.pin(bad, 'o', 1), 'INVALID_ID')
    }
    const { id, bytes } = blob('x')
    await rejectsWith(store.put(id, bytes, { size: -1 }), 'INVALID_ARGUMENT')
    await rejectsWith(store.put(id, bytes, { size: 1.5 }), 'INVALID_ARGUMENT')
    await expect(store.put(id, 'a string' as unknown as Uint8Array)).rejects.toThrow(TypeError)
    async function* strings(): AsyncGenerator<string> {
      await Promise.resolve()
      yield 'text'
    }
    await expect(store.put(id, strings() as unknown as AsyncIterable<Uint8Array>)).rejects.toThrow(TypeError)
    expect(await names(join(store.root, 'tmp'))).toEqual([])
  })

  test('a signal aborts a put, even while the source stalls, and nothing is kept', async () => {
    const store = await tempStore()
    const { id, bytes } = blob(pseudoRandom(100_000))
    await rejectsWith(store.put(id, bytes, { signal: AbortSignal.abort() }), 'ABORTED')

    const controller = new AbortController()
    let sent = 0
    async function* stalls(): AsyncGenerator<Uint8Array> {
      yield bytes.subarray(0, 50_000)
      sent += 1
      await new Promise(() => {}) // never delivers the rest
    }
    const put = store.put(id, stalls(), { signal: controller.signal })
    while (sent === 0) await new Promise((r) => setImmediate(r))
    controller.abort(new Error('user cancelled'))
    const err = await rejectsWith(put, 'ABORTED')
    expect((err.cause as Error).message).toBe('user cancelled')
    expect(await store.has(id)).toBe(false)
    expect(await names(join(store.root, 'tmp'))).toEqual([])
  })

  test('a failing source fails the put with its error kept as cause', async () => {
    const store = await tempStore()
    const { id } = blob('never complete')
    async function* fails(): AsyncGenerator<Uint8Array> {
      await Promise.resolve()
      yield Buffer.from('never')
      throw new Error('socket reset')
    }
    const err = await rejectsWith(store.put(id, fails()), 'IO')
    expect((err.cause as Error).message).toBe('socket reset')
    expect(await names(join(store.root, 'tmp'))).toEqual([])
  })

  test('verified: bytes the caller hashed itself are stored without a second hash, durable and readable', async () => {
    const store = await tempStore()
    const { id, bytes } = blob(pseudoRandom(3 * 1024 * 1024 + 5, 7))
    expect(await store.put(id, bytes, { verified: true, pins: [{ owner: 'me', seq: 1 }] })).toEqual({ stored: true, size: bytes.length, pinned: [true] })
    expect(await store.get(id)).toEqual(bytes)
    expect(await store.put(id, bytes, { verified: true })).toEqual({ stored: false, size: bytes.length })
    expect(await names(join(store.root, 'tmp'))).toEqual([])
  })

  test('verified applies only to ready bytes: a stream is refused before anything is written', async () => {
    const store = await tempStore()
    const { id, bytes } = blob('streamed')
    await rejectsWith(store.put(id, Readable.from([bytes]), { verified: true }), 'INVALID_ARGUMENT')
    expect(await store.has(id)).toBe(false)
  })
})

describe('get and createReadStream', () => {
  test('read whole blobs and byte ranges', async () => {
    const store = await tempStore()
    const { id, bytes } = blob(pseudoRandom(5000))
    await store.put(id, bytes)
    expect((await store.get(id)).equals(bytes)).toBe(true)
    expect((await store.get(id, { offset: 100 })).equals(bytes.subarray(100))).toBe(true)
    expect((await store.get(id, { offset: 100, length: 50 })).equals(bytes.subarray(100, 150))).toBe(true)
    expect((await store.get(id, { offset: 4990, length: 50 })).equals(bytes.subarray(4990))).toBe(true)
    expect(await store.get(id, { offset: 5000 })).toEqual(Buffer.alloc(0))
    expect(await store.get(id, { offset: 10, length: 0 })).toEqual(Buffer.alloc(0))

    expect((await readAll(await store.createReadStream(id))).equals(bytes)).toBe(true)
    expect((await readAll(await store.createReadStream(id, { offset: 7, length: 3000 }))).equals(bytes.subarray(7, 3007))).toBe(true)
    expect((await readAll(await store.createReadStream(id, { offset: 4000 }))).equals(bytes.subarray(4000))).toBe(true)
    expect(await readAll(await store.createReadStream(id, { offset: 5000 }))).toEqual(Buffer.alloc(0))
  })

  test.each([true, false])('reads into the memory the caller gives (direct I/O %s), and only memory of the right size', async (directIo) => {
    const store = await tempStore({ directIo })
    const { id, bytes } = blob(pseudoRandom(3 * 1024 * 1024 + 5))
    await store.put(id, bytes)
    const asked: number[] = []
    const memory = Buffer.alloc(bytes.byteLength - 100)
    const got = await store.get(id, { offset: 100 }, { allocate: (length) => (asked.push(length), memory) })
    expect(got).toBe(memory)
    expect(got.equals(bytes.subarray(100))).toBe(true)
    expect(asked).toEqual([bytes.byteLength - 100])
    const err = await rejectsWith(store.get(id, undefined, { allocate: (length) => Buffer.alloc(length + 1) }), 'INVALID_ARGUMENT')
    expect(err.message).toContain('allocate')
    // The read that failed left the store as it was.
    expect((await store.get(id)).equals(bytes)).toBe(true)
  })

  test('NOT_FOUND for an absent blob, INVALID_ARGUMENT for a bad range', async () => {
    const store = await tempStore()
    const { id, bytes } = blob('range')
    await rejectsWith(store.get(id), 'NOT_FOUND')
    await rejectsWith(store.createReadStream(id), 'NOT_FOUND')
    await store.put(id, bytes)
    for (const range of [{ offset: 6 }, { offset: -1 }, { offset: 0.5 }, { offset: 0, length: -2 }, { offset: Number.NaN }]) {
      await rejectsWith(store.get(id, range), 'INVALID_ARGUMENT')
      await rejectsWith(store.createReadStream(id, range), 'INVALID_ARGUMENT')
    }
  })

  test('an open stream survives a delete of its blob', async () => {
    const store = await tempStore()
    const { id, bytes } = blob(pseudoRandom(1_000_000))
    await store.put(id, bytes)
    const stream = await store.createReadStream(id)
    expect(await store.delete(id)).toBe(true)
    expect((await readAll(stream)).equals(bytes)).toBe(true)
  })
})

describe('has, size, delete, list, stat', () => {
  test('track presence, sizes and counters', async () => {
    const store = await tempStore({ capacity: 1_000_000 })
    const a = blob('aaa')
    const b = blob('bbbbbb')
    expect(await store.has(a.id)).toBe(false)
    expect(await store.size(a.id)).toBeUndefined()
    await store.put(a.id, a.bytes)
    await store.put(b.id, b.bytes)
    expect(await store.has(a.id)).toBe(true)
    expect(await store.size(b.id)).toBe(6)
    expect(await store.stat()).toEqual({ count: 2, bytes: 9, capacity: 1_000_000 })
    expect(await listAll(store)).toEqual([a.id, b.id].sort())

    expect(await store.delete(a.id)).toBe(true)
    expect(await store.delete(a.id)).toBe(false)
    expect(await store.has(a.id)).toBe(false)
    await rejectsWith(store.get(a.id), 'NOT_FOUND')
    expect(await store.stat()).toEqual({ count: 1, bytes: 6, capacity: 1_000_000 })
    expect(await listAll(store)).toEqual([b.id])
  })

  test('list walks many fan-out directories and skips foreign files', async () => {
    const store = await tempStore()
    const blobs = Array.from({ length: 300 }, (_, i) => blob(`blob number ${i}`))
    const ids = blobs.map((b) => b.id)
    for (let at = 0; at < blobs.length; at += 30) {
      await Promise.all(blobs.slice(at, at + 30).map((b) => store.put(b.id, b.bytes)))
    }
    const { writeFile, mkdir } = await import('node:fs/promises')
    await writeFile(join(store.root, 'blobs', 'README'), 'not a blob')
    await mkdir(join(store.root, 'blobs', 'zz', 'zz'), { recursive: true })
    await writeFile(join(store.root, 'blobs', 'zz', 'zz', 'f'.repeat(64)), 'misplaced')
    expect(await listAll(store)).toEqual(ids.sort())
    expect((await store.stat()).count).toBe(300)
  })

  test('stat reports an infinite capacity by default', async () => {
    const store = await tempStore()
    expect(await store.stat()).toEqual({ count: 0, bytes: 0, capacity: Infinity })
  })

  test('every method fails with CLOSED after close', async () => {
    const store = await tempStore()
    const { id, bytes } = blob('closed')
    await store.put(id, bytes)
    await store.close()
    await store.close() // idempotent
    await rejectsWith(store.put(id, bytes), 'CLOSED')
    await rejectsWith(store.get(id), 'CLOSED')
    await rejectsWith(store.createReadStream(id), 'CLOSED')
    await rejectsWith(store.has(id), 'CLOSED')
    await rejectsWith(store.size(id), 'CLOSED')
    await rejectsWith(store.delete(id), 'CLOSED')
    await rejectsWith(store.stat(), 'CLOSED')
    await rejectsWith(store.pin(id, 'o', 1), 'CLOSED')
    await rejectsWith(store.unpin(id, 'o', 1), 'CLOSED')
    await rejectsWith(store.pins(id), 'CLOSED')
    await rejectsWith(store.isPinned(id), 'CLOSED')
    await rejectsWith(store.collect(), 'CLOSED')
    await rejectsWith(store.scrub(), 'CLOSED')
    await rejectsWith(store.list().next(), 'CLOSED')
    expect(new StoreError('IO', 'x', { cause: 1 })).toMatchObject({ name: 'StoreError', code: 'IO', cause: 1 })
  })
})
