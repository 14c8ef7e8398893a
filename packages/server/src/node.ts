import { createHash } from 'node:crypto'
import { EventEmitter } from 'node:events'
import { availableParallelism } from 'node:os'
import type { Readable } from 'node:stream'
import { CryptoPool, sealChunk, type ThreadSha256 } from '@cas/crypto'
import { BodyPool } from './body-pool.js'
import { Catalog, type FileRecord } from './catalog.js'
import { formatCapability, parseRef } from './capability.js'
import { settlesWithin, systemClock, type Clock } from './clock.js'
import type { BlobStoreLike, HostLike } from './components.js'
import { CLEANUP_WAIT_MS, DEFAULT_CHUNK_SIZE, GET_WINDOW, PUT_WINDOW, DEFAULT_REPLICAS, DEFAULT_TIMING, UNLIMITED_CAPACITY, type Timing } from './constants.js'
import { newMetrics, type NodeContext, type NodeMetrics } from './context.js'
import { reapplyDeletesLocally, tellDeletes, unpinEverywhere } from './deletes.js'
import { errorCode, isProgrammerError, ServerError } from './errors.js'
import { BlobFetcher, heal } from './fetcher.js'
import { childLoader, loadRoot, normalizeRange, readFile, type ByteRange, type FileInfo } from './get.js'
import { Gossiper } from './gossip.js'
import { silentLogger, type Logger } from './logger.js'
import { walkBlobs } from './manifest.js'
import { Membership, type PeerState } from './membership.js'
import { PeerHealth } from './peer-health.js'
import { putFile, releaseUnfinishedPuts, type PutOptions, type PutResult } from './put.js'
import { Repairer, type RepairReport } from './repair.js'
import { askHas, currentPlacement } from './replicate.js'
import { pickHolders } from './placement.js'
import { registerHandlers } from './rpc.js'

/** Components and settings of a node whose host already exists. */
export interface NodeComponents {
  host: HostLike
  store: BlobStoreLike
  /** 32-byte owner key: encrypts this node's files. */
  ownerKey: Buffer
  /** Directory of the catalog database. */
  catalogPath: string
  /** Addresses to join through. */
  bootstrap?: string[]
  /** Copies of every blob on distinct live nodes (default 3). */
  replicas?: number
  /** Advertised capacity in bytes; default the store's. */
  capacity?: number
  /** Plaintext chunk size (default 1 MiB). */
  chunkSize?: number
  /** Chunks in flight during a put (default {@link PUT_WINDOW}). */
  putWindow?: number
  /** Chunks fetched ahead during a get (default {@link GET_WINDOW}). */
  getWindow?: number
  /**
   * Worker threads for a put's crypto (sealing chunks, hashing the file): default 1 when the
   * machine has more than one core, else 0 (all of it on the event loop).
   */
  cryptoThreads?: number
  /**
   * The pool the host's `allocateBody` takes from: blobs received are given back to it once used.
   * Without one (a host that allocates on its own), received blobs are left to the collector, and a
   * pool of the node's own holds the copies it reads.
   */
  bodies?: BodyPool
  clock?: Clock
  logger?: Logger
  timing?: Partial<Timing>
  /** Random source of gossip target selection. */
  random?: () => number
}

/** A file in this node's catalog. */
export interface CatalogEntry {
  name?: string
  address: string
  size: number
  sha256: string
  /** ISO 8601. */
  createdAt: string
  /** Fewest live copies on holders over the file's blobs, as last checked. */
  replicas: number
}

/** A peer in this node's membership view. */
export interface PeerInfo {
  id: string
  addresses: string[]
  state: PeerState
  /** ISO 8601. */
  lastSeen: string
  /** Bytes offered; `Infinity` (JSON `null`) for unlimited, as in {@link NodeStatus}. */
  capacity: number
  used: number
}

/** Node status (DESIGN §6). */
export interface NodeStatus {
  id: string
  addresses: string[]
  /** Peers alive or suspect. */
  peers: number
  blobs: number
  bytes: number
  capacity: number
  /** Blobs held here with fewer live copies than wanted. */
  underReplicated: number
  /** Target copies per blob. */
  replicas: number
  /** The bootstrap addresses, each with why its last dial failed while it keeps failing. */
  bootstrap: { address: string; error?: string }[]
}

/** Where one blob of a file lives. */
export interface BlobPlacement {
  blob: string
  holders: string[]
  /** Holders that confirmed a copy. */
  live: number
}

/** Options of a get. */
export interface GetOptions {
  /** Inclusive byte range. */
  range?: ByteRange
  signal?: AbortSignal
  /** Read every blob from other nodes, never this node's store (checks remote copies; used by benchmarks). */
  remoteOnly?: boolean
}

/** Events of a {@link CasNode}. */
export interface CasNodeEvents {
  /** A peer served bytes that did not match the blob id. */
  corrupt: [{ peer: string; blob: string }]
  /** A repair pass ended. */
  repair: [RepairReport]
  /** A peer appeared, changed state or was forgotten. */
  peer: [{ id: string; state: PeerState | 'forgotten' | 'new' }]
}

interface Resolved {
  address: string
  fileKey: Buffer | undefined
  record: FileRecord | undefined
  /** The name the file was referred to by, for a name ref. */
  name?: string
}

/**
 * One CAS node: stores, finds, replicates and repairs files with its peers
 * (DESIGN §2, §5). Built from injected components so many nodes can run in one
 * process on a simulated clock. See README.md for the flows.
 */
export class CasNode extends EventEmitter<CasNodeEvents> {
  /** This node's id: the hex of its static public key. */
  readonly id: string
  /** Plain counters for monitoring. */
  readonly metrics: NodeMetrics
  private readonly ctx: NodeContext
  private readonly gossiper: Gossiper
  private readonly repairer: Repairer
  private readonly stats = { used: 0, capacity: UNLIMITED_CAPACITY }
  private repairTimer: unknown
  private debounceTimer: unknown
  private followUpTimer: unknown
  private followUpAt = 0
  private recheckTimer: unknown
  private recheckDelayMs: number
  private scrubTimer: unknown
  private deleteRetryTimer: unknown
  private scrubbing: Promise<void> | undefined
  private readonly scrubAbort = new AbortController()
  private started = false
  private stopped = false

  private constructor(opts: NodeComponents, catalog: Catalog) {
    super()
    const clock = opts.clock ?? systemClock
    const timing: Timing = { ...DEFAULT_TIMING, ...opts.timing }
    const host = opts.host
    const cryptoThreads = opts.cryptoThreads ?? (availableParallelism() > 1 ? 1 : 0)
    const pool = cryptoThreads > 0 ? new CryptoPool({ threads: cryptoThreads }) : undefined
    this.cryptoPool = pool
    this.id = host.id
    this.metrics = newMetrics()
    if (opts.capacity !== undefined) this.stats.capacity = Math.min(opts.capacity, UNLIMITED_CAPACITY)
    const membership = new Membership({
      self: () => ({ id: host.id, addresses: host.addresses, capacity: this.stats.capacity, used: this.stats.used }),
      clock,
      timing,
      ...(opts.random ? { random: opts.random } : {}),
    })
    this.ctx = {
      id: host.id,
      host,
      store: opts.store,
      membership,
      catalog,
      ownerKey: opts.ownerKey,
      replicas: opts.replicas ?? DEFAULT_REPLICAS,
      chunkSize: opts.chunkSize ?? DEFAULT_CHUNK_SIZE,
      putWindow: opts.putWindow ?? PUT_WINDOW,
      getWindow: opts.getWindow ?? GET_WINDOW,
      seal: pool
        ? (plaintext, fileHash) => pool.seal(opts.ownerKey, plaintext, fileHash ? { alsoHash: fileHash } : {})
        : (plaintext, fileHash) => {
            fileHash?.update(plaintext)
            return Promise.resolve(sealChunk(opts.ownerKey, plaintext))
          },
      fileHash: pool ? () => pool.createSha256() : () => loopSha256(),
      recycle: pool ? (blob) => pool.recycle(blob) : () => {},
      bodies: opts.bodies ?? new BodyPool(),
      clock,
      timing,
      logger: (opts.logger ?? silentLogger).child({ node: host.id.slice(0, 8) }),
      metrics: this.metrics,
      events: this,
      shortBlobs: new Map(),
      recent: new Map(),
      placing: new Map(),
      healing: new Set(),
      tellingDeletes: new Set(),
      owedDeletes: new Set(),
      cleanups: new Set(),
      health: new PeerHealth(clock, timing.unresponsiveBackoffMs, timing.unresponsiveBackoffMaxMs),
    }
    this.gossiper = new Gossiper(this.ctx, opts.bootstrap ?? [], () => void this.refreshStats())
    this.repairer = new Repairer(this.ctx)
    this.recheckDelayMs = timing.repairRecheckMs
    this.capacityOption = opts.capacity
  }

  private readonly capacityOption: number | undefined
  private readonly cryptoPool: CryptoPool | undefined

  /** Creates a node on an existing host; call {@link CasNode.start} to join the network. */
  static async create(opts: NodeComponents): Promise<CasNode> {
    if (opts.ownerKey.byteLength !== 32) throw new ServerError('INVALID_ARGUMENT', 'owner key must be 32 bytes')
    const replicas = opts.replicas ?? DEFAULT_REPLICAS
    if (!Number.isSafeInteger(replicas) || replicas < 1) throw new ServerError('INVALID_ARGUMENT', 'replicas must be a positive integer')
    const { cryptoThreads } = opts
    if (cryptoThreads !== undefined && (!Number.isSafeInteger(cryptoThreads) || cryptoThreads < 0)) {
      throw new ServerError('INVALID_ARGUMENT', 'cryptoThreads must be a non-negative integer')
    }
    const node = new CasNode(opts, Catalog.open(opts.catalogPath))
    await node.refreshStats()
    return node
  }

  /** Capacity and usage this node advertises (hello and gossip). */
  advertised(): { capacity: number; used: number } {
    return { capacity: this.stats.capacity, used: this.stats.used }
  }

  /** Listen addresses of the host (ports resolved). */
  get addresses(): string[] {
    return this.ctx.host.addresses
  }

  /** Registers handlers, joins through the bootstrap addresses and starts gossip and repair. */
  async start(): Promise<void> {
    if (this.started) return
    this.started = true
    const { ctx } = this
    registerHandlers(ctx)
    // Before gossip: every peer this node then meets is new to it and is told these unpins.
    await releaseUnfinishedPuts(ctx)
    await reapplyDeletesLocally(ctx)
    ctx.host.on('peer:connect', (conn) => {
      ctx.health.answered(conn.peerId)
      ctx.membership.observe({ id: conn.peerId, addresses: conn.hello.addresses, capacity: conn.hello.capacity, used: conn.hello.used })
      // Back on a fresh connection (a restart is one): deletes it failed to take are told at once.
      if (ctx.owedDeletes.has(conn.peerId)) this.tellDeletesTo(conn.peerId)
    })
    ctx.membership.on('change', (change) => {
      this.emit('peer', change)
      // What an operator wants to read in the log: who joined, who died, who came back (suspicion
      // comes and goes with load, so it is a debug line).
      const peer = change.id.slice(0, 16)
      if (change.state === 'new') ctx.logger.info({ peer }, 'peer joined')
      else if (change.state === 'dead') ctx.logger.info({ peer }, 'peer declared dead; repair will restore its copies elsewhere')
      else if (change.state === 'alive' && change.previous === 'dead') ctx.logger.info({ peer }, 'peer back after being dead')
      else if (change.state === 'forgotten') ctx.logger.info({ peer }, 'peer forgotten')
      else ctx.logger.debug({ peer, state: change.state, previous: change.previous }, 'peer state changed')
      if (change.state === 'dead') {
        // Unheard of for deadAfterMs by anyone: after a network outage its TCP connection may sit in
        // retransmission backoff for minutes once the network is back, while a fresh dial works at
        // once. A connection still bringing bytes is kept.
        ctx.host.disconnect(change.id, { ifSilentForMs: ctx.timing.suspectAfterMs })
      } else if (change.state === 'alive' && change.previous === 'dead') {
        // Back from the dead: requests it failed while gone said nothing about it as it is now.
        ctx.health.answered(change.id)
      }
      if (change.state === 'alive' || change.state === 'new') {
        this.tellDeletesTo(change.id)
      }
      if (change.state !== 'suspect') this.scheduleRepair(ctx.timing.repairDebounceMs)
    })
    // Blobs a pass had to leave alone (a put may still be sending them) get a pass of their own once
    // their grace is over, instead of waiting for the next periodic one.
    this.on('repair', (report) => {
      if (report.deferred > 0) this.scheduleFollowUp(report.settledAt)
      this.scheduleRecheck(report.underReplicated)
    })
    await this.gossiper.start()
    this.scheduleRepair(ctx.timing.repairIntervalMs)
    this.scheduleScrub(ctx.timing.scrubDelayMs)
    this.scheduleDeleteRetry()
  }

  /** Stops gossip and repair, closes the host and the catalog. The store is left open for its owner to close. */
  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    this.gossiper.stop()
    this.ctx.clock.clearTimeout(this.repairTimer)
    this.ctx.clock.clearTimeout(this.debounceTimer)
    this.ctx.clock.clearTimeout(this.followUpTimer)
    this.ctx.clock.clearTimeout(this.recheckTimer)
    this.ctx.clock.clearTimeout(this.scrubTimer)
    this.ctx.clock.clearTimeout(this.deleteRetryTimer)
    this.scrubAbort.abort()
    await this.scrubbing
    await this.repairer.stop()
    // The clean-ups of puts that failed as the node stopped need the catalog and the peers. Each is
    // bounded by request timeouts; a crash in between is finished at the next start anyway.
    if (this.ctx.cleanups.size > 0) await settlesWithin(this.ctx.clock, Promise.allSettled([...this.ctx.cleanups]), CLEANUP_WAIT_MS)
    await this.ctx.host.close()
    await this.ctx.catalog.close()
    await this.cryptoPool?.close()
  }

  /**
   * Lets go of the blob memory this node keeps for its next transfers (its body pool's spares and
   * its crypto threads' recycled blobs), for the collector to free; the next transfer allocates
   * afresh. For when traffic stops: the `cas` daemon calls it, then a full collection and
   * `releaseFreeMemory()`, once its node's transfers stand still.
   */
  dropSpares(): void {
    this.ctx.bodies.clear()
    this.cryptoPool?.dropSpares()
  }

  /** Stores a file in the network; see {@link putFile}. */
  async put(source: AsyncIterable<Uint8Array>, opts: PutOptions = {}): Promise<PutResult> {
    this.assertOpen()
    const result = await putFile(this.ctx, source, opts)
    void this.refreshStats()
    return result
  }

  /** What is known about a file, from the catalog or its root manifest. */
  async stat(ref: string): Promise<FileInfo> {
    this.assertOpen()
    const r = this.resolve(ref)
    if (r.record !== undefined) return infoFromRecord(r.record, r.name)
    const root = await loadRoot(new BlobFetcher(this.ctx), r.address, this.keyOf(r))
    return { address: r.address, size: root.size, sha256: root.sha256!, chunks: Math.ceil(root.size / root.chunkSize) }
  }

  /** Streams a file (or an inclusive byte range of it) from wherever its blobs are. */
  async get(ref: string, opts: GetOptions = {}): Promise<{ info: FileInfo; stream: Readable }> {
    this.assertOpen()
    const r = this.resolve(ref)
    const fetcher = new BlobFetcher(this.ctx, {
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.remoteOnly === true ? { remoteOnly: true } : {}),
    })
    const root = await loadRoot(fetcher, r.address, this.keyOf(r))
    const info: FileInfo =
      r.record !== undefined
        ? infoFromRecord(r.record, r.name)
        : { address: r.address, size: root.size, sha256: root.sha256!, chunks: Math.ceil(root.size / root.chunkSize) }
    const range = normalizeRange(opts.range, root.size)
    const owned = r.record !== undefined
    const stream = readFile(this.ctx, fetcher, root, {
      ...(range ? { range } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(owned ? { ownerKey: this.ctx.ownerKey } : {}),
    })
    opts.signal?.addEventListener('abort', () => stream.destroy(new ServerError('ABORTED', 'get aborted')), { once: true })
    return { info, stream }
  }

  /**
   * Deletes one of this node's files: drops the catalog entry, then unpins the
   * blobs no other file of this node uses, here and on every live peer, with a
   * fresh sequence number (peers keep a tombstone); unpinned blobs are
   * collected. Only the owner can delete: other nodes' pins are untouched.
   */
  async delete(ref: string): Promise<void> {
    this.assertOpen()
    const { ctx } = this
    const r = this.resolve(ref)
    if (r.record === undefined) throw new ServerError('FORBIDDEN', `file ${r.address} is not this node's; only its owner can delete it`)
    // One name of a file that has others: only that name goes, and the file stays under the rest.
    if (r.name !== undefined && (await ctx.catalog.unname(r.name))) return
    // The seq comes first: a put that places one of these blobs later pins it with a newer one.
    const seq = await ctx.catalog.nextSeq(ctx.clock.now())
    // Remembered with its seq in the same transaction, for the peers that are away now (deletes.ts);
    // blobs a put in progress has placed stay pinned for it.
    const released = (await ctx.catalog.remove(r.address, seq, (id) => ctx.placing.has(id))) ?? []
    await unpinEverywhere(ctx, seq, released)
    void this.refreshStats()
  }

  /** This node's files, with the live copies of their least-replicated blob. */
  list(): Promise<CatalogEntry[]> {
    return Promise.resolve().then(() => this.listNow())
  }

  private listNow(): CatalogEntry[] {
    this.assertOpen()
    const { ctx } = this
    const wanted = Math.min(ctx.replicas, currentPlacement(ctx).size)
    // One entry per name (a file put under two names is listed twice), or one unnamed.
    return ctx.catalog.list().flatMap((rec): CatalogEntry[] => {
      let replicas = wanted
      if (ctx.shortBlobs.size > 0) {
        for (const id of ctx.catalog.fileBlobs(rec.address) ?? []) {
          const n = ctx.shortBlobs.get(id)
          if (n !== undefined) replicas = Math.min(replicas, n)
        }
      }
      const entry = { address: rec.address, size: rec.size, sha256: rec.sha256, createdAt: rec.createdAt, replicas }
      return rec.names.length === 0 ? [entry] : rec.names.map((name) => ({ name, ...entry }))
    })
  }

  /** The capability of a file: `cas1:<address>:<fileKey>`. */
  share(ref: string): Promise<string> {
    return Promise.resolve().then(() => {
      this.assertOpen()
      const r = this.resolve(ref)
      return formatCapability({ address: r.address, fileKey: this.keyOf(r) })
    })
  }

  /** This node's membership view. */
  peers(): PeerInfo[] {
    return this.ctx.membership.members().map((m) => ({
      id: m.id,
      addresses: [...m.addresses],
      state: m.state,
      lastSeen: new Date(m.lastSeen).toISOString(),
      // The wire carries "unlimited" as the largest safe integer (JSON has no Infinity).
      capacity: m.capacity >= UNLIMITED_CAPACITY ? Number.POSITIVE_INFINITY : m.capacity,
      used: m.used,
    }))
  }

  /** Identity, peers, storage and replication health. */
  async status(): Promise<NodeStatus> {
    this.assertOpen()
    const s = await this.ctx.store.stat()
    return {
      id: this.id,
      addresses: this.addresses,
      peers: this.ctx.membership.livePeers().length,
      blobs: s.count,
      bytes: s.bytes,
      capacity: this.capacityOption ?? s.capacity,
      underReplicated: this.ctx.shortBlobs.size,
      replicas: this.ctx.replicas,
      bootstrap: this.gossiper.bootstrapState(),
    }
  }

  /** Where every blob of a file lives right now: its holders and how many confirm a copy. */
  async placement(ref: string): Promise<BlobPlacement[]> {
    this.assertOpen()
    const { ctx } = this
    const r = this.resolve(ref)
    const fetcher = new BlobFetcher(ctx)
    const root = await loadRoot(fetcher, r.address, this.keyOf(r))
    const ids = [r.address]
    for await (const b of walkBlobs(root, childLoader(fetcher))) ids.push(b.id)
    const placement = currentPlacement(ctx)
    const candidates = ids.map((id) => placement.candidates(id, ctx.replicas))
    const ask = new Map<string, string[]>()
    candidates.forEach((ms, i) => {
      for (const m of ms) (ask.get(m.id) ?? ask.set(m.id, []).get(m.id)!).push(ids[i]!)
    })
    const have = new Map<string, Set<string>>()
    await Promise.all(
      [...ask].map(async ([peer, peerIds]) => {
        try {
          const answers = peer === ctx.id ? await Promise.all(peerIds.map((id) => ctx.store.has(id))) : await askHas(ctx, peer, peerIds)
          have.set(peer, new Set(peerIds.filter((_, i) => answers[i] === true)))
        } catch (err) {
          if (isProgrammerError(err)) throw err
        }
      }),
    )
    return ids.map((blob, i) => {
      const hs = pickHolders(candidates[i]!, ctx.replicas, (m) => have.get(m)?.has(blob) === true)
      return { blob, holders: hs, live: hs.filter((h) => have.get(h)?.has(blob) === true).length }
    })
  }

  /** Runs a repair pass now (or right after the current one). */
  async repair(): Promise<RepairReport> {
    this.assertOpen()
    return this.repairer.run()
  }

  private scheduleRepair(delayMs: number): void {
    if (this.stopped) return
    const { clock } = this.ctx
    const periodic = delayMs === this.ctx.timing.repairIntervalMs
    const fire = (): void => {
      if (this.stopped) return
      this.repairer.run().catch((err: unknown) => this.ctx.logger.error({ err }, 'repair pass failed'))
      if (periodic) this.scheduleRepair(this.ctx.timing.repairIntervalMs)
    }
    if (periodic) {
      this.repairTimer = clock.setTimeout(fire, delayMs)
    } else {
      clock.clearTimeout(this.debounceTimer)
      this.debounceTimer = clock.setTimeout(fire, delayMs)
    }
  }

  /** A repair pass at `at` (clock ms), unless one is already due earlier: that one reschedules what it still has to leave. */
  private scheduleFollowUp(at: number): void {
    const { clock } = this.ctx
    if (this.stopped || (this.followUpTimer !== undefined && this.followUpAt <= at)) return
    clock.clearTimeout(this.followUpTimer)
    this.followUpAt = at
    this.followUpTimer = clock.setTimeout(
      () => {
        this.followUpTimer = undefined
        if (this.stopped) return
        this.repairer.run().catch((err: unknown) => this.ctx.logger.error({ err }, 'repair pass failed'))
      },
      Math.max(0, at - clock.now()) + 1,
    )
  }

  /**
   * Blobs a pass left short of copies get a pass of their own soon: most were being pushed by
   * another holder at the time, and until someone looks again this node reports them short. The
   * wait doubles while some stay short (a holder that is away keeps them so), up to the periodic
   * interval, and starts over once none is.
   */
  private scheduleRecheck(short: number): void {
    const { clock, timing } = this.ctx
    if (short === 0) {
      this.recheckDelayMs = timing.repairRecheckMs
      return
    }
    if (this.stopped || this.recheckTimer !== undefined) return
    const delay = this.recheckDelayMs
    this.recheckDelayMs = Math.min(delay * 2, timing.repairIntervalMs)
    this.recheckTimer = clock.setTimeout(() => {
      this.recheckTimer = undefined
      if (this.stopped) return
      this.repairer.run('short').catch((err: unknown) => this.ctx.logger.error({ err }, 'repair pass failed'))
    }, delay)
  }

  /** Every deleteRetryMs: peers owed deletes (see deletes.ts) that are not dead are told them again. */
  private scheduleDeleteRetry(): void {
    const { ctx } = this
    if (this.stopped) return
    this.deleteRetryTimer = ctx.clock.setTimeout(() => {
      if (this.stopped) return
      const live = new Set(ctx.membership.livePeers())
      for (const peer of ctx.owedDeletes) if (live.has(peer)) this.tellDeletesTo(peer)
      this.scheduleDeleteRetry()
    }, ctx.timing.deleteRetryMs)
  }

  /** Tells a peer every remembered delete, in the background (see deletes.ts). */
  private tellDeletesTo(peer: string): void {
    tellDeletes(this.ctx, peer).catch((err: unknown) => this.ctx.logger.warn({ err, peer: peer.slice(0, 16) }, 'could not tell a peer about deletes'))
  }

  /**
   * Re-hashes the local store now and then (at the store's bounded rate): a copy that rotted on
   * disk and that nobody reads would otherwise count as a good copy forever. Damaged copies are
   * moved aside by the store and fetched again from the other nodes.
   */
  private scheduleScrub(delayMs: number): void {
    const { ctx } = this
    const scrub = ctx.store.scrub?.bind(ctx.store)
    if (this.stopped || scrub === undefined) return
    this.scrubTimer = ctx.clock.setTimeout(() => {
      if (this.stopped) return
      this.scrubbing = (async () => {
        try {
          const { corrupt } = await scrub({ signal: this.scrubAbort.signal })
          for (const id of corrupt) {
            ctx.metrics.localCorruptBlobs++
            ctx.logger.warn({ blob: id }, 'scrub found a damaged copy; fetching a good one')
            heal(ctx, id)
          }
        } catch (err) {
          if (isProgrammerError(err)) throw err
          if (!this.stopped) ctx.logger.warn({ code: errorCode(err), err }, 'scrub failed')
        } finally {
          this.scrubbing = undefined
          this.scheduleScrub(ctx.timing.scrubIntervalMs)
        }
      })()
    }, delayMs)
  }

  private async refreshStats(): Promise<void> {
    try {
      const s = await this.ctx.store.stat()
      this.stats.used = s.bytes
      if (this.capacityOption === undefined) this.stats.capacity = Math.min(s.capacity, UNLIMITED_CAPACITY)
    } catch (err) {
      if (isProgrammerError(err)) throw err
    }
  }

  private resolve(ref: string): Resolved {
    const parsed = parseRef(ref)
    const { catalog } = this.ctx
    switch (parsed.kind) {
      case 'capability':
        return { address: parsed.address, fileKey: parsed.fileKey, record: catalog.get(parsed.address) }
      case 'address': {
        const record = catalog.get(parsed.address)
        if (record === undefined) throw new ServerError('NOT_FOUND', `no file ${parsed.address} in this node's catalog; use its capability`)
        return { address: parsed.address, fileKey: Buffer.from(record.fileKey, 'hex'), record }
      }
      case 'name': {
        const address = catalog.resolveName(parsed.name)
        const record = address === undefined ? undefined : catalog.get(address)
        if (address === undefined || record === undefined) throw new ServerError('NOT_FOUND', `no file named ${JSON.stringify(parsed.name)}`)
        return { address, fileKey: Buffer.from(record.fileKey, 'hex'), record, name: parsed.name }
      }
    }
  }

  private keyOf(r: Resolved): Buffer {
    if (r.fileKey === undefined) throw new ServerError('NOT_FOUND', `no key for file ${r.address}`)
    return r.fileKey
  }

  private assertOpen(): void {
    if (this.stopped) throw new ServerError('CLOSED', 'node is stopped')
  }
}

/** A file's info, named by `name` when it was referred to by one, else by its first name. */
function infoFromRecord(rec: FileRecord, name = rec.names[0]): FileInfo {
  return {
    address: rec.address,
    size: rec.size,
    sha256: rec.sha256,
    ...(name !== undefined ? { name } : {}),
    createdAt: rec.createdAt,
    chunks: rec.chunks,
  }
}

/** A file hash on the event loop, shaped like a crypto pool's. */
function loopSha256(): ThreadSha256 {
  const hash = createHash('sha256')
  return { update: (bytes) => void hash.update(bytes), digest: () => new Promise((resolve) => resolve(hash.digest())) }
}
