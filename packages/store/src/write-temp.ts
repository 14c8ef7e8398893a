import { createHash } from 'node:crypto'
import { open, unlink } from 'node:fs/promises'
import type { FileHandle } from 'node:fs/promises'
import { BLOB_FILE_MODE, IO_CHUNK_SIZE } from './constants.js'
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

/**
 * Writes `source` to a new file at `path` while hashing it, and leaves the file in place only if
 * the bytes hash to `options.id` and are synced to disk; otherwise the file is removed and the
 * error (CORRUPT, ABORTED, FULL, IO) thrown. Returns the size.
 *
 * Pipeline: the bytes are gathered into writes of about {@link IO_CHUNK_SIZE}; each write runs on
 * libuv's thread pool while this thread hashes the same bytes, so hashing and disk overlap. At most
 * one write is in flight, so memory stays at about two IO chunks whatever the source's size.
 * The caller must not modify a chunk after handing it over (Node streams never do).
 */
export async function writeVerifiedTemp(path: string, source: BlobSource, options: TempWriteOptions): Promise<number> {
  const { signal, onBytes } = options
  throwIfAborted(signal)
  const iterator = asAsyncIterator(source)
  const handle = await open(path, 'wx', BLOB_FILE_MODE).catch((err: unknown) => {
    throw toStoreError(err, 'open temp file')
  })
  const hash = options.verified === true ? undefined : createHash('sha256')
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
    if (hash !== undefined) for (const buffer of buffers) hash.update(buffer)
  }

  try {
    for (;;) {
      const result = await nextChunk(iterator, signal)
      if (result.done === true) break
      const chunk = result.value
      if (!(chunk instanceof Uint8Array)) throw new TypeError('blob source yielded a non-Uint8Array chunk')
      for (const piece of chunk.byteLength > IO_CHUNK_SIZE ? slices(chunk) : [chunk]) {
        onBytes?.(piece.byteLength)
        batch.push(piece)
        batchBytes += piece.byteLength
        if (batchBytes >= IO_CHUNK_SIZE) await flush()
      }
    }
    if (batchBytes > 0) await flush()
    if (inFlight !== undefined) await inFlight
    throwIfAborted(signal)
    const digest = hash?.digest('hex') ?? options.id
    if (digest !== options.id) {
      throw new StoreError('CORRUPT', `bytes hash to ${digest}, not to the blob id ${options.id}`)
    }
    // Data (and the size needed to read it back) must be on disk before the rename publishes it.
    await handle.datasync()
    await handle.close()
    return position
  } catch (err) {
    // Let the source clean up (return() destroys a Readable); not awaited: a stalled source may never settle.
    if (typeof iterator.return === 'function') void Promise.resolve(iterator.return()).catch(noop)
    await inFlight?.catch(noop)
    await handle.close().catch(noop)
    await unlink(path).catch(noop)
    throw toStoreError(err, 'put')
  }
}
