import { SingleBar } from 'cli-progress'
import { formatSize } from '../size.js'
import type { CliIo } from './io.js'

/** A progress display for one transfer. */
export interface Progress {
  add(bytes: number): void
  stop(): void
}

const SILENT: Progress = { add: () => {}, stop: () => {} }

/**
 * A progress bar on stderr for a transfer of `total` bytes (unknown: undefined), shown only when
 * stderr is a terminal — piped or redirected runs stay silent.
 */
export function startProgress(io: CliIo, label: string, total: number | undefined, enabled = true): Progress {
  if (!enabled || io.stderr.isTTY !== true) return SILENT
  const known = total !== undefined && Number.isFinite(total) && total > 0
  const bar = new SingleBar({
    stream: io.stderr,
    format: known ? `${label} [{bar}] {percentage}% {done} / {size}  {rate}  eta {eta_formatted}` : `${label} {done}  {rate}`,
    barsize: 30,
    hideCursor: true,
    clearOnComplete: true,
    etaBuffer: 50,
    fps: 8,
  })
  const started = Date.now()
  let value = 0
  const payload = (): Record<string, string> => {
    const seconds = Math.max((Date.now() - started) / 1000, 0.001)
    return { done: formatSize(value), size: formatSize(total), rate: `${formatSize(value / seconds)}/s` }
  }
  bar.start(known ? total : 0, 0, payload())
  return {
    add(bytes) {
      value += bytes
      bar.update(value, payload())
    },
    stop() {
      bar.stop()
    },
  }
}
