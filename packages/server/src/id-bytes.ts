/** Bytes of a raw blob id (SHA-256). */
const ID_BYTES = 32
/** Ids per page: 64 KiB pages. */
const IDS_PER_PAGE = 2048

/**
 * Blob ids gathered as raw bytes, 32 per id, in 64 KiB pages: a put of many GiB keeps no object per
 * blob while it runs (a Buffer per id, as before, made the heap grow with the file, and V8 lets a
 * heap grow to four times what survives: `gc-tuning.ts`).
 */
export class IdBytes {
  readonly #pages: Buffer[] = []
  #count = 0

  /** Appends one id given as 64 hex characters. */
  push(hex: string): void {
    const at = this.#count % IDS_PER_PAGE
    if (at === 0) this.#pages.push(Buffer.allocUnsafe(IDS_PER_PAGE * ID_BYTES))
    this.#pages.at(-1)!.write(hex, at * ID_BYTES, ID_BYTES, 'hex')
    this.#count++
  }

  /** Every id in order, concatenated (32 bytes each). */
  toBuffer(): Buffer {
    return Buffer.concat(this.#pages, this.#count * ID_BYTES)
  }
}
