import { createHash } from 'node:crypto'
import { HEAL_ATTEMPTS, HEAL_RETRY_MS, TRANSFER_TIMEOUT_MS } from './constants.js'
import type { NodeContext } from './context.js'
import { errorCode, isProgrammerError, ServerError, throwIfAborted } from './errors.js'
import { firstSuccess } from './hedge.js'
import { askHas, currentPlacement, requestPeer } from './replicate.js'

/** Options of one fetch session. */
export interface FetchOptions {
  signal?: AbortSignal
  /** Skip this node's own store and read every blob from other nodes. */
  remoteOnly?: boolean
}

/**
 * Fetches blobs for one get: from the local store first, then the holders in
 * rank order, then any other live peer that answers `has`. Every blob is
 * re-hashed on arrival; a peer that serves bytes not matching the id is
 * dropped for the rest of this session and reported (warning log, `corrupt`
 * event, `corruptBlobs` counter).
 */
export class BlobFetcher {
  private readonly bad = new Set<string>()
  // Bytes fetch() handed out that nothing else holds (received from a peer, or read from the store
  // into pool memory): done() gives their memory back.
  private readonly owned = new WeakSet<Buffer>()

  constructor(
    private readonly ctx: NodeContext,
    private readonly opts: FetchOptions = {},
  ) {}

  /** Peers dropped in this session for serving bad bytes. */
  get badPeers(): ReadonlySet<string> {
    return this.bad
  }

  /** The verified bytes of blob `id`; NOT_FOUND if every live peer says it has none, UNAVAILABLE if no reachable node has a good copy. */
  async fetch(id: string): Promise<Buffer> {
    throwIfAborted(this.opts.signal)
    if (this.opts.remoteOnly !== true) {
      const local = await readLocal(this.ctx, id, true)
      if (local.bytes !== undefined) {
        this.owned.add(local.bytes)
        return local.bytes
      }
      if (local.damaged) {
        // The damaged copy is out of the way: put back the good one this get is about to fetch.
        // The store writes those bytes while the caller may be done with them: it gets a copy.
        const bytes = await this.fetchRemote(id)
        void restore(this.ctx, id, Buffer.from(bytes))
        return bytes
      }
    }
    return this.fetchRemote(id)
  }

  /**
   * Tells that the caller is done with bytes fetch() gave it: nothing reads or keeps them any more.
   * Their memory goes back to the node's body pool, for the next blob to arrive or be read in.
   */
  done(bytes: Buffer): void {
    if (this.owned.delete(bytes)) this.ctx.bodies.give(bytes)
  }

  private async fetchRemote(id: string): Promise<Buffer> {
    const { ctx } = this
    // Its holders as placement ranks them, and the full members ranked among them: those keep the copies they have.
    const holders = currentPlacement(ctx)
      .candidates(id, ctx.replicas)
      .map((m) => m.id)
      .filter((p) => p !== ctx.id)
    const tried = new Set<string>()
    // Peers that said they have no copy of this blob.
    const denied = new Set<string>()
    const fromHolders = await this.firstGood(holders, id, tried, denied)
    if (fromHolders !== undefined) return fromHolders
    // Not on its holders (placement moved, or they failed): ask everyone else who is alive. Peers
    // being routed around for not answering lately come last, not never: that is a preference, and
    // a get must not fail over it (after a partition heals, they may be the only ones with a copy).
    // Peers distrusted for serving wrong bytes are not asked.
    const rest = ctx.membership.livePeers().filter((p) => !tried.has(p) && !this.bad.has(p) && !ctx.health.isDistrusted(p))
    for (const group of [rest.filter((p) => !ctx.health.isDown(p)), rest.filter((p) => ctx.health.isDown(p))]) {
      const found = group.length === 0 ? undefined : await this.firstGood(await this.holdersAmong(group, id, denied), id, tried, denied)
      if (found !== undefined) return found
    }
    throwIfAborted(this.opts.signal)
    // Every live peer said it has no copy: the blob is gone (deleted, or never stored), not out of
    // reach, and a retry will not find it. Anything less sure (a peer that did not answer, one not
    // asked for serving bad bytes) may be hiding the last copy.
    const live = ctx.membership.livePeers()
    if (live.length > 0 && live.every((p) => denied.has(p))) {
      throw new ServerError('NOT_FOUND', `no node has blob ${id}: the file was deleted, or never stored in this network`)
    }
    throw new ServerError('UNAVAILABLE', `no reachable node has a good copy of blob ${id}`)
  }

  /** Those of `peers` that answer `has` for the blob, in the order given. */
  private async holdersAmong(peers: string[], id: string, denied: Set<string>): Promise<string[]> {
    const answers = await Promise.all(
      peers.map(async (peer) => {
        try {
          const [have] = await askHas(this.ctx, peer, [id], this.opts.signal)
          if (have !== true) denied.add(peer)
          return have === true ? peer : undefined
        } catch (err) {
          if (isProgrammerError(err)) throw err
          return undefined
        }
      }),
    )
    return answers.filter((peer): peer is string => peer !== undefined)
  }

  /** Asks `peers` in order for a good copy, hedging: one that does not answer soon gets the next asked beside it. */
  private firstGood(peers: string[], id: string, tried: Set<string>, denied: Set<string>): Promise<Buffer | undefined> {
    const queue = peers.filter((p) => !tried.has(p) && !this.bad.has(p))
    const { ctx } = this
    return firstSuccess(() => queue.shift(), (peer) => this.tryPeer(peer, id, tried, denied), {
      clock: ctx.clock,
      hedgeAfterMs: ctx.timing.hedgeAfterMs,
      onSlow: (peer) => {
        if (ctx.health.slow(peer)) ctx.logger.info({ peer, blob: id }, 'peer slow to serve a blob; asking the next one too and routing around it for a while')
      },
    })
  }

  private async tryPeer(peer: string, id: string, tried: Set<string>, denied: Set<string>): Promise<Buffer | undefined> {
    if (tried.has(peer) || this.bad.has(peer)) return undefined
    tried.add(peer)
    const { ctx } = this
    let body: Buffer | undefined
    try {
      const reply = await requestPeer(ctx, peer, 'get-blob', { blob: id }, undefined, {
        timeoutMs: TRANSFER_TIMEOUT_MS,
        ...(this.opts.signal ? { signal: this.opts.signal } : {}),
      })
      body = reply.body ?? Buffer.alloc(0)
    } catch (err) {
      if (isProgrammerError(err)) throw err
      throwIfAborted(this.opts.signal)
      if (errorCode(err) === 'NOT_FOUND') denied.add(peer)
      ctx.logger.debug({ peer, blob: id, code: errorCode(err) }, 'peer could not serve blob')
      return undefined
    }
    if (hashHex(body) !== id) {
      this.bad.add(peer)
      ctx.health.distrust(peer, ctx.timing.distrustMs)
      ctx.metrics.corruptBlobs++
      ctx.logger.warn({ peer, blob: id }, 'peer served bytes that do not match the blob id; it is neither asked for blobs nor given any for a while')
      ctx.events.emit('corrupt', { peer, blob: id })
      return undefined
    }
    ctx.metrics.blobsFetched++
    this.owned.add(body)
    return body
  }
}

function hashHex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}

/**
 * Reads this node's copy of a blob and checks it against its id: bit rot or a bad disk must never
 * reach a reader, here or on another node. A damaged copy is moved aside at once, so `has` stops
 * claiming it and repair on the other holders sees it missing; its pins stay. `damaged` tells the
 * caller a good copy is wanted back. `pooled`: the copy is read into memory from the node's body pool.
 */
export async function readLocal(ctx: NodeContext, id: string, pooled = false): Promise<{ bytes?: Buffer; damaged: boolean }> {
  let bytes: Buffer
  try {
    // One read, no separate existence check: NOT_FOUND is the common "not here" answer.
    bytes = await ctx.store.get(id, undefined, pooled ? { allocate: (length) => ctx.bodies.take(length) } : {})
  } catch (err) {
    if (isProgrammerError(err)) throw err
    if (errorCode(err) !== 'NOT_FOUND') ctx.logger.debug({ blob: id, code: errorCode(err) }, 'local read failed')
    return { damaged: false }
  }
  if (hashHex(bytes) === id) return { bytes, damaged: false }
  ctx.metrics.localCorruptBlobs++
  ctx.logger.warn({ blob: id }, 'stored copy does not match its id (damaged on disk); moved aside, fetching a good copy')
  try {
    if (ctx.store.quarantine !== undefined) await ctx.store.quarantine(id)
    else await ctx.store.delete(id)
  } catch (err) {
    if (isProgrammerError(err)) throw err
    ctx.logger.warn({ blob: id, code: errorCode(err) }, 'could not move a damaged copy aside')
  }
  return { damaged: true }
}

/**
 * Reads a local copy for someone else (a peer's get, a repair push), into the node's body pool when
 * `pooled`. A damaged copy is moved aside and a good one fetched back from the other nodes in the
 * background; until then, undefined.
 */
export async function readLocalForPeer(ctx: NodeContext, id: string, pooled = false): Promise<Buffer | undefined> {
  const local = await readLocal(ctx, id, pooled)
  if (local.damaged) heal(ctx, id)
  return local.bytes
}

/** Fetches a good copy of a blob whose local copy was damaged, from the other nodes, and stores it again. One at a time per blob. */
export function heal(ctx: NodeContext, id: string): void {
  if (ctx.healing.has(id)) return
  ctx.healing.add(id)
  void healWithRetries(ctx, id).finally(() => ctx.healing.delete(id))
}

async function healWithRetries(ctx: NodeContext, id: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      const bytes = await new BlobFetcher(ctx, { remoteOnly: true }).fetch(id)
      await restore(ctx, id, bytes)
      return
    } catch (err) {
      if (isProgrammerError(err)) throw err
      const last = attempt >= HEAL_ATTEMPTS
      ctx.logger.warn(
        { blob: id, code: errorCode(err), attempt },
        last ? 'no good copy to heal a damaged blob from; repair will bring one' : 'no good copy to heal a damaged blob from yet; trying again',
      )
      if (last) return
    }
    await new Promise<void>((resolve) => ctx.clock.setTimeout(resolve, HEAL_RETRY_MS * 2 ** (attempt - 1)))
    // Repair may have brought a good copy back meanwhile; a closed store ends the attempts.
    try {
      if (await ctx.store.has(id)) return
    } catch {
      return
    }
  }
}

/** Stores a verified copy again in place of a damaged one; its pins were kept. */
async function restore(ctx: NodeContext, id: string, bytes: Buffer): Promise<void> {
  try {
    const { stored } = await ctx.store.put(id, bytes)
    if (stored) {
      ctx.metrics.blobsHealed++
      ctx.logger.info({ blob: id }, 'damaged copy replaced by a verified one')
    }
  } catch (err) {
    if (isProgrammerError(err)) throw err
    ctx.logger.warn({ blob: id, code: errorCode(err) }, 'could not store a healed copy')
  }
}
