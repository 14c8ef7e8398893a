import type { Readable } from 'node:stream'

/**
 * What the app needs of a CAS node: the file and network API of `@cas/server`'s `CasNode`.
 * The HTTP layer is written against this shape, so it can be exercised with a small in-process
 * stand-in as well as with the real node.
 */

/** Facts about one file. */
export interface FileInfo {
  address: string
  size: number
  /** Hex SHA-256 of the plaintext. */
  sha256: string
  name?: string
  createdAt?: string
  chunks: number
}

/** Result of storing a file. */
export interface PutResult {
  address: string
  size: number
  sha256: string
  name?: string
  /** Confirmed copies of the least-replicated blob. */
  replicas: number
  /** Set when the file was stored with fewer copies than the target. */
  warning?: string
}

/** One file of the node's catalog. */
export interface CatalogEntry {
  /** Absent for files stored without a name. */
  name?: string
  address: string
  size: number
  sha256: string
  createdAt: string
  /** Live copies of the file's least-replicated blob. */
  replicas: number
}

/** One member of the node's membership view. */
export interface PeerInfo {
  id: string
  addresses: string[]
  state: 'alive' | 'suspect' | 'dead'
  lastSeen: string
  capacity: number
  used: number
}

/** The node's own summary. */
export interface NodeStatus {
  id: string
  addresses: string[]
  peers: number
  blobs: number
  bytes: number
  capacity: number
  underReplicated: number
}

/** Where one blob of a file lives. */
export interface BlobPlacement {
  blob: string
  holders: string[]
  live: number
}

/** Inclusive byte range. */
export interface ByteRange {
  start: number
  end: number
}

/** Options of {@link NodeLike.put}. */
export interface PutOptions {
  name?: string
  signal?: AbortSignal
  onProgress?: (bytes: number) => void
}

/** Options of {@link NodeLike.get}. */
export interface GetOptions {
  range?: ByteRange
  signal?: AbortSignal
}

/** The node API the daemon serves (mirrors `CasNode` of `@cas/server`). */
export interface NodeLike {
  readonly id: string
  readonly addresses: string[]
  put(source: AsyncIterable<Uint8Array> | Readable, opts?: PutOptions): Promise<PutResult>
  stat(ref: string): Promise<FileInfo>
  get(ref: string, opts?: GetOptions): Promise<{ info: FileInfo; stream: Readable }>
  delete(ref: string): Promise<void>
  list(): Promise<CatalogEntry[]>
  share(ref: string): Promise<string>
  peers(): PeerInfo[]
  status(): Promise<NodeStatus>
  placement(ref: string): Promise<BlobPlacement[]>
  /** Plain numeric counters (and the `repairQueue` gauge) the app exports to Prometheus. */
  readonly metrics: object
}
