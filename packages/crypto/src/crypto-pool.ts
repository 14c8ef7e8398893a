import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import type { SealedChunk } from './chunk-cipher.js'
import { IV_LENGTH } from './constants.js'
import { assertKey } from './derive.js'
import { CryptoError, type CryptoErrorCode } from './errors.js'

// The built worker script. Sources and build sit side by side (src/, dist/), so from either this
// names dist/crypto-worker.js: tests that run the sources use the built worker.
const WORKER_SCRIPT = fileURLToPath(new URL('../dist/crypto-worker.js', import.meta.url))

/** What the pool asks of a thread. `hash-update` gets no answer; the others get a {@link WorkReply}. */
export type WorkRequest =
  | { op: 'seal'; id: number; ownerKey: Uint8Array; plaintext: Uint8Array; blob: ArrayBuffer; hash?: number }
  | { op: 'hash-update'; hash: number; bytes: Uint8Array }
  | { op: 'hash-digest'; id: number; hash: number }

/** A thread's answer: a sealed chunk, a digest, or the error the work raised. */
export type WorkReply =
  | { id: number; sealed: { id: string; key: Uint8Array; blob: ArrayBuffer } }
  | { id: number; digest: Uint8Array }
  | { id: number; error: { code?: CryptoErrorCode; message: string } }

interface Pending {
  resolve: (reply: WorkReply) => void
  reject: (err: unknown) => void
}

interface HashState {
  thread: Thread
  /** The id the thread knows the hash by. */
  hash: number
  digested: boolean
}

interface Thread {
  worker: Worker
  pending: Map<number, Pending>
  /** Set once the thread is gone: hashes bound to it cannot finish. */
  failure?: CryptoError
}

/** An incremental SHA-256 computed on one of a {@link CryptoPool}'s threads. */
export interface ThreadSha256 {
  /**
   * Adds bytes (copied to the thread, so the caller may reuse its buffer at once). Updates queue on
   * the thread in order; the caller bounds how many wait, e.g. by awaiting other work the same
   * thread answers after them.
   */
  update(bytes: Uint8Array): void
  /** The raw 32-byte digest of everything added; the hash cannot be used afterwards. */
  digest(): Promise<Buffer>
}

/** Options of {@link CryptoPool.seal}. */
export interface SealOptions {
  /** A hash of this pool that the plaintext is added to on the thread before it is sealed. */
  alsoHash?: ThreadSha256
}

/** Options of {@link CryptoPool}. */
export interface CryptoPoolOptions {
  /** Worker threads (default 1). */
  threads?: number
}

const view = (bytes: Uint8Array): Buffer => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)

/**
 * A private copy of `bytes` to move to a thread. One memcpy: cheaper than the structured clone
 * `postMessage` would make, which for 1 MiB cost several copies (0.4 ms, measured).
 */
function movableCopy(bytes: Uint8Array): Uint8Array {
  const copy = Buffer.allocUnsafeSlow(bytes.byteLength)
  copy.set(bytes)
  return copy
}

/**
 * Blob memories a pool keeps for reuse at most (see {@link CryptoPool.recycle}). A put recycles
 * about as fast as it seals, so a few suffice; they stay with the pool when the put is over.
 */
const MAX_SPARE_BLOBS = 4

/** Bytes of one shared slot: a default-size chunk (1 MiB) fits. */
const SLOT_BYTES = 1024 * 1024
/** Shared slots a pool keeps at most; seals beyond them (or larger than a slot) use a moved copy. */
const MAX_SLOTS = 8

/**
 * Reusable shared memory for the plaintexts of seals in flight: no fresh 1 MiB per chunk, which
 * would be garbage on the thread, whose collector seldom runs. A slot is written here, read there,
 * and reused once its seal is answered. (Slots live as long as the pool, so V8 not counting
 * SharedArrayBuffers toward collections does not matter here.)
 */
class SharedSlots {
  readonly #free: Uint8Array[] = []
  #made = 0

  /** A slot holding a copy of `bytes`, or undefined when none is free or `bytes` does not fit. */
  take(bytes: Uint8Array): Uint8Array | undefined {
    if (bytes.byteLength > SLOT_BYTES) return undefined
    let slot = this.#free.pop()
    if (slot === undefined) {
      if (this.#made >= MAX_SLOTS) return undefined
      this.#made++
      slot = new Uint8Array(new SharedArrayBuffer(SLOT_BYTES))
    }
    slot.set(bytes)
    return slot.subarray(0, bytes.byteLength)
  }

  give(slot: Uint8Array): void {
    this.#free.push(new Uint8Array(slot.buffer, 0, SLOT_BYTES))
  }
}

/**
 * The CPU-heavy crypto of a put, on worker threads instead of the caller's event loop: sealing
 * chunks (exactly as {@link sealChunk}) and hashing a whole file. Why: sealing a 1 MiB chunk is two
 * SHA-256 passes and AES-CTR, 2–3 ms of CPU in one piece, and the file's hash another pass; on the
 * event loop every disk and network completion waits behind them. Off the loop, a machine with two
 * cores does them on one while the other runs the rest of the put.
 *
 * Inputs are copied to the thread (the caller keeps its buffers); the thread writes each sealed
 * blob into memory the caller's thread allocated and moved over, and moves it back: no copy.
 * Threads start on first use and do not keep the process alive while idle. A thread that dies
 * fails only the work it held (`SEAL_FAILED`); the next request starts a new one.
 */
export class CryptoPool {
  readonly #threads: (Thread | undefined)[]
  // Each hash this pool made: the thread it lives on and the id that thread knows it by.
  readonly #hashes = new WeakMap<ThreadSha256, HashState>()
  readonly #slots = new SharedSlots()
  // Memory of sealed blobs given back by callers done with them, for the next seals of their size.
  readonly #spareBlobs: ArrayBuffer[] = []
  #next = 0
  #closed = false

  constructor(options: CryptoPoolOptions = {}) {
    const threads = options.threads ?? 1
    if (!Number.isSafeInteger(threads) || threads < 1) throw new CryptoError('INVALID_ARGUMENT', `threads must be a positive integer, got ${threads}`)
    this.#threads = Array.from({ length: threads }, () => undefined)
  }

  /**
   * Seals one chunk; resolves what `sealChunk(ownerKey, plaintext)` returns. With `alsoHash`, the
   * plaintext is added to that hash first, on its thread: one trip for both.
   */
  async seal(ownerKey: Uint8Array, plaintext: Uint8Array, options: SealOptions = {}): Promise<SealedChunk> {
    assertKey(ownerKey)
    // Read now: the plaintext is copied to the thread below, and the caller may reuse it at once.
    const size = plaintext.byteLength
    const target = options.alsoHash === undefined ? undefined : this.#hashes.get(options.alsoHash)
    if (options.alsoHash !== undefined && target === undefined) throw new CryptoError('INVALID_ARGUMENT', 'alsoHash must be a hash of this pool')
    if (target?.digested === true) throw new CryptoError('INVALID_ARGUMENT', 'alsoHash was already digested')
    if (target?.thread.failure !== undefined) throw target.thread.failure
    const thread = target?.thread ?? this.#pick()
    const slot = this.#slots.take(plaintext)
    // The blob is written by the thread into memory allocated here and moved there and back, never
    // copied. Allocated here because it lives on here (store, network): memory a thread allocated
    // and another frees stays with the first thread's allocator, which held tens of MiB more.
    // (Not a SharedArrayBuffer: V8 does not count those as the heap's external memory, so dead
    // ones never prompt a collection; a 1 GiB put reached 750 MiB that way.)
    const blob = this.#blobMemory(IV_LENGTH + plaintext.byteLength)
    const copy = slot ?? movableCopy(plaintext)
    let reply: WorkReply
    try {
      reply = await this.#ask(
        thread,
        (id) => ({ op: 'seal', id, ownerKey, plaintext: copy, blob, ...(target ? { hash: target.hash } : {}) }),
        slot ? [blob] : [blob, copy.buffer as ArrayBuffer],
      )
    } finally {
      // Answered (or failed): the thread is done reading the slot. A thread that was terminated
      // mid-read reads nothing more either.
      if (slot) this.#slots.give(slot)
    }
    if (!('sealed' in reply)) throw new CryptoError('SEAL_FAILED', 'the crypto thread answered a seal with something else')
    return { id: reply.sealed.id, key: view(reply.sealed.key), blob: Buffer.from(reply.sealed.blob), size }
  }

  /**
   * Gives back the memory of a blob this pool sealed, for a later seal of the same size to write
   * into. Why: a fresh MiB for every blob is memory the allocator takes from the system and hands
   * back, faulted in page by page, and external memory the collector runs after. With a put
   * recycling its blobs (`bench/cluster.mjs`, 1 GiB, three alternating runs), the putting node's
   * CPU fell from 10.5, 10.5, 11.7 to 9.0, 8.9, 9.1 ms per MiB; the putting daemon of
   * `bench/memory.mjs` (1 GiB) peaked at 171 and 164 MiB instead of 204 and 218. The caller must
   * be done with `blob` and every view of it: nothing may read it any more, since its bytes will
   * be overwritten.
   */
  recycle(blob: Buffer): void {
    const memory = blob.buffer
    if (!(memory instanceof ArrayBuffer) || blob.byteOffset !== 0 || blob.byteLength !== memory.byteLength || memory.byteLength === 0) return
    if (this.#spareBlobs.length >= MAX_SPARE_BLOBS || this.#spareBlobs.includes(memory)) return
    this.#spareBlobs.push(memory)
  }

  /** Bytes of blob memory kept for later seals (see {@link recycle}). */
  get spareBytes(): number {
    return this.#spareBlobs.reduce((sum, memory) => sum + memory.byteLength, 0)
  }

  /** Lets go of the blob memory kept for later seals, for the collector to free: for when puts stop. */
  dropSpares(): void {
    this.#spareBlobs.length = 0
  }

  /** Memory for a blob of `bytes`: a recycled one of that size, else new. */
  #blobMemory(bytes: number): ArrayBuffer {
    const i = this.#spareBlobs.findIndex((memory) => memory.byteLength === bytes)
    if (i >= 0) return this.#spareBlobs.splice(i, 1)[0]!
    return Buffer.allocUnsafeSlow(bytes).buffer
  }

  /** Starts an incremental SHA-256 on one thread (the least busy). */
  createSha256(): ThreadSha256 {
    if (this.#closed) throw new CryptoError('CLOSED', 'the crypto pool is closed')
    const state: HashState = { thread: this.#pick(), hash: this.#next++, digested: false }
    const { thread, hash } = state
    const sha: ThreadSha256 = {
      update: (bytes) => {
        if (state.digested) throw new CryptoError('INVALID_ARGUMENT', 'update after digest')
        if (thread.failure !== undefined) return
        const copy = movableCopy(bytes)
        thread.worker.postMessage({ op: 'hash-update', hash, bytes: copy } satisfies WorkRequest, [copy.buffer as ArrayBuffer])
      },
      digest: async () => {
        if (state.digested) throw new CryptoError('INVALID_ARGUMENT', 'digest called twice')
        state.digested = true
        if (thread.failure !== undefined) throw thread.failure
        const reply = await this.#ask(thread, (id) => ({ op: 'hash-digest', id, hash }))
        if (!('digest' in reply)) throw new CryptoError('SEAL_FAILED', 'the crypto thread answered a digest with something else')
        return view(reply.digest)
      },
    }
    this.#hashes.set(sha, state)
    return sha
  }

  /** Stops the threads; work still running fails with CLOSED. */
  async close(): Promise<void> {
    this.#closed = true
    const threads = this.#threads.splice(0).filter((t): t is Thread => t !== undefined)
    await Promise.all(threads.map((t) => t.worker.terminate()))
  }

  #ask(thread: Thread, request: (id: number) => WorkRequest, transfer: ArrayBuffer[] = []): Promise<WorkReply> {
    const id = this.#next++
    return new Promise<WorkReply>((resolve, reject) => {
      if (thread.pending.size === 0) thread.worker.ref()
      thread.pending.set(id, { resolve, reject })
      thread.worker.postMessage(request(id), transfer)
    })
  }

  /** The thread with the fewest requests in flight, started if it is not running. */
  #pick(): Thread {
    if (this.#closed) throw new CryptoError('CLOSED', 'the crypto pool is closed')
    let best = 0
    for (let i = 0; i < this.#threads.length; i++) {
      const t = this.#threads[i]
      if (t === undefined) return this.#start(i)
      if (t.pending.size < this.#threads[best]!.pending.size) best = i
    }
    return this.#threads[best]!
  }

  #start(slot: number): Thread {
    if (!existsSync(WORKER_SCRIPT)) throw new CryptoError('SEAL_FAILED', `worker script ${WORKER_SCRIPT} is missing: build @cas/crypto first`)
    // No inherited flags: the thread needs none, and some (--input-type, --eval) would stop it.
    const worker = new Worker(WORKER_SCRIPT, { execArgv: [] })
    const thread: Thread = { worker, pending: new Map() }
    worker.unref()
    worker.on('message', (reply: WorkReply) => {
      const p = thread.pending.get(reply.id)
      if (p === undefined) return
      thread.pending.delete(reply.id)
      if (thread.pending.size === 0) worker.unref()
      if ('error' in reply) p.reject(new CryptoError(reply.error.code ?? 'SEAL_FAILED', reply.error.message))
      else p.resolve(reply)
    })
    const gone = (err: unknown): void => {
      if (this.#threads[slot] === thread) this.#threads[slot] = undefined
      thread.failure ??= this.#closed
        ? new CryptoError('CLOSED', 'the crypto pool was closed')
        : new CryptoError('SEAL_FAILED', 'the crypto thread stopped', { cause: err })
      for (const p of thread.pending.values()) p.reject(thread.failure)
      thread.pending.clear()
    }
    worker.on('error', gone)
    worker.on('exit', (code) => gone(new Error(`exit code ${code}`)))
    this.#threads[slot] = thread
    return thread
  }
}
