import { useCallback, useEffect, useRef, useState } from 'preact/hooks'
import { ApiError, errorMessage, type Api, type UploadHandle } from './api'
import type { PutResult } from './types'

/** sending: bytes on their way; storing: all bytes sent, the node is chunking, encrypting and replicating. */
export type UploadState = 'queued' | 'sending' | 'storing' | 'done' | 'error' | 'cancelled'

/** One file the user asked to upload. */
export interface UploadItem {
  id: number
  name: string
  size: number
  loaded: number
  state: UploadState
  startedAt?: number
  result?: PutResult
  error?: string
}

/** The upload queue: files go one at a time so each gets the full bandwidth and finishes early. */
export interface Uploads {
  items: UploadItem[]
  add: (files: Iterable<File>) => void
  cancel: (id: number) => void
  clearFinished: () => void
  /** Increases each time an upload completes; pages watch it to refresh their lists. */
  completed: number
}

/** Runs uploads through `api`, keeping them going while the user moves between pages. */
export function useUploads(api: Api | null, onSettled: (item: UploadItem) => void): Uploads {
  const [items, setItems] = useState<UploadItem[]>([])
  const [completed, setCompleted] = useState(0)
  const files = useRef(new Map<number, File>())
  const running = useRef<{ id: number; handle: UploadHandle } | null>(null)
  const nextId = useRef(1)
  const settled = useRef(onSettled)
  settled.current = onSettled

  const update = useCallback((id: number, patch: Partial<UploadItem>) => {
    setItems((list) => list.map((item) => (item.id === id ? { ...item, ...patch } : item)))
  }, [])

  // Start the next queued upload whenever nothing is running.
  useEffect(() => {
    if (api === null || running.current !== null) return
    const next = items.find((item) => item.state === 'queued')
    if (next === undefined) return
    const file = files.current.get(next.id)
    if (file === undefined) return
    const handle = api.upload(file, next.name, ({ loaded, total }) => {
      update(next.id, { loaded, state: loaded >= total ? 'storing' : 'sending' })
    })
    running.current = { id: next.id, handle }
    update(next.id, { state: 'sending', startedAt: Date.now() })
    const finish = (patch: Partial<UploadItem>): void => {
      running.current = null
      files.current.delete(next.id)
      update(next.id, patch)
      settled.current({ ...next, ...patch })
    }
    handle.done.then(
      (result) => {
        finish({ state: 'done', loaded: next.size, result })
        setCompleted((n) => n + 1)
      },
      (err: unknown) => {
        const cancelled = err instanceof ApiError && err.code === 'ABORTED'
        finish(cancelled ? { state: 'cancelled' } : { state: 'error', error: errorMessage(err) })
      },
    )
  }, [api, items, update])

  const add = useCallback((list: Iterable<File>) => {
    const added: UploadItem[] = []
    for (const file of list) {
      const id = nextId.current++
      files.current.set(id, file)
      added.push({ id, name: file.name, size: file.size, loaded: 0, state: 'queued' })
    }
    setItems((current) => [...current, ...added])
  }, [])

  const cancel = useCallback(
    (id: number) => {
      if (running.current?.id === id) {
        running.current.handle.abort()
        return
      }
      files.current.delete(id)
      update(id, { state: 'cancelled' })
    },
    [update],
  )

  const clearFinished = useCallback(() => {
    setItems((list) => list.filter((item) => item.state === 'queued' || item.state === 'sending' || item.state === 'storing'))
  }, [])

  return { items, add, cancel, clearFinished, completed }
}
