#!/usr/bin/env node
// A 4-node CAS network of separate processes over loopback TCP: put of BENCH_BYTES (default 1 GiB)
// on node 1 with 3 holders, then a get of the same file on node 2 reading every blob from remote
// holders (its own store is skipped). MiB/s and peak RSS per process, beside the raw limits of the
// machine measured in the same run.
//
//   pnpm turbo run build --filter @cas/server... && node bench/cluster.mjs [--json]
//   env: BENCH_BYTES (default 1 GiB), BENCH_NODES (4), BENCH_REPLICAS (3), BENCH_LIMIT_BYTES (512 MiB),
//        BENCH_WARMUP_BYTES (64 MiB), BENCH_PUT_WINDOW, BENCH_GET_WINDOW, BENCH_NODE_FLAGS (extra node/V8 flags for the node processes,
//        e.g. "--initial-old-space-size=256"), BENCH_PROF (a folder: --cpu-prof of every node process),
//        BENCH_ALLOCATOR=untuned (glibc's malloc as it comes, a heap per thread included, to compare with the daemon's tuning),
//        BENCH_OLD_SPACE=unwatched (no collection as the old space grows, to compare with the daemon)
// Besides MiB/s it reports CPU milliseconds per MiB summed over the node processes (all their threads:
// GC helpers and libuv's pool included): on a shared machine that stays comparable when MiB/s does not.
import { fork } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { availableParallelism } from 'node:os'
import { join } from 'node:path'
import { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { fileURLToPath } from 'node:url'
import { printTable, rssSampler } from './lib/format.mjs'
import { measureLimits } from './lib/limits.mjs'
import { benchBase } from './lib/work-dir.mjs'

const MiB = 1024 * 1024
const env = (name, fallback) => (process.env[name] ? Number(process.env[name]) : fallback)
const BYTES = env('BENCH_BYTES', 1024 * MiB)
const NODES = env('BENCH_NODES', 4)
const REPLICAS = env('BENCH_REPLICAS', 3)
const LIMIT_BYTES = env('BENCH_LIMIT_BYTES', Math.min(BYTES, 512 * MiB))
const WARMUP_BYTES = env('BENCH_WARMUP_BYTES', 64 * MiB)
const json = process.argv.includes('--json')
const CORES = availableParallelism()
const here = fileURLToPath(import.meta.url)
const dist = (pkg) => new URL(`../packages/${pkg}/dist/index.js`, import.meta.url).href

// ---- node process -----------------------------------------------------------------------------

async function nodeProcess() {
  // As the `cas` CLI does: before anything else loads.
  const { tuneGarbageCollector } = await import(new URL('../packages/server/dist/gc-tuning.js', import.meta.url).href)
  tuneGarbageCollector()
  const { createNode, tuneAllocator, watchOldSpace } = await import(dist('server'))
  // As the `cas` daemon does: freed memory stays mapped for the next frames and blobs, and the old
  // space's garbage is collected as it piles up.
  if (process.env.BENCH_ALLOCATOR !== 'untuned') tuneAllocator()
  if (process.env.BENCH_OLD_SPACE !== 'unwatched') watchOldSpace()
  const { tcpTransport } = await import(dist('p2p'))
  const { openStore } = await import(dist('store'))
  const { generateKeyPair, generateKey } = await import(dist('crypto'))
  const setup = JSON.parse(process.env.BENCH_SETUP)
  const rss = rssSampler(100)
  const store = await openStore({ root: join(setup.dir, 'store') })
  const node = await createNode({
    transport: tcpTransport(),
    store,
    staticKey: generateKeyPair(),
    ownerKey: generateKey(),
    networkKey: Buffer.from(setup.networkKey, 'hex'),
    listen: ['127.0.0.1:0'],
    bootstrap: setup.bootstrap,
    replicas: setup.replicas,
    catalogPath: join(setup.dir, 'catalog'),
    timing: { gossipIntervalMs: 250 },
    ...(process.env.BENCH_PUT_WINDOW ? { putWindow: Number(process.env.BENCH_PUT_WINDOW) } : {}),
    ...(process.env.BENCH_GET_WINDOW ? { getWindow: Number(process.env.BENCH_GET_WINDOW) } : {}),
  })
  await node.start()

  const handlers = {
    async peers() {
      return node.peers().filter((p) => p.state === 'alive').length
    },
    async put({ bytes }) {
      // Unique 1 MiB chunks (a counter in each), generated on the fly: nothing is read from disk.
      const template = randomBytes(MiB)
      let made = 0
      const source = new Readable({
        read() {
          if (made >= bytes) return void this.push(null)
          const n = Math.min(MiB, bytes - made)
          const piece = Buffer.allocUnsafe(n)
          template.copy(piece, 0, 0, n)
          piece.writeDoubleBE(made, 0)
          made += n
          this.push(piece)
        },
      })
      const start = process.hrtime.bigint()
      const result = await node.put(source, { name: 'bench' })
      const seconds = Number(process.hrtime.bigint() - start) / 1e9
      return { seconds, result, capability: await node.share(result.address) }
    },
    async get({ ref, remoteOnly }) {
      const start = process.hrtime.bigint()
      const { stream } = await node.get(ref, { remoteOnly })
      let size = 0
      await pipeline(
        stream,
        new Writable({
          write(chunk, _enc, cb) {
            size += chunk.length
            cb()
          },
        }),
      )
      const seconds = Number(process.hrtime.bigint() - start) / 1e9
      return { seconds, size }
    },
    async cpu() {
      const { user, system } = process.cpuUsage()
      return (user + system) / 1000
    },
    async rss() {
      return { peakMiB: rss.peakMiB, nowMiB: process.memoryUsage.rss() / MiB }
    },
    async stop() {
      await node.stop()
      await store.close()
      setImmediate(() => process.exit(0))
      return {}
    },
  }
  process.on('message', async ({ id, cmd, args }) => {
    try {
      process.send({ id, ok: await handlers[cmd](args) })
    } catch (err) {
      process.send({ id, error: String(err?.stack ?? err) })
    }
  })
  process.send({ ready: { id: node.id, addresses: node.addresses } })
}

// ---- coordinator ------------------------------------------------------------------------------

function spawnNode(setup, oneArena) {
  const execArgv = [
    ...(process.env.BENCH_NODE_FLAGS ? process.env.BENCH_NODE_FLAGS.split(/\s+/).filter(Boolean) : []),
    ...(process.env.BENCH_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROF}`] : []),
  ]
  // One malloc heap for all threads, as the `cas` CLI starts its node processes (execWithOneArena,
  // which a process with an IPC channel cannot use on itself); a MALLOC_ARENA_MAX given here wins.
  const arena = process.env.BENCH_ALLOCATOR === 'untuned' ? {} : oneArena
  const child = fork(here, ['--node'], { execArgv, env: { ...arena, ...process.env, BENCH_SETUP: JSON.stringify(setup) }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const pending = new Map()
  let next = 0
  const ready = new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`node process exited with ${code}`)))
    child.on('message', (m) => {
      if (m.ready) return resolve(m.ready)
      const p = pending.get(m.id)
      pending.delete(m.id)
      if (m.error) p.reject(new Error(m.error))
      else p.resolve(m.ok)
    })
  })
  const call = (cmd, args) =>
    new Promise((resolve, reject) => {
      const id = next++
      pending.set(id, { resolve, reject })
      child.send({ id, cmd, args })
    })
  return { child, ready, call }
}

async function main() {
  const limits = await measureLimits({ bytes: LIMIT_BYTES })
  const root = await mkdtemp(join(benchBase(), 'cas-bench-cluster-'))
  const networkKey = randomBytes(32).toString('hex')
  const { ONE_ARENA } = await import(new URL('../packages/server/dist/one-arena.js', import.meta.url).href)
  const nodes = []
  try {
    for (let i = 0; i < NODES; i++) {
      const n = spawnNode({ dir: join(root, `n${i}`), networkKey, replicas: REPLICAS, bootstrap: nodes[0] ? nodes[0].info.addresses : [] }, ONE_ARENA)
      n.info = await n.ready
      nodes.push(n)
    }
    for (let tries = 0; ; tries++) {
      const counts = await Promise.all(nodes.map((n) => n.call('peers')))
      if (counts.every((c) => c === NODES - 1)) break
      if (tries > 200) throw new Error(`membership did not converge: ${counts}`)
      await new Promise((r) => setTimeout(r, 100))
    }

    // A first, smaller put and get: the figures are then those of running nodes, not of fresh
    // processes whose first seconds go to compiling the hot paths (several % of a 512 MiB put).
    if (WARMUP_BYTES > 0) {
      const warm = await nodes[0].call('put', { bytes: WARMUP_BYTES })
      await nodes[1].call('get', { ref: warm.capability, remoteOnly: true })
    }

    const cpu = () => Promise.all(nodes.map((n) => n.call('cpu')))
    // ms of CPU per MiB moved, per node process, between two readings.
    const perMiB = (before, after) => after.map((ms, i) => (ms - before[i]) / (BYTES / MiB))
    const sum = (values) => values.reduce((a, b) => a + b, 0)
    const cpu0 = await cpu()
    const put = await nodes[0].call('put', { bytes: BYTES })
    const cpu1 = await cpu()
    const get = await nodes[1].call('get', { ref: put.capability, remoteOnly: true })
    const cpu2 = await cpu()
    const putCpuByNode = perMiB(cpu0, cpu1)
    const getCpuByNode = perMiB(cpu1, cpu2)
    const putCpu = sum(putCpuByNode)
    const getCpu = sum(getCpuByNode)
    const byNode = (values) => `per node ${values.map((v) => v.toFixed(1)).join(' / ')}`
    if (get.size !== BYTES) throw new Error(`get returned ${get.size} bytes, expected ${BYTES}`)
    const rss = await Promise.all(nodes.map((n) => n.call('rss')))

    const putRate = BYTES / MiB / put.seconds
    const getRate = BYTES / MiB / get.seconds
    const rows = [
      { name: `put ${fmtBytes(BYTES)} on node 1 (${put.result.replicas} holders confirmed)`, value: putRate, unit: 'MiB/s', note: `${put.seconds.toFixed(1)} s, ${WARMUP_BYTES > 0 ? `after a ${fmtBytes(WARMUP_BYTES)} warm-up` : 'no warm-up'}; target >= 100` },
      { name: 'get on node 2 from remote holders', value: getRate, unit: 'MiB/s', note: `${get.seconds.toFixed(1)} s; target >= 300` },
      { name: 'CPU of put, all node processes', value: putCpu, unit: 'ms/MiB', note: `${CORES} cores allow at most ${((CORES * 1000) / putCpu).toFixed(0)} MiB/s; ${byNode(putCpuByNode)}` },
      { name: 'CPU of get, all node processes', value: getCpu, unit: 'ms/MiB', note: `${CORES} cores allow at most ${((CORES * 1000) / getCpu).toFixed(0)} MiB/s; ${byNode(getCpuByNode)}` },
      ...rss.map((r, i) => ({ name: `peak RSS node ${i + 1}`, value: r.peakMiB, unit: 'MiB', note: `now ${r.nowMiB.toFixed(0)} MiB; target < 200 MB (${(200e6 / MiB).toFixed(1)} MiB)` })),
      { name: 'limit: SHA-256 (1 MiB updates)', value: limits.sha256, unit: 'MiB/s' },
      { name: 'limit: AES-256-CTR (64 KiB updates)', value: limits.aesCtr, unit: 'MiB/s' },
      { name: 'limit: loopback TCP between processes', value: limits.tcpLoopback, unit: 'MiB/s' },
      { name: 'limit: disk write + fsync', value: limits.diskWrite, unit: 'MiB/s', note: 'the faster of buffered and O_DIRECT' },
    ]
    if (json) {
      console.log(
        JSON.stringify({
          bench: 'cluster',
          bytes: BYTES,
          nodes: NODES,
          replicas: REPLICAS,
          putMiBps: putRate,
          getMiBps: getRate,
          putCpuMsPerMiB: putCpu,
          getCpuMsPerMiB: getCpu,
          putCpuMsPerMiBByNode: putCpuByNode,
          getCpuMsPerMiBByNode: getCpuByNode,
          putReplicas: put.result.replicas,
          peakRssMiB: rss.map((r) => r.peakMiB),
          limits,
        }),
      )
    } else {
      printTable(`CAS cluster: ${NODES} processes, ${REPLICAS} holders per blob, ${fmtBytes(BYTES)}`, rows)
    }
  } finally {
    await Promise.all(nodes.map((n) => n.call('stop').catch(() => n.child.kill())))
    await rm(root, { recursive: true, force: true })
  }
}

function fmtBytes(n) {
  return n >= 1024 * MiB ? `${(n / 1024 / MiB).toFixed(n % (1024 * MiB) ? 1 : 0)} GiB` : `${(n / MiB).toFixed(0)} MiB`
}

if (process.argv.includes('--node')) await nodeProcess()
else await main()
