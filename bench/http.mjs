#!/usr/bin/env node
// The `cas` daemon's HTTP API on one node (replicas 1, no peers): a streamed upload of BENCH_BYTES
// (default 1 GiB) through POST /v1/files, the download through GET /v1/files/:ref, the same calls on
// the node in-process (what HTTP costs), and the same through the CLI (`cas put FILE`, `cas get REF -o FILE`), with the daemon's peak RSS, beside the
// machine's raw limits measured in the same run. The daemon is the built binary in its own process.
//
//   pnpm turbo run build --filter @cas/node... && node bench/http.mjs [--json]
//   env: BENCH_BYTES (default 1 GiB), BENCH_LIMIT_BYTES (512 MiB), BENCH_DIR (temp folder)
import { spawn, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { createWriteStream, existsSync, readFileSync } from 'node:fs'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { request } from 'node:http'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { fileURLToPath } from 'node:url'
import { printTable } from './lib/format.mjs'
import { measureLimits } from './lib/limits.mjs'
import { benchBase } from './lib/work-dir.mjs'

const MiB = 1024 * 1024
const env = (name, fallback) => (process.env[name] ? Number(process.env[name]) : fallback)
const BYTES = Math.max(MiB, env('BENCH_BYTES', 1024 * MiB))
const LIMIT_BYTES = env('BENCH_LIMIT_BYTES', Math.min(BYTES, 512 * MiB))
const json = process.argv.includes('--json')
const cli = fileURLToPath(new URL('../apps/node/dist/cli.js', import.meta.url))
if (!existsSync(cli)) {
  console.error(`${cli} is missing: pnpm turbo run build --filter @cas/node...`)
  process.exit(1)
}

const seconds = (start) => Number(process.hrtime.bigint() - start) / 1e9
const cas = (root, args) => {
  const run = spawnSync(process.execPath, [cli, '--root', root, ...args], { encoding: 'utf8' })
  if (run.status !== 0) throw new Error(`cas ${args.join(' ')}: ${run.stderr}`)
  return run.stdout
}

/** BYTES of distinct MiB blocks (so convergent encryption cannot deduplicate them), generated lazily. */
function generated(total) {
  const block = randomBytes(MiB)
  return Readable.from(
    (function* () {
      for (let offset = 0, i = 0; offset < total; offset += MiB, i++) {
        const chunk = Buffer.from(block.subarray(0, Math.min(MiB, total - offset)))
        chunk.writeUInt32LE(i, 0)
        yield chunk
      }
    })(),
  )
}

/** Peak resident memory of a process (Linux), in MiB. */
function peakRssMiB(pid) {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return match ? Number(match[1]) / 1024 : undefined
  } catch {
    return undefined
  }
}

function call(base, token, method, path, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, base), { method, headers: { ...headers, authorization: `Bearer ${token}` } }, resolve)
    req.on('error', reject)
    if (body) body.pipe(req)
    else req.end()
  })
}

const dir = await mkdtemp(join(benchBase(), 'cas-bench-http-'))
const root = join(dir, 'node')
let daemon
try {
  const limits = await measureLimits({ bytes: LIMIT_BYTES, dir })
  cas(root, ['init'])
  const config = JSON.parse(await readFile(join(root, 'config.json'), 'utf8'))
  await writeFile(join(root, 'config.json'), JSON.stringify({ ...config, listen: '127.0.0.1:0', api: '127.0.0.1:0', replicas: 1, logLevel: 'warn' }))
  daemon = spawn(process.execPath, [cli, '--root', root, 'daemon'], { stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  daemon.stdout.on('data', (chunk) => (out += chunk))
  for (let i = 0; i < 300 && !out.includes('daemon is ready'); i++) await new Promise((r) => setTimeout(r, 100))
  if (!out.includes('daemon is ready')) throw new Error('the daemon did not start')
  const base = (await readFile(join(root, 'api'), 'utf8')).trim()
  const token = (await readFile(join(root, 'api.token'), 'utf8')).trim()

  // HTTP upload: a streamed body without Content-Length, as a program would send it.
  let start = process.hrtime.bigint()
  const put = await call(base, token, 'POST', '/v1/files?name=bench.bin', generated(BYTES))
  const putBody = JSON.parse(Buffer.concat(await put.toArray()).toString())
  if (put.statusCode !== 201) throw new Error(`upload: HTTP ${put.statusCode} ${JSON.stringify(putBody)}`)
  const httpPut = BYTES / MiB / seconds(start)

  start = process.hrtime.bigint()
  const get = await call(base, token, 'GET', `/v1/files/${putBody.address}`)
  let received = 0
  for await (const chunk of get) received += chunk.length
  if (received !== BYTES) throw new Error(`download: ${received} of ${BYTES} bytes`)
  const httpGet = BYTES / MiB / seconds(start)

  // The CLI: reads a file, streams it to the daemon; then writes the download to a file.
  const file = join(dir, 'input.bin')
  await pipeline(generated(BYTES), createWriteStream(file))
  start = process.hrtime.bigint()
  const address = cas(root, ['put', file, '--name', 'cli.bin']).trim()
  const cliPut = BYTES / MiB / seconds(start)
  start = process.hrtime.bigint()
  cas(root, ['get', address, '-o', join(dir, 'output.bin')])
  const cliGet = BYTES / MiB / seconds(start)
  const daemonRss = peakRssMiB(daemon.pid)

  // The same node API called in-process, without HTTP: what the API layer costs.
  const { createCasNode, initRoot, startDaemon } = await import('../apps/node/dist/index.js')
  const directRoot = join(dir, 'direct')
  await initRoot(directRoot, { config: { listen: ['127.0.0.1:0'], api: '127.0.0.1:0', replicas: 1, logLevel: 'warn' } })
  const direct = await startDaemon({ root: directRoot, createNode: createCasNode, webRoot: null, processMetrics: false })
  let nodePut
  let nodeGet
  try {
    start = process.hrtime.bigint()
    const stored = await direct.node.put(generated(BYTES), { name: 'direct.bin' })
    nodePut = BYTES / MiB / seconds(start)
    start = process.hrtime.bigint()
    const { stream } = await direct.node.get(stored.address)
    let bytes = 0
    for await (const chunk of stream) bytes += chunk.length
    if (bytes !== BYTES) throw new Error(`direct get: ${bytes} of ${BYTES} bytes`)
    nodeGet = BYTES / MiB / seconds(start)
  } finally {
    await direct.stop()
  }

  const rows = [
    { name: 'HTTP POST /v1/files (streamed)', value: httpPut, unit: 'MiB/s', limit: limits.diskWrite, ratio: httpPut / limits.diskWrite, note: 'limit: disk write' },
    { name: 'HTTP GET /v1/files/:ref', value: httpGet, unit: 'MiB/s', limit: limits.aesCtr, ratio: httpGet / limits.aesCtr, note: 'limit: AES-CTR' },
    { name: 'node.put in-process (no HTTP)', value: nodePut, unit: 'MiB/s', limit: limits.diskWrite, ratio: nodePut / limits.diskWrite },
    { name: 'node.get in-process (no HTTP)', value: nodeGet, unit: 'MiB/s', limit: limits.aesCtr, ratio: nodeGet / limits.aesCtr },
    { name: 'cas put FILE', value: cliPut, unit: 'MiB/s', limit: limits.diskWrite, ratio: cliPut / limits.diskWrite },
    { name: 'cas get REF -o FILE', value: cliGet, unit: 'MiB/s', limit: limits.diskWrite, ratio: cliGet / limits.diskWrite },
    { name: 'daemon peak RSS', value: daemonRss ?? 'n/a', unit: 'MiB', note: `after ${(4 * BYTES) / MiB} MiB through it` },
    { name: 'SHA-256 (this machine)', value: limits.sha256, unit: 'MiB/s' },
    { name: 'TCP loopback (this machine)', value: limits.tcpLoopback, unit: 'MiB/s' },
  ]
  if (json) {
    console.log(JSON.stringify({ bench: 'http', bytes: BYTES, limits, httpPut, httpGet, nodePut, nodeGet, cliPut, cliGet, daemonPeakRssMiB: daemonRss ?? null, rows }))
  } else {
    printTable(`cas HTTP API — one node, ${(BYTES / MiB).toFixed(0)} MiB per transfer`, rows)
  }
} finally {
  if (daemon && daemon.exitCode === null) {
    daemon.kill('SIGTERM')
    await new Promise((resolve) => daemon.once('exit', resolve))
  }
  await rm(dir, { recursive: true, force: true })
}
