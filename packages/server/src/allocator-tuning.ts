import { createRequire } from 'node:module'
import type Koffi from 'koffi'

/**
 * Free memory glibc's malloc keeps at the top of a heap before it hands it back to the system:
 * 64 MiB instead of its default of 128 KiB (which it raises only as far as twice the largest
 * block it ever gave back from a separate mapping).
 *
 * Why: node:crypto returns every `update()` in fresh memory, which V8 fills with zeros, so each
 * 64 KiB frame a connection encrypts or decrypts, and each piece of a chunk's seal, is a new block
 * from malloc. A collection frees tens of MiB of them at once; with the default threshold malloc
 * gives those pages back to the system, and the next frames fault them in again, one page fault
 * per 4 KiB. On the virtual machines this runs on a page fault costs microseconds, and
 * `perf record` put 9% of a cluster put's CPU under the zero-fill's faults. 128 MiB is more than a
 * busy node frees between two collections (V8 lets external memory grow by 64 MiB before it
 * collects for it), so the pages stay mapped and are reused. Measured in the package README:
 * the putting node of `bench/cluster.mjs` spends about a quarter less CPU per MiB.
 */
export const TRIM_THRESHOLD_BYTES = 128 * 1024 * 1024

/**
 * Smallest block malloc gives its own mapping (unmapped again when freed): 4 MiB instead of
 * its sliding default, which starts at 128 KiB. A sealed blob (1 MiB and 16 bytes) is then carved
 * from the heap and its pages reused, rather than mapped, faulted in and unmapped once per chunk.
 */
export const MMAP_THRESHOLD_BYTES = 4 * 1024 * 1024

// mallopt() parameters, from glibc's <malloc.h>.
const M_TRIM_THRESHOLD = -1
const M_MMAP_THRESHOLD = -3

/** The variable and the tunable that set how many heaps ("arenas") malloc keeps: see `one-arena.ts`. */
const ARENA_SETTINGS = ['MALLOC_ARENA_MAX', 'glibc.malloc.arena_max']

/**
 * The malloc settings this process's environment gives glibc, if any: glibc reads `MALLOC_*`
 * variables and `glibc.malloc.*` tunables at start.
 */
export function mallocSettings(env: NodeJS.ProcessEnv): string[] {
  const variables = Object.keys(env).filter((name) => name.startsWith('MALLOC_'))
  const tunables = (env.GLIBC_TUNABLES ?? '').split(':').filter((tunable) => tunable.startsWith('glibc.malloc.'))
  return [...variables, ...tunables.map((tunable) => `GLIBC_TUNABLES ${tunable}`)]
}

/**
 * The settings an operator gave malloc that a later mallopt() of the thresholds would overrule
 * silently, if any. Whoever set any of them manages malloc themselves. The number of arenas is not
 * among them: the thresholds do not touch it (and `one-arena.ts` sets it itself).
 */
function operatorSettings(env: NodeJS.ProcessEnv): string | undefined {
  const own = mallocSettings(env).filter((setting) => !ARENA_SETTINGS.some((arena) => setting.includes(arena)))
  return own.length > 0 ? own.join(', ') : undefined
}

/** What {@link tuneAllocator} did. */
export type AllocatorTuning = { tuned: true } | { tuned: false; reason: string }

let outcome: AllocatorTuning | undefined
/** glibc's malloc_trim(), bound once the tuning took. */
let mallocTrim: ((pad: number) => number) | undefined

/**
 * Tells this process's C allocator (glibc's malloc) to keep memory it would otherwise hand back to
 * the system (see {@link TRIM_THRESHOLD_BYTES} and {@link MMAP_THRESHOLD_BYTES}). A process-wide
 * setting, so it is left to whoever owns the process: the `cas` daemon calls it, an application
 * embedding a node may. Safe to call more than once, at any time.
 *
 * It needs glibc on Linux and the optional dependency `koffi` (to call `mallopt()`): elsewhere it
 * changes nothing and says why, and a node runs as before, only with more CPU per byte. It also
 * leaves malloc alone when the environment configures it (any `MALLOC_*` variable, such as
 * `MALLOC_TRIM_THRESHOLD_`, or `GLIBC_TUNABLES=glibc.malloc.…`, other than the number of arenas):
 * the operator's own settings win.
 */
export function tuneAllocator(): AllocatorTuning {
  outcome ??= applyTuning()
  return outcome
}

function applyTuning(): AllocatorTuning {
  if (process.platform !== 'linux') return { tuned: false, reason: `no glibc on ${process.platform}` }
  const own = operatorSettings(process.env)
  if (own !== undefined) return { tuned: false, reason: `the environment sets malloc's own (${own})` }
  let mallopt: (param: number, value: number) => number
  let trim: (pad: number) => number
  try {
    const koffi = createRequire(import.meta.url)('koffi') as typeof Koffi
    const libc = koffi.load('libc.so.6')
    mallopt = libc.func('int mallopt(int param, int value)') as (param: number, value: number) => number
    trim = libc.func('int malloc_trim(size_t pad)') as (pad: number) => number
  } catch (err) {
    // koffi not installed (it is optional), or no glibc (musl names its library otherwise).
    return { tuned: false, reason: `cannot call glibc's mallopt(): ${(err as Error).message}` }
  }
  // mallopt() answers 1 on success, 0 on a value it refuses.
  if (mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES) !== 1 || mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES) !== 1) {
    return { tuned: false, reason: 'mallopt() refused the thresholds' }
  }
  mallocTrim = trim
  return { tuned: true }
}

/**
 * Hands back to the system the free memory malloc keeps for reuse since {@link tuneAllocator}
 * (the free top of every heap, and free pages inside them): for when a busy spell is over, so a
 * node that moved a large file does not hold the memory of its busiest moment while idle. Answers
 * whether it could (only a tuned process can; an untuned malloc hands memory back by itself).
 * Takes milliseconds; the next transfer faults in again what it needs.
 */
export function releaseFreeMemory(): boolean {
  if (mallocTrim === undefined) return false
  mallocTrim(0)
  return true
}
