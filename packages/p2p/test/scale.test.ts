import { afterAll, expect, test } from 'vitest'
import type { Host } from '../src/host.js'
import { MemoryNetwork, memoryTransport } from '../src/transports/memory.js'
import { startHost } from './support/hosts.js'

const NODES = 200
const hosts: Host[] = []

afterAll(async () => {
  await Promise.all(hosts.map((h) => h.close()))
})

test(`${NODES} hosts in one process on the memory transport`, async () => {
  const network = new MemoryNetwork()
  for (let i = 0; i < NODES; i++) {
    const h = await startHost(memoryTransport(network), `node${i}:0`)
    h.handle('whoami', (req) => Promise.resolve({ header: { from: h.id, to: req.peer } }))
    hosts.push(h)
  }
  // Each node dials its next three neighbours on a ring: 600 connections.
  await Promise.all(hosts.flatMap((h, i) => [1, 2, 3].map((d) => h.connect(hosts[(i + d) % NODES]!.addresses[0]!))))
  for (const h of hosts) expect(h.connections()).toHaveLength(6)
  // Every node asks its neighbours; responses prove the authenticated ids on both ends.
  const replies = await Promise.all(
    hosts.flatMap((h, i) => [1, 2, 3].map(async (d) => {
      const other = hosts[(i + d) % NODES]!
      const reply = await h.request(other.id, 'whoami', {})
      return reply.header.from === other.id && reply.header.to === h.id
    })),
  )
  expect(replies.every(Boolean)).toBe(true)
  expect(replies).toHaveLength(NODES * 3)
})
