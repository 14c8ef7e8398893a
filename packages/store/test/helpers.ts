import { createHash } from 'node:crypto'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach } from 'vitest'
import { openStore } from '../src/index.js'
import type { BlobStore, StoreOptions } from '../src/index.js'

export const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex')

const cleanups: (() => Promise<void>)[] = []

afterEach(async () => {
  // Reverse order: stores close before their folders go.
  while (cleanups.length > 0) await cleanups.pop()!()
})

/** A fresh folder removed after the test. */
export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'cas-store-test-'))
  cleanups.push(() => rm(dir, { recursive: true, force: true }))
  return dir
}

/** A store in a fresh folder, closed after the test. */
export async function tempStore(options: Omit<StoreOptions, 'root'> = {}): Promise<BlobStore> {
  const root = await tempDir()
  return reopen(root, options)
}

/** Opens a store at `root`, closed after the test. */
export async function reopen(root: string, options: Omit<StoreOptions, 'root'> = {}): Promise<BlobStore> {
  const store = await openStore({ root, ...options })
  cleanups.push(() => store.close())
  return store
}

/** A blob with its id. */
export function blob(text: string | Uint8Array): { id: string; bytes: Buffer } {
  const bytes = typeof text === 'string' ? Buffer.from(text) : Buffer.from(text)
  return { id: sha256(bytes), bytes }
}

/** Deterministic pseudo-random bytes (a cheap xorshift), so large blobs need no crypto RNG. */
export function pseudoRandom(length: number, seed = 1): Buffer {
  const out = Buffer.allocUnsafe(length)
  let x = seed | 0 || 1
  for (let i = 0; i < length; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    out[i] = x & 0xff
  }
  return out
}

/** Yields `bytes` in pieces of `pieceSize`. */
export async function* chunked(bytes: Uint8Array, pieceSize: number): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.byteLength; at += pieceSize) {
    await Promise.resolve()
    yield bytes.subarray(at, Math.min(bytes.byteLength, at + pieceSize))
  }
}

/** Names in a folder (empty if missing). */
export async function names(dir: string): Promise<string[]> {
  return readdir(dir).catch(() => [])
}

/** Every id the store lists, sorted. */
export async function listAll(store: BlobStore): Promise<string[]> {
  const ids: string[] = []
  for await (const id of store.list()) ids.push(id)
  return ids.sort()
}

/** Reads a whole stream into one buffer. */
export async function readAll(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = []
  for await (const part of stream) parts.push(Buffer.from(part))
  return Buffer.concat(parts)
}

/** Asserts a promise rejects with a StoreError of `code`; returns the error. */
export async function rejectsWith(promise: Promise<unknown>, code: string): Promise<Error & { code: string }> {
  try {
    await promise
  } catch (err) {
    const e = err as Error & { code: string }
    if (e.name !== 'StoreError' || e.code !== code) {
      throw new Error(`expected StoreError ${code}, got ${e.name} ${e.code}: ${e.message}`, { cause: err })
    }
    return e
  }
  throw new Error(`expected StoreError ${code}, but it resolved`)
}
