/*
 * How a blob gets in, and why a crash never shows half of one:
 *
 *   1. The bytes go to a fresh temp file under <root>/tmp/ (named after the writing pid), hashed as
 *      they are written (with O_DIRECT where the filesystem allows: see direct-io.ts). If they do
 *      not hash to the id, the temp file is removed: nothing is kept.
 *   2. The temp file is fdatasync'ed: its bytes are on disk before anyone can see them.
 *   3. Under the blob's lock: if the blob appeared meanwhile (a concurrent put), the temp file is
 *      dropped; otherwise rename(2) moves it to blobs/ab/cd/<id> — atomic, so a reader (or a crash)
 *      sees either no file or the whole verified one — and the directory is fsync'ed so the new
 *      name survives a power loss.
 *
 * A crash between 1 and 3 leaves only a temp file, which the next start-up removes. Blob counters
 * live in memory and are saved to the metadata database on close with a "clean" flag; a start-up
 * that finds no clean flag (a crash) recounts the blobs on disk. Pins and tombstones are LMDB
 * transactions, durable before pin/unpin resolve.
 */
import { constants } from 'node:fs'
import { mkdir, open, rename, stat as statFile, unlink } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { Readable } from 'node:stream'
import {
  BLOBS_DIR,
  DEFAULT_SCRUB_BYTES_PER_SECOND,
  DEFAULT_TOMBSTONE_GRACE_MS,
  MAX_KNOWN_DIRS,
  MAX_OWNER_LENGTH,
  META_DIR,
  QUARANTINE_DIR,
  READ_STREAM_HIGH_WATER_MARK,
  STALE_TEMP_AGE_MS,
  TMP_DIR,
} from './constants.js'
import { StoreError, abortError, isErrno, toStoreError } from './errors.js'
import { AlignedBuffers, O_DIRECT, probeDirectIo, readDirect } from './direct-io.js'
import { ensureDir, syncDir } from './fsync.js'
import { hashFile } from './hash-file.js'
import { assertBlobId, blobDir, blobPath } from './id.js'
import { KeyedMutex } from './keyed-mutex.js'
import { Metadata } from './metadata.js'
import { Quota } from './quota.js'
import type { Reservation } from './quota.js'
import type { Pin, Tombstone } from './metadata.js'
import { removeStaleTempFiles, tempName } from './temp-files.js'
import { Throttle } from './throttle.js'
import { walkBlobIds } from './walk.js'
import { writeVerifiedTemp } from './write-temp.js'
import type { BlobSource } from './write-temp.js'

/** A pino-compatible logger; the store logs start-up repairs and corrupt blobs. */
export interface StoreLogger {
  info(obj: object, msg?: string): void
  warn(obj: object, msg?: string): void
}

/** Options of {@link openStore}. */
export interface StoreOptions {
  /** Folder of the store; created if missing. */
  root: string
  /** Most blob bytes the store accepts; puts beyond it fail with FULL. Default: no limit. */
  capacity?: number
  /** Default re-hash rate of {@link BlobStore.scrub}. */
  scrubBytesPerSecond?: number
  /** How long a tombstone outlives its unpin. Default 7 days. */
  tombstoneGraceMs?: number
  logger?: StoreLogger
  /** Wall clock in ms since the epoch (tombstone times, blob ages). Default `Date.now`. */
  clock?: () => number
  /**
   * Write blobs with O_DIRECT, bypassing the page cache, where the filesystem supports it (checked
   * at open; see {@link BlobStore.directIo}). Default true; false always writes through the cache.
   */
  directIo?: boolean
}

/** A byte range of a blob: `length` bytes from `offset`, or to the end when `length` is omitted. */
export interface ByteRange {
  offset: number
  length?: number
}

/** Options of {@link BlobStore.get}. */
export interface GetOptions {
  /**
   * Memory for the bytes read, called once with their length; it must give exactly that many
   * bytes. For a caller that reuses the memory of blobs it is done with. Default: new memory.
   */
  allocate?: (length: number) => Buffer
}

/** Options of {@link BlobStore.put}. */
export interface PutOptions {
  signal?: AbortSignal
  /** Expected byte length: checked against the quota before any byte is written; a longer or shorter source is CORRUPT. */
  size?: number
  /** Pins recorded together with the blob, before it becomes visible, so a collect can never catch it unpinned. */
  pins?: Pin[]
  /**
   * With `pins`: keep a new blob only if at least one of them is recorded, or another owner pins it
   * already. Otherwise nothing becomes visible (`stored: false`): a blob pushed by a peer after its
   * owner deleted it is garbage, and writing it first to delete it a moment later would show it to
   * anyone who looks in between.
   */
  requirePin?: boolean
  /**
   * The caller has itself just computed `id` as the SHA-256 of exactly these bytes (`data` must be a
   * `Uint8Array`), so the store skips hashing them a second time. Only for bytes the caller hashed
   * and has held in memory since: bytes from anywhere else (a peer, a file) must be verified here.
   */
  verified?: boolean
}

/** Result of {@link BlobStore.put}. */
export interface PutResult {
  /** False when the blob was already present (the source was then not read). */
  stored: boolean
  size: number
  /** With `pins`: whether each pin was recorded (false: a newer tombstone refused it). */
  pinned?: boolean[]
}

/** Result of {@link BlobStore.stat}. */
export interface StoreStat {
  count: number
  bytes: number
  capacity: number
}

/** Options of {@link BlobStore.collect}. */
export interface CollectOptions {
  signal?: AbortSignal
  /** Spare unpinned blobs written less than this long ago (a put whose pin is still on its way). Default 0. */
  minAgeMs?: number
}

/** Result of {@link BlobStore.collect}. */
export interface CollectResult {
  removed: number
  bytes: number
}

/** Options of {@link BlobStore.scrub}. */
export interface ScrubOptions {
  signal?: AbortSignal
  /** Re-hash rate; defaults to the store's `scrubBytesPerSecond`. `Infinity` for no limit. */
  bytesPerSecond?: number
}

/** Result of {@link BlobStore.scrub}. */
export interface ScrubResult {
  checked: number
  /** Ids of the blobs found corrupt and moved to `<root>/quarantine/`. */
  corrupt: string[]
  /** Bytes re-hashed. */
  bytes: number
}

const silentLogger: StoreLogger = { info: () => {}, warn: () => {} }

// Stores open in this process, by root: their temp files must survive another instance's start-up.
const openRoots = new Map<string, number>()

function assertNonNegativeInteger(value: unknown, what: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new StoreError('INVALID_ARGUMENT', `${what} must be a non-negative integer, got ${String(value)}`)
  }
}

function assertOwner(owner: unknown): asserts owner is string {
  if (typeof owner !== 'string' || owner.length === 0 || owner.length > MAX_OWNER_LENGTH) {
    throw new StoreError('INVALID_ARGUMENT', `owner must be a non-empty string of at most ${MAX_OWNER_LENGTH} characters`)
  }
}

function assertRate(value: number, what: string): void {
  if (typeof value !== 'number' || !(value > 0)) throw new StoreError('INVALID_ARGUMENT', `${what} must be positive, got ${String(value)}`)
}

/** Resolves a range against a blob of `size` bytes to `[start, end)`. */
function resolveRange(range: ByteRange | undefined, size: number): [number, number] {
  if (range === undefined) return [0, size]
  assertNonNegativeInteger(range.offset, 'range offset')
  if (range.length !== undefined) assertNonNegativeInteger(range.length, 'range length')
  if (range.offset > size) {
    throw new StoreError('INVALID_ARGUMENT', `range offset ${range.offset} is past the end of a ${size}-byte blob`)
  }
  const end = range.length === undefined ? size : Math.min(size, range.offset + range.length)
  return [range.offset, end]
}

/**
 * A content-addressed blob store on disk. Create with {@link openStore}. Every method validates
 * its arguments and fails with a {@link StoreError} carrying a stable code.
 */
export class BlobStore {
  /** The store's root folder (absolute). */
  readonly root: string
  readonly #blobsDir: string
  readonly #tmpDir: string
  readonly #quarantineDir: string
  readonly #meta: Metadata
  readonly #quota: Quota
  readonly #scrubRate: number
  readonly #graceMs: number
  readonly #logger: StoreLogger
  readonly #clock: () => number
  readonly #locks = new KeyedMutex()
  // Staging buffers of direct writes; undefined when blobs are written through the page cache.
  readonly #direct: AlignedBuffers | undefined
  // Fan-out directories made (or being made) by this process, the most recent MAX_KNOWN_DIRS of
  // them: saves a mkdir and its syncs per put. Bounded, as a store has 65,536 of them: all of them
  // held a few MB, grown with the store, and V8 lets a heap grow to several times what it keeps.
  readonly #dirs = new Map<string, Promise<void>>()
  // Puts of each blob between their check that it is absent and their end, and whether one of them
  // has published it since. Only a put makes a blob appear, so a put whose blob none of these has
  // published knows it is still absent without a second look at the disk.
  readonly #writing = new Map<string, { puts: number; published: boolean }>()
  #count: number
  #bytes: number
  #active = 0
  #idle: (() => void) | undefined
  #closed = false

  /** @internal Use {@link openStore}. */
  constructor(init: {
    root: string
    meta: Metadata
    count: number
    bytes: number
    capacity: number
    scrubRate: number
    graceMs: number
    logger: StoreLogger
    clock: () => number
    direct: AlignedBuffers | undefined
  }) {
    this.root = init.root
    this.#blobsDir = join(init.root, BLOBS_DIR)
    this.#tmpDir = join(init.root, TMP_DIR)
    this.#quarantineDir = join(init.root, QUARANTINE_DIR)
    this.#meta = init.meta
    this.#count = init.count
    this.#bytes = init.bytes
    this.#quota = new Quota(init.capacity, () => this.#bytes)
    this.#scrubRate = init.scrubRate
    this.#graceMs = init.graceMs
    this.#logger = init.logger
    this.#clock = init.clock
    this.#direct = init.direct
  }

  /** Whether blobs are written with O_DIRECT (asked for, and supported by the filesystem). */
  get directIo(): boolean {
    return this.#direct !== undefined
  }

  /**
   * Stores blob `id` from ready bytes or a stream. The bytes are hashed while written and kept only
   * if they hash to `id` (else CORRUPT, nothing kept). Resolves once the blob is durable.
   * When the blob is already present, resolves `{ stored: false }` without reading `data`.
   * Fails with FULL when the blob would exceed the capacity, ABORTED when `signal` fires.
   */
  async put(id: string, data: BlobSource, options: PutOptions = {}): Promise<PutResult> {
    assertBlobId(id)
    const { signal, size: declared, pins, verified = false, requirePin = false } = options
    if (declared !== undefined) assertNonNegativeInteger(declared, 'size')
    if (verified && !(data instanceof Uint8Array)) throw new StoreError('INVALID_ARGUMENT', 'verified applies to ready bytes only, not to streams')
    if (requirePin && pins === undefined) throw new StoreError('INVALID_ARGUMENT', 'requirePin needs pins')
    for (const pin of pins ?? []) {
      assertOwner(pin.owner)
      assertNonNegativeInteger(pin.seq, 'pin seq')
    }
    if (data instanceof Uint8Array && declared !== undefined && declared !== data.byteLength) {
      throw new StoreError('CORRUPT', `declared size ${declared} differs from the ${data.byteLength} bytes given`)
    }
    return this.#operation(async () => {
      const present = await this.#sizeOf(id)
      if (present !== undefined) return this.#alreadyStored(id, present, pins)

      const writing = this.#writing.get(id) ?? { puts: 0, published: false }
      writing.puts++
      this.#writing.set(id, writing)
      const reservation = this.#quota.reserve()
      const tmp = join(this.#tmpDir, tempName())
      try {
        const upFront = data instanceof Uint8Array ? data.byteLength : declared
        if (upFront !== undefined) reservation.growTo(upFront)
        // Awaited (and its failure reported) when the blob is published.
        this.#makeDir(blobDir(this.#blobsDir, id)).catch(() => {})
        let written = 0
        const onBytes = (bytes: number): void => {
          written += bytes
          if (declared !== undefined && written > declared) {
            throw new StoreError('CORRUPT', `source is longer than the declared ${declared} bytes`)
          }
          reservation.growTo(written)
        }
        const size = await writeVerifiedTemp(tmp, data, { id, signal, onBytes, verified, direct: this.#direct })
        if (declared !== undefined && size !== declared) {
          throw new StoreError('CORRUPT', `source has ${size} bytes, ${declared} were declared`)
        }
        return await this.#locks.run(id, () => this.#publish(id, tmp, size, pins, requirePin, reservation, writing))
      } catch (err) {
        await unlink(tmp).catch(() => {})
        throw toStoreError(err, `put ${id}`)
      } finally {
        reservation.release()
        if (--writing.puts === 0) this.#writing.delete(id)
      }
    })
  }

  async #alreadyStored(id: string, size: number, pins: Pin[] | undefined): Promise<PutResult> {
    if (pins === undefined) return { stored: false, size }
    const pinned = await this.#locks.run(id, () => this.#recordPins(id, pins))
    return { stored: false, size, pinned }
  }

  async #recordPins(id: string, pins: Pin[]): Promise<boolean[]> {
    const results: boolean[] = []
    for (const { owner, seq } of pins) results.push(await this.#meta.pin(id, owner, seq))
    return results
  }

  /** Moves a verified, synced temp file to the blob's CAS path. Runs under the blob's lock. */
  async #publish(
    id: string,
    tmp: string,
    size: number,
    pins: Pin[] | undefined,
    requirePin: boolean,
    reservation: Reservation,
    writing: { published: boolean },
  ): Promise<PutResult> {
    // Looked at again only when a concurrent put of the same blob has published it meanwhile.
    const present = writing.published ? await this.#sizeOf(id) : undefined
    if (present !== undefined) {
      // A concurrent put of the same blob won the race: same bytes, keep theirs.
      await unlink(tmp).catch(() => {})
      return this.#withPins({ stored: false, size: present }, pins === undefined ? undefined : await this.#recordPins(id, pins))
    }
    // Pins first: once the blob is visible, a collect must already see them.
    const pinned = pins === undefined ? undefined : await this.#recordPins(id, pins)
    // Under the blob's lock, as unpins are: no unpin can come between this check and the rename.
    if (requirePin && pinned?.every((ok) => !ok) === true && !this.#meta.isPinned(id)) {
      await unlink(tmp).catch(() => {})
      return { stored: false, size, pinned }
    }
    const dir = blobDir(this.#blobsDir, id)
    await this.#makeDir(dir)
    try {
      await rename(tmp, blobPath(this.#blobsDir, id))
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) throw err
      // The fan-out directory was removed behind our back: recreate it once.
      this.#dirs.delete(dir)
      await this.#makeDir(dir)
      await rename(tmp, blobPath(this.#blobsDir, id))
    }
    writing.published = true
    this.#count += 1
    this.#bytes += size
    // In the same tick as the count: the bytes never count twice (or not at all) against the quota.
    reservation.release()
    await syncDir(dir)
    return this.#withPins({ stored: true, size }, pinned)
  }

  /**
   * Creates a blob's fan-out directory (and syncs its parents) once per process. Started before
   * the bytes are written, so for a new directory the syncs overlap the write instead of adding to
   * it; an empty directory left by a failed put is harmless.
   */
  #makeDir(dir: string): Promise<void> {
    let made = this.#dirs.get(dir)
    if (made !== undefined) {
      // Most recently used last: the oldest is the one forgotten.
      this.#dirs.delete(dir)
      this.#dirs.set(dir, made)
    }
    if (made === undefined) {
      made = ensureDir(dir, this.#blobsDir)
      this.#dirs.set(dir, made)
      made.catch(() => this.#dirs.delete(dir))
      if (this.#dirs.size > MAX_KNOWN_DIRS) this.#dirs.delete(this.#dirs.keys().next().value!)
    }
    return made
  }

  #withPins(result: PutResult, pinned: boolean[] | undefined): PutResult {
    return pinned === undefined ? result : { ...result, pinned }
  }

  /**
   * Reads blob `id`, or the given range of it, into one buffer, which the store keeps no reference
   * to. NOT_FOUND if absent; INVALID_ARGUMENT if the range starts past the end (a range running
   * past the end is cut short).
   */
  async get(id: string, range?: ByteRange, options: GetOptions = {}): Promise<Buffer> {
    assertBlobId(id)
    return this.#operation(async () => {
      const staging = this.#direct?.acquire()
      const handle = await this.#openBlob(id, staging !== undefined).catch((err: unknown) => {
        if (staging !== undefined) this.#direct?.release(staging)
        throw err
      })
      try {
        const { size } = await handle.stat()
        const [start, end] = resolveRange(range, size)
        const buffer = options.allocate?.(end - start) ?? Buffer.allocUnsafe(end - start)
        if (buffer.byteLength !== end - start) throw new StoreError('INVALID_ARGUMENT', `allocate gave ${buffer.byteLength} bytes for a read of ${end - start}`)
        if (staging !== undefined) return await readDirect(handle, start, staging, buffer)
        let filled = 0
        while (filled < buffer.byteLength) {
          const { bytesRead } = await handle.read(buffer, filled, buffer.byteLength - filled, start + filled)
          if (bytesRead === 0) throw new StoreError('IO', `blob ${id} ended early`)
          filled += bytesRead
        }
        return buffer
      } catch (err) {
        throw toStoreError(err, `get ${id}`)
      } finally {
        await handle.close()
        if (staging !== undefined) this.#direct?.release(staging)
      }
    })
  }

  /**
   * A stream of blob `id`, or the given range of it. The blob is opened before this resolves, so
   * NOT_FOUND is thrown here, and a later delete does not cut the stream short.
   */
  async createReadStream(id: string, range?: ByteRange): Promise<Readable> {
    assertBlobId(id)
    return this.#operation(async () => {
      const handle = await this.#openBlob(id)
      let start: number
      let end: number
      try {
        ;[start, end] = resolveRange(range, (await handle.stat()).size)
      } catch (err) {
        await handle.close()
        throw toStoreError(err, `read ${id}`)
      }
      if (end === start) {
        await handle.close()
        return Readable.from([])
      }
      return handle.createReadStream({ start, end: end - 1, highWaterMark: READ_STREAM_HIGH_WATER_MARK })
    })
  }

  /** Whether blob `id` is present. */
  async has(id: string): Promise<boolean> {
    return (await this.size(id)) !== undefined
  }

  /** Size in bytes of blob `id`, or undefined if absent. */
  async size(id: string): Promise<number | undefined> {
    assertBlobId(id)
    return this.#operation(() => this.#sizeOf(id))
  }

  /** Removes blob `id` (its pins stay). Resolves false if it was not present. */
  async delete(id: string): Promise<boolean> {
    assertBlobId(id)
    return this.#operation(() =>
      this.#locks.run(id, async () => {
        const removed = await this.#remove(id)
        if (removed) await syncDir(blobDir(this.#blobsDir, id))
        return removed
      }),
    )
  }

  /** Unlinks a blob and updates the counters; the caller holds the lock and syncs the directory. */
  async #remove(id: string): Promise<boolean> {
    const path = blobPath(this.#blobsDir, id)
    try {
      const { size } = await statFile(path)
      await unlink(path)
      this.#count -= 1
      this.#bytes -= size
      return true
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return false
      throw toStoreError(err, `delete ${id}`)
    }
  }

  /**
   * Every blob id in the store, walking the fan-out directories a few entries at a time: constant
   * memory for any number of blobs. Blobs put or deleted during the walk may or may not appear.
   */
  async *list(): AsyncGenerator<string> {
    this.#assertOpen()
    for await (const id of walkBlobIds(this.#blobsDir)) {
      this.#assertOpen()
      yield id
    }
  }

  /** Blob count and bytes (kept as counters: O(1)) and the capacity. */
  async stat(): Promise<StoreStat> {
    this.#assertOpen()
    return Promise.resolve({ count: this.#count, bytes: this.#bytes, capacity: this.#quota.capacity })
  }

  /**
   * Records `owner`'s pin on blob `id` at the owner's sequence number `seq` (the blob need not be
   * present yet). Resolves false when the owner has a tombstone for the blob at `seq` or later.
   */
  async pin(id: string, owner: string, seq: number): Promise<boolean> {
    assertBlobId(id)
    assertOwner(owner)
    assertNonNegativeInteger(seq, 'seq')
    return this.#operation(() => this.#locks.run(id, () => this.#meta.pin(id, owner, seq)))
  }

  /**
   * Removes `owner`'s pin on blob `id` and records a tombstone (owner, blob, seq, time) kept for
   * the grace period. Resolves false when the owner's pin is newer than `seq`.
   */
  async unpin(id: string, owner: string, seq: number): Promise<boolean> {
    assertBlobId(id)
    assertOwner(owner)
    assertNonNegativeInteger(seq, 'seq')
    return this.#operation(() => this.#locks.run(id, () => this.#meta.unpin(id, owner, seq, this.#clock())))
  }

  /** The pins on blob `id`, ordered by owner. */
  async pins(id: string): Promise<Pin[]> {
    assertBlobId(id)
    return this.#operation(() => Promise.resolve(this.#meta.pins(id)))
  }

  /** Whether any owner pins blob `id`. */
  async isPinned(id: string): Promise<boolean> {
    assertBlobId(id)
    return this.#operation(() => Promise.resolve(this.#meta.isPinned(id)))
  }

  /** `owner`'s tombstone for blob `id`, if one is within its grace period. */
  async tombstone(id: string, owner: string): Promise<Tombstone | undefined> {
    assertBlobId(id)
    assertOwner(owner)
    return this.#operation(() => Promise.resolve(this.#meta.tombstone(id, owner)))
  }

  /**
   * Deletes every blob without pins, and forgets tombstones older than the grace period.
   * Each blob is re-checked under its lock, so a pin racing the collection wins.
   */
  async collect(options: CollectOptions = {}): Promise<CollectResult> {
    const { signal, minAgeMs = 0 } = options
    assertNonNegativeInteger(minAgeMs, 'minAgeMs')
    return this.#operation(async () => {
      await this.#meta.pruneTombstones(this.#clock() - this.#graceMs)
      let removed = 0
      let bytes = 0
      // Directory syncs are batched: one per fan-out directory touched, at the end.
      const touched = new Set<string>()
      try {
        for await (const id of walkBlobIds(this.#blobsDir)) {
          if (signal?.aborted === true) throw abortError(signal, 'collect')
          if (this.#meta.isPinned(id)) continue
          await this.#locks.run(id, async () => {
            if (this.#meta.isPinned(id)) return
            const size = await this.#sizeOf(id, minAgeMs)
            if (size === undefined || !(await this.#remove(id))) return
            removed += 1
            bytes += size
            touched.add(blobDir(this.#blobsDir, id))
          })
        }
      } finally {
        for (const dir of touched) await syncDir(dir)
      }
      return { removed, bytes }
    })
  }

  /**
   * Re-hashes every blob at a bounded rate; a blob whose bytes no longer match its id is moved to
   * `<root>/quarantine/<id>.<time>` (and leaves the counters), so a good copy can be fetched again.
   * `signal` stops it with ABORTED.
   */
  async scrub(options: ScrubOptions = {}): Promise<ScrubResult> {
    const { signal, bytesPerSecond = this.#scrubRate } = options
    assertRate(bytesPerSecond, 'bytesPerSecond')
    return this.#operation(async () => {
      const throttle = new Throttle(bytesPerSecond)
      const corrupt: string[] = []
      let checked = 0
      let bytes = 0
      for await (const id of walkBlobIds(this.#blobsDir)) {
        if (signal?.aborted === true) throw abortError(signal, 'scrub')
        const path = blobPath(this.#blobsDir, id)
        let digest: string
        try {
          const size = (await statFile(path)).size
          digest = await hashFile(path, { throttle, signal })
          bytes += size
        } catch (err) {
          if (isErrno(err, 'ENOENT')) continue // deleted meanwhile
          throw toStoreError(err, `scrub ${id}`)
        }
        checked += 1
        if (digest === id) continue
        if (await this.#locks.run(id, () => this.#quarantine(id))) corrupt.push(id)
      }
      return { checked, corrupt, bytes }
    })
  }

  /**
   * Re-hashes blob `id` and, when its bytes no longer match the id, moves it to
   * `<root>/quarantine/<id>.<time>` as the scrub does (its pins stay, so a good copy put back later
   * is kept for the same owners). For a reader that has just found a damaged copy: the blob
   * disappears from view at once instead of at the next scrub. Resolves true when it was moved,
   * false when it is intact or absent.
   */
  async quarantine(id: string): Promise<boolean> {
    assertBlobId(id)
    return this.#operation(() => this.#locks.run(id, () => this.#quarantine(id)))
  }

  /** Moves a corrupt blob aside. Re-checks under the lock: the blob may have been replaced meanwhile. */
  async #quarantine(id: string): Promise<boolean> {
    const path = blobPath(this.#blobsDir, id)
    let size: number
    try {
      if ((await hashFile(path)) === id) return false
      size = (await statFile(path)).size
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return false
      throw err
    }
    const target = join(this.#quarantineDir, `${id}.${this.#clock()}`)
    await rename(path, target)
    this.#count -= 1
    this.#bytes -= size
    await syncDir(blobDir(this.#blobsDir, id))
    this.#logger.warn({ blob: id, quarantined: target }, 'corrupt blob moved to quarantine')
    return true
  }

  /**
   * Waits for operations in progress, saves the counters and closes the metadata database.
   * Later calls fail with CLOSED. Idempotent.
   */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    if (this.#active > 0) {
      await new Promise<void>((resolve) => {
        this.#idle = resolve
      })
    }
    try {
      await this.#meta.writeStats({ count: this.#count, bytes: this.#bytes, clean: true })
    } finally {
      await this.#meta.close()
      releaseRoot(this.root)
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw new StoreError('CLOSED', 'store is closed')
  }

  /** Runs an operation, counted so close() can wait for it. */
  async #operation<T>(fn: () => Promise<T>): Promise<T> {
    this.#assertOpen()
    this.#active += 1
    try {
      return await fn()
    } finally {
      this.#active -= 1
      if (this.#active === 0 && this.#idle !== undefined) this.#idle()
    }
  }

  async #openBlob(id: string, direct = false) {
    try {
      return await open(blobPath(this.#blobsDir, id), direct ? constants.O_RDONLY | (O_DIRECT ?? 0) : 'r')
    } catch (err) {
      if (isErrno(err, 'ENOENT')) throw new StoreError('NOT_FOUND', `blob ${id} not found`, { cause: err })
      throw toStoreError(err, `open ${id}`)
    }
  }

  /** Size of a stored blob; undefined if absent or (with `minAgeMs`) written too recently. */
  async #sizeOf(id: string, minAgeMs = 0): Promise<number | undefined> {
    try {
      const info = await statFile(blobPath(this.#blobsDir, id))
      if (minAgeMs > 0 && this.#clock() - info.mtimeMs < minAgeMs) return undefined
      return info.size
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return undefined
      throw toStoreError(err, `stat ${id}`)
    }
  }
}

function claimRoot(root: string): boolean {
  const others = openRoots.get(root) ?? 0
  openRoots.set(root, others + 1)
  return others > 0
}

function releaseRoot(root: string): void {
  const left = (openRoots.get(root) ?? 1) - 1
  if (left === 0) openRoots.delete(root)
  else openRoots.set(root, left)
}

/** Counts the blobs on disk: after a crash the saved counters cannot be trusted. */
async function countBlobs(blobsDir: string): Promise<{ count: number; bytes: number }> {
  let count = 0
  let bytes = 0
  for await (const id of walkBlobIds(blobsDir)) {
    try {
      bytes += (await statFile(blobPath(blobsDir, id))).size
      count += 1
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) throw err
    }
  }
  return { count, bytes }
}

/**
 * Opens (creating if needed) the blob store at `options.root`: creates the folders, opens the
 * metadata database, removes temp files left by crashed writers and, after an unclean shutdown,
 * recounts the blobs. One process should own a root at a time.
 */
export async function openStore(options: StoreOptions): Promise<BlobStore> {
  const {
    capacity = Infinity,
    scrubBytesPerSecond = DEFAULT_SCRUB_BYTES_PER_SECOND,
    tombstoneGraceMs = DEFAULT_TOMBSTONE_GRACE_MS,
    logger = silentLogger,
    clock = Date.now,
    directIo = true,
  } = options
  if (typeof options.root !== 'string' || options.root.length === 0) {
    throw new StoreError('INVALID_ARGUMENT', 'root must be a non-empty path')
  }
  if (typeof capacity !== 'number' || !(capacity >= 0)) {
    throw new StoreError('INVALID_ARGUMENT', `capacity must be a non-negative number of bytes, got ${String(capacity)}`)
  }
  assertRate(scrubBytesPerSecond, 'scrubBytesPerSecond')
  assertNonNegativeInteger(tombstoneGraceMs, 'tombstoneGraceMs')
  if (typeof directIo !== 'boolean') throw new StoreError('INVALID_ARGUMENT', `directIo must be a boolean, got ${String(directIo)}`)
  const root = resolve(options.root)
  const blobsDir = join(root, BLOBS_DIR)
  const tmpDir = join(root, TMP_DIR)

  const sharedRoot = claimRoot(root)
  let meta: Metadata | undefined
  try {
    for (const dir of [blobsDir, tmpDir, join(root, QUARANTINE_DIR), join(root, META_DIR)]) {
      await mkdir(dir, { recursive: true })
    }
    await syncDir(root)
    meta = Metadata.open(join(root, META_DIR))

    const removed = await removeStaleTempFiles(tmpDir, { keepOwn: sharedRoot, now: clock(), staleAgeMs: STALE_TEMP_AGE_MS })
    if (removed.length > 0) logger.info({ root, removed: removed.length }, 'removed stale temp files')

    const saved = meta.readStats()
    let counters: { count: number; bytes: number }
    if (saved?.clean === true) {
      counters = saved
    } else {
      const started = performance.now()
      counters = await countBlobs(blobsDir)
      logger.info(
        { root, ...counters, ms: Math.round(performance.now() - started) },
        saved === undefined ? 'counted blobs' : 'recounted blobs after unclean shutdown',
      )
    }
    // Not clean until close() saves the counters again.
    await meta.writeStats({ ...counters, clean: false })

    let direct: AlignedBuffers | undefined
    if (directIo) {
      const buffers = new AlignedBuffers()
      if (await probeDirectIo(join(tmpDir, tempName()), buffers)) direct = buffers
      else logger.info({ root }, 'this filesystem does not support direct I/O: blobs are written through the page cache')
    }

    return new BlobStore({
      root,
      meta,
      count: counters.count,
      bytes: counters.bytes,
      capacity,
      scrubRate: scrubBytesPerSecond,
      graceMs: tombstoneGraceMs,
      logger,
      clock,
      direct,
    })
  } catch (err) {
    await meta?.close().catch(() => {})
    releaseRoot(root)
    throw toStoreError(err, `open store at ${root}`)
  }
}
