import { randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { CryptoPool } from '@cas/crypto'
import { BodyPool, MIN_POOLED_BODY } from '../src/body-pool.js'
import { eventually, readAll } from './support/cluster.js'
import { RealCluster } from './support/tcp-cluster.js'

const MiB = 1024 * 1024

describe('the body pool', () => {
  it('gives back whole bodies it made for the next body of their size', () => {
    const pool = new BodyPool()
    const first = pool.take(MiB + 16)
    expect(first.byteLength).toBe(MiB + 16)
    pool.give(first)
    expect(pool.spareBytes).toBe(MiB + 16)
    expect(pool.take(MiB).buffer).not.toBe(first.buffer) // another size: new memory
    expect(pool.take(MiB + 16).buffer).toBe(first.buffer)
    expect(pool.spareBytes).toBe(0)
  })

  it('keeps nothing it did not make, no part of a body, nothing twice, nothing small', () => {
    const pool = new BodyPool()
    pool.give(Buffer.allocUnsafeSlow(MiB)) // someone else's memory
    const body = pool.take(MiB)
    pool.give(body.subarray(1)) // a view: its owner may still use the rest
    expect(pool.spareBytes).toBe(0)
    pool.give(body)
    pool.give(body)
    expect(pool.spareBytes).toBe(MiB)
    const small = pool.take(MIN_POOLED_BODY - 1)
    pool.give(small)
    expect(pool.spareBytes).toBe(MiB)
  })

  it('holds a bounded number of spares, and none after clear()', () => {
    const pool = new BodyPool(2)
    const bodies = [pool.take(MiB), pool.take(MiB), pool.take(MiB)]
    for (const b of bodies) pool.give(b)
    expect(pool.spareBytes).toBe(2 * MiB)
    pool.clear()
    expect(pool.spareBytes).toBe(0)
    expect(pool.take(MiB).buffer).not.toBe(bodies[0]!.buffer)
  })
})

describe('received blobs in reused memory', () => {
  let cluster: RealCluster | undefined
  afterEach(async () => {
    vi.restoreAllMocks()
    await cluster?.close()
  })

  it('holders and readers receive or read each blob into the memory of one they are done with, and every byte stays right', async () => {
    const gives = vi.spyOn(BodyPool.prototype, 'give')
    const takes = vi.spyOn(BodyPool.prototype, 'take')
    const recycles = vi.spyOn(CryptoPool.prototype, 'recycle')
    cluster = new RealCluster()
    const chunkSize = 256 * 1024
    for (let i = 0; i < 3; i++) await cluster.add({ chunkSize, replicas: 2 })
    const [a, b, c] = cluster.nodes
    expect(await eventually(() => cluster!.nodes.every((n) => n.node.peers().filter((p) => p.state === 'alive').length === 2))).toBe(true)

    const one = randomBytes(32 * chunkSize)
    const two = randomBytes(32 * chunkSize)
    const first = await a!.node.put(Readable.from([one]), { name: 'one' })
    const capability = await a!.node.share(first.address)
    // Each holder stored what it received and gave the memory back.
    const storedBack = gives.mock.calls.length
    expect(storedBack).toBeGreaterThan(0)

    // b reads the file twice from the others and once from its own store as far as it holds it,
    // while c takes in a second file's blobs.
    const reads = [true, true, false].map(async (remoteOnly) => readAll((await b!.node.get(capability, { remoteOnly })).stream))
    const second = c!.node.put(Readable.from([two]), { name: 'two' })
    for (const got of await Promise.all(reads)) expect(got.equals(one)).toBe(true)
    await second
    const got2 = await a!.node.get(await c!.node.share((await second).address), { remoteOnly: true })
    expect((await readAll(got2.stream)).equals(two)).toBe(true)

    // Memory given back came out again for later blobs: that is the reuse, and the bytes above are right.
    const givenAt = new Map<ArrayBufferLike, number>()
    gives.mock.calls.forEach(([body], i) => {
      if (!givenAt.has(body.buffer)) givenAt.set(body.buffer, gives.mock.invocationCallOrder[i]!)
    })
    const reused = takes.mock.results.filter((r, i) => {
      const at = r.type === 'return' ? givenAt.get((r.value).buffer) : undefined
      return at !== undefined && at < takes.mock.invocationCallOrder[i]!
    })
    expect(gives.mock.calls.length).toBeGreaterThan(storedBack + 32)
    expect(reused.length).toBeGreaterThan(32)

    // Once traffic stops, each node lets go of what it kept: its body pool's spares and the blobs
    // its crypto threads recycle.
    const bodyPools = new Set(gives.mock.contexts as BodyPool[])
    const cryptoPools = new Set(recycles.mock.contexts as CryptoPool[])
    expect([...bodyPools].some((pool) => pool.spareBytes > 0)).toBe(true)
    expect([...cryptoPools].some((pool) => pool.spareBytes > 0)).toBe(true)
    for (const n of cluster.nodes) n.node.dropSpares()
    for (const pool of [...bodyPools, ...cryptoPools]) expect(pool.spareBytes).toBe(0)
  })
})
