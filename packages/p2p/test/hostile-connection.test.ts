/**
 * Hostile peers on live connections: garbage before and after the handshake, lies about lengths,
 * protocol violations and floods. The host must close the offending connection with a logged
 * reason, count and ban repeat offenders, bound its memory, and keep serving everyone else.
 */
import { randomBytes } from 'node:crypto'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { Connection } from '../src/connection.js'
import type { Host } from '../src/host.js'
import { generateKeyPair } from '../src/noise/dh.js'
import { MemoryNetwork, memoryTransport } from '../src/transports/memory.js'
import { fuzzCounter, runs } from './support/fuzz.js'
import { recordingLogger, startHost } from './support/hosts.js'
import { rawPeer } from './support/raw-peer.js'
import { turns, until } from './support/until.js'

const network = new MemoryNetwork()
const logger = recordingLogger()
let target: Host
let friend: Host

beforeAll(async () => {
  target = await startHost(memoryTransport(network), 'mem:0', { logger, limits: { maxOffences: 3 } })
  target.handle('ping', () => Promise.resolve({ header: {} }))
  target.handle('hold', () => new Promise(() => {}))
  friend = await startHost(memoryTransport(network), 'mem:0')
})

afterAll(async () => {
  await friend.close()
  await target.close()
})

/** The target still answers a well-behaved peer. */
async function stillServing(): Promise<void> {
  await friend.request(target.id, 'ping', {}).catch(async () => {
    friend.addAddresses(target.id, target.addresses)
    await friend.request(target.id, 'ping', {})
  })
}

function warnings(): number {
  return logger.entries.filter((e) => e.level === 'warn').length
}

// Raw ciphertext long enough to complete a frame, so the frame decoder must judge it.
const GARBAGE_FRAME = Buffer.concat([Buffer.from([0xff, 0xff]), randomBytes(65535)])

describe('before the handshake', () => {
  test('random bytes never get past the handshake and never crash the host', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 300 }), async (input) => {
        fuzzCounter.inputs++
        // A fresh transport per run: a new remote host, so bans do not hide later runs.
        const socket = await memoryTransport(network).dial(target.addresses[0]!)
        socket.on('error', () => {})
        socket.resume()
        const closed = new Promise((resolve) => socket.once('close', resolve))
        socket.write(Buffer.from(input))
        socket.end()
        await closed
      }),
      { numRuns: runs(150) },
    )
    expect(target.connections().filter((c) => c.peerId !== friend.id)).toHaveLength(0)
    await stillServing()
  })
})

describe('after the handshake', () => {
  test('random plaintext, then a forged frame: the connection closes with a logged reason', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 500 }), async (input) => {
        fuzzCounter.inputs++
        const before = warnings()
        const peer = await rawPeer(memoryTransport(network), target.addresses[0]!)
        peer.sendPlain(Buffer.from(input))
        peer.socket.write(GARBAGE_FRAME)
        await peer.closed
        await until(() => warnings() > before)
      }),
      { numRuns: runs(100) },
    )
    await stillServing()
  })

  test('well-framed messages with random headers never crash the host', async () => {
    const header = fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 })
    const type = fc.constantFrom('ping', 'has', 'put-blob', 'get-blob', 'gossip', 'pin', 'unpin', 'res', 'error', 'cancel', 'goaway', 'hello', 'x')
    const message = fc.record({ header, t: type, id: fc.option(fc.nat({ max: 5 }), { nil: undefined }) })
    await fc.assert(
      fc.asyncProperty(fc.array(message, { minLength: 1, maxLength: 6 }), async (messages) => {
        fuzzCounter.inputs++
        const peer = await rawPeer(memoryTransport(network), target.addresses[0]!)
        for (const m of messages) peer.sendMessage({ ...m.header, t: m.t, ...(m.id === undefined ? {} : { id: m.id }) })
        await turns(3)
        peer.socket.destroy()
        await peer.closed
      }),
      { numRuns: runs(100) },
    )
    await stillServing()
  })

  test('a length prefix claiming gigabytes is refused before allocating', async () => {
    const peer = await rawPeer(memoryTransport(network), target.addresses[0]!)
    const before = process.memoryUsage().arrayBuffers
    const prefix = Buffer.alloc(8)
    prefix.writeUInt32BE(16, 0)
    prefix.writeUInt32BE(0xffff_fff0, 4)
    peer.sendPlain(prefix)
    await peer.closed
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 * 1024 * 1024)
    expect(logger.entries.some((e) => (e.obj as { code?: string }).code === 'MESSAGE_TOO_LARGE')).toBe(true)
  })

  test('protocol violations close the connection: unknown reply ids, invalid requests, requests after goaway', async () => {
    const violations = [
      [{ t: 'res', id: 99 }],
      [{ t: 'has', id: 1, blobs: 'not-a-list' }],
      [{ t: 'goaway' }, { t: 'ping', id: 1 }],
      [{ t: 'hold', id: 1 }, { t: 'hold', id: 1 }],
      [{ t: 'cancel' }],
    ]
    for (const messages of violations) {
      const peer = await rawPeer(memoryTransport(network), target.addresses[0]!)
      for (const header of messages) peer.sendMessage(header)
      await peer.closed
    }
    await stillServing()
  })

  test('a repeat offender is banned: its later connections are refused', async () => {
    const staticKey = generateKeyPair()
    const id = staticKey.publicKey.toString('hex')
    for (let i = 0; i < 3; i++) {
      const peer = await rawPeer(memoryTransport(network), target.addresses[0]!, staticKey)
      peer.socket.write(GARBAGE_FRAME)
      await peer.closed
    }
    expect(target.isBanned(id)).toBe(true)
    const again = await rawPeer(memoryTransport(network), target.addresses[0]!, staticKey).catch(() => undefined)
    if (again !== undefined) await again.closed
    expect(target.isConnected(id)).toBe(false)
    await stillServing()
  })

  test('a flood of requests from a peer that never reads gets BUSY, then reading pauses', async () => {
    const peer = await rawPeer(memoryTransport(network), target.addresses[0]!)
    peer.socket.pause()
    peer.socket.removeAllListeners('data')
    let accepted = 0
    let id = 0
    // Bounded loop: stops when the target stops reading (write() says so) or after 20,000 requests.
    while (id < 20_000) {
      peer.sendMessage({ t: 'hold', id: id++ })
      if (peer.socket.writableNeedDrain) break
      if (id % 100 === 0) await turns(1)
      accepted = id
    }
    await turns(20)
    expect(id).toBeLessThan(20_000)
    // The flooder broke no rule (it asked too much, it did not send garbage): still connected, held at the bound.
    const peerId = peer.staticKey.publicKey.toString('hex')
    const conn = target.connections().find((c) => c.peerId === peerId) as Connection | undefined
    expect(conn).toBeDefined()
    expect(conn!.incomingRequests).toBe(target.limits.maxIncomingRequests)
    expect(accepted).toBeGreaterThan(target.limits.maxIncomingRequests)
    peer.socket.destroy()
    await stillServing()
  })

  test('a flood of requests of an unknown type from a peer that never reads: reading pauses too', async () => {
    const peer = await rawPeer(memoryTransport(network), target.addresses[0]!)
    peer.socket.pause()
    peer.socket.removeAllListeners('data')
    let id = 0
    // Bounded loop: each request costs the target an error reply; it must stop reading before 20,000.
    while (id < 20_000) {
      peer.sendMessage({ t: 'no-such-type', id: id++ })
      if (peer.socket.writableNeedDrain) break
      if (id % 100 === 0) await turns(1)
    }
    await turns(20)
    expect(id).toBeLessThan(20_000)
    peer.socket.destroy()
    await stillServing()
  })
})

describe('backpressure towards a slow reader', () => {
  test('send() waits for drain instead of queueing, and resumes when the peer reads', async () => {
    const peer = await rawPeer(memoryTransport(network), target.addresses[0]!)
    const id = peer.staticKey.publicKey.toString('hex')
    await until(() => target.isConnected(id))
    peer.socket.pause()
    const body = Buffer.alloc(256 * 1024)
    let resolved = 0
    const sends: Promise<void>[] = []
    // Bounded: 64 sends of 256 KiB; a sender that ignores drain resolves them all at once.
    for (let i = 0; i < 64; i++) sends.push(target.send(id, 'bulk', {}, body).then(() => void resolved++))
    await turns(50)
    expect(resolved).toBeGreaterThan(0)
    expect(resolved).toBeLessThan(64)
    peer.socket.resume()
    await Promise.all(sends)
    expect(resolved).toBe(64)
    peer.socket.destroy()
  })
})

test('inputs fed to live connections', () => {
  console.log(`live fuzz inputs: ${fuzzCounter.inputs}`)
  expect(fuzzCounter.inputs).toBeGreaterThan(0)
})
