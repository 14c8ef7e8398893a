/**
 * The thread behind {@link CryptoPool}: seals the chunks and runs the hashes it is sent, answering
 * in the order it was asked. Sealed blobs are handed back by moving their memory, not copying it.
 */
import { createHash, type Hash } from 'node:crypto'
import { parentPort } from 'node:worker_threads'
import { sealChunk } from './chunk-cipher.js'
import type { WorkReply, WorkRequest } from './crypto-pool.js'
import { CryptoError } from './errors.js'

const port = parentPort
if (port === null) throw new Error('crypto-worker.js runs as a worker thread of CryptoPool')

const hashes = new Map<number, Hash>()

function hashOf(id: number): Hash {
  let hash = hashes.get(id)
  if (hash === undefined) hashes.set(id, (hash = createHash('sha256')))
  return hash
}

function work(request: Exclude<WorkRequest, { op: 'hash-update' }>): { reply: WorkReply; transfer: ArrayBuffer[] } {
  const { id } = request
  if (request.op === 'hash-digest') {
    const digest = hashes.get(request.hash)?.digest() ?? createHash('sha256').digest()
    hashes.delete(request.hash)
    return { reply: { id, digest }, transfer: [] }
  }
  if (request.hash !== undefined) hashOf(request.hash).update(request.plaintext)
  const { id: blobId, key, blob, size } = sealChunk(request.ownerKey, request.plaintext)
  // The blob owns its memory (it is allocated for this chunk alone): move it, do not copy it.
  const owned = blob.byteOffset === 0 && blob.byteLength === blob.buffer.byteLength && blob.buffer instanceof ArrayBuffer
  return { reply: { id, sealed: { id: blobId, key, blob, size } }, transfer: owned ? [blob.buffer] : [] }
}

port.on('message', (request: WorkRequest) => {
  if (request.op === 'hash-update') {
    hashOf(request.hash).update(request.bytes)
    return
  }
  try {
    const { reply, transfer } = work(request)
    port.postMessage(reply, transfer)
  } catch (err) {
    const error = { ...(err instanceof CryptoError ? { code: err.code } : {}), message: err instanceof Error ? err.message : String(err) }
    port.postMessage({ id: request.id, error } satisfies WorkReply)
  }
})
