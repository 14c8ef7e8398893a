import { PassThrough, Readable, type Writable } from 'node:stream'
import { runCli } from '../../src/cli/program.js'
import type { NodeFactory } from '../../src/daemon.js'

/** Output of one in-process CLI run. */
export interface CliRun {
  code: number
  stdout: string
  /** stdout as the bytes written (a file sent to stdout is binary). */
  stdoutBytes: Buffer
  stderr: string
}

/** Runs `cas <args>` in this process with captured output (no TTY, no signal handlers). */
export async function cas(args: string[], createNode: NodeFactory, stdin: Buffer = Buffer.alloc(0), io: { stdout?: Writable } = {}): Promise<CliRun> {
  const stdout = new PassThrough()
  const stderr = new PassThrough()
  const out: Buffer[] = []
  const err: Buffer[] = []
  stdout.on('data', (chunk: Buffer) => out.push(chunk))
  stderr.on('data', (chunk: Buffer) => err.push(chunk))
  const code = await runCli(args, { stdin: Readable.from([stdin]), stdout: io.stdout ?? stdout, stderr, env: {}, ownsProcess: false }, createNode)
  const stdoutBytes = Buffer.concat(out)
  return { code, stdout: stdoutBytes.toString(), stdoutBytes, stderr: Buffer.concat(err).toString() }
}
