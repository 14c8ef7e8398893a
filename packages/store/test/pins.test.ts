import { readdir, utimes } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { DEFAULT_TOMBSTONE_GRACE_MS } from '../src/index.js'
import { blob, listAll, rejectsWith, reopen, tempDir, tempStore } from './helpers.js'

const ALICE = 'a'.repeat(64)
const BOB = 'b'.repeat(64)

describe('pins', () => {
  test('pin per owner; unpin removes only that owner', async () => {
    const store = await tempStore()
    const { id, bytes } = blob('pinned')
    await store.put(id, bytes)
    expect(await store.isPinned(id)).toBe(false)
    expect(await store.pin(id, ALICE, 1)).toBe(true)
    expect(await store.pin(id, BOB, 7)).toBe(true)
    expect(await store.pins(id)).toEqual([
      { owner: ALICE, seq: 1 },
      { owner: BOB, seq: 7 },
    ])
    expect(await store.unpin(id, ALICE, 2)).toBe(true)
    expect(await store.pins(id)).toEqual([{ owner: BOB, seq: 7 }])
    expect(await store.isPinned(id)).toBe(true)
    expect(await store.unpin(id, BOB, 8)).toBe(true)
    expect(await store.isPinned(id)).toBe(false)
    expect(await store.pins(id)).toEqual([])
  })

  test('pins of one blob do not leak into blobs with a common prefix', async () => {
    const store = await tempStore()
    const a = 'c'.repeat(64)
    const b = 'c'.repeat(63) + 'd'
    await store.pin(a, ALICE, 1)
    expect(await store.pins(b)).toEqual([])
    expect(await store.isPinned(b)).toBe(false)
  })

  test('re-pinning keeps the highest sequence number', async () => {
    const store = await tempStore()
    const { id } = blob('seq')
    expect(await store.pin(id, ALICE, 5)).toBe(true)
    expect(await store.pin(id, ALICE, 3)).toBe(true)
    expect(await store.pins(id)).toEqual([{ owner: ALICE, seq: 5 }])
  })

  test('a tombstone refuses stale pins (ties included) and yields to newer ones', async () => {
    const store = await tempStore({ clock: () => 1_000 })
    const { id } = blob('tombstoned')
    await store.pin(id, ALICE, 1)
    expect(await store.unpin(id, ALICE, 5)).toBe(true)
    expect(await store.tombstone(id, ALICE)).toEqual({ seq: 5, time: 1_000 })
    expect(await store.pin(id, ALICE, 4)).toBe(false)
    expect(await store.pin(id, ALICE, 5)).toBe(false)
    expect(await store.isPinned(id)).toBe(false)
    // Another owner is unaffected by Alice's tombstone.
    expect(await store.pin(id, BOB, 1)).toBe(true)
    // A newer pin wins and clears the tombstone.
    expect(await store.pin(id, ALICE, 6)).toBe(true)
    expect(await store.tombstone(id, ALICE)).toBeUndefined()
    expect(await store.pins(id)).toEqual([
      { owner: ALICE, seq: 6 },
      { owner: BOB, seq: 1 },
    ])
  })

  test('an unpin older than the pin is refused; unpinning an unpinned blob still records a tombstone', async () => {
    const store = await tempStore()
    const { id } = blob('order')
    await store.pin(id, ALICE, 10)
    expect(await store.unpin(id, ALICE, 9)).toBe(false)
    expect(await store.pins(id)).toEqual([{ owner: ALICE, seq: 10 }])
    expect(await store.tombstone(id, ALICE)).toBeUndefined()

    const other = blob('never pinned').id
    expect(await store.unpin(other, BOB, 3)).toBe(true)
    expect(await store.pin(other, BOB, 2)).toBe(false)
    // An older unpin does not move a newer tombstone back.
    expect(await store.unpin(other, BOB, 1)).toBe(true)
    expect((await store.tombstone(other, BOB))?.seq).toBe(3)
  })

  test('tombstones expire after the grace period (collect prunes them)', async () => {
    let now = 1_000_000
    const store = await tempStore({ clock: () => now, tombstoneGraceMs: 60_000 })
    const { id } = blob('grace')
    await store.unpin(id, ALICE, 4)
    now += 59_000
    await store.collect()
    expect(await store.pin(id, ALICE, 3)).toBe(false)
    now += 2_000
    await store.collect()
    expect(await store.tombstone(id, ALICE)).toBeUndefined()
    expect(await store.pin(id, ALICE, 3)).toBe(true)
  })

  test('the default grace period is 7 days', () => {
    expect(DEFAULT_TOMBSTONE_GRACE_MS).toBe(7 * 24 * 3600 * 1000)
  })

  test('pins and tombstones survive a restart', async () => {
    const root = await tempDir()
    const first = await reopen(root)
    const { id, bytes } = blob('durable pins')
    await first.put(id, bytes)
    await first.pin(id, ALICE, 2)
    await first.unpin(id, BOB, 9)
    await first.close()
    const second = await reopen(root)
    expect(await second.pins(id)).toEqual([{ owner: ALICE, seq: 2 }])
    expect((await second.tombstone(id, BOB))?.seq).toBe(9)
  })

  test('validates owners and sequence numbers', async () => {
    const store = await tempStore()
    const { id } = blob('args')
    await rejectsWith(store.pin(id, '', 1), 'INVALID_ARGUMENT')
    await rejectsWith(store.pin(id, 'x'.repeat(300), 1), 'INVALID_ARGUMENT')
    await rejectsWith(store.pin(id, ALICE, -1), 'INVALID_ARGUMENT')
    await rejectsWith(store.unpin(id, ALICE, 1.5), 'INVALID_ARGUMENT')
    await rejectsWith(store.put(id, Buffer.from('args'), { pins: [{ owner: ALICE, seq: -2 }] }), 'INVALID_ARGUMENT')
  })
})

describe('put with pins', () => {
  test('records the pins with the blob, and on a blob already present', async () => {
    const store = await tempStore()
    const { id, bytes } = blob('put pinned')
    expect(await store.put(id, bytes, { pins: [{ owner: ALICE, seq: 1 }] })).toEqual({ stored: true, size: bytes.length, pinned: [true] })
    expect(await store.put(id, bytes, { pins: [{ owner: BOB, seq: 1 }] })).toEqual({ stored: false, size: bytes.length, pinned: [true] })
    expect((await store.pins(id)).map((p) => p.owner)).toEqual([ALICE, BOB])
  })

  test('reports pins refused by tombstones', async () => {
    const store = await tempStore()
    const { id, bytes } = blob('stale push')
    await store.unpin(id, ALICE, 5)
    const result = await store.put(id, bytes, { pins: [{ owner: ALICE, seq: 4 }, { owner: BOB, seq: 1 }] })
    expect(result.pinned).toEqual([false, true])
    expect(await store.pins(id)).toEqual([{ owner: BOB, seq: 1 }])
  })

  test('with requirePin keeps a new blob only when one of its pins is recorded', async () => {
    const store = await tempStore()
    const { id, bytes } = blob('deleted, pushed again')
    await store.unpin(id, ALICE, 5)
    expect(await store.put(id, bytes, { pins: [{ owner: ALICE, seq: 4 }], requirePin: true })).toEqual({ stored: false, size: bytes.length, pinned: [false] })
    expect(await store.has(id)).toBe(false)
    expect(await store.stat()).toMatchObject({ count: 0, bytes: 0 })
    expect(await readdir(join(store.root, 'tmp'))).toEqual([])
    // A pin that is recorded, or one another owner holds already, keeps it.
    expect(await store.put(id, bytes, { pins: [{ owner: ALICE, seq: 4 }, { owner: BOB, seq: 1 }], requirePin: true })).toMatchObject({ stored: true, pinned: [false, true] })
    const other = blob('pinned before its bytes came')
    await store.pin(other.id, BOB, 1)
    await store.unpin(other.id, ALICE, 5)
    expect(await store.put(other.id, other.bytes, { pins: [{ owner: ALICE, seq: 2 }], requirePin: true })).toMatchObject({ stored: true, pinned: [false] })
    await rejectsWith(store.put(id, bytes, { requirePin: true }), 'INVALID_ARGUMENT')
  })
})

describe('collect', () => {
  test('removes exactly the unpinned blobs and updates the counters', async () => {
    const store = await tempStore()
    const kept = blob('kept')
    const dropped = blob('dropped!')
    const unpinned = blob('was pinned')
    for (const b of [kept, dropped, unpinned]) await store.put(b.id, b.bytes)
    await store.pin(kept.id, ALICE, 1)
    await store.pin(unpinned.id, ALICE, 1)
    await store.unpin(unpinned.id, ALICE, 2)
    expect(await store.collect()).toEqual({ removed: 2, bytes: dropped.bytes.length + unpinned.bytes.length })
    expect(await listAll(store)).toEqual([kept.id])
    expect(await store.stat()).toMatchObject({ count: 1, bytes: kept.bytes.length })
    expect(await store.collect()).toEqual({ removed: 0, bytes: 0 })
  })

  test('minAgeMs spares recently written unpinned blobs', async () => {
    let now = Date.now()
    const store = await tempStore({ clock: () => now })
    const old = blob('old')
    const fresh = blob('fresh')
    await store.put(old.id, old.bytes)
    await store.put(fresh.id, fresh.bytes)
    const oldPath = join(store.root, 'blobs', old.id.slice(0, 2), old.id.slice(2, 4), old.id)
    const past = new Date(now - 3_600_000)
    await utimes(oldPath, past, past)
    expect(await store.collect({ minAgeMs: 60_000 })).toEqual({ removed: 1, bytes: 3 })
    expect(await listAll(store)).toEqual([fresh.id])
    now += 120_000
    expect(await store.collect({ minAgeMs: 60_000 })).toEqual({ removed: 1, bytes: 5 })
  })

  test('stops with ABORTED when its signal fires', async () => {
    const store = await tempStore()
    const { id, bytes } = blob('abort collect')
    await store.put(id, bytes)
    await rejectsWith(store.collect({ signal: AbortSignal.abort() }), 'ABORTED')
    expect(await store.has(id)).toBe(true)
  })
})
