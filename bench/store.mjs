// Blob store speed: put of ready 1 MiB blobs (one at a time and several in flight), of 64 MiB
// blobs (where the per-blob fsync no longer dominates), and get,
// next to this machine's own SHA-256 and disk-write rates measured by this script, and the serial
// limit 1 / (1/SHA-256 + 1/disk write) a put that hashes and writes every byte cannot beat on one
// thread. Also the per-blob durability floor: 1 MiB files each written and fdatasync'ed.
// Usage: node bench/store.mjs [--json]
//   BENCH_BYTES        volume (default 1 GiB)
//   BENCH_CONCURRENCY  puts in flight for the concurrent row (default 4)
//   BENCH_DIR          folder for the store and the disk test (default the OS temp dir)
import { createHash } from 'node:crypto'
import { mkdtemp, open, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { openStore } from '../packages/store/dist/index.js'
import { printTable, rssSampler } from './lib/format.mjs'
import { diskWriteRate, sha256Rate } from './lib/limits.mjs'
import { benchBase } from './lib/work-dir.mjs'

const MiB = 1024 * 1024
const total = Math.max(MiB, Number(process.env.BENCH_BYTES ?? 1024 * MiB))
const concurrency = Math.max(1, Number(process.env.BENCH_CONCURRENCY ?? 4))
const baseDir = benchBase()
const json = process.argv.includes('--json')
const blobs = Math.floor(total / MiB)

const seconds = (start) => Number(process.hrtime.bigint() - start) / 1e9
const rateOf = (bytes, start) => bytes / MiB / seconds(start)

// Blob i is one random MiB with its first 8 bytes set to (run, i): distinct blobs from one buffer per
// worker, so memory does not grow with the volume. Ids are computed before the clock starts.
const base = Buffer.alloc(MiB)
for (let i = 0; i < MiB; i += 4) base.writeUInt32LE((Math.random() * 2 ** 32) >>> 0, i)
const run = (Math.random() * 2 ** 32) >>> 0
function fill(buffer, i) {
  buffer.writeUInt32LE(run, 0)
  buffer.writeUInt32LE(i, 4)
  return buffer
}

/** 1 MiB files, each written and fdatasync'ed: what per-blob durability costs the disk. */
async function perFileSyncRate(count, dir) {
  const folder = await mkdtemp(join(dir, 'cas-bench-files-'))
  try {
    const start = process.hrtime.bigint()
    for (let i = 0; i < count; i++) {
      const handle = await open(join(folder, String(i)), 'wx')
      await handle.write(base, 0, MiB, 0)
      await handle.datasync()
      await handle.close()
    }
    return rateOf(count * MiB, start)
  } finally {
    await rm(folder, { recursive: true, force: true })
  }
}

async function putAll(store, ids, first, inFlight) {
  let next = 0
  const start = process.hrtime.bigint()
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      const buffer = Buffer.from(base)
      while (next < ids.length) {
        const i = next++
        const { stored } = await store.put(ids[i], fill(buffer, first + i))
        if (!stored) throw new Error(`blob ${i} was already stored`)
      }
    }),
  )
  return rateOf(ids.length * MiB, start)
}

/** Serial put of large blobs: the hash-while-writing pipeline with the per-blob sync amortised. */
async function putLarge(store, count, size) {
  const buffer = Buffer.alloc(size)
  for (let at = 0; at < size; at += MiB) base.copy(buffer, at)
  const largeIds = []
  for (let i = 0; i < count; i++) largeIds.push(createHash('sha256').update(fill(buffer, 4 * blobs + i)).digest('hex'))
  const start = process.hrtime.bigint()
  for (let i = 0; i < count; i++) {
    const { stored } = await store.put(largeIds[i], fill(buffer, 4 * blobs + i))
    if (!stored) throw new Error(`large blob ${i} was already stored`)
  }
  return rateOf(count * size, start)
}

async function getAll(store, ids) {
  const start = process.hrtime.bigint()
  let bytes = 0
  for (const id of ids) bytes += (await store.get(id)).byteLength
  return rateOf(bytes, start)
}

// The limits are measured before and after the store runs and averaged: on a shared machine they
// drift, and a ratio against a single measurement taken at another moment would mislead.
const shaBefore = sha256Rate(total)
const diskBefore = await diskWriteRate(total, baseDir)
const perFile = await perFileSyncRate(Math.min(blobs, 256), baseDir)

const ids = []
{
  const buffer = Buffer.from(base)
  for (let i = 0; i < 2 * blobs; i++) ids.push(createHash('sha256').update(fill(buffer, i)).digest('hex'))
}
const serialIds = ids.slice(0, blobs)
const concurrentIds = ids.slice(blobs)

const root = await mkdtemp(join(baseDir, 'cas-bench-store-'))
const rss = rssSampler()
const LARGE = 64 * MiB
const largeCount = Math.max(1, Math.floor(total / LARGE))
let putSerial, putConcurrent, putConcurrentCpu, putLargeRate, get, count, directIo
try {
  const store = await openStore({ root })
  putSerial = await putAll(store, serialIds, 0, 1)
  const cpuBefore = process.cpuUsage()
  putConcurrent = await putAll(store, concurrentIds, blobs, concurrency)
  const { user, system } = process.cpuUsage(cpuBefore)
  putConcurrentCpu = (user + system) / 1000 / concurrentIds.length
  get = await getAll(store, serialIds)
  putLargeRate = await putLarge(store, largeCount, LARGE)
  count = (await store.stat()).count
  directIo = store.directIo
  await store.close()
} finally {
  await rm(root, { recursive: true, force: true })
}
const peakRss = rss.stop()
const shaAfter = sha256Rate(total)
const diskAfter = await diskWriteRate(total, baseDir)
const sha256 = (shaBefore + shaAfter) / 2
const disk = (diskBefore + diskAfter) / 2
const serialLimit = 1 / (1 / sha256 + 1 / disk)
const spread = (a, b) => `before ${a.toFixed(0)}, after ${b.toFixed(0)}`
if (count !== 2 * blobs + largeCount) throw new Error(`store holds ${count} blobs, expected ${2 * blobs + largeCount}`)

const rows = [
  { name: 'node:crypto SHA-256 (1 MiB updates)', value: sha256, unit: 'MiB/s', note: spread(shaBefore, shaAfter) },
  { name: 'disk write, one file, fsync at end', value: disk, unit: 'MiB/s', note: `${spread(diskBefore, diskAfter)}; the faster of buffered and O_DIRECT` },
  { name: 'disk write, 1 MiB files, fdatasync each (buffered)', value: perFile, unit: 'MiB/s' },
  { name: 'serial limit 1/(1/SHA-256 + 1/disk)', value: serialLimit, unit: 'MiB/s' },
  { name: 'store put, 1 MiB blobs, 1 in flight', value: putSerial, unit: 'MiB/s', limit: serialLimit, ratio: putSerial / serialLimit },
  {
    name: `store put, 1 MiB blobs, ${concurrency} in flight`,
    value: putConcurrent,
    unit: 'MiB/s',
    limit: serialLimit,
    ratio: putConcurrent / serialLimit,
  },
  {
    name: `store put, 1 MiB blobs, ${concurrency} in flight: CPU`,
    value: putConcurrentCpu,
    unit: 'ms/MiB',
    note: 'all threads of the process (hash, libuv pool, collector, kernel): per-blob overhead beside the hash',
  },
  {
    name: `store put, 64 MiB blobs (${largeCount}), 1 in flight`,
    value: putLargeRate,
    unit: 'MiB/s',
    limit: serialLimit,
    ratio: putLargeRate / serialLimit,
  },
  { name: `store get, 1 MiB blobs (${directIo ? 'O_DIRECT reads' : 'page cache warm'})`, value: get, unit: 'MiB/s' },
  { name: 'peak RSS', value: peakRss, unit: 'MiB' },
]

if (json) {
  console.log(
    JSON.stringify({
      bench: 'store',
      bytes: total,
      concurrency,
      sha256,
      sha256Runs: [shaBefore, shaAfter],
      diskWrite: disk,
      diskWriteRuns: [diskBefore, diskAfter],
      diskWritePerFileSync: perFile,
      serialLimit,
      putSerial,
      putConcurrent,
      putConcurrentCpuMsPerMiB: putConcurrentCpu,
      putLarge: putLargeRate,
      get,
      peakRssMiB: peakRss,
      directIo,
      rows,
    }),
  )
} else {
  printTable(`store — ${blobs} blobs of 1 MiB (${(total / MiB).toFixed(0)} MiB) per put run`, rows)
}
