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

it('a node whose pass found blobs short while another holder was pushing them says so only until it looks again, soon', async () => {
  cluster = new FakeCluster()
  // The periodic pass is far away: only the recheck of the short blobs can clear the count in time.
  // Pushes are slowed to 64 KiB/s (a blob a second), so every survivor's first pass sees them in progress.
  const timing = { ...FAST_TIMING, repairIntervalMs: 10 * 60_000, repairRecheckMs: 500, repairBytesPerSecond: 64 * 1024 }
  for (let i = 0; i < 5; i++) await cluster.add({ chunkSize: CHUNK, timing })
  expect(await eventually(() => cluster!.nodes.every((t) => t.node.peers().filter((p) => p.state === 'alive').length === 4))).toBe(true)
  const [a] = cluster.nodes
  const put = await a!.node.put(Readable.from([randomBytes(CHUNK * 24)]))
  const placement = await a!.node.placement(put.address)
  // Past the grace period, so the passes the death starts repair at once.
  await new Promise((r) => setTimeout(r, FAST_TIMING.repairGraceMs + 100))
  const victim = cluster.nodes.find((t) => t !== a && placement.some((p) => p.holders.includes(t.node.id)))!
  const alive = cluster.nodes.filter((t) => t !== victim)
  // Every survivor runs a pass when it sees the death; one pusher per blob, so the others find blobs short meanwhile.
  const sawShort = alive.map(() => false)
  alive.forEach((t, i) => t.node.on('repair', (r) => (sawShort[i] ||= r.underReplicated > 0)))
  await victim.node.stop()
  const settled = await eventually(async () => {
    for (const p of placement) if ((await holdersOf(alive, p.blob)) < 3) return false
    return (await Promise.all(alive.map((t) => t.node.status()))).every((s) => s.underReplicated === 0)
  }, 45_000)
  expect(sawShort.filter(Boolean).length).toBeGreaterThan(1)
  expect(settled).toBe(true)
})

it('a pass that leaves recent blobs alone keeps counting those its put left short', async () => {
  cluster = new FakeCluster()
  // The blobs stay within their grace period for the whole test.
  const timing = { ...FAST_TIMING, repairGraceMs: 60_000 }
  for (let i = 0; i < 2; i++) await cluster.add({ chunkSize: CHUNK, timing })
  expect(await eventually(() => cluster!.nodes.every((t) => t.node.peers().filter((p) => p.state === 'alive').length === 1))).toBe(true)
  const [a] = cluster.nodes
  const put = await a!.node.put(Readable.from([randomBytes(CHUNK * 4)]))
  expect(put.replicas).toBe(2)
  const short = (await a!.node.status()).underReplicated
  expect(short).toBeGreaterThan(0)
  const report = await a!.node.repair()
  expect(report.deferred).toBeGreaterThan(0)
  expect((await a!.node.status()).underReplicated).toBe(short)
  expect((await a!.node.list())[0]!.replicas).toBe(2)
})
