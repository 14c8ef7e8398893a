import { createHash } from 'node:crypto'
import { TRANSFER_TIMEOUT_MS } from './constants.js'
import type { NodeContext } from './context.js'
import { errorCode, isProgrammerError, ServerError, throwIfAborted } from './errors.js'
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

  constructor(
    private readonly ctx: NodeContext,
    private readonly opts: FetchOptions = {},
  ) {}

  /** Peers dropped in this session for serving bad bytes. */
  get badPeers(): ReadonlySet<string> {
    return this.bad
  }

  /** The verified bytes of blob `id`; UNAVAILABLE if no reachable node has a good copy. */
  async fetch(id: string): Promise<Buffer> {
    const { ctx } = this
    throwIfAborted(this.opts.signal)
    if (this.opts.remoteOnly !== true) {
      const local = await this.readLocal(id)
      if (local !== undefined) return local
    }
    const ranked = currentPlacement(ctx).rank(id).filter((p) => p !== ctx.id)
    const holders = ranked.slice(0, ctx.replicas)
    const tried = new Set<string>()
    for (const peer of holders) {
      const got = await this.tryPeer(peer, id, tried)
      if (got !== undefined) return got
    }
    // Not on its holders (placement moved, or they failed): ask everyone else who is alive.
    const others = ctx.membership.livePeers().filter((p) => !tried.has(p) && !this.bad.has(p))
    const answers = await Promise.all(
      others.map(async (peer) => {
        try {
          const [have] = await askHas(ctx, peer, [id], this.opts.signal)
          return have === true ? peer : undefined
        } catch (err) {
          if (isProgrammerError(err)) throw err
          return undefined
        }
      }),
    )
    for (const peer of answers) {
      if (peer === undefined) continue
      const got = await this.tryPeer(peer, id, tried)
      if (got !== undefined) return got
    }
    throwIfAborted(this.opts.signal)
    throw new ServerError('UNAVAILABLE', `no reachable node has a good copy of blob ${id}`)
  }

  private async readLocal(id: string): Promise<Buffer | undefined> {
    try {
      if (!(await this.ctx.store.has(id))) return undefined
      const bytes = await this.ctx.store.get(id)
      if (hashHex(bytes) === id) return bytes
      this.ctx.logger.warn({ blob: id }, 'local copy does not match its id; fetching another')
    } catch (err) {
      if (isProgrammerError(err)) throw err
      this.ctx.logger.debug({ blob: id, code: errorCode(err) }, 'local read failed')
    }
    return undefined
  }

  private async tryPeer(peer: string, id: string, tried: Set<string>): Promise<Buffer | undefined> {
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
      ctx.logger.debug({ peer, blob: id, code: errorCode(err) }, 'peer could not serve blob')
      return undefined
    }
    if (hashHex(body) !== id) {
      this.bad.add(peer)
      ctx.metrics.corruptBlobs++
      ctx.logger.warn({ peer, blob: id }, 'peer served bytes that do not match the blob id; dropped for this get')
      ctx.events.emit('corrupt', { peer, blob: id })
      return undefined
    }
    ctx.metrics.blobsFetched++
    return body
  }
}

function hashHex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}
