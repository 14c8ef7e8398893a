import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import type { SealedChunk } from './chunk-cipher.js'
import { assertKey } from './derive.js'
import { CryptoError, type CryptoErrorCode } from './errors.js'

// The built worker script. Sources and build sit side by side (src/, dist/), so from either this
// names dist/seal-worker.js: tests that run the sources use the built worker.
const WORKER_SCRIPT = fileURLToPath(new URL('../dist/seal-worker.js', import.meta.url))

/** A chunk to seal, as sent to the worker. */
export interface SealRequest {
  id: number
  ownerKey: Uint8Array
  plaintext: Uint8Array
}

/** The worker's answer: the sealed chunk, or the error sealing it raised. */
export type SealReply =
  | { id: number; sealed: { id: string; key: Uint8Array; blob: Uint8Array; size: number } }
  | { id: number; error: { code?: CryptoErrorCode; message: string } }

interface Pending {
  resolve: (sealed: SealedChunk) => void
  reject: (err: unknown) => void
}

interface Thread {
  worker: Worker
  pending: Map<number, Pending>
}

/** Options of {@link ChunkSealer}. */
export interface ChunkSealerOptions {
  /** Worker threads to seal on (default 1). */
  threads?: number
}

const view = (bytes: Uint8Array): Buffer => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)

/**
 * Seals chunks exactly as {@link sealChunk} does, on worker threads instead of the caller's event
 * loop. Why: sealing a 1 MiB chunk is two SHA-256 passes and AES-CTR, about 2 ms of CPU in one
 * piece; on the event loop every disk and network completion waits behind it. Off the loop, a
 * machine with two cores seals on one while the other runs the rest of the put.
 *
 * The plaintext is copied to the worker (the caller keeps its buffer); the blob comes back without
 * a copy. Threads start on first use and do not keep the process alive while idle. A thread that
 * dies fails only the seals it was doing; the next seal starts a new one.
 */
export class ChunkSealer {
  readonly #threads: (Thread | undefined)[]
  #next = 0
  #closed = false

  constructor(options: ChunkSealerOptions = {}) {
    const threads = options.threads ?? 1
    if (!Number.isSafeInteger(threads) || threads < 1) throw new CryptoError('INVALID_ARGUMENT', `threads must be a positive integer, got ${threads}`)
    this.#threads = Array.from({ length: threads }, () => undefined)
  }

  /** Seals one chunk; resolves what `sealChunk(ownerKey, plaintext)` returns. */
  async seal(ownerKey: Uint8Array, plaintext: Uint8Array): Promise<SealedChunk> {
    if (this.#closed) throw new CryptoError('CLOSED', 'the chunk sealer is closed')
    assertKey(ownerKey)
    const thread = this.#pick()
    const id = this.#next++
    return new Promise<SealedChunk>((resolve, reject) => {
      if (thread.pending.size === 0) thread.worker.ref()
      thread.pending.set(id, { resolve, reject })
      thread.worker.postMessage({ id, ownerKey, plaintext } satisfies SealRequest)
    })
  }

  /** Stops the threads; seals still running fail with CLOSED. */
  async close(): Promise<void> {
    this.#closed = true
    const threads = this.#threads.splice(0).filter((t): t is Thread => t !== undefined)
    await Promise.all(threads.map((t) => t.worker.terminate()))
  }

  /** The thread with the fewest seals in flight, started if it is not running. */
  #pick(): Thread {
    let best = 0
    for (let i = 0; i < this.#threads.length; i++) {
      const t = this.#threads[i]
      if (t === undefined) return this.#start(i)
      if (t.pending.size < this.#threads[best]!.pending.size) best = i
    }
    return this.#threads[best]!
  }

  #start(slot: number): Thread {
    if (!existsSync(WORKER_SCRIPT)) throw new CryptoError('CLOSED', `worker script ${WORKER_SCRIPT} is missing: build @cas/crypto first`)
    // No inherited flags: the thread needs none, and some (--input-type, --eval) would stop it.
    const worker = new Worker(WORKER_SCRIPT, { execArgv: [] })
    const thread: Thread = { worker, pending: new Map() }
    worker.unref()
    worker.on('message', (reply: SealReply) => {
      const p = thread.pending.get(reply.id)
      if (p === undefined) return
      thread.pending.delete(reply.id)
      if (thread.pending.size === 0) worker.unref()
      if ('error' in reply) p.reject(new CryptoError(reply.error.code ?? 'SEAL_FAILED', reply.error.message))
      else p.resolve({ id: reply.sealed.id, key: view(reply.sealed.key), blob: view(reply.sealed.blob), size: reply.sealed.size })
    })
    const gone = (err: unknown): void => {
      if (this.#threads[slot] === thread) this.#threads[slot] = undefined
      const failure = this.#closed
        ? new CryptoError('CLOSED', 'the chunk sealer was closed')
        : new CryptoError('SEAL_FAILED', 'the sealing thread stopped', { cause: err })
      for (const p of thread.pending.values()) p.reject(failure)
      thread.pending.clear()
    }
    worker.on('error', gone)
    worker.on('exit', (code) => gone(new Error(`exit code ${code}`)))
    this.#threads[slot] = thread
    return thread
  }
}
