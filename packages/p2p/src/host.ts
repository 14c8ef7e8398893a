import { EventEmitter } from 'node:events'
import type { Duplex } from 'node:stream'
import { MAX_ADDRESS_BOOK_PEERS, MAX_ADDRESSES_PER_PEER, MAX_PENDING_HANDSHAKES } from './constants.js'
import { backoffDelay, sleep } from './backoff.js'
import { Connection, type ConnectionRouter, type PeerConnection, type Reply, type RequestOptions, type Response } from './connection.js'
import { P2PError, isProgrammerError } from './errors.js'
import { performHandshake, type SecureSession } from './handshake.js'
import { resolveLimits, type Limits } from './limits.js'
import { silentLogger, type Logger } from './logger.js'
import { RESERVED_TYPES, messageTypes, requestTypes, type HeaderSchema, type Hello } from './messages.js'
import type { KeyPair } from './noise/dh.js'
import type { BodyAllocator } from './message-codec.js'
import { Penalties } from './penalties.js'
import { isLoopbackHost, remoteAddressOf, remoteHostOf, type Listener, type Transport } from './transports/transport.js'

/** An incoming request as a handler sees it. */
export interface IncomingRequest {
  /** Authenticated node id of the requester. */
  peer: string
  header: any // eslint-disable-line @typescript-eslint/no-explicit-any -- validated by the type's schema
  body?: Buffer
  /** Aborts when the requester gives up or the connection closes. */
  signal: AbortSignal
}

/** An incoming one-way message. */
export interface IncomingMessage {
  peer: string
  header: any // eslint-disable-line @typescript-eslint/no-explicit-any -- validated by the type's schema
  body?: Buffer
}

/** A request handler: return the reply, or throw (an error with a `code` becomes that error reply). */
export type RequestHandler = (req: IncomingRequest) => Promise<Reply | void>
/** A one-way message handler. */
export type MessageHandler = (msg: IncomingMessage) => void

/** Options of handle() and onMessage() for types outside the CAS schemas. */
export interface HandlerOptions {
  /** Validates the header fields (zod schema or compatible); without one, fields pass as sent. */
  schema?: HeaderSchema
  /** Validates the response fields seen by requesters of this type on this host. */
  responseSchema?: HeaderSchema
}

/** Options of createHost(). */
export interface HostOptions {
  transport: Transport
  /** This node's X25519 key pair: its identity. */
  staticKey: KeyPair
  /** 32-byte key shared by all nodes of one network (the Noise psk). */
  networkKey: Buffer
  /** Addresses to listen on (`host:port`, port 0 picks one); may be empty for a dial-only host. */
  listen: string[]
  /** The hello sent in each handshake (called per handshake, so it can report current usage). */
  hello: () => Hello
  logger?: Logger
  limits?: Partial<Limits>
  /**
   * Whether repeated failed handshakes from a loopback address (127.0.0.0/8, ::1) ban that address.
   * Off by default: every node of one machine (`cas demo`, several daemons on a host) connects
   * from loopback, so such a ban would cut one misbehaving local process's neighbours off too,
   * and no remote peer can come from there. The offending connections are still closed and logged,
   * and a peer that completes the handshake is banned by its id wherever it comes from.
   */
  banLoopback?: boolean
  /**
   * Memory for the bodies of received requests, replies and messages, which their receiver then
   * owns. Default: fresh memory for each. A node that gives back the memory of bodies it is done
   * with passes an allocator that reuses it: received blobs then stop being garbage.
   */
  allocateBody?: BodyAllocator
}

/** Options of connect(). */
export interface ConnectOptions {
  /** Abort with UNEXPECTED_PEER unless the remote has this node id. */
  expectedId?: string
  signal?: AbortSignal
}

interface Registered {
  handler: RequestHandler
  schema: HeaderSchema | undefined
}

const KNOWN_REQUESTS = requestTypes as Record<string, { request: HeaderSchema; response: HeaderSchema } | undefined>
const KNOWN_MESSAGES = messageTypes as Record<string, HeaderSchema | undefined>

function validate(schema: HeaderSchema | undefined, fields: Record<string, unknown>, what: string): unknown {
  if (schema === undefined) return fields
  const parsed = schema.safeParse(fields)
  if (!parsed.success) throw new P2PError('PROTOCOL', `invalid ${what}`, { cause: parsed.error })
  return parsed.data
}

/** Catches a malformed header of a known type here rather than as a protocol violation at the peer. */
function checkOutgoing(schema: HeaderSchema | undefined, header: object, type: string): void {
  if (schema === undefined) return
  const parsed = schema.safeParse(header)
  if (!parsed.success) throw new P2PError('INVALID_ARGUMENT', `invalid ${type} header`, { cause: parsed.error })
}

function checkType(type: string): void {
  if (RESERVED_TYPES.has(type) || type.length === 0 || type.length > 64) throw new P2PError('INVALID_ARGUMENT', `invalid message type "${type}"`)
}

/**
 * A node on the network: listens, dials, authenticates peers with the CAS handshake, keeps one
 * connection per peer and routes requests and one-way messages to handlers.
 *
 * Events: 'peer:connect' (PeerConnection) when a peer gets a usable connection, 'peer:disconnect'
 * (peer id) when it no longer has one.
 */
export class Host extends EventEmitter {
  /** This node's id: hex of its static public key. */
  readonly id: string
  readonly limits: Limits
  readonly #transport: Transport
  readonly #staticKey: KeyPair
  readonly #networkKey: Buffer
  readonly #hello: () => Hello
  readonly #log: Logger
  readonly #listeners: Listener[] = []
  readonly #handlers = new Map<string, Registered>()
  readonly #messageHandlers = new Map<string, { handler: MessageHandler; schema: HeaderSchema | undefined }>()
  readonly #responseSchemas = new Map<string, HeaderSchema>()
  /** The one usable connection per peer. */
  readonly #connections = new Map<string, Connection>()
  /** Every live connection, usable or draining. */
  readonly #all = new Set<Connection>()
  readonly #addressBook = new Map<string, string[]>()
  readonly #dialing = new Map<string, Promise<Connection>>()
  readonly #unreachable = new Map<string, { failures: number; until: number }>()
  readonly #penalties: Penalties
  readonly #banLoopback: boolean
  readonly #allocateBody: BodyAllocator | undefined
  readonly #shutdown = new AbortController()
  #pendingHandshakes = 0
  #closing: Promise<void> | undefined

  /** Use createHost(). */
  constructor(options: HostOptions) {
    super()
    if (options.networkKey.length !== 32) throw new P2PError('INVALID_ARGUMENT', 'network key must be 32 bytes')
    this.id = options.staticKey.publicKey.toString('hex')
    this.limits = resolveLimits(options.limits)
    this.#transport = options.transport
    this.#staticKey = options.staticKey
    this.#networkKey = options.networkKey
    this.#hello = options.hello
    this.#log = (options.logger ?? silentLogger).child({ host: this.id.slice(0, 16) })
    this.#penalties = new Penalties({ maxOffences: this.limits.maxOffences, banMs: this.limits.banMs, banMaxMs: this.limits.banMaxMs })
    this.#banLoopback = options.banLoopback ?? false
    this.#allocateBody = options.allocateBody
  }

  /** Actual listen addresses (port 0 resolved). */
  get addresses(): string[] {
    return this.#listeners.flatMap((l) => l.addresses)
  }

  /** @internal Starts listening; called by createHost(). */
  async start(listen: string[]): Promise<void> {
    for (const addr of listen) {
      const listener = await this.#transport.listen(addr)
      listener.onConnection((socket) => this.#onInbound(socket))
      this.#listeners.push(listener)
    }
  }

  /** Registers the handler of a request type (replacing any previous one). */
  handle(type: string, handler: RequestHandler, options: HandlerOptions = {}): void {
    checkType(type)
    this.#handlers.set(type, { handler, schema: options.schema ?? KNOWN_REQUESTS[type]?.request })
    if (options.responseSchema !== undefined) this.#responseSchemas.set(type, options.responseSchema)
  }

  /** Registers the handler of a one-way message type (replacing any previous one). */
  onMessage(type: string, handler: MessageHandler, options: HandlerOptions = {}): void {
    checkType(type)
    this.#messageHandlers.set(type, { handler, schema: options.schema ?? KNOWN_MESSAGES[type] })
  }

  /** Adds addresses at which a peer can be dialed (e.g. learnt from gossip). */
  addAddresses(peerId: string, addresses: readonly string[]): void {
    if (peerId === this.id || addresses.length === 0) return
    const known = this.#addressBook.get(peerId) ?? []
    const merged = [...new Set([...addresses, ...known])].slice(0, MAX_ADDRESSES_PER_PEER)
    this.#addressBook.delete(peerId)
    if (this.#addressBook.size >= MAX_ADDRESS_BOOK_PEERS) this.#addressBook.delete(this.#addressBook.keys().next().value!)
    this.#addressBook.set(peerId, merged)
  }

  /** Known addresses of a peer. */
  addressesOf(peerId: string): string[] {
    return [...(this.#addressBook.get(peerId) ?? [])]
  }

  /** Usable connections, one per peer. */
  connections(): PeerConnection[] {
    return [...this.#connections.values()]
  }

  /** The usable connection to a peer, if any. */
  connection(peerId: string): PeerConnection | undefined {
    return this.#connections.get(peerId)
  }

  isConnected(peerId: string): boolean {
    return this.#connections.has(peerId)
  }

  /** True while a peer id or remote host is banned for repeated protocol offences. */
  isBanned(key: string): boolean {
    return this.#penalties.isBanned(key)
  }

  /**
   * Connects to an address, or returns the existing connection to that peer. Retries with jittered
   * exponential backoff; an address that failed every attempt is skipped for a while (DIAL_FAILED).
   */
  async connect(addr: string, options: ConnectOptions = {}): Promise<PeerConnection> {
    return this.#connect(addr, options)
  }

  async #connect(addr: string, options: ConnectOptions): Promise<Connection> {
    const { expectedId, signal } = options
    if (this.#closing !== undefined) throw new P2PError('CLOSED', 'host is closed')
    if (expectedId !== undefined) {
      const existing = this.#connections.get(expectedId)
      if (existing !== undefined) return existing
    }
    let dial = this.#dialing.get(addr)
    if (dial === undefined) {
      dial = this.#dialWithRetries(addr, expectedId, signal)
      this.#dialing.set(addr, dial)
      const forget = (): void => {
        if (this.#dialing.get(addr) === dial) this.#dialing.delete(addr)
      }
      dial.then(forget, forget)
    }
    const conn = await dial
    if (expectedId !== undefined && conn.peerId !== expectedId) {
      throw new P2PError('UNEXPECTED_PEER', `expected peer ${expectedId.slice(0, 16)}…, got ${conn.peerId.slice(0, 16)}…`)
    }
    const current = this.#connections.get(conn.peerId)
    if (current !== undefined) return current
    if (!conn.isOpen) throw new P2PError('CLOSED', `the connection to ${conn.peerId.slice(0, 16)}… was closed by the peer`)
    return conn
  }

  async #dialWithRetries(addr: string, expectedId: string | undefined, signal: AbortSignal | undefined): Promise<Connection> {
    const blocked = this.#unreachable.get(addr)
    if (blocked !== undefined && blocked.until > Date.now()) {
      throw new P2PError('DIAL_FAILED', `${addr} is unreachable; retrying after backoff`)
    }
    const { dialAttempts, dialBackoffMs, dialBackoffMaxMs } = this.limits
    let lastError: unknown
    for (let attempt = 0; attempt < dialAttempts; attempt++) {
      if (attempt > 0) await sleep(backoffDelay(attempt, dialBackoffMs, dialBackoffMaxMs), AbortSignal.any([this.#shutdown.signal, ...(signal ? [signal] : [])]))
      try {
        const conn = await this.#dialOnce(addr, expectedId, signal)
        this.#unreachable.delete(addr)
        return conn
      } catch (err) {
        lastError = err
        const code = (err as P2PError).code
        if (code === 'UNEXPECTED_PEER' || code === 'ABORTED' || code === 'CLOSED' || code === 'HANDSHAKE_FAILED' || isProgrammerError(err)) throw err
        this.#log.debug({ addr, attempt, err }, 'dial failed')
      }
    }
    const failures = (blocked?.failures ?? 0) + 1
    if (this.#unreachable.size >= MAX_ADDRESS_BOOK_PEERS) this.#unreachable.delete(this.#unreachable.keys().next().value!)
    // Equal jitter: skipped for at least half the doubled delay, so callers in a loop cannot hammer it.
    const delay = Math.min(dialBackoffMaxMs, dialBackoffMs * 2 ** (failures + dialAttempts - 1))
    this.#unreachable.set(addr, { failures, until: Date.now() + delay / 2 + backoffDelay(0, delay / 2, delay / 2) })
    if (lastError instanceof P2PError && lastError.code === 'TIMEOUT') throw lastError
    throw new P2PError('DIAL_FAILED', `could not reach ${addr}`, { cause: lastError })
  }

  async #dialOnce(addr: string, expectedId: string | undefined, userSignal: AbortSignal | undefined): Promise<Connection> {
    const timeout = AbortSignal.timeout(this.limits.dialTimeoutMs)
    const signal = AbortSignal.any([timeout, this.#shutdown.signal, ...(userSignal ? [userSignal] : [])])
    let socket: Duplex
    try {
      socket = await this.#transport.dial(addr, { signal })
    } catch (err) {
      throw this.#abortError(err, timeout, userSignal, addr)
    }
    socket.on('error', (err) => this.#log.debug({ err, addr }, 'socket error'))
    try {
      const session = await performHandshake({
        socket,
        initiator: true,
        staticKey: this.#staticKey,
        networkKey: this.#networkKey,
        hello: this.#hello(),
        timeoutMs: this.limits.handshakeTimeoutMs,
        signal,
        ...(expectedId !== undefined ? { expectedId } : {}),
      })
      return this.#adopt(socket, session, this.id, addr)
    } catch (err) {
      socket.destroy()
      throw this.#abortError(err, timeout, userSignal, addr)
    }
  }

  #abortError(err: unknown, timeout: AbortSignal, userSignal: AbortSignal | undefined, addr: string): unknown {
    if (userSignal?.aborted === true) return new P2PError('ABORTED', `dial to ${addr} aborted`, { cause: userSignal.reason })
    if (this.#shutdown.signal.aborted) return new P2PError('CLOSED', 'host is closing')
    if (timeout.aborted) return new P2PError('TIMEOUT', `dial to ${addr} timed out`, { cause: err })
    return err
  }

  /** Connects to a peer by id through its known addresses. */
  async #connectPeer(peerId: string, signal: AbortSignal | undefined): Promise<Connection> {
    const existing = this.#connections.get(peerId)
    if (existing !== undefined) return existing
    const addresses = this.#addressBook.get(peerId) ?? []
    if (addresses.length === 0) throw new P2PError('DIAL_FAILED', `no known address for peer ${peerId.slice(0, 16)}…`)
    let lastError: unknown
    for (const addr of addresses) {
      try {
        return await this.#connect(addr, { expectedId: peerId, ...(signal ? { signal } : {}) })
      } catch (err) {
        if ((err as P2PError).code === 'ABORTED' || (err as P2PError).code === 'CLOSED') throw err
        lastError = err
      }
    }
    throw new P2PError('DIAL_FAILED', `could not reach peer ${peerId.slice(0, 16)}…`, { cause: lastError })
  }

  /** Sends a request to a peer (dialing it if needed) and resolves with the validated response. */
  async request(peer: string, type: string, header: object, body?: Buffer, options: RequestOptions = {}): Promise<Response> {
    checkType(type)
    checkOutgoing(KNOWN_REQUESTS[type]?.request, header, type)
    const conn = await this.#connectPeer(peer, options.signal)
    return conn.request(type, header, body, options)
  }

  /** Sends a one-way message to a peer (dialing it if needed). */
  async send(peer: string, type: string, header: object, body?: Buffer): Promise<void> {
    checkType(type)
    checkOutgoing(KNOWN_MESSAGES[type], header, type)
    const conn = await this.#connectPeer(peer, undefined)
    await conn.send(type, header, body)
  }

  /**
   * Drops the connection to a peer at once: requests in flight on it reject with CLOSED, and the
   * next request dials afresh. For a peer believed gone: after a network outage, the old TCP
   * connection can sit in retransmission backoff for minutes while a new one works at once.
   * With `ifSilentForMs`, only a connection on which nothing has arrived for that long is dropped
   * (one still bringing bytes is not stuck, whatever the caller believes). Returns whether a
   * connection was dropped.
   */
  disconnect(peerId: string, options: { ifSilentForMs?: number } = {}): boolean {
    const conn = this.#connections.get(peerId)
    if (conn === undefined || conn.silentForMs < (options.ifSilentForMs ?? 0)) return false
    this.#log.debug({ peer: peerId.slice(0, 16) }, 'dropping the connection to a peer believed gone')
    conn.destroy(new P2PError('CLOSED', `connection to ${peerId.slice(0, 16)}… dropped: the peer is believed gone`))
    return true
  }

  /** Closes gracefully: stops listening and dialing, waits for in-flight requests (bounded by closeTimeoutMs). */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#shutdown.abort(new P2PError('CLOSED', 'host is closing'))
      await Promise.all(this.#listeners.map((l) => l.close()))
      await Promise.all([...this.#all].map((c) => c.close()))
    })()
    return this.#closing
  }

  // ---- inbound -------------------------------------------------------------------------------

  #onInbound(socket: Duplex): void {
    socket.on('error', (err) => this.#log.debug({ err }, 'socket error'))
    const remote = remoteAddressOf(socket)
    const remoteHost = remoteHostOf(remote)
    if (this.#closing !== undefined || this.#pendingHandshakes >= MAX_PENDING_HANDSHAKES) {
      socket.destroy()
      return
    }
    if (this.#penalties.isBanned(remoteHost)) {
      this.#log.debug({ remote }, 'refusing banned remote')
      socket.destroy()
      return
    }
    this.#pendingHandshakes++
    performHandshake({
      socket,
      initiator: false,
      staticKey: this.#staticKey,
      networkKey: this.#networkKey,
      hello: this.#hello(),
      timeoutMs: this.limits.handshakeTimeoutMs,
      signal: this.#shutdown.signal,
    })
      .then(
        (session) => {
          try {
            this.#adopt(socket, session, session.remoteId, remote)
          } catch (err) {
            this.#log.debug({ remote, err }, 'inbound connection refused')
          }
        },
        (err: P2PError) => {
          socket.destroy()
          const closedEarly = err.cause instanceof P2PError && err.cause.code === 'HANDSHAKE_FAILED' && /closed/.test(err.message)
          if (err.code === 'ABORTED' || closedEarly) return
          this.#log.warn({ remote, code: err.code, reason: err.message }, 'inbound handshake failed')
          if ((this.#banLoopback || !isLoopbackHost(remoteHost)) && this.#penalties.offend(remoteHost)) {
            this.#log.warn({ remote }, 'banning remote host after repeated offences')
          }
        },
      )
      .finally(() => this.#pendingHandshakes--)
  }

  // ---- connection registry -------------------------------------------------------------------

  #adopt(socket: Duplex, session: SecureSession, dialerId: string, remoteAddress: string): Connection {
    const peerId = session.remoteId
    if (peerId === this.id) {
      socket.destroy()
      throw new P2PError('PROTOCOL', 'connected to self')
    }
    if (this.#penalties.isBanned(peerId) || this.#closing !== undefined) {
      socket.destroy()
      throw new P2PError(this.#closing !== undefined ? 'CLOSED' : 'BANNED', `peer ${peerId.slice(0, 16)}… refused`)
    }
    const conn = new Connection({ socket, session, dialerId, remoteAddress, limits: this.limits, logger: this.#log, router: this.#router, ...(this.#allocateBody ? { allocateBody: this.#allocateBody } : {}) })
    // Bytes that came with the handshake may already have broken the protocol...
    if (conn.isClosed) throw new P2PError('CLOSED', `connection to ${peerId.slice(0, 16)}… closed at once`)
    this.#all.add(conn)
    this.addAddresses(peerId, session.hello.addresses)
    const existing = this.#connections.get(peerId)
    if (!conn.isOpen) {
      // ...or carried the peer's goaway: it lost a duplicate-connection tie-break over there.
      void conn.close()
    } else if (existing === undefined) {
      this.#register(conn)
    } else if (this.#prefer(conn, existing)) {
      this.#log.debug({ peer: peerId.slice(0, 16) }, 'duplicate connection: keeping the new one')
      this.#connections.delete(peerId)
      this.#connections.set(peerId, conn)
      void existing.close()
    } else {
      this.#log.debug({ peer: peerId.slice(0, 16) }, 'duplicate connection: keeping the existing one')
      void conn.close()
    }
    return conn
  }

  /**
   * Decides which of two connections to one peer survives; both ends reach the same answer:
   * the one dialed by the smaller node id, or the newer one when both were dialed by the same side.
   */
  #prefer(candidate: Connection, existing: Connection): boolean {
    if (candidate.dialerId === existing.dialerId) return true
    const smaller = this.id < candidate.peerId ? this.id : candidate.peerId
    return candidate.dialerId === smaller
  }

  #register(conn: Connection): void {
    this.#connections.set(conn.peerId, conn)
    this.#log.debug({ peer: conn.peerId.slice(0, 16), remote: conn.remoteAddress }, 'peer connected')
    this.emit('peer:connect', conn)
  }

  readonly #router: ConnectionRouter = {
    prepareRequest: (conn, type, fields, body) => {
      const registered = this.#handlers.get(type)
      // A malformed header of a known type is a violation whether or not this host serves the type.
      const schema = registered?.schema ?? KNOWN_REQUESTS[type]?.request
      const header = validate(schema, fields, `${type} request`)
      if (registered === undefined) return undefined
      return (signal) => registered.handler(body === undefined ? { peer: conn.peerId, header, signal } : { peer: conn.peerId, header, body, signal })
    },
    parseResponse: (type, fields) => validate(this.#responseSchemas.get(type) ?? KNOWN_REQUESTS[type]?.response, fields, `${type} response`),
    deliverMessage: (conn, type, fields, body) => {
      const registered = this.#messageHandlers.get(type)
      if (registered === undefined) {
        this.#log.debug({ type }, 'no handler for one-way message')
        return
      }
      const header = validate(registered.schema, fields, `${type} message`)
      try {
        registered.handler(body === undefined ? { peer: conn.peerId, header } : { peer: conn.peerId, header, body })
      } catch (err) {
        if (isProgrammerError(err)) throw err
        this.#log.warn({ err, type }, 'message handler failed')
      }
    },
    onUnusable: (conn) => {
      if (this.#connections.get(conn.peerId) !== conn) return
      this.#connections.delete(conn.peerId)
      this.#log.debug({ peer: conn.peerId.slice(0, 16) }, 'peer disconnected')
      this.emit('peer:disconnect', conn.peerId)
    },
    onClose: (conn, reason) => {
      this.#all.delete(conn)
      if (reason !== undefined) this.#log.debug({ peer: conn.peerId.slice(0, 16), code: reason.code, reason: reason.message }, 'connection closed')
    },
    onOffence: (conn, err) => {
      if (this.#penalties.offend(conn.peerId)) this.#log.warn({ peer: conn.peerId.slice(0, 16), code: err.code }, 'banning peer after repeated offences')
      this.#penalties.offend(remoteHostOf(conn.remoteAddress))
    },
  }
}

/** Creates a host and starts listening on `options.listen`. */
export async function createHost(options: HostOptions): Promise<Host> {
  const host = new Host(options)
  try {
    await host.start(options.listen)
  } catch (err) {
    await host.close()
    throw err
  }
  return host
}
