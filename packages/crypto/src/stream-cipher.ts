import { randomBytes } from 'node:crypto'
import { Transform, type TransformCallback } from 'node:stream'
import { IV_LENGTH } from './constants.js'
import { ctrCipher, ctrUpdate } from './ctr.js'
import { assertKey } from './derive.js'
import { CryptoError } from './errors.js'

/**
 * A Transform that encrypts a byte stream with AES-256-CTR under `key` and a
 * fresh random IV, which it writes first. A random 128-bit IV per stream makes
 * a counter-block collision between two streams under one key negligible.
 */
export function createEncryptStream(key: Uint8Array): Transform {
  assertKey(key)
  const iv = randomBytes(IV_LENGTH)
  const cipher = ctrCipher(key, iv)
  let started = false
  return new Transform({
    transform(chunk: Buffer, _encoding, done: TransformCallback) {
      if (!started) {
        started = true
        this.push(iv)
      }
      done(null, ctrUpdate(cipher, chunk))
    },
    flush(done: TransformCallback) {
      if (!started) this.push(iv)
      done(null, cipher.final())
    },
  })
}

/** A Transform that decrypts what {@link createEncryptStream} wrote. */
export function createDecryptStream(key: Uint8Array): Transform {
  assertKey(key)
  let head: Buffer = Buffer.alloc(0)
  let decipher: ReturnType<typeof ctrCipher> | undefined
  return new Transform({
    transform(chunk: Buffer, _encoding, done: TransformCallback) {
      if (decipher) return done(null, ctrUpdate(decipher, chunk))
      head = Buffer.concat([head, chunk])
      if (head.byteLength < IV_LENGTH) return done()
      decipher = ctrCipher(key, head.subarray(0, IV_LENGTH))
      const rest = head.subarray(IV_LENGTH)
      head = Buffer.alloc(0)
      done(null, ctrUpdate(decipher, rest))
    },
    flush(done: TransformCallback) {
      if (!decipher) {
        return done(new CryptoError('INVALID_BLOB', `stream ended after ${head.byteLength} bytes, before its ${IV_LENGTH}-byte iv`))
      }
      done(null, decipher.final())
    },
  })
}
