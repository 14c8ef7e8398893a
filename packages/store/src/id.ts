import { join } from 'node:path'
import { StoreError } from './errors.js'

const ID_PATTERN = /^[0-9a-f]{64}$/

/** True when `id` is a blob id: 64 lowercase hex characters (a SHA-256 digest). */
export function isBlobId(id: unknown): id is string {
  return typeof id === 'string' && ID_PATTERN.test(id)
}

/** Throws INVALID_ID unless `id` is a blob id. */
export function assertBlobId(id: unknown): asserts id is string {
  if (!isBlobId(id)) {
    throw new StoreError('INVALID_ID', `invalid blob id ${JSON.stringify(String(id)).slice(0, 80)}: want 64 lowercase hex characters`)
  }
}

/** The directory holding blob `id`: `<blobsDir>/ab/cd` for an id starting with `abcd`. */
export function blobDir(blobsDir: string, id: string): string {
  return join(blobsDir, id.slice(0, 2), id.slice(2, 4))
}

/** The CAS path of blob `id`: `<blobsDir>/ab/cd/<id>`. */
export function blobPath(blobsDir: string, id: string): string {
  return join(blobsDir, id.slice(0, 2), id.slice(2, 4), id)
}
