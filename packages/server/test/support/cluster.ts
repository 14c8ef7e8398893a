import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openStore, type BlobStore } from '@cas/store'
import { CasNode, type NodeComponents } from '../../src/index.js'
import type { HostLike } from '../../src/components.js'
import { FakeNetwork, type FakeHost } from './fake-network.js'

/** Short timings so suspicion and death take a couple of seconds. */
export const FAST_TIMING = {
  gossipIntervalMs: 100,
  suspectAfterMs: 600,
  deadAfterMs: 1200,
  forgetAfterMs: 60_000,
  repairIntervalMs: 1000,
  repairDebounceMs: 100,
  bootstrapRetryMs: 300,
  bootstrapRefreshMs: 1000,
  repairGraceMs: 300,
  deleteRetryMs: 300,
}

export interface TestNode {
  node: CasNode
  store: BlobStore
  host: HostLike
  dir: string
}

/** A set of nodes on the fake network with real stores in a temp folder; `close()` removes everything. */
export class FakeCluster {
  readonly net = new FakeNetwork()
  readonly nodes: TestNode[] = []
  private readonly dirs: string[] = []

  async add(
    opts: Partial<Omit<NodeComponents, 'store'>> & { store?: BlobStore; networkKey?: string; bootstrapIndex?: number; start?: boolean; id?: string } = {},
  ): Promise<TestNode> {
    const dir = await mkdtemp(join(tmpdir(), 'cas-node-'))
    this.dirs.push(dir)
    const store = opts.store ?? (await openStore({ root: join(dir, 'store') }))
    const host = this.net.createHost(opts.id ?? randomBytes(32).toString('hex'), opts.networkKey ?? 'net', () => ({
      version: 1,
      addresses: host.addresses,
      capacity: Number.MAX_SAFE_INTEGER,
      used: 0,
    }))
    const first = this.nodes[opts.bootstrapIndex ?? 0]
    const node = await CasNode.create({
      host,
      store,
      ownerKey: randomBytes(32),
      catalogPath: join(dir, 'catalog'),
      bootstrap: first ? first.host.addresses : [],
      timing: FAST_TIMING,
      ...opts,
    })
    if (opts.start !== false) await node.start()
    const t = { node, store, host, dir }
    this.nodes.push(t)
    return t
  }

  /** A new temp folder, removed by {@link FakeCluster.close}. */
  async scratch(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'cas-node-'))
    this.dirs.push(dir)
    return dir
  }

  fakeHost(i: number): FakeHost {
    return this.nodes[i]!.host as FakeHost
  }

  async close(): Promise<void> {
    for (const t of this.nodes) {
      await t.node.stop().catch(() => {})
      await t.store.close().catch(() => {})
    }
    for (const d of this.dirs) await rm(d, { recursive: true, force: true })
  }
}

/** Polls `check` every 50 ms until it holds or `timeoutMs` passes; returns whether it held. */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<boolean> {
  const end = Date.now() + timeoutMs
  for (;;) {
    if (await check()) return true
    if (Date.now() > end) return false
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** Reads a stream to one buffer. */
export async function readAll(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = []
  for await (const p of stream) parts.push(Buffer.from(p))
  return Buffer.concat(parts)
}

/** Which nodes hold a blob in their stores. */
export async function holdersOf(nodes: TestNode[], blob: string): Promise<number> {
  let n = 0
  for (const t of nodes) if (await t.store.has(blob)) n++
  return n
}
