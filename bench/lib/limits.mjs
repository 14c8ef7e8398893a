// The machine's own limits, measured the same way by every benchmark so that
// each result can be shown as a ratio to what the hardware allows in that run.
import { createCipheriv, createHash, randomBytes } from 'node:crypto'
import { fork } from 'node:child_process'
import { constants } from 'node:fs'
import { mkdtemp, open, rm } from 'node:fs/promises'
import { createServer, connect } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { benchBase } from './work-dir.mjs'

const MiB = 1024 * 1024

/** MiB/s of `work(buffer)` over `total` bytes in `size` pieces. */
function rate(total, size, work) {
  const data = randomBytes(size)
  const start = process.hrtime.bigint()
  for (let done = 0; done < total; done += size) work(data)
  const seconds = Number(process.hrtime.bigint() - start) / 1e9
  return total / MiB / seconds
}

/** node:crypto SHA-256 over 1 MiB updates. */
export function sha256Rate(total = 512 * MiB) {
  const hash = createHash('sha256')
  const r = rate(total, MiB, (d) => hash.update(d))
  hash.digest()
  return r
}

/** node:crypto AES-256-CTR; `slice` is the update size. */
export function aesCtrRate(total = 512 * MiB, slice = 64 * 1024) {
  const cipher = createCipheriv('aes-256-ctr', randomBytes(32), randomBytes(16))
  return rate(total, slice, (d) => cipher.update(d))
}

/**
 * Sequential write of `total` bytes in 1 MiB writes, fsync at the end, to a temp file next to
 * `dir`: through the page cache, or with O_DIRECT (`direct`; undefined where the filesystem or the
 * platform has none). A WebAssembly memory gives the page-aligned buffer O_DIRECT needs.
 */
async function diskWriteOnce(total, dir, direct) {
  const O_DIRECT = constants.O_DIRECT
  if (direct && O_DIRECT === undefined) return undefined
  const folder = await mkdtemp(join(dir, 'cas-bench-disk-'))
  const data = direct ? Buffer.from(new WebAssembly.Memory({ initial: MiB / 65536 }).buffer) : Buffer.alloc(MiB)
  data.set(randomBytes(MiB))
  try {
    const flags = direct ? constants.O_WRONLY | constants.O_CREAT | O_DIRECT : 'w'
    const handle = await open(join(folder, 'f'), flags, 0o600).catch((err) => {
      if (direct && err.code === 'EINVAL') return undefined
      throw err
    })
    if (handle === undefined) return undefined
    try {
      const start = process.hrtime.bigint()
      for (let done = 0; done < total; done += MiB) await handle.write(data, 0, MiB, done)
      await handle.sync()
      const seconds = Number(process.hrtime.bigint() - start) / 1e9
      return total / MiB / seconds
    } finally {
      await handle.close()
    }
  } finally {
    await rm(folder, { recursive: true, force: true })
  }
}

/** Both ways of writing the disk, alternating in halves so that both see the same moments of a shared machine. */
export async function diskWriteRates(total = 1024 * MiB, dir = benchBase()) {
  const half = Math.max(MiB, Math.floor(total / 2 / MiB) * MiB)
  const runs = { buffered: [], direct: [] }
  for (const order of [['buffered', 'direct'], ['direct', 'buffered']]) {
    for (const way of order) runs[way].push(await diskWriteOnce(half, dir, way === 'direct'))
  }
  const mean = (values) => (values.includes(undefined) ? undefined : (values[0] + values[1]) / 2)
  return { buffered: mean(runs.buffered), direct: mean(runs.direct) }
}

/** The faster of the two ways measured by {@link diskWriteRates}. */
const fasterWrite = ({ buffered, direct }) => Math.max(buffered, direct ?? 0)

/**
 * The disk's write rate: the faster of a buffered and an O_DIRECT write of the same bytes (the
 * store writes directly where it can). The strictest limit to compare a put with.
 */
export async function diskWriteRate(total = 1024 * MiB, dir = benchBase()) {
  return fasterWrite(await diskWriteRates(total, dir))
}

/** Raw TCP loopback between this process and a child process, `total` bytes in 1 MiB writes. */
export async function tcpLoopbackRate(total = 1024 * MiB) {
  const server = createServer()
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address()
  const received = new Promise((resolve) => {
    server.once('connection', (socket) => {
      let got = 0
      const start = process.hrtime.bigint()
      socket.on('data', (d) => {
        got += d.byteLength
        if (got >= total) {
          resolve(total / MiB / (Number(process.hrtime.bigint() - start) / 1e9))
          socket.destroy()
        }
      })
    })
  })
  const child = fork(fileURLToPath(import.meta.url), ['--tcp-sender', String(port), String(total)], { stdio: 'ignore' })
  const result = await received
  child.kill()
  server.close()
  return result
}

/** All limits in one object (MiB/s). */
export async function measureLimits({ bytes = 512 * MiB, dir } = {}) {
  const disk = await diskWriteRates(bytes, dir)
  return {
    sha256: sha256Rate(bytes),
    aesCtr: aesCtrRate(bytes),
    diskWrite: fasterWrite(disk),
    diskWriteBuffered: disk.buffered,
    diskWriteDirect: disk.direct ?? null,
    tcpLoopback: await tcpLoopbackRate(bytes),
  }
}

function percentiles(samples) {
  const sorted = [...samples].sort((a, b) => a - b)
  const at = (p) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]
  return { p50: at(0.5), p99: at(0.99) }
}

/** Latency (µs, p50 and p99) of one durable small write: 4 KiB written then fdatasync'ed, `count` times. */
export async function fsyncLatency(count = 200, dir = benchBase()) {
  const folder = await mkdtemp(join(dir, 'cas-bench-fsync-'))
  const data = randomBytes(4096)
  const handle = await open(join(folder, 'f'), 'w')
  const samples = []
  try {
    for (let i = 0; i < count; i++) {
      const start = process.hrtime.bigint()
      await handle.write(data, 0, data.length, i * data.length)
      await handle.datasync()
      samples.push(Number(process.hrtime.bigint() - start) / 1e3)
    }
  } finally {
    await handle.close()
    await rm(folder, { recursive: true, force: true })
  }
  return percentiles(samples)
}

/** Round trip (µs, p50 and p99) of a 64-byte ping-pong over loopback TCP between this process and a child. */
export async function tcpRoundTrip(count = 2000) {
  const child = fork(fileURLToPath(import.meta.url), ['--tcp-echo'], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] })
  const port = await new Promise((resolve) => child.once('message', resolve))
  const socket = connect({ port, host: '127.0.0.1', noDelay: true })
  await new Promise((resolve) => socket.once('connect', resolve))
  const ping = randomBytes(64)
  const samples = []
  try {
    for (let i = 0; i < count; i++) {
      const start = process.hrtime.bigint()
      const back = new Promise((resolve) => {
        let got = 0
        const onData = (d) => {
          got += d.length
          if (got >= ping.length) {
            socket.off('data', onData)
            resolve()
          }
        }
        socket.on('data', onData)
      })
      socket.write(ping)
      await back
      samples.push(Number(process.hrtime.bigint() - start) / 1e3)
    }
  } finally {
    socket.destroy()
    child.kill()
  }
  return percentiles(samples)
}

/**
 * The machine's limits for this run. `bench/run.mjs` measures them once and hands them to every
 * script in BENCH_LIMITS, so that all the ratios of one table divide by the same figures; a script
 * run on its own measures them itself.
 */
export async function runLimits({ bytes = 512 * MiB, dir } = {}) {
  if (process.env.BENCH_LIMITS) return JSON.parse(process.env.BENCH_LIMITS)
  return { ...(await measureLimits({ bytes, dir })), fsync4k: await fsyncLatency(200, dir), tcpRoundTrip: await tcpRoundTrip(2000) }
}

if (process.argv[2] === '--tcp-echo') {
  const server = createServer({ noDelay: true }, (socket) => {
    socket.on('data', (d) => socket.write(d))
    socket.on('error', () => {})
  })
  server.listen(0, '127.0.0.1', () => process.send(server.address().port))
  process.on('disconnect', () => process.exit(0))
}

if (process.argv[2] === '--tcp-sender') {
  const port = Number(process.argv[3])
  const total = Number(process.argv[4])
  const data = randomBytes(MiB)
  const socket = connect(port, '127.0.0.1', () => {
    let sent = 0
    const pump = () => {
      while (sent < total) {
        sent += data.byteLength
        if (!socket.write(data)) return socket.once('drain', pump)
      }
      socket.end()
    }
    pump()
  })
  socket.on('error', () => process.exit(0))
}
