import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { auditNodes, waitFullyReplicated } from './support/audit.js'
import { Cluster } from './support/cluster.js'
import { floodAfterHandshake, floodBeforeHandshake, floodMessages, refusedFromRogueHost } from './support/flooder.js'
import { MiB, Pattern } from './support/pattern.js'
import { RoguePeer, SilentListener } from './support/rogue-peer.js'
import { size, Story } from './support/story.js'

// Peers that hold the network key (or just reach the port) and misbehave: one lies (confirms
// every blob, serves wrong bytes), one stalls (takes every request, answers none) next to a
// listener that never finishes a handshake, one floods (garbage frames of the largest size,
// before and after the handshake, and valid messages of the largest size as fast as it can).
// Honest readers must always get the file byte-identical, no store may keep a bad blob, and
// once the rogue is gone every blob is back on three honest holders.

const BYTES = Number(process.env.CAS_FAULTS_BYTES ?? 64 * MiB)
const ALL = [1, 2, 3, 4]
const story = new Story('rogue peers')
let cluster: Cluster
let networkKey: Buffer

beforeAll(async () => {
  cluster = await Cluster.create({ nodes: 4, replicas: 3 })
  await cluster.startAll()
  networkKey = Buffer.from((await readFile(join(cluster.dir, 'network.key'), 'utf8')).trim(), 'hex')
  story.note(`4 daemons on 127.0.0.1, 3 holders per blob, files of ${size(BYTES)}; the rogues run on 127.0.0.1 too`)
})

afterAll(async () => {
  console.log(story.summary())
  await cluster?.close()
})

/** Peak RSS (VmHWM) of node i's daemon, in MiB. */
async function peakRss(i: number): Promise<number> {
  const status = await readFile(`/proc/${cluster.node(i).proc!.pid}/status`, 'utf8')
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]) / 1024
}

describe('a peer that lies', () => {
  const file = new Pattern('liar', BYTES)
  let address = ''

  test('readers get the file byte-identical while a holder serves wrong bytes', async () => {
    const liar = await RoguePeer.start(networkKey, cluster.node(1).listen, 'liar')
    try {
      await cluster.waitForView(ALL, 4)
      story.tried(`a liar joins (confirms every put-blob, claims every blob, serves wrong bytes); put ${size(BYTES)} on node 1`)
      const put = await cluster.put(1, file, { name: 'liar.bin' })
      expect(put.code, put.stderr).toBe(0)
      address = put.result!.address
      expect(liar.stats.putBlob).toBeGreaterThan(0)
      story.note(`the liar was sent ${liar.stats.putBlob} blob(s) and confirmed them all`)
      const capability = (await cluster.cas(1, ['share', 'liar.bin'])).out.trim()
      for (const i of [2, 3, 4]) {
        const get = await cluster.get(i, capability, file)
        expect(get.code, get.stderr).toBe(0)
        expect(get.sha256).toBe(file.sha256)
      }
      const caught = (await Promise.all([2, 3, 4].map((i) => cluster.metric(i, 'cas_node_corrupt_blobs_total')))).reduce((a, b) => a + b)
      expect(liar.stats.getBlob).toBeGreaterThan(0)
      expect(caught).toBeGreaterThan(0)
      story.survived(`gets on nodes 2, 3, 4 byte-identical; the liar served ${liar.stats.getBlob} wrong blob(s), every one caught (${caught} reports)`)
    } finally {
      await liar.stop()
    }
  })

  test('once the liar is gone, every blob is back on three honest holders', async () => {
    const done = await waitFullyReplicated(cluster, 1, [address], ALL, 3)
    story.survived(`the liar left: all ${done.blobs} blobs have 3 good copies on honest holders (${(done.ms / 1000).toFixed(0)} s)`)
  })
})

describe('a peer that stalls', () => {
  const file = new Pattern('staller', BYTES)
  let address = ''

  test('puts and gets complete while a live member never answers and another never finishes a handshake', async () => {
    const staller = await RoguePeer.start(networkKey, cluster.node(1).listen, 'staller')
    const silent = await SilentListener.start()
    staller.advertise({ id: 'ab'.repeat(32), addresses: [silent.address], capacity: Number.MAX_SAFE_INTEGER, used: 0 })
    try {
      await cluster.waitForView(ALL, 5)
      story.tried(`a staller joins (gossips, takes every request, never answers) and vouches for a listener that accepts and never speaks; put ${size(BYTES)} on node 1`)
      const started = Date.now()
      const put = await cluster.put(1, file, { name: 'staller.bin' })
      expect(put.code, put.stderr).toBe(0)
      address = put.result!.address
      expect(put.result!.replicas).toBe(3)
      story.survived(
        `put completed in ${((Date.now() - started) / 1000).toFixed(0)} s with 3 confirmed holders per blob; the staller was sent ${staller.stats.putBlob} blob(s), the silent listener held ${silent.held} connection(s)`,
      )
      const capability = (await cluster.cas(1, ['share', 'staller.bin'])).out.trim()
      const getStarted = Date.now()
      const get = await cluster.get(3, capability, file)
      expect(get.code, get.stderr).toBe(0)
      expect(get.sha256).toBe(file.sha256)
      story.survived(`get on node 3 byte-identical in ${((Date.now() - getStarted) / 1000).toFixed(0)} s`)
    } finally {
      await staller.stop()
      await silent.stop()
    }
  })

  test('once the staller is gone, every blob is on three holders', async () => {
    const done = await waitFullyReplicated(cluster, 1, [address], ALL, 3)
    story.survived(`all ${done.blobs} blobs have 3 good copies on their holders (${(done.ms / 1000).toFixed(0)} s)`)
  })
})

describe('a peer that floods', () => {
  const file = new Pattern('flood', BYTES)

  test('garbage frames and max-size messages do not stop honest traffic', async () => {
    const rssBefore = await Promise.all(ALL.map(peakRss))
    story.tried('flood node 1 with max-size garbage frames instead of a handshake (30 connections)')
    const raw = floodBeforeHandshake(cluster.node(1).listen, 30)
    story.tried('flood node 2 with max-size garbage frames after completing the handshake (10 connections)')
    const framed = floodAfterHandshake(networkKey, cluster.node(2).listen, 10)
    story.tried('flood node 3 with valid max-size messages (4 MiB put-blobs of garbage, unknown one-way types), 16 in flight for 20 s')
    const messages = floodMessages(networkKey, cluster.node(3).listen, 20_000)
    story.tried(`meanwhile put ${size(BYTES)} on node 4 and read it back on node 1`)
    const put = await cluster.put(4, file, { name: 'flood.bin' })
    expect(put.code, put.stderr).toBe(0)
    const capability = (await cluster.cas(4, ['share', 'flood.bin'])).out.trim()
    const get = await cluster.get(1, capability, file)
    expect(get.code, get.stderr).toBe(0)
    expect(get.sha256).toBe(file.sha256)
    story.survived('honest put on node 4 and get on node 1 during the floods: byte-identical')

    const [r1, r2, r3] = await Promise.all([raw, framed, messages])
    const banned = await refusedFromRogueHost(networkKey, cluster.node(1).listen)
    story.note(`garbage before handshake: ${size(r1.bytes)} sent, all ${r1.closedByNode} connection(s) closed by node 1; afterwards even a valid handshake from that address is ${banned ? 'refused (banned)' : 'accepted'}`)
    story.note(`garbage after handshake: ${r2.closedByNode} connection(s) closed by node 2, ${r2.refused} refused${r2.banned ? ' (banned)' : ''}`)
    story.note(`max-size messages: ${r3.sent} sent (${size(r3.bodyBytes)}), answers ${JSON.stringify(r3.answers)}`)
    // Garbage before the handshake says nothing about who sent it, so only an address could be banned,
    // and a loopback one never is: the honest daemons share it.
    expect(banned).toBe(false)
    expect(r2.banned).toBe(true) // a peer that passed the handshake is banned by its id
    expect(r3.answers.ok ?? 0).toBe(0) // not one garbage blob was accepted

    for (const i of ALL) expect(cluster.node(i).running, `node ${i} died`).toBe(true)
    await auditNodes(cluster, ALL)
    const rssAfter = await Promise.all(ALL.map(peakRss))
    story.survived(
      `all daemons up, no garbage on any disk; peak RSS per daemon ${rssAfter.map((m, k) => `${m.toFixed(0)} MiB (was ${rssBefore[k]!.toFixed(0)})`).join(', ')}`,
    )
    for (const mib of rssAfter) expect(mib).toBeLessThan(1024)
    const done = await waitFullyReplicated(cluster, 4, ['flood.bin'], ALL, 3)
    story.survived(`all ${done.blobs} blobs of the file have 3 good copies on their holders`)
  })
})
