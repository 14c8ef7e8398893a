import { createHash } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { publicKeyFromPrivate } from '@cas/crypto'
import { MemoryNetwork, memoryTransport } from '@cas/p2p'
import { afterAll, describe, expect, it } from 'vitest'
import { createNode, ManualClock, Placement, type CasNode } from '../src/index.js'
import { MemoryBlobStore } from './support/memory-store.js'

/*
 * Sixty nodes on the in-memory transport with one simulated clock: every
 * node joins through node 0; after 10 simulated seconds of gossip every node
 * knows every other. Node keys are derived from fixed seeds so the placement
 * check below is reproducible.
 */

const N = 60
const seeded = (label: string): Buffer => createHash('sha256').update(label).digest()

/** Lets in-flight messages land: waits until gossip counters stop moving (bounded). */
async function settle(nodes: CasNode[]): Promise<void> {
  let last = -1
  for (let i = 0; i < 200; i++) {
    await new Promise((r) => setTimeout(r, 5))
    const now = nodes.reduce((s, n) => s + n.metrics.gossipReceived + n.metrics.gossipSent, 0)
    if (now === last) return
    last = now
  }
}

describe('sixty simulated nodes', () => {
  const net = new MemoryNetwork()
  const clock = new ManualClock()
  const nodes: CasNode[] = []
  let dir: string

  afterAll(async () => {
    for (const n of nodes) await n.stop().catch(() => {})
    await rm(dir, { recursive: true, force: true })
  })

  it('all know each other within 10 s of simulated time; 10,000 blobs spread within ±15%', async () => {
    dir = await mkdtemp(join(tmpdir(), 'cas-sim-'))
    const networkKey = seeded('network')
    for (let i = 0; i < N; i++) {
      const privateKey = seeded(`node-${i}`)
      const node = await createNode({
        transport: memoryTransport(net),
        store: new MemoryBlobStore(),
        staticKey: { privateKey, publicKey: publicKeyFromPrivate(privateKey) },
        ownerKey: seeded(`owner-${i}`),
        networkKey,
        listen: ['sim:0'],
        bootstrap: nodes[0] ? nodes[0].addresses : [],
        catalogPath: join(dir, `catalog-${i}`),
        clock,
      })
      await node.start()
      nodes.push(node)
    }
    await settle(nodes)

    let seconds = 0
    const everyoneKnowsEveryone = (): boolean => nodes.every((n) => n.peers().filter((p) => p.state === 'alive').length === N - 1)
    while (!everyoneKnowsEveryone() && seconds < 10) {
      clock.advance(1000)
      seconds++
      await settle(nodes)
    }
    expect(everyoneKnowsEveryone()).toBe(true)
    expect(seconds).toBeLessThanOrEqual(10)
    if (process.env.CAS_SIM_REPORT) console.log(`converged after ${seconds} simulated s`)

    // Placement from node 0's view of the network.
    const view = new Placement([{ id: nodes[0]!.id }, ...nodes[0]!.peers().map((p) => ({ id: p.id }))])
    expect(view.size).toBe(N)
    const counts = new Map<string, number>(nodes.map((n) => [n.id, 0]))
    for (let i = 0; i < 10_000; i++) {
      for (const h of view.holders(createHash('sha256').update(`blob-${i}`).digest('hex'), 3)) counts.set(h, counts.get(h)! + 1)
    }
    const mean = (10_000 * 3) / N
    if (process.env.CAS_SIM_REPORT) console.log(`blobs per node: min ${Math.min(...counts.values())}, max ${Math.max(...counts.values())}, mean ${mean}`)
    for (const c of counts.values()) {
      expect(c).toBeGreaterThanOrEqual(mean * 0.85)
      expect(c).toBeLessThanOrEqual(mean * 1.15)
    }
  })
})
