/**
 * Noise transport framing: each Noise transport message travels as `u16 length | ciphertext | tag`
 * (length covers ciphertext and tag, at most 65535). Frames carry a plain byte stream; message
 * boundaries are the message codec's business, so small messages share frames and large ones span them.
 */
import { FRAME_LENGTH_BYTES, MAX_FRAME_PLAINTEXT, NOISE_TAG_LENGTH } from './constants.js'
import { P2PError } from './errors.js'
import type { AeadDecipher } from './noise/cipher-state.js'
import type { CipherState } from './noise/cipher-state.js'

/**
 * Encrypts queued plaintext into frames. Plaintext pieces are sliced, never copied; node:crypto
 * returns each ciphertext piece in its own buffer, and the caller writes the resulting list in one
 * corked batch (one writev), so the only copy on the way out is the encryption itself.
 */
export class FrameEncoder {
  readonly #cipher: CipherState
  #pending: Buffer[] = []
  #pendingBytes = 0
  // Called once the pieces queued with them are encrypted.
  #onEncrypted: (() => void)[] = []

  constructor(cipher: CipherState) {
    this.#cipher = cipher
  }

  /** Plaintext bytes queued and not yet encrypted. */
  get pendingBytes(): number {
    return this.#pendingBytes
  }

  /**
   * Queues plaintext; it must not be modified until encrypted. `onEncrypted` is called once it is,
   * at the end of the flush() that encrypts it: from then on nothing here reads it.
   */
  push(plaintext: Buffer, onEncrypted?: () => void): void {
    if (onEncrypted !== undefined) this.#onEncrypted.push(onEncrypted)
    if (plaintext.length === 0) return
    this.#pending.push(plaintext)
    this.#pendingBytes += plaintext.length
  }

  /** Encrypts everything queued; returns the wire chunks in order. */
  flush(): Buffer[] {
    const out: Buffer[] = []
    const pending = this.#pending
    this.#pending = []
    let remaining = this.#pendingBytes
    this.#pendingBytes = 0
    let index = 0
    let offset = 0
    while (remaining > 0) {
      const frameLength = Math.min(remaining, MAX_FRAME_PLAINTEXT)
      const lengthBytes = Buffer.allocUnsafe(FRAME_LENGTH_BYTES)
      lengthBytes.writeUInt16BE(frameLength + NOISE_TAG_LENGTH, 0)
      out.push(lengthBytes)
      // One nonce per frame (see CipherState): the counter advances inside createCipher().
      const cipher = this.#cipher.createCipher()
      let need = frameLength
      while (need > 0) {
        const piece = pending[index]!
        const n = Math.min(piece.length - offset, need)
        out.push(cipher.update(n === piece.length ? piece : piece.subarray(offset, offset + n)))
        need -= n
        offset += n
        if (offset === piece.length) {
          index++
          offset = 0
        }
      }
      cipher.final()
      out.push(cipher.getAuthTag())
      remaining -= frameLength
    }
    const encrypted = this.#onEncrypted
    this.#onEncrypted = []
    for (const done of encrypted) done()
    return out
  }
}

const enum State {
  Length,
  Ciphertext,
  Tag,
}

/**
 * Decrypts frames from arbitrary chunks. Ciphertext is decrypted as it arrives, but plaintext is held
 * back until the frame's tag verifies; at most one frame (64 KiB) is ever held. Any failure throws
 * P2PError (DECRYPT_FAILED or PROTOCOL) and the connection must end: the decoder is not reusable.
 */
export class FrameDecoder {
  readonly #cipher: CipherState
  readonly #onPlaintext: (plaintext: Buffer) => void
  #state = State.Length
  #lengthFirstByte = -1
  #remaining = 0
  #decipher: AeadDecipher | undefined
  #held: Buffer[] = []
  #heldBytes = 0
  readonly #tag = Buffer.alloc(NOISE_TAG_LENGTH)
  #tagFilled = 0

  constructor(cipher: CipherState, onPlaintext: (plaintext: Buffer) => void) {
    this.#cipher = cipher
    this.#onPlaintext = onPlaintext
  }

  /** Unauthenticated plaintext held for the current frame. */
  get heldBytes(): number {
    return this.#heldBytes
  }

  push(chunk: Buffer): void {
    let offset = 0
    while (offset < chunk.length) {
      if (this.#state === State.Length) {
        if (this.#lengthFirstByte < 0 && chunk.length - offset >= 2) {
          this.#startFrame(chunk.readUInt16BE(offset))
          offset += 2
        } else if (this.#lengthFirstByte < 0) {
          this.#lengthFirstByte = chunk[offset++]!
        } else {
          this.#startFrame((this.#lengthFirstByte << 8) | chunk[offset++]!)
          this.#lengthFirstByte = -1
        }
      } else if (this.#state === State.Ciphertext) {
        const n = Math.min(this.#remaining, chunk.length - offset)
        const plaintext = this.#decipher!.update(chunk.subarray(offset, offset + n))
        if (plaintext.length > 0) {
          this.#held.push(plaintext)
          this.#heldBytes += plaintext.length
        }
        offset += n
        this.#remaining -= n
        if (this.#remaining === 0) this.#state = State.Tag
      } else {
        const n = Math.min(NOISE_TAG_LENGTH - this.#tagFilled, chunk.length - offset)
        chunk.copy(this.#tag, this.#tagFilled, offset, offset + n)
        this.#tagFilled += n
        offset += n
        if (this.#tagFilled === NOISE_TAG_LENGTH) this.#finishFrame()
      }
    }
  }

  #startFrame(length: number): void {
    if (length < NOISE_TAG_LENGTH) throw new P2PError('PROTOCOL', `frame of ${length} bytes is shorter than its tag`)
    this.#decipher = this.#cipher.createDecipher()
    this.#remaining = length - NOISE_TAG_LENGTH
    this.#state = this.#remaining === 0 ? State.Tag : State.Ciphertext
  }

  #finishFrame(): void {
    const decipher = this.#decipher!
    this.#decipher = undefined
    this.#tagFilled = 0
    this.#state = State.Length
    try {
      decipher.setAuthTag(this.#tag)
      decipher.final()
    } catch (err) {
      this.#held = []
      this.#heldBytes = 0
      throw new P2PError('DECRYPT_FAILED', 'frame failed authentication', { cause: err })
    }
    const held = this.#held
    this.#held = []
    this.#heldBytes = 0
    for (const plaintext of held) this.#onPlaintext(plaintext)
  }
}
