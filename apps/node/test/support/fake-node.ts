// The stand-in keeps the real node's async signatures even where it has nothing to await.
/* eslint-disable @typescript-eslint/require-await */
import { createHash, randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'
import type {
  BlobPlacement,
  CatalogEntry,
  FileInfo,
  GetOptions,
  NodeLike,
  NodeStatus,
  PeerInfo,
  PutOptions,
  PutResult,
} from '../../src/node-like.js'
import type { NodeFactory } from '../../src/daemon.js'

/** An error with a `code`, as the node packages throw them. */
export class FakeNodeError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}

interface StoredFile {
  info: FileInfo
  bytes: Buffer
  key: string
}

/**
 * An in-memory stand-in for a CAS node: same API shape, files kept in memory, capacity enforced.
 * Used to exercise the HTTP layer's edge cases without a network.
 */
export class FakeNode implements NodeLike {
  readonly id = randomBytes(32).toString('hex')
  readonly addresses = ['127.0.0.1:1']
  readonly files = new Map<string, StoredFile>()
  readonly names = new Map<string, string>()
  readonly metrics: Record<string, number> = { bytesPut: 0, bytesGot: 0, repairQueue: 0 }
  capacity = Number.POSITIVE_INFINITY
  /** Pause between the 1000-byte chunks of get() streams. */
  chunkDelayMs = 0
  /** Set to make get() streams fail after this many bytes. */
  failAfter: number | undefined
  /** Every signal handed to put/get, to check aborts. */
  readonly signals: AbortSignal[] = []

  async put(source: AsyncIterable<Uint8Array>, opts: PutOptions = {}): Promise<PutResult> {
    if (opts.signal !== undefined) this.signals.push(opts.signal)
    const parts: Buffer[] = []
    let size = 0
    for await (const chunk of source) {
      opts.signal?.throwIfAborted()
      size += chunk.length
      if (this.usedBytes() + size > this.capacity) throw new FakeNodeError('FULL', 'no space left for this file')
      parts.push(Buffer.from(chunk))
    }
    const bytes = Buffer.concat(parts)
    const sha256 = createHash('sha256').update(bytes).digest('hex')
    const address = createHash('sha256').update(`root:${sha256}`).digest('hex')
    const info: FileInfo = { address, size, sha256, chunks: Math.max(1, Math.ceil(size / 1024)), createdAt: new Date().toISOString() }
    if (opts.name !== undefined) {
      info.name = opts.name
      this.names.set(opts.name, address)
    }
    this.files.set(address, { info, bytes, key: randomBytes(32).toString('hex') })
    this.metrics.bytesPut = (this.metrics.bytesPut ?? 0) + size
    return { address, size, sha256, ...(opts.name === undefined ? {} : { name: opts.name }), replicas: 1, warning: 'only 1 of 3 copies' }
  }

  #find(ref: string): StoredFile {
    const capability = /^cas1:([0-9a-f]{64}):[0-9a-f]{64}$/.exec(ref)
    const address = capability?.[1] ?? this.names.get(ref) ?? ref
    if (!/^[0-9a-f]{64}$/.test(address) && capability === null && !this.names.has(ref)) {
      if (ref.startsWith('cas1:')) throw new FakeNodeError('INVALID_REF', `not a capability: ${ref}`)
    }
    const file = this.files.get(address)
    if (file === undefined) throw new FakeNodeError('NOT_FOUND', `no file ${ref}`)
    return file
  }

  async stat(ref: string): Promise<FileInfo> {
    return this.#find(ref).info
  }

  async get(ref: string, opts: GetOptions = {}): Promise<{ info: FileInfo; stream: Readable }> {
    if (opts.signal !== undefined) this.signals.push(opts.signal)
    const file = this.#find(ref)
    const { start, end } = opts.range ?? { start: 0, end: file.info.size - 1 }
    const slice = file.bytes.subarray(start, end + 1)
    const { failAfter, chunkDelayMs } = this
    const signal = opts.signal
    async function* chunks(): AsyncGenerator<Buffer> {
      for (let offset = 0; offset < slice.length; offset += 1000) {
        if (failAfter !== undefined && offset >= failAfter) throw new FakeNodeError('UNAVAILABLE', 'holders went away')
        if (chunkDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, chunkDelayMs))
        signal?.throwIfAborted()
        yield slice.subarray(offset, offset + 1000)
      }
    }
    this.metrics.bytesGot = (this.metrics.bytesGot ?? 0) + slice.length
    return { info: file.info, stream: Readable.from(chunks()) }
  }

  async delete(ref: string): Promise<void> {
    const file = this.#find(ref)
    this.files.delete(file.info.address)
    if (file.info.name !== undefined) this.names.delete(file.info.name)
  }

  async list(): Promise<CatalogEntry[]> {
    return [...this.files.values()].map(({ info }) => ({
      name: info.name ?? '',
      address: info.address,
      size: info.size,
      sha256: info.sha256,
      createdAt: info.createdAt ?? '',
      replicas: 1,
    }))
  }

  async share(ref: string): Promise<string> {
    const file = this.#find(ref)
    return `cas1:${file.info.address}:${file.key}`
  }

  /** What `peers()` answers: one alive peer unless a test sets another view. */
  peerList: PeerInfo[] = [{ id: 'ab'.repeat(32), addresses: ['127.0.0.1:2'], state: 'alive', lastSeen: new Date().toISOString(), capacity: 100, used: 1 }]
  /** What `status()` says of the bootstrap addresses. */
  bootstrap: NodeStatus['bootstrap'] = []

  peers(): PeerInfo[] {
    return this.peerList
  }

  async status(): Promise<NodeStatus> {
    return {
      id: this.id,
      addresses: this.addresses,
      peers: 1,
      blobs: this.files.size,
      bytes: this.usedBytes(),
      capacity: this.capacity,
      underReplicated: 0,
      replicas: 3,
      bootstrap: this.bootstrap,
    }
  }

  async placement(ref: string): Promise<BlobPlacement[]> {
    const file = this.#find(ref)
    return [{ blob: file.info.address, holders: [this.id], live: 1 }]
  }

  async start(): Promise<void> {}

  async stop(): Promise<void> {}

  usedBytes(): number {
    let total = 0
    for (const file of this.files.values()) total += file.bytes.length
    return total
  }
}

/** A node factory for startDaemon/runCli that builds a {@link FakeNode}. */
export function fakeNodeFactory(onBuild: (node: FakeNode) => void = () => {}): NodeFactory {
  return async () => {
    const node = new FakeNode()
    onBuild(node)
    return { node, close: async () => {} }
  }
}
