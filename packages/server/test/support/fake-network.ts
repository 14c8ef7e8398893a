import { EventEmitter } from 'node:events'
import type { HelloLike, HostLike, IncomingMessage, IncomingRequest, PeerConnectionLike, Reply } from '../../src/components.js'

type Handler = (req: IncomingRequest) => Promise<{ header?: object; body?: Buffer } | void>

class FakeError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}

/**
 * An in-process stand-in for @cas/p2p: hosts find each other by address,
 * connections need the same network key, requests call the other host's
 * handler directly (bodies copied, as a wire would).
 */
export class FakeNetwork {
  readonly hosts = new Map<string, FakeHost>()
  private next = 0

  createHost(id: string, networkKey: string, hello: () => HelloLike): FakeHost {
    const addr = `fake:${this.next++}`
    const host = new FakeHost(this, id, addr, networkKey, hello)
    this.hosts.set(addr, host)
    return host
  }

  byId(id: string): FakeHost | undefined {
    for (const h of this.hosts.values()) if (h.id === id && !h.closed) return h
    return undefined
  }
}

export class FakeHost extends EventEmitter implements HostLike {
  readonly addresses: string[]
  closed = false
  readonly handlers = new Map<string, Handler>()
  readonly messageHandlers = new Map<string, (msg: IncomingMessage) => void>()
  readonly connected = new Set<string>()
  /** Peers this host was asked to drop the link to with disconnect(), in order. */
  readonly disconnects: string[] = []
  /** Test hook: rewrite outgoing reply bodies of this host (a lying holder). */
  tamper: ((type: string, body: Buffer | undefined) => Buffer | undefined) | undefined
  /**
   * Test hook: this host takes requests and never answers them; callers see TIMEOUT (after a
   * short delay rather than their full timeout, to keep tests fast). Gossip still flows.
   */
  stalled = false
  /** How long a stalled request hangs before the caller sees TIMEOUT. */
  stallMs = 200
  /** Stalled requests still hanging (their callers have neither timed out nor aborted yet). */
  stalledPending = 0
  /** Types of the requests that reached this host while it was stalled. */
  readonly stalledRequests: string[] = []
  /** Test hook: cut off from the network (nothing in or out) but alive, its store intact; false again to come back. */
  offline = false

  constructor(
    private readonly net: FakeNetwork,
    readonly id: string,
    addr: string,
    readonly networkKey: string,
    readonly hello: () => HelloLike,
  ) {
    super()
    this.addresses = [addr]
  }

  handle(type: string, handler: Handler): void {
    this.handlers.set(type, handler)
  }

  onMessage(type: string, handler: (msg: IncomingMessage) => void): void {
    this.messageHandlers.set(type, handler)
  }

  connect(addr: string, opts?: { expectedId?: string }): Promise<PeerConnectionLike> {
    if (this.closed) return Promise.reject(new FakeError('CLOSED', 'host closed'))
    const other = this.net.hosts.get(addr)
    if (this.offline || other?.offline === true) return Promise.reject(new FakeError('UNREACHABLE', `no route to ${addr}`))
    if (other === undefined || other.closed) return Promise.reject(new FakeError('UNREACHABLE', `nothing at ${addr}`))
    if (other.networkKey !== this.networkKey) return Promise.reject(new FakeError('HANDSHAKE_FAILED', 'network key mismatch'))
    if (opts?.expectedId !== undefined && opts.expectedId !== other.id) return Promise.reject(new FakeError('UNEXPECTED_PEER', 'wrong peer'))
    const fresh = !this.connected.has(other.id)
    this.connected.add(other.id)
    other.connected.add(this.id)
    if (fresh) {
      other.emit('peer:connect', { peerId: this.id, hello: this.hello(), remoteAddress: this.addresses[0]! })
      this.emit('peer:connect', { peerId: other.id, hello: other.hello(), remoteAddress: addr })
    }
    return Promise.resolve({ peerId: other.id, hello: other.hello(), remoteAddress: addr })
  }

  private peer(id: string): FakeHost {
    const other = this.net.byId(id)
    if (this.closed) throw new FakeError('CLOSED', 'host closed')
    if (other === undefined || !this.connected.has(id) || this.offline || other.offline) {
      this.connected.delete(id)
      throw new FakeError('CLOSED', `not connected to ${id}`)
    }
    return other
  }

  async request(peer: string, type: string, header: object, body?: Buffer, opts: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<Reply> {
    const other = this.peer(peer)
    const handler = other.handlers.get(type)
    if (handler === undefined) throw new FakeError('PROTOCOL', `no handler for ${type}`)
    if (other.stalled) {
      other.stalledRequests.push(type)
      // Hangs until the caller's own timeout (or the stall time, if shorter) or its abort.
      other.stalledPending++
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(resolve, Math.min(other.stallMs, opts.timeoutMs ?? Number.POSITIVE_INFINITY))
        opts.signal?.addEventListener('abort', () => {
          clearTimeout(timer)
          reject(new FakeError('ABORTED', `${type} request aborted`))
        })
      }).finally(() => other.stalledPending--)
      throw new FakeError('TIMEOUT', `${type} request timed out`)
    }
    await new Promise((r) => setImmediate(r))
    try {
      const reply = await handler({
        peer: this.id,
        header: { ...header },
        ...(body ? { body: Buffer.from(body) } : {}),
        signal: new AbortController().signal,
      })
      if (other.closed) throw new FakeError('CLOSED', 'peer went away')
      const out = other.tamper ? other.tamper(type, reply?.body) : reply?.body
      return { header: (reply?.header ?? {}) as Record<string, unknown>, ...(out ? { body: Buffer.from(out) } : {}) }
    } catch (err) {
      const code = (err as { code?: unknown }).code
      throw new FakeError(typeof code === 'string' ? code : 'REMOTE', (err as Error).message)
    }
  }

  async send(peer: string, type: string, header: object): Promise<void> {
    const other = this.peer(peer)
    await new Promise((r) => setImmediate(r))
    other.messageHandlers.get(type)?.({ peer: this.id, header: JSON.parse(JSON.stringify(header)) as Record<string, unknown> })
  }

  isConnected(peer: string): boolean {
    return this.connected.has(peer) && this.net.byId(peer) !== undefined
  }

  /** Drops the link both ways; `ifSilentForMs` is ignored (no bytes flow here to be silent). */
  disconnect(peer: string): boolean {
    this.disconnects.push(peer)
    const had = this.connected.delete(peer)
    this.net.byId(peer)?.connected.delete(this.id)
    return had
  }

  close(): Promise<void> {
    this.closed = true
    return Promise.resolve()
  }
}
