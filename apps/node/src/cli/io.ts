import type { Readable, Writable } from 'node:stream'

/** Where a CLI run reads and writes; the real process's streams, or test doubles. */
export interface CliIo {
  stdin: Readable
  stdout: Writable & { isTTY?: boolean }
  stderr: Writable & { isTTY?: boolean; columns?: number }
  env: NodeJS.ProcessEnv
  /** Whether this run may install signal handlers and own the process (false in tests). */
  ownsProcess: boolean
}

/** The running process's IO. */
export function processIo(): CliIo {
  return { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env, ownsProcess: true }
}

/** Writes one line. */
export function writeLine(stream: Writable, line = ''): void {
  stream.write(`${line}\n`)
}
