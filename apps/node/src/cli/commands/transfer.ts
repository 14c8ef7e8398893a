import type { Command } from 'commander'
import { createHash, randomBytes } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import { rename, rm, stat } from 'node:fs/promises'
import { constants } from 'node:os'
import { basename, dirname, join, resolve } from 'node:path'
import { Transform, type Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { EXIT_INTERRUPTED, READ_CHUNK_BYTES } from '../../constants.js'
import { CasError, errorCode } from '../../errors.js'
import { parseName, parseRef } from '../arguments.js'
import type { CommandContext } from '../context.js'
import { startProgress } from '../progress.js'

/** `cas put` and `cas get`. */
export function registerTransferCommands(program: Command, ctx: CommandContext): void {
  program
    .command('put')
    .description('store a file (or stdin with -) and print its address')
    .argument('<file>', 'file to store, or - for stdin')
    .option('--name <name>', 'name in the catalog (default: the file name; none for stdin)', parseName)
    .action(async (file: string, options: { name?: string }, command: Command) => {
      const json = ctx.json(command)
      let size: number | undefined
      let name = options.name
      if (file !== '-') {
        size = await inputSize(file)
        name ??= basename(file)
      }
      const client = await ctx.client(command)
      const source = file === '-' ? ctx.io.stdin : createReadStream(file, { highWaterMark: READ_CHUNK_BYTES })
      const progress = startProgress(ctx.io, 'put', size)
      let result
      try {
        result = await client.upload(source, {
          ...(name === undefined ? {} : { name }),
          ...(size === undefined ? {} : { size }),
          onBytes: (bytes) => progress.add(bytes),
        })
      } finally {
        progress.stop()
      }
      if (json) {
        ctx.printJson({ name: null, ...result })
      } else {
        ctx.print(result.address)
        if (result.warning !== undefined) ctx.note(`warning: ${result.warning}`)
      }
    })

  program
    .command('get')
    .description('fetch a file by address, name or capability; to stdout unless -o')
    .argument('<ref>', 'address, name or cas1: capability', parseRef)
    .option('-o, --output <file>', 'write to this file instead of stdout')
    .action(async (ref: string, options: { output?: string }, command: Command) => {
      const client = await ctx.client(command)
      const download = await client.download(ref)
      const progress = startProgress(ctx.io, 'get', download.size)
      const hash = createHash('sha256')
      const verify = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          hash.update(chunk)
          progress.add(chunk.length)
          callback(null, chunk)
        },
      })
      try {
        if (options.output === undefined) {
          // Nothing to check when the reader took only the start (`cas get x | head`).
          if (await writeToStdout(download.body, verify, ctx.io.stdout)) checkDigest(hash.digest('hex'), download.sha256, ref)
        } else {
          await writeToFile(download.body, verify, resolve(options.output), ctx.io.ownsProcess, () => {
            checkDigest(hash.digest('hex'), download.sha256, ref)
          })
        }
      } finally {
        progress.stop()
      }
    })
}

/**
 * Size of an input file; a missing or unreadable one is a clear error before anything is sent.
 * Undefined for a pipe or a device (`cas put <(…)`, a FIFO): its size is unknown until it ends, so
 * it is streamed as stdin is.
 */
async function inputSize(file: string): Promise<number | undefined> {
  try {
    const info = await stat(file)
    if (info.isDirectory()) throw new CasError('INPUT', `${file}: is a directory (put stores one file)`)
    return info.isFile() ? info.size : undefined
  } catch (err) {
    if (err instanceof CasError) throw err
    const code = errorCode(err)
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message
    throw new CasError('INPUT', `${file}: ${why}`, { cause: err })
  }
}

function checkDigest(actual: string, expected: string, ref: string): void {
  if (expected !== '' && actual !== expected) {
    throw new CasError('CORRUPT', `${ref}: received bytes do not match the file's SHA-256 (${actual} ≠ ${expected})`)
  }
}

/** Streams the download to stdout; false when the reader went away first (EPIPE). */
async function writeToStdout(body: NodeJS.ReadableStream, verify: Transform, stdout: Writable): Promise<boolean> {
  try {
    await pipeline(body, verify, stdout, { end: false })
    return true
  } catch (err) {
    // `cas get x | head`: the reader went away, which is not our failure.
    if (errorCode(err) === 'EPIPE') return false
    throw downloadError(err)
  }
}

/**
 * Writes to a temp file beside the target and renames it into place only once every byte arrived
 * and verified, so an interrupted or failed get never leaves a partial file under the target name.
 */
async function writeToFile(body: NodeJS.ReadableStream, verify: Transform, target: string, handleSignals: boolean, check: () => void): Promise<void> {
  const temp = join(dirname(target), `.${basename(target)}.${randomBytes(4).toString('hex')}.partial`)
  const onSignal = (signal: NodeJS.Signals): void => {
    // The shell's convention: 128 + the signal's number (130 for Ctrl-C, 143 for SIGTERM).
    void rm(temp, { force: true }).finally(() => process.exit(128 + (constants.signals[signal] ?? EXIT_INTERRUPTED - 128)))
  }
  // Ctrl-C and a plain `kill` both leave no partial file behind.
  if (handleSignals) {
    process.once('SIGINT', onSignal)
    process.once('SIGTERM', onSignal)
  }
  try {
    await pipeline(body, verify, createWriteStream(temp, { flags: 'wx' }))
    check()
    await rename(temp, target)
  } catch (err) {
    await rm(temp, { force: true })
    if (errorCode(err) === 'ENOENT' || errorCode(err) === 'EACCES' || errorCode(err) === 'EISDIR') {
      throw new CasError('OUTPUT', `cannot write ${target}: ${(err as Error).message}`, { cause: err })
    }
    throw downloadError(err)
  } finally {
    if (handleSignals) {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
    }
  }
}

function downloadError(err: unknown): unknown {
  if (err instanceof CasError) return err
  const code = errorCode(err)
  if (code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE' || (err as Error).message === 'aborted') {
    return new CasError('UNAVAILABLE', 'the daemon stopped sending the file before its end (see the daemon log)', { cause: err })
  }
  return err
}
