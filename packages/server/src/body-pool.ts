/** Bodies smaller than this are left to the collector: only blob-sized memory is worth keeping. */
export const MIN_POOLED_BODY = 64 * 1024

/** Spare bodies kept at most: a get's window of blobs, with a few to spare. */
export const MAX_SPARE_BODIES = 12

/**
 * Memory for the blobs a node receives (the `allocateBody` of its host) and those it reads from
 * its own store for a get or a peer, taken back once the node is done with them: a get after it has
 * decrypted a blob, a holder after it has stored one or encrypted one it serves.
 *
 * Why: a fresh MiB for every blob received is external memory the collector chases. The blobs a
 * get holds in its window live long enough to be promoted, so each 64 MiB of them starts a full
 * collection, which marks the whole heap on two threads (a 1 GiB get ran 47 of them).
 *
 * Only memory this pool made comes back into it, and only whole: `give` is a no-op for anything
 * else. The caller of `give` promises that nothing reads or keeps the buffer any more, since the
 * next body received is written into it.
 */
export class BodyPool {
  readonly #spare: ArrayBuffer[] = []
  readonly #made = new WeakSet<ArrayBuffer>()
  readonly #maxSpare: number

  constructor(maxSpare = MAX_SPARE_BODIES) {
    this.#maxSpare = maxSpare
  }

  /** Bytes held in spare bodies. */
  get spareBytes(): number {
    return this.#spare.reduce((sum, memory) => sum + memory.byteLength, 0)
  }

  /** Memory for a body of `length` bytes: a spare one of that size, else new. */
  take(length: number): Buffer {
    if (length < MIN_POOLED_BODY) return Buffer.allocUnsafe(length)
    const i = this.#spare.findIndex((memory) => memory.byteLength === length)
    if (i >= 0) return Buffer.from(this.#spare.splice(i, 1)[0]!)
    const body = Buffer.allocUnsafeSlow(length)
    this.#made.add(body.buffer)
    return body
  }

  /** Takes back a body this pool made, whole, that nothing uses any more. */
  give(body: Buffer): void {
    const memory = body.buffer
    if (!(memory instanceof ArrayBuffer) || !this.#made.has(memory)) return
    if (body.byteOffset !== 0 || body.byteLength !== memory.byteLength) return
    if (this.#spare.length >= this.#maxSpare || this.#spare.includes(memory)) return
    this.#spare.push(memory)
  }

  /** Lets go of every spare body, for the collector to free. */
  clear(): void {
    this.#spare.length = 0
  }
}
