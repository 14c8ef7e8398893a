/** Plaintext bytes per chunk (DESIGN §2); the last chunk of a file may be shorter. */
export const DEFAULT_CHUNK_SIZE = 1024 * 1024

/** Most entries one manifest may list; larger files use a tree of manifests (DESIGN §2). */
export const MAX_MANIFEST_ENTRIES = 4096

/** Manifest format version. */
export const MANIFEST_VERSION = 1

/** Largest manifest JSON accepted when decoding: 4096 entries of ~170 bytes plus slack. */
export const MAX_MANIFEST_BYTES = 1024 * 1024

/** Deepest manifest tree accepted when reading (4096^6 chunks is far beyond any file). */
export const MAX_TREE_DEPTH = 6

/** Copies of every blob on distinct live nodes (DESIGN §5). */
export const DEFAULT_REPLICAS = 3

/** Prefix of a capability string: `cas1:<address>:<fileKeyHex>`. */
export const CAPABILITY_PREFIX = 'cas1'

/** Chunks sealed and in flight to their holders at once during a put. */
export const PUT_WINDOW = 8

/**
 * Chunks a put has being sealed ahead of the one it places: enough that the crypto thread never
 * waits for the put's loop. (All of one put's seals go to the thread holding its file hash.)
 */
export const SEAL_AHEAD = 2

/** Chunks fetched ahead of the reader at once during a get. */
export const GET_WINDOW = 8

/** Per-request timeout for blob transfers between nodes. */
export const TRANSFER_TIMEOUT_MS = 30_000

/** Per-request timeout for small control requests (has, pin, unpin). */
export const CONTROL_TIMEOUT_MS = 10_000

/** Most blob ids in one has/pin/unpin request (wire limit of @cas/p2p). */
export const MAX_BATCH = 1024

/** Most peer records in one gossip message (wire limit of @cas/p2p). */
export const MAX_GOSSIP_RECORDS = 1024

/**
 * Membership timing (van Renesse et al.). A peer whose heartbeat has not
 * advanced for `suspectAfterMs` is suspect, after `deadAfterMs` dead (it leaves
 * placement and its blobs are repaired elsewhere), after `forgetAfterMs` it is
 * dropped from the table; its last heartbeat is remembered as long again so
 * stale gossip cannot resurrect it.
 */
export const DEFAULT_TIMING = {
  gossipIntervalMs: 1000,
  gossipFanout: 3,
  suspectAfterMs: 5_000,
  deadAfterMs: 15_000,
  forgetAfterMs: 10 * 60_000,
  /** Full repair pass over the local store. */
  repairIntervalMs: 60_000,
  /** A pass that left blobs short of copies looks at just those again after this long (doubling while some stay short, up to repairIntervalMs). */
  repairRecheckMs: 2_000,
  /** Quiet period after a membership change before a repair pass starts. */
  repairDebounceMs: 500,
  /** Bytes per second repair may push to other nodes. */
  repairBytesPerSecond: 64 * 1024 * 1024,
  /** Pushes repair keeps in flight at once. */
  repairConcurrency: 2,
  /** Repair leaves blobs written less than this long ago alone (a put may still be sending them). */
  repairGraceMs: 30_000,
  /** A blob transfer not answered within this long gets the next candidate started beside it (and the peer is routed around). */
  hedgeAfterMs: 5_000,
  /** How long a peer that did not answer a request is routed around; doubles while it keeps failing. */
  unresponsiveBackoffMs: 30_000,
  /** Longest such period. */
  unresponsiveBackoffMaxMs: 10 * 60_000,
  /** How long a peer caught serving bytes that do not match their blob id is neither asked for blobs nor given any. */
  distrustMs: 30 * 60_000,
  /** Time from start to the first integrity scrub of the local store (when the store can scrub). */
  scrubDelayMs: 5 * 60_000,
  /** Time from the end of one scrub to the start of the next; the store bounds its rate. */
  scrubIntervalMs: 60 * 60_000,
  /** How often an unreachable bootstrap address is retried while alone, at first (the wait doubles up to BOOTSTRAP_RETRY_MAX_MS). */
  bootstrapRetryMs: 2_000,
  /**
   * With peers, a bootstrap node this node does not see alive is dialled this often: a bootstrap
   * node restarted after its peers forgot it, knowing nobody, is brought back into the network.
   */
  bootstrapRefreshMs: 30_000,
  /**
   * A peer that failed to take a delete's unpins (down for a moment, restarting, or slow) is told
   * every remembered delete again after this long, while it is not dead; a dead one is told once
   * it is back.
   */
  deleteRetryMs: 5_000,
} as const

/** Node timing options; see {@link DEFAULT_TIMING}. */
export type Timing = { -readonly [K in keyof typeof DEFAULT_TIMING]: number }

/**
 * A node counts as full (placement sends it no new copies) when no more than
 * this much of its capacity is free: one window of chunks plus slack. Smaller
 * nodes use an eighth of their capacity instead; see `isFull`.
 */
export const FULL_MARGIN_BYTES = 64 * 1024 * 1024

/** Longest a stopping node waits for the clean-ups of puts that failed as it stopped. */
export const CLEANUP_WAIT_MS = 15_000

/** Longest wait between dials of a bootstrap address that keeps failing (they start at `bootstrapRetryMs`). */
export const BOOTSTRAP_RETRY_MAX_MS = 30_000

/** Most entries in the recently-written set; the oldest are dropped beyond it. */
export const MAX_RECENT_BLOBS = 100_000

/** Capacity advertised on the wire for "unlimited" (JSON has no Infinity). */
export const UNLIMITED_CAPACITY = Number.MAX_SAFE_INTEGER

/** Catalog entries kept by name and address; LMDB map size grows as needed. */
export const CATALOG_DB_NAMES = { files: 'files', names: 'names', refs: 'refs', blobs: 'blobs', meta: 'meta', deletes: 'deletes', deleted: 'deleted', unapplied: 'unapplied', placing: 'placing' } as const

/**
 * How long this node remembers its deletes to tell peers that were away: as long as peers keep
 * tombstones (@cas/store's default grace period). After that a returning copy is garbage that
 * repair cannot tell from data, the same limit Cassandra's gc_grace_seconds sets.
 */
export const DELETE_MEMORY_MS = 7 * 24 * 60 * 60 * 1000

/**
 * A damaged local copy is fetched again this many times at most, waiting 1 s, then 2 s, then 4 s
 * between tries (the other holders may be briefly unreachable); after that, repair brings it.
 */
export const HEAL_ATTEMPTS = 4
export const HEAL_RETRY_MS = 1000
