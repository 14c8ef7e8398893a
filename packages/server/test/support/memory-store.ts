import { createHash } from 'node:crypto'
import type { BlobRange, BlobStoreLike, Pin } from '../../src/components.js'

/** A blob store in memory with the semantics the node relies on (verify on put, pins, tombstones). */
export class MemoryBlobStore implements BlobStoreLike {
  private readonly blobs = new Map<string, Buffer>()
  private readonly pinMap = new Map<string, Map<string, number>>()
  private readonly tombstones = new Map<string, number>()

  put(id: string, data: Uint8Array, opts: { pins?: Pin[]; requirePin?: boolean } = {}): Promise<{ stored: boolean; size: number; pinned?: boolean[] }> {
    if (createHash('sha256').update(data).digest('hex') !== id) return Promise.reject(Object.assign(new Error('corrupt'), { code: 'CORRUPT' }))
    const pinned = opts.pins?.map((p) => this.pinSync(id, p.owner, p.seq))
    const refused = opts.requirePin === true && pinned?.every((ok) => !ok) === true && (this.pinMap.get(id)?.size ?? 0) === 0
    const stored = !this.blobs.has(id) && !refused
    if (stored) this.blobs.set(id, Buffer.from(data))
    return Promise.resolve({ stored, size: data.byteLength, ...(pinned ? { pinned } : {}) })
  }

  get(id: string, range?: BlobRange): Promise<Buffer> {
    const b = this.blobs.get(id)
    if (b === undefined) return Promise.reject(Object.assign(new Error('not found'), { code: 'NOT_FOUND' }))
    return Promise.resolve(range ? b.subarray(range.offset, range.length === undefined ? undefined : range.offset + range.length) : b)
  }

  has(id: string): Promise<boolean> {
    return Promise.resolve(this.blobs.has(id))
  }

  delete(id: string): Promise<boolean> {
    return Promise.resolve(this.blobs.delete(id))
  }

  async *list(): AsyncIterable<string> {
    for (const id of [...this.blobs.keys()]) yield await Promise.resolve(id)
  }

  stat(): Promise<{ count: number; bytes: number; capacity: number }> {
    let bytes = 0
    for (const b of this.blobs.values()) bytes += b.byteLength
    return Promise.resolve({ count: this.blobs.size, bytes, capacity: Number.POSITIVE_INFINITY })
  }

  private pinSync(id: string, owner: string, seq: number): boolean {
    if ((this.tombstones.get(`${id}:${owner}`) ?? -1) >= seq) return false
    const pins = this.pinMap.get(id) ?? new Map<string, number>()
    pins.set(owner, Math.max(seq, pins.get(owner) ?? 0))
    this.pinMap.set(id, pins)
    return true
  }

  pin(id: string, owner: string, seq: number): Promise<boolean> {
    return Promise.resolve(this.pinSync(id, owner, seq))
  }

  unpin(id: string, owner: string, seq: number): Promise<boolean> {
    const pins = this.pinMap.get(id)
    if ((pins?.get(owner) ?? -1) > seq) return Promise.resolve(false)
    pins?.delete(owner)
    this.tombstones.set(`${id}:${owner}`, Math.max(seq, this.tombstones.get(`${id}:${owner}`) ?? 0))
    return Promise.resolve(true)
  }

  pins(id: string): Promise<Pin[]> {
    return Promise.resolve([...(this.pinMap.get(id) ?? new Map<string, number>())].map(([owner, seq]) => ({ owner, seq })))
  }

  isPinned(id: string): Promise<boolean> {
    return Promise.resolve((this.pinMap.get(id)?.size ?? 0) > 0)
  }
}
