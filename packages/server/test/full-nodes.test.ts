import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { openStore, type BlobStore } from '@cas/store'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { isFull } from '../src/index.js'
import { FakeCluster, eventually } from './support/cluster.js'

const CHUNK = 64 * 1024
const CAPACITY = 7 * 1024 * 1024

async function blobsOf(store: BlobStore): Promise<string[]> {
  const out: string[] = []
  for await (const id of store.list()) out.push(id)
  return out.sort()
}

describe('nodes near their capacity', () => {
  let cluster: FakeCluster
  beforeEach(() => {
    cluster = new FakeCluster()
  })
  afterEach(async () => {
    await cluster.close()
  })

  async function smallNode(): Promise<void> {
    const store = await openStore({ root: join(await cluster.scratch(), 'store'), capacity: CAPACITY })
    await cluster.add({ chunkSize: CHUNK, store })
  }

  const everyoneSeesFull = (ids: string[]): boolean =>
    cluster.nodes.every((t) => ids.every((id) => id === t.node.id || t.node.peers().some((p) => p.id === id && p.state === 'alive' && isFull(p.capacity, p.used))))

  it('keep the copies they hold once full, and take no new ones', async () => {
    for (let i = 0; i < 3; i++) await smallNode()
    expect(await eventually(() => cluster.nodes.every((t) => t.node.peers().filter((p) => p.state === 'alive').length === 2))).toBe(true)

    // 100 chunks of 64 KiB fill each 7 MiB node to within its margin (an eighth of 7 MiB).
    const [a] = cluster.nodes
    const put = await a!.node.put(Readable.from([randomBytes(CHUNK * 100)]), { name: 'big.bin' })
    expect(put.replicas).toBe(3)
    const ids = cluster.nodes.map((t) => t.node.id)
    expect(await eventually(() => everyoneSeesFull(ids))).toBe(true)

    // Repair on full nodes drops nothing: each full node is still a holder of what it has.
    const before = await Promise.all(cluster.nodes.map((t) => blobsOf(t.store)))
    for (let round = 0; round < 2; round++) {
      for (const t of cluster.nodes) {
        const report = await t.node.repair()
        expect(report.dropped).toBe(0)
      }
    }
    expect(await Promise.all(cluster.nodes.map((t) => blobsOf(t.store)))).toEqual(before)
    const placement = await a!.node.placement(put.address)
    expect(placement.length).toBeGreaterThan(100)
    for (const p of placement) expect(p).toMatchObject({ live: 3, holders: expect.arrayContaining(ids) as unknown })
    expect((await a!.node.list()).find((f) => f.name === 'big.bin')?.replicas).toBe(3)

    // A new file finds no room on the other nodes, and the warning says so.
    const small = await a!.node.put(Readable.from([randomBytes(CHUNK)]), { name: 'small.bin' })
    expect(small.replicas).toBeLessThan(3)
    expect(small.warning).toMatch(/3 of the 3 live nodes are full/)
    for (const t of cluster.nodes.slice(1)) expect(await t.store.has(small.address)).toBe(false)
  }, 60_000)
})
