import type { Clock } from './clock.js'

/** Options of {@link firstSuccess}. */
export interface HedgeOptions {
  clock: Clock
  /** How long an attempt may run before the next candidate is started beside it. */
  hedgeAfterMs: number
  /** Hears about a candidate that had not answered within `hedgeAfterMs`. */
  onSlow?: (candidate: string) => void
}

/**
 * Tries candidates one after another until one succeeds (resolves to something other than
 * undefined), but never waits on one for long: an attempt still running after `hedgeAfterMs`
 * gets company, the next candidate starting beside it. So a peer that takes a request and never
 * answers costs `hedgeAfterMs`, not a full request timeout. Resolves with the first success, or
 * undefined once every candidate has failed. Attempts still running when a winner is found
 * finish on their own and are ignored; a rejection (an abort) ends the whole call.
 */
export async function firstSuccess<T>(
  next: () => string | undefined,
  attempt: (candidate: string) => Promise<T | undefined>,
  opts: HedgeOptions,
): Promise<T | undefined> {
  type Outcome = { task: Promise<Outcome>; value: T | undefined } | 'hedge'
  const running = new Map<Promise<Outcome>, string>()
  const start = (): boolean => {
    const candidate = next()
    if (candidate === undefined) return false
    const task: Promise<Outcome> = attempt(candidate).then((value) => ({ task, value }))
    task.catch(() => {}) // observed through the race below while it matters
    running.set(task, candidate)
    return true
  }
  if (!start()) return undefined
  for (;;) {
    let timer: unknown
    const hedge = new Promise<'hedge'>((resolve) => {
      timer = opts.clock.setTimeout(() => resolve('hedge'), opts.hedgeAfterMs)
    })
    const outcome = await Promise.race([...running.keys(), hedge]).finally(() => opts.clock.clearTimeout(timer))
    if (outcome === 'hedge') {
      const slow = [...running.values()]
      if (start()) for (const candidate of slow) opts.onSlow?.(candidate)
      continue
    }
    running.delete(outcome.task)
    if (outcome.value !== undefined) return outcome.value
    if (running.size === 0 && !start()) return undefined
  }
}
