import { createServer, connect, type NetConnectOpts, type Server, type Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { P2PError } from '../errors.js'
import { DEFAULT_TCP_HIGH_WATER, LISTENER_BACKLOG } from '../constants.js'
import { formatAddress, parseAddress, type DialOptions, type Listener, type Transport } from './transport.js'

/** Options of the TCP transport. */
export interface TcpTransportOptions {
  /** Socket buffer before write() returns false; large so 1 MiB messages flow without stalls. Default 1 MiB. */
  writableHighWaterMark?: number
}

function tune(socket: Socket): void {
  // Frames are batched above, so Nagle would only add latency to small requests.
  socket.setNoDelay(true)
}

class TcpListener implements Listener {
  readonly addresses: string[]
  readonly #server: Server
  #callback: ((socket: Duplex) => void) | undefined
  readonly #backlog: Socket[] = []

  constructor(server: Server, addresses: string[]) {
    this.#server = server
    this.addresses = addresses
    server.on('connection', (socket) => {
      tune(socket)
      if (this.#callback !== undefined) this.#callback(socket)
      else if (this.#backlog.length < LISTENER_BACKLOG) this.#backlog.push(socket)
      else socket.destroy()
    })
  }

  onConnection(cb: (socket: Duplex) => void): void {
    this.#callback = cb
    for (const socket of this.#backlog.splice(0)) cb(socket)
  }

  close(): Promise<void> {
    // server.close() stops accepting at once; its callback would also wait for accepted sockets,
    // which belong to the caller, so do not wait for it.
    if (this.#server.listening) this.#server.close()
    for (const socket of this.#backlog.splice(0)) socket.destroy()
    return Promise.resolve()
  }
}

/** TCP transport: `host:port` addresses, TCP_NODELAY, large socket buffers. */
export function tcpTransport(options: TcpTransportOptions = {}): Transport {
  const highWaterMark = options.writableHighWaterMark ?? DEFAULT_TCP_HIGH_WATER
  return {
    async listen(addr: string): Promise<Listener> {
      const { host, port } = parseAddress(addr)
      const server = createServer({ noDelay: true, highWaterMark })
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen({ host, port }, () => {
          server.off('error', reject)
          resolve()
        })
      })
      // Errors after listening (e.g. EMFILE on accept) must not crash the process.
      server.on('error', () => {})
      const bound = server.address()
      if (bound === null || typeof bound === 'string') throw new P2PError('INVALID_ARGUMENT', 'unexpected server address')
      return new TcpListener(server, [formatAddress(bound.address, bound.port)])
    },

    dial(addr: string, opts: DialOptions = {}): Promise<Duplex> {
      const { signal } = opts
      return new Promise<Duplex>((resolve, reject) => {
        const { host, port } = parseAddress(addr)
        if (signal?.aborted === true) {
          reject(new P2PError('ABORTED', 'dial aborted', { cause: signal.reason }))
          return
        }
        // net.Socket passes stream options through to Duplex; the typings do not list them.
        const connectOptions: NetConnectOpts & { writableHighWaterMark: number } = { host, port, noDelay: true, writableHighWaterMark: highWaterMark }
        const socket = connect(connectOptions)
        const onAbort = (): void => {
          socket.destroy()
          reject(new P2PError('ABORTED', 'dial aborted', { cause: signal?.reason }))
        }
        const cleanup = (): void => {
          socket.off('error', onError)
          signal?.removeEventListener('abort', onAbort)
        }
        const onError = (err: Error): void => {
          cleanup()
          reject(err)
        }
        socket.once('error', onError)
        signal?.addEventListener('abort', onAbort, { once: true })
        socket.once('connect', () => {
          cleanup()
          tune(socket)
          resolve(socket)
        })
      })
    },
  }
}
