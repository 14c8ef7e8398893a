#!/usr/bin/env node
// Small files end to end: 4 KiB put and get through the HTTP API of real `cas daemon` processes
// (4 nodes on loopback, 3 holders per blob). Latency p50/p99 one request at a time, then
// throughput with many in flight, next to the floor the machine sets in the same run: one
// durable 4 KiB write (write + fdatasync) and one loopback TCP round trip.
//
//   pnpm build && node bench/latency.mjs [--json]
//   env: BENCH_LATENCY_OPS (sequential requests per kind, default 300), BENCH_LATENCY_CONCURRENCY (16),
//        BENCH_LATENCY_FILE_BYTES (4096), BENCH_NODES (4), BENCH_REPLICAS (3)
import { Agent } from 'node:http'
import { startDaemons, api, putStream, getStream } from './lib/daemons.mjs'
import { patternSha256 } from './lib/data.mjs'
import { printTable } from './lib/format.mjs'
import { runLimits } from './lib/limits.mjs'

const env = (name, fallback) => (process.env[name] ? Number(process.env[name]) : fallback)
const OPS = env('BENCH_LATENCY_OPS', 300)
const CONCURRENCY = env('BENCH_LATENCY_CONCURRENCY', 16)
const FILE = env('BENCH_LATENCY_FILE_BYTES', 4096)
const NODES = env('BENCH_NODES', 4)
const REPLICAS = env('BENCH_REPLICAS', 3)
const json = process.argv.includes('--json')

function percentiles(samples) {
  const sorted = [...samples].sort((a, b) => a - b)
  const at = (p) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]
  return { p50: at(0.5), p99: at(0.99) }
}
const ms = (start) => Number(process.hrtime.bigint() - start) / 1e6

const limits = await runLimits({ bytes: 256 * 1024 * 1024 })
const cluster = await startDaemons({ count: NODES, replicas: REPLICAS })
const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY * 2 })
const [writer, reader] = cluster.nodes
const result = {}
try {
  // Warm-up: connections between the nodes and to the API exist before the clock runs.
  for (let i = 0; i < 10; i++) await putStream(writer, `warm-${i}`, FILE, `warm-${i}`, agent)

  const putTimes = []
  const files = []
  for (let i = 0; i < OPS; i++) {
    const start = process.hrtime.bigint()
    const put = await putStream(writer, `seq-${i}`, FILE, `seq-${i}`, agent)
    putTimes.push(ms(start))
    files.push({ seed: `seq-${i}`, address: put.address })
  }
  result.put = percentiles(putTimes)

  let next = 0
  let start = process.hrtime.bigint()
  const total = OPS * 2
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < total) {
        const i = next++
        await putStream(writer, `par-${i}`, FILE, `par-${i}`, agent)
      }
    }),
  )
  result.putOpsPerSecond = total / (ms(start) / 1000)

  const caps = []
  for (const f of files) caps.push({ ...f, capability: (await api(writer, 'GET', `/v1/files/${f.address}/share`, undefined, agent)).capability })
  const getTimes = []
  for (const f of caps) {
    const begin = process.hrtime.bigint()
    const got = await getStream(reader, f.capability, agent)
    getTimes.push(ms(begin))
    if (got.size !== FILE) throw new Error(`get returned ${got.size} bytes`)
  }
  if ((await getStream(reader, caps[0].capability, agent)).sha256 !== patternSha256(caps[0].seed, FILE)) throw new Error('get returned other bytes')
  result.get = percentiles(getTimes)

  next = 0
  start = process.hrtime.bigint()
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < total) {
        const i = next++
        await getStream(reader, caps[i % caps.length].capability, agent)
      }
    }),
  )
  result.getOpsPerSecond = total / (ms(start) / 1000)
} finally {
  agent.destroy()
  await cluster.stop()
}

// Floors: a put is durable on this node and its holders (one fsync each, in parallel) after at
// least one round trip; a get on another node crosses the API and then the network.
const rtt = limits.tcpRoundTrip.p50 / 1000
const putFloor = limits.fsync4k.p50 / 1000 + rtt
const getFloor = 2 * rtt
const kib = `${(FILE / 1024).toFixed(0)} KiB`
const rows = [
  { name: `${kib} put latency p50 (HTTP, ${REPLICAS} holders)`, value: result.put.p50, unit: 'ms', limit: putFloor, ratio: putFloor / result.put.p50, note: 'floor: fsync 4 KiB + loopback RTT' },
  { name: `${kib} put latency p99`, value: result.put.p99, unit: 'ms' },
  { name: `${kib} put throughput (${CONCURRENCY} in flight)`, value: result.putOpsPerSecond, unit: 'ops/s' },
  { name: `${kib} get latency p50 (another node, by capability)`, value: result.get.p50, unit: 'ms', limit: getFloor, ratio: getFloor / result.get.p50, note: 'floor: 2 loopback RTT' },
  { name: `${kib} get latency p99`, value: result.get.p99, unit: 'ms' },
  { name: `${kib} get throughput (${CONCURRENCY} in flight)`, value: result.getOpsPerSecond, unit: 'ops/s' },
  { name: 'limit: 4 KiB write + fdatasync p50 / p99', value: limits.fsync4k.p50 / 1000, unit: 'ms', note: `p99 ${(limits.fsync4k.p99 / 1000).toFixed(2)} ms` },
  { name: 'limit: loopback TCP round trip p50 / p99', value: rtt, unit: 'ms', note: `p99 ${(limits.tcpRoundTrip.p99 / 1000).toFixed(2)} ms` },
]
if (json) console.log(JSON.stringify({ bench: 'latency', fileBytes: FILE, ops: OPS, concurrency: CONCURRENCY, nodes: NODES, replicas: REPLICAS, ...result, limits, rows }))
else printTable(`latency — ${kib} files, ${NODES} daemons, ${OPS} sequential + ${OPS * 2} concurrent requests per kind`, rows)
