import { formatSize } from '../size.js'

/** Lays out rows as aligned columns (the last column is not padded). */
export function table(header: string[], rows: string[][]): string {
  const all = [header, ...rows]
  const widths = header.map((_, column) => Math.max(...all.map((row) => (row[column] ?? '').length)))
  return all
    .map((row) =>
      row
        .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')
}

/** A short form of a 64-hex id or address for tables. */
export function shortId(id: string): string {
  return id.length > 16 ? `${id.slice(0, 12)}…` : id
}

/** "3 s ago", "2 min ago", … for an ISO timestamp. */
export function ago(iso: string, now = Date.now()): string {
  const then = Date.parse(iso)
  if (Number.isNaN(then)) return iso
  const seconds = Math.max(0, Math.round((now - then) / 1000))
  if (seconds < 60) return `${seconds} s ago`
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`
  if (seconds < 86_400) return `${Math.round(seconds / 3600)} h ago`
  return `${Math.round(seconds / 86_400)} d ago`
}

/** `used / capacity` in human units. */
export function usage(used: number, capacity: number | null): string {
  return `${formatSize(used)} / ${formatSize(capacity)}`
}
