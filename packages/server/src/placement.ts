import { createHash } from 'node:crypto'
import { idBytes } from './ids.js'

/** A placement candidate: a node id and whether it has room for more blobs. */
export interface PlacementMember {
  id: string
  full?: boolean
}

/**
 * Rendezvous weight of node `nodeId` for blob `blobId`:
 * SHA-256(nodeIdBytes || blobIdBytes), both ids as their raw 32 bytes (not
 * their hex text), compared as unsigned big-endian integers.
 */
export function rendezvousWeight(nodeId: string, blobId: string): Buffer {
  return createHash('sha256').update(idBytes(nodeId)).update(idBytes(blobId)).digest()
}

/**
 * All members ranked for a blob by rendezvous weight, highest first, ties
 * broken by node id. Full members are skipped.
 */
export function rankMembers(blobId: string, members: Iterable<PlacementMember>): string[] {
  const blob = idBytes(blobId)
  const scored: { id: string; w: Buffer }[] = []
  for (const m of members) {
    if (m.full === true) continue
    scored.push({ id: m.id, w: createHash('sha256').update(idBytes(m.id)).update(blob).digest() })
  }
  scored.sort((a, b) => Buffer.compare(b.w, a.w) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  return scored.map((s) => s.id)
}

/**
 * The holders of a blob (DESIGN §5): the `replicas` live, non-full members
 * with the highest rendezvous weight. Every node computes the same set from
 * the same membership view.
 */
export function placeBlob(blobId: string, members: Iterable<PlacementMember>, replicas: number): string[] {
  return rankMembers(blobId, members).slice(0, replicas)
}

/**
 * A snapshot of the placement candidates with their ids decoded once, for
 * ranking many blobs against the same membership view.
 */
export class Placement {
  private readonly members: { id: string; bytes: Buffer }[]

  constructor(members: Iterable<PlacementMember>) {
    this.members = []
    for (const m of members) if (m.full !== true) this.members.push({ id: m.id, bytes: idBytes(m.id) })
  }

  /** Number of candidates. */
  get size(): number {
    return this.members.length
  }

  /** All candidates ranked for `blobId`, highest weight first. */
  rank(blobId: string): string[] {
    const blob = idBytes(blobId)
    const scored = this.members.map((m) => ({ id: m.id, w: createHash('sha256').update(m.bytes).update(blob).digest() }))
    scored.sort((a, b) => Buffer.compare(b.w, a.w) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    return scored.map((s) => s.id)
  }

  /** The `replicas` holders of `blobId`. */
  holders(blobId: string, replicas: number): string[] {
    return this.rank(blobId).slice(0, replicas)
  }
}
