import { createHash, createHmac } from 'node:crypto'

/** SHA-256 digest (32 raw bytes). */
export function sha256(data: Uint8Array): Buffer {
  return createHash('sha256').update(data).digest()
}

/** SHA-256 digest as lowercase hex: the id of a blob. */
export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex')
}

/** HMAC-SHA256 keyed with `key` over the concatenation of `parts`. */
export function hmacSha256(key: Uint8Array, ...parts: (Uint8Array | string)[]): Buffer {
  const mac = createHmac('sha256', key)
  for (const part of parts) mac.update(part)
  return mac.digest()
}
