/**
 * @packageDocumentation
 * `@cas/server` — the CAS cluster node: chunking and manifests (DESIGN §2),
 * gossip membership, rendezvous placement, replicated put, verified parallel
 * get, repair, owner-only delete and the per-node catalog (DESIGN §5).
 */
export { CasNode } from './node.js'
export { createNode, PROTOCOL_VERSION, type NodeOptions } from './create-node.js'
export type { NodeComponents, CatalogEntry, PeerInfo, NodeStatus, BlobPlacement, GetOptions, CasNodeEvents } from './node.js'
export type { PutOptions, PutResult } from './put.js'
export type { FileInfo, ByteRange } from './get.js'
export type { RepairReport } from './repair.js'
export type { NodeMetrics } from './context.js'
export type { BlobStoreLike, HostLike, PeerConnectionLike, HelloLike, IncomingRequest, IncomingMessage, Reply, Pin, BlobRange } from './components.js'
export { ServerError, type ServerErrorCode } from './errors.js'
export { systemClock, ManualClock, type Clock, type TimerHandle } from './clock.js'
export { silentLogger, type Logger } from './logger.js'
export { tuneGarbageCollector, HEAP_GROWING_PERCENT, YOUNG_GROWTH_FACTOR } from './gc-tuning.js'
export { collectGarbage, type CollectOptions } from './full-collection.js'
export { watchOldSpace, OLD_SPACE_STEP_BYTES, OLD_SPACE_CHECK_MS, type OldSpaceWatchOptions } from './old-space-watch.js'
export { tuneAllocator, releaseFreeMemory, TRIM_THRESHOLD_BYTES, MMAP_THRESHOLD_BYTES, type AllocatorTuning } from './allocator-tuning.js'
export { execWithOneArena, ONE_ARENA } from './one-arena.js'
export { chunkStream, type ChunkStreamOptions } from './chunker.js'
export { BodyPool, MIN_POOLED_BODY, MAX_SPARE_BODIES } from './body-pool.js'
export {
  encodeManifest,
  decodeManifest,
  manifestSchema,
  manifestEntrySchema,
  ManifestBuilder,
  walkChunks,
  walkBlobs,
  type Manifest,
  type ManifestEntry,
  type ChunkRef,
} from './manifest.js'
export { formatCapability, parseCapability, parseRef, type Capability, type ParsedRef } from './capability.js'
export { Placement, pickHolders, placeBlob, rankMembers, rendezvousWeight, type PlacementMember, type RankedMember } from './placement.js'
export { Membership, isFull, type PeerRecord, type PeerState, type Member, type MembershipOptions } from './membership.js'
export { Catalog, type FileRecord, type NewFile } from './catalog.js'
export {
  DEFAULT_CHUNK_SIZE,
  DEFAULT_REPLICAS,
  DEFAULT_TIMING,
  MAX_MANIFEST_ENTRIES,
  CAPABILITY_PREFIX,
  type Timing,
} from './constants.js'
