import { randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'
import { afterEach, expect, it } from 'vitest'
import { FakeCluster, eventually, readAll } from './support/cluster.js'

const CHUNK = 16 * 1024
let cluster: FakeCluster | undefined

afterEach(async () => {
  await cluster?.close()
})

it('a node that caught a peer serving wrong bytes stops asking it for blobs and stops giving it any', async () => {
  cluster = new FakeCluster()
  for (let i = 0; i < 5; i++) await cluster.add({ chunkSize: CHUNK })
  expect(await eventually(() => cluster!.nodes.every((t) => t.node.peers().filter((p) => p.state === 'alive').length === 4))).toBe(true)
  const b = cluster.nodes[1]
  const data = randomBytes(CHUNK * 20)
  const put = await b!.node.put(Readable.from([data]), { name: 'f' })
  // The liar: the first holder b itself is not, among b's holders.
  const [root] = await b!.node.placement(put.address)
  const liarId = root!.holders.find((h) => h !== b!.node.id)!
  const liar = cluster.nodes.find((t) => t.node.id === liarId)!
  cluster.fakeHost(cluster.nodes.indexOf(liar)).tamper = (type, body) => {
    if (type !== 'get-blob' || body === undefined) return body
    const bad = Buffer.from(body)
    bad[0]! ^= 1
    return bad
  }
  const { stream } = await b!.node.get('f', { remoteOnly: true })
  expect((await readAll(stream)).equals(data)).toBe(true)
  expect(b!.node.metrics.corruptBlobs).toBeGreaterThan(0)

  // In b's view the liar holds nothing any more, and a second read never asks it.
  expect((await b!.node.placement('f')).every((p) => !p.holders.includes(liarId))).toBe(true)
  const reports = b!.node.metrics.corruptBlobs
  const again = await b!.node.get('f', { remoteOnly: true })
  expect((await readAll(again.stream)).equals(data)).toBe(true)
  expect(b!.node.metrics.corruptBlobs).toBe(reports)
  // New files from b never go to it.
  const before = await liar.store.stat()
  await b!.node.put(Readable.from([randomBytes(CHUNK * 20)]))
  expect((await liar.store.stat()).count).toBe(before.count)
})
