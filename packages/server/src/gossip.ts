import type { NodeContext } from './context.js'
import { errorCode, isProgrammerError } from './errors.js'
import { dialPeer } from './replicate.js'
import type { Member } from './membership.js'

/**
 * Moves membership gossip: every `gossipIntervalMs` it ticks the state
 * machine and sends the table to a few random peers, dialling them by their
 * advertised addresses when not connected. While the node knows no live peer
 * it keeps retrying its bootstrap addresses, so a node that started first or
 * restarted finds its network again.
 */
export class Gossiper {
  private timer: unknown
  private stopped = false
  private readonly sending = new Set<string>()
  private lastBootstrap = Number.NEGATIVE_INFINITY

  constructor(
    private readonly ctx: NodeContext,
    private readonly bootstrap: string[],
    private readonly onRound: () => void = () => {},
  ) {}

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
    if (ctx.membership.livePeers().length === 0 && ctx.clock.now() - this.lastBootstrap >= ctx.timing.bootstrapRetryMs) {
      void this.joinBootstrap()
    }
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

  private async joinBootstrap(): Promise<void> {
    const { ctx } = this
    this.lastBootstrap = ctx.clock.now()
    await Promise.all(
      this.bootstrap.map(async (addr) => {
        try {
          const conn = await ctx.host.connect(addr)
          ctx.membership.observe({ id: conn.peerId, addresses: conn.hello.addresses, capacity: conn.hello.capacity, used: conn.hello.used })
          await ctx.host.send(conn.peerId, 'gossip', { peers: ctx.membership.records() })
          ctx.metrics.gossipSent++
        } catch (err) {
          if (isProgrammerError(err)) throw err
          ctx.logger.warn({ addr, code: errorCode(err), err }, 'bootstrap peer unreachable')
        }
      }),
    )
  }
}
