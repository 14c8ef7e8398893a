#!/usr/bin/env node
// Memory stays flat for any file size: a large file (default 5 GiB) streamed into a network of
// real `cas daemon` processes through the HTTP API, then read back on another node, with the peak
// resident memory of every daemon for each phase, beside an idle daemon's. The file is generated
// on the fly and hashed on the way out: no file of that size is ever written to disk by the
// benchmark itself (the daemons store their copies, so the disk needs room for those).
//
//   pnpm build && node bench/memory.mjs [--json]
//   env: BENCH_MEMORY_BYTES (default 5 × BENCH_BYTES, or 5 GiB), BENCH_NODES (4), BENCH_REPLICAS (3),
//        BENCH_DIR (folder for the daemons' roots, default the OS temp dir)
import { statfs, writeFile } from 'node:fs/promises'
import { api, getStream, processMemory, putStream, startDaemons } from './lib/daemons.mjs'
import { patternSha256 } from './lib/data.mjs'
import { figure, printTable } from './lib/format.mjs'
import { benchBase } from './lib/work-dir.mjs'

const MiB = 1024 * 1024
const GiB = 1024 * MiB
const env = (name, fallback) => (process.env[name] ? Number(process.env[name]) : fallback)
const NODES = env('BENCH_NODES', 4)
const REPLICAS = env('BENCH_REPLICAS', 3)
const baseDir = benchBase()
const json = process.argv.includes('--json')
let bytes = env('BENCH_MEMORY_BYTES', process.env.BENCH_BYTES ? 5 * Number(process.env.BENCH_BYTES) : 5 * GiB)
const notes = []

// The daemons keep the putter's copy plus one per holder: make sure the disk has room, else scale down.
const fs = await statfs(baseDir)
const free = fs.bavail * fs.bsize
// The file plus the one a fifth its size put first (for the growth of the peaks with the size).
const needed = (copies) => copies * 1.2 * (REPLICAS + 1) + 2 * GiB
if (free < needed(bytes)) {
  const fits = Math.floor((free - 2 * GiB) / 1.2 / (REPLICAS + 1) / GiB) * GiB
  if (fits < GiB) throw new Error(`only ${(free / GiB).toFixed(1)} GiB free in ${baseDir}: not enough for the memory benchmark`)
  notes.push(`scaled down from ${(bytes / GiB).toFixed(1)} GiB: ${(free / GiB).toFixed(1)} GiB free`)
  bytes = fits
}
// "Flat": the peaks grow by no more than 50 MB from a file to one five times its size.
const FLAT_MIB = 50e6 / MiB
const smallBytes = Math.max(MiB, Math.floor(bytes / 5 / MiB) * MiB)
const sizeOf = (b) => (b >= GiB ? `${(b / GiB).toFixed(1)} GiB` : `${(b / MiB).toFixed(0)} MiB`)
const size = sizeOf(bytes)
const seconds = (start) => Number(process.hrtime.bigint() - start) / 1e9

/** Resets the kernel's peak-RSS mark of a process (Linux: clear_refs 5), so each phase gets its own peak. */
async function resetPeak(pid) {
  try {
    await writeFile(`/proc/${pid}/clear_refs`, '5')
    return true
  } catch {
    return false
  }
}

const cluster = await startDaemons({ count: NODES, replicas: REPLICAS, dir: baseDir })
const idle = []
const phases = {}
try {
  for (const n of cluster.nodes) idle.push((await processMemory(n.pid)).rssMiB)
  let separate = true
  for (const n of cluster.nodes) separate = (await resetPeak(n.pid)) && separate
  if (!separate) notes.push('peaks cannot be reset here: each figure is the peak since the daemon started')

  // A file a fifth the size first: memory that stays flat does not grow from that one to the big one.
  const small = await putStream(cluster.nodes[0], 'memory-small', smallBytes, 'small.bin')
  if (small.size !== smallBytes) throw new Error('the daemon stored the small file short')
  phases.small = { peaks: await Promise.all(cluster.nodes.map(async (n) => (await processMemory(n.pid)).peakMiB)) }
  for (const n of cluster.nodes) await resetPeak(n.pid)

  const expected = patternSha256('memory', bytes)
  let start = process.hrtime.bigint()
  const put = await putStream(cluster.nodes[0], 'memory', bytes, 'big.bin')
  phases.put = { seconds: seconds(start), peaks: await Promise.all(cluster.nodes.map(async (n) => (await processMemory(n.pid)).peakMiB)) }
  if (put.sha256 !== expected) throw new Error('the daemon hashed the file differently')

  for (const n of cluster.nodes) await resetPeak(n.pid)
  const { capability } = await api(cluster.nodes[0], 'GET', `/v1/files/${put.address}/share`)
  start = process.hrtime.bigint()
  const got = await getStream(cluster.nodes[1], capability)
  phases.get = { seconds: seconds(start), peaks: await Promise.all(cluster.nodes.map(async (n) => (await processMemory(n.pid)).peakMiB)) }
  if (got.size !== bytes || got.sha256 !== expected) throw new Error('get returned other bytes')
} finally {
  await cluster.stop()
}
const client = (await processMemory(process.pid)).peakMiB

const idleMean = idle.reduce((a, b) => a + b, 0) / idle.length
const growth = Math.max(...phases.put.peaks.map((peak, i) => peak - phases.small.peaks[i]))
const rows = [
  { name: `put ${size} on node 1 (HTTP, streamed)`, value: bytes / MiB / phases.put.seconds, unit: 'MiB/s' },
  ...phases.put.peaks.map((peak, i) => ({
    name: `  peak RSS node ${i + 1}${i === 0 ? ' (putter)' : ''} during the put`,
    value: peak,
    unit: 'MiB',
    limit: idle[i],
    ratio: peak / idle[i],
    note: `limit: idle daemon; ${((peak / (bytes / MiB)) * 100).toFixed(2)}% of the file`,
  })),
  { name: `get ${size} on node 2 (HTTP, streamed)`, value: bytes / MiB / phases.get.seconds, unit: 'MiB/s' },
  ...phases.get.peaks.map((peak, i) => ({
    name: `  peak RSS node ${i + 1}${i === 1 ? ' (reader)' : ''} during the get`,
    value: peak,
    unit: 'MiB',
    limit: idle[i],
    ratio: peak / idle[i],
    note: 'limit: idle daemon',
  })),
  {
    name: `peak RSS growth from a ${sizeOf(smallBytes)} put to the ${size} put`,
    value: growth,
    unit: 'MiB',
    limit: FLAT_MIB,
    ratio: growth / FLAT_MIB,
    note: `largest over the daemons; flat means within 50 MB; ${sizeOf(smallBytes)} peaks ${phases.small.peaks.map((m) => figure(m)).join(' / ')}`,
  },
  { name: 'peak RSS of the benchmark client', value: client, unit: 'MiB', note: notes.join('; ') || undefined },
]
if (json) {
  console.log(JSON.stringify({ bench: 'memory', bytes, nodes: NODES, replicas: REPLICAS, idleRssMiB: idle, smallBytes, smallPutPeakRssMiB: phases.small.peaks, putPeakRssMiB: phases.put.peaks, getPeakRssMiB: phases.get.peaks, putSeconds: phases.put.seconds, getSeconds: phases.get.seconds, notes, rows }))
} else {
  printTable(`memory — ${size} through ${NODES} daemons (idle daemon ${figure(idleMean)} MiB)`, rows)
}
