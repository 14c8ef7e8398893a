import { Transform, type TransformCallback } from 'node:stream'
import { METER_HIGH_WATER_MARK } from '../constants.js'
import { CasError } from '../errors.js'

/**
 * A pass-through stream that counts bytes, reports them, and fails with PAYLOAD_TOO_LARGE once more
 * than `limit` bytes went through. Streams are never buffered here: one chunk in, the same chunk out.
 */
export class ByteMeter extends Transform {
  bytes = 0
  /** Set when the limit was exceeded: the error the request should end with. */
  limitError: CasError | undefined
  readonly #limit: number
  readonly #onBytes: (bytes: number) => void

  constructor(limit: number, onBytes: (bytes: number) => void = () => {}) {
    // Room for about one chunk (1 MiB by default) on each side, so the producer can work on the
    // next chunk while the socket drains this one; the bound still holds memory flat.
    super({ highWaterMark: METER_HIGH_WATER_MARK })
    this.#limit = limit
    this.#onBytes = onBytes
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length
    if (this.bytes > this.#limit) {
      this.limitError = new CasError('PAYLOAD_TOO_LARGE', `upload exceeds the limit of ${this.#limit} bytes`)
      callback(this.limitError)
      return
    }
    this.#onBytes(chunk.length)
    callback(null, chunk)
  }
}
