import type { Duplex } from 'node:stream'
import { P2PError } from '../errors.js'

/** Options of Transport.dial. */
export interface DialOptions {
  signal?: AbortSignal
}

/**
 * A way to open byte streams between nodes. Addresses are `host:port` strings; the handshake and
 * everything above it only ever see the Duplex.
 */
export interface Transport {
  /** Listens on `addr` (`host:port`, port 0 picks one). */
  listen(addr: string): Promise<Listener>
  /** Opens a stream to `addr`; rejects if nothing listens there or the signal aborts. */
  dial(addr: string, opts?: DialOptions): Promise<Duplex>
}

/** An open listening endpoint. */
export interface Listener {
  /** The actual addresses (port 0 resolved). */
  readonly addresses: string[]
  /** Registers the callback for accepted streams (one callback; a later call replaces it). */
  onConnection(cb: (socket: Duplex) => void): void
  /** Stops accepting; streams already accepted stay open. */
  close(): Promise<void>
}

/** Splits `host:port` (IPv6 hosts in brackets); throws P2PError INVALID_ARGUMENT otherwise. */
export function parseAddress(addr: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(addr)
  const host = match?.[1] ?? match?.[2]
  const port = Number(match?.[3])
  if (host === undefined || !Number.isInteger(port) || port > 65535) {
    throw new P2PError('INVALID_ARGUMENT', `not a host:port address: ${JSON.stringify(addr)}`)
  }
  return { host, port }
}

/** Formats host and port as an address, bracketing IPv6 hosts. */
export function formatAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`
}

/** The remote end of a stream as `host:port` when the transport says, else "unknown". */
export function remoteAddressOf(socket: Duplex): string {
  const s = socket as Duplex & { remoteAddress?: unknown; remotePort?: unknown }
  if (typeof s.remoteAddress !== 'string') return 'unknown'
  return typeof s.remotePort === 'number' ? formatAddress(s.remoteAddress, s.remotePort) : s.remoteAddress
}

/** The host part of a remote address: what offences and bans are counted by. */
export function remoteHostOf(address: string): string {
  try {
    return parseAddress(address).host
  } catch {
    return address
  }
}

/** Whether a host (as {@link remoteHostOf} gives it) is a loopback address: 127.0.0.0/8, ::1 or their IPv4-mapped form. */
export function isLoopbackHost(host: string): boolean {
  const v4 = host.startsWith('::ffff:') ? host.slice(7) : host
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4) || host === '::1'
}

/** A transport-level connection error with a Node-style code. */
export function connectionError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code })
}
