#!/usr/bin/env node
// One node, no peers: a file streamed through the server's put path (chunk, seal with AES-256-CTR,
// hash, store with verify-on-write and fsync) and read back through its get path (read, verify,
// decrypt, whole-file SHA-256 check), next to what the same CPU work costs in node:crypto alone
// and to the disk, measured in the same run.
//
//   pnpm build && node bench/local.mjs [--json]
//   env: BENCH_BYTES (default 1 GiB), BENCH_WARMUP_BYTES (64 MiB), BENCH_DIR (folder for the store, default
//        the OS temp dir)
import { mkdtemp, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { printTable, rssSampler } from './lib/format.mjs'
import { patternStream, patternSha256 } from './lib/data.mjs'
import { runLimits } from './lib/limits.mjs'
import { benchBase } from './lib/work-dir.mjs'

const dist = (pkg) => new URL(`../packages/${pkg}/dist/index.js`, import.meta.url).href
// As the `cas` CLI does: before anything else loads.
const { tuneGarbageCollector } = await import(new URL('../packages/server/dist/gc-tuning.js', import.meta.url).href)
tuneGarbageCollector()
const { createNode, tuneAllocator, watchOldSpace } = await import(dist('server'))
// As the `cas` daemon does: freed memory stays mapped for the next frames and blobs, and the old
// space's garbage is collected as it piles up.
tuneAllocator()
watchOldSpace()
const { tcpTransport } = await import(dist('p2p'))
const { openStore } = await import(dist('store'))
const { generateKey, generateKeyPair } = await import(dist('crypto'))

const MiB = 1024 * 1024
const BYTES = Number(process.env.BENCH_BYTES ?? 1024 * MiB)
const WARMUP_BYTES = Number(process.env.BENCH_WARMUP_BYTES ?? 64 * MiB)
const baseDir = benchBase()
const json = process.argv.includes('--json')
const seconds = (start) => Number(process.hrtime.bigint() - start) / 1e9

const limits = await runLimits({ bytes: Math.min(BYTES, 512 * MiB), dir: baseDir })
const expected = patternSha256('local', BYTES)
const dir = await mkdtemp(join(baseDir, 'cas-bench-local-'))
const rss = rssSampler()
let putRate, getRate
try {
  const store = await openStore({ root: join(dir, 'store') })
  const node = await createNode({
    transport: tcpTransport(),
    store,
    staticKey: generateKeyPair(),
    ownerKey: generateKey(),
    networkKey: generateKey(),
    listen: ['127.0.0.1:0'],
    replicas: 1,
    catalogPath: join(dir, 'catalog'),
  })
  await node.start()
  const drain = async (stream) => {
    let size = 0
    await pipeline(stream, new Writable({ write: (chunk, _enc, cb) => ((size += chunk.length), cb()) }))
    return size
  }
  try {
    // A first, smaller put and get: the figures are then a running node's, not a fresh process's
    // whose first seconds go to compiling the hot paths.
    if (WARMUP_BYTES > 0) {
      await node.put(patternStream('warm-up', WARMUP_BYTES), { name: 'warm-up' })
      await drain((await node.get('warm-up')).stream)
    }
    let start = process.hrtime.bigint()
    const put = await node.put(patternStream('local', BYTES), { name: 'bench' })
    putRate = BYTES / MiB / seconds(start)
    if (put.sha256 !== expected) throw new Error('put hashed the file differently')

    start = process.hrtime.bigint()
    const size = await drain((await node.get('bench')).stream)
    getRate = BYTES / MiB / seconds(start)
    if (size !== BYTES) throw new Error(`get returned ${size} bytes, expected ${BYTES}`)
  } finally {
    await node.stop()
    await store.close()
  }
} finally {
  await rm(dir, { recursive: true, force: true })
}
const peak = rss.stop()

// The work a put cannot avoid per byte: hash the file, hash each chunk (its key derives from that),
// encrypt it, hash the blob (its id): 3 SHA-256 + 1 AES-CTR on one thread, the disk write beside
// it. A get must verify each blob, decrypt it and hash the file: 2 SHA-256 + 1 AES-CTR.
const putCpu = 1 / (3 / limits.sha256 + 1 / limits.aesCtr)
const putLimit = Math.min(putCpu, limits.diskWrite)
const getLimit = 1 / (2 / limits.sha256 + 1 / limits.aesCtr)
// The single-thread serial model: hash the chunk, encrypt it, hash the blob, write it, one after the other.
const serialLimit = 1 / (2 / limits.sha256 + 1 / limits.aesCtr + 1 / limits.diskWrite)
const rows = [
  { name: 'local put: chunk, seal, store (1 node)', value: putRate, unit: 'MiB/s', limit: putLimit, ratio: putRate / putLimit, note: `limit: min(3 SHA-256 + AES-CTR, disk); ${WARMUP_BYTES > 0 ? `after a ${(WARMUP_BYTES / MiB).toFixed(0)} MiB warm-up` : 'no warm-up'}` },
  { name: 'local put against the single-thread serial limit', value: putRate, unit: 'MiB/s', limit: serialLimit, ratio: putRate / serialLimit, note: 'limit: 1/(2/SHA-256 + 1/AES-CTR + 1/disk)' },
  { name: 'local get: read, verify, decrypt (1 node)', value: getRate, unit: 'MiB/s', limit: getLimit, ratio: getRate / getLimit, note: 'limit: 2 SHA-256 + AES-CTR' },
  { name: 'local peak RSS (put + get, one process)', value: peak, unit: 'MiB' },
]
if (json) console.log(JSON.stringify({ bench: 'local', bytes: BYTES, putMiBps: putRate, getMiBps: getRate, peakRssMiB: peak, limits, rows }))
else printTable(`local — ${(BYTES / MiB).toFixed(0)} MiB through one node`, rows)
