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

const SIZE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB']

/** Formats bytes for people: `512 B`, `1.5 KiB`, `10 MiB` (one decimal under 10, none from 10 on). */
export function formatSize(bytes: number | null | undefined): string {
  // Peers advertise "unlimited" as the largest safe integer (the wire has no Infinity).
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes) || bytes >= Number.MAX_SAFE_INTEGER) return 'unlimited'
  let value = bytes
  let unit = 0
  let shown = value.toFixed(0)
  // The unit is chosen by the number as shown, after rounding: 1048575 bytes is 1023.999 KiB, which
  // would read "1024 KiB", so it is "1.0 MiB".
  while (Number(shown) >= 1024 && unit < SIZE_UNITS.length - 1) {
    value /= 1024
    unit++
    const tenths = value.toFixed(1)
    shown = Number(tenths) < 10 ? tenths : value.toFixed(0)
  }
  return `${shown} ${SIZE_UNITS[unit]}`
}
