import { createHash } from 'node:crypto'
import { constants } from 'node:fs'
import { open, unlink } from 'node:fs/promises'
import type { FileHandle } from 'node:fs/promises'
import { BLOB_FILE_MODE, IO_CHUNK_SIZE } from './constants.js'
import { DIRECT_ALIGNMENT, O_DIRECT, alignUp } from './direct-io.js'
import type { AlignedBuffers } from './direct-io.js'
import { StoreError, abortError, toStoreError } from './errors.js'

/** Bytes of a blob: ready in memory, or arriving as chunks (a Node Readable is an AsyncIterable). */
export type BlobSource = Uint8Array | AsyncIterable<Uint8Array> | NodeJS.ReadableStream

/** Options of {@link writeVerifiedTemp}. */
export interface TempWriteOptions {
  /** The id the bytes must hash to. */
  id: string
  signal?: AbortSignal | undefined
  /** Called with each chunk's size before it is written; throwing stops the write (quota). */
  onBytes?: ((bytes: number) => void) | undefined
  /** The caller already hashed these exact bytes to `id`: skip the hash (see PutOptions.verified). */
  verified?: boolean | undefined
  /** Staging buffers for direct I/O, given when the store's filesystem supports it. */
  direct?: AlignedBuffers | undefined
}

const noop = (): void => {}

// A function, not an inline check: TypeScript would narrow `signal.aborted` across the awaits above.
function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted === true) throw abortError(signal, 'put')
}

async function writeAll(handle: FileHandle, buffers: Uint8Array[], position: number): Promise<void> {
  let pending = buffers
  let at = position
  for (;;) {
    const total = pending.reduce((sum, b) => sum + b.byteLength, 0)
    if (total === 0) return
    const { bytesWritten } = pending.length === 1
      ? await handle.write(pending[0]!, 0, total, at)
      : await handle.writev(pending, at)
    if (bytesWritten === total) return
    // Short write (rare on regular files): continue after what landed.
    at += bytesWritten
    let skip = bytesWritten
    const rest: Uint8Array[] = []
    for (const b of pending) {
      if (skip >= b.byteLength) {
        skip -= b.byteLength
        continue
      }
      rest.push(skip > 0 ? b.subarray(skip) : b)
      skip = 0
    }
    pending = rest
  }
}

/** Splits ready bytes into IO-sized views (no copies). */
function* slices(bytes: Uint8Array): Generator<Uint8Array> {
  for (let at = 0; at < bytes.byteLength; at += IO_CHUNK_SIZE) {
    yield bytes.subarray(at, Math.min(at + IO_CHUNK_SIZE, bytes.byteLength))
  }
}

function asAsyncIterator(source: BlobSource): AsyncIterator<Uint8Array> | Iterator<Uint8Array> {
  if (source instanceof Uint8Array) return slices(source)
  if (typeof (source as AsyncIterable<Uint8Array>)[Symbol.asyncIterator] === 'function') {
    return (source as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]()
  }
  throw new TypeError('blob source must be a Uint8Array, an AsyncIterable of Uint8Array or a Readable')
}

/** Waits for the next chunk, or rejects as soon as `signal` fires (a stalled source cannot hold us). */
async function nextChunk(
  iterator: AsyncIterator<Uint8Array> | Iterator<Uint8Array>,
  signal: AbortSignal | undefined,
): Promise<IteratorResult<Uint8Array>> {
  const next = iterator.next()
  if (signal === undefined || !(next instanceof Promise)) return next
  let onAbort = noop
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(abortError(signal, 'put'))
    signal.addEventListener('abort', onAbort, { once: true })
  })
  try {
    return await Promise.race([next, aborted])
  } finally {
    signal.removeEventListener('abort', onAbort)
    next.catch(noop)
  }
}

/** Where the bytes of one temp file go on their way to disk. */
interface Sink {
  /** Takes the next bytes; may hold on to `piece` until it is written, so it must not change. */
  push(piece: Uint8Array): Promise<void>
  /** Writes what is left and waits for every write; resolves with the file size. */
  finish(): Promise<number>
  /** After a failure: waits for the write in flight, if any, ignoring its outcome. */
  abandon(): Promise<void>
}

/**
 * Buffered writes straight from the source's own chunks (no copy): pieces are gathered into
 * writes of about IO_CHUNK_SIZE, one in flight while the next is gathered.
 */
function bufferedSink(handle: FileHandle): Sink {
  let position = 0
  let inFlight: Promise<void> | undefined
  let batch: Uint8Array[] = []
  let batchBytes = 0
  const flush = async (): Promise<void> => {
    if (inFlight !== undefined) await inFlight
    const buffers = batch
    const at = position
    position += batchBytes
    batch = []
    batchBytes = 0
    inFlight = writeAll(handle, buffers, at)
    // Handled when awaited; this keeps a failure during the next read from counting as unhandled.
    inFlight.catch(noop)
  }
  return {
    async push(piece) {
      batch.push(piece)
      batchBytes += piece.byteLength
      if (batchBytes >= IO_CHUNK_SIZE) await flush()
    },
    async finish() {
      if (batchBytes > 0) await flush()
      await inFlight
      return position
    },
    async abandon() {
      await inFlight?.catch(noop)
    },
  }
}

/**
 * Direct writes (see direct-io.ts): pieces are copied into aligned staging buffers. A blob that fits
 * one buffer, as a default-size chunk's does, is one write. A larger one takes a second buffer when
 * the pool has one free, so that one fills while the other is written; else the one buffer is
 * filled again once its write is done. The last write is padded to the alignment and the file then
 * truncated to its real size.
 */
function directSink(handle: FileHandle, pool: AlignedBuffers, first: Buffer): { sink: Sink; release: () => void } {
  const held = [first]
  let current = first
  let spare: Buffer | undefined
  let filled = 0
  let position = 0
  let inFlight: Promise<void> | undefined
  const flush = async (last: boolean): Promise<void> => {
    if (inFlight !== undefined) await inFlight
    const length = last ? alignUp(filled) : filled
    current.fill(0, filled, length)
    inFlight = writeAll(handle, [current.subarray(0, length)], position)
    inFlight.catch(noop)
    position += filled
    filled = 0
    if (last) return
    if (spare === undefined && held.length === 1) {
      spare = pool.acquire()
      if (spare !== undefined) held.push(spare)
    }
    if (spare !== undefined) [current, spare] = [spare, current]
    else await inFlight
  }
  const sink: Sink = {
    async push(piece) {
      for (let at = 0; at < piece.byteLength; ) {
        const n = Math.min(piece.byteLength - at, current.byteLength - filled)
        current.set(piece.subarray(at, at + n), filled)
        filled += n
        at += n
        if (filled === current.byteLength) await flush(false)
      }
    },
    async finish() {
      const padded = filled % DIRECT_ALIGNMENT !== 0
      if (filled > 0) await flush(true)
      await inFlight
      if (padded) await handle.truncate(position)
      return position
    },
    async abandon() {
      await inFlight?.catch(noop)
    },
  }
  return { sink, release: () => held.forEach((buffer) => pool.release(buffer)) }
}

interface OpenSink {
  handle: FileHandle
  sink: Sink
  /** Gives the staging buffers back; only once no write is in flight. */
  release: () => void
}

/** Opens the temp file for direct writes when the store allows it and staging buffers are free. */
async function openSink(path: string, pool: AlignedBuffers | undefined): Promise<OpenSink> {
  const first = pool?.acquire()
  if (pool !== undefined && first !== undefined) {
    try {
      const handle = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (O_DIRECT ?? 0), BLOB_FILE_MODE)
      return { handle, ...directSink(handle, pool, first) }
    } catch (err) {
      pool.release(first)
      throw toStoreError(err, 'open temp file')
    }
  }
  // No staging buffer free (or no direct I/O here): the buffered path.
  const handle = await open(path, 'wx', BLOB_FILE_MODE).catch((err: unknown) => {
    throw toStoreError(err, 'open temp file')
  })
  return { handle, sink: bufferedSink(handle), release: noop }
}

/**
 * Writes `source` to a new file at `path` while hashing it, and leaves the file in place only if
 * the bytes hash to `options.id` and are synced to disk; otherwise the file is removed and the
 * error (CORRUPT, ABORTED, FULL, IO) thrown. Returns the size.
 *
 * Pipeline: each write runs on libuv's thread pool while this thread hashes the next bytes, so
 * hashing and disk overlap. At most one write is in flight, so memory stays at about two IO chunks
 * whatever the source's size. The caller must not modify a chunk after handing it over (Node
 * streams never do).
 */
export async function writeVerifiedTemp(path: string, source: BlobSource, options: TempWriteOptions): Promise<number> {
  const { signal, onBytes } = options
  throwIfAborted(signal)
  const iterator = asAsyncIterator(source)
  const { handle, sink, release } = await openSink(path, options.direct)
  const hash = options.verified === true ? undefined : createHash('sha256')
  try {
    for (;;) {
      const result = await nextChunk(iterator, signal)
      if (result.done === true) break
      const chunk = result.value
      if (!(chunk instanceof Uint8Array)) throw new TypeError('blob source yielded a non-Uint8Array chunk')
      for (const piece of chunk.byteLength > IO_CHUNK_SIZE ? slices(chunk) : [chunk]) {
        onBytes?.(piece.byteLength)
        hash?.update(piece)
        await sink.push(piece)
      }
    }
    const size = await sink.finish()
    throwIfAborted(signal)
    const digest = hash?.digest('hex') ?? options.id
    if (digest !== options.id) {
      throw new StoreError('CORRUPT', `bytes hash to ${digest}, not to the blob id ${options.id}`)
    }
    // Data (and the size needed to read it back) must be on disk before the rename publishes it.
    await handle.datasync()
    await handle.close()
    return size
  } catch (err) {
    // Let the source clean up (return() destroys a Readable); not awaited: a stalled source may never settle.
    if (typeof iterator.return === 'function') void Promise.resolve(iterator.return()).catch(noop)
    await sink.abandon()
    await handle.close().catch(noop)
    await unlink(path).catch(noop)
    throw toStoreError(err, 'put')
  } finally {
    release()
  }
}
