import { Duplex } from 'node:stream'
import { P2PError } from '../errors.js'
import { LISTENER_BACKLOG } from '../constants.js'
import { connectionError, formatAddress, parseAddress, type DialOptions, type Listener, type Transport } from './transport.js'

type WriteCallback = (error?: Error | null) => void

/**
 * One end of an in-memory stream pair. Writes land in the other end's readable buffer on the next
 * tick (never synchronously, so two ends cannot recurse into each other); when that buffer is full
 * the write callback waits for the reader, so backpressure works as on a socket.
 */
class MemorySocket extends Duplex {
  peer!: MemorySocket
  readonly remoteAddress: string
  readonly remotePort: number
  #pendingWrite: WriteCallback | undefined

  constructor(remoteHost: string, remotePort: number) {
    super({ allowHalfOpen: false })
    this.remoteAddress = remoteHost
    this.remotePort = remotePort
  }

  #deliver(chunks: Buffer[], callback: WriteCallback): void {
    process.nextTick(() => {
      const peer = this.peer
      if (peer.destroyed || this.destroyed) {
        callback(connectionError('EPIPE', 'memory stream closed'))
        return
      }
      let more = true
      for (const chunk of chunks) more = peer.push(chunk)
      if (more) callback()
      else peer.#pendingWrite = callback
    })
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: WriteCallback): void {
    this.#deliver([chunk], callback)
  }

  override _writev(chunks: { chunk: Buffer }[], callback: WriteCallback): void {
    this.#deliver(
      chunks.map((c) => c.chunk),
      callback,
    )
  }

  override _read(): void {
    const callback = this.#pendingWrite
    this.#pendingWrite = undefined
    callback?.()
  }

  override _final(callback: WriteCallback): void {
    process.nextTick(() => {
      if (!this.peer.destroyed) this.peer.push(null)
      callback()
    })
  }

  override _destroy(error: Error | null, callback: WriteCallback): void {
    const pending = this.#pendingWrite
    this.#pendingWrite = undefined
    pending?.(connectionError('ECONNRESET', 'memory stream destroyed'))
    // Like a TCP reset: the other end sees its stream end abruptly.
    if (!this.peer.destroyed) process.nextTick(() => this.peer.destroy())
    callback(error)
  }
}

class MemoryListener implements Listener {
  readonly addresses: string[]
  readonly #network: MemoryNetwork
  #callback: ((socket: Duplex) => void) | undefined
  readonly #backlog: Duplex[] = []

  constructor(network: MemoryNetwork, address: string) {
    this.#network = network
    this.addresses = [address]
  }

  accept(socket: Duplex): void {
    if (this.#callback !== undefined) this.#callback(socket)
    else if (this.#backlog.length < LISTENER_BACKLOG) this.#backlog.push(socket)
    else socket.destroy()
  }

  onConnection(cb: (socket: Duplex) => void): void {
    this.#callback = cb
    for (const socket of this.#backlog.splice(0)) cb(socket)
  }

  close(): Promise<void> {
    this.#network.unlisten(this.addresses[0]!, this)
    for (const socket of this.#backlog.splice(0)) socket.destroy()
    return Promise.resolve()
  }
}

/**
 * A simulated network living in one process: the address space shared by memory transports.
 * Hundreds of nodes cost only their streams.
 */
export class MemoryNetwork {
  readonly #listeners = new Map<string, MemoryListener>()
  readonly #nextPort = new Map<string, number>()
  #nextHost = 1

  /** A fresh host name for a transport that was not given one. */
  allocateHost(): string {
    return `mem${this.#nextHost++}`
  }

  /** The next free port on `host` (ports count up from 1; 0 is "pick one"). */
  allocatePort(host: string): number {
    let port = this.#nextPort.get(host) ?? 1
    while (this.#listeners.has(formatAddress(host, port))) port++
    this.#nextPort.set(host, port + 1)
    return port
  }

  listen(addr: string): MemoryListener {
    const { host, port } = parseAddress(addr)
    const address = formatAddress(host, port === 0 ? this.allocatePort(host) : port)
    if (this.#listeners.has(address)) throw Object.assign(new P2PError('INVALID_ARGUMENT', `address in use: ${address}`), { errno: 'EADDRINUSE' })
    const listener = new MemoryListener(this, address)
    this.#listeners.set(address, listener)
    return listener
  }

  unlisten(address: string, listener: MemoryListener): void {
    if (this.#listeners.get(address) === listener) this.#listeners.delete(address)
  }

  /** Connects a dialer on `fromHost` to `addr`; throws an ECONNREFUSED error when nothing listens. */
  connect(fromHost: string, addr: string): Duplex {
    const { host, port } = parseAddress(addr)
    const listener = this.#listeners.get(formatAddress(host, port))
    if (listener === undefined) throw connectionError('ECONNREFUSED', `nothing listens on ${addr}`)
    const localPort = this.allocatePort(fromHost)
    const dialer = new MemorySocket(host, port)
    const accepted = new MemorySocket(fromHost, localPort)
    dialer.peer = accepted
    accepted.peer = dialer
    listener.accept(accepted)
    return dialer
  }
}

/** Options of the memory transport. */
export interface MemoryTransportOptions {
  /** Host part of this transport's dialing address (what listeners see as the remote). Default: a fresh name. */
  host?: string
}

/** In-memory transport over a MemoryNetwork, for tests and simulated networks. */
export function memoryTransport(network: MemoryNetwork, options: MemoryTransportOptions = {}): Transport {
  const host = options.host ?? network.allocateHost()
  return {
    listen(addr: string): Promise<Listener> {
      return new Promise((resolve) => resolve(network.listen(addr)))
    },
    async dial(addr: string, opts: DialOptions = {}): Promise<Duplex> {
      // Connect on a later turn, as a real transport would.
      await new Promise<void>((resolve) => setImmediate(resolve))
      if (opts.signal?.aborted === true) throw new P2PError('ABORTED', 'dial aborted', { cause: opts.signal.reason })
      return network.connect(host, addr)
    },
  }
}
