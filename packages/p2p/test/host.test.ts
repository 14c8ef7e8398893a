import { randomBytes } from 'node:crypto'
import { afterEach, describe, expect, test } from 'vitest'
import type { Connection } from '../src/connection.js'
import { P2PError } from '../src/errors.js'
import type { Host } from '../src/host.js'
import type { Limits } from '../src/limits.js'
import { MemoryNetwork, memoryTransport } from '../src/transports/memory.js'
import { tcpTransport } from '../src/transports/tcp.js'
import { isLoopbackHost, type Transport } from '../src/transports/transport.js'
import { recordingLogger, startHost } from './support/hosts.js'
import { deferred, turns, until } from './support/until.js'

const BLOB = 'ab'.repeat(32)

async function rejection(promise: Promise<unknown>): Promise<P2PError> {
  try {
    await promise
  } catch (err) {
    if (err instanceof P2PError) return err
    throw err
  }
  throw new Error('expected a rejection')
}

const transports: [string, () => () => Transport, string][] = [
  ['memory', () => {
    const network = new MemoryNetwork()
    return () => memoryTransport(network)
  }, 'mem:0'],
  ['tcp', () => () => tcpTransport(), '127.0.0.1:0'],
]

describe.each(transports)('host over %s', (_name, makeNetwork, listenAddr) => {
  let make: () => Transport
  const hosts: Host[] = []
  afterEach(async () => {
    await Promise.all(hosts.splice(0).map((h) => h.close()))
  })

  async function host(options: Parameters<typeof startHost>[2] = {}): Promise<Host> {
    make ??= makeNetwork()
    const h = await startHost(make(), listenAddr, options)
    hosts.push(h)
    return h
  }

  async function pair(limitsA: Partial<Limits> = {}, limitsB: Partial<Limits> = {}): Promise<[Host, Host]> {
    make = makeNetwork()
    const a = await host({ limits: limitsA })
    const b = await host({ limits: limitsB })
    await a.connect(b.addresses[0]!, { expectedId: b.id })
    return [a, b]
  }

  test('request and response carry headers and raw bodies; the remote id is authenticated', async () => {
    const [a, b] = await pair()
    b.handle('put-blob', async (req) => {
      expect(req.peer).toBe(a.id)
      expect(req.header).toEqual({ blob: BLOB, pins: [{ owner: a.id, seq: 3 }] })
      return Promise.resolve({ header: { stored: req.body!.length === 100_000 } })
    })
    b.handle('get-blob', (req) => Promise.resolve({ body: Buffer.alloc(Number(req.header.length), 7) }))
    const put = await a.request(b.id, 'put-blob', { blob: BLOB, pins: [{ owner: a.id, seq: 3 }] }, randomBytes(100_000))
    expect(put).toEqual({ header: { stored: true } })
    const got = await a.request(b.id, 'get-blob', { blob: BLOB, length: 3_000_000 })
    expect(got.body!.equals(Buffer.alloc(3_000_000, 7))).toBe(true)
    expect(a.connection(b.id)!.peerId).toBe(b.id)
    expect(b.connection(a.id)!.hello.addresses).toEqual(a.addresses)
  })

  test('bodies received arrive in memory from the host\'s body allocator', async () => {
    make = makeNetwork()
    const made = new Set<ArrayBufferLike>()
    const a = await host({
      allocateBody: (length) => {
        const memory = Buffer.allocUnsafeSlow(length)
        made.add(memory.buffer)
        return memory
      },
    })
    const b = await host()
    await a.connect(b.addresses[0]!, { expectedId: b.id })
    const sent = randomBytes(1_000_000)
    let received: Buffer | undefined
    a.handle('put-blob', (req) => {
      received = req.body
      return Promise.resolve({ header: { stored: true } })
    })
    b.handle('get-blob', () => Promise.resolve({ body: sent }))
    const got = await a.request(b.id, 'get-blob', { blob: BLOB })
    expect(got.body!.equals(sent)).toBe(true)
    expect(made.has(got.body!.buffer)).toBe(true)
    await b.request(a.id, 'put-blob', { blob: BLOB, pins: [] }, sent)
    expect(received!.equals(sent)).toBe(true)
    expect(made.has(received!.buffer)).toBe(true)
    expect(made.size).toBe(2)
  })

  test('a handler learns when its reply body is encrypted, and may reuse the memory from then on', async () => {
    const [a, b] = await pair()
    const served = randomBytes(1_000_000)
    const memory = Buffer.from(served)
    let encrypted = 0
    b.handle('get-blob', () =>
      Promise.resolve({
        body: memory,
        bodyEncrypted: () => {
          encrypted++
          memory.fill(0)
        },
      }),
    )
    const got = await a.request(b.id, 'get-blob', { blob: BLOB })
    expect(encrypted).toBe(1)
    expect(got.body!.equals(served)).toBe(true)
  })

  test('requests flow both ways over the one connection', async () => {
    const [a, b] = await pair()
    a.handle('ping', () => Promise.resolve())
    b.handle('ping', () => Promise.resolve())
    await b.request(a.id, 'ping', {})
    await a.request(b.id, 'ping', {})
    expect(a.connections()).toHaveLength(1)
    expect(b.connections()).toHaveLength(1)
  })

  test('one-way messages are delivered, validated by their schema', async () => {
    const [a, b] = await pair()
    const got = deferred<unknown>()
    b.onMessage('gossip', (msg) => got.resolve({ peer: msg.peer, header: msg.header }))
    const record = { id: a.id, addresses: ['x:1'], heartbeat: 5, capacity: 10, used: 1 }
    await a.send(b.id, 'gossip', { peers: [record] })
    expect(await got.promise).toEqual({ peer: a.id, header: { peers: [record] } })
    await expect(a.send(b.id, 'gossip', { peers: [{ id: 'nope' }] })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
  })

  test('error replies carry stable codes', async () => {
    const [a, b] = await pair()
    b.handle('get-blob', () => Promise.reject(new P2PError('NOT_FOUND', 'no such blob')))
    b.handle('has', () => Promise.reject(new Error('disk on fire')))
    const notFound = await rejection(a.request(b.id, 'get-blob', { blob: BLOB }))
    expect(notFound.code).toBe('NOT_FOUND')
    expect(notFound.remoteCode).toBe('NOT_FOUND')
    expect((await rejection(a.request(b.id, 'has', { blobs: [] }))).code).toBe('INTERNAL')
    expect((await rejection(a.request(b.id, 'pin', { blobs: [], seq: 1 }))).code).toBe('UNKNOWN_TYPE')
    // The connection survives error replies.
    b.handle('ping', () => Promise.resolve())
    await a.request(b.id, 'ping', {})
  })

  test('timeouts and aborts reject the caller and abort the remote handler', async () => {
    const [a, b] = await pair()
    const aborted: unknown[] = []
    const started = deferred()
    b.handle('slow', (req) => {
      started.resolve()
      return new Promise((resolve) => req.signal.addEventListener('abort', () => {
        aborted.push(req.signal.reason)
        resolve()
      }))
    })
    expect((await rejection(a.request(b.id, 'slow', {}, undefined, { timeoutMs: 50 }))).code).toBe('TIMEOUT')
    await until(() => aborted.length === 1)
    const controller = new AbortController()
    const pending = a.request(b.id, 'slow', {}, undefined, { signal: controller.signal })
    await started.promise
    controller.abort()
    expect((await rejection(pending)).code).toBe('ABORTED')
    await until(() => aborted.length === 2)
    expect(a.connection(b.id)).toBeDefined()
  })

  test('many concurrent requests share a connection; in-flight requests stay within the limit', async () => {
    const [a, b] = await pair({ maxOutgoingRequests: 16 })
    let running = 0
    let peak = 0
    b.handle('echo', async (req) => {
      running++
      peak = Math.max(peak, running)
      await turns(2)
      running--
      return { header: { n: req.header.n }, body: req.body }
    })
    const results = await Promise.all(Array.from({ length: 300 }, (_, n) => a.request(b.id, 'echo', { n }, Buffer.from(String(n)))))
    results.forEach((r, n) => {
      expect(r.header.n).toBe(n)
      expect(r.body!.toString()).toBe(String(n))
    })
    expect(peak).toBeGreaterThan(1)
    expect(peak).toBeLessThanOrEqual(16)
  })

  test('a peer with too many requests in flight gets BUSY', async () => {
    const [a, b] = await pair({ maxOutgoingRequests: 50 }, { maxIncomingRequests: 4 })
    const release = deferred()
    b.handle('hold', () => release.promise)
    const settled = Array.from({ length: 10 }, () => a.request(b.id, 'hold', {}).then(() => 'ok', (err: P2PError) => err.code))
    await until(() => b.connection(a.id) !== undefined && (b.connection(a.id) as Connection).incomingRequests === 4)
    release.resolve()
    const codes = await Promise.all(settled)
    expect(codes.filter((c) => c === 'ok')).toHaveLength(4)
    expect(codes.filter((c) => c === 'BUSY')).toHaveLength(6)
  })

  test('callers beyond the wait queue get BUSY at once instead of queueing without bound', async () => {
    const [a, b] = await pair({ maxOutgoingRequests: 1, maxQueuedCalls: 2 })
    const release = deferred()
    b.handle('hold', () => release.promise)
    const settled = Array.from({ length: 5 }, () => a.request(b.id, 'hold', {}).then(() => 'ok', (err: P2PError) => err.code))
    const codes = await Promise.race([Promise.all(settled.slice(3)), turns(50).then(() => ['pending'])])
    expect(codes).toEqual(['BUSY', 'BUSY'])
    release.resolve()
    expect(await Promise.all(settled.slice(0, 3))).toEqual(['ok', 'ok', 'ok'])
  })

  test('reading pauses while in-flight request bodies exceed the byte budget', async () => {
    const [a, b] = await pair({}, { maxIncomingBytes: 1024 * 1024 })
    const release = deferred()
    let running = 0
    let peak = 0
    b.handle('store', async () => {
      running++
      peak = Math.max(peak, running)
      await release.promise
      running--
    })
    const body = Buffer.alloc(512 * 1024)
    const all = Promise.all(Array.from({ length: 20 }, () => a.request(b.id, 'store', {}, body)))
    await until(() => running >= 2)
    await turns(50)
    expect(peak).toBeLessThanOrEqual(4)
    release.resolve()
    await all
    expect(peak).toBeLessThanOrEqual(4)
  })

  test('messages over the size limit are refused locally and the connection stays usable', async () => {
    const [a, b] = await pair({ maxBodyBytes: 1000 })
    b.handle('echo', (req) => Promise.resolve({ body: req.body }))
    expect((await rejection(a.request(b.id, 'echo', {}, Buffer.alloc(1001)))).code).toBe('MESSAGE_TOO_LARGE')
    expect((await a.request(b.id, 'echo', {}, Buffer.alloc(1000))).body!.length).toBe(1000)
  })

  test('a reply over the size limit becomes a MESSAGE_TOO_LARGE error reply', async () => {
    const [a, b] = await pair({}, { maxBodyBytes: 1000 })
    b.handle('big', () => Promise.resolve({ body: Buffer.alloc(2000) }))
    expect((await rejection(a.request(b.id, 'big', {}))).code).toBe('MESSAGE_TOO_LARGE')
  })

  test('an invalid response header rejects the request and drops the connection', async () => {
    const logger = recordingLogger()
    make = makeNetwork()
    const a = await host({ logger })
    const b = await host()
    b.handle('has', () => Promise.resolve({ header: { have: 'yes' } }))
    await a.connect(b.addresses[0]!)
    expect((await rejection(a.request(b.id, 'has', { blobs: [BLOB] }))).code).toBe('PROTOCOL')
    await until(() => !a.isConnected(b.id))
    expect(logger.entries.some((e) => e.level === 'warn' && /broke the protocol/.test(e.msg ?? ''))).toBe(true)
  })

  test('the dialer refuses a peer with another id (UNEXPECTED_PEER)', async () => {
    make = makeNetwork()
    const a = await host()
    const c = await host()
    expect((await rejection(a.connect(c.addresses[0]!, { expectedId: 'ff'.repeat(32) }))).code).toBe('UNEXPECTED_PEER')
    expect(a.isConnected(c.id)).toBe(false)
    expect(c.isConnected(a.id)).toBe(false)
  })

  test('a peer without the network key cannot complete a handshake and gets banned after repeats', async () => {
    const logger = recordingLogger()
    make = makeNetwork()
    // Over TCP the outsider comes from 127.0.0.1: loopback bans are asked for here (see the next test).
    const server = await host({ logger, limits: { maxOffences: 3 }, banLoopback: true })
    const outsider = await host({ networkKey: randomBytes(32), limits: { dialAttempts: 1 } })
    let connected = 0
    server.on('peer:connect', () => connected++)
    for (let i = 0; i < 3; i++) {
      const err = await rejection(outsider.connect(server.addresses[0]!))
      expect(['HANDSHAKE_FAILED', 'DIAL_FAILED']).toContain(err.code)
      // Both sides say what is most likely wrong (the ban, once in place, refuses before a handshake).
      if (i === 0) expect(causeMessages(err)).toMatch(/another network key/)
    }
    expect(connected).toBe(0)
    expect(server.connections()).toHaveLength(0)
    await until(() => logger.entries.filter((e) => /inbound handshake failed/.test(e.msg ?? '')).length >= 3)
    const failure = logger.entries.find((e) => /inbound handshake failed/.test(e.msg ?? ''))!.obj as { remote: string; reason: string }
    expect(failure.reason).toMatch(/another network key/)
    const remoteHost = failure.remote.slice(0, failure.remote.lastIndexOf(':'))
    await until(() => server.isBanned(remoteHost))
    // A banned remote is refused before any handshake work.
    expect(await rejection(outsider.connect(server.addresses[0]!))).toBeInstanceOf(P2PError)
  })

  test('by default failed handshakes from loopback are closed and logged but never ban the address', async () => {
    const logger = recordingLogger()
    make = makeNetwork()
    const server = await host({ logger, limits: { maxOffences: 2 } })
    const outsider = await host({ networkKey: randomBytes(32), limits: { dialAttempts: 1 } })
    for (let i = 0; i < 4; i++) await rejection(outsider.connect(server.addresses[0]!))
    // At least as many failures as it takes to be banned (a banned address is refused before any handshake).
    await until(() => logger.entries.filter((e) => /inbound handshake failed/.test(e.msg ?? '')).length >= 2)
    const failure = logger.entries.find((e) => /inbound handshake failed/.test(e.msg ?? ''))!.obj as { remote: string }
    const remoteHost = failure.remote.slice(0, failure.remote.lastIndexOf(':'))
    // The memory transport's addresses are not loopback: there the address is banned as before.
    expect(server.isBanned(remoteHost)).toBe(!isLoopbackHost(remoteHost))
    if (isLoopbackHost(remoteHost)) {
      // A node of the network on the same machine still gets in.
      const neighbour = await host()
      await neighbour.connect(server.addresses[0]!, { expectedId: server.id })
      expect(server.isConnected(neighbour.id)).toBe(true)
    }
  })

  test('simultaneous dials end with one connection that both sides agree on', async () => {
    for (let round = 0; round < 10; round++) {
      make = makeNetwork()
      const a = await host()
      const b = await host()
      await Promise.all([a.connect(b.addresses[0]!), b.connect(a.addresses[0]!)])
      await until(() => a.connections().length === 1 && b.connections().length === 1)
      const ca = a.connection(b.id) as Connection
      const cb = b.connection(a.id) as Connection
      expect(ca.handshakeHash.equals(cb.handshakeHash)).toBe(true)
      a.handle('ping', () => Promise.resolve())
      await b.request(a.id, 'ping', {})
      await Promise.all([a.close(), b.close()])
      hosts.length = 0
    }
  })

  test('connect() reuses the connection to a peer', async () => {
    const [a, b] = await pair()
    const first = a.connection(b.id)
    const again = await a.connect(b.addresses[0]!, { expectedId: b.id })
    expect(again).toBe(first)
    const [x, y] = await Promise.all([a.connect(b.addresses[0]!), a.connect(b.addresses[0]!)])
    expect(x).toBe(y)
  })

  test('request() dials a peer through addresses it learnt', async () => {
    make = makeNetwork()
    const a = await host()
    const b = await host()
    b.handle('ping', () => Promise.resolve({ header: {} }))
    expect((await rejection(a.request(b.id, 'ping', {}))).code).toBe('DIAL_FAILED')
    a.addAddresses(b.id, b.addresses)
    await a.request(b.id, 'ping', {})
    expect(a.isConnected(b.id)).toBe(true)
  })

  test('an unreachable address fails after retries, then fails fast during backoff', async () => {
    make = makeNetwork()
    const a = await host({ limits: { dialAttempts: 2, dialBackoffMs: 200, dialBackoffMaxMs: 60_000 } })
    const b = await host()
    const addr = b.addresses[0]!
    await b.close()
    expect((await rejection(a.connect(addr))).code).toBe('DIAL_FAILED')
    const fast = await rejection(a.connect(addr))
    expect(fast.code).toBe('DIAL_FAILED')
    expect(fast.message).toMatch(/backoff/)
  })

  test('idle connections close gracefully', async () => {
    const [a, b] = await pair({ idleTimeoutMs: 50 })
    const gone = deferred<string>()
    a.on('peer:disconnect', (id: string) => gone.resolve(id))
    expect(await gone.promise).toBe(b.id)
    await until(() => !b.isConnected(a.id))
  })

  test('close() waits for in-flight requests, and the peer sees a clean disconnect', async () => {
    const [a, b] = await pair()
    const release = deferred()
    const started = deferred()
    b.handle('work', async () => {
      started.resolve()
      await release.promise
      return { header: { done: true } }
    })
    const pending = a.request(b.id, 'work', {})
    await started.promise
    let closed = false
    const closing = b.close().then(() => (closed = true))
    await turns(20)
    expect(closed).toBe(false)
    // New work is refused while draining.
    expect((await rejection(a.request(b.id, 'ping', {}))).code).toMatch(/CLOSED|DIAL_FAILED/)
    release.resolve()
    expect((await pending).header).toEqual({ done: true })
    await closing
    await until(() => !a.isConnected(b.id))
  })

  test('disconnect() drops a connection at once; requests on it fail with CLOSED and the next one dials afresh', async () => {
    const [a, b] = await pair()
    const started = deferred()
    b.handle('work', async () => {
      started.resolve()
      return new Promise(() => {}) // never answers: only the drop can end this request
    })
    b.handle('ping', () => Promise.resolve({ header: {} }))
    a.addAddresses(b.id, b.addresses)
    const first = a.connection(b.id)
    const pending = rejection(a.request(b.id, 'work', {}))
    await started.promise
    // Bytes arrived moments ago (the handshake, the reply to nothing yet): not silent for a minute.
    expect(a.disconnect(b.id, { ifSilentForMs: 60_000 })).toBe(false)
    expect(a.isConnected(b.id)).toBe(true)
    expect(a.disconnect(b.id)).toBe(true)
    expect(a.isConnected(b.id)).toBe(false)
    expect((await pending).code).toBe('CLOSED')
    expect(a.disconnect(b.id)).toBe(false)
    await a.request(b.id, 'ping', {})
    expect(a.connection(b.id)).not.toBe(first)
  })

  test('peer:connect and peer:disconnect events', async () => {
    make = makeNetwork()
    const a = await host()
    const b = await host()
    const events: string[] = []
    a.on('peer:connect', (c: { peerId: string }) => events.push(`connect ${c.peerId === b.id}`))
    a.on('peer:disconnect', (id: string) => events.push(`disconnect ${id === b.id}`))
    await a.connect(b.addresses[0]!)
    await b.close()
    await until(() => events.length === 2)
    expect(events).toEqual(['connect true', 'disconnect true'])
  })

  test('reserved or malformed types are refused locally', async () => {
    const [a, b] = await pair()
    for (const type of ['res', 'error', 'goaway', 'cancel', 'hello', '']) {
      expect((await rejection(a.request(b.id, type, {}))).code).toBe('INVALID_ARGUMENT')
    }
    expect((await rejection(a.request(b.id, 'has', { blobs: ['x'] }))).code).toBe('INVALID_ARGUMENT')
  })
})

describe('dialing a silent listener', () => {
  test('the handshake times out and the dial fails without hanging', async () => {
    const network = new MemoryNetwork()
    const silent = await memoryTransport(network).listen('silent:0')
    silent.onConnection(() => {})
    const a = await startHost(memoryTransport(network), 'mem:0', { limits: { handshakeTimeoutMs: 50, dialAttempts: 1 } })
    try {
      const err = await rejection(a.connect(silent.addresses[0]!))
      expect(err.code).toBe('HANDSHAKE_FAILED')
      expect(err.message).toMatch(/timed out/)
      expect(a.connections()).toHaveLength(0)
    } finally {
      await a.close()
      await silent.close()
    }
  })
})

/** The messages of an error and its causes, joined. */
function causeMessages(err: unknown): string {
  const out: string[] = []
  for (let e = err; e instanceof Error; e = e.cause) out.push(e.message)
  return out.join(' <- ')
}
