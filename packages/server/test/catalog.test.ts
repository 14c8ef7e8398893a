import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { open } from 'lmdb'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Catalog, type NewFile } from '../src/catalog.js'
import { CATALOG_DB_NAMES } from '../src/constants.js'

const h = (c: string): string => c.repeat(64)
const ids = (...xs: string[]): Buffer => Buffer.concat(xs.map((x) => Buffer.from(h(x), 'hex')))

describe('Catalog', () => {
  let dir: string
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cas-catalog-'))
  })
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  const rec = (address: string, name?: string): NewFile => ({
    address: h(address),
    fileKey: h('f'),
    size: 3,
    sha256: h('e'),
    createdAt: new Date(0).toISOString(),
    chunks: 1,
    ...(name ? { name } : {}),
  })

  it('remembers each delete with the blobs it released across reopen, oldest first, until pruned', async () => {
    let cat = Catalog.open(dir)
    await cat.add(rec('a', 'one'), ids('a', '1', '2'))
    await cat.add(rec('b', 'two'), ids('b', '2'))
    expect(await cat.remove(h('a'), 2_000)).toEqual([h('a'), h('1')]) // '2' is still used by b
    expect(await cat.remove(h('b'), 3_000)).toEqual([h('b'), h('2')])
    await cat.close()
    cat = Catalog.open(dir)
    expect([...cat.pendingDeletes()]).toEqual([
      { seq: 2_000, blobs: [h('a'), h('1')] },
      { seq: 3_000, blobs: [h('b'), h('2')] },
    ])
    // Not yet applied to the local store until said so; that survives a reopen too.
    expect(cat.unappliedDeletes().map((d) => d.seq)).toEqual([2_000, 3_000])
    await cat.appliedLocally(2_000)
    expect(cat.unappliedDeletes()).toEqual([{ seq: 3_000, blobs: [h('b'), h('2')] }])
    expect(await cat.pruneDeletes(2_500)).toBe(1)
    expect([...cat.pendingDeletes()].map((d) => d.seq)).toEqual([3_000])
    await cat.close()
  })

  it('knows which blobs a remembered delete unpinned, until the last delete of each is pruned', async () => {
    let cat = Catalog.open(dir)
    await cat.add(rec('a', 'one'), ids('a', '1'))
    await cat.remove(h('a'), 2_000)
    await cat.recordDelete(3_000, [h('1'), h('9')])
    await cat.close()
    cat = Catalog.open(dir)
    expect([h('a'), h('1'), h('9'), h('2')].map((id) => cat.wasDeleted(id))).toEqual([true, true, true, false])
    await cat.pruneDeletes(2_500)
    // 'a' went with the delete at 2000; '1' was unpinned again at 3000.
    expect([h('a'), h('1'), h('9')].map((id) => cat.wasDeleted(id))).toEqual([false, true, true])
    await cat.pruneDeletes(3_500)
    expect([h('1'), h('9')].map((id) => cat.wasDeleted(id))).toEqual([false, false])
    await cat.close()
  })

  it('keeps the notes of puts that never ended across reopen, and drops each put\'s notes when it ends', async () => {
    let cat = Catalog.open(dir)
    // Three puts in progress (ids 10, 11, 12); 11 shares a blob with 10.
    for (const [put, blob] of [[10, '1'], [11, '3'], [10, '2'], [11, '1'], [12, '4']] as const) await cat.notePlacing(put, h(blob))
    await cat.close()
    cat = Catalog.open(dir)
    expect(cat.unfinishedPuts()).toEqual([
      { put: 10, blobs: [h('1'), h('2')] },
      { put: 11, blobs: [h('1'), h('3')] },
      { put: 12, blobs: [h('4')] },
    ])
    // 10 ends as a file, 11 fails and is released, 12 is released with nothing left to unpin.
    await cat.add(rec('a'), ids('a', '1', '2'), 10)
    await cat.recordDelete(5_000, [h('3')], 11)
    await cat.recordDelete(5_001, [], 12)
    await cat.close()
    cat = Catalog.open(dir)
    expect(cat.unfinishedPuts()).toEqual([])
    expect(cat.fileBlobs(h('a'))).toEqual([h('a'), h('1'), h('2')])
    // A put of many blobs beside another: ending it drops all its notes and only its own.
    const many = Array.from({ length: 3000 }, (_, i) => i.toString(16).padStart(64, '0'))
    for (const blob of many) await cat.notePlacing(20, blob)
    await cat.notePlacing(21, h('5'))
    await cat.recordDelete(6_000, [], 20)
    expect(cat.unfinishedPuts()).toEqual([{ put: 21, blobs: [h('5')] }])
    expect([...cat.pendingDeletes()]).toEqual([{ seq: 5_000, blobs: [h('3')] }])
    await cat.close()
  })

  it('keeps files across reopen, resolves names and moves a reused name', async () => {
    let cat = Catalog.open(dir)
    expect(await cat.add(rec('a', 'one'), ids('a', '1'))).toBe(true)
    expect(await cat.add(rec('a', 'uno'), ids('a', '1'))).toBe(false)
    expect(cat.get(h('a'))!.names).toEqual(['one', 'uno'])
    expect(await cat.add(rec('b', 'one'), ids('b', '2'))).toBe(true)
    await cat.close()
    cat = Catalog.open(dir)
    expect(cat.resolveName('one')).toBe(h('b'))
    expect(cat.resolveName('uno')).toBe(h('a'))
    expect(cat.get(h('a'))!.names).toEqual(['uno'])
    expect(cat.get(h('b'))!.names).toEqual(['one'])
    expect(cat.list().map((r) => r.address)).toEqual([h('a'), h('b')])
    expect(cat.fileBlobs(h('b'))).toEqual([h('b'), h('2')])
    await cat.close()
  })

  it('takes one name off a file that keeps others, never its last one', async () => {
    const cat = Catalog.open(dir)
    await cat.add(rec('a', 'one'), ids('a', '1'))
    await cat.add(rec('a', 'two'), ids('a', '1'))
    await cat.add(rec('a'), ids('a', '1'))
    expect(await cat.unname('nope')).toBe(false)
    expect(await cat.unname('one')).toBe(true)
    expect(cat.resolveName('one')).toBeUndefined()
    expect(cat.get(h('a'))!.names).toEqual(['two'])
    expect(await cat.unname('two')).toBe(false)
    expect(cat.resolveName('two')).toBe(h('a'))
    expect(cat.isReferenced(h('1'))).toBe(true)
    // Removing the file takes every name with it.
    await cat.add(rec('a', 'three'), ids('a', '1'))
    expect(await cat.remove(h('a'))).toEqual([h('a'), h('1')])
    expect([cat.resolveName('two'), cat.resolveName('three')]).toEqual([undefined, undefined])
    await cat.close()
  })

  it('reads the one name of a record written before files had several', async () => {
    let cat = Catalog.open(dir)
    await cat.add(rec('a'), ids('a', '1'))
    await cat.close()
    // The record and name index as an older version wrote them.
    const db = open({ path: dir, compression: false })
    await db.openDB({ name: CATALOG_DB_NAMES.files, encoding: 'json' }).put(h('a'), { ...rec('a'), name: 'old' })
    await db.openDB({ name: CATALOG_DB_NAMES.names, encoding: 'string' }).put('old', h('a'))
    await db.close()
    cat = Catalog.open(dir)
    expect(cat.get(h('a'))!.names).toEqual(['old'])
    await cat.add(rec('a', 'new'), ids('a', '1'))
    expect(cat.list().map((r) => r.names)).toEqual([['old', 'new']])
    await cat.close()
  })

  it('releases a blob only when no file uses it any more', async () => {
    const cat = Catalog.open(dir)
    await cat.add(rec('a'), ids('a', '1', '2'))
    await cat.add(rec('b'), ids('b', '2', '3'))
    expect((await cat.remove(h('a')))!.sort()).toEqual([h('1'), h('a')])
    expect(cat.isReferenced(h('2'))).toBe(true)
    expect((await cat.remove(h('b')))!.sort()).toEqual([h('2'), h('3'), h('b')])
    expect(await cat.remove(h('b'))).toBeUndefined()
    expect(cat.count()).toBe(0)
    await cat.close()
  })

  it('hands out strictly increasing sequence numbers', async () => {
    const cat = Catalog.open(dir)
    const a = await cat.nextSeq(1000)
    const b = await cat.nextSeq(1000)
    const c = await cat.nextSeq(5000)
    expect(b).toBe(a + 1)
    expect(c).toBe(5000)
    await cat.close()
  })
})
