/*
 * A secure connection to one peer, after the handshake.
 *
 *   socket 'data' -> FrameDecoder (verify + decrypt) -> MessageDecoder (u32 lengths, bounded) -> dispatch
 *   request()/send()/replies -> encodeMessage -> FrameEncoder (queued until end of tick) -> corked writes
 *
 * States: open -> draining (goaway sent or received: no new outgoing requests) -> closed. Both sides send
 * a goaway; once each has seen the other's and nothing is in flight either way, both end the stream,
 * so a graceful close never cuts a request that was already sent.
 *
 * Flow control: at most `maxOutgoingRequests` of our requests in flight (callers wait, a bounded number
 * of them); at most `maxIncomingRequests` of the peer's (excess gets BUSY at once); writers wait for
 * 'drain' whenever write() returned false; reading pauses while in-flight incoming bodies exceed
 * `maxIncomingBytes`, or while BUSY replies cannot be written. No queue here grows without a bound.
 */
import type { Duplex } from 'node:stream'
import { FLUSH_NOW_BYTES, MAX_ERROR_MESSAGE_LENGTH } from './constants.js'
import { P2PError, isProgrammerError } from './errors.js'
import { FrameDecoder, FrameEncoder } from './frame-codec.js'
import type { Limits } from './limits.js'
import type { Logger } from './logger.js'
import { MessageDecoder, encodeMessage, type BodyAllocator, type WireMessage } from './message-codec.js'
import { RESERVED_TYPES, cancelSchema, errorReplySchema, fieldsOf, type Envelope, type Hello } from './messages.js'
import type { SecureSession } from './handshake.js'

/** What a request handler may return. */
export interface Reply {
  header?: object
  body?: Buffer
  /**
   * Called once the body has been encrypted for sending: nothing reads its memory any more, so the
   * handler may reuse it. Not called when the reply is never sent (the connection closed first).
   */
  bodyEncrypted?: () => void
}

/** A response as seen by the requester. */
export interface Response {
  header: any // eslint-disable-line @typescript-eslint/no-explicit-any -- schema-validated per type by the host
  body?: Buffer
}

/** Options of one request. */
export interface RequestOptions {
  signal?: AbortSignal
  timeoutMs?: number
}

/** A connection as the rest of the world sees it. */
export interface PeerConnection {
  readonly peerId: string
  readonly hello: Hello
  readonly remoteAddress: string
}

/** How a connection hands messages to its owner. */
export interface ConnectionRouter {
  /**
   * Checks an incoming request and returns the work to run, or undefined for an unknown type.
   * Throws P2PError PROTOCOL for a header that does not fit the type's schema.
   */
  prepareRequest(
    conn: Connection,
    type: string,
    fields: Record<string, unknown>,
    body: Buffer | undefined,
  ): ((signal: AbortSignal) => Promise<Reply | void>) | undefined
  /** Validates a response's fields for the request type; throws P2PError PROTOCOL. */
  parseResponse(type: string, fields: Record<string, unknown>): unknown
  /** Delivers a one-way message; throws P2PError PROTOCOL for an invalid header. */
  deliverMessage(conn: Connection, type: string, fields: Record<string, unknown>, body: Buffer | undefined): void
  /** Called once the connection starts draining or closes: it takes no new requests from now on. */
  onUnusable(conn: Connection): void
  /** Called once when the connection has closed; `reason` is set when it ended on an error. */
  onClose(conn: Connection, reason: P2PError | undefined): void
  /** Called when the peer broke the protocol (the connection is being destroyed). */
  onOffence(conn: Connection, err: P2PError): void
}

/** Everything a connection needs. */
export interface ConnectionOptions {
  socket: Duplex
  session: SecureSession
  /** Node id of the side that dialed. */
  dialerId: string
  remoteAddress: string
  limits: Limits
  logger: Logger
  router: ConnectionRouter
  /** Memory for received message bodies (default: fresh each time). */
  allocateBody?: BodyAllocator
}

/** Options of one message write. */
interface WriteOptions {
  /** Aborts the wait for drain. */
  signal?: AbortSignal
  /** Asked after the wait: false drops the message unsent. */
  stillWanted?: () => boolean
  /** Called once the body is encrypted (see {@link Reply.bodyEncrypted}). */
  onEncrypted?: () => void
}

interface Pending {
  type: string
  resolve: (response: Response) => void
  reject: (err: P2PError) => void
  cleanup: () => void
}

interface Incoming {
  controller: AbortController
  bytes: number
}

const PAUSE_WORK = 1
const PAUSE_WRITE = 2
const ERROR_CODE = /^[A-Z][A-Z0-9_]{0,63}$/

function replyError(err: unknown): { code: string; message: string } {
  const code = (err as { code?: unknown } | undefined)?.code
  const message = err instanceof Error ? err.message : 'request failed'
  return {
    code: typeof code === 'string' && ERROR_CODE.test(code) ? code : 'INTERNAL',
    message: message.slice(0, MAX_ERROR_MESSAGE_LENGTH),
  }
}

/** One secure, multiplexed RPC connection to a peer. */
export class Connection implements PeerConnection {
  readonly peerId: string
  readonly hello: Hello
  readonly remoteAddress: string
  /** Node id of the side that dialed this connection (decides duplicate-connection ties). */
  readonly dialerId: string
  readonly handshakeHash: Buffer

  readonly #socket: Duplex
  readonly #limits: Limits
  readonly #log: Logger
  readonly #router: ConnectionRouter
  readonly #encoder: FrameEncoder
  readonly #frames: FrameDecoder
  readonly #messages: MessageDecoder

  #state: 'open' | 'draining' | 'closed' = 'open'
  #sentGoaway = false
  #receivedGoaway = false
  #closeReason: P2PError | undefined
  #closed: Promise<void>
  #resolveClosed!: () => void
  #closeTimer: NodeJS.Timeout | undefined
  #idleTimer: NodeJS.Timeout | undefined
  #lastActivity = Date.now()
  #lastReceived = Date.now()

  #nextId = 0
  readonly #pending = new Map<number, Pending>()
  readonly #incoming = new Map<number, Incoming>()
  #incomingBytes = 0
  #pauseReasons = 0
  #flushScheduled = false
  /** Callers waiting for a request slot or for drain; bounded by maxQueuedCalls. */
  #slotWaiters: (() => void)[] = []
  #drainWaiters: (() => void)[] = []

  constructor(options: ConnectionOptions) {
    const { socket, session } = options
    this.peerId = session.remoteId
    this.hello = session.hello
    this.handshakeHash = session.handshakeHash
    this.remoteAddress = options.remoteAddress
    this.dialerId = options.dialerId
    this.#socket = socket
    this.#limits = options.limits
    this.#router = options.router
    this.#log = options.logger.child({ peer: this.peerId.slice(0, 16), remote: this.remoteAddress })
    this.#encoder = new FrameEncoder(session.send)
    this.#messages = new MessageDecoder(options.limits, (message) => this.#dispatch(message), options.allocateBody)
    this.#frames = new FrameDecoder(session.receive, (plaintext) => this.#messages.push(plaintext))
    this.#closed = new Promise((resolve) => (this.#resolveClosed = resolve))

    socket.on('data', this.#onData)
    socket.on('drain', this.#onDrain)
    socket.on('error', this.#onSocketError)
    socket.on('close', this.#onSocketClose)
    for (const chunk of session.leftover) this.#onData(chunk)
    if (this.#state !== 'closed') socket.resume()
    this.#armIdleTimer(options.limits.idleTimeoutMs)
  }

  /** True while new requests may be sent. */
  get isOpen(): boolean {
    return this.#state === 'open'
  }

  /** True once the stream has closed. */
  get isClosed(): boolean {
    return this.#state === 'closed'
  }

  /** Requests of ours awaiting a response. */
  get pendingRequests(): number {
    return this.#pending.size
  }

  /** Requests of the peer being handled here. */
  get incomingRequests(): number {
    return this.#incoming.size
  }

  /** Resolves once the connection has closed. */
  get closed(): Promise<void> {
    return this.#closed
  }

  // ---- sending -------------------------------------------------------------------------------

  /** Sends a request and resolves with the response; error replies reject with P2PError(code). */
  async request(type: string, fields: object, body?: Buffer, options: RequestOptions = {}): Promise<Response> {
    this.#checkType(type)
    const { signal } = options
    if (signal?.aborted === true) throw new P2PError('ABORTED', 'request aborted', { cause: signal.reason })
    while (this.#pending.size >= this.#limits.maxOutgoingRequests) {
      await this.#wait(this.#slotWaiters, signal)
    }
    this.#checkOpen()
    const id = this.#nextId++
    const timeoutMs = options.timeoutMs ?? this.#limits.requestTimeoutMs
    const response = new Promise<Response>((resolve, reject) => {
      const onAbort = (): void => this.#abandon(id, new P2PError('ABORTED', `${type} request aborted`, { cause: signal?.reason }))
      const timer = setTimeout(() => this.#abandon(id, new P2PError('TIMEOUT', `${type} request timed out after ${timeoutMs} ms`)), timeoutMs)
      signal?.addEventListener('abort', onAbort, { once: true })
      const cleanup = (): void => {
        clearTimeout(timer)
        signal?.removeEventListener('abort', onAbort)
      }
      this.#pending.set(id, { type, resolve, reject, cleanup })
    })
    try {
      // A request that timed out or was aborted while waiting for drain is not sent at all.
      await this.#write({ ...fields, t: type, id }, body, { ...(signal ? { signal } : {}), stillWanted: () => this.#pending.has(id) })
    } catch (err) {
      this.#settle(id)?.reject(err as P2PError)
    }
    return response
  }

  /** Sends a one-way message; resolves once it is queued within the write budget. */
  async send(type: string, fields: object, body?: Buffer): Promise<void> {
    this.#checkType(type)
    this.#checkOpen()
    await this.#write({ ...fields, t: type }, body)
  }

  #checkType(type: string): void {
    if (RESERVED_TYPES.has(type)) throw new P2PError('INVALID_ARGUMENT', `message type "${type}" is reserved`)
  }

  #checkOpen(): void {
    if (this.#state !== 'open') throw new P2PError('CLOSED', 'connection is closing', { cause: this.#closeReason })
  }

  /** Waits in a bounded queue until woken; BUSY when the queue is full, ABORTED/CLOSED as they happen. */
  #wait(queue: (() => void)[], signal?: AbortSignal): Promise<void> {
    if (this.#state === 'closed') return Promise.reject(new P2PError('CLOSED', 'connection closed', { cause: this.#closeReason }))
    if (this.#slotWaiters.length + this.#drainWaiters.length >= this.#limits.maxQueuedCalls) {
      return Promise.reject(new P2PError('BUSY', 'too many callers waiting on this connection'))
    }
    return new Promise<void>((resolve, reject) => {
      const wake = (): void => {
        signal?.removeEventListener('abort', onAbort)
        if (this.#state === 'closed') reject(new P2PError('CLOSED', 'connection closed', { cause: this.#closeReason }))
        else resolve()
      }
      const onAbort = (): void => {
        const index = queue.indexOf(wake)
        if (index >= 0) queue.splice(index, 1)
        reject(new P2PError('ABORTED', 'aborted while waiting', { cause: signal?.reason }))
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      queue.push(wake)
    })
  }

  async #write(header: Envelope, body: Buffer | undefined, options: WriteOptions = {}): Promise<void> {
    const { signal, stillWanted, onEncrypted } = options
    while (this.#socket.writableNeedDrain && this.#state !== 'closed') await this.#wait(this.#drainWaiters, signal)
    if (this.#state === 'closed') throw new P2PError('CLOSED', 'connection closed', { cause: this.#closeReason })
    if (stillWanted?.() === false) return
    this.#enqueue(header, body, onEncrypted)
  }

  /** Encodes and queues a message now; throws MESSAGE_TOO_LARGE before anything is queued. */
  #enqueue(header: Envelope, body: Buffer | undefined, onEncrypted?: () => void): void {
    const [head, payload] = encodeMessage(header, body, this.#limits)
    if (payload === undefined) this.#encoder.push(head, onEncrypted)
    else {
      this.#encoder.push(head)
      this.#encoder.push(payload, onEncrypted)
    }
    this.#lastActivity = Date.now()
    // Messages written in one tick share frames and one writev; big ones go out at once.
    if (this.#encoder.pendingBytes >= FLUSH_NOW_BYTES) this.#flush()
    else if (!this.#flushScheduled) {
      this.#flushScheduled = true
      process.nextTick(this.#flushTick)
    }
  }

  readonly #flushTick = (): void => {
    this.#flushScheduled = false
    this.#flush()
  }

  #flush(): void {
    if (this.#state === 'closed' || this.#socket.destroyed) return
    const chunks = this.#encoder.flush()
    if (chunks.length === 0) return
    const socket = this.#socket
    socket.cork()
    for (const chunk of chunks) socket.write(chunk)
    socket.uncork()
  }

  readonly #onDrain = (): void => {
    const waiters = this.#drainWaiters
    this.#drainWaiters = []
    for (const wake of waiters) wake()
    this.#unpause(PAUSE_WRITE)
  }

  #settle(id: number): Pending | undefined {
    const pending = this.#pending.get(id)
    if (pending === undefined) return undefined
    this.#pending.delete(id)
    pending.cleanup()
    this.#slotWaiters.shift()?.()
    this.#maybeFinish()
    return pending
  }

  /** Gives up on a request (timeout or abort) and tells the peer, so its handler can stop. */
  #abandon(id: number, err: P2PError): void {
    const pending = this.#settle(id)
    if (pending === undefined) return
    pending.reject(err)
    if (this.#state !== 'closed' && !this.#socket.writableNeedDrain) {
      try {
        this.#enqueue({ t: 'cancel', id }, undefined)
      } catch (cause) {
        this.#log.debug({ err: cause }, 'could not send cancel')
      }
    }
  }

  // ---- receiving -----------------------------------------------------------------------------

  readonly #onData = (chunk: Buffer): void => {
    if (this.#state === 'closed') return
    this.#lastReceived = Date.now()
    try {
      this.#frames.push(chunk)
    } catch (err) {
      if (isProgrammerError(err)) throw err
      this.#offence(err instanceof P2PError ? err : new P2PError('PROTOCOL', 'bad input', { cause: err }))
    }
  }

  #dispatch({ header, body }: WireMessage): void {
    if (this.#state === 'closed') return
    this.#lastActivity = Date.now()
    const { t: type, id } = header
    if (type === 'res' || type === 'error') {
      this.#onReply(type, id, header, body)
    } else if (type === 'cancel') {
      const parsed = cancelSchema.safeParse(header)
      if (!parsed.success) throw new P2PError('PROTOCOL', 'invalid cancel', { cause: parsed.error })
      this.#incoming.get(parsed.data.id)?.controller.abort(new P2PError('ABORTED', 'request cancelled by peer'))
    } else if (type === 'goaway') {
      this.#onGoaway()
    } else if (type === 'hello') {
      throw new P2PError('PROTOCOL', 'hello after the handshake')
    } else if (id !== undefined) {
      this.#onRequest(type, id, header, body)
    } else {
      this.#router.deliverMessage(this, type, fieldsOf(header), body)
    }
  }

  #onReply(kind: 'res' | 'error', id: number | undefined, header: Envelope, body: Buffer | undefined): void {
    if (id === undefined) throw new P2PError('PROTOCOL', 'reply without id')
    if (id >= this.#nextId) throw new P2PError('PROTOCOL', `reply to request ${id} that was never sent`)
    const pending = this.#settle(id)
    // A reply to a request we already gave up on (timeout, abort) is normal: drop it.
    if (pending === undefined) return
    if (kind === 'error') {
      const parsed = errorReplySchema.safeParse(header)
      if (!parsed.success) {
        const err = new P2PError('PROTOCOL', 'invalid error reply', { cause: parsed.error })
        pending.reject(err)
        throw err
      }
      const { code, message } = parsed.data
      pending.reject(new P2PError(code, `${pending.type} failed at ${this.peerId.slice(0, 16)}…: ${message}`, { remoteCode: code }))
      return
    }
    let fields: unknown
    try {
      fields = this.#router.parseResponse(pending.type, fieldsOf(header))
    } catch (err) {
      pending.reject(err as P2PError)
      throw err
    }
    pending.resolve(body === undefined ? { header: fields } : { header: fields, body })
  }

  #onRequest(type: string, id: number, header: Envelope, body: Buffer | undefined): void {
    if (this.#receivedGoaway) throw new P2PError('PROTOCOL', 'request after goaway')
    if (this.#incoming.has(id)) throw new P2PError('PROTOCOL', `duplicate request id ${id}`)
    if (this.#incoming.size >= this.#limits.maxIncomingRequests) {
      this.#replyAtOnce({ t: 'error', id, code: 'BUSY', message: 'too many requests in flight' })
      return
    }
    const run = this.#router.prepareRequest(this, type, fieldsOf(header), body)
    if (run === undefined) {
      this.#replyAtOnce({ t: 'error', id, code: 'UNKNOWN_TYPE', message: `no handler for ${type}` })
      return
    }
    const controller = new AbortController()
    const bytes = body?.length ?? 0
    this.#incoming.set(id, { controller, bytes })
    this.#incomingBytes += bytes
    if (this.#incomingBytes >= this.#limits.maxIncomingBytes) this.#pause(PAUSE_WORK)
    void this.#runHandler(id, type, run, controller)
  }

  /**
   * An error reply sent without running a handler. A peer that floods us with such requests and
   * does not read the replies gets no more reading until it does, so the replies cannot pile up.
   */
  #replyAtOnce(reply: Envelope): void {
    this.#replyNow(reply)
    if (this.#socket.writableNeedDrain) this.#pause(PAUSE_WRITE)
  }

  async #runHandler(id: number, type: string, run: (signal: AbortSignal) => Promise<Reply | void>, controller: AbortController): Promise<void> {
    let reply: Envelope
    let replyBody: Buffer | undefined
    let bodyEncrypted: (() => void) | undefined
    try {
      const result = (await run(controller.signal)) ?? {}
      reply = { ...(result.header ?? {}), t: 'res', id }
      replyBody = result.body
      bodyEncrypted = result.bodyEncrypted
    } catch (err) {
      if (isProgrammerError(err)) this.#log.error({ err, type }, 'request handler bug')
      reply = { t: 'error', id, ...replyError(err) }
    }
    try {
      if (!controller.signal.aborted && this.#state !== 'closed') {
        try {
          await this.#write(reply, replyBody, bodyEncrypted ? { onEncrypted: bodyEncrypted } : {})
        } catch (err) {
          if (!(err instanceof P2PError) || err.code !== 'MESSAGE_TOO_LARGE') throw err
          await this.#write({ t: 'error', id, code: err.code, message: err.message }, undefined)
        }
      }
    } catch (err) {
      this.#log.debug({ err, type }, 'could not send reply')
    } finally {
      const incoming = this.#incoming.get(id)
      this.#incoming.delete(id)
      this.#incomingBytes -= incoming?.bytes ?? 0
      if (this.#incomingBytes < this.#limits.maxIncomingBytes / 2) this.#unpause(PAUSE_WORK)
      this.#maybeFinish()
    }
  }

  /** Queues a small control reply without waiting for drain (bounded by the callers' own bounds). */
  #replyNow(header: Envelope): void {
    this.#enqueue(header, undefined)
  }

  #pause(reason: number): void {
    if (this.#pauseReasons === 0) this.#socket.pause()
    this.#pauseReasons |= reason
  }

  #unpause(reason: number): void {
    if ((this.#pauseReasons & reason) === 0) return
    this.#pauseReasons &= ~reason
    if (this.#pauseReasons === 0 && this.#state !== 'closed') this.#socket.resume()
  }

  // ---- closing -------------------------------------------------------------------------------

  #onGoaway(): void {
    this.#receivedGoaway = true
    this.#startDraining()
    this.#maybeFinish()
  }

  #startDraining(): void {
    if (this.#state !== 'open') return
    this.#state = 'draining'
    this.#sendGoaway()
    // Callers waiting for a slot would only get CLOSED: tell them now.
    for (const wake of this.#slotWaiters.splice(0)) wake()
    this.#router.onUnusable(this)
  }

  #sendGoaway(): void {
    if (this.#sentGoaway) return
    this.#sentGoaway = true
    this.#enqueue({ t: 'goaway' }, undefined)
  }

  #maybeFinish(): void {
    if (this.#state !== 'draining' || !this.#sentGoaway || !this.#receivedGoaway) return
    if (this.#pending.size > 0 || this.#incoming.size > 0) return
    this.#flush()
    this.#socket.end()
  }

  /**
   * Closes gracefully: no new requests, waits for in-flight ones both ways (at most closeTimeoutMs),
   * then ends the stream. Resolves once closed.
   */
  close(): Promise<void> {
    if (this.#state === 'open') {
      this.#startDraining()
      this.#closeTimer = setTimeout(() => this.destroy(new P2PError('TIMEOUT', 'graceful close timed out')), this.#limits.closeTimeoutMs)
      this.#closeTimer.unref()
    }
    this.#maybeFinish()
    return this.#closed
  }

  /** Milliseconds since any byte arrived from the peer on this connection. */
  get silentForMs(): number {
    return Date.now() - this.#lastReceived
  }

  /** Closes at once; pending requests reject with CLOSED. */
  destroy(reason?: P2PError): void {
    if (this.#state === 'closed') return
    this.#closeReason ??= reason
    this.#socket.destroy()
    this.#onSocketClose()
  }

  #offence(err: P2PError): void {
    if (this.#state === 'closed') return
    this.#log.warn({ code: err.code, reason: err.message }, 'closing connection: peer broke the protocol')
    this.#closeReason = err
    this.#router.onOffence(this, err)
    this.destroy(err)
  }

  readonly #onSocketError = (err: Error): void => {
    this.#closeReason ??= new P2PError('CLOSED', `connection error: ${err.message}`, { cause: err })
  }

  readonly #onSocketClose = (): void => {
    if (this.#state === 'closed') return
    const wasOpen = this.#state === 'open'
    this.#state = 'closed'
    clearTimeout(this.#closeTimer)
    clearTimeout(this.#idleTimer)
    this.#socket.off('data', this.#onData)
    const closed = new P2PError('CLOSED', 'connection closed', { cause: this.#closeReason })
    for (const [id] of this.#pending) this.#settle(id)?.reject(closed)
    for (const { controller } of this.#incoming.values()) controller.abort(closed)
    for (const wake of this.#slotWaiters.splice(0)) wake()
    for (const wake of this.#drainWaiters.splice(0)) wake()
    if (wasOpen) this.#router.onUnusable(this)
    this.#router.onClose(this, this.#closeReason)
    this.#resolveClosed()
  }

  #armIdleTimer(delay: number): void {
    this.#idleTimer = setTimeout(() => {
      if (this.#state !== 'open') return
      const idleFor = Date.now() - this.#lastActivity
      const busy = this.#pending.size > 0 || this.#incoming.size > 0
      if (!busy && idleFor >= this.#limits.idleTimeoutMs) {
        this.#log.debug({ idleFor }, 'closing idle connection')
        void this.close()
      } else {
        this.#armIdleTimer(Math.max(1, this.#limits.idleTimeoutMs - (busy ? 0 : idleFor)))
      }
    }, delay)
    this.#idleTimer.unref()
  }
}
