import { CONTROL_TIMEOUT_MS, MAX_BATCH, MAX_RECENT_BLOBS, TRANSFER_TIMEOUT_MS } from './constants.js'
import type { Pin, Reply } from './components.js'
import type { NodeContext } from './context.js'
import { errorCode, isProgrammerError, ServerError } from './errors.js'
import { firstSuccess } from './hedge.js'
import { headOf, pickHolders, Placement } from './placement.js'

/**
 * The current placement view: this node and every peer not dead (full ones flagged), minus peers
 * that recently failed to answer (see {@link NodeContext.health}) unless that would leave fewer
 * candidates than the replication target (then this node's own link is the likelier problem).
 */
export function currentPlacement(ctx: NodeContext): Placement {
  const members = ctx.membership.placementMembers()
  const answering = members.filter((m) => !ctx.health.isDown(m.id))
  const room = (list: { full: boolean }[]): number => list.filter((m) => !m.full).length
  return new Placement(room(answering) >= Math.min(ctx.replicas, room(members)) ? answering : members)
}

/** Why blobs got fewer copies than wanted, as far as this node's view tells, and what will mend it. */
export function shortfallReason(ctx: NodeContext): string {
  const members = ctx.membership.placementMembers()
  const full = members.filter((m) => m.full).length
  if (members.length < ctx.replicas) return `only ${members.length} live node(s); repair will add copies as nodes join`
  if (full > 0) return `${full} of the ${members.length} live nodes ${full === 1 ? 'is' : 'are'} full; repair will add copies once nodes have room`
  return 'some holders did not take them in time; repair will add the missing copies'
}

/**
 * Sends a request to a peer, dialling it first through the addresses its
 * membership record advertises when there is no connection yet.
 */
export async function requestPeer(
  ctx: NodeContext,
  peer: string,
  type: string,
  header: object,
  body: Buffer | undefined,
  opts: { signal?: AbortSignal; timeoutMs?: number },
): Promise<Reply> {
  try {
    if (!ctx.host.isConnected(peer)) await dialPeer(ctx, peer, opts.signal)
    const reply = await ctx.host.request(peer, type, header, body, opts)
    ctx.health.answered(peer)
    return reply
  } catch (err) {
    if (opts.signal?.aborted !== true && ctx.health.failed(peer, err)) {
      ctx.logger.info({ peer, type, code: errorCode(err) }, 'peer did not answer; routing around it for a while')
    } else if (errorCode(err) !== undefined && (err as { remoteCode?: unknown }).remoteCode !== undefined) {
      ctx.health.answered(peer)
    }
    throw err
  }
}

/** Connects to a peer by the addresses in its membership record, first that answers wins. */
export async function dialPeer(ctx: NodeContext, peer: string, signal?: AbortSignal): Promise<void> {
  const addresses = ctx.membership.get(peer)?.addresses ?? []
  let last: unknown
  for (const addr of addresses) {
    try {
      await ctx.host.connect(addr, { expectedId: peer, ...(signal ? { signal } : {}) })
      return
    } catch (err) {
      if (isProgrammerError(err)) throw err
      last = err
    }
  }
  throw new ServerError('UNAVAILABLE', `cannot reach peer ${peer}`, { cause: last })
}

/** Sends one blob with its pins to a peer; resolves when the peer has stored it. */
export async function pushBlob(ctx: NodeContext, peer: string, id: string, blob: Buffer, pins: Pin[], signal?: AbortSignal): Promise<void> {
  await requestPeer(ctx, peer, 'put-blob', { blob: id, pins }, blob, { timeoutMs: TRANSFER_TIMEOUT_MS, ...(signal ? { signal } : {}) })
  ctx.metrics.bytesReplicated += blob.byteLength
}

/** What {@link storeAndReplicate} did with a blob. */
export interface Replicated {
  /** Distinct holders that confirmed a copy (this node counts when it is one of them). */
  copies: number
  /**
   * Nothing reads the blob any more: the local store is done with it, and every transfer of it
   * was answered (none failed, none was left running beside a hedge), so it was sent whole.
   */
  done: boolean
}

/**
 * Stores a blob this node has just sealed locally, pinned, and on its holders.
 * Holders come from the rendezvous ranking over the current view; a holder
 * that fails is replaced by the next-ranked candidate.
 * `id` must be the SHA-256 this node computed over `blob` itself: the local
 * store then skips hashing the same bytes again (every holder still verifies).
 */
export async function storeAndReplicate(ctx: NodeContext, id: string, blob: Buffer, pins: Pin[], signal?: AbortSignal): Promise<Replicated> {
  markRecent(ctx, id)
  // Ranked once per blob: this is the put's path.
  const ranked = currentPlacement(ctx).ranked(id)
  // This node keeps its copy whatever its room, so it counts as a full member with a copy does
  // (a holder when ranked among the candidates), as repair will count it.
  const holders = pickHolders(headOf(ranked, ctx.replicas), ctx.replicas, (m) => m === ctx.id)
  const spare = ranked.filter((m) => !m.full && m.id !== ctx.id && !holders.includes(m.id)).map((m) => m.id)
  const targets = holders.filter((p) => p !== ctx.id)
  // Transfers started, and whether one failed: a failed (timed-out) one may still hold the blob.
  let transfers = 0
  let failed = false

  const attempt = async (first: string): Promise<boolean> => {
    // The holder, then spares in rank order until one takes the blob; a holder that has not
    // answered within the hedge delay gets the next spare sent the blob beside it.
    let holder: string | undefined = first
    const next = (): string | undefined => {
      const peer = holder ?? spare.shift()
      holder = undefined
      return peer
    }
    const took = await firstSuccess(
      next,
      async (peer) => {
        transfers++
        try {
          await pushBlob(ctx, peer, id, blob, pins, signal)
          return true
        } catch (err) {
          failed = true
          if (isProgrammerError(err)) throw err
          if (signal?.aborted) throw err
          ctx.logger.debug({ peer, blob: id, code: errorCode(err), err }, 'holder did not take blob; trying the next candidate')
          return undefined
        }
      },
      {
        clock: ctx.clock,
        hedgeAfterMs: ctx.timing.hedgeAfterMs,
        onSlow: (peer) => {
          if (ctx.health.slow(peer)) ctx.logger.info({ peer, blob: id }, 'holder slow to take a blob; sending it to the next candidate too')
        },
      },
    )
    return took === true
  }
  // The local write and the transfers overlap: each costs mostly latency (fsync, round trips).
  const [, ...results] = await Promise.all([ctx.store.put(id, blob, { pins, verified: true, ...(signal ? { signal } : {}) }), ...targets.map(attempt)])
  return {
    copies: (holders.includes(ctx.id) ? 1 : 0) + results.filter(Boolean).length,
    // One answered transfer per holder: none ran beside a hedge, none was abandoned.
    done: !failed && transfers === targets.length,
  }
}

/** Notes that a blob was just written here; see {@link NodeContext.recent}. */
export function markRecent(ctx: NodeContext, id: string): void {
  ctx.recent.delete(id)
  ctx.recent.set(id, ctx.clock.now())
  forgetSettled(ctx)
}

/**
 * Drops the recent writes past the repair grace period, which mean nothing any more (and the oldest
 * beyond MAX_RECENT_BLOBS): insertion order is time order, so they are at the front. Returns the
 * clock time before which a write is settled.
 */
export function forgetSettled(ctx: NodeContext): number {
  const settled = ctx.clock.now() - ctx.timing.repairGraceMs
  for (const [id, at] of ctx.recent) {
    if (at > settled && ctx.recent.size <= MAX_RECENT_BLOBS) break
    ctx.recent.delete(id)
  }
  return settled
}

/**
 * Asks a peer which of `ids` it holds, in batches of the wire limit. Rejects if
 * the peer cannot be reached.
 */
export async function askHas(ctx: NodeContext, peer: string, ids: string[], signal?: AbortSignal): Promise<boolean[]> {
  const out: boolean[] = []
  for (let at = 0; at < ids.length; at += MAX_BATCH) {
    const batch = ids.slice(at, at + MAX_BATCH)
    const reply = await requestPeer(ctx, peer, 'has', { blobs: batch }, undefined, {
      timeoutMs: CONTROL_TIMEOUT_MS,
      ...(signal ? { signal } : {}),
    })
    const have: unknown = (reply.header as { have?: unknown }).have
    if (!Array.isArray(have) || have.length !== batch.length) throw new ServerError('UNAVAILABLE', `malformed has reply from ${peer}`)
    for (const h of have) out.push(h === true)
  }
  return out
}
