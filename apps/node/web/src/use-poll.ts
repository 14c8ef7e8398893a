import { useCallback, useEffect, useRef, useState } from 'preact/hooks'

/** Latest result of a polled load. */
export interface Polled<T> {
  data: T | undefined
  error: unknown
  loading: boolean
  /** Loads again now (e.g. after a change made from this page). */
  refresh: () => void
}

/**
 * Runs `load` now, then every `intervalMs` while the tab is visible, and again when it becomes visible.
 * Old data stays on screen while a refresh runs, so the page does not flicker.
 */
export function usePoll<T>(load: (signal: AbortSignal) => Promise<T>, intervalMs: number, deps: unknown[]): Polled<T> {
  const [data, setData] = useState<T | undefined>(undefined)
  const [error, setError] = useState<unknown>(undefined)
  const [loading, setLoading] = useState(true)
  const [tick, setTick] = useState(0)
  const loadRef = useRef(load)
  loadRef.current = load

  useEffect(() => {
    setData(undefined)
    setLoading(true)
  }, deps)

  useEffect(() => {
    const controller = new AbortController()
    let timer: ReturnType<typeof setTimeout> | undefined
    let stopped = false
    const run = async (): Promise<void> => {
      clearTimeout(timer)
      try {
        const value = await loadRef.current(controller.signal)
        if (stopped) return
        setData(value)
        setError(undefined)
      } catch (err) {
        if (stopped) return
        setError(err)
      }
      setLoading(false)
      if (!document.hidden) timer = setTimeout(() => void run(), intervalMs)
    }
    const onVisible = (): void => {
      if (!document.hidden) void run()
    }
    void run()
    document.addEventListener('visibilitychange', onVisible)
    return () => {
      stopped = true
      clearTimeout(timer)
      controller.abort()
      document.removeEventListener('visibilitychange', onVisible)
    }
  }, [...deps, tick, intervalMs])

  const refresh = useCallback(() => setTick((n) => n + 1), [])
  return { data, error, loading, refresh }
}
