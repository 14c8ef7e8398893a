import { randomBytes } from 'node:crypto'
import { execFileSync } from 'node:child_process'
import { mkdtemp, open, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable, Writable } from 'node:stream'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { startDaemon, type Daemon } from '../src/daemon.js'
import { createLogger } from '../src/logger.js'
import { cas } from './support/cli-run.js'
import { fakeNodeFactory, type FakeNode } from './support/fake-node.js'

let dir: string
let fakes: FakeNode[]
const factory = fakeNodeFactory((node) => fakes.push(node))

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cas-cli-'))
  fakes = []
})
afterEach(async () => rm(dir, { recursive: true, force: true }))

describe('setup commands', () => {
  test('network-key prints 64 hex characters, a new one each time', async () => {
    const a = await cas(['network-key'], factory)
    const b = await cas(['network-key'], factory)
    expect(a.code).toBe(0)
    expect(a.stdout).toMatch(/^[0-9a-f]{64}\n$/)
    expect(a.stdout).not.toBe(b.stdout)
  })

  test('init creates 0600 keys and a config, is idempotent, and joins the network of --network-key', async () => {
    const keyFile = join(dir, 'net.key')
    await writeFile(keyFile, (await cas(['network-key'], factory)).stdout)
    const root = join(dir, 'root')
    const first = await cas(['--root', root, 'init', '--network-key', keyFile, '--json'], factory)
    expect(first.code).toBe(0)
    const result = JSON.parse(first.stdout) as { id: string; created: string[] }
    expect(result.created.sort()).toEqual(['config.json', 'network.key', 'node.key', 'owner.key'])
    expect(((await stat(join(root, 'keys/owner.key'))).mode & 0o777).toString(8)).toBe('600')
    expect((await readFile(join(root, 'keys/network.key'), 'utf8')).trim()).toBe((await readFile(keyFile, 'utf8')).trim())

    const again = await cas(['init', '--root', root], factory)
    expect(again.code).toBe(0)
    expect(again.stdout).toContain('already initialized')
    expect(again.stdout).toContain(result.id)

    await writeFile(keyFile, (await cas(['network-key'], factory)).stdout)
    const other = await cas(['init', '--root', root, '--network-key', keyFile], factory)
    expect(other.code).toBe(1)
    expect(other.stderr).toMatch(/^cas: .*already belongs to another network.*\n$/)
  })

  test('a bad --network-key file is one line and exit 1', async () => {
    const keyFile = join(dir, 'bad.key')
    await writeFile(keyFile, 'not a key')
    const run = await cas(['--root', join(dir, 'r'), 'init', '--network-key', keyFile], factory)
    expect(run.code).toBe(1)
    expect(run.stderr.split('\n').filter(Boolean)).toHaveLength(1)
    expect(run.stderr).toContain('not a network key')
  })
})

describe('usage errors exit 2', () => {
  test.each([
    [['frobnicate']],
    [['put']],
    [['ls', '--bogus']],
    [['daemon', '--replicas', 'three']],
    [['daemon', '--api', 'nowhere']],
    [['daemon', '--capacity', 'lots']],
    [['daemon', '--log-level', 'loud']],
    [['demo', '--log-level', 'bogus']],
    [['demo', '--nodes', '99']],
    [['help', 'nonsense']],
    [['get', '']],
    [['get', ' \t ']],
    [['rm', '']],
    [['share', '   ']],
    [['put', 'file.txt', '--name', '   ']],
    [['put', '-', '--name', '']],
  ])('cas %j', async (args) => {
    const run = await cas(args, factory)
    expect(run.code).toBe(2)
    expect(run.stderr).toMatch(/^cas: .+\n$/)
  })

  test('help of an unknown command names it in one line; help of a known one is its help', async () => {
    const unknown = await cas(['help', 'nonsense'], factory)
    expect(unknown).toMatchObject({ code: 2, stdout: '' })
    expect(unknown.stderr).toMatch(/^cas: unknown command 'nonsense' \(see cas --help\)\n$/)
    const known = await cas(['help', 'put'], factory)
    expect(known.code).toBe(0)
    expect(known.stdout).toContain('Usage: cas put')
    expect((await cas(['help'], factory)).stdout).toContain('Usage: cas [options] [command]')
  })

  test('an empty ref or name says so', async () => {
    const get = await cas(['get', ' '], factory)
    expect(get.stderr).toMatch(/^cas: .*'ref'.*empty.*\n$/)
    const put = await cas(['put', '-', '--name', '  '], factory)
    expect(put.stderr).toMatch(/^cas: .*'--name <name>'.*empty.*\n$/)
  })

  test('--help and --version exit 0; no command prints help and exits 2', async () => {
    expect((await cas(['--help'], factory)).code).toBe(0)
    expect((await cas(['put', '--help'], factory)).stdout).toContain('--name')
    expect((await cas(['--version'], factory)).code).toBe(0)
    const bare = await cas([], factory)
    expect(bare.code).toBe(2)
    expect(bare.stderr).toContain('Usage: cas')
  })
})

describe('commands against a running daemon', () => {
  let root: string
  let daemon: Daemon

  beforeEach(async () => {
    root = join(dir, 'node')
    expect((await cas(['--root', root, 'init'], factory)).code).toBe(0)
    // Port 0 everywhere: the config says where, the daemon publishes the actual URL in <root>/api.
    const config = JSON.parse(await readFile(join(root, 'config.json'), 'utf8')) as Record<string, unknown>
    await writeFile(join(root, 'config.json'), JSON.stringify({ ...config, listen: '127.0.0.1:0', api: '127.0.0.1:0' }))
    daemon = await startDaemon({ root, createNode: factory, logger: createLogger({ level: 'silent', pretty: false }), processMetrics: false, webRoot: null })
  })
  afterEach(async () => daemon.stop())

  test('put, ls, get, share, status, peers, rm', async () => {
    const file = join(dir, 'data.bin')
    const bytes = randomBytes(50_000)
    await writeFile(file, bytes)
    const put = await cas(['--root', root, 'put', file, '--json'], factory)
    expect(put.code).toBe(0)
    const stored = JSON.parse(put.stdout) as { address: string; name: string }
    expect(stored.name).toBe('data.bin')
    expect(put.stderr).toBe('')

    const ls = await cas(['--root', root, 'ls'], factory)
    expect(ls.stdout).toContain('data.bin')
    expect(ls.stdout).toContain(stored.address)

    const out = join(dir, 'out.bin')
    const get = await cas(['--root', root, 'get', 'data.bin', '-o', out], factory)
    expect(get.code).toBe(0)
    expect(await readFile(out)).toEqual(bytes)

    const toStdout = await cas(['--root', root, 'get', stored.address], factory)
    expect(toStdout.code).toBe(0)
    expect(toStdout.stdoutBytes.equals(bytes)).toBe(true)

    const share = await cas(['--root', root, 'share', 'data.bin'], factory)
    expect(share.stdout).toMatch(new RegExp(`^cas1:${stored.address}:[0-9a-f]{64}\\n$`))

    const status = JSON.parse((await cas(['--root', root, 'status', '--json'], factory)).stdout) as Record<string, unknown>
    expect(Object.keys(status)).toEqual(expect.arrayContaining(['id', 'addresses', 'peers', 'blobs', 'bytes', 'capacity', 'underReplicated', 'replicas']))
    const peers = JSON.parse((await cas(['--json', '--root', root, 'peers'], factory)).stdout) as unknown[]
    expect(peers).toHaveLength(1)

    const rm = await cas(['--root', root, 'rm', 'data.bin'], factory)
    expect(rm.code).toBe(0)
    const missing = await cas(['--root', root, 'get', 'data.bin'], factory)
    expect(missing.code).toBe(1)
    expect(missing.stderr).toMatch(/^cas: .*data\.bin.*\n$/)
  })

  test('peers, while alone, says what the dials of the bootstrap peers found', async () => {
    const node = fakes.at(-1)!
    node.peerList = []
    expect((await cas(['--root', root, 'peers'], factory)).stdout).toMatch(/start the daemon with --bootstrap/)
    node.bootstrap = [{ address: '127.0.0.1:7400', error: 'the peer has another network key' }, { address: '127.0.0.1:7500' }]
    const alone = await cas(['--root', root, 'peers'], factory)
    expect(alone.code).toBe(0)
    expect(alone.stdout).not.toMatch(/start the daemon with --bootstrap/)
    expect(alone.stdout).toContain('127.0.0.1:7400: the peer has another network key')
    expect(alone.stdout).toContain('127.0.0.1:7500: not reached yet')
  })

  test('a name of only spaces is refused before anything is stored', async () => {
    const file = join(dir, 'spaces.txt')
    await writeFile(file, 'hello')
    const put = await cas(['--root', root, 'put', file, '--name', '   '], factory)
    expect(put).toMatchObject({ code: 2, stdout: '' })
    expect(JSON.parse((await cas(['--root', root, 'ls', '--json'], factory)).stdout)).toEqual([])
  })

  test('put from a pipe that is not stdin (a FIFO, `<(…)`) streams it whole', async () => {
    const fifo = join(dir, 'fifo')
    execFileSync('mkfifo', [fifo])
    const bytes = randomBytes(300_000)
    const writer = (async () => {
      const handle = await open(fifo, 'w')
      await handle.write(bytes)
      await handle.close()
    })()
    const put = await cas(['--root', root, 'put', fifo, '--json'], factory)
    await writer
    expect(put.stderr).toBe('')
    expect(put.code).toBe(0)
    expect(JSON.parse(put.stdout)).toMatchObject({ name: 'fifo', size: bytes.length })
    expect((await cas(['--root', root, 'get', 'fifo'], factory)).stdoutBytes.equals(bytes)).toBe(true)
  })

  test('get to a reader that goes away early (`cas get x | head`) ends quietly, without a checksum error', async () => {
    await cas(['--root', root, 'put', '-', '--name', 'long'], factory, randomBytes(2_000_000))
    // Takes the first piece, then fails as a closed pipe does.
    const head = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        if (taken > 0) return callback(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }))
        taken += chunk.length
        callback()
      },
    })
    let taken = 0
    const get = await cas(['--root', root, 'get', 'long'], factory, undefined, { stdout: head })
    expect(taken).toBeGreaterThan(0)
    expect(get).toMatchObject({ code: 0, stderr: '' })
  })

  test('put from stdin, and the error paths: missing file, wrong token, full node', async () => {
    const fromStdin = await cas(['--root', root, 'put', '-'], factory, Buffer.from('piped'))
    expect(fromStdin.code).toBe(0)
    expect(fromStdin.stdout).toMatch(/^[0-9a-f]{64}\n$/)
    expect(fromStdin.stderr).toMatch(/^cas: warning: /)

    const missing = await cas(['--root', root, 'put', join(dir, 'nope.txt')], factory)
    expect(missing).toMatchObject({ code: 1, stdout: '' })
    expect(missing.stderr).toMatch(/^cas: .*nope\.txt: no such file\n$/)

    fakes[0]!.capacity = 10
    const full = await cas(['--root', root, 'put', '-'], factory, randomBytes(100))
    expect(full.code).toBe(1)
    expect(full.stderr).toMatch(/^cas: no space left.*\n$/)

    await writeFile(join(root, 'api.token'), 'f'.repeat(64))
    const denied = await cas(['--root', root, 'ls'], factory)
    expect(denied.code).toBe(1)
    expect(denied.stderr).toMatch(/^cas: .*refused the API token.*\n$/)
  })

  test('a second daemon on the same root is refused', async () => {
    await expect(startDaemon({ root, createNode: factory, logger: createLogger({ level: 'silent', pretty: false }) })).rejects.toMatchObject({
      code: 'ALREADY_RUNNING',
    })
  })

  test('after stop, <root>/api is gone and commands say the daemon is not running', async () => {
    await daemon.stop()
    await expect(stat(join(root, 'api'))).rejects.toThrow()
    const run = await cas(['--root', root, 'ls'], factory)
    expect(run.code).toBe(1)
    expect(run.stderr).toMatch(/^cas: no daemon is running for .*; start one with `cas daemon`\n$/)
  })
})

test('a daemon that goes away in the middle of a put: the connection was lost, the file not stored, exit 1', async () => {
  // Takes the first bytes of the upload, then drops the connection, as a killed daemon does.
  const server = createServer((request) => request.once('data', () => request.socket.destroy()))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  try {
    const root = join(dir, 'node')
    await cas(['--root', root, 'init'], factory)
    await writeFile(join(root, 'api'), `http://127.0.0.1:${(server.address() as AddressInfo).port}\n`)
    await writeFile(join(root, 'api.token'), `${'a'.repeat(64)}\n`)
    // Much more than the sockets buffer, so the upload is still being sent when the connection drops.
    const file = join(dir, 'big.bin')
    await writeFile(file, Buffer.alloc(64 * 1024 * 1024))
    const put = await cas(['--root', root, 'put', file], factory)
    expect(put).toMatchObject({ code: 1, stdout: '' })
    expect(put.stderr).toMatch(/^cas: the connection to the daemon at http:\/\/127\.0\.0\.1:\d+ was lost during the upload .*; the file was not stored\n$/)
  } finally {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  }
})

test('a bad config field is one line naming the field, exit 1', async () => {
  const root = join(dir, 'node')
  await cas(['--root', root, 'init'], factory)
  const config = JSON.parse(await readFile(join(root, 'config.json'), 'utf8')) as Record<string, unknown>
  await writeFile(join(root, 'config.json'), JSON.stringify({ ...config, replicas: 'three' }))
  const run = await cas(['--root', root, 'daemon'], factory)
  expect(run.code).toBe(1)
  expect(run.stderr).toMatch(/^cas: .*config\.json: replicas: .+\n$/)

  await writeFile(join(root, 'config.json'), JSON.stringify({ ...config, replicas: 0, colour: 'blue' }))
  const two = await cas(['--root', root, 'daemon'], factory)
  expect(two.stderr.trim().split('\n')).toEqual([expect.stringMatching(/replicas: /), expect.stringMatching(/colour: unknown key/)])
})

describe('graceful shutdown', () => {
  test('stop() lets a download in flight finish, or aborts it after the grace period', async () => {
    const root = join(dir, 'node')
    await cas(['--root', root, 'init'], factory)
    const config = JSON.parse(await readFile(join(root, 'config.json'), 'utf8')) as Record<string, unknown>
    await writeFile(join(root, 'config.json'), JSON.stringify({ ...config, listen: '127.0.0.1:0', api: '127.0.0.1:0' }))
    const logger = createLogger({ level: 'silent', pretty: false })
    const body = randomBytes(200_000)

    for (const grace of [30_000, 50]) {
      const daemon = await startDaemon({ root, createNode: factory, logger, processMetrics: false, webRoot: null, shutdownGraceMs: grace })
      const fake = fakes.at(-1)!
      await fake.put(Readable.from([body]), { name: 'slow.bin' })
      fake.chunkDelayMs = 5 // 200 chunks of 1000 bytes: about a second
      const response = await fetch(`${daemon.apiUrl}/v1/files/slow.bin`, { headers: { authorization: `Bearer ${daemon.token}` } })
      expect(response.status).toBe(200)
      const received = response.arrayBuffer().then(
        (buffer) => Buffer.from(buffer),
        () => undefined,
      )
      await daemon.stop()
      const got = await received
      if (grace === 30_000) {
        expect(got?.equals(body)).toBe(true)
      } else {
        expect(got).toBeUndefined()
        expect(fake.signals.at(-1)?.aborted).toBe(true)
      }
      await expect(stat(join(root, 'api'))).rejects.toThrow()
    }
  })
})

test('a mistyped command is one line with a suggestion, exit 2', async () => {
  const run = await cas(['lss'], factory)
  expect(run.code).toBe(2)
  expect(run.stderr).toMatch(/^cas: unknown command 'lss' \(Did you mean ls\?\) \(see cas --help\)\n$/)
})
