import { createHash } from 'node:crypto'
import { open } from 'node:fs/promises'
import { IO_CHUNK_SIZE } from './constants.js'
import { abortError } from './errors.js'
import type { Throttle } from './throttle.js'

/**
 * SHA-256 of a file as lowercase hex, read in IO-sized pieces into one reused buffer. With a
 * throttle the reads keep to its rate; `signal` stops between pieces.
 */
export async function hashFile(path: string, options: { throttle?: Throttle; signal?: AbortSignal } = {}): Promise<string> {
  const { throttle, signal } = options
  const handle = await open(path, 'r')
  try {
    const hash = createHash('sha256')
    const buffer = Buffer.allocUnsafe(IO_CHUNK_SIZE)
    for (;;) {
      if (signal?.aborted === true) throw abortError(signal, 'hash')
      const { bytesRead } = await handle.read(buffer, 0, buffer.byteLength, null)
      if (bytesRead === 0) break
      hash.update(buffer.subarray(0, bytesRead))
      await throttle?.consume(bytesRead, signal)
    }
    return hash.digest('hex')
  } finally {
    await handle.close()
  }
}
