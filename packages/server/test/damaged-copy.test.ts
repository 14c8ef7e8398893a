import { createHash, randomBytes } from 'node:crypto'
import { chmod, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { FAST_TIMING, FakeCluster, eventually, readAll, type TestNode } from './support/cluster.js'

// A copy that rots on disk (its bytes no longer hash to its id) must never leave the node that
// holds it, and must be replaced by a good copy without anyone asking.

const CHUNK = 64 * 1024
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex')

async function damage(t: TestNode, id: string): Promise<void> {
  const path = join(t.store.root, 'blobs', id.slice(0, 2), id.slice(2, 4), id)
  const bytes = await readFile(path)
  bytes[100]! ^= 0x01
  await chmod(path, 0o644)
  await writeFile(path, bytes)
}

async function intact(t: TestNode, id: string): Promise<boolean> {
  return (await t.store.has(id)) && sha(await t.store.get(id)) === id
}

describe('a copy damaged on disk', () => {
  let cluster: FakeCluster
  beforeEach(() => {
    cluster = new FakeCluster()
  })
  afterEach(async () => {
    await cluster.close()
  })

  async function network(n: number, timing: object = {}): Promise<void> {
    for (let i = 0; i < n; i++) await cluster.add({ chunkSize: CHUNK, timing: { ...FAST_TIMING, repairIntervalMs: 60_000, ...timing } })
    const ok = await eventually(() => cluster.nodes.every((t) => t.node.peers().filter((p) => p.state === 'alive').length === n - 1))
    expect(ok).toBe(true)
  }

  it('is never served to a peer: the holder refuses it, moves it aside and heals it', async () => {
    // Five nodes and 41 blobs: some blob is all but certain (1 - 3e-6) to fit the picture below.
    await network(5)
    const data = randomBytes(CHUNK * 40)
    const [a, b] = cluster.nodes
    const put = await a!.node.put(Readable.from([data]))
    // A blob b must fetch whose first holder (the one b asks first) is not a.
    const target = (await a!.node.placement(put.address)).find((p) => !p.holders.includes(b!.node.id) && p.holders[0] !== a!.node.id)!
    const holder = cluster.nodes.find((t) => t.node.id === target.holders[0])!
    await damage(holder, target.blob)

    const { stream } = await b!.node.get(await a!.node.share(put.address), { remoteOnly: true })
    expect((await readAll(stream)).equals(data)).toBe(true)
    expect(b!.node.metrics.corruptBlobs).toBe(0) // no bad byte ever reached b
    expect(holder.node.metrics.localCorruptBlobs).toBe(1)
    expect(await eventually(() => intact(holder, target.blob))).toBe(true)
    expect(holder.node.metrics.blobsHealed).toBe(1)
  })

  it('is replaced when its own node reads it, and the reader gets good bytes', async () => {
    await network(4)
    const data = randomBytes(CHUNK * 4)
    const [a] = cluster.nodes
    const put = await a!.node.put(Readable.from([data]), { name: 'f' })
    const blob = (await a!.node.placement(put.address))[2]!.blob
    await damage(a!, blob)
    const { stream } = await a!.node.get('f')
    expect((await readAll(stream)).equals(data)).toBe(true)
    expect(await eventually(() => intact(a!, blob))).toBe(true)
    // Still pinned by its owner: the healed copy is kept.
    expect(await a!.store.pins(blob)).toEqual([expect.objectContaining({ owner: a!.node.id })])
  })

  it('is found by the periodic scrub even when nobody reads it, and healed', async () => {
    await network(4, { scrubDelayMs: 200, scrubIntervalMs: 200 })
    const [a] = cluster.nodes
    const put = await a!.node.put(Readable.from([randomBytes(CHUNK * 4)]))
    const target = (await a!.node.placement(put.address))[1]!
    const holder = cluster.nodes.find((t) => t.node.id === target.holders.find((h) => h !== a!.node.id))!
    await damage(holder, target.blob)
    expect(await eventually(() => holder.node.metrics.localCorruptBlobs === 1)).toBe(true)
    // Healed, by the holder's own fetch or, had the others been unreachable just then, by repair.
    expect(await eventually(() => intact(holder, target.blob))).toBe(true)
  })

  it('is fetched again after a while when no good copy is reachable at first', async () => {
    // Repair is kept out of the way (a minute away): only the holder's own retries can heal it.
    await network(4, { scrubDelayMs: 200, scrubIntervalMs: 200, repairDebounceMs: 60_000 })
    const [a] = cluster.nodes
    const put = await a!.node.put(Readable.from([randomBytes(CHUNK * 4)]))
    const target = (await a!.node.placement(put.address))[1]!
    const holder = cluster.nodes.find((t) => t.node.id === target.holders.find((h) => h !== a!.node.id))!
    cluster.fakeHost(cluster.nodes.indexOf(holder)).offline = true
    await damage(holder, target.blob)
    expect(await eventually(() => holder.node.metrics.localCorruptBlobs === 1)).toBe(true)
    // The first fetch has failed (nobody is reachable); the holder comes back before the next try.
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(holder.node.metrics.blobsHealed).toBe(0)
    expect(await holder.store.has(target.blob)).toBe(false)
    cluster.fakeHost(cluster.nodes.indexOf(holder)).offline = false
    expect(await eventually(() => holder.node.metrics.blobsHealed === 1)).toBe(true)
    expect(await intact(holder, target.blob)).toBe(true)
  })
})
