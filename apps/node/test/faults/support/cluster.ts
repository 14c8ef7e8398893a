import { spawn, type ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import { createWriteStream, type WriteStream } from 'node:fs'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { assertBuilt, CLI } from '../../support/processes.js'
import type { Netns } from './netns.js'
import type { Pattern } from './pattern.js'

/** Result of one finished `cas` command. */
export interface CasRun {
  code: number | null
  out: string
  stderr: string
}

/** What `cas put --json` prints. */
export interface PutJson {
  address: string
  size: number
  sha256: string
  replicas: number
  warning?: string
}

/** Outcome of a streamed put. */
export interface PutRun extends CasRun {
  result?: PutJson
  /** Bytes handed to the CLI's stdin before it finished or died. */
  sent: number
}

/** Outcome of a streamed get, checked byte by byte against the expected file. */
export interface GetRun extends CasRun {
  bytes: number
  sha256: string
  /** Every byte received equals the file's byte at that offset (true for a clean partial read too). */
  prefixMatches: boolean
}

/** Membership view entry (`cas peers --json`). */
export interface PeerJson {
  id: string
  state: 'alive' | 'suspect' | 'dead'
  addresses: string[]
}

/** `cas status --json`. */
export interface StatusJson {
  id: string
  peers: number
  blobs: number
  bytes: number
  underReplicated: number
}

/** `GET /v1/files/:ref/placement`. */
export interface BlobPlacementJson {
  blob: string
  holders: string[]
  live: number
}

const COMMAND_TIMEOUT_MS = 120_000
const TRANSFER_TIMEOUT_MS = 15 * 60_000
const LOG_TAIL_CHARS = 64 * 1024

/** One daemon of a {@link Cluster}: its root, its process while running, its log file. */
export class ClusterNode {
  id = ''
  apiUrl = ''
  token = ''
  /** Actual p2p address (port resolved), kept across restarts. */
  listen: string
  proc: ChildProcess | undefined
  exited: Promise<void> = Promise.resolve()
  #tail = ''
  #log: WriteStream | undefined

  constructor(
    readonly index: number,
    readonly root: string,
    readonly ns: string | undefined,
    listen: string,
  ) {
    this.listen = listen
  }

  get running(): boolean {
    return this.proc !== undefined && this.proc.exitCode === null && this.proc.signalCode === null
  }

  /** The last lines the daemon logged. */
  get logTail(): string {
    return this.#tail
  }

  /** @internal */
  attach(proc: ChildProcess, logPath: string): void {
    this.proc = proc
    this.#log = createWriteStream(logPath, { flags: 'a' })
    const log = this.#log
    proc.stderr?.on('data', (chunk: Buffer) => {
      log.write(chunk)
      this.#tail = (this.#tail + chunk.toString()).slice(-LOG_TAIL_CHARS)
    })
    this.exited = new Promise((resolve) => proc.once('exit', () => resolve()))
    void this.exited.then(() => log.end())
  }
}

/** Options of {@link Cluster.create}. */
export interface ClusterOptions {
  nodes: number
  replicas?: number
  /** Run node i in a network namespace of this topology, listening on its address there. */
  netns?: Netns
  /** Extra daemon flags per node (index from 1). */
  flags?: (index: number) => string[]
}

/**
 * A network of real `cas daemon` processes, each with its own root under one temp folder and one
 * network key, bootstrapped through node 1. Commands run with the built CLI, as a user runs them
 * (inside the node's network namespace when there is one). Node indexes start at 1.
 */
export class Cluster {
  readonly nodes: ClusterNode[] = []

  private constructor(
    readonly dir: string,
    private readonly opts: ClusterOptions,
  ) {}

  static async create(opts: ClusterOptions): Promise<Cluster> {
    assertBuilt()
    const dir = await mkdtemp(join(tmpdir(), 'cas-faults-'))
    const cluster = new Cluster(dir, opts)
    const key = await cluster.run(undefined, ['network-key'])
    if (key.code !== 0) throw new Error(`cas network-key failed: ${key.stderr}`)
    await writeFile(join(dir, 'network.key'), key.out)
    for (let i = 1; i <= opts.nodes; i++) {
      const ns = opts.netns?.name(i)
      const listen = opts.netns ? `${opts.netns.address(i)}:7400` : '127.0.0.1:0'
      const node = new ClusterNode(i, join(dir, `node${i}`), ns, listen)
      cluster.nodes.push(node)
      const init = await cluster.cas(i, ['init', '--network-key', join(dir, 'network.key')])
      if (init.code !== 0) throw new Error(`cas init failed: ${init.stderr}`)
    }
    return cluster
  }

  node(i: number): ClusterNode {
    const node = this.nodes[i - 1]
    if (node === undefined) throw new Error(`no node ${i}`)
    return node
  }

  /** Starts every node (node 1 first: the others bootstrap through it) and waits until all see all. */
  async startAll(): Promise<void> {
    await this.start(1)
    for (let i = 2; i <= this.nodes.length; i++) await this.start(i)
    await this.waitForView(this.indexes(), this.nodes.length - 1)
  }

  indexes(): number[] {
    return this.nodes.map((n) => n.index)
  }

  /** Starts (or restarts) node i on its root and waits for the daemon to be ready. */
  async start(i: number): Promise<void> {
    const node = this.node(i)
    if (node.running) throw new Error(`node ${i} is already running`)
    const bootstrap = this.nodes.filter((n) => n.index !== i && n.listen.split(':')[1] !== '0').map((n) => n.listen)
    const args = [
      '--root',
      node.root,
      'daemon',
      '--listen',
      node.listen,
      '--api',
      '127.0.0.1:0',
      '--replicas',
      String(this.opts.replicas ?? 3),
      ...(bootstrap.length > 0 ? ['--bootstrap', bootstrap.join(',')] : []),
      ...(process.env.CAS_FAULTS_LOG_LEVEL ? ['--log-level', process.env.CAS_FAULTS_LOG_LEVEL] : []),
      ...(this.opts.flags?.(i) ?? []),
    ]
    const proc = this.spawnCas(node.ns, args, ['ignore', 'pipe', 'pipe'])
    node.attach(proc, join(this.dir, `node${i}.log`))
    let stdout = ''
    proc.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    const deadline = Date.now() + 60_000
    while (!stdout.includes('daemon is ready')) {
      if (!node.running) throw new Error(`node ${i} exited while starting:\n${node.logTail}`)
      if (Date.now() > deadline) throw new Error(`node ${i} not ready in 60 s:\n${node.logTail}`)
      await sleep(50)
    }
    node.apiUrl = (await readFile(join(node.root, 'api'), 'utf8')).trim()
    node.token = (await readFile(join(node.root, 'api.token'), 'utf8')).trim()
    const status = await this.status(i)
    node.id = status.id
    const addresses = (status as unknown as { addresses: string[] }).addresses
    if (addresses[0] !== undefined) node.listen = addresses[0]
  }

  /** Sends a signal to node i's daemon and waits for it to exit. */
  async kill(i: number, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const node = this.node(i)
    if (!node.running) return
    node.proc!.kill(signal)
    await node.exited
  }

  /** Runs `cas --root <root of node i> <args>` (i undefined: no root), inside its namespace if any. */
  cas(i: number | undefined, args: string[], input?: Buffer): Promise<CasRun> {
    const node = i === undefined ? undefined : this.node(i)
    return this.run(node?.ns, node === undefined ? args : ['--root', node.root, ...args], input)
  }

  /** `cas status --json` of node i. */
  async status(i: number): Promise<StatusJson> {
    return this.json<StatusJson>(i, ['status', '--json'])
  }

  /** `cas peers --json` of node i. */
  async peers(i: number): Promise<PeerJson[]> {
    return this.json<PeerJson[]>(i, ['peers', '--json'])
  }

  /** Where every blob of a file lives, as node i sees it (HTTP placement API). */
  async placement(i: number, ref: string): Promise<BlobPlacementJson[]> {
    return this.api<BlobPlacementJson[]>(i, `/v1/files/${encodeURIComponent(ref)}/placement`)
  }

  /** A GET on node i's HTTP API, parsed as JSON. */
  async api<T>(i: number, path: string): Promise<T> {
    return JSON.parse(await this.apiText(i, path)) as T
  }

  /** A Prometheus counter or gauge of node i (summed over its labels). */
  async metric(i: number, name: string): Promise<number> {
    const text = await this.apiText(i, '/metrics')
    let total = 0
    for (const line of text.split('\n')) {
      if (line.startsWith(`${name} `) || line.startsWith(`${name}{`)) total += Number(line.slice(line.lastIndexOf(' ') + 1))
    }
    return total
  }

  /** A GET on node i's HTTP API, from inside its namespace when it has one. */
  async apiText(i: number, path: string): Promise<string> {
    const node = this.node(i)
    const script =
      'fetch(process.argv[1],{headers:{authorization:"Bearer "+process.argv[2]}}).then(async r=>{const t=await r.text();if(!r.ok){console.error(r.status+" "+t);process.exit(1)}process.stdout.write(t)}).catch(e=>{console.error(String(e));process.exit(1)})'
    const result = await this.exec(node.ns, [process.execPath, '-e', script, `${node.apiUrl}${path}`, node.token])
    if (result.code !== 0) throw new Error(`GET ${path} on node ${i} failed: ${result.stderr}`)
    return result.out
  }

  /** Waits (bounded) until each of `on` sees exactly `alive` peers alive. */
  async waitForView(on: number[], alive: number, timeoutMs = 60_000): Promise<void> {
    await until(`nodes ${on.join(',')} to see ${alive} alive peers`, timeoutMs, async () => {
      for (const i of on) {
        const peers = await this.peers(i)
        if (peers.filter((p) => p.state === 'alive').length !== alive) return false
      }
      return true
    })
  }

  /** Waits (bounded) until each of `on` sees node `who` in `state`. */
  async waitForState(on: number[], who: number, state: PeerJson['state'], timeoutMs = 60_000): Promise<void> {
    const id = this.node(who).id
    await until(`nodes ${on.join(',')} to see node ${who} ${state}`, timeoutMs, async () => {
      for (const i of on) {
        const peer = (await this.peers(i)).find((p) => p.id === id)
        if (peer?.state !== state) return false
      }
      return true
    })
  }

  /**
   * `cas put - --json` on node i, fed from a pattern with backpressure. `onProgress(sent)` runs after
   * each MiB handed to the CLI: the hook for faults "mid-put".
   */
  async put(i: number, pattern: Pattern, opts: { name?: string; onProgress?: (sent: number) => void } = {}): Promise<PutRun> {
    const node = this.node(i)
    const args = ['--root', node.root, 'put', '-', '--json', ...(opts.name === undefined ? [] : ['--name', opts.name])]
    const child = this.spawnCas(node.ns, args, ['pipe', 'pipe', 'pipe'])
    const done = collect(child, TRANSFER_TIMEOUT_MS, `put on node ${i}`)
    let sent = 0
    let broken = false
    const stdin = child.stdin!
    stdin.on('error', () => (broken = true))
    for (const piece of pattern.pieces()) {
      if (broken || stdin.destroyed || child.exitCode !== null) break
      const ok = stdin.write(piece)
      sent += piece.length
      opts.onProgress?.(sent)
      if (!ok) await Promise.race([new Promise((resolve) => stdin.once('drain', resolve)), done])
    }
    if (!stdin.destroyed) stdin.end()
    const run = await done
    const result = run.code === 0 ? (JSON.parse(run.out) as PutJson) : undefined
    return { ...run, sent, ...(result ? { result } : {}) }
  }

  /** `cas get REF` on node i to stdout, every byte compared with the pattern as it arrives. */
  async get(i: number, ref: string, pattern: Pattern, opts: { onProgress?: (received: number) => void } = {}): Promise<GetRun> {
    const node = this.node(i)
    const child = this.spawnCas(node.ns, ['--root', node.root, 'get', ref], ['ignore', 'pipe', 'pipe'])
    const hash = createHash('sha256')
    const expected = pattern.pieces()
    let pending: Buffer = Buffer.alloc(0)
    let bytes = 0
    let prefixMatches = true
    child.stdout!.on('data', (chunk: Buffer) => {
      hash.update(chunk)
      let at = 0
      while (prefixMatches && at < chunk.length) {
        if (pending.length === 0) {
          const next = expected.next()
          if (next.done === true) {
            prefixMatches = false // more bytes than the file has
            break
          }
          pending = next.value
        }
        const n = Math.min(pending.length, chunk.length - at)
        if (!chunk.subarray(at, at + n).equals(pending.subarray(0, n))) prefixMatches = false
        pending = pending.subarray(n)
        at += n
      }
      bytes += chunk.length
      opts.onProgress?.(bytes)
    })
    const run = await collect(child, TRANSFER_TIMEOUT_MS, `get on node ${i}`, false)
    return { ...run, bytes, sha256: hash.digest('hex'), prefixMatches }
  }

  /** Stops every daemon (SIGKILL: the faults tests never need a graceful stop) and removes the folder. */
  async close(): Promise<void> {
    await Promise.allSettled(this.nodes.map((n) => this.kill(n.index)))
    if (process.env.CAS_FAULTS_KEEP === '1') console.log(`kept ${this.dir}`)
    else await rm(this.dir, { recursive: true, force: true })
  }

  private async json<T>(i: number, args: string[]): Promise<T> {
    const result = await this.cas(i, args)
    if (result.code !== 0) throw new Error(`cas ${args.join(' ')} on node ${i} failed: ${result.stderr}`)
    return JSON.parse(result.out) as T
  }

  private run(ns: string | undefined, args: string[], input?: Buffer): Promise<CasRun> {
    return this.exec(ns, [process.execPath, CLI, ...args], input)
  }

  private exec(ns: string | undefined, argv: string[], input?: Buffer): Promise<CasRun> {
    const full = ns === undefined ? argv : ['ip', 'netns', 'exec', ns, ...argv]
    const child = spawn(full[0]!, full.slice(1), { env: childEnv(), stdio: ['pipe', 'pipe', 'pipe'] })
    const done = collect(child, COMMAND_TIMEOUT_MS, argv.slice(2).join(' '))
    child.stdin.on('error', () => {})
    child.stdin.end(input ?? Buffer.alloc(0))
    return done
  }

  private spawnCas(ns: string | undefined, args: string[], stdio: ('pipe' | 'ignore')[]): ChildProcess {
    const argv = [process.execPath, CLI, ...args]
    const full = ns === undefined ? argv : ['ip', 'netns', 'exec', ns, ...argv]
    return spawn(full[0]!, full.slice(1), { env: childEnv(), stdio: stdio as ['pipe', 'pipe', 'pipe'] })
  }
}

function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' }
  delete env.CAS_ROOT
  delete env.npm_lifecycle_event
  return env
}

/** Collects a child's output until it exits (bounded: killed after `timeoutMs`). */
function collect(child: ChildProcess, timeoutMs: number, what: string, keepStdout = true): Promise<CasRun> {
  return new Promise((resolve, reject) => {
    const out: Buffer[] = []
    let stderr = ''
    if (keepStdout) child.stdout?.on('data', (chunk: Buffer) => out.push(chunk))
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`${what} did not finish in ${timeoutMs} ms`))
    }, timeoutMs)
    child.once('error', reject)
    child.once('close', (code) => {
      clearTimeout(timer)
      resolve({ code, out: Buffer.concat(out).toString(), stderr })
    })
  })
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** Polls `check` every `intervalMs` until it returns true; throws after `timeoutMs`. */
export async function until(what: string, timeoutMs: number, check: () => Promise<boolean>, intervalMs = 1000): Promise<number> {
  const started = Date.now()
  let last: unknown
  for (;;) {
    try {
      if (await check()) return Date.now() - started
    } catch (err) {
      last = err
    }
    if (Date.now() - started > timeoutMs) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last === undefined ? '' : `: ${last instanceof Error ? last.message : JSON.stringify(last)}`}`)
    }
    await sleep(intervalMs)
  }
}

/** Calls `action` once, the first time `value` reaches `threshold`. */
export function once(threshold: number, action: () => void): (value: number) => void {
  let fired = false
  return (value) => {
    if (fired || value < threshold) return
    fired = true
    action()
  }
}
