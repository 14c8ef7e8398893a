const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB']

/** 1536 → "1.5 KiB". */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '—'
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024
    unit++
  }
  // Digits are chosen by the value as rounded: 99.99 KiB is "100 KiB", not "100.0 KiB".
  let shown = unit === 0 || Number(value.toFixed(1)) >= 100 ? value.toFixed(0) : value.toFixed(1)
  // Rounding can reach 1024 (1048575 B is 1023.999 KiB), which reads as the next unit.
  if (Number(shown) >= 1024 && unit < UNITS.length - 1) {
    value /= 1024
    unit++
    shown = value.toFixed(1)
  }
  return `${shown} ${UNITS[unit]}`
}

/** 42 → "42 s", 150 → "2 min 30 s", 7300 → "2 h 1 min". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '—'
  const s = Math.ceil(seconds)
  if (s < 60) return `${s} s`
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`
}

/** "just now", "5 s ago", "3 min ago", "2 h ago", "4 d ago"; the date beyond a month. */
export function formatAgo(iso: string | undefined, now = Date.now()): string {
  if (iso === undefined) return '—'
  const time = Date.parse(iso)
  if (Number.isNaN(time)) return '—'
  const seconds = Math.round((now - time) / 1000)
  if (seconds < 2) return 'just now'
  if (seconds < 60) return `${seconds} s ago`
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)} h ago`
  if (seconds < 30 * 86_400) return `${Math.floor(seconds / 86_400)} d ago`
  return new Date(time).toLocaleDateString()
}

/** Full local date and time, for tooltips. */
export function formatDate(iso: string | undefined): string {
  if (iso === undefined) return ''
  const time = Date.parse(iso)
  return Number.isNaN(time) ? '' : new Date(time).toLocaleString()
}

/** First characters of a hex id, enough to tell ids apart at a glance. */
export function shortId(id: string, length = 10): string {
  return id.length <= length ? id : id.slice(0, length)
}

/** A stable hue for an id, so each node keeps its colour on every page. */
export function idHue(id: string): number {
  const n = Number.parseInt(id.slice(0, 6), 16)
  return Number.isNaN(n) ? 220 : Math.round((n / 0xffffff) * 360)
}

/** Share of `part` in `whole` as a 0–100 percentage, 0 when the whole is unknown. */
export function percent(part: number, whole: number | null | undefined): number {
  if (whole === null || whole === undefined || !Number.isFinite(whole) || whole <= 0) return 0
  return Math.min(100, Math.max(0, (part / whole) * 100))
}

/** True for a `cas1:<address>:<key>` capability. */
export function isCapability(text: string): boolean {
  return /^cas1:[0-9a-f]{64}:[0-9a-f]{64}$/i.test(text.trim())
}
