import { createCipheriv, createDecipheriv, createSecretKey, type KeyObject, type CipherGCM, type DecipherGCM, type CipherChaCha20Poly1305, type DecipherChaCha20Poly1305 } from 'node:crypto'
import { NOISE_TAG_LENGTH } from '../constants.js'
import { P2PError } from '../errors.js'
import type { CipherName } from './protocol-name.js'

/** A node:crypto AEAD cipher as used here (GCM and ChaCha20-Poly1305 share this surface). */
export type AeadCipher = CipherGCM | CipherChaCha20Poly1305
/** A node:crypto AEAD decipher as used here. */
export type AeadDecipher = DecipherGCM | DecipherChaCha20Poly1305

const EMPTY = Buffer.alloc(0)
/** Noise reserves 2^64-1; a JS counter stops well before (2^53 frames of 64 KiB is beyond any connection's life). */
const MAX_NONCE = Number.MAX_SAFE_INTEGER

/**
 * Noise CipherState (rev 34 §5.1): a key and a 64-bit counter nonce.
 *
 * Nonce uniqueness: `n` only ever increases, by one per encryption or decryption, and a CipherState
 * is never re-keyed in this package, so each (key, nonce) pair is used for exactly one message.
 * Each direction of a session has its own key (from Split()), so the two sides never share a key.
 */
export class CipherState {
  readonly cipher: CipherName
  // A KeyObject: node:crypto then skips converting the raw key on every frame.
  #key: KeyObject | undefined
  #n = 0
  readonly #algorithm: 'aes-256-gcm' | 'chacha20-poly1305'
  readonly #nonce = Buffer.alloc(12)

  constructor(cipher: CipherName, key?: Buffer) {
    this.cipher = cipher
    this.#algorithm = cipher === 'AESGCM' ? 'aes-256-gcm' : 'chacha20-poly1305'
    if (key !== undefined) this.initializeKey(key)
  }

  initializeKey(key: Buffer | undefined): void {
    if (key !== undefined && key.length !== 32) throw new P2PError('NOISE', 'cipher key must be 32 bytes')
    this.#key = key === undefined ? undefined : createSecretKey(key)
    this.#n = 0
  }

  hasKey(): boolean {
    return this.#key !== undefined
  }

  /** The next nonce to be used. */
  get nonce(): number {
    return this.#n
  }

  /** Writes the next nonce into the 12-byte IV and advances the counter; the IV is the only place it is used. */
  #nextIv(): Buffer {
    if (this.#n >= MAX_NONCE) throw new P2PError('NOISE', 'nonce exhausted')
    const n = this.#n++
    const hi = Math.floor(n / 0x1_0000_0000)
    const lo = n >>> 0
    // Noise: AESGCM takes 32 zero bits then the counter big-endian; ChaChaPoly 32 zero bits then little-endian.
    if (this.cipher === 'AESGCM') {
      this.#nonce.writeUInt32BE(hi, 4)
      this.#nonce.writeUInt32BE(lo, 8)
    } else {
      this.#nonce.writeUInt32LE(lo, 4)
      this.#nonce.writeUInt32LE(hi, 8)
    }
    return this.#nonce
  }

  #requireKey(): KeyObject {
    if (this.#key === undefined) throw new P2PError('NOISE', 'cipher has no key')
    return this.#key
  }

  /** A streaming cipher for the next nonce: update() the plaintext pieces, then final() and getAuthTag(). */
  createCipher(ad: Uint8Array = EMPTY): AeadCipher {
    const key = this.#requireKey()
    const cipher = createCipheriv(this.#algorithm as 'aes-256-gcm', key, this.#nextIv(), { authTagLength: NOISE_TAG_LENGTH })
    if (ad.length > 0) cipher.setAAD(ad)
    return cipher
  }

  /**
   * A streaming decipher for the next nonce. The caller must hold back every plaintext piece until
   * setAuthTag() and final() succeeded: before that the bytes are unauthenticated.
   */
  createDecipher(ad: Uint8Array = EMPTY): AeadDecipher {
    const key = this.#requireKey()
    const decipher = createDecipheriv(this.#algorithm as 'aes-256-gcm', key, this.#nextIv(), { authTagLength: NOISE_TAG_LENGTH })
    if (ad.length > 0) decipher.setAAD(ad)
    return decipher
  }

  /** EncryptWithAd: ciphertext || tag; the plaintext itself when there is no key yet. */
  encryptWithAd(ad: Uint8Array, plaintext: Uint8Array): Buffer {
    if (this.#key === undefined) return Buffer.from(plaintext)
    const cipher = this.createCipher(ad)
    const head = cipher.update(plaintext)
    cipher.final()
    return Buffer.concat([head, cipher.getAuthTag()])
  }

  /** DecryptWithAd: throws P2PError DECRYPT_FAILED on a bad tag (the nonce is still consumed, as the session is over). */
  decryptWithAd(ad: Uint8Array, ciphertext: Uint8Array): Buffer {
    if (this.#key === undefined) return Buffer.from(ciphertext)
    if (ciphertext.length < NOISE_TAG_LENGTH) throw new P2PError('DECRYPT_FAILED', 'ciphertext shorter than its tag')
    const decipher = this.createDecipher(ad)
    const end = ciphertext.length - NOISE_TAG_LENGTH
    decipher.setAuthTag(ciphertext.subarray(end))
    const plaintext = decipher.update(ciphertext.subarray(0, end))
    try {
      decipher.final()
    } catch (err) {
      throw new P2PError('DECRYPT_FAILED', 'message failed authentication', { cause: err })
    }
    return plaintext
  }
}
