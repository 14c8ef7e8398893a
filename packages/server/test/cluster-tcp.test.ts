import { createHash, randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'
import { generateKeyPair } from '@cas/crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eventually } from './support/cluster.js'
import { RealCluster, type RealNode } from './support/tcp-cluster.js'

/*
 * Five nodes over real TCP on 127.0.0.1 with the real store and transport:
 * a 64 MiB file put on A is read back byte-identical on every other node by
 * capability; then A and one more holder are stopped, the file still reads
 * and repair brings every blob back to 3 live copies.
 */

const SIZE = 64 * 1024 * 1024

/** A deterministic 64 MiB source in 1 MiB pieces, so the test never holds the whole file. */
function source(seed: number): Readable {
  let i = 0
  return new Readable({
    read() {
      if (i * 1024 * 1024 >= SIZE) return void this.push(null)
      const piece = Buffer.alloc(1024 * 1024)
      const h = createHash('sha256').update(`${seed}:${i++}`).digest()
      for (let at = 0; at < piece.length; at += 32) h.copy(piece, at)
      piece.writeUInt32BE(i, 0)
      this.push(piece)
    },
  })
}

async function digestOf(stream: Readable): Promise<{ sha256: string; size: number }> {
  const h = createHash('sha256')
  let size = 0
  for await (const p of stream) {
    h.update(p as Buffer)
    size += (p as Buffer).length
  }
  return { sha256: h.digest('hex'), size }
}

describe('five nodes over TCP', () => {
  const cluster = new RealCluster()
  let expected: string
  let capability: string
  let address: string

  beforeAll(async () => {
    for (let i = 0; i < 5; i++) await cluster.add()
    const joined = await eventually(() => cluster.nodes.every((r) => r.node.peers().filter((p) => p.state === 'alive').length === 4))
    expect(joined).toBe(true)
    expected = (await digestOf(source(1))).sha256
  })
  afterAll(async () => {
    await cluster.close()
  })

  it('puts 64 MiB on A and reads it byte-identical on every other node, each blob on >= 3 nodes', async () => {
    const [a, ...others] = cluster.nodes as [RealNode, ...RealNode[]]
    const put = await a.node.put(source(1), { name: 'big' })
    expect(put).toMatchObject({ size: SIZE, sha256: expected, replicas: 3 })
    address = put.address
    capability = await a.node.share(put.address)
    for (const r of others) {
      const { stream } = await r.node.get(capability)
      expect(await digestOf(stream)).toEqual({ sha256: expected, size: SIZE })
    }
    const placement = await a.node.placement(address)
    expect(placement).toHaveLength(65)
    for (const p of placement) {
      let copies = 0
      for (const r of cluster.nodes) if (await r.store.has(p.blob)) copies++
      expect(copies).toBeGreaterThanOrEqual(3)
      expect(new Set(p.holders).size).toBe(3)
    }
  })

  it('survives losing A and another holder, and repairs to 3 live copies', async () => {
    const [a] = cluster.nodes as [RealNode]
    const placement = await a.node.placement(address)
    const blobs = placement.map((p) => p.blob)
    // The node holding the most blobs besides A.
    const counts = new Map<string, number>()
    for (const p of placement) for (const h of p.holders) if (h !== a.node.id) counts.set(h, (counts.get(h) ?? 0) + 1)
    const victimId = [...counts].sort((x, y) => y[1] - x[1])[0]![0]
    const victim = cluster.nodes.find((r) => r.node.id === victimId)!
    await cluster.kill(a)
    await cluster.kill(victim)
    // The 60 s for repair count from the kill, the get below included.
    const killedAt = Date.now()
    const survivors = cluster.live()
    expect(survivors).toHaveLength(3)

    const { stream } = await survivors[0]!.node.get(capability)
    expect(await digestOf(stream)).toEqual({ sha256: expected, size: SIZE })

    // With three live nodes left, every one of them must end up holding every blob.
    const repaired = await eventually(async () => {
      for (const id of blobs) for (const r of survivors) if (!(await r.store.has(id))) return false
      return true
    }, 60_000 - (Date.now() - killedAt))
    expect(repaired).toBe(true)
    const status = await eventually(async () => (await Promise.all(survivors.map((r) => r.node.status()))).every((s) => s.underReplicated === 0), 20_000)
    expect(status).toBe(true)
    const { stream: again } = await survivors[2]!.node.get(capability)
    expect(await digestOf(again)).toEqual({ sha256: expected, size: SIZE })
  })
})

describe('network key', () => {
  const cluster = new RealCluster()
  afterAll(async () => {
    await cluster.close()
  })

  it('a node with another network key can neither join nor read', async () => {
    const a = await cluster.add()
    const b = await cluster.add()
    expect(await eventually(() => a.node.peers().length === 1)).toBe(true)
    const put = await a.node.put(Readable.from([randomBytes(100_000)]))
    const cap = await a.node.share(put.address)

    const outsider = await cluster.add({ networkKey: randomBytes(32), bootstrap: a.node.addresses })
    // Give it a few gossip rounds to try.
    await new Promise((r) => setTimeout(r, 1000))
    expect(outsider.node.peers()).toEqual([])
    expect(a.node.peers().map((p) => p.id)).toEqual([b.node.id])
    expect(b.node.peers().map((p) => p.id)).toEqual([a.node.id])
    await expect(outsider.node.get(cap)).rejects.toMatchObject({ code: 'UNAVAILABLE' })
  })
})

describe('restart', () => {
  const cluster = new RealCluster()
  afterAll(async () => {
    await cluster.close()
  })

  it('a node that dies is declared dead, and rejoins under the same id when it restarts', async () => {
    const a = await cluster.add()
    const b = await cluster.add()
    const staticKey = generateKeyPair()
    const c = await cluster.add({ staticKey })
    const stateOn = (r: RealNode, id: string): string | undefined => r.node.peers().find((p) => p.id === id)?.state
    expect(await eventually(() => stateOn(a, c.node.id) === 'alive' && stateOn(b, c.node.id) === 'alive')).toBe(true)
    const id = c.node.id
    await cluster.kill(c)
    expect(await eventually(() => stateOn(a, id) === 'dead' && stateOn(b, id) === 'dead')).toBe(true)
    const again = await cluster.add({ staticKey, bootstrapIndex: 1 })
    expect(again.node.id).toBe(id)
    expect(await eventually(() => stateOn(a, id) === 'alive' && stateOn(b, id) === 'alive' && again.node.peers().length === 2)).toBe(true)
  })
})
