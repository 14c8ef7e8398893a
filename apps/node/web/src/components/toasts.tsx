import { createContext, type ComponentChildren, type JSX } from 'preact'
import { useCallback, useContext, useRef, useState } from 'preact/hooks'
import { TOAST_MS } from '../constants'
import { Icon } from './icon'

type ToastKind = 'ok' | 'error' | 'info'
interface Toast {
  id: number
  kind: ToastKind
  text: string
}

/** Shows a short message in the corner of the screen. */
export type Notify = (text: string, kind?: ToastKind) => void

const ToastContext = createContext<Notify>(() => undefined)

/** The page's notifier. */
export function useNotify(): Notify {
  return useContext(ToastContext)
}

/** Provides `useNotify` to its children and draws the toasts. */
export function ToastProvider({ children }: { children: ComponentChildren }): JSX.Element {
  const [toasts, setToasts] = useState<Toast[]>([])
  const next = useRef(1)
  const notify = useCallback<Notify>((text, kind = 'info') => {
    const id = next.current++
    setToasts((list) => [...list.slice(-3), { id, kind, text }])
    setTimeout(() => setToasts((list) => list.filter((t) => t.id !== id)), kind === 'error' ? TOAST_MS * 2 : TOAST_MS)
  }, [])
  return (
    <ToastContext.Provider value={notify}>
      {children}
      <div class="toasts" role="status" aria-live="polite">
        {toasts.map((t) => (
          <div key={t.id} class={`toast ${t.kind}`}>
            <Icon name={t.kind === 'error' ? 'alert' : 'check'} />
            <span>{t.text}</span>
          </div>
        ))}
      </div>
    </ToastContext.Provider>
  )
}
