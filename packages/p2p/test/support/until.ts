import { setTimeout as delay } from 'node:timers/promises'

/** Polls until `check` returns true (bounded: throws after `attempts` tries). */
export async function until(check: () => boolean, attempts = 2000): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    if (check()) return
    await delay(5)
  }
  throw new Error('condition never became true')
}

/** A promise with its resolve function, for holding handlers open. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void
  const promise = new Promise<T>((r) => (resolve = r))
  return { promise, resolve }
}

/** Lets pending I/O and timers run a few turns. */
export async function turns(n = 10): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r))
}
