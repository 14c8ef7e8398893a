import { createContext, type ComponentChildren, type JSX } from 'preact'
import { useContext, useMemo } from 'preact/hooks'
import { idHue, percent, shortId } from '../format'
import type { PeerState } from '../types'

/** A horizontal meter; `tone` picks the colour. */
export function Meter({ value, tone = 'accent', label }: { value: number; tone?: 'accent' | 'ok' | 'warn' | 'bad'; label?: string }): JSX.Element {
  const clamped = Math.min(100, Math.max(0, value))
  return (
    <div class="meter" role="progressbar" aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(clamped)} aria-label={label}>
      <div class={`meter-fill ${tone}`} style={{ width: `${clamped}%` }} />
    </div>
  )
}

// Well-separated colours: two similar hues side by side would be misread as one node.
const PALETTE = ['#4f46e5', '#0ea5e9', '#10b981', '#f59e0b', '#ec4899', '#8b5cf6', '#14b8a6', '#ef4444', '#84cc16', '#64748b']

/** A colour from the id alone, for nodes outside the current picture. */
function hashColor(id: string): string {
  return `hsl(${idHue(id)} 62% 52%)`
}

const NodeColors = createContext<(id: string) => string>(hashColor)

/**
 * Gives the listed nodes distinct colours, in order (this node first, so it keeps the first colour
 * everywhere); other ids fall back to a colour from their hash.
 */
export function NodeColorProvider({ ids, children }: { ids: string[]; children: ComponentChildren }): JSX.Element {
  const key = ids.join(',')
  const colorOf = useMemo(() => {
    const map = new Map<string, string>()
    for (const id of ids) if (!map.has(id) && map.size < PALETTE.length) map.set(id, PALETTE[map.size] ?? hashColor(id))
    return (id: string) => map.get(id) ?? hashColor(id)
  }, [key])
  return <NodeColors.Provider value={colorOf}>{children}</NodeColors.Provider>
}

/** The colour of a node in the current picture. */
export function useNodeColor(): (id: string) => string {
  return useContext(NodeColors)
}

/** Colour of a storage meter: amber past 80 %, red past 95 %. */
export function usageTone(used: number, capacity: number | null | undefined): 'accent' | 'warn' | 'bad' {
  const p = percent(used, capacity)
  return p > 95 ? 'bad' : p > 80 ? 'warn' : 'accent'
}

/** A node's coloured mark and short id; the full id is in the tooltip. */
export function NodeChip({ id, self = false, color }: { id: string; self?: boolean; color?: string }): JSX.Element {
  const colorOf = useNodeColor()
  return (
    <span class="node-chip" title={id}>
      <span class="node-dot" style={{ background: color ?? colorOf(id) }} />
      <span class="mono">{shortId(id)}</span>
      {self && <span class="tag">this node</span>}
    </span>
  )
}

const STATE_TONE: Record<PeerState, string> = { alive: 'ok', suspect: 'warn', dead: 'bad' }

/** A peer's membership state as a coloured pill. */
export function StateBadge({ state }: { state: PeerState }): JSX.Element {
  return <span class={`pill ${STATE_TONE[state] ?? 'muted'}`}>{state}</span>
}

/**
 * Live copies against the target, as dots and a count: green when fully replicated, amber when
 * short, red when no copy is known to be alive.
 */
export function ReplicationBadge({ live, target }: { live: number; target: number }): JSX.Element {
  const tone = live >= target ? 'ok' : live > 0 ? 'warn' : 'bad'
  const dots = Math.max(target, Math.min(live, target + 2))
  const title = live >= target ? `Fully replicated: ${live} live copies` : `Under-replicated: ${live} of ${target} live copies`
  return (
    <span class={`replicas ${tone}`} title={title}>
      <span class="replica-dots" aria-hidden="true">
        {Array.from({ length: dots }, (_, i) => (
          <span key={i} class={i < live ? 'on' : ''} />
        ))}
      </span>
      <span class="replica-count">
        {live}/{target}
      </span>
    </span>
  )
}

/** A page section with a title line and optional actions on its right. */
export function Card({ title, actions, children, class: className }: { title?: ComponentChildren; actions?: ComponentChildren; children: ComponentChildren; class?: string }): JSX.Element {
  return (
    <section class={className === undefined ? 'card' : `card ${className}`}>
      {(title !== undefined || actions !== undefined) && (
        <header class="card-head">
          <h2>{title}</h2>
          {actions !== undefined && <div class="card-actions">{actions}</div>}
        </header>
      )}
      {children}
    </section>
  )
}

/** An empty or error state inside a card. */
export function Empty({ icon, title, children }: { icon?: JSX.Element; title: string; children?: ComponentChildren }): JSX.Element {
  return (
    <div class="empty">
      {icon}
      <p class="empty-title">{title}</p>
      {children !== undefined && <div class="empty-text">{children}</div>}
    </div>
  )
}
