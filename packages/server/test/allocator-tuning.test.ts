import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import type Koffi from 'koffi'
import { describe, expect, it, vi } from 'vitest'
import { MMAP_THRESHOLD_BYTES, TRIM_THRESHOLD_BYTES, releaseFreeMemory, tuneAllocator } from '../src/allocator-tuning.js'

const MiB = 1024 * 1024
const onLinux = process.platform === 'linux'

/** glibc's own malloc, free and statistics, as the tuned allocator sees them (bound once). */
const glibc = (() => {
  let bound: ReturnType<typeof bind> | undefined
  return () => (bound ??= bind())
})()

function bind() {
  const koffi = createRequire(import.meta.url)('koffi') as typeof Koffi
  const libc = koffi.load('libc.so.6')
  const sizes = ['arena', 'ordblks', 'smblks', 'hblks', 'hblkhd', 'usmblks', 'fsmblks', 'uordblks', 'fordblks', 'keepcost']
  koffi.struct('mallinfo2', Object.fromEntries(sizes.map((field) => [field, 'size_t'])))
  const mallinfo2 = libc.func('mallinfo2 mallinfo2(void)') as () => { arena: number }
  return {
    malloc: libc.func('void *malloc(size_t size)') as (size: number) => unknown,
    free: libc.func('void free(void *ptr)') as (ptr: unknown) => void,
    memset: libc.func('void *memset(void *ptr, int value, size_t size)') as (ptr: unknown, value: number, size: number) => unknown,
    /** Bytes the main heap holds from the system, in use or free. */
    heapBytes: () => mallinfo2().arena,
  }
}

/** Anonymous memory of this process in RAM (Linux). */
function residentAnonymousBytes(): number {
  const kib = /^RssAnon:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'))
  if (!kib) throw new Error('no RssAnon in /proc/self/status')
  return Number(kib[1]) * 1024
}

describe('tuneAllocator', () => {
  it.runIf(onLinux)('tunes glibc, once, however often it is called', () => {
    const first = tuneAllocator()
    expect(first).toEqual({ tuned: true })
    expect(tuneAllocator()).toBe(first)
  })

  it.runIf(onLinux)('carves blocks the size of sealed blobs from its heap, and keeps their pages once freed', () => {
    tuneAllocator()
    const { malloc, free, memset, heapBytes } = glibc()
    // Blocks just under the mapping threshold, three quarters of the trim threshold in all (96 MiB),
    // each written so its pages are really in memory. Untuned, glibc gives blocks this size
    // mappings of their own (unless the process freed larger ones before), so its heap would not grow.
    const size = MMAP_THRESHOLD_BYTES - 64 * 1024
    const before = heapBytes()
    const blocks = Array.from({ length: Math.floor((TRIM_THRESHOLD_BYTES * 0.75) / size) }, () => malloc(size))
    for (const block of blocks) memset(block, 1, size)
    const grown = heapBytes()
    expect(grown - before).toBeGreaterThan(72 * MiB)
    for (const block of blocks.reverse()) free(block)
    // Untuned, glibc trims the top of its heap once it exceeds 128 KiB (at most 64 MiB in a process
    // that freed large mappings before), handing these pages back to the system.
    expect(heapBytes()).toBeGreaterThanOrEqual(grown - MiB)
    // Until the busy spell is over: then the kept pages go back to the system (the heap keeps its
    // address space, which mallinfo counts, but no longer its memory).
    const kept = residentAnonymousBytes()
    expect(releaseFreeMemory()).toBe(true)
    expect(kept - residentAnonymousBytes()).toBeGreaterThan(64 * MiB)
  })

  it.each([
    ['GLIBC_TUNABLES', 'glibc.malloc.trim_threshold=1048576', 'glibc.malloc.trim_threshold=1048576'],
    ['MALLOC_TOP_PAD_', '0', 'MALLOC_TOP_PAD_'],
  ])('leaves malloc to the operator when the environment configures it (%s)', async (name, value, named) => {
    vi.resetModules()
    vi.stubEnv(name, value)
    try {
      const fresh = await import('../src/allocator-tuning.js')
      const outcome = fresh.tuneAllocator()
      expect(outcome.tuned).toBe(false)
      if (!outcome.tuned && process.platform === 'linux') expect(outcome.reason).toContain(named)
      // An untuned malloc hands memory back by itself; nothing is released on its behalf.
      expect(fresh.releaseFreeMemory()).toBe(false)
    } finally {
      vi.unstubAllEnvs()
      vi.resetModules()
    }
  })

  it.runIf(onLinux).each([
    ['MALLOC_ARENA_MAX', '1'],
    ['GLIBC_TUNABLES', 'glibc.malloc.arena_max=2'],
  ])('tunes the thresholds when the environment sets only the number of arenas (%s)', async (name, value) => {
    vi.resetModules()
    vi.stubEnv(name, value)
    try {
      const fresh = await import('../src/allocator-tuning.js')
      expect(fresh.tuneAllocator()).toEqual({ tuned: true })
      expect(fresh.releaseFreeMemory()).toBe(true)
    } finally {
      vi.unstubAllEnvs()
      vi.resetModules()
    }
  })
})
