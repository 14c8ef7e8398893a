/**
 * @packageDocumentation
 * `@cas/store` — a content-addressed blob store on disk: blobs at CAS paths, verified atomic
 * writes, byte-range reads, pins with tombstones, a capacity quota and a rate-limited scrub.
 */
export { BlobStore, openStore } from './store.js'
export type {
  ByteRange,
  CollectOptions,
  CollectResult,
  GetOptions,
  PutOptions,
  PutResult,
  ScrubOptions,
  ScrubResult,
  StoreLogger,
  StoreOptions,
  StoreStat,
} from './store.js'
export type { BlobSource } from './write-temp.js'
export type { Pin, Tombstone } from './metadata.js'
export { StoreError } from './errors.js'
export type { StoreErrorCode } from './errors.js'
export { isBlobId } from './id.js'
export {
  DEFAULT_SCRUB_BYTES_PER_SECOND,
  DEFAULT_TOMBSTONE_GRACE_MS,
  IO_CHUNK_SIZE,
} from './constants.js'
