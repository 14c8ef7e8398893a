import type { ComponentChildren, JSX } from 'preact'
import { useEffect, useRef } from 'preact/hooks'
import { Icon } from './icon'

/** A modal dialog: Escape or a click on the backdrop closes it; focus moves into it and back out. */
export function Dialog(props: {
  title: string
  onClose: () => void
  children: ComponentChildren
  actions?: ComponentChildren
  wide?: boolean
}): JSX.Element {
  const box = useRef<HTMLDivElement>(null)
  // The latest onClose, so the effect below runs once per opening rather than on every render.
  const close = useRef(props.onClose)
  close.current = props.onClose
  const { onClose } = props
  useEffect(() => {
    const previous = document.activeElement as HTMLElement | null
    const first = box.current?.querySelector<HTMLElement>('[data-autofocus], input, button.primary, button.danger')
    first?.focus()
    const onKey = (event: KeyboardEvent): void => {
      if (event.key === 'Escape') close.current()
    }
    document.addEventListener('keydown', onKey)
    return () => {
      document.removeEventListener('keydown', onKey)
      previous?.focus()
    }
  }, [])
  return (
    <div class="backdrop" onMouseDown={(event) => event.target === event.currentTarget && onClose()}>
      <div class={props.wide === true ? 'dialog wide' : 'dialog'} role="dialog" aria-modal="true" aria-label={props.title} ref={box}>
        <header class="dialog-head">
          <h2>{props.title}</h2>
          <button type="button" class="icon-button" aria-label="Close" onClick={onClose}>
            <Icon name="close" />
          </button>
        </header>
        <div class="dialog-body">{props.children}</div>
        {props.actions !== undefined && <footer class="dialog-actions">{props.actions}</footer>}
      </div>
    </div>
  )
}
