/** Defaults and limits of the blob store, in one place. */

/** Size of each write to a temp file and of each read while hashing: large writes keep syscalls few. */
export const IO_CHUNK_SIZE = 1024 * 1024

/** `highWaterMark` of streams returned by `createReadStream`. */
export const READ_STREAM_HIGH_WATER_MARK = 256 * 1024

/** How long an unpin's tombstone outlives it, so a stale copy cannot be pinned back (7 days). */
export const DEFAULT_TOMBSTONE_GRACE_MS = 7 * 24 * 60 * 60 * 1000

/** Default re-hash rate of `scrub()`: background work must not starve foreground reads and writes. */
export const DEFAULT_SCRUB_BYTES_PER_SECOND = 32 * 1024 * 1024

/**
 * A temp file whose writer process still runs is kept at start-up unless it has not been touched for
 * this long (a recycled pid must not pin an orphan forever).
 */
export const STALE_TEMP_AGE_MS = 60 * 60 * 1000

/** Longest owner string accepted by `pin` / `unpin` (node ids are 64 hex characters). */
export const MAX_OWNER_LENGTH = 256

/** Largest virtual address space reserved for the metadata database (grows on demand, sparse on disk). */
export const META_MAP_SIZE = 16 * 1024 * 1024 * 1024

/** Permission bits of stored blobs: immutable content is read-only. */
export const BLOB_FILE_MODE = 0o444

/** Directory names under the store root. */
export const BLOBS_DIR = 'blobs'
export const TMP_DIR = 'tmp'
export const QUARANTINE_DIR = 'quarantine'
export const META_DIR = 'meta'

/** Expired tombstones are forgotten in transactions of at most this many. */
export const PRUNE_BATCH = 10_000

/**
 * Fan-out directories a store remembers having made (a mkdir and its syncs saved per put into one);
 * one it forgot costs a mkdir that finds it there.
 */
export const MAX_KNOWN_DIRS = 4096
