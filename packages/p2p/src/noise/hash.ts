import { createHash, createHmac } from 'node:crypto'
import type { HashName } from './protocol-name.js'

/** A Noise hash function with the HMAC and HKDF built on it (Noise rev 34, §4.3). */
export interface NoiseHash {
  readonly hashLen: number
  hash(...data: Uint8Array[]): Buffer
  hmac(key: Uint8Array, ...data: Uint8Array[]): Buffer
  /** HKDF(chainingKey, ikm, n) for n = 2 or 3, as defined by Noise (not RFC 5869's info/length form). */
  hkdf(chainingKey: Uint8Array, ikm: Uint8Array, outputs: 2 | 3): Buffer[]
}

const NODE_NAMES: Record<HashName, { algorithm: string; hashLen: number }> = {
  SHA256: { algorithm: 'sha256', hashLen: 32 },
  SHA512: { algorithm: 'sha512', hashLen: 64 },
  // OpenSSL's HMAC over BLAKE2b-512 uses its 128-byte block, as Noise's HMAC-BLAKE2b requires.
  BLAKE2b: { algorithm: 'blake2b512', hashLen: 64 },
}

const BYTE_1 = Buffer.from([1])
const BYTE_2 = Buffer.from([2])
const BYTE_3 = Buffer.from([3])

/** The Noise hash functions on node:crypto. */
export function noiseHash(name: HashName): NoiseHash {
  const { algorithm, hashLen } = NODE_NAMES[name]
  const hash = (...data: Uint8Array[]): Buffer => {
    const h = createHash(algorithm)
    for (const d of data) h.update(d)
    return h.digest()
  }
  const hmac = (key: Uint8Array, ...data: Uint8Array[]): Buffer => {
    const h = createHmac(algorithm, key)
    for (const d of data) h.update(d)
    return h.digest()
  }
  const hkdf = (chainingKey: Uint8Array, ikm: Uint8Array, outputs: 2 | 3): Buffer[] => {
    const tempKey = hmac(chainingKey, ikm)
    const out1 = hmac(tempKey, BYTE_1)
    const out2 = hmac(tempKey, out1, BYTE_2)
    if (outputs === 2) return [out1, out2]
    return [out1, out2, hmac(tempKey, out2, BYTE_3)]
  }
  return { hashLen, hash, hmac, hkdf }
}
