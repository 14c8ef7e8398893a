/**
 * The thread behind {@link CryptoPool}: seals the chunks and runs the hashes it is sent, answering
 * in the order it was asked. Each blob is written into the memory its request brought, and moved back.
 */
import { createHash, type Hash } from 'node:crypto'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { parentPort } from 'node:worker_threads'
import { sealChunkInto } from './chunk-cipher.js'
import type { WorkReply, WorkRequest } from './crypto-pool.js'
import { CryptoError } from './errors.js'

const port = parentPort
if (port === null) throw new Error('crypto-worker.js runs as a worker thread of CryptoPool')

const hashes = new Map<number, Hash>()

// This thread's garbage is almost all Buffer memory (cipher output for every 64 KiB sealed, moved
// plaintexts), and it allocates too few JS objects for V8 to collect on its own schedule, so dead
// buffers piled up: a daemon's putter peaked at 242 MiB in a 1 GiB put (bench/memory.mjs set-up)
// without these collections, 218 with them. A young-generation collection every few MiB sealed
// costs well under a millisecond, since almost nothing here survives. Every 2 MiB rather than 8:
// malloc's heap of this thread, which holds the dead slices until then, held 5 MiB instead of 11
// (4 daemons, 2 GiB put, twice each way: putting daemon's peak 162, 168 MiB against 171, 174),
// for no CPU per MiB that showed (10.0, 9.3 against 10.0, 9.4 ms on the putting daemon).
setFlagsFromString('--expose-gc')
const collectYoung = runInNewContext('gc') as (options: { type: 'minor' }) => void
const COLLECT_EVERY_BYTES = 2 * 1024 * 1024
let sinceCollect = 0
function collected(bytes: number): void {
  sinceCollect += bytes
  if (sinceCollect < COLLECT_EVERY_BYTES) return
  sinceCollect = 0
  collectYoung({ type: 'minor' })
}

function hashOf(id: number): Hash {
  let hash = hashes.get(id)
  if (hash === undefined) hashes.set(id, (hash = createHash('sha256')))
  return hash
}

function work(request: Exclude<WorkRequest, { op: 'hash-update' }>): WorkReply {
  const { id } = request
  if (request.op === 'hash-digest') {
    const digest = hashes.get(request.hash)?.digest() ?? createHash('sha256').digest()
    hashes.delete(request.hash)
    return { id, digest }
  }
  if (request.hash !== undefined) hashOf(request.hash).update(request.plaintext)
  const { id: blobId, key } = sealChunkInto(request.ownerKey, request.plaintext, new Uint8Array(request.blob))
  return { id, sealed: { id: blobId, key, blob: request.blob } }
}

port.on('message', (request: WorkRequest) => {
  if (request.op === 'hash-update') {
    hashOf(request.hash).update(request.bytes)
    collected(request.bytes.byteLength)
    return
  }
  try {
    const reply = work(request)
    port.postMessage(reply, 'sealed' in reply ? [reply.sealed.blob] : [])
    if (request.op === 'seal') collected(request.plaintext.byteLength)
  } catch (err) {
    const error = { ...(err instanceof CryptoError ? { code: err.code } : {}), message: err instanceof Error ? err.message : String(err) }
    port.postMessage({ id: request.id, error } satisfies WorkReply)
  }
})
