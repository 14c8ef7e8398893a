import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { afterEach, expect, it } from 'vitest'
import { CasNode } from '../src/index.js'
import { readAll } from './support/cluster.js'
import { FakeNetwork } from './support/fake-network.js'
import { MemoryBlobStore } from './support/memory-store.js'

let dir: string
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

it('puts and gets a file of more than 4096 chunks through a tree manifest, ranges across children', async () => {
  dir = await mkdtemp(join(tmpdir(), 'cas-tree-'))
  const net = new FakeNetwork()
  const host = net.createHost(randomBytes(32).toString('hex'), 'k', () => ({ version: 1, addresses: [], capacity: 1e15, used: 0 }))
  const store = new MemoryBlobStore()
  const node = await CasNode.create({ host, store, ownerKey: randomBytes(32), catalogPath: join(dir, 'catalog'), chunkSize: 16, replicas: 1 })
  const data = randomBytes(16 * 4200 + 5)
  const put = await node.put(Readable.from([data]))
  expect(put).toMatchObject({ size: data.length, replicas: 1 })
  const placement = await node.placement(put.address)
  // Root + 2 child manifests + 4201 chunks.
  expect(placement).toHaveLength(1 + 2 + 4201)
  const whole = await node.get(put.address)
  expect((await readAll(whole.stream)).equals(data)).toBe(true)
  const start = 16 * 4090 + 3
  const part = await node.get(put.address, { range: { start, end: start + 200 } })
  expect((await readAll(part.stream)).equals(data.subarray(start, start + 201))).toBe(true)
  await node.delete(put.address)
  expect(await store.stat()).toMatchObject({ count: 0 })
  await node.stop()
})
