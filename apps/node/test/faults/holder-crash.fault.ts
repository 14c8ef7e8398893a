import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { auditNodes, waitFullyReplicated } from './support/audit.js'
import { Cluster, once } from './support/cluster.js'
import { GiB, Pattern } from './support/pattern.js'
import { size, Story } from './support/story.js'

// Five daemons, three holders per blob. A holder is SIGKILLed while a 1 GiB put streams into the
// network, another while a node reads the file back; the file must come back byte-identical,
// no store may keep a corrupt blob, and repair must bring every blob back to three copies.

const BYTES = Number(process.env.CAS_FAULTS_BIG_BYTES ?? GiB)
const story = new Story('holder killed mid-put and mid-get')
const file = new Pattern('holder-crash', BYTES)
let cluster: Cluster
let address = ''
let capability = ''

beforeAll(async () => {
  cluster = await Cluster.create({ nodes: 5, replicas: 3 })
  await cluster.startAll()
  story.note(`5 daemons on 127.0.0.1, 3 holders per blob, file of ${size(BYTES)} (sha256 ${file.sha256.slice(0, 16)}…)`)
})

afterAll(async () => {
  console.log(story.summary())
  await cluster?.close()
})

describe('a holder dies', () => {
  test('SIGKILL of a holder during a 1 GiB put: the put completes with every blob placed', async () => {
    story.tried(`put ${size(BYTES)} on node 1; SIGKILL node 3 once 40 % is sent`)
    const put = await cluster.put(1, file, {
      name: 'big.bin',
      onProgress: once(0.4 * BYTES, () => {
        story.tried('SIGKILL node 3 (a holder of about 3/5 of the blobs)')
        void cluster.kill(3)
      }),
    })
    expect(put.code, put.stderr).toBe(0)
    expect(put.result!.sha256).toBe(file.sha256)
    expect(put.result!.size).toBe(BYTES)
    address = put.result!.address
    story.survived(
      `put completed: ${address.slice(0, 16)}…, fewest confirmed holders ${put.result!.replicas}${put.result!.warning ? ` (${put.result!.warning})` : ''}`,
    )
    expect(put.result!.replicas).toBe(3)
    // The killed node's store too: a SIGKILL may leave temp files, never a corrupt blob.
    const audits = await auditNodes(cluster, [1, 2, 3, 4, 5])
    story.survived(`no corrupt blob on any disk (node 3 left ${audits.get(3)!.temp.length} temp file(s) behind)`)
    capability = (await cluster.cas(1, ['share', 'big.bin'])).out.trim()
  })

  test('SIGKILL of a holder during a get: the file reads back byte-identical', async () => {
    story.tried('get by capability on node 2; SIGKILL node 4 once 40 % has arrived')
    const get = await cluster.get(2, capability, file, {
      onProgress: once(0.4 * BYTES, () => {
        story.tried('SIGKILL node 4')
        void cluster.kill(4)
      }),
    })
    expect(get.code, get.stderr).toBe(0)
    expect(get.prefixMatches).toBe(true)
    expect(get.bytes).toBe(BYTES)
    expect(get.sha256).toBe(file.sha256)
    story.survived(`get on node 2 returned ${size(get.bytes)}, byte-identical`)
  })

  test('repair brings every blob back to three copies on the nodes left', async () => {
    await cluster.waitForState([1, 2, 5], 3, 'dead')
    await cluster.waitForState([1, 2, 5], 4, 'dead')
    story.note('nodes 1, 2, 5 see nodes 3 and 4 dead')
    const done = await waitFullyReplicated(cluster, 1, [address], [1, 2, 5], 3)
    story.survived(`repair: all ${done.blobs} blobs have 3 good copies on nodes 1, 2, 5 (${(done.ms / 1000).toFixed(0)} s after both were seen dead)`)
    const again = await cluster.get(5, capability, file)
    expect(again.code, again.stderr).toBe(0)
    expect(again.sha256).toBe(file.sha256)
    story.survived('get on node 5 with two of five nodes gone: byte-identical')
  })

  test('the killed holders restart, rejoin and placement settles on all five again', async () => {
    story.tried('restart nodes 3 and 4 on their roots')
    const killed = [cluster.node(3).proc!.pid, cluster.node(4).proc!.pid]
    await cluster.start(3)
    await cluster.start(4)
    await cluster.waitForView([1, 2, 3, 4, 5], 4)
    const audits = await auditNodes(cluster, [3, 4])
    // Temp files are named after their writer's pid: none of the killed daemons' may be left.
    const stale = [...audits.values()].flatMap((a) => a.temp.filter((name) => killed.some((pid) => name.startsWith(`${pid}.`))))
    expect(stale).toEqual([])
    story.survived('nodes 3 and 4 came back: the killed daemons\' temp files are gone, no corrupt blob')
    const done = await waitFullyReplicated(cluster, 1, [address], [1, 2, 3, 4, 5], 3)
    story.survived(`placement over five nodes again: all ${done.blobs} blobs have 3 good copies on their holders (${(done.ms / 1000).toFixed(0)} s)`)
  })
})
