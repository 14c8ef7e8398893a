import type { EventEmitter } from 'node:events'
import type { SealedChunk, ThreadSha256 } from '@cas/crypto'
import type { BodyPool } from './body-pool.js'
import type { Catalog } from './catalog.js'
import type { Clock } from './clock.js'
import type { BlobStoreLike, HostLike } from './components.js'
import type { Timing } from './constants.js'
import type { Logger } from './logger.js'
import type { Membership } from './membership.js'
import type { PeerHealth } from './peer-health.js'

/** Plain counters a node keeps; the app exports them to Prometheus. */
export interface NodeMetrics {
  /** Plaintext bytes accepted by put. */
  bytesPut: number
  /** Plaintext bytes delivered by get. */
  bytesGot: number
  /** Blob bytes sent to holders by put. */
  bytesReplicated: number
  /** Blobs fetched from other nodes. */
  blobsFetched: number
  /** Blobs other nodes stored here. */
  blobsReceived: number
  /** Blobs served to other nodes. */
  blobsServed: number
  /** Blobs that arrived with bytes not matching their id. */
  corruptBlobs: number
  /** Copies in this node's own store found damaged (bytes not matching the id) and moved aside. */
  localCorruptBlobs: number
  /** Damaged local copies replaced by verified ones fetched from other nodes. */
  blobsHealed: number
  /** Blobs waiting for a repair push in the current pass. */
  repairQueue: number
  /** Copies pushed by repair. */
  repairPushed: number
  /** Surplus copies dropped by repair. */
  repairDropped: number
  /** Completed repair passes. */
  repairPasses: number
  /** Gossip messages sent and received. */
  gossipSent: number
  gossipReceived: number
}

/** A fresh set of zeroed counters. */
export function newMetrics(): NodeMetrics {
  return {
    bytesPut: 0,
    bytesGot: 0,
    bytesReplicated: 0,
    blobsFetched: 0,
    blobsReceived: 0,
    blobsServed: 0,
    corruptBlobs: 0,
    localCorruptBlobs: 0,
    blobsHealed: 0,
    repairQueue: 0,
    repairPushed: 0,
    repairDropped: 0,
    repairPasses: 0,
    gossipSent: 0,
    gossipReceived: 0,
  }
}

/** Everything the node's parts share. */
export interface NodeContext {
  readonly id: string
  readonly host: HostLike
  readonly store: BlobStoreLike
  readonly membership: Membership
  readonly catalog: Catalog
  readonly ownerKey: Buffer
  readonly replicas: number
  readonly chunkSize: number
  /** Chunks in flight during a put. */
  readonly putWindow: number
  /** Chunks fetched ahead during a get. */
  readonly getWindow: number
  /**
   * Seals a file chunk with the owner key, as `sealChunk` does, after adding it to `fileHash` (one
   * of {@link fileHash}'s): on a crypto thread when the node has them (see `cryptoThreads`), else
   * on the event loop. The plaintext is read before this returns (copied to the thread, or sealed
   * at once), so the caller may reuse its memory.
   */
  readonly seal: (plaintext: Uint8Array, fileHash?: ThreadSha256) => Promise<SealedChunk>
  /** Starts a whole-file SHA-256, on a crypto thread when the node has them. */
  readonly fileHash: () => ThreadSha256
  /**
   * Gives back the memory of a blob from {@link seal} that nothing reads any more, for a later seal
   * to write into (see `CryptoPool.recycle`); a no-op without crypto threads.
   */
  readonly recycle: (blob: Buffer) => void
  /**
   * Memory for blobs: the host's received bodies and the copies a get reads or a holder serves come
   * from here, and go back once nothing reads them any more (see {@link BodyPool}).
   */
  readonly bodies: BodyPool
  readonly clock: Clock
  readonly timing: Timing
  readonly logger: Logger
  readonly metrics: NodeMetrics
  readonly events: EventEmitter
  /**
   * Blobs written here recently (id → local time): a put may still be sending
   * them to their holders, so repair leaves them alone for a grace period
   * instead of racing the put with duplicate pushes.
   */
  readonly recent: Map<string, number>
  /** Blobs held here with fewer live copies than wanted at the last check, with that count. */
  readonly shortBlobs: Map<string, number>
  /** Blobs whose damaged local copy is being replaced (one heal per blob at a time). */
  readonly healing: Set<string>
  /** Peers being told about this owner's deletes right now (see deletes.ts), so a flapping peer is not told twice at once. */
  readonly tellingDeletes: Set<string>
  /** Peers that failed to take some delete's unpins: told every remembered delete again soon (see deletes.ts). */
  readonly owedDeletes: Set<string>
  /** Clean-ups of failed puts still running: stopping waits for them (see put.ts). */
  readonly cleanups: Set<Promise<void>>
  /** Peers that recently failed to answer requests: placement routes around them for a while. */
  readonly health: PeerHealth
  /**
   * Blobs that puts in progress have placed (id → how many puts): not in the catalog yet, so a
   * delete or the clean-up of a failed put must leave them pinned (see put.ts).
   */
  readonly placing: Map<string, number>
}
