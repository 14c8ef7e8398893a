/**
 * One async lock per key: callers with the same key run one after another, in arrival order;
 * different keys never wait for each other. Idle keys take no memory.
 */
export class KeyedMutex {
  readonly #tails = new Map<string, Promise<void>>()

  /** Runs `fn` once every earlier holder of `key` has finished. */
  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key)
    let release!: () => void
    const mine = new Promise<void>((resolve) => {
      release = resolve
    })
    const tail = previous === undefined ? mine : previous.then(() => mine)
    this.#tails.set(key, tail)
    try {
      if (previous !== undefined) await previous
      return await fn()
    } finally {
      release()
      if (this.#tails.get(key) === tail) this.#tails.delete(key)
    }
  }

  /** Number of keys currently locked or waited on. */
  get size(): number {
    return this.#tails.size
  }
}
