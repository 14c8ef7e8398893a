// Shared reporting for benchmarks: peak RSS sampling and a plain-text table.
const MiB = 1024 * 1024

/** Samples this process's RSS every `ms` and remembers the peak. */
export function rssSampler(ms = 50) {
  let peak = process.memoryUsage.rss()
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss())
  }, ms)
  timer.unref()
  return {
    get peakMiB() {
      return Math.max(peak, process.memoryUsage.rss()) / MiB
    },
    stop() {
      clearInterval(timer)
      return Math.max(peak, process.memoryUsage.rss()) / MiB
    },
  }
}

/** A figure with about three significant digits: 1234, 123, 12.3, 1.23, 0.123. */
export function figure(x) {
  if (!Number.isFinite(x)) return String(x)
  const abs = Math.abs(x)
  return x.toFixed(abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3)
}

/** Prints rows of `{ name, value, unit, limit?, ratio?, note? }` as an aligned table. */
export function printTable(title, rows) {
  const cells = rows.map((r) => [
    r.name,
    typeof r.value === 'number' ? figure(r.value) : String(r.value),
    r.unit ?? '',
    r.limit === undefined ? '' : figure(r.limit),
    r.ratio === undefined ? '' : `${(r.ratio * 100).toFixed(0)}%`,
    r.note ?? '',
  ])
  const header = ['measure', 'value', 'unit', 'limit', 'of limit', 'note']
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)))
  const line = (c) => c.map((v, i) => (i === 1 || i === 3 || i === 4 ? v.padStart(widths[i]) : v.padEnd(widths[i]))).join('  ')
  console.log(`\n${title}`)
  console.log(line(header))
  console.log(widths.map((w) => '-'.repeat(w)).join('  '))
  for (const c of cells) console.log(line(c))
}
