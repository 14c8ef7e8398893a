import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { KeyedMutex } from '../src/keyed-mutex.js'
import { blob, chunked, listAll, names, pseudoRandom, tempStore } from './helpers.js'

describe('concurrency', () => {
  test('many simultaneous puts of one blob store it once', async () => {
    const store = await tempStore()
    const { id, bytes } = blob(pseudoRandom(2_000_000))
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) => store.put(id, i % 2 === 0 ? bytes : chunked(bytes, 100_000 + i))),
    )
    expect(results.filter((r) => r.stored)).toHaveLength(1)
    expect(results.every((r) => r.size === bytes.length)).toBe(true)
    expect(await store.stat()).toMatchObject({ count: 1, bytes: bytes.length })
    expect((await store.get(id)).equals(bytes)).toBe(true)
    expect(await names(join(store.root, 'tmp'))).toEqual([])
  })

  test('a put racing a delete ends in a state consistent with the counters', async () => {
    const store = await tempStore()
    const { id, bytes } = blob(pseudoRandom(300_000, 5))
    for (let round = 0; round < 20; round++) {
      await store.put(id, bytes)
      const [deleted, put] = await Promise.all([store.delete(id), store.put(id, chunked(bytes, 50_000))])
      expect(deleted).toBe(true)
      const present = await store.has(id)
      // Either the put landed after the delete (stored) or it saw the blob before the delete.
      expect(present).toBe(put.stored)
      expect(await store.stat()).toMatchObject({ count: present ? 1 : 0, bytes: present ? bytes.length : 0 })
      if (present) expect((await store.get(id)).equals(bytes)).toBe(true)
      await store.delete(id)
    }
  })

  test('a put of a blob that another put stored and a delete removed while it wrote stores it again', async () => {
    const store = await tempStore()
    const { id, bytes } = blob(pseudoRandom(300_000, 9))
    let release: () => void = () => {}
    const held = new Promise<void>((resolve) => (release = resolve))
    async function* slow(): AsyncGenerator<Buffer> {
      yield bytes.subarray(0, 1000)
      await held
      yield bytes.subarray(1000)
    }
    const second = store.put(id, slow())
    // The second put has checked that the blob is absent and is writing when the first lands.
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(await store.put(id, bytes)).toMatchObject({ stored: true })
    expect(await store.delete(id)).toBe(true)
    release()
    expect(await second).toMatchObject({ stored: true, size: bytes.length })
    expect((await store.get(id)).equals(bytes)).toBe(true)
    expect(await store.stat()).toMatchObject({ count: 1, bytes: bytes.length })
  })

  test('readers during a write see nothing or the whole blob, never part of it', async () => {
    const store = await tempStore()
    const { id, bytes } = blob(pseudoRandom(4_000_000, 11))
    const put = store.put(id, chunked(bytes, 64 * 1024))
    let done = false
    void put.then(() => {
      done = true
    })
    let misses = 0
    let hits = 0
    for (let i = 0; i < 10_000 && !(done && hits > 0); i++) {
      try {
        const got = await store.get(id)
        expect(got.equals(bytes)).toBe(true)
        hits += 1
      } catch (err) {
        expect((err as { code: string }).code).toBe('NOT_FOUND')
        misses += 1
      }
    }
    await put
    expect(hits).toBeGreaterThan(0)
    expect(misses + hits).toBeGreaterThan(1)
  })

  test('a collect racing pins never removes a blob that ends up pinned', async () => {
    const store = await tempStore()
    const blobs = Array.from({ length: 40 }, (_, i) => blob(`race ${i}`))
    for (const b of blobs) await store.put(b.id, b.bytes)
    const pinned = blobs.filter((_, i) => i % 2 === 0)
    const [, collected] = await Promise.all([
      Promise.all(pinned.map((b) => store.pin(b.id, 'owner', 1))),
      store.collect(),
    ])
    for (const b of pinned) expect(await store.has(b.id)).toBe(true)
    const left = await listAll(store)
    expect(left.length).toBe(blobs.length - collected.removed)
    expect((await store.stat()).count).toBe(left.length)
  })

  test('close waits for puts in progress', async () => {
    const store = await tempStore()
    const { id, bytes } = blob(pseudoRandom(1_000_000, 4))
    const put = store.put(id, chunked(bytes, 100_000))
    await new Promise((r) => setImmediate(r))
    await store.close()
    expect(await put).toEqual({ stored: true, size: bytes.length })
  })
})

describe('KeyedMutex', () => {
  test('serialises one key in arrival order and lets other keys run', async () => {
    const mutex = new KeyedMutex()
    const order: string[] = []
    let release!: () => void
    const gate = new Promise<void>((r) => {
      release = r
    })
    const first = mutex.run('a', async () => {
      order.push('a1 start')
      await gate
      order.push('a1 end')
    })
    const second = mutex.run('a', () => {
      order.push('a2')
      return Promise.resolve()
    })
    const other = mutex.run('b', () => {
      order.push('b')
      return Promise.resolve()
    })
    await other
    expect(order).toEqual(['a1 start', 'b'])
    release()
    await Promise.all([first, second])
    expect(order).toEqual(['a1 start', 'b', 'a1 end', 'a2'])
    expect(mutex.size).toBe(0)
  })

  test('a failing holder releases the lock', async () => {
    const mutex = new KeyedMutex()
    await expect(mutex.run('k', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom')
    expect(await mutex.run('k', () => Promise.resolve(42))).toBe(42)
    expect(mutex.size).toBe(0)
  })
})
