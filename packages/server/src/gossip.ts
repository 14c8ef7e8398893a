import { BOOTSTRAP_RETRY_MAX_MS } from './constants.js'
import type { NodeContext } from './context.js'
import { errorCode, isProgrammerError } from './errors.js'
import { dialPeer } from './replicate.js'
import type { Member } from './membership.js'

/**
 * Moves membership gossip: every `gossipIntervalMs` it ticks the state
 * machine and sends the table to a few random peers, dialling them by their
 * advertised addresses when not connected. While the node knows no live peer
 * it keeps retrying its bootstrap addresses, so a node that started first or
 * restarted finds its network again. Each address that keeps failing is
 * retried less often, from `bootstrapRetryMs` doubling up to
 * {@link BOOTSTRAP_RETRY_MAX_MS}: a peer with another network key, or an
 * address that is wrong, is not hammered (nor its log filled) every 2 s.
 */
export class Gossiper {
  private timer: unknown
  private stopped = false
  private readonly sending = new Set<string>()
  private readonly dialling = new Set<string>()
  private readonly attempts: Map<string, BootstrapAttempt>

  constructor(
    private readonly ctx: NodeContext,
    private readonly bootstrap: string[],
    private readonly onRound: () => void = () => {},
  ) {
    this.attempts = new Map(bootstrap.map((address) => [address, { failures: 0, nextAt: Number.NEGATIVE_INFINITY, triedAt: Number.NEGATIVE_INFINITY }]))
  }

  /** Each bootstrap address, with why the last dial failed while it keeps failing. */
  bootstrapState(): { address: string; error?: string }[] {
    return [...this.attempts].map(([address, a]) => ({ address, ...(a.error !== undefined ? { error: a.error } : {}) }))
  }

  /** Dials the bootstrap addresses and starts the gossip rounds. */
  async start(): Promise<void> {
    await this.joinBootstrap()
    this.schedule()
  }

  /** Stops the rounds. */
  stop(): void {
    this.stopped = true
    if (this.timer !== undefined) this.ctx.clock.clearTimeout(this.timer)
  }

  /** One round, also callable directly by simulations. */
  round(): void {
    const { ctx } = this
    this.onRound()
    ctx.membership.tick()
    const targets = ctx.membership.gossipTargets()
    void this.joinBootstrap(ctx.membership.livePeers().length === 0 ? 'alone' : 'refresh')
    if (targets.length === 0) return
    const peers = ctx.membership.records()
    for (const target of targets) void this.sendTo(target, peers)
  }

  private schedule(): void {
    if (this.stopped) return
    this.timer = this.ctx.clock.setTimeout(() => {
      try {
        this.round()
      } finally {
        this.schedule()
      }
    }, this.ctx.timing.gossipIntervalMs)
  }

  private async sendTo(target: Member, peers: unknown[]): Promise<void> {
    const { ctx } = this
    // One gossip send per peer at a time: a slow peer does not pile up messages.
    if (this.sending.has(target.id)) return
    this.sending.add(target.id)
    try {
      if (!ctx.host.isConnected(target.id)) await dialPeer(ctx, target.id)
      await ctx.host.send(target.id, 'gossip', { peers })
      ctx.metrics.gossipSent++
    } catch (err) {
      if (isProgrammerError(err)) throw err
      ctx.logger.debug({ peer: target.id, code: errorCode(err) }, 'gossip send failed')
    } finally {
      this.sending.delete(target.id)
    }
  }

  /**
   * Dials the bootstrap addresses that are due: all of them while alone; with peers, those whose
   * node this one does not see alive, every `bootstrapRefreshMs`. Without that, a bootstrap node
   * restarted after its peers had forgotten it would stay alone, or in an island with the few nodes
   * that started since.
   */
  private async joinBootstrap(why: 'alone' | 'refresh' = 'alone'): Promise<void> {
    const { ctx } = this
    const now = ctx.clock.now()
    const due = this.bootstrap.filter((addr) => {
      const attempt = this.attempts.get(addr)!
      if (this.dialling.has(addr) || attempt.nextAt > now) return false
      if (why === 'alone') return now - attempt.triedAt >= ctx.timing.bootstrapRetryMs
      const known = attempt.peerId === undefined ? undefined : ctx.membership.get(attempt.peerId)
      return known?.state !== 'alive' && now - attempt.triedAt >= ctx.timing.bootstrapRefreshMs
    })
    await Promise.all(due.map((addr) => this.dialBootstrap(addr)))
  }

  private async dialBootstrap(addr: string): Promise<void> {
    const { ctx } = this
    const attempt = this.attempts.get(addr)!
    this.dialling.add(addr)
    attempt.triedAt = ctx.clock.now()
    try {
      const conn = await ctx.host.connect(addr)
      attempt.peerId = conn.peerId
      ctx.membership.observe({ id: conn.peerId, addresses: conn.hello.addresses, capacity: conn.hello.capacity, used: conn.hello.used })
      await ctx.host.send(conn.peerId, 'gossip', { peers: ctx.membership.records() })
      ctx.metrics.gossipSent++
      if (attempt.failures > 0) ctx.logger.info({ addr, failures: attempt.failures }, 'bootstrap peer reached')
      Object.assign(attempt, { failures: 0, nextAt: Number.NEGATIVE_INFINITY, error: undefined })
    } catch (err) {
      if (isProgrammerError(err)) throw err
      attempt.failures++
      const waitMs = Math.min(ctx.timing.bootstrapRetryMs * 2 ** (attempt.failures - 1), BOOTSTRAP_RETRY_MAX_MS)
      attempt.nextAt = ctx.clock.now() + waitMs
      const error = reasonOf(err)
      // Said once, and again when the reason changes; each retry after that is a debug line.
      const log = error !== attempt.error ? ctx.logger.warn.bind(ctx.logger) : ctx.logger.debug.bind(ctx.logger)
      log({ addr, code: errorCode(err), reason: error, retryInMs: waitMs }, 'bootstrap peer unreachable')
      attempt.error = error
    } finally {
      this.dialling.delete(addr)
    }
  }
}

interface BootstrapAttempt {
  /** Dials failed in a row. */
  failures: number
  /** Clock time (ms) before which it is not dialled again. */
  nextAt: number
  /** Clock time (ms) of the last dial. */
  triedAt: number
  /** The node last reached at this address. */
  peerId?: string
  /** Why the last dial failed, while it keeps failing. */
  error?: string
}

/** The innermost message of an error's causes that says most: a dial failure wraps the handshake's. */
function reasonOf(err: unknown): string {
  const messages: string[] = []
  for (let e = err; e instanceof Error; e = e.cause) messages.push(e.message)
  return messages.find((m) => /network key/.test(m)) ?? messages.join(': ')
}
