// Test data for benchmarks, generated on the fly: no file of that size is ever written to disk.
import { createCipheriv, createHash } from 'node:crypto'
import { Readable } from 'node:stream'

const MiB = 1024 * 1024
const ZEROS = Buffer.alloc(MiB)

/**
 * `size` bytes in 1 MiB pieces: a MiB of the AES-256-CTR keystream of `seed`, with the piece's
 * index in its first 8 bytes. Incompressible, every 1 MiB chunk distinct (so nothing deduplicates),
 * reproducible from the seed, and cheap to make: a copy per piece. Why not a fresh MiB of
 * keystream per piece: that cost the process being measured about 1 ms of its event loop per MiB
 * (one large `update()` and a fresh buffer), charged to the put it feeds.
 */
export function* patternPieces(seed, size) {
  const template = createCipheriv('aes-256-ctr', createHash('sha256').update(String(seed)).digest(), Buffer.alloc(16)).update(ZEROS)
  for (let done = 0, index = 0; done < size; done += MiB, index++) {
    const n = Math.min(MiB, size - done)
    const piece = Buffer.allocUnsafe(n)
    template.copy(piece, 0, 0, n)
    if (n >= 8) piece.writeDoubleBE(index, 0)
    yield piece
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
