import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

let collector: (() => void) | undefined

/** Options of {@link collectGarbage}. */
export interface CollectOptions {
  /**
   * Return only once the memory of the Buffers found dead is back with malloc. V8 frees it on a
   * helper thread after the collection returns, and finishes that freeing at the start of its next
   * collection, so this runs a second one. Without it, a `releaseFreeMemory()` right after the
   * collection raced that thread: a process that dropped 150 MiB of Buffers handed back 120, 0 and
   * 76 MiB of them in three tries, against all of them each time with it.
   */
  freeBuffers?: boolean
}

/**
 * Runs a full garbage collection of this thread's heap, synchronously. V8's collector is offered
 * only through `--expose-gc`; set at run time, the flag exposes `gc` to contexts created
 * afterwards, so this process's own global stays as it was.
 */
export function collectGarbage(options: CollectOptions = {}): void {
  if (collector === undefined) {
    setFlagsFromString('--expose-gc')
    collector = runInNewContext('gc') as () => void
  }
  collector()
  if (options.freeBuffers === true) collector()
}
