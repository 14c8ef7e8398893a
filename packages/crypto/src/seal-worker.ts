/**
 * The thread behind {@link ChunkSealer}: seals each chunk it is sent and sends the sealed chunk
 * back, handing the blob's memory over instead of copying it.
 */
import { parentPort } from 'node:worker_threads'
import { sealChunk } from './chunk-cipher.js'
import type { SealReply, SealRequest } from './chunk-sealer.js'
import { CryptoError } from './errors.js'

const port = parentPort
if (port === null) throw new Error('seal-worker.js runs as a worker thread of ChunkSealer')

port.on('message', ({ id, ownerKey, plaintext }: SealRequest) => {
  let reply: SealReply
  let transfer: ArrayBuffer[] = []
  try {
    const { id: blobId, key, blob, size } = sealChunk(ownerKey, plaintext)
    reply = { id, sealed: { id: blobId, key, blob, size } }
    // The blob owns its memory (it is allocated for this chunk alone): move it, do not copy it.
    if (blob.byteOffset === 0 && blob.byteLength === blob.buffer.byteLength && blob.buffer instanceof ArrayBuffer) transfer = [blob.buffer]
  } catch (err) {
    reply = { id, error: { ...(err instanceof CryptoError ? { code: err.code } : {}), message: err instanceof Error ? err.message : String(err) } }
  }
  port.postMessage(reply, transfer)
})
