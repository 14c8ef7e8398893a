import { randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'
import { afterEach, describe, expect, it } from 'vitest'
import { ManualClock } from '../src/clock.js'
import { PeerHealth } from '../src/peer-health.js'
import { FakeCluster, eventually, readAll } from './support/cluster.js'

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
})
