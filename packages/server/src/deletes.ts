import { CONTROL_TIMEOUT_MS, DELETE_MEMORY_MS, MAX_BATCH } from './constants.js'
import type { NodeContext } from './context.js'
import { errorCode, isProgrammerError } from './errors.js'
import { requestPeer } from './replicate.js'

/*
 * Delivery of the owner's unpins. A delete unpins its blobs on every live peer at once; a peer that
 * was away (down, cut off, not yet joined) still holds its copies pinned by this owner, and nobody
 * else may unpin them. So every delete is remembered in the catalog for as long as peers keep
 * tombstones, and told again to each peer that comes (back) to life, and to each peer that failed
 * to take some unpin while it stayed alive in this node's view (it restarted quickly, or a request
 * timed out): such a peer is owed the deletes, and told them again every deleteRetryMs, and as soon
 * as it connects again, until it takes them all.
 */

/** Sends one delete's unpins to one peer, in batches. False when the peer did not take them. */
export async function sendUnpins(ctx: NodeContext, peer: string, seq: number, blobs: string[]): Promise<boolean> {
  for (let at = 0; at < blobs.length; at += MAX_BATCH) {
    try {
      await requestPeer(ctx, peer, 'unpin', { blobs: blobs.slice(at, at + MAX_BATCH), seq }, undefined, { timeoutMs: CONTROL_TIMEOUT_MS })
    } catch (err) {
      if (isProgrammerError(err)) throw err
      ctx.owedDeletes.add(peer)
      ctx.logger.warn({ peer: peer.slice(0, 16), code: errorCode(err) }, 'peer did not take an unpin; it is told again soon')
      return false
    }
  }
  return true
}

/**
 * Unpins blobs this owner no longer uses, here (collecting what nobody else pins) and on every live
 * peer. Peers that are away are told when they are back, from the record of the delete in the catalog.
 */
export async function unpinEverywhere(ctx: NodeContext, seq: number, blobs: string[]): Promise<void> {
  if (blobs.length === 0) return
  await unpinLocally(ctx, seq, blobs)
  await Promise.all(ctx.membership.livePeers().map((peer) => sendUnpins(ctx, peer, seq, blobs)))
}

/**
 * Applies to this node's own store, at start, the deletes a crash kept from it: between a delete's
 * record in the catalog and the end of its local unpins (see {@link unpinEverywhere}). Unpins are
 * idempotent, and a copy pinned again since by a newer put keeps that pin. Returns how many.
 */
export async function reapplyDeletesLocally(ctx: NodeContext): Promise<number> {
  const unapplied = ctx.catalog.unappliedDeletes()
  for (const { seq, blobs } of unapplied) await unpinLocally(ctx, seq, blobs)
  if (unapplied.length > 0) ctx.logger.info({ deletes: unapplied.length }, 'applied deletes a crash had kept from the local store')
  return unapplied.length
}

/** Unpins blobs here, collecting what nobody else pins, then marks the delete applied here. */
async function unpinLocally(ctx: NodeContext, seq: number, blobs: string[]): Promise<void> {
  for (const id of blobs) {
    ctx.shortBlobs.delete(id)
    await ctx.store.unpin(id, ctx.id, seq)
    if (!(await ctx.store.isPinned(id)) && !ctx.catalog.isReferenced(id) && !ctx.placing.has(id)) await ctx.store.delete(id)
  }
  await ctx.catalog.appliedLocally(seq)
}

/**
 * Tells a peer that just came (back) to life, or that is owed deletes, about every delete of the last {@link DELETE_MEMORY_MS}.
 * Unpins are idempotent, and one older than the owner's newer pin is refused, so telling a peer
 * that already knows, or about a file put again since, changes nothing.
 */
export async function tellDeletes(ctx: NodeContext, peer: string): Promise<number> {
  const busy = ctx.tellingDeletes
  if (busy.has(peer)) return 0
  busy.add(peer)
  try {
    await ctx.catalog.pruneDeletes(ctx.clock.now() - DELETE_MEMORY_MS)
    let told = 0
    for (const { seq, blobs } of ctx.catalog.pendingDeletes()) {
      if (!(await sendUnpins(ctx, peer, seq, blobs))) return told
      told++
    }
    // Every delete it may have missed is taken now.
    ctx.owedDeletes.delete(peer)
    if (told > 0) ctx.logger.debug({ peer: peer.slice(0, 16), deletes: told }, 'told a peer about deletes')
    return told
  } finally {
    busy.delete(peer)
  }
}
