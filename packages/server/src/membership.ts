import { EventEmitter } from 'node:events'
import type { Clock } from './clock.js'
import { DEFAULT_TIMING, FULL_MARGIN_BYTES, MAX_GOSSIP_RECORDS, type Timing } from './constants.js'
import { isHex64 } from './ids.js'

/** What one node says about another in gossip (wire shape of @cas/p2p). */
export interface PeerRecord {
  id: string
  addresses: string[]
  /** Grows while the node runs; starts at its start time in ms so a restarted node outranks its old records. */
  heartbeat: number
  capacity: number
  used: number
}

/** Liveness of a peer as seen from here. */
export type PeerState = 'alive' | 'suspect' | 'dead'

/** A peer in the local view. */
export interface Member extends PeerRecord {
  state: PeerState
  /** Local clock time (ms) when its heartbeat last advanced or it was last heard from directly. */
  lastSeen: number
}

/** Events emitted by {@link Membership}. */
export interface MembershipEvents {
  /** A peer appeared, changed state or was forgotten. */
  change: [{ id: string; state: PeerState | 'forgotten' | 'new'; previous?: PeerState }]
}

/** Options of {@link Membership}. */
export interface MembershipOptions {
  /** This node's id and what it advertises; read on every tick. */
  self: () => { id: string; addresses: string[]; capacity: number; used: number }
  clock: Clock
  timing?: Partial<Timing>
  /** Uniform [0, 1) random source; injectable for reproducible simulations. */
  random?: () => number
}

/**
 * Gossip-style failure detection (van Renesse, Minsky, Hayden 1998): each node
 * bumps its own heartbeat every gossip round and sends its table to a few
 * random peers; a receiver keeps, per peer, the highest heartbeat seen and the
 * local time it last advanced. A peer whose heartbeat stalls is suspect, then
 * dead, then forgotten; a forgotten peer's last heartbeat is remembered for as
 * long again so stale gossip cannot bring it back. This class is the state
 * machine only; the node moves its messages.
 */
export class Membership extends EventEmitter<MembershipEvents> {
  readonly id: string
  private heartbeat: number
  private readonly timing: Timing
  private readonly clock: Clock
  private readonly random: () => number
  private readonly peers = new Map<string, Member>()
  private readonly forgotten = new Map<string, { heartbeat: number; until: number }>()

  constructor(private readonly opts: MembershipOptions) {
    super()
    this.clock = opts.clock
    this.timing = { ...DEFAULT_TIMING, ...opts.timing }
    this.random = opts.random ?? Math.random
    this.id = opts.self().id
    this.heartbeat = this.clock.now()
  }

  /** This node's own record with its current heartbeat. */
  selfRecord(): PeerRecord {
    const s = this.opts.self()
    return { id: this.id, addresses: s.addresses, heartbeat: this.heartbeat, capacity: s.capacity, used: s.used }
  }

  /** One gossip round: bump the heartbeat and age every peer. */
  tick(): void {
    this.heartbeat = Math.max(this.heartbeat + 1, this.clock.now())
    this.age()
  }

  /** Re-evaluates every peer's state against the clock. */
  age(): void {
    const now = this.clock.now()
    for (const [id, m] of this.peers) {
      const silent = now - m.lastSeen
      if (silent >= this.timing.forgetAfterMs) {
        this.peers.delete(id)
        this.forgotten.set(id, { heartbeat: m.heartbeat, until: now + this.timing.forgetAfterMs })
        this.emit('change', { id, state: 'forgotten', previous: m.state })
        continue
      }
      const state: PeerState =
        silent >= this.timing.deadAfterMs ? 'dead' : silent >= this.timing.suspectAfterMs ? 'suspect' : 'alive'
      if (state !== m.state) {
        const previous = m.state
        m.state = state
        this.emit('change', { id, state, previous })
      }
    }
    for (const [id, f] of this.forgotten) if (f.until <= now) this.forgotten.delete(id)
  }

  /**
   * Merges gossiped records: a record counts only if its heartbeat is higher
   * than what is known. Malformed records are skipped. Returns how many
   * records changed the view.
   */
  merge(records: readonly PeerRecord[]): number {
    let changed = 0
    for (const r of records.slice(0, MAX_GOSSIP_RECORDS)) {
      if (!isHex64(r.id) || r.id === this.id || !Number.isSafeInteger(r.heartbeat)) continue
      const grave = this.forgotten.get(r.id)
      if (grave !== undefined) {
        if (r.heartbeat <= grave.heartbeat) continue
        this.forgotten.delete(r.id)
      }
      const known = this.peers.get(r.id)
      if (known !== undefined && r.heartbeat <= known.heartbeat) continue
      this.upsert(r)
      changed++
    }
    return changed
  }

  /**
   * Records direct contact with a peer (a connection or a message from it): it
   * is alive now whatever its heartbeat says. A peer not seen before is added
   * with the given details.
   */
  observe(peer: { id: string; addresses?: string[]; capacity?: number; used?: number }): void {
    if (!isHex64(peer.id) || peer.id === this.id) return
    const known = this.peers.get(peer.id)
    if (known === undefined) {
      this.forgotten.delete(peer.id)
      this.upsert({ id: peer.id, addresses: peer.addresses ?? [], heartbeat: 0, capacity: peer.capacity ?? 0, used: peer.used ?? 0 })
      return
    }
    known.lastSeen = this.clock.now()
    if (peer.addresses !== undefined && peer.addresses.length > 0) known.addresses = peer.addresses
    if (peer.capacity !== undefined) known.capacity = peer.capacity
    if (peer.used !== undefined) known.used = peer.used
    if (known.state !== 'alive') {
      const previous = known.state
      known.state = 'alive'
      this.emit('change', { id: peer.id, state: 'alive', previous })
    }
  }

  private upsert(r: PeerRecord): void {
    const now = this.clock.now()
    const known = this.peers.get(r.id)
    const m: Member = {
      id: r.id,
      addresses: r.addresses.length > 0 || known === undefined ? [...r.addresses] : known.addresses,
      heartbeat: r.heartbeat,
      capacity: r.capacity,
      used: r.used,
      state: 'alive',
      lastSeen: now,
    }
    this.peers.set(r.id, m)
    if (known === undefined) this.emit('change', { id: r.id, state: 'new' })
    else if (known.state !== 'alive') this.emit('change', { id: r.id, state: 'alive', previous: known.state })
  }

  /** Records to gossip: this node and every peer not dead, at most the wire limit (a random sample beyond it). */
  records(): PeerRecord[] {
    const out: PeerRecord[] = [this.selfRecord()]
    const others = [...this.peers.values()].filter((m) => m.state !== 'dead')
    shuffle(others, this.random)
    for (const m of others.slice(0, MAX_GOSSIP_RECORDS - 1)) {
      out.push({ id: m.id, addresses: m.addresses, heartbeat: m.heartbeat, capacity: m.capacity, used: m.used })
    }
    return out
  }

  /**
   * Peers to gossip with this round: `fanout` random ones that are not dead,
   * plus now and then a dead one so a healed partition rejoins.
   */
  gossipTargets(fanout = this.timing.gossipFanout): Member[] {
    const live = [...this.peers.values()].filter((m) => m.state !== 'dead')
    shuffle(live, this.random)
    const targets = live.slice(0, fanout)
    const dead = [...this.peers.values()].filter((m) => m.state === 'dead')
    if (dead.length > 0 && this.random() < 0.1) targets.push(dead[Math.floor(this.random() * dead.length)]!)
    return targets
  }

  /** A peer's entry, if known. */
  get(id: string): Member | undefined {
    return this.peers.get(id)
  }

  /** Every known peer (not this node). */
  members(): Member[] {
    return [...this.peers.values()]
  }

  /** Ids of the peers that are alive or suspect. */
  livePeers(): string[] {
    return [...this.peers.values()].filter((m) => m.state !== 'dead').map((m) => m.id)
  }

  /**
   * Placement candidates: this node and every peer that is not dead, flagged
   * full by {@link isFull}.
   * Suspects stay in so a slow peer does not move data around; repair starts
   * once a peer is declared dead.
   */
  placementMembers(): { id: string; full: boolean }[] {
    const self = this.opts.self()
    const out = [{ id: this.id, full: isFull(self.capacity, self.used) }]
    for (const m of this.peers.values()) if (m.state !== 'dead') out.push({ id: m.id, full: isFull(m.capacity, m.used) })
    return out
  }
}

/**
 * True when a node with this capacity and usage should receive no new blobs: when no more than
 * {@link FULL_MARGIN_BYTES} of it is free, or an eighth of it for a capacity under 512 MiB (a
 * small node still takes blobs; its store refuses a write that would go over).
 */
export function isFull(capacity: number, used: number): boolean {
  return capacity - used <= Math.min(FULL_MARGIN_BYTES, Math.floor(capacity / 8))
}

function shuffle<T>(items: T[], random: () => number): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[items[i], items[j]] = [items[j]!, items[i]!]
  }
}
