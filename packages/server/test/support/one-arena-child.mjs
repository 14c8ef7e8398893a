// Runs as its own process for one-arena.test.ts: restarts itself with one malloc arena (unless its
// first argument is "stay"), then starts threads that allocate, and reports on stdout what it is:
// its pid, its MALLOC_ARENA_MAX, its arguments, the line it read from stdin and how many heaps
// glibc's malloc has. Exits with the code given as its second argument.
import { readFileSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Worker } from 'node:worker_threads'

const [mode, exitCode] = process.argv.slice(2)
const { execWithOneArena } = await import(new URL('../../dist/one-arena.js', import.meta.url).href)
const reason = mode === 'stay' ? 'not asked' : execWithOneArena()

// Threads that allocate: each would get a heap of its own.
await Promise.all(
  Array.from({ length: 4 }, async () => {
    const worker = new Worker("require('node:crypto').randomBytes(1 << 20)", { eval: true })
    await new Promise((resolve, reject) => worker.once('exit', resolve).once('error', reject))
  }),
)

const koffi = createRequire(import.meta.url)('koffi')
const libc = koffi.load('libc.so.6')
const fopen = libc.func('void *fopen(const char *path, const char *mode)')
const fclose = libc.func('int fclose(void *stream)')
const mallocInfo = libc.func('int malloc_info(int options, void *stream)')
const file = join(tmpdir(), `one-arena-${process.pid}.xml`)
const stream = fopen(file, 'w')
mallocInfo(0, stream)
fclose(stream)
const heaps = readFileSync(file, 'utf8').match(/<heap nr=/g)?.length ?? 0
rmSync(file)

let input = ''
for await (const chunk of process.stdin) input += chunk
const ipc = typeof process.send === 'function'
const report = { pid: process.pid, arenaMax: process.env.MALLOC_ARENA_MAX ?? null, reason, argv: process.argv.slice(2), input, heaps, ipc }
if (ipc) process.send(report, () => process.disconnect())
else console.log(JSON.stringify(report))
process.exitCode = Number(exitCode ?? 0)
