/*
 * The parts of @cas/store and @cas/p2p the node relies on, as structural
 * interfaces: the real BlobStore and Host satisfy them, and tests can run the
 * node against small in-memory stand-ins.
 */
import type { Readable } from 'node:stream'

/** A byte range of a stored blob. */
export interface BlobRange {
  offset: number
  length?: number
}

/** A pin: which owner asked for a blob to be kept, at which of its sequence numbers. */
export interface Pin {
  owner: string
  seq: number
}

/** The blob store the node keeps its ciphertext in (satisfied by @cas/store's BlobStore). */
export interface BlobStoreLike {
  /**
   * Stores bytes after checking they hash to `id`; `pins` are recorded before the blob becomes
   * visible (false where a newer tombstone refuses one). `verified`: the caller itself just hashed
   * these exact bytes to `id` (a blob this node sealed), so the store may skip its own hash.
   * `requirePin`: a new blob none of whose `pins` is recorded, and that nobody pins already, never
   * becomes visible (`stored: false`). Once it resolves, the store must hold no reference to
   * `data`: the node may write other bytes into that memory.
   */
  put(id: string, data: Uint8Array, opts?: { signal?: AbortSignal; pins?: Pin[]; verified?: boolean; requirePin?: boolean }): Promise<{ stored: boolean; size: number; pinned?: boolean[] }>
  /**
   * Reads a blob (or a range of it). A store that reads into new memory takes it from `allocate`
   * when given (exactly `length` bytes), and keeps no reference to it.
   */
  get(id: string, range?: BlobRange, opts?: { allocate?: (length: number) => Buffer }): Promise<Buffer>
  createReadStream?(id: string, range?: BlobRange): Promise<Readable>
  has(id: string): Promise<boolean>
  delete(id: string): Promise<boolean>
  list(): AsyncIterable<string>
  stat(): Promise<{ count: number; bytes: number; capacity: number }>
  pin(id: string, owner: string, seq: number): Promise<boolean>
  unpin(id: string, owner: string, seq: number): Promise<boolean>
  pins(id: string): Promise<Pin[]>
  isPinned(id: string): Promise<boolean>
  /** Moves a copy whose bytes no longer match its id out of view, keeping its pins; true when moved. Without it, the node deletes such a copy. */
  quarantine?(id: string): Promise<boolean>
  /** Re-hashes every blob at a bounded rate, moving damaged ones out of view; the node runs it now and then when present. */
  scrub?(opts?: { signal?: AbortSignal }): Promise<{ corrupt: string[] }>
}

/** What a node says about itself in the handshake. */
export interface HelloLike {
  version: number
  addresses: string[]
  capacity: number
  used: number
}

/** An authenticated connection to a peer. */
export interface PeerConnectionLike {
  readonly peerId: string
  readonly hello: HelloLike
  readonly remoteAddress: string
}

/** A request received from an authenticated peer. */
export interface IncomingRequest {
  /** The sender's node id, from the handshake. */
  peer: string
  /** Header fields, validated against the wire schemas by the transport; re-checked where they matter. */
  header: Record<string, unknown>
  body?: Buffer
  signal: AbortSignal
}

/** A one-way message received from an authenticated peer. */
export interface IncomingMessage {
  peer: string
  header: Record<string, unknown>
  body?: Buffer
}

/** A reply to a request. */
export interface Reply {
  header: Record<string, unknown>
  body?: Buffer
  /** Called once the body is encrypted for sending and its memory free for reuse (a host may never call it). */
  bodyEncrypted?: () => void
}

/** The peer-to-peer host the node talks through (satisfied by @cas/p2p's Host). */
export interface HostLike {
  readonly id: string
  readonly addresses: string[]
  handle(
    type: string,
    handler: (req: IncomingRequest) => Promise<{ header?: object; body?: Buffer } | void>,
  ): void
  onMessage(type: string, handler: (msg: IncomingMessage) => void): void
  connect(addr: string, opts?: { expectedId?: string; signal?: AbortSignal }): Promise<PeerConnectionLike>
  request(
    peer: string,
    type: string,
    header: object,
    body?: Buffer,
    opts?: { signal?: AbortSignal; timeoutMs?: number },
  ): Promise<Reply>
  send(peer: string, type: string, header: object, body?: Buffer): Promise<void>
  isConnected(peer: string): boolean
  /** Drops the connection to a peer (only if nothing arrived on it for `ifSilentForMs`); true if one was dropped. */
  disconnect(peer: string, opts?: { ifSilentForMs?: number }): boolean
  close(): Promise<void>
  on(event: 'peer:connect', listener: (conn: PeerConnectionLike) => void): unknown
  on(event: 'peer:disconnect', listener: (peerId: string) => void): unknown
}
