import { NOISE_MAX_MESSAGE, NOISE_TAG_LENGTH } from '../constants.js'
import { P2PError } from '../errors.js'
import type { CipherState } from './cipher-state.js'
import { DH_LENGTH, dh, generateKeyPair, type KeyPair } from './dh.js'
import { parseProtocolName, type NoiseProtocol, type PatternName } from './protocol-name.js'
import { SymmetricState } from './symmetric-state.js'

type Token = 'e' | 's' | 'ee' | 'es' | 'se' | 'ss' | 'psk'

// Message patterns (rev 34 §7.5 and §9.4). Even messages are the initiator's.
const PATTERNS: Record<PatternName, readonly (readonly Token[])[]> = {
  XX: [['e'], ['e', 'ee', 's', 'es'], ['s', 'se']],
  XXpsk3: [['e'], ['e', 'ee', 's', 'es'], ['s', 'se', 'psk']],
}

/** Options of a HandshakeState. */
export interface HandshakeOptions {
  /** Full protocol name, e.g. `Noise_XXpsk3_25519_AESGCM_SHA256`. */
  protocolName: string
  initiator: boolean
  prologue?: Uint8Array
  /** Local static key pair. */
  staticKeyPair: KeyPair
  /** Fixed ephemeral key pair (test vectors only); a fresh one is generated otherwise. */
  ephemeralKeyPair?: KeyPair
  /** Pre-shared key, required by psk patterns (32 bytes). */
  psk?: Uint8Array
}

/** The transport CipherStates and facts of a finished handshake. */
export interface HandshakeResult {
  /** Encrypts what this side sends. */
  send: CipherState
  /** Decrypts what this side receives. */
  receive: CipherState
  handshakeHash: Buffer
  remoteStaticKey: Buffer
}

/**
 * Noise HandshakeState (rev 34 §5.3) for the XX family. Any failure (bad length, failed decryption,
 * bad DH input) throws a P2PError and leaves the state unusable: a handshake is never retried.
 */
export class HandshakeState {
  readonly protocol: NoiseProtocol
  readonly initiator: boolean
  readonly #ss: SymmetricState
  readonly #s: KeyPair
  #e: KeyPair | undefined
  #re: Buffer | undefined
  #rs: Buffer | undefined
  readonly #psk: Uint8Array | undefined
  readonly #pskMode: boolean
  readonly #messages: readonly (readonly Token[])[]
  #index = 0
  #failed = false

  constructor(options: HandshakeOptions) {
    this.protocol = parseProtocolName(options.protocolName)
    this.initiator = options.initiator
    this.#messages = PATTERNS[this.protocol.pattern]
    this.#pskMode = this.protocol.pattern.includes('psk')
    if (this.#pskMode && options.psk?.length !== 32) throw new P2PError('INVALID_ARGUMENT', 'this pattern needs a 32-byte psk')
    this.#psk = options.psk
    this.#s = options.staticKeyPair
    this.#e = options.ephemeralKeyPair
    this.#ss = new SymmetricState(this.protocol)
    this.#ss.mixHash(options.prologue ?? Buffer.alloc(0))
  }

  /** True when every handshake message has been written or read. */
  get isComplete(): boolean {
    return this.#index >= this.#messages.length
  }

  /** True when the next message is this side's to write. */
  get isMyTurn(): boolean {
    return this.#index % 2 === (this.initiator ? 0 : 1)
  }

  /** The remote static key, once it has been received. */
  get remoteStaticKey(): Buffer | undefined {
    return this.#rs
  }

  get handshakeHash(): Buffer {
    return this.#ss.handshakeHash
  }

  #tokens(writing: boolean): readonly Token[] {
    if (this.#failed) throw new P2PError('HANDSHAKE_FAILED', 'handshake already failed')
    const tokens = this.#messages[this.#index]
    if (tokens === undefined) throw new P2PError('NOISE', 'handshake already complete')
    if (this.isMyTurn !== writing) throw new P2PError('NOISE', writing ? 'not our turn to write' : 'not our turn to read')
    return tokens
  }

  #mixDh(token: 'ee' | 'es' | 'se' | 'ss'): void {
    const e = this.#e
    const s = this.#s
    const re = this.#re
    const rs = this.#rs
    // es = DH(initiator e, responder s); se = DH(initiator s, responder e) — each side picks its half.
    let local: KeyPair | undefined
    let remote: Buffer | undefined
    if (token === 'ee') [local, remote] = [e, re]
    else if (token === 'ss') [local, remote] = [s, rs]
    else if (token === 'es') [local, remote] = this.initiator ? [e, rs] : [s, re]
    else [local, remote] = this.initiator ? [s, re] : [e, rs]
    if (local === undefined || remote === undefined) throw new P2PError('NOISE', `missing key for ${token}`)
    this.#ss.mixKey(dh(local.privateKey, remote))
  }

  /** WriteMessage(payload): the next handshake message. */
  writeMessage(payload: Uint8Array = Buffer.alloc(0)): Buffer {
    const tokens = this.#tokens(true)
    try {
      const parts: Buffer[] = []
      for (const token of tokens) {
        if (token === 'e') {
          this.#e ??= generateKeyPair()
          parts.push(this.#e.publicKey)
          this.#ss.mixHash(this.#e.publicKey)
          if (this.#pskMode) this.#ss.mixKey(this.#e.publicKey)
        } else if (token === 's') {
          parts.push(this.#ss.encryptAndHash(this.#s.publicKey))
        } else if (token === 'psk') {
          this.#ss.mixKeyAndHash(this.#psk!)
        } else {
          this.#mixDh(token)
        }
      }
      parts.push(this.#ss.encryptAndHash(payload))
      const message = Buffer.concat(parts)
      if (message.length > NOISE_MAX_MESSAGE) throw new P2PError('NOISE', 'handshake message too large')
      this.#index++
      return message
    } catch (err) {
      this.#failed = true
      throw err
    }
  }

  /** ReadMessage(message): the payload; throws P2PError HANDSHAKE_FAILED / DECRYPT_FAILED on bad input. */
  readMessage(message: Uint8Array): Buffer {
    const tokens = this.#tokens(false)
    try {
      if (message.length > NOISE_MAX_MESSAGE) throw new P2PError('HANDSHAKE_FAILED', 'handshake message too large')
      let offset = 0
      const take = (length: number): Buffer => {
        if (offset + length > message.length) throw new P2PError('HANDSHAKE_FAILED', 'handshake message too short')
        const part = Buffer.from(message.subarray(offset, offset + length))
        offset += length
        return part
      }
      for (const token of tokens) {
        if (token === 'e') {
          this.#re = take(DH_LENGTH)
          this.#ss.mixHash(this.#re)
          if (this.#pskMode) this.#ss.mixKey(this.#re)
        } else if (token === 's') {
          const length = this.#ss.hasKey ? DH_LENGTH + NOISE_TAG_LENGTH : DH_LENGTH
          this.#rs = this.#ss.decryptAndHash(take(length))
        } else if (token === 'psk') {
          this.#ss.mixKeyAndHash(this.#psk!)
        } else {
          this.#mixDh(token)
        }
      }
      const payload = this.#ss.decryptAndHash(message.subarray(offset))
      this.#index++
      return payload
    } catch (err) {
      this.#failed = true
      throw err
    }
  }

  /** Split() after the last message: this side's send and receive CipherStates. */
  finish(): HandshakeResult {
    if (!this.isComplete) throw new P2PError('NOISE', 'handshake not complete')
    if (this.#rs === undefined) throw new P2PError('NOISE', 'no remote static key')
    const [initiatorToResponder, responderToInitiator] = this.#ss.split()
    return {
      send: this.initiator ? initiatorToResponder : responderToInitiator,
      receive: this.initiator ? responderToInitiator : initiatorToResponder,
      handshakeHash: Buffer.from(this.#ss.handshakeHash),
      remoteStaticKey: this.#rs,
    }
  }
}
