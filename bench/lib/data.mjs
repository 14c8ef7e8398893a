// Test data for benchmarks, generated on the fly: no file of that size is ever written to disk.
import { createCipheriv, createHash } from 'node:crypto'
import { Readable } from 'node:stream'

const MiB = 1024 * 1024
const ZEROS = Buffer.alloc(MiB)

/**
 * `size` bytes of the AES-256-CTR keystream of `seed`, in 1 MiB pieces: incompressible, every
 * chunk distinct (so nothing deduplicates), reproducible from the seed, and fast to make (AES-NI).
 */
export function* patternPieces(seed, size) {
  const cipher = createCipheriv('aes-256-ctr', createHash('sha256').update(String(seed)).digest(), Buffer.alloc(16))
  for (let done = 0; done < size; done += MiB) {
    const n = Math.min(MiB, size - done)
    yield cipher.update(n === MiB ? ZEROS : ZEROS.subarray(0, n))
  }
}

/** The same bytes as a Readable stream (with backpressure). */
export function patternStream(seed, size) {
  return Readable.from(patternPieces(seed, size), { objectMode: false })
}

/** Hex SHA-256 of the pattern (made once more, without keeping it). */
export function patternSha256(seed, size) {
  const hash = createHash('sha256')
  for (const piece of patternPieces(seed, size)) hash.update(piece)
  return hash.digest('hex')
}
