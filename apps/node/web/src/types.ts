/** Shapes of the daemon's HTTP API (DESIGN §6 and its web additions). */

/** One entry of `GET /v1/files`. */
export interface FileEntry {
  name: string
  address: string
  size: number
  sha256: string
  createdAt: string
  /** Live copies of the file's least-replicated blob. */
  replicas: number
}

/** Reply of `POST /v1/files`. */
export interface PutResult {
  address: string
  size: number
  sha256: string
  name?: string
  replicas: number
  warning?: string
}

export type PeerState = 'alive' | 'suspect' | 'dead'

/** One entry of `GET /v1/peers`. */
export interface PeerInfo {
  id: string
  addresses: string[]
  state: PeerState
  lastSeen: string
  capacity: number | null
  used: number
}

/** Reply of `GET /v1/status`. */
export interface NodeStatus {
  id: string
  addresses: string[]
  peers: number
  blobs: number
  bytes: number
  /** Bytes this node offers; null or absent when unlimited. */
  capacity: number | null
  underReplicated: number
  /** Replication target. */
  replicas?: number
  /** Version of the `cas` daemon. */
  version?: string
}

/** One entry of `GET /v1/files/:ref/placement`. */
export interface BlobPlacement {
  blob: string
  holders: string[]
  live: number
}

/** What `HEAD /v1/files/:ref` tells about a file. */
export interface RemoteFileInfo {
  size: number
  sha256: string
  name?: string
}
