/**
 * The CAS handshake over any Duplex: Noise_XXpsk3_25519_AESGCM_SHA256, prologue "cas/1", psk = network key.
 *
 *   initiator                          responder
 *   msg1  -> e                          (empty payload)
 *   msg2  <- e, ee, s, es               (empty payload: the responder reveals only its static key)
 *   msg3  -> s, se, psk                 (payload: initiator hello, under psk-dependent keys)
 *   frame <- transport message 0        (payload: responder hello; proves the responder holds the psk)
 *
 * Every message travels behind a 2-byte big-endian length. A peer without the network key fails at msg3
 * (as responder) or at the hello frame (as initiator) and, as in any XX handshake, learns only our
 * static public key, i.e. our node id. The dialer checks the responder's static key against the id it
 * expected right after msg2, before it sends anything of its own.
 */
import type { Duplex } from 'node:stream'
import { CAS_NOISE_PROTOCOL, CAS_PROLOGUE, FRAME_LENGTH_BYTES, MAX_HANDSHAKE_BUFFER, MAX_HELLO_BYTES, PROTOCOL_VERSION } from './constants.js'
import { P2PError } from './errors.js'
import { helloSchema, type Hello } from './messages.js'
import type { CipherState } from './noise/cipher-state.js'
import type { KeyPair } from './noise/dh.js'
import { HandshakeState } from './noise/handshake-state.js'

/** What a finished handshake hands to the connection. */
export interface SecureSession {
  send: CipherState
  receive: CipherState
  remoteId: string
  hello: Hello
  handshakeHash: Buffer
  /** Bytes received after the handshake: the start of the transport stream. */
  leftover: Buffer[]
}

/** Parameters of a handshake. */
export interface HandshakeParams {
  socket: Duplex
  initiator: boolean
  staticKey: KeyPair
  networkKey: Buffer
  hello: Hello
  /** Dialer only: abort with UNEXPECTED_PEER unless the responder has this id. */
  expectedId?: string
  timeoutMs: number
  signal?: AbortSignal
}

/** Reads length-prefixed frames off a socket during the handshake. */
class HandshakeReader {
  readonly #socket: Duplex
  #chunks: Buffer[] = []
  #bytes = 0
  #waiter: { resolve: (frame: Buffer) => void; reject: (err: Error) => void } | undefined
  #error: Error | undefined

  constructor(socket: Duplex) {
    this.#socket = socket
    socket.on('data', this.#onData)
    socket.on('end', this.#onEnd)
    socket.on('close', this.#onEnd)
    socket.on('error', this.#onError)
  }

  readonly #onData = (chunk: Buffer): void => {
    this.#chunks.push(chunk)
    this.#bytes += chunk.length
    if (this.#bytes > MAX_HANDSHAKE_BUFFER) this.fail(new P2PError('HANDSHAKE_FAILED', 'too much data during handshake'))
    else this.#deliver()
  }

  readonly #onEnd = (): void => this.fail(new P2PError('HANDSHAKE_FAILED', 'connection closed during handshake'))
  readonly #onError = (err: Error): void => this.fail(new P2PError('HANDSHAKE_FAILED', 'connection error during handshake', { cause: err }))

  fail(err: Error): void {
    this.#error ??= err
    const waiter = this.#waiter
    this.#waiter = undefined
    waiter?.reject(this.#error)
  }

  #deliver(): void {
    if (this.#waiter === undefined || this.#bytes < FRAME_LENGTH_BYTES) return
    const all = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks)
    this.#chunks = [all]
    const length = all.readUInt16BE(0)
    if (all.length < FRAME_LENGTH_BYTES + length) return
    const frame = all.subarray(FRAME_LENGTH_BYTES, FRAME_LENGTH_BYTES + length)
    const rest = all.subarray(FRAME_LENGTH_BYTES + length)
    this.#chunks = rest.length > 0 ? [rest] : []
    this.#bytes = rest.length
    const waiter = this.#waiter
    this.#waiter = undefined
    // Stop the flow at once: whatever follows may be transport data for the next owner.
    this.#socket.pause()
    waiter.resolve(frame)
  }

  readFrame(): Promise<Buffer> {
    if (this.#error !== undefined) return Promise.reject(this.#error)
    return new Promise<Buffer>((resolve, reject) => {
      this.#waiter = { resolve, reject }
      this.#deliver()
      if (this.#waiter !== undefined) this.#socket.resume()
    })
  }

  /** Stops listening; returns the bytes read past the last frame. The socket is left paused. */
  detach(): Buffer[] {
    this.#socket.pause()
    this.#socket.off('data', this.#onData)
    this.#socket.off('end', this.#onEnd)
    this.#socket.off('close', this.#onEnd)
    this.#socket.off('error', this.#onError)
    return this.#chunks
  }
}

function writeFrame(socket: Duplex, payload: Buffer): void {
  const length = Buffer.allocUnsafe(FRAME_LENGTH_BYTES)
  length.writeUInt16BE(payload.length, 0)
  socket.cork()
  socket.write(length)
  socket.write(payload)
  socket.uncork()
}

function encodeHello(hello: Hello): Buffer {
  const bytes = Buffer.from(JSON.stringify(helloSchema.parse(hello)))
  if (bytes.length > MAX_HELLO_BYTES) throw new P2PError('INVALID_ARGUMENT', 'hello too large')
  return bytes
}

/** Parses and checks a hello payload; throws P2PError HANDSHAKE_FAILED. */
export function decodeHello(bytes: Buffer): Hello {
  if (bytes.length > MAX_HELLO_BYTES) throw new P2PError('HANDSHAKE_FAILED', 'hello too large')
  let value: unknown
  try {
    value = JSON.parse(bytes.toString('utf8'))
  } catch (err) {
    throw new P2PError('HANDSHAKE_FAILED', 'hello is not JSON', { cause: err })
  }
  const parsed = helloSchema.safeParse(value)
  if (!parsed.success) throw new P2PError('HANDSHAKE_FAILED', 'invalid hello', { cause: parsed.error })
  if (parsed.data.version !== PROTOCOL_VERSION) throw new P2PError('HANDSHAKE_FAILED', `unsupported protocol version ${parsed.data.version}`)
  return parsed.data
}

/**
 * A responder that cannot decrypt msg3 (another network key) closes the connection, so that is
 * what a dialer sees: said plainly, since a wrong key is by far the likeliest reason.
 */
function closedAfterMsg3(err: unknown): never {
  if (err instanceof P2PError && err.code === 'HANDSHAKE_FAILED' && /closed|connection error/.test(err.message)) {
    throw new P2PError('HANDSHAKE_FAILED', 'the peer closed the connection after our last handshake message: it most likely has another network key', {
      cause: err,
    })
  }
  throw err
}

function asHandshakeError(err: unknown): P2PError {
  if (err instanceof P2PError && (err.code === 'HANDSHAKE_FAILED' || err.code === 'UNEXPECTED_PEER' || err.code === 'ABORTED')) return err
  return new P2PError('HANDSHAKE_FAILED', err instanceof Error ? err.message : 'handshake failed', { cause: err })
}

/**
 * Runs the handshake. On success the socket is paused with its listeners removed and the session
 * holds the transport ciphers; on failure it rejects with P2PError (HANDSHAKE_FAILED, UNEXPECTED_PEER
 * or ABORTED) and the caller destroys the socket.
 */
export async function performHandshake(params: HandshakeParams): Promise<SecureSession> {
  const { socket, initiator, signal } = params
  if (params.networkKey.length !== 32) throw new P2PError('INVALID_ARGUMENT', 'network key must be 32 bytes')
  const reader = new HandshakeReader(socket)
  const timer = setTimeout(() => reader.fail(new P2PError('HANDSHAKE_FAILED', `handshake timed out after ${params.timeoutMs} ms`)), params.timeoutMs)
  const onAbort = (): void => reader.fail(new P2PError('ABORTED', 'handshake aborted', { cause: signal?.reason }))
  signal?.addEventListener('abort', onAbort, { once: true })
  if (signal?.aborted === true) onAbort()
  try {
    const state = new HandshakeState({
      protocolName: CAS_NOISE_PROTOCOL,
      initiator,
      prologue: Buffer.from(CAS_PROLOGUE, 'ascii'),
      staticKeyPair: params.staticKey,
      psk: params.networkKey,
    })
    const ownHello = encodeHello(params.hello)
    let remoteHello: Hello
    let result
    if (initiator) {
      writeFrame(socket, state.writeMessage())
      state.readMessage(await reader.readFrame())
      const remoteId = state.remoteStaticKey!.toString('hex')
      if (params.expectedId !== undefined && params.expectedId !== remoteId) {
        throw new P2PError('UNEXPECTED_PEER', `expected peer ${params.expectedId.slice(0, 16)}…, got ${remoteId.slice(0, 16)}…`)
      }
      writeFrame(socket, state.writeMessage(ownHello))
      result = state.finish()
      remoteHello = decodeHello(result.receive.decryptWithAd(Buffer.alloc(0), await reader.readFrame().catch(closedAfterMsg3)))
    } else {
      state.readMessage(await reader.readFrame())
      writeFrame(socket, state.writeMessage())
      const msg3 = await reader.readFrame()
      let payload: Buffer
      try {
        payload = state.readMessage(msg3)
      } catch (err) {
        // msg3 is the first message under psk-dependent keys: a dialer with another key fails here.
        throw new P2PError('HANDSHAKE_FAILED', 'the peer has another network key (its last handshake message did not decrypt)', { cause: err })
      }
      remoteHello = decodeHello(payload)
      result = state.finish()
      writeFrame(socket, result.send.encryptWithAd(Buffer.alloc(0), ownHello))
    }
    return {
      send: result.send,
      receive: result.receive,
      remoteId: result.remoteStaticKey.toString('hex'),
      hello: remoteHello,
      handshakeHash: result.handshakeHash,
      leftover: reader.detach(),
    }
  } catch (err) {
    reader.detach()
    throw asHandshakeError(err)
  } finally {
    clearTimeout(timer)
    signal?.removeEventListener('abort', onAbort)
  }
}
