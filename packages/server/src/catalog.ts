import { open, type Database, type RootDatabase } from 'lmdb'
import { CATALOG_DB_NAMES } from './constants.js'
import { ServerError } from './errors.js'

/** One file this node put: what it needs to find, read, share and delete it. */
export interface FileRecord {
  address: string
  /** Hex key of the root manifest. */
  fileKey: string
  size: number
  /** Hex SHA-256 of the plaintext. */
  sha256: string
  /** The names that point at this file, oldest first; none for a file put without a name. */
  names: string[]
  /** ISO 8601. */
  createdAt: string
  /** Data chunks in the file. */
  chunks: number
}

/** A file to record: a put's result, with the name it was put under, if any. */
export type NewFile = Omit<FileRecord, 'names'> & { name?: string }

/** A record as stored: catalogs written before files could have several names hold one `name`. */
type StoredRecord = Omit<FileRecord, 'names'> & { names?: string[]; name?: string }

function fromStored(stored: StoredRecord): FileRecord {
  const { name, names, ...rest } = stored
  return { ...rest, names: names ?? (name !== undefined ? [name] : []) }
}

/**
 * This node's files, in LMDB (crash-safe: every update is one ACID
 * transaction; scales to millions of entries): `files` address → record,
 * `names` name → address, `blobs` address → the file's blob ids (raw 32-byte
 * ids, root included), `refs` blob id → how many of this node's file slots use
 * it (so deleting one of two files that share a chunk keeps the chunk pinned),
 * `meta` the owner's pin sequence number, `deletes` sequence number of a delete →
 * the blob ids it unpinned (kept for the tombstone grace period, so that peers
 * that were away when it happened are told when they come back), `deleted` blob
 * id → the latest of those deletes that unpinned it (the same deletes, by blob), `unapplied`
 * the deletes whose unpins this node's own store has not all taken yet, `placing`
 * [put id, blob id] → the blobs each put in progress has started to place (so
 * that what a put killed midway had pinned is released when the node restarts).
 */
export class Catalog {
  private constructor(
    private readonly root: RootDatabase,
    private readonly files: Database<StoredRecord, string>,
    private readonly names: Database<string, string>,
    private readonly blobs: Database<Buffer, string>,
    private readonly refs: Database<number, string>,
    private readonly meta: Database<number, string>,
    private readonly deletes: Database<Buffer, number>,
    private readonly deleted: Database<number, string>,
    private readonly unapplied: Database<true, number>,
    private readonly placing: Database<true, [number, string]>,
  ) {}

  /** The last sequence number taken in this process, and the write that keeps it. */
  private lastSeq: number | undefined
  private seqWritten: Promise<boolean> = Promise.resolve(true)

  /** Opens (creating if needed) the catalog database in directory `path`. */
  static open(path: string): Catalog {
    try {
      const root = open({ path, compression: false })
      const catalog = new Catalog(
        root,
        root.openDB<StoredRecord, string>({ name: CATALOG_DB_NAMES.files, encoding: 'json' }),
        root.openDB<string, string>({ name: CATALOG_DB_NAMES.names, encoding: 'string' }),
        root.openDB<Buffer, string>({ name: CATALOG_DB_NAMES.blobs, encoding: 'binary' }),
        root.openDB<number, string>({ name: CATALOG_DB_NAMES.refs, encoding: 'json' }),
        root.openDB<number, string>({ name: CATALOG_DB_NAMES.meta, encoding: 'json' }),
        // Keys are numbers in lmdb's ordered key encoding: a range scan walks deletes oldest first.
        root.openDB<Buffer, number>({ name: CATALOG_DB_NAMES.deletes, encoding: 'binary' }),
        root.openDB<number, string>({ name: CATALOG_DB_NAMES.deleted, encoding: 'json' }),
        root.openDB<true, number>({ name: CATALOG_DB_NAMES.unapplied, encoding: 'json' }),
        // Array keys in the same ordered encoding: a put's entries sit together, in put order.
        root.openDB<true, [number, string]>({ name: CATALOG_DB_NAMES.placing, encoding: 'json' }),
      )
      catalog.indexDeletes()
      return catalog
    } catch (err) {
      throw new ServerError('UNAVAILABLE', `cannot open catalog at ${path}`, { cause: err })
    }
  }

  /** The record of a file by address. */
  get(address: string): FileRecord | undefined {
    const stored = this.files.get(address)
    return stored === undefined ? undefined : fromStored(stored)
  }

  /** The address a name points at. */
  resolveName(name: string): string | undefined {
    return this.names.get(name)
  }

  /**
   * Records a file and takes a reference on each of its blobs. Putting the same
   * file again under another name adds that name: a file has as many names as
   * it was put under, like a file with several hard links. A name points at one
   * file: reused for another file, it moves there. Returns true when the file is new.
   */
  async add(file: NewFile, blobIds: Buffer, put?: number): Promise<boolean> {
    return this.root.transaction(() => {
      // In the same transaction: the put is either still unfinished or a file here, never neither.
      if (put !== undefined) this.forgetPlacing(put)
      const { name, ...fields } = file
      const existing = this.get(file.address)
      const next: FileRecord = existing ?? { ...fields, names: [] }
      if (name !== undefined && !next.names.includes(name)) {
        const previous = this.names.get(name)
        if (previous !== undefined && previous !== file.address) this.dropName(previous, name)
        next.names = [...next.names, name]
        void this.names.put(name, file.address)
      }
      void this.files.put(file.address, next)
      if (existing !== undefined) return false
      void this.blobs.put(file.address, blobIds)
      for (const id of splitIds(blobIds)) void this.refs.put(id, (this.refs.get(id) ?? 0) + 1)
      return true
    })
  }

  /**
   * Removes one name of a file that keeps at least one other, and nothing else. Returns false (and
   * changes nothing) when the name is unknown or the file's only name: removing that one is
   * deleting the file, see {@link Catalog.remove}.
   */
  async unname(name: string): Promise<boolean> {
    return this.root.transaction(() => {
      const address = this.names.get(name)
      const record = address === undefined ? undefined : this.get(address)
      if (address === undefined || record === undefined || record.names.length < 2 || !record.names.includes(name)) return false
      this.dropName(address, name)
      void this.names.remove(name)
      return true
    })
  }

  /** Takes `name` off the record of `address` (within a transaction). */
  private dropName(address: string, name: string): void {
    const record = this.get(address)
    if (record !== undefined) void this.files.put(address, { ...record, names: record.names.filter((n) => n !== name) })
  }

  /**
   * Removes a file and drops its blob references; returns the blobs no other
   * file of this node uses any more (to unpin), or undefined if unknown. With
   * `seq`, the delete is recorded with those blobs (see pendingDeletes); blobs
   * for which `keep` is true are neither returned nor recorded.
   */
  async remove(address: string, seq?: number, keep: (id: string) => boolean = () => false): Promise<string[] | undefined> {
    return this.root.transaction(() => {
      const existing = this.files.get(address)
      if (existing === undefined) return undefined
      const released: string[] = []
      const ids = this.blobs.get(address) ?? Buffer.alloc(0)
      for (const id of splitIds(ids)) {
        const n = (this.refs.get(id) ?? 1) - 1
        if (n <= 0) {
          void this.refs.remove(id)
          released.push(id)
        } else {
          void this.refs.put(id, n)
        }
      }
      for (const name of fromStored(existing).names) if (this.names.get(name) === address) void this.names.remove(name)
      void this.blobs.remove(address)
      void this.files.remove(address)
      const unique = [...new Set(released)].filter((id) => !keep(id))
      // In the same transaction: a delete is never forgotten once the file is gone from the catalog.
      if (seq !== undefined && unique.length > 0) this.putDelete(seq, unique)
      return unique
    })
  }

  /**
   * Records that this owner unpinned `blobs` at `seq` without a file to remove (what a failed put
   * had placed), so that peers away now are told later, like after a delete. With `put`, that
   * put's record of what it placed goes in the same transaction.
   */
  async recordDelete(seq: number, blobs: string[], put?: number): Promise<void> {
    await this.root.transaction(() => {
      if (blobs.length > 0) this.putDelete(seq, blobs)
      if (put !== undefined) this.forgetPlacing(put)
    })
  }

  /**
   * Notes, before the blob's pin leaves this node, that put `put` (an id from {@link takeSeq})
   * places `blobId`. Resolves once on disk. The note goes when the put ends (see {@link add} and
   * {@link recordDelete}); notes a crash left behind are {@link unfinishedPuts}.
   */
  async notePlacing(put: number, blobId: string): Promise<void> {
    await this.placing.put([put, blobId], true)
  }

  /** Puts that never ended (the node died midway), oldest first, with the blobs each had started to place. */
  unfinishedPuts(): { put: number; blobs: string[] }[] {
    const out: { put: number; blobs: string[] }[] = []
    for (const [put, blob] of this.placing.getKeys()) {
      const last = out.at(-1)
      if (last?.put === put) last.blobs.push(blob)
      else out.push({ put, blobs: [blob] })
    }
    return out
  }

  /** Inside a transaction: drops put `put`'s notes. */
  private forgetPlacing(put: number): void {
    // Keys first, then the removals: the range is not walked while it changes.
    for (const key of Array.from(this.placing.getKeys({ start: [put], end: [put + 1] }))) void this.placing.remove(key)
  }

  /** Inside a transaction: records a delete, not yet applied to this node's own store. */
  private putDelete(seq: number, blobs: string[]): void {
    void this.deletes.put(seq, joinIds(blobs))
    for (const id of blobs) void this.deleted.put(id, seq)
    void this.unapplied.put(seq, true)
  }

  /** Builds the `deleted` index of a catalog written before it existed (deletes are few: they last a grace period). */
  private indexDeletes(): void {
    if (this.deleted.getKeysCount() > 0 || this.deletes.getKeysCount() === 0) return
    this.root.transactionSync(() => {
      for (const { key, value } of this.deletes.getRange()) for (const id of splitIds(value)) void this.deleted.put(id, key)
    })
  }

  /**
   * Whether this owner unpinned blob `blobId` in a delete it still remembers (see
   * {@link pendingDeletes}): peers it told then keep a tombstone for it until the grace period ends.
   */
  wasDeleted(blobId: string): boolean {
    return this.deleted.get(blobId) !== undefined
  }

  /** This node's own store has taken every unpin of the delete at `seq`. */
  async appliedLocally(seq: number): Promise<void> {
    await this.unapplied.remove(seq)
  }

  /** Deletes whose unpins this node's own store may not all have taken (a crash came between), oldest first. */
  unappliedDeletes(): { seq: number; blobs: string[] }[] {
    const out: { seq: number; blobs: string[] }[] = []
    for (const seq of this.unapplied.getKeys()) {
      const ids = this.deletes.get(seq)
      if (ids !== undefined) out.push({ seq, blobs: splitIds(ids) })
    }
    return out
  }

  /** Deletes still within their grace period, oldest first: the sequence number and the blobs it unpinned. */
  *pendingDeletes(): Generator<{ seq: number; blobs: string[] }> {
    for (const { key, value } of this.deletes.getRange()) yield { seq: key, blobs: splitIds(value) }
  }

  /**
   * Forgets deletes older than `before` (ms since epoch; sequence numbers are never below the wall
   * clock, so a delete's number is no earlier than its time). Returns how many.
   */
  async pruneDeletes(before: number): Promise<number> {
    const old = Array.from(this.deletes.getKeys({ end: before }))
    if (old.length === 0) return 0
    await this.root.transaction(() => {
      for (const seq of old) {
        for (const id of splitIds(this.deletes.get(seq) ?? EMPTY)) {
          // Unless a newer delete unpinned it again.
          if (this.deleted.get(id) === seq) void this.deleted.remove(id)
        }
        void this.deletes.remove(seq)
        void this.unapplied.remove(seq)
      }
    })
    return old.length
  }

  /** The blob ids (root included) of a file, if known. */
  fileBlobs(address: string): string[] | undefined {
    const ids = this.blobs.get(address)
    return ids === undefined ? undefined : splitIds(ids)
  }

  /** True while some file of this node uses the blob. */
  isReferenced(blobId: string): boolean {
    return (this.refs.get(blobId) ?? 0) > 0
  }

  /** Every file, ordered by address. */
  list(): FileRecord[] {
    const out: FileRecord[] = []
    for (const { value } of this.files.getRange()) out.push(fromStored(value))
    return out
  }

  /** Number of files. */
  count(): number {
    return this.files.getCount()
  }

  /**
   * Next pin/unpin sequence number of this node's owner: strictly increasing and
   * never below the wall clock in ms, so it keeps growing across restarts even
   * if the catalog were lost.
   */
  async nextSeq(now: number): Promise<number> {
    const seq = this.takeSeq(now)
    await this.seqWritten
    return seq
  }

  /**
   * {@link nextSeq} without waiting for the number to reach the disk: for the pin of each blob a
   * put places, where a commit per blob would stall the put. The numbers stay strictly increasing
   * in this process (they are counted here, lmdb only keeps them), and a crash before the write
   * lands loses only numbers the restarted node's, never below the wall clock, are above anyway.
   */
  takeSeq(now: number): number {
    const seq = Math.max((this.lastSeq ?? this.meta.get('seq') ?? 0) + 1, now)
    this.lastSeq = seq
    // lmdb commits writes in order, so the stored number is the last one taken.
    this.seqWritten = this.meta.put('seq', seq)
    return seq
  }

  /** Flushes and closes the database. */
  async close(): Promise<void> {
    await this.root.close()
  }
}

const EMPTY = Buffer.alloc(0)

/** Hex blob ids as one buffer of raw 32-byte ids (the inverse of {@link splitIds}). */
function joinIds(ids: string[]): Buffer {
  return Buffer.from(ids.join(''), 'hex')
}

function splitIds(ids: Buffer): string[] {
  const out: string[] = []
  for (let at = 0; at + 32 <= ids.byteLength; at += 32) out.push(ids.toString('hex', at, at + 32))
  return out
}
