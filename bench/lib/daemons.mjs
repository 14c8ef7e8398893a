// Real `cas daemon` processes for benchmarks: the built CLI (apps/node/dist/cli.js), each node in
// its own root under one temp folder, all in one network, talking over loopback. Files go in
// and out through the daemons' HTTP API, as users' files do.
import { execFile, spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { request } from 'node:http'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { patternStream } from './data.mjs'
import { benchBase } from './work-dir.mjs'

const run = promisify(execFile)
export const CLI = fileURLToPath(new URL('../../apps/node/dist/cli.js', import.meta.url))
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/** A network of `count` daemons; call `stop()` at the end (removes the folder). */
export async function startDaemons({ count, replicas = 3, dir = benchBase(), logLevel = 'warn' }) {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`pnpm build\` first`)
  const base = await mkdtemp(join(dir, 'cas-bench-daemons-'))
  const cas = (args) => run(process.execPath, [CLI, ...args], { env: { ...process.env, CAS_ROOT: '' }, maxBuffer: 16 * 1024 * 1024 })
  const key = (await cas(['network-key'])).stdout
  await writeFile(join(base, 'network.key'), key)
  const nodes = []
  try {
    for (let i = 0; i < count; i++) {
      const root = join(base, `node${i + 1}`)
      await cas(['--root', root, 'init', '--network-key', join(base, 'network.key')])
      const bootstrap = nodes.length > 0 ? ['--bootstrap', nodes[0].addresses.join(',')] : []
      const args = ['--root', root, 'daemon', '--listen', '127.0.0.1:0', '--api', '127.0.0.1:0', '--replicas', String(replicas), '--log-level', logLevel, ...bootstrap]
      const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
      let out = ''
      child.stdout.on('data', (d) => (out += d))
      const deadline = Date.now() + 60_000
      while (!out.includes('daemon is ready')) {
        if (child.exitCode !== null) throw new Error(`daemon ${i + 1} exited with ${child.exitCode}`)
        if (Date.now() > deadline) throw new Error(`daemon ${i + 1} not ready in 60 s`)
        await sleep(50)
      }
      const url = (await readFile(join(root, 'api'), 'utf8')).trim()
      const token = (await readFile(join(root, 'api.token'), 'utf8')).trim()
      const node = { index: i + 1, root, child, pid: child.pid, url, token }
      const status = await api(node, 'GET', '/v1/status')
      node.id = status.id
      node.addresses = status.addresses
      nodes.push(node)
    }
    // Everyone sees everyone before any measurement.
    for (let tries = 0; ; tries++) {
      const alive = await Promise.all(nodes.map(async (n) => (await api(n, 'GET', '/v1/peers')).filter((p) => p.state === 'alive').length))
      if (alive.every((a) => a === count - 1)) break
      if (tries > 300) throw new Error(`membership did not converge: ${alive}`)
      await sleep(100)
    }
  } catch (err) {
    for (const n of nodes) n.child.kill('SIGKILL')
    await rm(base, { recursive: true, force: true })
    throw err
  }
  return {
    nodes,
    base,
    async stop() {
      await Promise.all(
        nodes.map(async (n) => {
          if (n.child.exitCode !== null) return
          const exited = new Promise((resolve) => n.child.once('exit', resolve))
          n.child.kill('SIGTERM')
          const timer = setTimeout(() => n.child.kill('SIGKILL'), 15_000)
          await exited
          clearTimeout(timer)
        }),
      )
      await rm(base, { recursive: true, force: true })
    },
  }
}

/** One JSON request to a daemon's API (keep-alive agent for latency runs). */
export function api(node, method, path, body, agent) {
  return new Promise((resolve, reject) => {
    const req = request(`${node.url}${path}`, { method, agent, headers: { authorization: `Bearer ${node.token}` } }, (res) => {
      const parts = []
      res.on('data', (d) => parts.push(d))
      res.on('end', () => {
        const text = Buffer.concat(parts).toString()
        if (res.statusCode >= 300) return reject(new Error(`${method} ${path}: ${res.statusCode} ${text}`))
        resolve(text === '' ? undefined : JSON.parse(text))
      })
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(body)
  })
}

/** Streams `size` pattern bytes into `POST /v1/files` of a daemon; resolves with the put result. */
export function putStream(node, seed, size, name, agent) {
  return new Promise((resolve, reject) => {
    const req = request(
      `${node.url}/v1/files?name=${encodeURIComponent(name)}`,
      { method: 'POST', agent, headers: { authorization: `Bearer ${node.token}`, 'content-type': 'application/octet-stream', 'content-length': size } },
      (res) => {
        const parts = []
        res.on('data', (d) => parts.push(d))
        res.on('end', () => {
          const text = Buffer.concat(parts).toString()
          if (res.statusCode !== 201) return reject(new Error(`put: ${res.statusCode} ${text}`))
          resolve(JSON.parse(text))
        })
      },
    )
    req.on('error', reject)
    pipeline(patternStream(seed, size), req).catch(reject)
  })
}

/** Reads `GET /v1/files/:ref` of a daemon to the end, hashing it; resolves with size and SHA-256. */
export function getStream(node, ref, agent) {
  return new Promise((resolve, reject) => {
    const req = request(`${node.url}/v1/files/${encodeURIComponent(ref)}`, { agent, headers: { authorization: `Bearer ${node.token}` } }, (res) => {
      if (res.statusCode !== 200) {
        res.resume()
        return reject(new Error(`get: ${res.statusCode}`))
      }
      const hash = createHash('sha256')
      let size = 0
      res.on('data', (d) => {
        hash.update(d)
        size += d.length
      })
      res.on('end', () => resolve({ size, sha256: hash.digest('hex') }))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end()
  })
}

/** Peak resident set (VmHWM) and current RSS of a process, in MiB (Linux /proc). */
export async function processMemory(pid) {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8')
    const kb = (field) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN)
    return { peakMiB: kb('VmHWM') / 1024, rssMiB: kb('VmRSS') / 1024 }
  } catch {
    return { peakMiB: NaN, rssMiB: NaN }
  }
}
