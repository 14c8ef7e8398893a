import type { KeyPair } from '@cas/crypto'
import { createHost, type Limits, type Transport } from '@cas/p2p'
import type { Clock } from './clock.js'
import type { BlobStoreLike } from './components.js'
import { UNLIMITED_CAPACITY, type Timing } from './constants.js'
import type { Logger } from './logger.js'
import { BodyPool } from './body-pool.js'
import { CasNode } from './node.js'

/** Wire protocol version announced in the handshake hello. */
export const PROTOCOL_VERSION = 1

/** Options of {@link createNode}. */
export interface NodeOptions {
  transport: Transport
  store: BlobStoreLike
  /** X25519 static key pair: the node's identity (its id is the public key's hex). */
  staticKey: KeyPair
  /** 32-byte owner key: encrypts this node's files. */
  ownerKey: Buffer
  /** 32-byte key shared by every node of the network (Noise psk). */
  networkKey: Buffer
  /** Addresses to listen on, e.g. `127.0.0.1:0`. */
  listen: string[]
  bootstrap?: string[]
  replicas?: number
  /** Advertised capacity in bytes; default the store's. */
  capacity?: number
  chunkSize?: number
  /** Chunks in flight during a put. */
  putWindow?: number
  /** Chunks fetched ahead during a get. */
  getWindow?: number
  /** Worker threads for a put's crypto (default 1 on a machine with more than one core, else 0). */
  cryptoThreads?: number
  /** Directory of the catalog database. */
  catalogPath: string
  clock?: Clock
  logger?: Logger
  timing?: Partial<Timing>
  /** Transport limits of the host (@cas/p2p). */
  limits?: Partial<Limits>
}

/**
 * Creates a node: starts a @cas/p2p host on `transport` (Noise with the
 * network key, the node's static key as identity), opens the catalog and
 * wires everything. Call `start()` to join the network.
 */
export async function createNode(opts: NodeOptions): Promise<CasNode> {
  const stats = { capacity: opts.capacity ?? UNLIMITED_CAPACITY, used: 0 }
  try {
    const s = await opts.store.stat()
    stats.used = s.bytes
    if (opts.capacity === undefined) stats.capacity = Math.min(s.capacity, UNLIMITED_CAPACITY)
  } catch {
    // The node refreshes its usage every gossip round anyway.
  }
  let node: CasNode | undefined
  const bodies = new BodyPool()
  const host = await createHost({
    transport: opts.transport,
    staticKey: opts.staticKey,
    networkKey: opts.networkKey,
    listen: opts.listen,
    hello: () => ({ version: PROTOCOL_VERSION, addresses: host.addresses, ...(node?.advertised() ?? stats) }),
    ...(opts.logger ? { logger: opts.logger } : {}),
    ...(opts.limits ? { limits: opts.limits } : {}),
    allocateBody: (length) => bodies.take(length),
  })
  try {
    node = await CasNode.create({
      host,
      store: opts.store,
      ownerKey: opts.ownerKey,
      catalogPath: opts.catalogPath,
      bodies,
      ...(opts.bootstrap ? { bootstrap: opts.bootstrap } : {}),
      ...(opts.replicas !== undefined ? { replicas: opts.replicas } : {}),
      ...(opts.capacity !== undefined ? { capacity: opts.capacity } : {}),
      ...(opts.chunkSize !== undefined ? { chunkSize: opts.chunkSize } : {}),
      ...(opts.putWindow !== undefined ? { putWindow: opts.putWindow } : {}),
      ...(opts.getWindow !== undefined ? { getWindow: opts.getWindow } : {}),
      ...(opts.cryptoThreads !== undefined ? { cryptoThreads: opts.cryptoThreads } : {}),
      ...(opts.clock ? { clock: opts.clock } : {}),
      ...(opts.logger ? { logger: opts.logger } : {}),
      ...(opts.timing ? { timing: opts.timing } : {}),
    })
    return node
  } catch (err) {
    await host.close()
    throw err
  }
}
