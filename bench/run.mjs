// `pnpm bench`: measures the machine's own limits once, runs every benchmark of the project in
// its own process (each with --json), and prints ONE table: every figure beside the limit it is
// bound by, measured in the same run, and the ratio to it. With --json, one JSON document instead.
//
//   pnpm bench                              # 1 GiB per throughput run, 5 GiB for the memory run
//   BENCH_BYTES=268435456 pnpm bench        # quick run: 256 MiB (memory run: 1.25 GiB)
//   BENCH_ONLY=local,latency pnpm bench     # some of them
//   node bench/run.mjs --json > bench.json  # for tracking
import { spawn } from 'node:child_process'
import { cpus, freemem, loadavg, totalmem, release } from 'node:os'
import { dirname, join } from 'node:path'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { figure } from './lib/format.mjs'
import { fsyncLatency, measureLimits, tcpRoundTrip } from './lib/limits.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const MiB = 1024 * 1024
const json = process.argv.includes('--json')
const BYTES = Number(process.env.BENCH_BYTES ?? 1024 * MiB)
const order = ['crypto', 'store', 'local', 'p2p', 'cluster', 'latency', 'memory', 'membership']
const only = process.env.BENCH_ONLY?.split(',').filter(Boolean)
const picked = order.filter((name) => existsSync(join(here, `${name}.mjs`)) && (!only || only.includes(name)))
const log = (line) => process.stderr.write(`${line}\n`)
const load = () => loadavg().map((l) => l.toFixed(2)).join(' ')

const startedAt = new Date()
const loadBefore = load()
log(`bench: measuring this machine's limits (${figure(Math.min(BYTES, 512 * MiB) / MiB)} MiB each; load ${loadBefore})`)
const limits = {
  ...(await measureLimits({ bytes: Math.min(BYTES, 512 * MiB) })),
  fsync4k: await fsyncLatency(200),
  tcpRoundTrip: await tcpRoundTrip(2000),
}

/** Runs one benchmark script with --json; resolves with its JSON (the last line of its stdout). */
function runScript(name) {
  return new Promise((resolve) => {
    const started = Date.now()
    const child = spawn(process.execPath, [join(here, `${name}.mjs`), '--json'], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, BENCH_LIMITS: JSON.stringify(limits) },
    })
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    child.on('close', (code) => {
      const seconds = (Date.now() - started) / 1000
      const line = out.trim().split('\n').pop() ?? ''
      try {
        if (code !== 0) throw new Error(`exit code ${code}`)
        resolve({ name, seconds, result: JSON.parse(line) })
      } catch (err) {
        resolve({ name, seconds, error: String(err.message ?? err) })
      }
    })
  })
}

// ---- normalising every script's JSON into rows ---------------------------------------------------

const ratioTo = (value, limit) => (limit > 0 ? value / limit : undefined)
// The work a put and a get cannot avoid per byte (see bench/local.mjs).
const putCpu = (l) => 1 / (3 / l.sha256 + 1 / l.aesCtr)
const getCpu = (l) => 1 / (2 / l.sha256 + 1 / l.aesCtr)

const normalise = {
  // The 1 MiB-update cipher row shows why every cipher call is fed 64 KiB slices.
  crypto: (r) => r.rows.filter((row) => row.ratio !== undefined || row.name.includes('1 MiB updates')).filter((row) => !row.name.startsWith('node:crypto SHA-256')),
  store: (r) => r.rows.filter((row) => row.name.startsWith('store') || row.name.startsWith('serial')).concat([{ name: 'store peak RSS', value: r.peakRssMiB, unit: 'MiB' }]),
  local: (r) => r.rows,
  latency: (r) => r.rows.filter((row) => !row.name.startsWith('limit')),
  memory: (r) => r.rows,
  membership: (r) => r.rows,
  p2p: (r) => [
    { name: 'secure channel, one-way 1 MiB messages', value: r.p2p, unit: 'MiB/s', limit: r.rawTcp, ratio: ratioTo(r.p2p, r.rawTcp), note: 'limit: raw TCP in the same run' },
    { name: 'secure channel, 1 MiB requests, 8 in flight', value: r.p2pRequests, unit: 'MiB/s', limit: r.rawTcp, ratio: ratioTo(r.p2pRequests, r.rawTcp) },
    ...(r.tls
      ? [
          { name: `node:tls for comparison (${r.tlsCipher})`, value: r.tls, unit: 'MiB/s', limit: r.rawTcp, ratio: ratioTo(r.tls, r.rawTcp) },
          { name: 'secure channel against node:tls', value: r.p2p, unit: 'MiB/s', limit: r.tls, ratio: ratioTo(r.p2p, r.tls), note: 'target ≥ 80%' },
        ]
      : []),
    { name: 'secure channel, small request round trip p50', value: r.pingP50us / 1000, unit: 'ms', limit: limits.tcpRoundTrip.p50 / 1000, ratio: limits.tcpRoundTrip.p50 / r.pingP50us, note: `p99 ${figure(r.pingP99us / 1000)} ms; limit: TCP round trip` },
    { name: 'secure channel, small requests (64 in flight)', value: r.requestsPerSecond, unit: 'req/s' },
  ],
  cluster: (r) => {
    // Against this run's limits (the table's first section), like every other ratio here.
    const l = limits
    const putLimit = Math.min(putCpu(l), l.tcpLoopback / r.replicas, l.diskWrite)
    const getLimit = Math.min(getCpu(l), l.tcpLoopback)
    const size = r.bytes >= 1024 * MiB ? `${figure(r.bytes / 1024 / MiB)} GiB` : `${figure(r.bytes / MiB)} MiB`
    return [
      { name: `${r.nodes}-node network: put ${size}, ${r.putReplicas} holders`, value: r.putMiBps, unit: 'MiB/s', limit: putLimit, ratio: ratioTo(r.putMiBps, putLimit), note: `limit: min(put CPU, TCP/${r.replicas}, disk)` },
      { name: `${r.nodes}-node network: get from remote holders`, value: r.getMiBps, unit: 'MiB/s', limit: getLimit, ratio: ratioTo(r.getMiBps, getLimit), note: 'limit: min(get CPU, TCP)' },
      ...(r.putCpuMsPerMiB === undefined
        ? []
        : [
            { name: `${r.nodes}-node network: CPU of the put, all nodes`, value: r.putCpuMsPerMiB, unit: 'ms/MiB', note: `${cpus().length} cores allow ${figure((cpus().length * 1000) / r.putCpuMsPerMiB)} MiB/s` },
            { name: `${r.nodes}-node network: CPU of the get, all nodes`, value: r.getCpuMsPerMiB, unit: 'ms/MiB', note: `${cpus().length} cores allow ${figure((cpus().length * 1000) / r.getCpuMsPerMiB)} MiB/s` },
          ]),
      { name: `${r.nodes}-node network: peak RSS per node process`, value: Math.max(...r.peakRssMiB), unit: 'MiB', note: r.peakRssMiB.map((m) => figure(m)).join(' / ') },
    ]
  },
}

const limitRows = [
  { name: 'node:crypto SHA-256, 1 MiB updates', value: limits.sha256, unit: 'MiB/s' },
  { name: 'node:crypto AES-256-CTR, 64 KiB updates', value: limits.aesCtr, unit: 'MiB/s' },
  {
    name: 'disk write, 1 MiB writes, fsync at the end',
    value: limits.diskWrite,
    unit: 'MiB/s',
    note: `the faster of buffered ${figure(limits.diskWriteBuffered)} and O_DIRECT ${limits.diskWriteDirect === null ? 'n/a' : figure(limits.diskWriteDirect)}`,
  },
  { name: 'TCP loopback between two processes', value: limits.tcpLoopback, unit: 'MiB/s' },
  { name: '4 KiB write + fdatasync p50', value: limits.fsync4k.p50 / 1000, unit: 'ms', note: `p99 ${figure(limits.fsync4k.p99 / 1000)} ms` },
  { name: 'TCP round trip p50 (64 bytes)', value: limits.tcpRoundTrip.p50 / 1000, unit: 'ms', note: `p99 ${figure(limits.tcpRoundTrip.p99 / 1000)} ms` },
]

const sections = [{ name: 'limits', rows: limitRows }]
const results = []
let failed = false
for (const name of picked) {
  log(`bench: ${name} …`)
  const run = await runScript(name)
  if (run.error !== undefined) {
    failed = true
    log(`bench: ${name} failed: ${run.error}`)
    sections.push({ name, rows: [{ name: `${name} failed`, value: 'FAILED', note: run.error }] })
    results.push({ name, seconds: run.seconds, error: run.error })
    continue
  }
  results.push({ name, seconds: run.seconds, result: run.result })
  sections.push({ name, seconds: run.seconds, rows: (normalise[name] ?? ((r) => r.rows ?? []))(run.result) })
}
const loadAfter = load()

const machine = {
  cpus: cpus().length,
  model: cpus()[0]?.model?.trim(),
  memoryGiB: Number((totalmem() / 1024 ** 3).toFixed(1)),
  freeMemoryGiB: Number((freemem() / 1024 ** 3).toFixed(1)),
  platform: `${process.platform} ${release()}`,
  node: process.version,
}

if (json) {
  const rows = sections.flatMap((s) => s.rows.map((row) => ({ bench: s.name, ...row })))
  console.log(JSON.stringify({ date: startedAt.toISOString(), machine, load: { before: loadBefore, after: loadAfter }, bytes: BYTES, limits, rows, results }, null, 2))
} else {
  printCombined()
}
process.exit(failed ? 1 : 0)

function printCombined() {
  const header = ['bench', 'measure', 'value', 'unit', 'limit', 'of limit', 'note']
  const body = []
  for (const s of sections) {
    s.rows.forEach((r, i) => {
      body.push([
        i === 0 ? s.name : '',
        r.name,
        typeof r.value === 'number' ? figure(r.value) : String(r.value),
        r.unit ?? '',
        r.limit === undefined ? '' : figure(r.limit),
        r.ratio === undefined ? '' : `${(r.ratio * 100).toFixed(0)}%`,
        r.note ?? '',
      ])
    })
  }
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((c) => c[i].length)))
  const right = new Set([2, 4, 5])
  const line = (c) => c.map((v, i) => (right.has(i) ? v.padStart(widths[i]) : v.padEnd(widths[i]))).join('  ').trimEnd()
  console.log(`CAS benchmarks — ${startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC, ${machine.cpus} × ${machine.model}, ${machine.memoryGiB} GiB, ${machine.platform}, Node ${machine.node}`)
  console.log(`BENCH_BYTES=${BYTES} (${figure(BYTES / MiB)} MiB); load average before ${loadBefore}, after ${loadAfter}; ${results.map((r) => `${r.name} ${r.seconds.toFixed(0)} s`).join(', ')}`)
  console.log('')
  console.log(line(header))
  console.log(widths.map((w) => '-'.repeat(w)).join('  '))
  let first = true
  for (const s of sections) {
    if (!first) console.log('')
    first = false
    for (const c of body.splice(0, s.rows.length)) console.log(line(c))
  }
}
