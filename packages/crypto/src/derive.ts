import { IV_LENGTH, KEY_LENGTH, LABELS } from './constants.js'
import { CryptoError } from './errors.js'
import { hmacSha256 } from './hash.js'

/** A derived AES-256-CTR key and its initial counter block. */
export interface CipherSecret {
  key: Buffer
  iv: Buffer
}

/**
 * Key and IV of one chunk (DESIGN §2): HMAC-SHA256 of the owner key over a label
 * and the chunk's plaintext SHA-256. Distinct plaintexts give distinct (key, iv)
 * pairs, so no counter block is ever reused under one key with other data.
 */
export function deriveChunkSecret(ownerKey: Uint8Array, plaintextSha256: Uint8Array): CipherSecret {
  return derive(ownerKey, plaintextSha256, LABELS.chunkKey, LABELS.chunkIv)
}

/** Key and IV of a file's root manifest, from the owner key and the file's plaintext SHA-256. */
export function deriveFileSecret(ownerKey: Uint8Array, fileSha256: Uint8Array): CipherSecret {
  return derive(ownerKey, fileSha256, LABELS.fileKey, LABELS.fileIv)
}

function derive(ownerKey: Uint8Array, digest: Uint8Array, keyLabel: string, ivLabel: string): CipherSecret {
  assertKey(ownerKey, 'owner key')
  if (digest.byteLength !== 32) {
    throw new CryptoError('INVALID_KEY', `expected a 32-byte SHA-256 digest, got ${digest.byteLength} bytes`)
  }
  return {
    key: hmacSha256(ownerKey, keyLabel, digest),
    iv: hmacSha256(ownerKey, ivLabel, digest).subarray(0, IV_LENGTH),
  }
}

/** Throws INVALID_KEY unless `key` is a 32-byte symmetric key. */
export function assertKey(key: Uint8Array, what = 'key'): void {
  if (key.byteLength !== KEY_LENGTH) {
    throw new CryptoError('INVALID_KEY', `${what} must be ${KEY_LENGTH} bytes, got ${key.byteLength}`)
  }
}
