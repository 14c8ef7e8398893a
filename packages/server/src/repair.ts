import { MAX_BATCH } from './constants.js'
import type { NodeContext } from './context.js'
import { errorCode, isProgrammerError } from './errors.js'
import { readLocalForPeer } from './fetcher.js'
import { pickHolders, type Placement, type RankedMember } from './placement.js'
import { RateLimiter } from './rate-limiter.js'
import { askHas, currentPlacement, forgetSettled, pushBlob } from './replicate.js'
import { TaskWindow } from './task-window.js'

/** What a repair pass walks: every local blob, or only those the last passes found short of copies. */
export type RepairScope = 'all' | 'short'

/** Outcome of one repair pass. */
export interface RepairReport {
  /** What the pass walked. */
  scope: RepairScope
  /** Local blobs examined. */
  checked: number
  /** Copies pushed to holders that lacked them. */
  pushed: number
  /** Surplus local copies dropped. */
  dropped: number
  /** Blobs of this node with fewer live copies on their holders than wanted (or than live nodes, if fewer), as last seen. */
  underReplicated: number
  /** Blobs left alone because they were written within the grace period; a later pass covers them. */
  deferred: number
  /** Clock time (ms) by which every deferred blob is out of its grace period; 0 when none was deferred. */
  settledAt: number
}

/**
 * Repair walks every blob this node holds, in batches, against the current
 * placement view:
 * - it asks the blob's holders (`has`, batched per peer) who has a copy;
 * - a holder that lacks it gets it pushed, with the pins this node knows, by
 *   exactly one pusher: the highest-ranked holder that has it, or, when no
 *   holder has it, any non-holder with a copy (one pusher per blob); and by its
 *   owner too when the owner deleted it and pinned it again within the
 *   tombstone grace period (peers refuse relayed pins over its tombstones);
 * - blobs written here within `repairGraceMs` are skipped: a put may still
 *   be sending them to their holders;
 * - a blob nobody pins any more is collected;
 * - a copy here that is no longer needed (this node is not a holder, every
 *   holder has it, and neither this node's owner nor its catalog needs it)
 *   is dropped.
 * Pushes go through a token bucket and a small window so repair never
 * starves user traffic. Passes never overlap; a request during a pass
 * schedules one more pass. A 'short' pass walks only the blobs earlier
 * passes found short of copies: most of those were being pushed by another
 * holder at the time, and a look at just them says so in a moment.
 */
export class Repairer {
  private running: Promise<RepairReport> | undefined
  private current: RepairScope = 'all'
  private again: RepairScope | undefined
  private readonly limiter: RateLimiter
  private readonly inFlight = new Set<string>()
  private readonly abort = new AbortController()

  constructor(private readonly ctx: NodeContext) {
    this.limiter = new RateLimiter(ctx.timing.repairBytesPerSecond, ctx.clock)
  }

  /** Runs a pass now, or one more after the current one; resolves with the pass that covers this request. */
  async run(scope: RepairScope = 'all'): Promise<RepairReport> {
    if (this.running !== undefined) {
      // A full pass in progress or queued covers a short one.
      if (scope === 'all') this.again = 'all'
      else if (this.again === undefined && this.current !== 'all') this.again = 'short'
      return this.running
    }
    this.running = (async () => {
      let report: RepairReport
      let next: RepairScope | undefined = scope
      do {
        this.current = next
        this.again = undefined
        report = await this.pass(next)
        next = this.again
      } while (next !== undefined && !this.abort.signal.aborted)
      return report
    })().finally(() => {
      this.running = undefined
    })
    return this.running
  }

  /** Stops pushes in progress and waits for the current pass to end. */
  async stop(): Promise<void> {
    this.abort.abort()
    await this.running?.catch(() => {})
  }

  private async pass(scope: RepairScope): Promise<RepairReport> {
    const { ctx } = this
    const settled = forgetSettled(ctx)
    const placement = currentPlacement(ctx)
    const report: RepairReport = { scope, checked: 0, pushed: 0, dropped: 0, underReplicated: 0, deferred: 0, settledAt: 0 }
    const short = new Map<string, number>()
    const walked = scope === 'all' ? undefined : [...ctx.shortBlobs.keys()]
    let batch: string[] = []
    for await (const id of walked === undefined ? ctx.store.list() : this.stillHere(walked)) {
      if (this.abort.signal.aborted) break
      batch.push(id)
      if (batch.length >= MAX_BATCH) {
        await this.repairBatch(batch, placement, report, short)
        batch = []
      }
    }
    if (batch.length > 0 && !this.abort.signal.aborted) await this.repairBatch(batch, placement, report, short)
    // What the pass found replaces what was known, except for blobs still in their grace period: the
    // pass left them alone (or never saw them), and their put's count is the latest word on them.
    const inGrace = (id: string): boolean => (ctx.recent.get(id) ?? Number.NEGATIVE_INFINITY) > settled
    for (const id of walked ?? [...ctx.shortBlobs.keys()]) if (!inGrace(id)) ctx.shortBlobs.delete(id)
    for (const [id, n] of short) ctx.shortBlobs.set(id, n)
    report.underReplicated = ctx.shortBlobs.size
    ctx.metrics.repairPasses++
    ctx.metrics.repairQueue = 0
    ctx.events.emit('repair', report)
    // A pass that moved data is worth a line; the many that find everything in place are not.
    if (report.pushed > 0 || report.dropped > 0) ctx.logger.info({ ...report }, 'repair pass moved copies')
    else ctx.logger.debug({ ...report }, 'repair pass done')
    return report
  }

  private async repairBatch(all: string[], placement: Placement, report: RepairReport, short: Map<string, number>): Promise<void> {
    const { ctx } = this
    report.checked += all.length
    // Collection: a blob nobody pins (its owners deleted it) is garbage, unless a file of this node still uses it.
    const ids: string[] = []
    const settled = ctx.clock.now() - ctx.timing.repairGraceMs
    for (const id of all) {
      const written = ctx.recent.get(id) ?? Number.NEGATIVE_INFINITY
      if (written > settled) {
        report.deferred++
        report.settledAt = Math.max(report.settledAt, written + ctx.timing.repairGraceMs)
        continue
      }
      if ((await ctx.store.isPinned(id)) || ctx.catalog.isReferenced(id)) ids.push(id)
      else if (await ctx.store.delete(id)) report.dropped++
    }
    const wanted = Math.min(ctx.replicas, placement.size)
    // Who to ask: each blob's holders, and the full members ranked among them (a full member that has
    // a copy keeps being one of its holders).
    const candidates = new Map<string, RankedMember[]>()
    const ask = new Map<string, string[]>()
    for (const id of ids) {
      const ranked = placement.candidates(id, ctx.replicas)
      candidates.set(id, ranked)
      for (const m of ranked) if (m.id !== ctx.id) (ask.get(m.id) ?? ask.set(m.id, []).get(m.id)!).push(id)
    }
    // have.get(peer) = set of ids it holds; unreachable peers are absent.
    const have = new Map<string, Set<string>>()
    await Promise.all(
      [...ask].map(async ([peer, peerIds]) => {
        try {
          const answers = await askHas(ctx, peer, peerIds, this.abort.signal)
          have.set(peer, new Set(peerIds.filter((_, i) => answers[i] === true)))
        } catch (err) {
          if (isProgrammerError(err)) throw err
          ctx.logger.debug({ peer, code: errorCode(err) }, 'holder unreachable during repair')
        }
      }),
    )

    const pushes: { id: string; to: string }[] = []
    for (const id of ids) {
      const holders = pickHolders(candidates.get(id)!, ctx.replicas, (m) => m === ctx.id || have.get(m)?.has(id) === true)
      const selfHolder = holders.includes(ctx.id)
      const holding = holders.filter((h) => h === ctx.id || have.get(h)?.has(id) === true)
      const missing = holders.filter((h) => h !== ctx.id && have.get(h)?.has(id) === false)
      const copies = holding.length
      // Who pushes: the first holder (in rank order) that has it; a non-holder only when no holder does.
      // And its owner, for a blob it once deleted and then pinned again (put again, or a put that failed
      // and was retried): the peers it told keep a tombstone of that delete, which refuses the pins
      // anyone else relays for it, but not the owner's own newer pin.
      const pusher = (selfHolder ? holding[0] === ctx.id : holding.length === 0) || (missing.length > 0 && (await this.pinnedAgain(id)))
      if (missing.length > 0 && pusher) for (const to of missing) pushes.push({ id, to })
      if (copies < wanted) short.set(id, copies)
      if (!selfHolder && copies === holders.length && holders.length >= wanted && (await this.droppable(id))) {
        await ctx.store.delete(id)
        report.dropped++
        ctx.metrics.repairDropped++
      }
    }
    ctx.metrics.repairQueue = pushes.length
    const window = new TaskWindow(ctx.timing.repairConcurrency)
    for (const p of pushes) {
      if (this.abort.signal.aborted) break
      await window.run(async () => {
        if (await this.push(p.id, p.to)) {
          report.pushed++
          ctx.metrics.repairPushed++
          const left = short.get(p.id)
          if (left !== undefined) {
            if (left + 1 >= wanted) short.delete(p.id)
            else short.set(p.id, left + 1)
          }
        }
        ctx.metrics.repairQueue = Math.max(0, ctx.metrics.repairQueue - 1)
      })
    }
    await window.drain()
  }

  /** Those of `ids` this node still stores. */
  private async *stillHere(ids: string[]): AsyncGenerator<string> {
    for (const id of ids) if (await this.ctx.store.has(id)) yield id
  }

  /** Whether this node pins `id` after having deleted it within the tombstone grace period. */
  private async pinnedAgain(id: string): Promise<boolean> {
    const { ctx } = this
    return ctx.catalog.wasDeleted(id) && (await ctx.store.pins(id)).some((p) => p.owner === ctx.id)
  }

  private async droppable(id: string): Promise<boolean> {
    const { ctx } = this
    if (ctx.catalog.isReferenced(id)) return false
    const pins = await ctx.store.pins(id)
    return !pins.some((p) => p.owner === ctx.id)
  }

  private async push(id: string, to: string): Promise<boolean> {
    const { ctx } = this
    const key = `${id}:${to}`
    if (this.inFlight.has(key)) return false
    this.inFlight.add(key)
    try {
      const pins = await ctx.store.pins(id)
      // Unpinned here means deleted by its owner (or never pinned): nothing to spread.
      if (pins.length === 0) return false
      // Never spread a copy damaged on disk: it is moved aside and healed instead.
      const blob = await readLocalForPeer(ctx, id)
      if (blob === undefined) return false
      await this.limiter.take(blob.byteLength, this.abort.signal)
      await pushBlob(ctx, to, id, blob, pins, this.abort.signal)
      ctx.logger.debug({ blob: id, to }, 'repair pushed a copy')
      return true
    } catch (err) {
      if (isProgrammerError(err)) throw err
      ctx.logger.debug({ blob: id, to, code: errorCode(err) }, 'repair push failed')
      return false
    } finally {
      this.inFlight.delete(key)
    }
  }
}
