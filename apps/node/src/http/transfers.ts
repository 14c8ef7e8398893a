import { setMaxListeners } from 'node:events'
import { CasError } from '../errors.js'

/** One running upload or download. */
export interface Transfer {
  readonly signal: AbortSignal
  /** Marks the transfer finished (idempotent). */
  end(): void
}

/**
 * The uploads and downloads in flight, so that shutdown can wait for them and, after a grace
 * period, abort the rest cleanly through their AbortSignals.
 */
export class Transfers {
  readonly #active = new Set<AbortController>()
  #waiters: (() => void)[] = []

  /** Number of transfers in flight. */
  get size(): number {
    return this.#active.size
  }

  /** Registers a transfer; its signal fires when the client goes away or shutdown aborts it. */
  begin(): Transfer & { abort(reason: unknown): void } {
    const controller = new AbortController()
    // One transfer's signal guards every request of its window of chunks; each listener is
    // removed when its request settles, so many at once is expected, not a leak.
    setMaxListeners(0, controller.signal)
    this.#active.add(controller)
    const end = (): void => {
      if (!this.#active.delete(controller)) return
      if (this.#active.size === 0) {
        const waiters = this.#waiters
        this.#waiters = []
        for (const wake of waiters) wake()
      }
    }
    return { signal: controller.signal, end, abort: (reason: unknown) => controller.abort(reason) }
  }

  /** Resolves once no transfer is in flight, or after `timeoutMs`; tells which. */
  async drain(timeoutMs: number): Promise<boolean> {
    if (this.#active.size === 0) return true
    let timer: NodeJS.Timeout | undefined
    const drained = await Promise.race([
      new Promise<boolean>((resolve) => this.#waiters.push(() => resolve(true))),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs)
      }),
    ])
    clearTimeout(timer)
    return drained
  }

  /** Aborts every transfer in flight. */
  abortAll(): void {
    for (const controller of this.#active) controller.abort(new CasError('UNAVAILABLE', 'the daemon is shutting down'))
  }
}
