/**
 * @packageDocumentation
 * @cas/crypto — the cryptography of CAS on node:crypto: keys and key files,
 * domain-separated derivation of chunk and file secrets (DESIGN §2), chunk
 * encryption (`blob = iv || AES-256-CTR`), and streaming AES-256-CTR.
 */
export { CIPHER_SLICE, IV_LENGTH, KEY_LENGTH, LABELS, X25519_KEY_LENGTH } from './constants.js'
export { CryptoError, type CryptoErrorCode } from './errors.js'
export { parseHexKey, toHex } from './hex.js'
export { hmacSha256, sha256, sha256Hex } from './hash.js'
export { generateKey, generateKeyPair, publicKeyFromPrivate, x25519, type KeyPair } from './keys.js'
export { readKeyFile, readKeyPairFile, writeKeyFile, writeKeyPairFile, type WriteKeyOptions } from './key-files.js'
export { assertKey, deriveChunkSecret, deriveFileSecret, type CipherSecret } from './derive.js'
export { decryptChunk, encryptChunk, sealChunk, type SealedChunk } from './chunk-cipher.js'
export { CryptoPool, type CryptoPoolOptions, type SealOptions, type ThreadSha256 } from './crypto-pool.js'
export { createDecryptStream, createEncryptStream } from './stream-cipher.js'
