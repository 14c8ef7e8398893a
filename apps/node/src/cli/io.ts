import type { Readable, Writable } from 'node:stream'

/** Where a CLI run reads and writes; the real process's streams, or test doubles. */
export interface CliIo {
  stdin: Readable
  stdout: Writable & { isTTY?: boolean }
  stderr: Writable & { isTTY?: boolean; columns?: number }
  env: NodeJS.ProcessEnv
  /** Whether this run may install signal handlers and own the process (false in tests). */
  ownsProcess: boolean
  /** Path of the running script (`process.argv[1]`), for commands printed to be run again; unset inside another program. */
  script?: string
}

/** The running process's IO. */
export function processIo(): CliIo {
  return { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env, ownsProcess: true, script: process.argv[1] }
}

/** Writes one line. */
export function writeLine(stream: Writable, line = ''): void {
  stream.write(`${line}\n`)
}
