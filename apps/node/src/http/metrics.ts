import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { NodeLike, NodeStatus } from '../node-like.js'

/** A status read is reused for this long, so one scrape reads it once. */
const STATUS_REUSE_MS = 500

/** Prometheus metrics of one daemon: its own registry, so several daemons can share a process. */
export interface ApiMetrics {
  readonly registry: Registry
  /** Records one answered request. */
  observeRequest(method: string, route: string, status: number, seconds: number): void
  /** Counts plaintext bytes received by uploads. */
  uploaded(bytes: number): void
  /** Counts plaintext bytes sent by downloads. */
  downloaded(bytes: number): void
}

const PEER_STATES = ['alive', 'suspect', 'dead'] as const

/** Figures of `node.metrics` that go up and down; every other one only grows and becomes a counter. */
const NODE_GAUGES = new Set(['repairQueue'])

/** Help texts of the node figures we know; others get a generic one. */
const NODE_HELP: Record<string, string> = {
  bytesPut: 'Plaintext bytes stored by put',
  bytesGot: 'Plaintext bytes delivered by get',
  bytesReplicated: 'Blob bytes sent to holders by put',
  blobsFetched: 'Blobs fetched from other nodes',
  blobsReceived: 'Blobs other nodes stored here',
  blobsServed: 'Blobs served to other nodes',
  corruptBlobs: 'Blobs received with bytes not matching their id',
  repairQueue: 'Blobs waiting for a repair push',
  repairPushed: 'Copies pushed by repair',
  repairDropped: 'Surplus copies dropped by repair',
  repairPasses: 'Completed repair passes',
}

function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`).replace(/[^a-z0-9_]/g, '_')
}

function readFigure(node: NodeLike, key: string): number {
  const value = (node.metrics as Record<string, unknown>)[key]
  return typeof value === 'number' && Number.isFinite(value) ? value : 0
}

/** Creates the daemon's metrics; node-level figures are read when Prometheus scrapes. */
export function createMetrics(node: NodeLike, options: { defaultMetrics?: boolean } = {}): ApiMetrics {
  const registry = new Registry()
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'cas_' })

  const requestDuration = new Histogram({
    name: 'cas_http_request_duration_seconds',
    help: 'HTTP API request latency (until the response is fully sent)',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120],
    registers: [registry],
  })
  const uploadBytes = new Counter({ name: 'cas_http_upload_bytes_total', help: 'Bytes received by file uploads', registers: [registry] })
  const downloadBytes = new Counter({ name: 'cas_http_download_bytes_total', help: 'Bytes sent by file downloads', registers: [registry] })

  // The node's figures are plain numbers; mirror each counter into Prometheus by its delta.
  for (const key of Object.keys(node.metrics)) {
    const help = NODE_HELP[key] ?? `Node figure ${key}`
    if (NODE_GAUGES.has(key)) {
      new Gauge({
        name: `cas_node_${snakeCase(key)}`,
        help,
        registers: [registry],
        collect() {
          this.set(readFigure(node, key))
        },
      })
      continue
    }
    let seen = 0
    new Counter({
      name: `cas_node_${snakeCase(key)}_total`,
      help,
      registers: [registry],
      collect() {
        const value = readFigure(node, key)
        if (value > seen) this.inc(value - seen)
        seen = value
      },
    })
  }
  new Gauge({
    name: 'cas_peers',
    help: 'Members of the membership view, by state',
    labelNames: ['state'] as const,
    registers: [registry],
    collect() {
      const counts = { alive: 0, suspect: 0, dead: 0 }
      for (const peer of node.peers()) counts[peer.state]++
      for (const state of PEER_STATES) this.set({ state }, counts[state])
    },
  })
  // One status read serves all the store gauges of a scrape (they are collected concurrently).
  let statusRead: { at: number; value: Promise<NodeStatus> } | undefined
  const status = (): Promise<NodeStatus> => {
    const now = Date.now()
    if (statusRead === undefined || now - statusRead.at > STATUS_REUSE_MS) statusRead = { at: now, value: node.status() }
    return statusRead.value
  }
  const storeGauges: [string, string, (s: NodeStatus) => number][] = [
    ['cas_blobs', 'Blobs held by this node', (s) => s.blobs],
    ['cas_stored_bytes', 'Bytes of blobs held by this node', (s) => s.bytes],
    ['cas_capacity_bytes', 'Disk space offered to the network (-1 = unlimited)', (s) => (Number.isFinite(s.capacity) ? s.capacity : -1)],
    ['cas_under_replicated', 'Blobs with fewer live copies than the target', (s) => s.underReplicated],
  ]
  for (const [name, help, read] of storeGauges) {
    new Gauge({
      name,
      help,
      registers: [registry],
      async collect() {
        this.set(read(await status()))
      },
    })
  }

  return {
    registry,
    observeRequest(method, route, status, seconds) {
      requestDuration.observe({ method, route, status: String(status) }, seconds)
    },
    uploaded(bytes) {
      uploadBytes.inc(bytes)
    },
    downloaded(bytes) {
      downloadBytes.inc(bytes)
    },
  }
}
