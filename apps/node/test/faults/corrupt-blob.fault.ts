import { chmod, open } from 'node:fs/promises'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { auditStore, blobPath, waitFullyReplicated } from './support/audit.js'
import { Cluster, until, type BlobPlacementJson } from './support/cluster.js'
import { MiB, Pattern } from './support/pattern.js'
import { size, Story } from './support/story.js'

// A byte of a stored blob flips on disk (bit rot, a bad sector, a careless admin). The node
// holding it must never hand those bytes to anyone, readers must still get the file
// byte-identical, and the damaged copy must be replaced by a good one without anyone asking.

const BYTES = Number(process.env.CAS_FAULTS_BYTES ?? 64 * MiB)
const story = new Story('a byte flipped on disk')
const file = new Pattern('corrupt-blob', BYTES)
const ALL = [1, 2, 3, 4]
let cluster: Cluster
let address = ''
let capability = ''
let placement: BlobPlacementJson[] = []

/** Flips one byte of a blob file in place, as bit rot would. */
async function flipByte(root: string, id: string, offset: number): Promise<void> {
  const path = blobPath(root, id)
  await chmod(path, 0o644)
  const handle = await open(path, 'r+')
  try {
    const byte = Buffer.alloc(1)
    await handle.read(byte, 0, 1, offset)
    byte[0]! ^= 0x40
    await handle.write(byte, 0, 1, offset)
  } finally {
    await handle.close()
  }
  await chmod(path, 0o444)
}

beforeAll(async () => {
  cluster = await Cluster.create({ nodes: 4, replicas: 3 })
  await cluster.startAll()
  const put = await cluster.put(1, file, { name: 'doc.bin' })
  expect(put.code, put.stderr).toBe(0)
  address = put.result!.address
  capability = (await cluster.cas(1, ['share', 'doc.bin'])).out.trim()
  placement = await cluster.placement(1, address)
  story.note(`4 daemons, ${size(BYTES)} put on node 1 as ${placement.length} blobs, 3 holders each`)
})

afterAll(async () => {
  console.log(story.summary())
  await cluster?.close()
})

describe('bit rot', () => {
  let remote = ''
  let local = ''

  test('a holder with a damaged copy never serves it; the reader gets the file byte-identical', async () => {
    const id = (i: number): string => cluster.node(i).id
    // A chunk node 2 must fetch, and whose first holder in rank order is node 3: node 2 asks node 3 first.
    const target = placement.slice(1).find((p) => p.holders[0] === id(3) && !p.holders.includes(id(2)))
    expect(target, 'no blob ranked node 3 first and left node 2 out').toBeDefined()
    remote = target!.blob
    // A chunk node 1 (the putter) keeps and reads from its own store.
    local = placement.slice(1).find((p) => p.blob !== remote)!.blob
    story.tried(`flip one byte of blob ${remote.slice(0, 12)}… on node 3 (its first holder) and of blob ${local.slice(0, 12)}… on node 1`)
    await flipByte(cluster.node(3).root, remote, 1000)
    await flipByte(cluster.node(1).root, local, 5000)

    const get2 = await cluster.get(2, capability, file)
    expect(get2.code, get2.stderr).toBe(0)
    expect(get2.sha256).toBe(file.sha256)
    // Node 2 re-hashes everything it receives and counts bad bytes: none ever reached it.
    expect(await cluster.metric(2, 'cas_node_corrupt_blobs_total')).toBe(0)
    story.survived('get on node 2: byte-identical, and node 2 never received a corrupt blob (node 3 refused to serve its damaged copy)')

    const get1 = await cluster.get(1, 'doc.bin', file)
    expect(get1.code, get1.stderr).toBe(0)
    expect(get1.sha256).toBe(file.sha256)
    story.survived('get on node 1 (whose own copy is damaged): byte-identical')
  })

  test('the damaged copies are replaced by good ones and replication is whole again', async () => {
    const fixed = await until('the damaged copies to be replaced', 120_000, async () => {
      const on3 = await auditStore(cluster.node(3).root)
      const on1 = await auditStore(cluster.node(1).root)
      return on3.good.has(remote) && on1.good.has(local) && on3.bad.length === 0 && on1.bad.length === 0
    })
    story.survived(`both damaged copies were replaced by verified ones (${(fixed / 1000).toFixed(0)} s)`)
    const done = await waitFullyReplicated(cluster, 1, [address], ALL, 3)
    story.survived(`all ${done.blobs} blobs have 3 good copies on their holders`)
    for (const i of [3, 4]) {
      const get = await cluster.get(i, capability, file)
      expect(get.code, get.stderr).toBe(0)
      expect(get.sha256).toBe(file.sha256)
    }
    story.survived('get on nodes 3 and 4: byte-identical')
  })
})
