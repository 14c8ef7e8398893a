import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { openStore } from '@cas/store'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { Catalog } from '../src/catalog.js'
import { FAST_TIMING, FakeCluster, eventually, holdersOf, readAll } from './support/cluster.js'

const CHUNK = 64 * 1024
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex')

describe('CasNode on an in-process network', () => {
  let cluster: FakeCluster
  beforeEach(() => {
    cluster = new FakeCluster()
  })
  afterEach(async () => {
    await cluster.close()
  })

  async function network(n: number): Promise<void> {
    for (let i = 0; i < n; i++) await cluster.add({ chunkSize: CHUNK })
    const ok = await eventually(() => cluster.nodes.every((t) => t.node.peers().filter((p) => p.state === 'alive').length === n - 1))
    expect(ok).toBe(true)
  }

  it('puts a file on one node and gets it everywhere by capability, each blob on 3 nodes', async () => {
    await network(5)
    const data = randomBytes(CHUNK * 10 + 123)
    const [a, ...others] = cluster.nodes
    const put = await a!.node.put(Readable.from([data]), { name: 'report.bin' })
    expect(put).toMatchObject({ size: data.length, sha256: sha(data), name: 'report.bin', replicas: 3 })
    expect(put.warning).toBeUndefined()
    const cap = await a!.node.share('report.bin')
    expect(cap).toBe(await a!.node.share(put.address))
    for (const t of others) {
      const { info, stream } = await t.node.get(cap)
      expect(info.size).toBe(data.length)
      expect((await readAll(stream)).equals(data)).toBe(true)
    }
    const placement = await a!.node.placement(put.address)
    expect(placement).toHaveLength(12)
    for (const p of placement) {
      expect(p.live).toBe(3)
      expect(await holdersOf(cluster.nodes, p.blob)).toBeGreaterThanOrEqual(3)
      // The putting node keeps its own copy of everything.
      expect(await a!.store.has(p.blob)).toBe(true)
    }
    expect(await a!.node.list()).toEqual([expect.objectContaining({ name: 'report.bin', address: put.address, replicas: 3 })])
    // Same bytes, same address.
    expect((await a!.node.put(Readable.from([data]))).address).toBe(put.address)
    // Address without key on another node: not its file.
    await expect(others[0]!.node.get(put.address)).rejects.toMatchObject({ code: 'NOT_FOUND' })
  })

  it('seals and hashes on crypto threads or on the event loop into the same blobs, address and file hash', async () => {
    const ownerKey = randomBytes(32)
    const onThreads = await cluster.add({ chunkSize: CHUNK, ownerKey, cryptoThreads: 2 })
    const onLoop = await cluster.add({ chunkSize: CHUNK, ownerKey, cryptoThreads: 0 })
    const data = randomBytes(CHUNK * 9 + 5)
    const a = await onThreads.node.put(Readable.from([data]))
    const b = await onLoop.node.put(Readable.from([data]))
    expect(a.address).toBe(b.address)
    expect(a.sha256).toBe(sha(data))
    expect((await readAll((await onThreads.node.get(a.address)).stream)).equals(data)).toBe(true)
    await expect(cluster.add({ cryptoThreads: -1 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
  })

  it('skips the local re-hash only for blobs it sealed itself; holders verify every blob they receive', async () => {
    await network(4)
    const spies = cluster.nodes.map((t) => vi.spyOn(t.store, 'put'))
    const data = randomBytes(CHUNK * 6 + 7)
    await cluster.nodes[0]!.node.put(Readable.from([data]))
    const trusted = (i: number): unknown[] => spies[i]!.mock.calls.map((call) => call[2]?.verified)
    // 7 chunks + root: the putting node stores all 8, each as bytes it hashed itself.
    expect(trusted(0)).toEqual(Array(8).fill(true))
    const received = [1, 2, 3].flatMap(trusted)
    expect(received.length).toBeGreaterThanOrEqual(8 * 2)
    expect(received.every((v) => v !== true)).toBe(true)
  })

  it('serves byte ranges fetching only the chunks they cover', async () => {
    await network(4)
    const data = randomBytes(CHUNK * 6)
    const [a, b] = cluster.nodes
    const put = await a!.node.put(Readable.from([data]))
    const cap = await a!.node.share(put.address)
    const before = b!.node.metrics.blobsFetched
    const { stream } = await b!.node.get(cap, { range: { start: CHUNK + 10, end: CHUNK * 2 + 5 } })
    expect((await readAll(stream)).equals(data.subarray(CHUNK + 10, CHUNK * 2 + 6))).toBe(true)
    // Root + two chunks at most (some may be local).
    expect(b!.node.metrics.blobsFetched - before).toBeLessThanOrEqual(3)
    const own = await a!.node.get(put.address, { range: { start: 5, end: 10 ** 9 } })
    expect((await readAll(own.stream)).equals(data.subarray(5))).toBe(true)
    await expect(a!.node.get(put.address, { range: { start: data.length, end: data.length + 1 } })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
  })

  it('drops and reports a holder that serves corrupted bytes, reading from another', async () => {
    await network(5)
    const data = randomBytes(CHUNK * 8)
    const [a, b] = cluster.nodes
    const put = await a!.node.put(Readable.from([data]))
    // The liar must be asked: make it the first holder b turns to for the root blob.
    const [root] = await a!.node.placement(put.address)
    const liarId = root!.holders.find((h) => h !== b!.node.id)
    const liar = cluster.nodes.find((n) => n.node.id === liarId)!
    cluster.fakeHost(cluster.nodes.indexOf(liar)).tamper = (type, body) => {
      if (type !== 'get-blob' || body === undefined) return body
      const bad = Buffer.from(body)
      bad[bad.length - 1]! ^= 1
      return bad
    }
    const reports: { peer: string }[] = []
    b!.node.on('corrupt', (r) => reports.push(r))
    const { stream } = await b!.node.get(await a!.node.share(put.address), { remoteOnly: true })
    expect((await readAll(stream)).equals(data)).toBe(true)
    expect(reports.length).toBeGreaterThan(0)
    expect(new Set(reports.map((r) => r.peer))).toEqual(new Set([liar.node.id]))
    expect(b!.node.metrics.corruptBlobs).toBe(reports.length)
  })

  it('succeeds with a warning and the real count when there are too few nodes', async () => {
    await network(2)
    const data = randomBytes(CHUNK * 2)
    const put = await cluster.nodes[0]!.node.put(Readable.from([data]))
    expect(put.replicas).toBe(2)
    expect(put.warning).toMatch(/only 2 of 3/)
    expect(await cluster.nodes[0]!.node.list()).toEqual([expect.objectContaining({ replicas: 2 })])
    // A third node joins: repair brings every blob to three copies.
    await cluster.add({ chunkSize: CHUNK })
    const blobs = (await cluster.nodes[0]!.node.placement(put.address)).map((p) => p.blob)
    expect(await eventually(async () => (await Promise.all(blobs.map((b) => holdersOf(cluster.nodes, b)))).every((n) => n === 3))).toBe(true)
  })

  it('deletes: owner unpins everywhere and copies are collected; nobody else can unpin', async () => {
    await network(4)
    const [a, b] = cluster.nodes
    const keep = randomBytes(CHUNK * 3)
    const gone = Buffer.concat([keep.subarray(0, CHUNK), randomBytes(CHUNK * 2)])
    const kept = await a!.node.put(Readable.from([keep]), { name: 'keep' })
    const del = await a!.node.put(Readable.from([gone]), { name: 'gone' })
    const delBlobs = (await a!.node.placement(del.address)).map((p) => p.blob)
    const keptBlobs = (await a!.node.placement(kept.address)).map((p) => p.blob)

    // Another node cannot remove a's pins: its unpin only touches its own.
    await expect(b!.node.delete(await a!.node.share('gone'))).rejects.toMatchObject({ code: 'FORBIDDEN' })
    await b!.host.request(cluster.nodes[2]!.node.id, 'unpin', { blobs: delBlobs, seq: Date.now() * 2 })
    for (const id of delBlobs) expect(await holdersOf(cluster.nodes, id)).toBeGreaterThanOrEqual(3)

    await a!.node.delete('gone')
    await expect(a!.node.get('gone')).rejects.toMatchObject({ code: 'NOT_FOUND' })
    const shared = delBlobs.filter((id) => keptBlobs.includes(id))
    expect(shared).toHaveLength(1) // the common first chunk
    for (const id of delBlobs) {
      if (shared.includes(id)) expect(await holdersOf(cluster.nodes, id)).toBeGreaterThanOrEqual(3)
      else {
        expect(await holdersOf(cluster.nodes, id)).toBe(0)
      }
    }
    const { stream } = await b!.node.get(await a!.node.share('keep'))
    expect((await readAll(stream)).equals(keep)).toBe(true)
  })

  it('the same content put under two names keeps both; removing one name keeps the file, removing the last deletes it', async () => {
    await network(4)
    const [a] = cluster.nodes
    const data = randomBytes(CHUNK * 3 + 5)
    const first = await a!.node.put(Readable.from([data]), { name: 'report.pdf' })
    const second = await a!.node.put(Readable.from([data]), { name: 'copy of report.pdf' })
    expect(second.address).toBe(first.address)
    expect((await a!.node.list()).map((f) => [f.name, f.address])).toEqual([
      ['report.pdf', first.address],
      ['copy of report.pdf', first.address],
    ])
    expect((await a!.node.stat('copy of report.pdf')).name).toBe('copy of report.pdf')
    const blobs = (await a!.node.placement(first.address)).map((p) => p.blob)

    await a!.node.delete('report.pdf')
    await expect(a!.node.stat('report.pdf')).rejects.toMatchObject({ code: 'NOT_FOUND' })
    expect((await a!.node.list()).map((f) => f.name)).toEqual(['copy of report.pdf'])
    for (const id of blobs) expect(await holdersOf(cluster.nodes, id)).toBeGreaterThanOrEqual(3)
    const { stream } = await a!.node.get('copy of report.pdf')
    expect((await readAll(stream)).equals(data)).toBe(true)

    await a!.node.delete('copy of report.pdf')
    expect(await a!.node.list()).toEqual([])
    for (const id of blobs) expect(await holdersOf(cluster.nodes, id)).toBe(0)
  })

  it('a file deleted and put again is stored whole again, on 3 nodes, and reads back', async () => {
    await network(4)
    const [a, b] = cluster.nodes
    const data = randomBytes(CHUNK * 5 + 7)
    const first = await a!.node.put(Readable.from([data]), { name: 'again' })
    const blobs = (await a!.node.placement(first.address)).map((p) => p.blob)
    await a!.node.delete('again')
    for (const id of blobs) expect(await holdersOf(cluster.nodes, id)).toBe(0)
    // Every holder keeps a tombstone of the delete; the new put's pins are newer, so they are taken.
    const second = await a!.node.put(Readable.from([data]), { name: 'again' })
    expect(second).toMatchObject({ address: first.address, replicas: 3 })
    expect(second.warning).toBeUndefined()
    for (const id of blobs) expect(await holdersOf(cluster.nodes, id)).toBeGreaterThanOrEqual(3)
    const { stream } = await b!.node.get(await a!.node.share('again'), { remoteOnly: true })
    expect((await readAll(stream)).equals(data)).toBe(true)
  })

  it('a pin forged in the owner\'s name neither blocks its delete nor brings the deleted blobs back', async () => {
    await network(4)
    const [a, b, c] = cluster.nodes
    const put = await a!.node.put(Readable.from([randomBytes(CHUNK * 2 + 5)]), { name: 'contract' })
    const blobs = (await a!.node.placement(put.address)).map((p) => p.blob)
    const bytes = await Promise.all(blobs.map((id) => a!.store.get(id)))
    // b pushes every blob to c, pinned in a's name at the highest sequence number there is.
    const forged = [{ owner: a!.node.id, seq: Number.MAX_SAFE_INTEGER }]
    for (const [i, id] of blobs.entries()) await b!.host.request(c!.node.id, 'put-blob', { blob: id, pins: forged }, bytes[i])
    for (const id of blobs) expect(await c!.store.has(id)).toBe(true)

    await a!.node.delete('contract')
    for (const id of blobs) expect(await holdersOf(cluster.nodes, id)).toBe(0)
    // Pushed again after the delete, with the same forged pin: refused and not kept.
    for (const [i, id] of blobs.entries()) {
      await expect(b!.host.request(c!.node.id, 'put-blob', { blob: id, pins: forged }, bytes[i])).rejects.toMatchObject({ code: 'FORBIDDEN' })
      expect(await c!.store.has(id)).toBe(false)
    }
  })

  it('a holder that was away when the owner deleted a file drops its copies once it is back', async () => {
    await network(4)
    const [a] = cluster.nodes
    const put = await a!.node.put(Readable.from([randomBytes(CHUNK * 6)]), { name: 'old' })
    const blobs = (await a!.node.placement(put.address)).map((p) => p.blob)
    // The node, besides a, that holds most of the file's blobs.
    const held = await Promise.all(cluster.nodes.map(async (t) => (await Promise.all(blobs.map((id) => t.store.has(id)))).filter(Boolean).length))
    const away = cluster.nodes[held.map((n, i) => (i === 0 ? -1 : n)).reduce((best, n, i, all) => (n > all[best]! ? i : best), 1)]!
    expect(held[cluster.nodes.indexOf(away)]).toBeGreaterThan(0)

    cluster.fakeHost(cluster.nodes.indexOf(away)).offline = true
    expect(await eventually(() => a!.node.peers().find((p) => p.id === away.node.id)?.state === 'dead')).toBe(true)
    await a!.node.delete('old')
    const others = cluster.nodes.filter((t) => t !== away)
    for (const id of blobs) expect(await holdersOf(others, id)).toBe(0)
    expect((await Promise.all(blobs.map((id) => away.store.has(id)))).some(Boolean)).toBe(true)

    cluster.fakeHost(cluster.nodes.indexOf(away)).offline = false
    expect(await eventually(async () => (await holdersOf(cluster.nodes, blobs[0]!)) === 0 && (await Promise.all(blobs.map((id) => away.store.has(id)))).every((has) => !has))).toBe(true)
    // Nor does its repair bring any of it back elsewhere.
    await new Promise((r) => setTimeout(r, 1500))
    for (const id of blobs) expect(await holdersOf(cluster.nodes, id)).toBe(0)
  })

  it('a holder that missed a delete for a moment, without ever being suspected, drops its copies soon after', async () => {
    // Slow suspicion, so that even a loaded machine never marks the holder suspect or dead here:
    // a state change would tell it the delete by another way.
    for (let i = 0; i < 4; i++) await cluster.add({ chunkSize: CHUNK, timing: { ...FAST_TIMING, suspectAfterMs: 20_000, deadAfterMs: 40_000 } })
    expect(await eventually(() => cluster.nodes.every((t) => t.node.peers().filter((p) => p.state === 'alive').length === 3))).toBe(true)
    const [a, b] = cluster.nodes
    const put = await a!.node.put(Readable.from([randomBytes(CHUNK * 6)]), { name: 'blink' })
    const cap = await a!.node.share('blink')
    const blobs = (await a!.node.placement(put.address)).map((p) => p.blob)
    const count = async (t: (typeof cluster.nodes)[number]): Promise<number> => (await Promise.all(blobs.map((id) => t.store.has(id)))).filter(Boolean).length
    const counts = await Promise.all(cluster.nodes.map(async (t) => (t === a || t === b ? -1 : await count(t))))
    const holder = cluster.nodes[counts.indexOf(Math.max(...counts))]!
    const index = cluster.nodes.indexOf(holder)
    const held = (): Promise<number> => count(holder)
    expect(await held()).toBeGreaterThan(0)
    // Unreachable for a moment (a quick restart): its unpins fail, yet nobody
    // sees it change state, so no membership change would ever tell it.
    cluster.fakeHost(index).offline = true
    await a!.node.delete('blink')
    expect(await held()).toBeGreaterThan(0)
    cluster.fakeHost(index).offline = false
    expect(a!.node.peers().find((p) => p.id === holder.node.id)?.state).toBe('alive')
    expect(await eventually(async () => (await held()) === 0, 10_000)).toBe(true)
    expect(a!.node.peers().find((p) => p.id === holder.node.id)?.state).toBe('alive')
    // Every peer answers that it has no copy: gone, not out of reach.
    await expect(b!.node.get(cap)).rejects.toMatchObject({ code: 'NOT_FOUND' })
  })

  it('a put that fails midway leaves nothing pinned anywhere, and keeps what other files use', async () => {
    await network(4)
    const [a, b] = cluster.nodes
    const keep = randomBytes(CHUNK * 2)
    const kept = await a!.node.put(Readable.from([keep]), { name: 'keep' })
    const before = await Promise.all(cluster.nodes.map(async (t) => (await t.store.stat()).count))
    // A client that sends the kept file's first chunk and five new ones, then goes away.
    async function* broken(): AsyncGenerator<Buffer> {
      yield keep.subarray(0, CHUNK)
      for (let i = 0; i < 5; i++) yield randomBytes(CHUNK)
      await new Promise((r) => setTimeout(r, 10))
      throw new Error('client went away')
    }
    await expect(a!.node.put(broken(), { name: 'broken' })).rejects.toThrow('client went away')
    expect(await a!.node.list()).toEqual([expect.objectContaining({ name: 'keep' })])
    // Every blob of the failed put is collected on every node: the counts go back to what they were.
    expect(await eventually(async () => (await Promise.all(cluster.nodes.map(async (t) => (await t.store.stat()).count))).every((n, i) => n === before[i]))).toBe(true)
    const { stream } = await b!.node.get(await a!.node.share('keep'))
    expect((await readAll(stream)).equals(keep)).toBe(true)
    for (const p of await a!.node.placement(kept.address)) expect(await holdersOf(cluster.nodes, p.blob)).toBeGreaterThanOrEqual(3)
  })

  it('a put that fails because its node is stopping is cleaned up before the node has stopped', async () => {
    await network(3)
    const [a, ...others] = cluster.nodes
    const before = await Promise.all(others.map(async (t) => (await t.store.stat()).count))
    const abort = new AbortController()
    // A client cut off as the daemon shuts down: some chunks, then its upload is aborted.
    async function* cutOff(): AsyncGenerator<Buffer> {
      for (let i = 0; i < 4; i++) yield randomBytes(CHUNK)
      await new Promise((_, reject) => abort.signal.addEventListener('abort', () => reject(new Error('upload aborted'))))
    }
    const putting = a!.node.put(cutOff(), { signal: abort.signal })
    expect(await eventually(async () => (await Promise.all(others.map(async (t) => (await t.store.stat()).count))).some((n, i) => n > before[i]!))).toBe(true)
    abort.abort()
    await expect(putting).rejects.toThrow()
    await a!.node.stop()
    // Nothing left for the next start to finish: the peers' copies are unpinned and collected.
    const catalog = Catalog.open(join(a!.dir, 'catalog'))
    expect(catalog.unfinishedPuts()).toEqual([])
    await catalog.close()
    expect(await Promise.all(others.map(async (t) => (await t.store.stat()).count))).toEqual(before)
  })

  /** The folder of a node that is to start again after a crash: its id, catalog path, open store, and three blobs for it. */
  async function crashedNodeFolder(): Promise<{
    id: string
    catalogPath: string
    store: Awaited<ReturnType<typeof openStore>>
    blobs: Buffer[]
    ids: string[]
    remove: () => Promise<void>
  }> {
    const dir = await mkdtemp(join(tmpdir(), 'cas-crashed-'))
    const store = await openStore({ root: join(dir, 'store') })
    const blobs = [randomBytes(1000), randomBytes(2000), randomBytes(3000)]
    const remove = async (): Promise<void> => {
      await store.close()
      await rm(dir, { recursive: true, force: true })
    }
    return { id: randomBytes(32).toString('hex'), catalogPath: join(dir, 'catalog'), store, blobs, ids: blobs.map(sha), remove }
  }

  it('what a put cut short by a crash had pinned, here and on its holders, is released when the node starts again', async () => {
    await network(3)
    const [b, c] = cluster.nodes
    // The state a crash leaves: the catalog's notes of the put, two blobs pinned by its node here
    // and on holders, and a third pinned here that a file of the node also uses (so it stays).
    const { id, catalogPath, store, blobs, ids, remove } = await crashedNodeFolder()
    const pins = [{ owner: id, seq: 1 }]
    for (const [i, bytes] of blobs.entries()) {
      await store.put(ids[i]!, bytes, { pins })
      if (i < 2) for (const t of [b, c]) await t!.store.put(ids[i]!, bytes, { pins })
    }
    const notes = Catalog.open(catalogPath)
    for (const blob of ids) await notes.notePlacing(1, blob)
    const file = { address: 'f'.repeat(64), fileKey: 'e'.repeat(64), size: 3000, sha256: 'd'.repeat(64), createdAt: new Date(0).toISOString(), chunks: 1 }
    await notes.add(file, Buffer.from(ids[2]!, 'hex'))
    await notes.close()

    const a = await cluster.add({ chunkSize: CHUNK, id, store, catalogPath })
    for (const blob of ids.slice(0, 2)) {
      expect(await eventually(async () => (await holdersOf(cluster.nodes, blob)) === 0)).toBe(true)
    }
    expect(await store.has(ids[2]!)).toBe(true)
    // Released once: the notes are gone, so a second start has nothing to release.
    await a.node.stop()
    const again = Catalog.open(catalogPath)
    expect(again.unfinishedPuts()).toEqual([])
    await again.close()
    await remove()
  })

  it('a delete whose local unpins a crash cut short is applied to the local store again at start', async () => {
    await network(2)
    // The state such a crash leaves: the delete recorded in the catalog (at seq 5000), this node's
    // copies still pinned by it (at seq 1); a third blob was pinned again by a newer put since.
    const { id, catalogPath, store, blobs, ids, remove } = await crashedNodeFolder()
    for (const [i, bytes] of blobs.entries()) await store.put(ids[i]!, bytes, { pins: [{ owner: id, seq: i < 2 ? 1 : 9000 }] })
    const catalog = Catalog.open(catalogPath)
    await catalog.recordDelete(5000, ids)
    await catalog.close()

    await cluster.add({ chunkSize: CHUNK, id, store, catalogPath })
    expect(await store.has(ids[0]!)).toBe(false)
    expect(await store.has(ids[1]!)).toBe(false)
    expect(await store.pins(ids[2]!)).toEqual([{ owner: id, seq: 9000 }])
    await remove()
  })

  it('deleting a file while a put that shares a chunk with it is in flight keeps that chunk for the put', async () => {
    await network(4)
    const [a, b] = cluster.nodes
    const shared = randomBytes(CHUNK)
    const tail = randomBytes(CHUNK * 2)
    await a!.node.put(Readable.from([Buffer.concat([shared, randomBytes(CHUNK)])]), { name: 'old' })
    let open!: () => void
    const gate = new Promise<void>((resolve) => (open = resolve))
    let sentShared!: () => void
    const sharedSent = new Promise<void>((resolve) => (sentShared = resolve))
    async function* slow(): AsyncGenerator<Buffer> {
      yield shared
      sentShared()
      await gate
      yield tail
    }
    const putting = a!.node.put(slow(), { name: 'new' })
    await sharedSent
    await new Promise((r) => setTimeout(r, 100)) // the shared chunk is placed
    await a!.node.delete('old')
    open()
    const put = await putting
    const { stream } = await b!.node.get(await a!.node.share('new'))
    expect((await readAll(stream)).equals(Buffer.concat([shared, tail]))).toBe(true)
    for (const p of await a!.node.placement(put.address)) expect(await holdersOf(cluster.nodes, p.blob)).toBeGreaterThanOrEqual(3)
  })

  it('repairs a file put again after its delete, though every peer keeps the tombstones of that delete', async () => {
    await network(5)
    const [a] = cluster.nodes
    const data = randomBytes(CHUNK * 8)
    await a!.node.put(Readable.from([data]), { name: 'again' })
    await a!.node.delete('again')
    // Put again: the holders take the newer pins; every other node keeps its tombstones, so a copy
    // pushed there by anyone but the owner (relayed pins rank below any tombstone) is refused.
    const put = await a!.node.put(Readable.from([data]), { name: 'again' })
    const blobs = (await a!.node.placement(put.address)).map((p) => p.blob)
    const held = await Promise.all(cluster.nodes.map(async (t) => (t === a ? -1 : (await Promise.all(blobs.map((id) => t.store.has(id)))).filter(Boolean).length)))
    const victim = cluster.nodes[held.indexOf(Math.max(...held))]!
    await victim.node.stop()
    const alive = cluster.nodes.filter((t) => t !== victim)
    const ok = await eventually(async () => (await a!.node.placement(put.address)).every((x) => x.live === 3 && !x.holders.includes(victim.node.id)), 30_000)
    expect(ok).toBe(true)
    for (const id of blobs) expect(await holdersOf(alive, id)).toBeGreaterThanOrEqual(3)
    expect(await eventually(async () => (await Promise.all(alive.map(async (t) => (await t.node.status()).underReplicated))).every((n) => n === 0))).toBe(true)
  })

  it('repairs after a holder dies: every blob back on 3 live nodes, none placed on the dead one', async () => {
    await network(5)
    const [a] = cluster.nodes
    const data = randomBytes(CHUNK * 12)
    const put = await a!.node.put(Readable.from([data]))
    const blobs = (await a!.node.placement(put.address)).map((p) => p.blob)
    // The node, besides a, holding the most of the file's blobs.
    const held = await Promise.all(cluster.nodes.map(async (t) => (t === a ? -1 : (await Promise.all(blobs.map((id) => t.store.has(id)))).filter(Boolean).length)))
    const victim = cluster.nodes[held.indexOf(Math.max(...held))]!
    expect(held[cluster.nodes.indexOf(victim)]).toBeGreaterThan(0)
    await victim.node.stop()
    const alive = cluster.nodes.filter((t) => t !== victim)
    const ok = await eventually(async () => {
      for (const id of blobs) {
        const p = await a!.node.placement(put.address)
        if (!p.every((x) => x.live === 3 && !x.holders.includes(victim.node.id))) return false
        void id
      }
      return true
    }, 30_000)
    expect(ok).toBe(true)
    for (const id of blobs) expect(await holdersOf(alive, id)).toBeGreaterThanOrEqual(3)
    expect(await eventually(async () => (await a!.node.status()).underReplicated === 0)).toBe(true)
  })
})
