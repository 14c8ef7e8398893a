import { randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'
import { afterEach, describe, expect, it } from 'vitest'
import { ManualClock } from '../src/clock.js'
import { firstSuccess } from '../src/hedge.js'
import { PeerHealth } from '../src/peer-health.js'
import { systemClock } from '../src/clock.js'
import { FAST_TIMING, FakeCluster, eventually, readAll } from './support/cluster.js'

const CHUNK = 16 * 1024

describe('PeerHealth', () => {
  const timeout = Object.assign(new Error('timed out'), { code: 'TIMEOUT' })

  it('routes around a peer that did not answer, for a period that doubles while it keeps failing', () => {
    const clock = new ManualClock(0)
    const health = new PeerHealth(clock, 1000, 5000)
    expect(health.failed('p', timeout)).toBe(true)
    expect(health.failed('p', timeout)).toBe(false) // requests in flight together fail together: one incident
    expect(health.isDown('p')).toBe(true)
    clock.advance(1000)
    expect(health.isDown('p')).toBe(false)
    expect(health.failed('p', timeout)).toBe(true)
    clock.advance(1999)
    expect(health.isDown('p')).toBe(true)
    clock.advance(1)
    expect(health.isDown('p')).toBe(false)
    health.failed('p', timeout)
    health.answered('p')
    expect(health.isDown('p')).toBe(false)
  })

  it('keeps routing around a peer caught serving wrong bytes, whatever it answers meanwhile', () => {
    const clock = new ManualClock(0)
    const health = new PeerHealth(clock, 1000, 5000)
    health.distrust('liar', 10_000)
    health.answered('liar')
    expect(health.isDown('liar')).toBe(true)
    clock.advance(10_000)
    expect(health.isDown('liar')).toBe(false)
  })

  it('tells a peer being distrusted from one only routed around', () => {
    const clock = new ManualClock(0)
    const health = new PeerHealth(clock, 1000, 5000)
    health.failed('slow', timeout)
    health.distrust('liar', 2000)
    expect([health.isDistrusted('slow'), health.isDistrusted('liar')]).toEqual([false, true])
    clock.advance(2000)
    expect(health.isDistrusted('liar')).toBe(false)
  })

  it('counts only failures where the peer did not answer', () => {
    const health = new PeerHealth(new ManualClock(0), 1000, 5000)
    expect(health.failed('p', Object.assign(new Error('full'), { code: 'FULL', remoteCode: 'FULL' }))).toBe(false)
    expect(health.failed('p', Object.assign(new Error('aborted'), { code: 'ABORTED' }))).toBe(false)
    expect(health.isDown('p')).toBe(false)
    for (const code of ['TIMEOUT', 'DIAL_FAILED', 'CLOSED', 'UNAVAILABLE']) {
      const h = new PeerHealth(new ManualClock(0), 1000, 5000)
      expect(h.failed('p', Object.assign(new Error(code), { code }))).toBe(true)
    }
  })
})

describe('firstSuccess', () => {
  const wait = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

  it('moves on from a failure at once and returns the first success', async () => {
    const order = ['a', 'b', 'c']
    const asked: string[] = []
    const got = await firstSuccess(
      () => order.shift(),
      (c) => {
        asked.push(c)
        return Promise.resolve(c === 'b' ? 'from b' : undefined)
      },
      { clock: systemClock, hedgeAfterMs: 10_000 },
    )
    expect(got).toBe('from b')
    expect(asked).toEqual(['a', 'b'])
  })

  it('starts the next candidate beside one that does not answer, and reports the slow one', async () => {
    const order = ['stuck', 'good']
    const slow: string[] = []
    const got = await firstSuccess(
      () => order.shift(),
      async (c) => {
        if (c === 'stuck') await wait(60_000)
        return `from ${c}`
      },
      { clock: systemClock, hedgeAfterMs: 50, onSlow: (c) => slow.push(c) },
    )
    expect(got).toBe('from good')
    expect(slow).toEqual(['stuck'])
  })

  it('resolves undefined when every candidate fails, and rejects on an abort', async () => {
    const none = ['a', 'b']
    expect(await firstSuccess(() => none.shift(), () => Promise.resolve(undefined), { clock: systemClock, hedgeAfterMs: 1000 })).toBeUndefined()
    const one = ['a']
    await expect(firstSuccess(() => one.shift(), () => Promise.reject(new Error('aborted')), { clock: systemClock, hedgeAfterMs: 1000 })).rejects.toThrow('aborted')
  })
})

describe('a live member that never answers', () => {
  let cluster: FakeCluster | undefined
  afterEach(async () => {
    await cluster?.close()
  })

  it('costs a put one round of timeouts, not one per chunk, and gets read around it', async () => {
    cluster = new FakeCluster()
    for (let i = 0; i < 5; i++) await cluster.add({ chunkSize: CHUNK, putWindow: 4 })
    expect(await eventually(() => cluster!.nodes.every((t) => t.node.peers().filter((p) => p.state === 'alive').length === 4))).toBe(true)
    const [a, b, c] = cluster.nodes
    const staller = cluster.fakeHost(2)
    staller.stalled = true
    const data = randomBytes(CHUNK * 60)
    const put = await a!.node.put(Readable.from([data]), { name: 'f' })
    expect(put.replicas).toBe(3)
    // Only the chunks already in flight when the first timeout came back waited on it.
    const putBlobs = staller.stalledRequests.filter((type) => type === 'put-blob').length
    expect(putBlobs).toBeGreaterThan(0)
    expect(putBlobs).toBeLessThanOrEqual(4)
    const placement = await a!.node.placement(put.address)
    expect(placement.every((p) => !p.holders.includes(c!.node.id) && p.live === 3)).toBe(true)
    const { stream } = await b!.node.get(await a!.node.share('f'), { remoteOnly: true })
    expect((await readAll(stream)).equals(data)).toBe(true)
  })

  it('still asks a peer it routes around when no other node has the blob', async () => {
    cluster = new FakeCluster()
    // A long backoff: the peer stays routed around for the whole test unless it is forgiven.
    const timing = { ...FAST_TIMING, unresponsiveBackoffMs: 10 * 60_000, hedgeAfterMs: 100 }
    for (let i = 0; i < 3; i++) await cluster.add({ chunkSize: CHUNK, replicas: 1, timing })
    expect(await eventually(() => cluster!.nodes.every((t) => t.node.peers().filter((p) => p.state === 'alive').length === 2))).toBe(true)
    const [a, b] = cluster.nodes
    const data = randomBytes(CHUNK * 20)
    const put = await a!.node.put(Readable.from([data]), { name: 'f' })
    const cap = await a!.node.share('f')
    // b's requests to a time out while a is stalled: b routes around a from then on.
    const host = cluster.fakeHost(0)
    host.stalled = true
    await b!.node
      .get(cap, { remoteOnly: true })
      .then(({ stream }) => readAll(stream))
      .catch(() => undefined)
    host.stalled = false
    // Some blobs are on a alone (one replica, the putter keeps its copy): the get must still ask it.
    const onlyOnA = (await a!.node.placement(put.address)).filter((p) => p.holders.length === 1 && p.holders[0] === a!.node.id)
    expect(onlyOnA.length).toBeGreaterThan(0)
    const { stream } = await b!.node.get(cap, { remoteOnly: true })
    expect((await readAll(stream)).equals(data)).toBe(true)
  })

  it('costs a put and a get the hedge delay, not a request timeout, when it never answers at all', async () => {
    cluster = new FakeCluster()
    const timing = { ...FAST_TIMING, hedgeAfterMs: 300 }
    for (let i = 0; i < 5; i++) await cluster.add({ chunkSize: CHUNK, putWindow: 4, timing })
    expect(await eventually(() => cluster!.nodes.every((t) => t.node.peers().filter((p) => p.state === 'alive').length === 4))).toBe(true)
    const [a, b] = cluster.nodes
    const data = randomBytes(CHUNK * 30)
    const put = await a!.node.put(Readable.from([data]), { name: 'f' })
    // The staller joins the holders only now: b's get must get past it.
    const placement = await a!.node.placement(put.address)
    // The node b asks first for the most blobs (other than the putter): b's get must meet it.
    const firstAsked = new Map<string, number>()
    for (const p of placement) {
      const first = p.holders.find((h) => h !== b!.node.id)!
      if (first !== a!.node.id) firstAsked.set(first, (firstAsked.get(first) ?? 0) + 1)
    }
    const stallerId = [...firstAsked].sort((x, y) => y[1] - x[1])[0]![0]
    const staller = cluster.nodes.find((t) => t.node.id === stallerId)!
    const host = cluster.fakeHost(cluster.nodes.indexOf(staller))
    host.stallMs = 10 * 60_000 // never, as far as this test goes
    host.stalled = true
    const { stream } = await b!.node.get(await a!.node.share('f'), { remoteOnly: true })
    expect((await readAll(stream)).equals(data)).toBe(true)
    // The get is done while the staller still sits on requests: nobody waited for their timeouts.
    expect(host.stalledRequests).toContain('get-blob')
    expect(host.stalledPending).toBeGreaterThan(0)
    const again = await a!.node.put(Readable.from([randomBytes(CHUNK * 30)]))
    expect(again.replicas).toBe(3)
  })
})

describe('a peer cut off by the network', () => {
  let cluster: FakeCluster | undefined
  afterEach(async () => {
    await cluster?.close()
  })

  it('has its connection dropped once it is dead, and is no longer routed around once it is back', async () => {
    cluster = new FakeCluster()
    // A long backoff: without the pardon on its return, the peer would stay routed around for the whole test.
    const timing = { ...FAST_TIMING, unresponsiveBackoffMs: 10 * 60_000 }
    for (let i = 0; i < 5; i++) await cluster.add({ chunkSize: CHUNK, timing })
    expect(await eventually(() => cluster!.nodes.every((t) => t.node.peers().filter((p) => p.state === 'alive').length === 4))).toBe(true)
    const [a, b, , , e] = cluster.nodes
    await a!.node.put(Readable.from([randomBytes(CHUNK * 20)]), { name: 'f' })
    const cap = await a!.node.share('f')
    const onE = (holders: string[][]): number => holders.filter((h) => h.includes(e!.node.id)).length
    const holdersSeenBy = async (t: typeof b): Promise<string[][]> => (await t!.node.placement(cap)).map((p) => p.holders)
    expect(onE(await holdersSeenBy(b))).toBeGreaterThan(0)

    const cut = cluster.fakeHost(4)
    cut.offline = true
    // b's get meets e's silence (it reads around it) and routes around e from then on.
    const { stream } = await b!.node.get(cap, { remoteOnly: true })
    await readAll(stream)
    expect(onE(await holdersSeenBy(b))).toBe(0)
    expect(await eventually(() => b!.node.peers().find((p) => p.id === e!.node.id)?.state === 'dead')).toBe(true)
    expect(cluster.fakeHost(1).disconnects).toContain(e!.node.id)

    cut.offline = false
    expect(await eventually(() => b!.node.peers().find((p) => p.id === e!.node.id)?.state === 'alive')).toBe(true)
    expect(onE(await holdersSeenBy(b))).toBeGreaterThan(0)
  })
})
