import { CryptoError } from './errors.js'

const HEX = /^[0-9a-f]*$/i

/** Lowercase hex of some bytes. */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')
}

/**
 * Parses a key written as hex (surrounding whitespace ignored).
 * @param length - expected key length in bytes; anything else is refused
 */
export function parseHexKey(text: string, length: number): Buffer {
  const trimmed = text.trim()
  if (trimmed.length !== length * 2 || !HEX.test(trimmed)) {
    throw new CryptoError('INVALID_KEY', `expected ${length * 2} hex characters, got ${describe(trimmed)}`)
  }
  return Buffer.from(trimmed, 'hex')
}

function describe(text: string): string {
  if (!HEX.test(text)) return 'text that is not hex'
  return `${text.length}`
}
