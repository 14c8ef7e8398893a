import { randomBytes } from 'node:crypto'
import { connect, createServer, type Server, type Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { createHost, generateNoiseKeyPair, tcpTransport, type Host, type PeerRecord, type Transport } from '@cas/p2p'

/**
 * Misbehaving peers for the fault suite, built on @cas/p2p with the network key so that they pass
 * the handshake and take part in gossip like any node: the daemons count them as live members
 * and place blobs on them. They run on 127.0.0.1 like the daemons: bans of peers that passed the
 * handshake go by node id, and a daemon never bans a loopback address (see HostOptions.banLoopback).
 */

/** Address the rogue peers use. */
export const ROGUE_HOST = '127.0.0.1'

/** TCP through the stock transport, keeping every dialled socket (so a test can cut them). */
export function rogueTransport(): Transport & { sockets: Duplex[] } {
  const base = tcpTransport()
  const sockets: Duplex[] = []
  return {
    sockets,
    listen: (addr) => base.listen(addr),
    dial: (addr, opts) =>
      new Promise((resolve, reject) => {
        const [host, port] = [addr.slice(0, addr.lastIndexOf(':')), Number(addr.slice(addr.lastIndexOf(':') + 1))]
        const socket: Socket = connect({ host, port })
        const fail = (err: Error): void => {
          socket.destroy()
          reject(err)
        }
        opts?.signal?.addEventListener('abort', () => fail(new Error('dial aborted')), { once: true })
        socket.once('error', fail)
        socket.once('connect', () => {
          socket.off('error', fail)
          socket.setNoDelay(true)
          sockets.push(socket)
          resolve(socket)
        })
      }),
  }
}

/** What a rogue peer does with the requests it gets. */
export type Behaviour = 'liar' | 'staller'

/** Counts of what a rogue peer was asked. */
export interface RogueStats {
  putBlob: number
  getBlob: number
  has: number
}

const UNLIMITED = Number.MAX_SAFE_INTEGER

/**
 * A peer with the network key that joins through gossip and then misbehaves:
 * - `liar` says yes to everything: confirms every put-blob (and keeps the bytes with one flipped),
 *   claims every blob in `has`, and serves wrong bytes for every get-blob;
 * - `staller` accepts every request and never answers.
 * Either way it keeps gossiping a fresh heartbeat, so its failure detector record says alive.
 * Fake records (for example a listener that never completes a handshake) can be gossiped along.
 */
export class RoguePeer {
  readonly stats: RogueStats = { putBlob: 0, getBlob: 0, has: 0 }
  readonly #kept = new Map<string, Buffer>()
  readonly #extra: PeerRecord[] = []
  readonly #pending = new Set<() => void>()
  #timer: NodeJS.Timeout | undefined

  private constructor(
    readonly host: Host,
    readonly behaviour: Behaviour,
  ) {}

  get id(): string {
    return this.host.id
  }

  /** Starts the peer, joins through `bootstrap` and gossips every `intervalMs`. */
  static async start(networkKey: Buffer, bootstrap: string, behaviour: Behaviour, intervalMs = 500): Promise<RoguePeer> {
    const addresses: string[] = []
    const host = await createHost({
      transport: rogueTransport(),
      staticKey: generateNoiseKeyPair(),
      networkKey,
      listen: [`${ROGUE_HOST}:0`],
      hello: () => ({ version: 1, addresses, capacity: UNLIMITED, used: 0 }),
    })
    addresses.push(...host.addresses)
    const peer = new RoguePeer(host, behaviour)
    peer.#install()
    await host.connect(bootstrap)
    peer.#gossip()
    peer.#timer = setInterval(() => peer.#gossip(), intervalMs)
    return peer
  }

  /** Gossips `record` (with a fresh heartbeat each round) as if it were a live member. */
  advertise(record: Omit<PeerRecord, 'heartbeat'>): void {
    this.#extra.push({ ...record, heartbeat: 0 })
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer)
    for (const release of this.#pending) release()
    await this.host.close()
  }

  #install(): void {
    const { host } = this
    host.onMessage('gossip', (msg) => {
      // Learn the other members' addresses so every daemon gets a direct connection.
      for (const record of (msg.header as { peers: PeerRecord[] }).peers) {
        if (record.id !== host.id && record.addresses.length > 0) host.addAddresses(record.id, record.addresses)
      }
    })
    const stall = (signal: AbortSignal): Promise<never> =>
      new Promise((_, reject) => {
        const release = (): void => reject(new Error('stopped'))
        this.#pending.add(release)
        signal.addEventListener('abort', () => {
          this.#pending.delete(release)
          reject(new Error('abandoned'))
        })
      })
    host.handle('put-blob', async ({ header, body, signal }) => {
      this.stats.putBlob++
      if (this.behaviour === 'staller') return stall(signal)
      const bad = Buffer.from(body ?? Buffer.alloc(1))
      bad[bad.length >> 1]! ^= 0x01
      if (this.#kept.size < 4096) this.#kept.set((header as { blob: string }).blob, bad)
      return { header: { stored: true } }
    })
    host.handle('get-blob', async ({ header, signal }) => {
      this.stats.getBlob++
      if (this.behaviour === 'staller') return stall(signal)
      return { header: {}, body: this.#kept.get((header as { blob: string }).blob) ?? randomBytes(1024 * 1024) }
    })
    host.handle('has', async ({ header, signal }) => {
      this.stats.has++
      if (this.behaviour === 'staller') return stall(signal)
      return { header: { have: (header as { blobs: string[] }).blobs.map(() => true) } }
    })
    for (const type of ['pin', 'unpin'] as const) {
      host.handle(type, async ({ header, signal }) => {
        if (this.behaviour === 'staller') return stall(signal)
        return { header: { ok: (header as { blobs: string[] }).blobs.map(() => true) } }
      })
    }
  }

  #gossip(): void {
    const { host } = this
    const now = Date.now()
    const self: PeerRecord = { id: host.id, addresses: host.addresses, heartbeat: now, capacity: UNLIMITED, used: 0 }
    const peers = [self, ...this.#extra.map((r) => ({ ...r, heartbeat: now }))]
    for (const conn of host.connections()) host.send(conn.peerId, 'gossip', { peers }).catch(() => {})
  }
}

/** A TCP listener that accepts connections and never sends a byte: a handshake into the void. */
export class SilentListener {
  readonly #sockets = new Set<Socket>()

  private constructor(readonly server: Server) {}

  static async start(): Promise<SilentListener> {
    const server = createServer()
    const listener = new SilentListener(server)
    server.on('connection', (socket) => {
      listener.#sockets.add(socket)
      socket.on('error', () => {})
      socket.on('close', () => listener.#sockets.delete(socket))
    })
    await new Promise<void>((resolve) => server.listen(0, ROGUE_HOST, resolve))
    return listener
  }

  get address(): string {
    const a = this.server.address() as { port: number }
    return `${ROGUE_HOST}:${a.port}`
  }

  /** Connections accepted so far and still held open. */
  get held(): number {
    return this.#sockets.size
  }

  async stop(): Promise<void> {
    for (const s of this.#sockets) s.destroy()
    await new Promise((resolve) => this.server.close(resolve))
  }
}
