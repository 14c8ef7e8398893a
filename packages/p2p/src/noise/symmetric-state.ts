import { P2PError } from '../errors.js'
import { CipherState } from './cipher-state.js'
import { noiseHash, type NoiseHash } from './hash.js'
import type { NoiseProtocol } from './protocol-name.js'

const EMPTY = Buffer.alloc(0)

/** Noise SymmetricState (rev 34 §5.2): chaining key, handshake hash and the handshake CipherState. */
export class SymmetricState {
  readonly #hash: NoiseHash
  readonly #cipher: CipherState
  #ck: Buffer
  #h: Buffer

  constructor(protocol: NoiseProtocol) {
    this.#hash = noiseHash(protocol.hash)
    this.#cipher = new CipherState(protocol.cipher)
    const name = Buffer.from(protocol.name, 'ascii')
    const { hashLen } = this.#hash
    this.#h = name.length <= hashLen ? Buffer.concat([name, Buffer.alloc(hashLen - name.length)]) : this.#hash.hash(name)
    this.#ck = this.#h
  }

  get handshakeHash(): Buffer {
    return this.#h
  }

  get hasKey(): boolean {
    return this.#cipher.hasKey()
  }

  mixKey(ikm: Uint8Array): void {
    const [ck, tempK] = this.#hash.hkdf(this.#ck, ikm, 2) as [Buffer, Buffer]
    this.#ck = ck
    this.#cipher.initializeKey(tempK.subarray(0, 32))
  }

  mixHash(data: Uint8Array): void {
    this.#h = this.#hash.hash(this.#h, data)
  }

  mixKeyAndHash(ikm: Uint8Array): void {
    const [ck, tempH, tempK] = this.#hash.hkdf(this.#ck, ikm, 3) as [Buffer, Buffer, Buffer]
    this.#ck = ck
    this.mixHash(tempH)
    this.#cipher.initializeKey(tempK.subarray(0, 32))
  }

  encryptAndHash(plaintext: Uint8Array): Buffer {
    const ciphertext = this.#cipher.encryptWithAd(this.#h, plaintext)
    this.mixHash(ciphertext)
    return ciphertext
  }

  decryptAndHash(ciphertext: Uint8Array): Buffer {
    const plaintext = this.#cipher.decryptWithAd(this.#h, ciphertext)
    this.mixHash(ciphertext)
    return plaintext
  }

  /** Split(): the initiator-to-responder and responder-to-initiator transport CipherStates. */
  split(): [CipherState, CipherState] {
    if (!this.#cipher.hasKey()) throw new P2PError('NOISE', 'split before any key was mixed')
    const [k1, k2] = this.#hash.hkdf(this.#ck, EMPTY, 2) as [Buffer, Buffer]
    const c1 = new CipherState(this.#cipher.cipher, Buffer.from(k1.subarray(0, 32)))
    const c2 = new CipherState(this.#cipher.cipher, Buffer.from(k2.subarray(0, 32)))
    return [c1, c2]
  }
}
