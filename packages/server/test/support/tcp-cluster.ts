import { generateKey, generateKeyPair } from '@cas/crypto'
import { tcpTransport, type Transport } from '@cas/p2p'
import { openStore, type BlobStore } from '@cas/store'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createNode, type CasNode, type NodeOptions } from '../../src/index.js'
import { FAST_TIMING } from './cluster.js'

export interface RealNode {
  node: CasNode
  store: BlobStore
  stopped: boolean
}

/** Nodes with real stores and @cas/p2p hosts (TCP on 127.0.0.1 by default). */
export class RealCluster {
  readonly nodes: RealNode[] = []
  readonly networkKey = generateKey()
  private readonly dirs: string[] = []

  constructor(private readonly transport: () => Transport = () => tcpTransport(), private readonly listen = '127.0.0.1:0') {}

  async add(opts: Partial<NodeOptions> & { bootstrapIndex?: number } = {}): Promise<RealNode> {
    const dir = await mkdtemp(join(tmpdir(), 'cas-tcp-'))
    this.dirs.push(dir)
    const store = await openStore({ root: join(dir, 'store') })
    const seed = this.nodes[opts.bootstrapIndex ?? 0]
    const node = await createNode({
      transport: this.transport(),
      store,
      staticKey: generateKeyPair(),
      ownerKey: generateKey(),
      networkKey: this.networkKey,
      listen: [this.listen],
      bootstrap: seed ? seed.node.addresses : [],
      catalogPath: join(dir, 'catalog'),
      timing: FAST_TIMING,
      ...opts,
    })
    await node.start()
    const r = { node, store, stopped: false }
    this.nodes.push(r)
    return r
  }

  /** Stops a node without telling anyone: its peers only notice its silence. */
  async kill(r: RealNode): Promise<void> {
    r.stopped = true
    await r.node.stop()
    await r.store.close()
  }

  live(): RealNode[] {
    return this.nodes.filter((n) => !n.stopped)
  }

  async close(): Promise<void> {
    for (const r of this.nodes) if (!r.stopped) await this.kill(r).catch(() => {})
    for (const d of this.dirs) await rm(d, { recursive: true, force: true })
  }
}
