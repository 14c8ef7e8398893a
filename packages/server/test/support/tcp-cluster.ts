import { generateKey, generateKeyPair } from '@cas/crypto'
import { tcpTransport, type Listener, type Transport } from '@cas/p2p'
import type { Duplex } from 'node:stream'
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
  /** Cuts every socket and listener of the node's transport at once, like a machine that dies. */
  sever: () => void
}

/**
 * Wraps a transport so that every listener and stream it made can be cut at once: TCP sockets are
 * reset (RST), so peers see a connection die mid-stream, never a goodbye.
 */
function severable(base: Transport): { transport: Transport; sever: () => void } {
  const streams = new Set<Duplex>()
  const listeners: Listener[] = []
  let severed = false
  const track = (stream: Duplex): Duplex => {
    if (severed) stream.destroy()
    streams.add(stream)
    stream.once('close', () => streams.delete(stream))
    return stream
  }
  const transport: Transport = {
    listen: async (addr) => {
      const listener = await base.listen(addr)
      listeners.push(listener)
      return {
        addresses: listener.addresses,
        onConnection: (cb) => listener.onConnection((stream) => cb(track(stream))),
        close: () => listener.close(),
      }
    },
    dial: async (addr, opts) => track(await base.dial(addr, opts)),
  }
  const sever = (): void => {
    severed = true
    for (const listener of listeners) void listener.close()
    for (const stream of streams) {
      const socket = stream as Duplex & { resetAndDestroy?: () => void }
      if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy()
      else stream.destroy()
    }
  }
  return { transport, sever }
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
    const { transport, sever } = severable(this.transport())
    const node = await createNode({
      transport,
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
    const r = { node, store, stopped: false, sever }
    this.nodes.push(r)
    return r
  }

  /**
   * Kills a node abruptly: every connection is reset first, so its peers learn nothing but that
   * it went silent mid-stream; only then is the local side stopped (timers, files).
   */
  async kill(r: RealNode): Promise<void> {
    r.stopped = true
    r.sever()
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
