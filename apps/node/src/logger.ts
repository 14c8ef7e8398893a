import { createRequire } from 'node:module'
import { pino, type Logger } from 'pino'
import type PinoPretty from 'pino-pretty'
import type { LogLevel } from './config.js'

// Loaded only for a terminal: a daemon whose logs go to a file or a collector never needs it (it
// costs a process about 10 MB of memory).
const load = createRequire(import.meta.url)

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  level: LogLevel
  /** Human-readable lines instead of JSON; defaults to whether stderr is a terminal. */
  pretty?: boolean
  /** Where log lines go; stderr by default, so stdout stays for command output. */
  fd?: number
}

/**
 * The daemon's logger: pino, pretty on a terminal, one JSON object per line otherwise (for log
 * collectors). Pretty-printing runs in-process (no worker thread), which keeps shutdown simple.
 */
export function createLogger(options: LoggerOptions): Logger {
  const fd = options.fd ?? 2
  const usePretty = options.pretty ?? (fd === 2 ? process.stderr.isTTY : process.stdout.isTTY) === true
  const base = { level: options.level, base: { pid: process.pid }, redact: ['req.headers.authorization'] }
  if (usePretty) {
    const pretty = load('pino-pretty') as typeof PinoPretty
    return pino(base, pretty({ destination: fd, colorize: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname', sync: true }))
  }
  return pino(base, pino.destination({ fd, sync: true }))
}
