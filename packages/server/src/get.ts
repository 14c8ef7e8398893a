import { createHash } from 'node:crypto'
import { Readable } from 'node:stream'
import { decryptChunk, deriveChunkSecret, sha256 } from '@cas/crypto'
import type { NodeContext } from './context.js'
import { ServerError, throwIfAborted } from './errors.js'
import type { BlobFetcher, FetchOptions } from './fetcher.js'
import { decodeManifest, walkChunks, type ChunkRef, type Manifest, type ManifestEntry } from './manifest.js'

/** What a node knows about a file. */
export interface FileInfo {
  address: string
  size: number
  /** Hex SHA-256 of the plaintext. */
  sha256: string
  name?: string
  /** ISO 8601; known for this node's own files. */
  createdAt?: string
  /** Data chunks in the file. */
  chunks: number
}

/** An inclusive byte range of a file. */
export interface ByteRange {
  start: number
  end: number
}

/** Fetches, verifies and decrypts a file's root manifest. */
export async function loadRoot(fetcher: BlobFetcher, address: string, fileKey: Buffer): Promise<Manifest> {
  const blob = await fetcher.fetch(address)
  try {
    return decodeManifest(decryptChunk(fileKey, blob), { root: true })
  } catch (err) {
    throw new ServerError('INVALID_REF', `cannot open file ${address}: wrong key or not a root manifest`, { cause: err })
  }
}

/** A child-manifest loader bound to a fetch session. */
export function childLoader(fetcher: BlobFetcher): (entry: ManifestEntry) => Promise<Manifest> {
  return async (entry) => decodeManifest(decryptChunk(Buffer.from(entry.key, 'hex'), await fetcher.fetch(entry.id)), { root: false })
}

/** Options of {@link readFile}. */
export interface ReadOptions extends FetchOptions {
  range?: ByteRange
  /** The owner key, when the file is this node's: each chunk's plaintext is then checked against its key derivation. */
  ownerKey?: Buffer
}

/**
 * Streams a file's plaintext. Only the chunks (and child manifests) that
 * overlap the range are fetched, up to `getWindow` (default 8) ahead of the reader,
 * from several holders in parallel, and written out in order. Plaintext is
 * checked twice over: a whole-file read is hashed and must match the root's
 * sha256 before the stream ends; with the owner key, each chunk's plaintext
 * must re-derive its chunk key (which binds SHA-256 of the plaintext).
 */
export function readFile(ctx: NodeContext, fetcher: BlobFetcher, root: Manifest, opts: ReadOptions = {}): Readable {
  const range = opts.range ?? { start: 0, end: root.size - 1 }
  const whole = range.start === 0 && range.end === root.size - 1
  const loadChild = childLoader(fetcher)

  async function* produce(): AsyncGenerator<Buffer> {
    const fileHash = whole ? createHash('sha256') : undefined
    const refs = walkChunks(root, loadChild, range)[Symbol.asyncIterator]()
    const ahead: { ref: ChunkRef; blob: Promise<Buffer> }[] = []
    let exhausted = false
    const fill = async (): Promise<void> => {
      while (!exhausted && ahead.length < ctx.getWindow) {
        const next = await refs.next()
        if (next.done === true) {
          exhausted = true
          break
        }
        const blob = fetcher.fetch(next.value.entry.id)
        blob.catch(() => {}) // observed when its turn comes
        ahead.push({ ref: next.value, blob })
      }
    }
    try {
      await fill()
      while (ahead.length > 0) {
        throwIfAborted(opts.signal)
        const { ref, blob } = ahead.shift()!
        const ciphertext = await blob
        const plain = decryptChunk(Buffer.from(ref.entry.key, 'hex'), ciphertext)
        // Decrypted into new memory: the blob's memory can take the next blob to arrive.
        fetcher.done(ciphertext)
        if (plain.byteLength !== ref.entry.size) {
          throw new ServerError('CORRUPT', `chunk ${ref.index} decrypted to ${plain.byteLength} bytes, manifest says ${ref.entry.size}`)
        }
        if (opts.ownerKey !== undefined && !whole) checkChunkKey(opts.ownerKey, plain, ref)
        fileHash?.update(plain)
        const from = Math.max(0, range.start - ref.offset)
        const to = Math.min(plain.byteLength, range.end - ref.offset + 1)
        await fill()
        ctx.metrics.bytesGot += to - from
        yield from === 0 && to === plain.byteLength ? plain : plain.subarray(from, to)
      }
      if (fileHash !== undefined && fileHash.digest('hex') !== root.sha256) {
        throw new ServerError('CORRUPT', 'file plaintext does not match the manifest sha256')
      }
    } finally {
      await refs.return?.(undefined)
    }
  }

  return Readable.from(produce(), { objectMode: false, highWaterMark: 1024 * 1024 })
}

function checkChunkKey(ownerKey: Buffer, plain: Buffer, ref: ChunkRef): void {
  const { key } = deriveChunkSecret(ownerKey, sha256(plain))
  if (key.toString('hex') !== ref.entry.key) {
    throw new ServerError('CORRUPT', `chunk ${ref.index} plaintext does not match its key derivation`)
  }
}

/** Validates a requested range against a file size (end inclusive, clamped to the file). */
export function normalizeRange(range: ByteRange | undefined, size: number): ByteRange | undefined {
  if (range === undefined) return undefined
  const { start } = range
  const end = Math.min(range.end, size - 1)
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(range.end) || start < 0 || start > end) {
    throw new ServerError('INVALID_ARGUMENT', `range ${range.start}-${range.end} is not satisfiable for a file of ${size} bytes`)
  }
  return { start, end }
}
