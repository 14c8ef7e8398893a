const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1000,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1000 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1000 ** 3,
  gib: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1000 ** 4,
  tib: 1024 ** 4,
}

/**
 * Parses a size such as `500MB`, `1.5GiB`, `10G` or `1048576` into bytes. SI suffixes (kB, MB, GB, TB)
 * are powers of 1000, IEC suffixes (KiB, MiB, …) and bare letters (K, M, G, T) powers of 1024.
 * Returns `undefined` for anything else.
 */
export function parseSize(text: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text)
  if (match === null) return undefined
  const unit = UNITS[(match[2] ?? '').toLowerCase()]
  if (unit === undefined) return undefined
  const bytes = Math.floor(Number(match[1]) * unit)
  return Number.isSafeInteger(bytes) ? bytes : undefined
}

/** Formats bytes for people: `1.5 MiB`. */
export function formatSize(bytes: number | null | undefined): string {
  // Peers advertise "unlimited" as the largest safe integer (the wire has no Infinity).
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes) || bytes >= Number.MAX_SAFE_INTEGER) return 'unlimited'
  if (bytes < 1024) return `${bytes} B`
  const units = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB']
  let value = bytes / 1024
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return `${value < 10 ? value.toFixed(1) : value.toFixed(0)} ${units[unit]}`
}
