import { randomBytes } from 'node:crypto'
import { afterEach, expect, it, vi } from 'vitest'
import { FakeCluster } from './support/cluster.js'

let cluster: FakeCluster | undefined

afterEach(async () => {
  await cluster?.close()
})

it('a bootstrap peer that keeps refusing (another network key) is dialled less and less often, and status says why', async () => {
  cluster = new FakeCluster()
  const a = await cluster.add()
  const outsider = await cluster.add({ networkKey: randomBytes(32).toString('hex'), bootstrap: a.host.addresses, start: false })
  const dials = vi.spyOn(outsider.host, 'connect')
  await outsider.node.start()
  // bootstrapRetryMs is 300 here: dials at 0, 0.3, 0.9, 2.1 and 4.5 s with the doubling, every 0.3 s without it.
  await new Promise((r) => setTimeout(r, 3_000))
  expect(dials.mock.calls.length).toBeGreaterThanOrEqual(3)
  expect(dials.mock.calls.length).toBeLessThanOrEqual(5)
  const { bootstrap, peers } = await outsider.node.status()
  expect(peers).toBe(0)
  expect(bootstrap).toEqual([{ address: a.host.addresses[0], error: expect.stringMatching(/network key/) as unknown }])
})

it('a bootstrap peer that comes up late is reached, and its failures are forgotten', async () => {
  cluster = new FakeCluster()
  const late = await cluster.add()
  cluster.fakeHost(0).offline = true
  const b = await cluster.add({ bootstrap: late.host.addresses })
  expect((await b.node.status()).bootstrap[0]!.error).toMatch(/no route/)
  // Three failures in: the next dial is 1.2 s after the third.
  await new Promise((r) => setTimeout(r, 1_000))
  cluster.fakeHost(0).offline = false
  await expect.poll(async () => (await b.node.status()).peers, { timeout: 10_000 }).toBe(1)
  expect((await b.node.status()).bootstrap).toEqual([{ address: late.host.addresses[0] }])
})

it('a bootstrap node that comes up after its network formed without it is brought in', async () => {
  cluster = new FakeCluster()
  const seed = await cluster.add()
  cluster.fakeHost(0).offline = true
  // b and c find each other without the seed (c also knows b's address): they are not alone, so
  // only the periodic look at the bootstrap node brings the seed, which knows nobody, in.
  const b = await cluster.add({ bootstrap: seed.host.addresses })
  await cluster.add({ bootstrap: [seed.host.addresses[0]!, b.host.addresses[0]!] })
  await expect.poll(() => b.node.peers().filter((p) => p.state === 'alive').length, { timeout: 5_000 }).toBe(1)
  cluster.fakeHost(0).offline = false
  await expect
    .poll(() => cluster!.nodes.every((t) => t.node.peers().filter((p) => p.state === 'alive').length === 2), { timeout: 10_000 })
    .toBe(true)
})
