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

/** Node counters whose names say what they are; everything else in `node.metrics` is exported as a gauge. */
const NODE_COUNTERS: Record<string, { name: string; help: string }> = {
  bytesPut: { name: 'cas_node_put_bytes_total', help: 'Plaintext bytes stored by this node' },
  bytesGot: { name: 'cas_node_get_bytes_total', help: 'Plaintext bytes read by this node' },
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

  // Node counters are plain numbers that only grow; mirror each into a Prometheus counter by its delta.
  const seen = new Map<string, number>()
  for (const [key, { name, help }] of Object.entries(NODE_COUNTERS)) {
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        const value = node.metrics[key] ?? 0
        const delta = value - (seen.get(key) ?? 0)
        if (delta > 0) this.inc(delta)
        seen.set(key, value)
      },
    })
  }
  new Gauge({
    name: 'cas_node_metric',
    help: 'Other counters and gauges reported by the node, by name (e.g. repairQueue)',
    labelNames: ['name'] as const,
    registers: [registry],
    collect() {
      this.reset()
      for (const [key, value] of Object.entries(node.metrics)) {
        if (NODE_COUNTERS[key] === undefined && typeof value === 'number') this.set({ name: key }, value)
      }
    },
  })
  new Gauge({
    name: 'cas_repair_queue',
    help: 'Blobs waiting to be repaired',
    registers: [registry],
    collect() {
      this.set(node.metrics.repairQueue ?? 0)
    },
  })
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
