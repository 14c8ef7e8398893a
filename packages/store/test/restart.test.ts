import { spawnSync } from 'node:child_process'
import { rm, utimes, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { openStore } from '../src/index.js'
import { Metadata } from '../src/metadata.js'
import { blob, names, rejectsWith, reopen, tempDir } from './helpers.js'

function deadPid(): number {
  const { pid } = spawnSync(process.execPath, ['-e', ''])
  return pid
}

describe('start-up', () => {
  test('creates the layout under the root', async () => {
    const root = await tempDir()
    await reopen(join(root, 'nested', 'store'))
    expect((await names(join(root, 'nested', 'store'))).sort()).toEqual(['blobs', 'meta', 'quarantine', 'tmp'])
  })

  test('removes temp files of dead writers, stale ones and foreign names; keeps live writers', async () => {
    const root = await tempDir()
    const first = await reopen(root)
    await first.close()
    const tmp = join(root, 'tmp')
    const dead = `${deadPid()}.0123abcd.tmp`
    const live = `${process.ppid}.0123abcd.tmp`
    const liveButStale = `${process.ppid}.4567beef.tmp`
    const mine = `${process.pid}.89abcdef.tmp`
    for (const name of [dead, live, liveButStale, mine, 'junk']) await writeFile(join(tmp, name), 'partial')
    const { mkdir } = await import('node:fs/promises')
    await mkdir(join(tmp, 'a-folder'))
    const old = new Date(Date.now() - 2 * 3600 * 1000)
    await utimes(join(tmp, liveButStale), old, old)

    const logs: object[] = []
    await reopen(root, { logger: { info: (obj) => logs.push(obj), warn: () => {} } })
    expect((await names(tmp)).sort()).toEqual(['a-folder', live].sort())
    expect(logs).toContainEqual(expect.objectContaining({ removed: 4 }))
  })

  test("keeps this process's temp files while another store on the same root is open", async () => {
    const root = await tempDir()
    await reopen(root)
    const mine = `${process.pid}.0badcafe.tmp`
    await writeFile(join(root, 'tmp', mine), 'in progress')
    const second = await openStore({ root })
    expect(await names(join(root, 'tmp'))).toEqual([mine])
    await second.close()
  })

  test('counters saved on close are used as they are', async () => {
    const root = await tempDir()
    const first = await reopen(root)
    const { id, bytes } = blob('counted')
    await first.put(id, bytes)
    await first.close()
    // A blob slipped in behind the store's back is not seen: the saved counters are trusted.
    const sneaky = blob('sneaky')
    const { mkdir } = await import('node:fs/promises')
    const dir = join(root, 'blobs', sneaky.id.slice(0, 2), sneaky.id.slice(2, 4))
    await mkdir(dir, { recursive: true })
    await writeFile(join(dir, sneaky.id), sneaky.bytes)
    const second = await reopen(root)
    expect(await second.stat()).toMatchObject({ count: 1, bytes: bytes.length })
  })

  test('counters are recounted after an unclean shutdown', async () => {
    const root = await tempDir()
    const first = await reopen(root)
    const a = blob('one')
    const b = blob('three')
    await first.put(a.id, a.bytes)
    await first.put(b.id, b.bytes)
    await first.close()
    // What a crash leaves: the flag still says "open", the counters are whatever was last saved.
    const meta = Metadata.open(join(root, 'meta'))
    await meta.writeStats({ count: 99, bytes: 12345, clean: false })
    await meta.close()
    const second = await reopen(root)
    expect(await second.stat()).toMatchObject({ count: 2, bytes: 8 })
  })

  test('counters are rebuilt when the metadata database is missing', async () => {
    const root = await tempDir()
    const first = await reopen(root)
    const { id, bytes } = blob('rebuilt')
    await first.put(id, bytes)
    await first.close()
    await rm(join(root, 'meta'), { recursive: true })
    const second = await reopen(root)
    expect(await second.stat()).toMatchObject({ count: 1, bytes: bytes.length })
    expect(await second.has(id)).toBe(true)
  })

  test('rejects invalid options', async () => {
    const root = await tempDir()
    await rejectsWith(openStore({ root: '' }), 'INVALID_ARGUMENT')
    await rejectsWith(openStore({ root, capacity: -1 }), 'INVALID_ARGUMENT')
    await rejectsWith(openStore({ root, capacity: Number.NaN }), 'INVALID_ARGUMENT')
    await rejectsWith(openStore({ root, scrubBytesPerSecond: 0 }), 'INVALID_ARGUMENT')
    await rejectsWith(openStore({ root, tombstoneGraceMs: -5 }), 'INVALID_ARGUMENT')
  })

  test('fails with IO when the root cannot be created', async () => {
    const root = await tempDir()
    await writeFile(join(root, 'file'), 'x')
    await rejectsWith(openStore({ root: join(root, 'file', 'store') }), 'IO')
  })
})
