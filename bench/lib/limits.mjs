// The machine's own limits, measured the same way by every benchmark so that
// each result can be shown as a ratio to what the hardware allows in that run.
import { createCipheriv, createHash, randomBytes } from 'node:crypto'
import { fork } from 'node:child_process'
import { mkdtemp, open, rm } from 'node:fs/promises'
import { createServer, connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

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

/** Sequential write of `total` bytes in 1 MiB writes, fsync at the end, to a temp file next to `dir`. */
export async function diskWriteRate(total = 1024 * MiB, dir = tmpdir()) {
  const folder = await mkdtemp(join(dir, 'cas-bench-disk-'))
  const data = randomBytes(MiB)
  const handle = await open(join(folder, 'f'), 'w')
  try {
    const start = process.hrtime.bigint()
    for (let done = 0; done < total; done += MiB) await handle.write(data)
    await handle.sync()
    const seconds = Number(process.hrtime.bigint() - start) / 1e9
    return total / MiB / seconds
  } finally {
    await handle.close()
    await rm(folder, { recursive: true, force: true })
  }
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
  return {
    sha256: sha256Rate(bytes),
    aesCtr: aesCtrRate(bytes),
    diskWrite: await diskWriteRate(bytes, dir),
    tcpLoopback: await tcpLoopbackRate(bytes),
  }
}

function percentiles(samples) {
  const sorted = [...samples].sort((a, b) => a - b)
  const at = (p) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]
  return { p50: at(0.5), p99: at(0.99) }
}

/** Latency (µs, p50 and p99) of one durable small write: 4 KiB written then fdatasync'ed, `count` times. */
export async function fsyncLatency(count = 200, dir = tmpdir()) {
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
