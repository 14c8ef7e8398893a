import { createRequire } from 'node:module'
import type Koffi from 'koffi'
import { mallocSettings } from './allocator-tuning.js'

/**
 * The environment variable {@link execWithOneArena} starts the process again with: glibc's malloc
 * then keeps one heap ("arena") for all of the process's threads.
 */
export const ONE_ARENA = { MALLOC_ARENA_MAX: '1' } as const

// fcntl() commands and flag, from <fcntl.h>.
const F_SETFD = 2
const FD_CLOEXEC = 1
const STDIO = [0, 1, 2]

/**
 * Replaces this process with itself started with one malloc arena: the same executable, Node
 * options, script and arguments, the same environment plus {@link ONE_ARENA}, the same stdin,
 * stdout and stderr, and the same process id. It returns only when it did not, with the reason.
 *
 * Why: glibc's malloc gives every thread that allocates a heap of its own, up to eight per core,
 * and a node's process has a dozen such threads (V8's helpers, libuv's file threads, the crypto
 * thread). Each heap keeps what its thread freed for that thread's reuse (`tuneAllocator()` keeps
 * it from going back to the system), so the process holds the busiest moment of every heap at once.
 * With one heap, a block one thread frees is the next block of any other. Four `cas` daemons, a
 * 5 GiB put through HTTP: see the package README for the figures.
 *
 * Only the start of a process can choose: a thread is bound to a heap at its first allocation,
 * and threads run before the first line of JavaScript. (Set with mallopt() there, the limit only
 * makes later threads share the heaps that already exist; that changed nothing measurable.)
 *
 * Call it first thing in the process's entry script, before anything reads stdin or writes to
 * stdout or stderr. It leaves the process as it is off Linux, without the optional dependency
 * koffi (or glibc), when the environment sets any of malloc's settings (the operator's own, or
 * this function's after the restart), and when the process has an IPC channel from its parent
 * (`process.channel`), whose descriptor would not survive the restart.
 */
export function execWithOneArena(): string {
  if (process.platform !== 'linux') return `no glibc on ${process.platform}`
  const settings = mallocSettings(process.env)
  if (settings.length > 0) return `the environment sets malloc's own (${settings.join(', ')})`
  if (process.channel !== undefined) return 'the process has an IPC channel from its parent'
  let execve: (path: string, argv: (string | null)[], envp: (string | null)[]) => number
  let fcntl: (fd: number, command: number, type: string, value: number) => number
  let errno: () => number
  try {
    const koffi = createRequire(import.meta.url)('koffi') as typeof Koffi
    const libc = koffi.load('libc.so.6')
    execve = libc.func('int execve(const char *path, const char **argv, const char **envp)') as typeof execve
    fcntl = libc.func('int fcntl(int fd, int cmd, ...)') as typeof fcntl
    errno = () => koffi.errno()
  } catch (err) {
    return `cannot call glibc's execve(): ${(err as Error).message}`
  }
  // Node marks its stdin, stdout and stderr close-on-exec when it starts (libuv's
  // uv_disable_stdio_inheritance); the process to come needs them open. (Node 22.15 and later do
  // the same in process.execve().)
  for (const fd of STDIO) fcntl(fd, F_SETFD, 'int', 0)
  const argv = [process.execPath, ...process.execArgv, ...process.argv.slice(1)]
  const env = Object.entries({ ...process.env, ...ONE_ARENA }).map(([name, value]) => `${name}=${value}`)
  execve(process.execPath, [...argv, null], [...env, null])
  const code = errno()
  for (const fd of STDIO) fcntl(fd, F_SETFD, 'int', FD_CLOEXEC)
  return `execve() failed (errno ${code})`
}
