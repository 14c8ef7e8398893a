/** Length in bytes of every symmetric key: owner key, network key, chunk and file keys (AES-256). */
export const KEY_LENGTH = 32

/** Length in bytes of an AES-CTR initial counter block. */
export const IV_LENGTH = 16

/** Length in bytes of a raw X25519 public or private key. */
export const X25519_KEY_LENGTH = 32

/** Domain-separation labels of DESIGN §2; each derived secret has its own. */
export const LABELS = {
  chunkKey: 'cas/v1/chunk-key',
  chunkIv: 'cas/v1/chunk-iv',
  fileKey: 'cas/v1/file-key',
  fileIv: 'cas/v1/file-iv',
} as const

/**
 * Bulk encryption into memory the caller provides walks its input in slices of this size: one
 * 1 MiB `update()` ran 2–3× slower than sixteen 64 KiB ones where malloc maps each MiB of output
 * afresh (see bench/crypto.mjs), and each slice's output is copied into place while it is in cache.
 * `decryptChunk` makes one update instead: its output is the result itself.
 */
export const CIPHER_SLICE = 64 * 1024
