import { ServerError, throwIfAborted } from './errors.js'

/** Options of {@link chunkStream}. */
export interface ChunkStreamOptions {
  /**
   * Pieces that must be copied go into one chunk buffer, used again for every chunk: a chunk is
   * then valid only until the next one is asked for. For a consumer done with each chunk by then
   * (a put's seal copies it at once), it saves fresh chunk-sized memory per chunk, which costs page
   * faults to fill.
   */
  reuse?: boolean
}

/**
 * Cuts a byte stream into fixed-size chunks; the last one may be shorter and an
 * empty stream yields nothing. Memory is bounded by one chunk plus one input
 * piece: the source is pulled only when a chunk has been taken by the consumer.
 * Input pieces that cover a whole aligned chunk are passed on without a copy.
 */
export async function* chunkStream(
  source: AsyncIterable<Uint8Array>,
  chunkSize: number,
  signal?: AbortSignal,
  options: ChunkStreamOptions = {},
): AsyncGenerator<Buffer> {
  if (!Number.isSafeInteger(chunkSize) || chunkSize <= 0) {
    throw new ServerError('INVALID_ARGUMENT', `chunk size must be a positive integer, got ${chunkSize}`)
  }
  let pending: Buffer | undefined
  let filled = 0
  for await (const piece of source) {
    throwIfAborted(signal)
    if (!(piece instanceof Uint8Array)) throw new ServerError('INVALID_ARGUMENT', 'source must yield Uint8Array pieces')
    const input = Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength)
    let at = 0
    while (at < input.byteLength) {
      if (filled === 0 && input.byteLength - at >= chunkSize) {
        yield input.subarray(at, at + chunkSize)
        at += chunkSize
        continue
      }
      pending ??= Buffer.allocUnsafeSlow(chunkSize)
      const n = input.copy(pending, filled, at, Math.min(input.byteLength, at + chunkSize - filled))
      filled += n
      at += n
      if (filled === chunkSize) {
        const full = pending
        pending = undefined
        filled = 0
        yield full
        // Asked for the next chunk: the consumer is done with this one.
        if (options.reuse === true) pending = full
      }
    }
  }
  throwIfAborted(signal)
  if (pending !== undefined && filled > 0) yield pending.subarray(0, filled)
}
