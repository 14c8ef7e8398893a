import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { assertBuilt, eventually, LongRunning, run, type Run } from './support/processes.js'

// What a new user does, with the real binary: four daemons on 127.0.0.1, one network key.

let dir: string
const roots: string[] = []
const daemons: LongRunning[] = []

/** `cas --root <root of node n> <args>`. */
function cas(node: number, args: string[], input?: Buffer): Promise<Run> {
  return run(['--root', roots[node - 1]!, ...args], input === undefined ? {} : { input })
}

function startDaemon(root: string, extra: string[] = []): Promise<LongRunning> {
  return LongRunning.start(['--root', root, 'daemon', '--listen', '127.0.0.1:0', '--api', '127.0.0.1:0', ...extra], (out) =>
    out.includes('daemon is ready'),
  )
}

/** The one line a failed command prints. */
function oneLine(result: Run): string {
  const lines = result.stderr.split('\n').filter((line) => line !== '')
  expect(lines, result.stderr).toHaveLength(1)
  expect(lines[0]).toMatch(/^cas: /)
  return lines[0]!
}

beforeAll(async () => {
  assertBuilt()
  dir = await mkdtemp(join(tmpdir(), 'cas-e2e-'))
  const key = await run(['network-key'])
  expect(key.code).toBe(0)
  expect(key.out).toMatch(/^[0-9a-f]{64}\n$/)
  await writeFile(join(dir, 'network.key'), key.out)
  for (let i = 1; i <= 4; i++) {
    roots.push(join(dir, `node${i}`))
    const init = await cas(i, ['init', '--network-key', join(dir, 'network.key')])
    expect(init.code, init.stderr).toBe(0)
  }
  daemons.push(await startDaemon(roots[0]!))
  const status = JSON.parse((await cas(1, ['status', '--json'])).out) as { addresses: string[] }
  const bootstrap = status.addresses.join(',')
  for (let i = 2; i <= 4; i++) daemons.push(await startDaemon(roots[i - 1]!, ['--bootstrap', bootstrap]))
})

afterAll(async () => {
  await Promise.allSettled(daemons.map((daemon) => daemon.stop('SIGKILL')))
  if (dir !== undefined) await rm(dir, { recursive: true, force: true })
})

describe('four daemons', () => {
  const bytes = randomBytes(3 * 1024 * 1024 + 12_345)
  let address: string
  let capability: string

  test('peers --json shows the three others alive', async () => {
    const peers = await eventually(async () => {
      const result = await cas(1, ['peers', '--json'])
      const list = JSON.parse(result.out) as { id: string; state: string; capacity: unknown }[]
      return list.filter((peer) => peer.state === 'alive').length === 3 ? list : undefined
    }, '3 alive peers')
    for (const peer of peers) {
      expect(Object.keys(peer)).toEqual(expect.arrayContaining(['id', 'addresses', 'state', 'lastSeen', 'capacity', 'used']))
      expect(peer.id).toMatch(/^[0-9a-f]{64}$/)
      // Started without --capacity: unlimited, shown as status shows it.
      expect(peer.capacity).toBeNull()
    }
    for (const node of [2, 3, 4]) {
      await eventually(async () => {
        const list = JSON.parse((await cas(node, ['peers', '--json'])).out) as { state: string }[]
        return list.filter((peer) => peer.state === 'alive').length === 3 ? true : undefined
      }, `node ${node} to see 3 alive peers`)
    }
  })

  // Where the environment leaves malloc to the daemon: the pid the test started is the daemon's.
  const ownMalloc = Object.keys(process.env).some((name) => name.startsWith('MALLOC_')) || process.env.GLIBC_TUNABLES !== undefined
  test.runIf(process.platform === 'linux' && !ownMalloc)('each daemon restarted itself in place with one malloc heap', async () => {
    for (const daemon of daemons) {
      const environ = (await readFile(`/proc/${daemon.child.pid}/environ`, 'utf8')).split('\0')
      expect(environ).toContain('MALLOC_ARENA_MAX=1')
    }
  })

  test('put on node 1 prints the address; --json has the documented fields', async () => {
    const file = join(dir, 'photo.bin')
    await writeFile(file, bytes)
    const put = await cas(1, ['put', file, '--json'])
    expect(put.code, put.stderr).toBe(0)
    const result = JSON.parse(put.out) as { address: string; size: number; sha256: string; name: string; replicas: number }
    expect(result).toMatchObject({ size: bytes.length, name: 'photo.bin' })
    expect(result.address).toMatch(/^[0-9a-f]{64}$/)
    expect(result.replicas).toBeGreaterThanOrEqual(3)
    address = result.address

    const plain = await cas(1, ['put', file])
    expect(plain.out).toBe(`${address}\n`)
  })

  test('share gives a capability that gets the file byte-identical on nodes 3 and 4', async () => {
    const share = await cas(1, ['share', 'photo.bin'])
    expect(share.code, share.stderr).toBe(0)
    capability = share.out.trim()
    expect(capability).toMatch(new RegExp(`^cas1:${address}:[0-9a-f]{64}$`))

    const out3 = join(dir, 'from-node3.bin')
    const get3 = await cas(3, ['get', capability, '-o', out3])
    expect(get3.code, get3.stderr).toBe(0)
    expect((await readFile(out3)).equals(bytes)).toBe(true)

    const get4 = await cas(4, ['get', capability])
    expect(get4.code, get4.stderr).toBe(0)
    expect(get4.stdout.equals(bytes)).toBe(true)
  })

  test('ls lists the file with the documented fields', async () => {
    const ls = JSON.parse((await cas(1, ['ls', '--json'])).out) as Record<string, unknown>[]
    expect(ls).toHaveLength(1)
    expect(ls[0]).toMatchObject({ name: 'photo.bin', address, size: bytes.length })
    expect(Object.keys(ls[0]!)).toEqual(expect.arrayContaining(['name', 'address', 'size', 'sha256', 'createdAt', 'replicas']))
    const table = await cas(1, ['ls'])
    expect(table.out).toContain('photo.bin')
    expect(table.out).toContain(address)
  })

  test('status --json has the documented fields', async () => {
    const status = JSON.parse((await cas(1, ['status', '--json'])).out) as Record<string, unknown>
    expect(Object.keys(status)).toEqual(expect.arrayContaining(['id', 'addresses', 'peers', 'blobs', 'bytes', 'capacity', 'underReplicated']))
    expect(status.peers).toBe(3)
    expect(status.blobs).toBeGreaterThan(0)
  })

  test('an unknown ref is one line and exit 1', async () => {
    const byName = await cas(1, ['get', 'no-such-file.txt'])
    expect(byName.code).toBe(1)
    expect(oneLine(byName)).toContain('no-such-file.txt')
    const byAddress = await cas(2, ['get', 'ab'.repeat(32), '-o', join(dir, 'never.bin')])
    expect(byAddress.code).toBe(1)
    oneLine(byAddress)
    expect(existsSync(join(dir, 'never.bin'))).toBe(false)
  })

  test('a missing input file is one line and exit 1', async () => {
    const put = await cas(1, ['put', join(dir, 'missing.txt')])
    expect(put.code).toBe(1)
    expect(oneLine(put)).toContain('missing.txt: no such file')
  })

  test('a wrong token is one line and exit 1', async () => {
    const tokenFile = join(roots[1]!, 'api.token')
    const token = await readFile(tokenFile)
    await writeFile(tokenFile, randomBytes(32).toString('hex'))
    try {
      const ls = await cas(2, ['ls'])
      expect(ls.code).toBe(1)
      expect(oneLine(ls)).toContain('refused the API token')
    } finally {
      await writeFile(tokenFile, token)
    }
  })

  test('a usage error is exit 2', async () => {
    const bad = await cas(1, ['get'])
    expect(bad.code).toBe(2)
    oneLine(bad)
  })

  test('rm deletes the file', async () => {
    const rmResult = await cas(1, ['rm', 'photo.bin'])
    expect(rmResult.code, rmResult.stderr).toBe(0)
    expect(JSON.parse((await cas(1, ['ls', '--json'])).out)).toEqual([])
    const again = await cas(1, ['get', 'photo.bin'])
    expect(again.code).toBe(1)
  })

  test('SIGTERM stops every daemon with exit 0, no api file, no temp files', async () => {
    for (const [i, daemon] of daemons.entries()) {
      expect(await daemon.stop('SIGTERM')).toEqual({ code: 0, signal: null })
      expect(existsSync(join(roots[i]!, 'api'))).toBe(false)
      const tmp = join(roots[i]!, 'tmp')
      if (existsSync(tmp)) expect(await readdir(tmp)).toEqual([])
    }
    const after = await cas(1, ['ls'])
    expect(after.code).toBe(1)
    expect(oneLine(after)).toContain('no daemon is running')
  })
})

describe('a single node', () => {
  let root: string

  beforeAll(async () => {
    root = join(dir, 'solo')
    expect((await run(['--root', root, 'init'])).code).toBe(0)
  })

  test('daemon not running: one line, exit 1', async () => {
    const ls = await run(['--root', root, 'ls'])
    expect(ls.code).toBe(1)
    expect(oneLine(ls)).toMatch(/no daemon is running for .*solo/)
  })

  test('a bad config field: one line naming it, exit 1', async () => {
    const configPath = join(root, 'config.json')
    const original = await readFile(configPath, 'utf8')
    await writeFile(configPath, JSON.stringify({ ...(JSON.parse(original) as object), replicas: 'three' }))
    try {
      const daemon = await run(['--root', root, 'daemon'])
      expect(daemon.code).toBe(1)
      expect(oneLine(daemon)).toMatch(/config\.json: replicas: /)
    } finally {
      await writeFile(configPath, original)
    }
  })

  test('disk quota full: put fails with one line, exit 1', async () => {
    const daemon = await startDaemon(root, ['--capacity', '64KiB'])
    try {
      const file = join(dir, 'big.bin')
      await writeFile(file, randomBytes(1024 * 1024))
      const put = await run(['--root', root, 'put', file])
      expect(put.code).toBe(1)
      expect(oneLine(put)).toMatch(/full|space|capacity/i)
    } finally {
      expect(await daemon.stop('SIGINT'), daemon.stderr).toEqual({ code: 0, signal: null })
    }
  })
})
