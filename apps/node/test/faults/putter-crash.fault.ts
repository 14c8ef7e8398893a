import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { auditNodes, waitFullyReplicated } from './support/audit.js'
import { Cluster, once, until } from './support/cluster.js'
import { MiB, Pattern } from './support/pattern.js'
import { size, Story } from './support/story.js'

// The node a file is being put on dies mid-put (SIGKILL) and restarts on the same root: no
// node may show any part of the file, the stores hold no corrupt blob, what the put had placed is
// released everywhere, and the same put retried succeeds and reads back byte-identical everywhere.

const BYTES = Number(process.env.CAS_FAULTS_BYTES ?? 256 * MiB)
const story = new Story('putting node killed mid-put')
const file = new Pattern('putter-crash', BYTES)
const ALL = [1, 2, 3, 4]
let cluster: Cluster
let before = new Map<number, Set<string>>()

beforeAll(async () => {
  cluster = await Cluster.create({ nodes: 4, replicas: 3 })
  await cluster.startAll()
  story.note(`4 daemons on 127.0.0.1, 3 holders per blob, file of ${size(BYTES)}`)
})

afterAll(async () => {
  console.log(story.summary())
  await cluster?.close()
})

describe('the putting node dies', () => {
  test('SIGKILL mid-put: the put fails and no node shows the file', async () => {
    story.tried(`put ${size(BYTES)} on node 1; SIGKILL node 1 itself once half is sent`)
    const put = await cluster.put(1, file, {
      name: 'movie.bin',
      onProgress: once(0.5 * BYTES, () => void cluster.kill(1)),
    })
    expect(put.code).not.toBe(0)
    story.survived(`the CLI reported the failure (exit ${put.code}): ${put.stderr.trim().split('\n').pop()}`)
    // What the put had placed, on the disks as the kill left them (node 1's too).
    before = new Map([...(await auditNodes(cluster, ALL))].map(([i, a]) => [i, a.good]))
    const placed = new Set([...before.values()].flatMap((ids) => [...ids]))
    expect(placed.size).toBeGreaterThan(0)

    story.tried('restart node 1 on the same root')
    const killed = cluster.node(1).proc!.pid
    await cluster.start(1)
    await cluster.waitForView(ALL, 3)
    for (const i of ALL) {
      const ls = JSON.parse((await cluster.cas(i, ['ls', '--json'])).out) as unknown[]
      expect(ls, `node ${i} lists a file`).toEqual([])
    }
    const missing = await cluster.cas(1, ['get', 'movie.bin'])
    expect(missing.code).toBe(1)
    expect(missing.out).toBe('')
    const audits = await auditNodes(cluster, ALL)
    expect(audits.get(1)!.temp.filter((name) => name.startsWith(`${killed}.`))).toEqual([])
    story.survived('after the restart no node lists or serves the file; no corrupt blob, no temp file of the killed daemon')

    // The put's notes of what it placed outlived it in node 1's catalog: node 1 unpins all of it at
    // its restart, here and on each peer it meets, and nobody else pins it, so every copy goes.
    const ms = await until("the killed put's blobs gone from every store", 60_000, async () =>
      [...(await auditNodes(cluster, ALL)).values()].every((a) => a.good.size === 0),
    )
    story.survived(`the ${placed.size} blobs the killed put had placed were unpinned and collected on every node (${(ms / 1000).toFixed(0)} s after the restarted node saw all peers)`)
  })

  test('the same put retried succeeds and reads back byte-identical on every node', async () => {
    story.tried('put the same file again on node 1')
    const put = await cluster.put(1, file, { name: 'movie.bin' })
    expect(put.code, put.stderr).toBe(0)
    expect(put.result!.sha256).toBe(file.sha256)
    expect(put.result!.replicas).toBe(3)
    const address = put.result!.address
    // The root manifest is written last: before the retry no store held it, so no node could
    // have served a partial file under this address.
    for (const [i, ids] of before) expect(ids.has(address), `node ${i} held the root before the retry`).toBe(false)
    story.survived(`retry stored the file at ${address.slice(0, 16)}…; its root blob existed nowhere before the retry`)

    const capability = (await cluster.cas(1, ['share', 'movie.bin'])).out.trim()
    for (const i of ALL) {
      const get = await cluster.get(i, i === 1 ? 'movie.bin' : capability, file)
      expect(get.code, get.stderr).toBe(0)
      expect(get.sha256).toBe(file.sha256)
    }
    story.survived('get on nodes 1-4: byte-identical')
    const done = await waitFullyReplicated(cluster, 1, [address], ALL, 3)
    story.survived(`all ${done.blobs} blobs have 3 good copies on their holders`)
  })
})
