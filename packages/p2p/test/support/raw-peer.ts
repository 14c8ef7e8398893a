import type { Duplex } from 'node:stream'
import { FrameEncoder } from '../../src/frame-codec.js'
import { performHandshake, type SecureSession } from '../../src/handshake.js'
import { encodeMessage } from '../../src/message-codec.js'
import type { Envelope } from '../../src/messages.js'
import { generateKeyPair, type KeyPair } from '../../src/noise/dh.js'
import type { Transport } from '../../src/transports/transport.js'
import { NETWORK_KEY } from './hosts.js'

/** A hand-driven peer: completes a real handshake, then writes whatever bytes a test wants. */
export interface RawPeer {
  socket: Duplex
  session: SecureSession
  staticKey: KeyPair
  /** Encrypts and frames arbitrary plaintext (it reaches the message decoder as is). */
  sendPlain(bytes: Buffer): void
  /** Sends a well-formed message with any header. */
  sendMessage(header: Envelope, body?: Buffer): void
  /** Resolves when the other side closed the stream. */
  closed: Promise<void>
}

export async function rawPeer(transport: Transport, addr: string, staticKey: KeyPair = generateKeyPair(), networkKey = NETWORK_KEY): Promise<RawPeer> {
  const socket = await transport.dial(addr)
  socket.on('error', () => {})
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))
  const session = await performHandshake({
    socket,
    initiator: true,
    staticKey,
    networkKey,
    hello: { version: 1, addresses: [], capacity: 0, used: 0 },
    timeoutMs: 10_000,
  })
  socket.resume()
  socket.on('data', () => {})
  const encoder = new FrameEncoder(session.send)
  const sendPlain = (bytes: Buffer): void => {
    encoder.push(bytes)
    if (!socket.destroyed) socket.write(Buffer.concat(encoder.flush()))
  }
  return {
    socket,
    session,
    staticKey,
    sendPlain,
    sendMessage: (header, body) => {
      const [head, payload] = encodeMessage(header, body, { maxHeaderBytes: 1 << 30, maxBodyBytes: 1 << 30 })
      sendPlain(payload ? Buffer.concat([head, payload]) : head)
    },
    closed,
  }
}
