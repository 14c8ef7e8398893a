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
 * Where a new blob goes (DESIGN §5): the `replicas` live, non-full members
 * with the highest rendezvous weight. Every node computes the same set from
 * the same membership view. (A full member that already holds a copy stays
 * one of its holders: see {@link pickHolders}.)
 */
export function placeBlob(blobId: string, members: Iterable<PlacementMember>, replicas: number): string[] {
  return rankMembers(blobId, members).slice(0, replicas)
}

/** A member in a blob's ranking, with whether it has room for new copies. */
export interface RankedMember {
  id: string
  full: boolean
}

/**
 * The holders of a blob from the head of its ranking (see {@link Placement.candidates}): walking
 * in rank order, a member is a holder when it has room, or when it is full but already has a copy
 * (`has`). A full node so keeps the copies it holds, and only stops receiving new ones; otherwise
 * a node near its capacity would have its copies dropped as soon as it looked full, and pushed
 * back once that freed the space, over and over.
 */
export function pickHolders(candidates: readonly RankedMember[], replicas: number, has: (id: string) => boolean = () => false): string[] {
  const out: string[] = []
  for (const m of candidates) {
    if (out.length >= replicas) break
    if (!m.full || has(m.id)) out.push(m.id)
  }
  return out
}

/** The head of a ranking down to and including its `replicas`-th member with room; see {@link Placement.candidates}. */
export function headOf(ranked: readonly RankedMember[], replicas: number): RankedMember[] {
  let roomy = 0
  let end = 0
  while (end < ranked.length && roomy < replicas) if (!ranked[end++]!.full) roomy++
  return ranked.slice(0, end)
}

/**
 * A snapshot of the placement candidates with their ids decoded once, for
 * ranking many blobs against the same membership view. Full members stay in
 * the ranking: they serve and keep the copies they have, they only take no
 * new ones.
 */
export class Placement {
  private readonly members: { id: string; bytes: Buffer; full: boolean }[]

  constructor(members: Iterable<PlacementMember>) {
    this.members = []
    for (const m of members) this.members.push({ id: m.id, bytes: idBytes(m.id), full: m.full === true })
  }

  /** Number of candidates, full ones included. */
  get size(): number {
    return this.members.length
  }

  /** Number of candidates with room for new copies. */
  get room(): number {
    return this.members.filter((m) => !m.full).length
  }

  /** All candidates ranked for `blobId`, highest weight first, each flagged full or not. */
  ranked(blobId: string): RankedMember[] {
    const blob = idBytes(blobId)
    const scored = this.members.map((m) => ({ id: m.id, full: m.full, w: createHash('sha256').update(m.bytes).update(blob).digest() }))
    scored.sort((a, b) => Buffer.compare(b.w, a.w) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    return scored.map((s) => ({ id: s.id, full: s.full }))
  }

  /** Where new copies of `blobId` go, in order of preference: the ranking without full members. */
  targets(blobId: string): string[] {
    return this.ranked(blobId)
      .filter((m) => !m.full)
      .map((m) => m.id)
  }

  /**
   * The head of the ranking that can hold `blobId`'s `replicas` copies: every member down to and
   * including the `replicas`-th one with room. Its full members are holders only if they have a
   * copy, so these are the members to ask.
   */
  candidates(blobId: string, replicas: number): RankedMember[] {
    return headOf(this.ranked(blobId), replicas)
  }

  /**
   * The `replicas` holders of `blobId`: see {@link pickHolders}. Without `has`, full members are
   * never holders: that is where a new blob goes.
   */
  holders(blobId: string, replicas: number, has?: (id: string) => boolean): string[] {
    return pickHolders(this.candidates(blobId, replicas), replicas, has)
  }
}
