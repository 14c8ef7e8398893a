import { randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'
import { afterEach, expect, it } from 'vitest'
import { FAST_TIMING, FakeCluster, eventually, holdersOf } from './support/cluster.js'

const CHUNK = 64 * 1024
let cluster: FakeCluster | undefined

afterEach(async () => {
  await cluster?.close()
})

it('blobs a repair pass left alone as too recent are repaired once their grace is over, not at the next periodic pass', async () => {
  cluster = new FakeCluster()
  // The periodic pass is far away: only the follow-up pass can repair the recent blobs in time.
  const timing = { ...FAST_TIMING, repairIntervalMs: 10 * 60_000, repairGraceMs: 2_000 }
  for (let i = 0; i < 5; i++) await cluster.add({ chunkSize: CHUNK, timing })
  expect(await eventually(() => cluster!.nodes.every((t) => t.node.peers().filter((p) => p.state === 'alive').length === 4))).toBe(true)
  const [a] = cluster.nodes
  const put = await a!.node.put(Readable.from([randomBytes(CHUNK * 12)]))
  const placement = await a!.node.placement(put.address)
  // A holder dies right after the put: the pass its death starts finds every blob still within its grace.
  const victim = cluster.nodes.find((t) => t !== a && placement.some((p) => p.holders.includes(t.node.id)))!
  const deferred: number[] = []
  a!.node.on('repair', (r) => deferred.push(r.deferred))
  await victim.node.stop()
  const alive = cluster.nodes.filter((t) => t !== victim)
  const repaired = await eventually(async () => {
    for (const p of placement) if ((await holdersOf(alive, p.blob)) < 3) return false
    return true
  }, 20_000)
  expect(repaired).toBe(true)
  expect(deferred[0]).toBeGreaterThan(0)
})
