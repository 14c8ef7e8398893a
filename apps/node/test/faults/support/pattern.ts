import { createCipheriv, createHash } from 'node:crypto'

const PIECE = 1024 * 1024
const ZEROS = Buffer.alloc(PIECE)

/**
 * A reproducible file of any size without a file on disk: the AES-256-CTR keystream of a seed.
 * Distinct seeds give distinct chunks (no accidental deduplication between test files), and
 * the same seed regenerates the same bytes, so a 1 GiB file is checked by its digest alone.
 */
export class Pattern {
  #digest: string | undefined

  constructor(
    readonly seed: string,
    readonly size: number,
  ) {}

  /** The bytes in 1 MiB pieces (the last may be shorter). */
  *pieces(): Generator<Buffer> {
    const cipher = createCipheriv('aes-256-ctr', createHash('sha256').update(this.seed).digest(), Buffer.alloc(16))
    for (let done = 0; done < this.size; done += PIECE) {
      const n = Math.min(PIECE, this.size - done)
      yield cipher.update(n === PIECE ? ZEROS : ZEROS.subarray(0, n))
    }
  }

  /** Hex SHA-256 of the whole file (computed once, by generating it). */
  get sha256(): string {
    if (this.#digest === undefined) {
      const hash = createHash('sha256')
      for (const piece of this.pieces()) hash.update(piece)
      this.#digest = hash.digest('hex')
    }
    return this.#digest
  }

  /** The first `length` bytes, for checking a partial read against the file. */
  prefix(length: number): Buffer {
    const out: Buffer[] = []
    let have = 0
    for (const piece of this.pieces()) {
      if (have >= length) break
      out.push(piece.subarray(0, Math.min(piece.length, length - have)))
      have += out[out.length - 1]!.length
    }
    return Buffer.concat(out)
  }
}

/** Sizes in bytes. */
export const MiB = 1024 * 1024
export const GiB = 1024 * MiB
