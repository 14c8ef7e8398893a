import { chmod, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { Throttle } from '../src/throttle.js'
import type { ThrottleTiming } from '../src/throttle.js'
import { blob, listAll, names, pseudoRandom, rejectsWith, tempStore } from './helpers.js'

const pathOf = (root: string, id: string): string => join(root, 'blobs', id.slice(0, 2), id.slice(2, 4), id)

async function corrupt(root: string, id: string): Promise<void> {
  const path = pathOf(root, id)
  const bytes = await readFile(path)
  bytes[0] = bytes[0]! ^ 0xff
  await chmod(path, 0o644)
  await writeFile(path, bytes)
}

describe('scrub', () => {
  test('re-hashes every blob and moves corrupt ones to quarantine', async () => {
    const store = await tempStore()
    const good = blob(pseudoRandom(3_000_000, 1))
    const bad = blob(pseudoRandom(1000, 2))
    await store.put(good.id, good.bytes)
    await store.put(bad.id, bad.bytes)
    await corrupt(store.root, bad.id)

    const result = await store.scrub({ bytesPerSecond: Infinity })
    expect(result).toEqual({ checked: 2, corrupt: [bad.id], bytes: 3_001_000 })
    expect(await listAll(store)).toEqual([good.id])
    await rejectsWith(store.get(bad.id), 'NOT_FOUND')
    expect(await store.stat()).toMatchObject({ count: 1, bytes: 3_000_000 })
    const quarantined = await names(join(store.root, 'quarantine'))
    expect(quarantined).toHaveLength(1)
    expect(quarantined[0]!.startsWith(`${bad.id}.`)).toBe(true)

    // The good copy can be put again after quarantine.
    expect(await store.put(bad.id, bad.bytes)).toEqual({ stored: true, size: 1000 })
    expect(await store.scrub({ bytesPerSecond: Infinity })).toEqual({ checked: 2, corrupt: [], bytes: 3_001_000 })
  })

  test('logs each quarantined blob', async () => {
    const warnings: object[] = []
    const store = await tempStore({ logger: { info: () => {}, warn: (obj) => warnings.push(obj) } })
    const bad = blob('soon corrupt')
    await store.put(bad.id, bad.bytes)
    await corrupt(store.root, bad.id)
    await store.scrub({ bytesPerSecond: Infinity })
    expect(warnings).toEqual([expect.objectContaining({ blob: bad.id })])
  })

  test('quarantine moves one damaged blob aside at once and leaves an intact one', async () => {
    const store = await tempStore()
    const good = blob(pseudoRandom(5000, 3))
    const bad = blob(pseudoRandom(7000, 4))
    await store.put(good.id, good.bytes)
    await store.put(bad.id, bad.bytes, { pins: [{ owner: 'owner-a', seq: 1 }] })
    await corrupt(store.root, bad.id)

    expect(await store.quarantine(good.id)).toBe(false)
    expect(await store.quarantine(bad.id)).toBe(true)
    expect(await store.quarantine(bad.id)).toBe(false) // gone already
    expect(await listAll(store)).toEqual([good.id])
    expect(await store.stat()).toMatchObject({ count: 1, bytes: 5000 })
    expect(await names(join(store.root, 'quarantine'))).toHaveLength(1)
    // The pins stay: a good copy put back is kept for the same owner.
    expect(await store.put(bad.id, bad.bytes)).toEqual({ stored: true, size: 7000 })
    expect(await store.pins(bad.id)).toEqual([{ owner: 'owner-a', seq: 1 }])
    await rejectsWith(store.quarantine('nope'), 'INVALID_ID')
  })

  test('an abort stops a slow scrub with ABORTED', async () => {
    const store = await tempStore({ scrubBytesPerSecond: 1024 })
    const { id, bytes } = blob(pseudoRandom(64 * 1024))
    await store.put(id, bytes)
    const controller = new AbortController()
    const scrub = store.scrub({ signal: controller.signal })
    setTimeout(() => controller.abort(), 50)
    await rejectsWith(scrub, 'ABORTED')
    await rejectsWith(store.scrub({ signal: AbortSignal.abort() }), 'ABORTED')
    expect(await store.has(id)).toBe(true)
  })

  test('rejects a non-positive rate', async () => {
    const store = await tempStore()
    await rejectsWith(store.scrub({ bytesPerSecond: 0 }), 'INVALID_ARGUMENT')
  })
})

describe('Throttle', () => {
  function fakeTiming(): ThrottleTiming & { slept: number[]; time: number } {
    const timing = {
      time: 0,
      slept: [] as number[],
      now: () => timing.time,
      sleep: (ms: number) => {
        timing.slept.push(ms)
        timing.time += ms
        return Promise.resolve()
      },
    }
    return timing
  }

  test('sleeps exactly enough to hold the average rate', async () => {
    const timing = fakeTiming()
    const throttle = new Throttle(1000, timing)
    await throttle.consume(500)
    await throttle.consume(500)
    expect(timing.slept).toEqual([500, 500])
    expect(timing.time).toBe(1000)
  })

  test('does not sleep when the work itself is slower than the rate', async () => {
    const timing = fakeTiming()
    const throttle = new Throttle(1000, timing)
    timing.time += 600
    await throttle.consume(500)
    expect(timing.slept).toEqual([])
  })

  test('a long pause earns at most one second of burst', async () => {
    const timing = fakeTiming()
    const throttle = new Throttle(1000, timing)
    timing.time += 60_000
    await throttle.consume(1000) // resets the schedule
    await throttle.consume(3000)
    expect(timing.slept).toEqual([2000])
  })

  test('an abort during the sleep rejects with ABORTED', async () => {
    const throttle = new Throttle(1)
    const controller = new AbortController()
    const wait = throttle.consume(1000, controller.signal)
    controller.abort()
    await rejectsWith(wait, 'ABORTED')
    expect(() => new Throttle(0)).toThrow(RangeError)
  })
})
