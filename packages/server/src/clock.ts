/** Opaque timer handle of a {@link Clock}. */
export type TimerHandle = unknown

/**
 * Time source and timers, injected so membership and repair can run on a
 * simulated clock in tests.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number
  setTimeout(fn: () => void, ms: number): TimerHandle
  clearTimeout(handle: TimerHandle): void
}

/** The real clock; its timers do not keep the process alive. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms)
    t.unref()
    return t
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
}

/**
 * A simulated clock: time moves only when {@link ManualClock.advance} is
 * called, which fires due timers in time order.
 */
/** Resolves once `promise` settles or `ms` pass on `clock`, whichever comes first. */
export async function settlesWithin(clock: Clock, promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: TimerHandle
  const timeout = new Promise<void>((resolve) => {
    timer = clock.setTimeout(resolve, ms)
  })
  await Promise.race([promise.then(noop, noop), timeout])
  clock.clearTimeout(timer)
}

function noop(): void {}

export class ManualClock implements Clock {
  private time: number
  private seq = 0
  private readonly timers = new Map<number, { at: number; fn: () => void }>()

  constructor(start = 1_700_000_000_000) {
    this.time = start
  }

  now(): number {
    return this.time
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = ++this.seq
    this.timers.set(id, { at: this.time + Math.max(0, ms), fn })
    return id
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers.delete(handle as number)
  }

  /** Moves time forward by `ms`, firing each due timer at its own time. */
  advance(ms: number): void {
    const end = this.time + ms
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | undefined
      for (const entry of this.timers) {
        if (entry[1].at <= end && (next === undefined || entry[1].at < next[1].at)) next = entry
      }
      if (next === undefined) break
      this.timers.delete(next[0])
      this.time = Math.max(this.time, next[1].at)
      next[1].fn()
    }
    this.time = end
  }
}
