import { createCipheriv, type Cipher } from 'node:crypto'
import { CIPHER_SLICE } from './constants.js'

/** An AES-256-CTR keystream positioned at `iv` (the initial 128-bit counter block). */
export function ctrCipher(key: Uint8Array, iv: Uint8Array): Cipher {
  return createCipheriv('aes-256-ctr', key, iv)
}

/**
 * XORs `input` with the cipher's keystream into `output` at `offset`, in
 * {@link CIPHER_SLICE} steps (OpenSSL is markedly faster on them than on one big update).
 */
export function ctrInto(cipher: Cipher, input: Uint8Array, output: Buffer, offset: number): void {
  for (let at = 0; at < input.byteLength; at += CIPHER_SLICE) {
    const slice = input.subarray(at, Math.min(at + CIPHER_SLICE, input.byteLength))
    cipher.update(slice).copy(output, offset + at)
  }
}

/** The cipher's output for `input`: one update when it is small, {@link CIPHER_SLICE} steps when it is large. */
export function ctrUpdate(cipher: Cipher, input: Buffer): Buffer {
  if (input.byteLength <= CIPHER_SLICE) return cipher.update(input)
  const output = Buffer.allocUnsafe(input.byteLength)
  ctrInto(cipher, input, output, 0)
  return output
}
