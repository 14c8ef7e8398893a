#!/usr/bin/env node
// @cas/p2p throughput and latency between two processes over loopback TCP, next to raw TCP and
// node:tls (TLS 1.3, AES-256-GCM) measured in the same run.
//
//   pnpm --filter @cas/p2p build && node bench/p2p.mjs [--json]
//   env: BENCH_BYTES (default 1 GiB), BENCH_MESSAGE_BYTES (1 MiB), BENCH_PINGS (sequential, 2000),
//        BENCH_REQUESTS (concurrent, 20000), BENCH_CONCURRENCY (64),
//        BENCH_MODES (comma list of tcp,tls,p2p,requests,latency; default all)
// Besides MiB/s it reports CPU milliseconds per MiB on each side (and page faults per MiB in --json):
// on a shared machine those stay comparable when wall-clock throughput does not.
import { execFileSync, fork } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import net from 'node:net'
import { join } from 'node:path'
import tls from 'node:tls'
import { fileURLToPath } from 'node:url'
import { benchBase } from './lib/work-dir.mjs'

const here = fileURLToPath(import.meta.url)
const { createHost, tcpTransport, generateNoiseKeyPair } = await import(new URL('../packages/p2p/dist/index.js', import.meta.url).href)

const MiB = 1024 * 1024
const env = (name, fallback) => (process.env[name] ? Number(process.env[name]) : fallback)
const TOTAL = env('BENCH_BYTES', 1024 * MiB)
const MESSAGE = env('BENCH_MESSAGE_BYTES', MiB)
const PINGS = env('BENCH_PINGS', 2000)
const REQUESTS = env('BENCH_REQUESTS', 20000)
const CONCURRENCY = env('BENCH_CONCURRENCY', 64)
const MODES = new Set((process.env.BENCH_MODES ?? 'tcp,tls,p2p,requests,latency').split(','))
const hello = () => ({ version: 1, addresses: [], capacity: 0, used: 0 })

// ---- server process ---------------------------------------------------------------------------

async function server() {
  const { networkKey } = JSON.parse(process.env.BENCH_SETUP)
  // A byte-counting sink: the client sends an 8-byte length, then that many bytes; we answer one byte.
  const sink = (socket) => {
    let expected = -1
    let received = 0
    let head = Buffer.alloc(0)
    socket.on('data', (chunk) => {
      if (expected < 0) {
        head = Buffer.concat([head, chunk])
        if (head.length < 8) return
        expected = Number(head.readBigUInt64BE(0))
        received = head.length - 8
      } else received += chunk.length
      if (received >= expected) {
        socket.write(Buffer.from([1]))
        expected = -1
        head = Buffer.alloc(0)
      }
    })
    socket.on('error', () => {})
  }
  const raw = net.createServer({ noDelay: true }, sink)
  await new Promise((r) => raw.listen(0, '127.0.0.1', r))

  let secure
  const dir = mkdtempSync(join(benchBase(), 'cas-bench-'))
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=localhost',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' })
    secure = tls.createServer({
      key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')),
      minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3', ciphersuites: 'TLS_AES_256_GCM_SHA384',
    }, sink)
    await new Promise((r) => secure.listen(0, '127.0.0.1', r))
  } catch {
    secure = undefined // no openssl binary: the TLS row is skipped
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }

  let received = 0
  const host = await createHost({ transport: tcpTransport(), staticKey: generateNoiseKeyPair(), networkKey: Buffer.from(networkKey, 'hex'), listen: ['127.0.0.1:0'], hello })
  host.onMessage('bench-data', (msg) => { received += msg.body?.length ?? 0 })
  host.handle('bench-put', async (req) => ({ header: { n: req.body?.length ?? 0 } }))
  host.handle('bench-done', async () => { const n = received; received = 0; return { header: { received: n } } })
  host.handle('ping', async () => ({ header: {} }))
  process.send({ raw: raw.address().port, tls: secure?.address().port, p2p: host.addresses[0], id: host.id })
  process.on('message', async (m) => {
    if (m === 'cpu') process.send({ cpu: { ...process.cpuUsage(), faults: process.resourceUsage().minorPageFault } })
    if (m === 'exit') { await host.close(); raw.close(); secure?.close(); process.exit(0) }
  })
}

// ---- client side ------------------------------------------------------------------------------

const mibps = (bytes, ns) => bytes / MiB / (Number(ns) / 1e9)

async function streamBytes(socket, total, chunk) {
  const head = Buffer.alloc(8)
  head.writeBigUInt64BE(BigInt(total))
  const done = new Promise((resolve) => socket.once('data', resolve))
  const start = process.hrtime.bigint()
  socket.write(head)
  for (let sent = 0; sent < total; sent += chunk.length) {
    if (!socket.write(sent + chunk.length <= total ? chunk : chunk.subarray(0, total - sent))) await new Promise((r) => socket.once('drain', r))
  }
  await done
  return process.hrtime.bigint() - start
}

async function rawTcp(port, chunk) {
  const socket = net.connect({ port, host: '127.0.0.1', noDelay: true })
  await new Promise((r) => socket.once('connect', r))
  const ns = await streamBytes(socket, TOTAL, chunk)
  socket.destroy()
  return ns
}

async function nodeTls(port, chunk) {
  const socket = tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false, minVersion: 'TLSv1.3', ciphers: 'TLS_AES_256_GCM_SHA384' })
  await new Promise((r) => socket.once('secureConnect', r))
  socket.setNoDelay(true)
  const cipher = `${socket.getProtocol()} ${socket.getCipher().standardName}`
  const ns = await streamBytes(socket, TOTAL, chunk)
  socket.destroy()
  return { ns, cipher }
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]
}

async function client() {
  const networkKey = randomBytes(32)
  const child = fork(here, ['--server'], { env: { ...process.env, BENCH_SETUP: JSON.stringify({ networkKey: networkKey.toString('hex') }) } })
  const ports = await new Promise((r) => child.once('message', r))
  const serverCpu = () => new Promise((r) => { child.once('message', (m) => r(m.cpu)); child.send('cpu') })
  const cpuMs = (u) => (u.user + u.system) / 1000
  // CPU time per MiB on each side: a figure that stays meaningful on a busy machine.
  const measure = async (name, fn) => {
    const c0 = process.cpuUsage(); const s0 = await serverCpu(); const f0 = process.resourceUsage().minorPageFault
    const value = await fn()
    const c1 = process.cpuUsage(c0); const s1 = await serverCpu(); const f1 = process.resourceUsage().minorPageFault
    results.cpuMsPerMiB[name] = { sender: cpuMs(c1) / (TOTAL / MiB), receiver: (cpuMs(s1) - cpuMs(s0)) / (TOTAL / MiB) }
    results.pageFaultsPerMiB[name] = { sender: (f1 - f0) / (TOTAL / MiB), receiver: (s1.faults - s0.faults) / (TOTAL / MiB) }
    return value
  }
  const chunk = randomBytes(MESSAGE)
  const results = { bytes: TOTAL, messageBytes: MESSAGE, cpuMsPerMiB: {}, pageFaultsPerMiB: {} }

  if (MODES.has('tcp')) results.rawTcp = mibps(TOTAL, await measure('rawTcp', () => rawTcp(ports.raw, chunk)))
  if (ports.tls !== undefined && MODES.has('tls')) {
    const { ns, cipher } = await measure('tls', () => nodeTls(ports.tls, chunk))
    results.tls = mibps(TOTAL, ns)
    results.tlsCipher = cipher
  }

  const host = await createHost({ transport: tcpTransport(), staticKey: generateNoiseKeyPair(), networkKey, listen: [], hello })
  await host.connect(ports.p2p, { expectedId: ports.id })
  const messages = Math.ceil(TOTAL / MESSAGE)

  // One-way 1 MiB messages; send() resolves when the connection can take more (drain honoured).
  let start
  if (MODES.has('p2p')) {
    const done = await measure('p2p', async () => {
      start = process.hrtime.bigint()
      for (let i = 0; i < messages; i++) await host.send(ports.id, 'bench-data', {}, chunk)
      const reply = await host.request(ports.id, 'bench-done', {})
      results.p2p = mibps(TOTAL, process.hrtime.bigint() - start)
      return reply
    })
    if (done.header.received !== messages * MESSAGE) throw new Error(`server received ${done.header.received} bytes`)
  }

  // Request/response with 1 MiB bodies, a window of 8 requests in flight.
  if (MODES.has('requests')) {
    await measure('p2pRequests', async () => {
      start = process.hrtime.bigint()
      let next = 0
      const worker = async () => { while (next++ < messages) await host.request(ports.id, 'bench-put', {}, chunk) }
      await Promise.all(Array.from({ length: 8 }, worker))
      results.p2pRequests = mibps(TOTAL, process.hrtime.bigint() - start)
    })
  }

  // Small request/response: sequential latency, then throughput with many in flight.
  const latencies = []
  for (let i = 0; i < (MODES.has('latency') ? PINGS : 0); i++) {
    const t = process.hrtime.bigint()
    await host.request(ports.id, 'ping', {})
    latencies.push(Number(process.hrtime.bigint() - t) / 1e3)
  }
  latencies.sort((a, b) => a - b)
  results.pingP50us = percentile(latencies, 0.5)
  results.pingP99us = percentile(latencies, 0.99)
  start = process.hrtime.bigint()
  let issued = MODES.has('latency') ? 0 : REQUESTS
  const pinger = async () => { while (issued++ < REQUESTS) await host.request(ports.id, 'ping', {}) }
  await Promise.all(Array.from({ length: CONCURRENCY }, pinger))
  results.requestsPerSecond = REQUESTS / (Number(process.hrtime.bigint() - start) / 1e9)
  results.p2pVsTls = results.tls ? results.p2p / results.tls : undefined
  results.peakRssMiB = process.resourceUsage().maxRSS / 1024

  await host.close()
  child.send('exit')

  if (process.argv.includes('--json')) {
    console.log(JSON.stringify(results))
    return
  }
  const cpu = (name) => { const c = results.cpuMsPerMiB[name]; return c ? `   ${c.sender.toFixed(2)} / ${c.receiver.toFixed(2)}` : '' }
  const f = (n) => n.toFixed(0).padStart(8)
  console.log(`@cas/p2p over loopback TCP, two processes, ${TOTAL / MiB} MiB in ${MESSAGE / MiB} MiB messages`)
  console.log('')
  console.log('what                                  MiB/s   CPU ms/MiB sender / receiver')
  if (results.rawTcp) console.log(`raw TCP                             ${f(results.rawTcp)}${cpu('rawTcp')}`)
  if (results.tls) console.log(`node:tls (${results.tlsCipher.padEnd(25)})${f(results.tls)}${cpu('tls')}`)
  if (results.p2p) console.log(`p2p secure connection, one-way      ${f(results.p2p)}${cpu('p2p')}${results.tls ? `   (${(results.p2pVsTls * 100).toFixed(0)}% of node:tls)` : ''}`)
  if (results.p2pRequests) console.log(`p2p requests, 1 MiB bodies, 8 deep  ${f(results.p2pRequests)}${cpu('p2pRequests')}`)
  if (MODES.has('latency')) {
    console.log('')
    console.log(`small request/response: p50 ${results.pingP50us.toFixed(0)} µs, p99 ${results.pingP99us.toFixed(0)} µs (sequential, ${PINGS})`)
    console.log(`                        ${results.requestsPerSecond.toFixed(0)} requests/s (${CONCURRENCY} in flight, ${REQUESTS})`)
  }
  console.log(`client peak RSS ${results.peakRssMiB.toFixed(0)} MiB`)
}

if (process.argv.includes('--server')) await server()
else await client()
