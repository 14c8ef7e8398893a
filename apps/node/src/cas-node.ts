import { constants as p2pConstants, createHost, tcpTransport, type Host } from '@cas/p2p'
import { BodyPool, CasNode, collectGarbage, releaseFreeMemory, tuneAllocator, tuneGarbageCollector, watchOldSpace } from '@cas/server'
import { openStore } from '@cas/store'
import type { BuiltNode, NodeFactory } from './daemon.js'
import { releaseWhenQuiet } from './release-when-quiet.js'

/** Capacity told to peers for "unlimited" (the wire has no Infinity). */
const UNLIMITED = Number.MAX_SAFE_INTEGER
/** How often the usage told to peers in handshakes is refreshed (gossip carries the live figure). */
const HELLO_USAGE_REFRESH_MS = 5_000

/**
 * Builds the real node: a disk store under the root (`blobs/`, `tmp/`, `meta/`), a TCP host that
 * speaks Noise with the network key, and `@cas/server`'s node on top (catalog under `catalog/`).
 */
export const createCasNode: NodeFactory = async ({ paths, config, keys, logger }): Promise<BuiltNode> => {
  // This process exists to run nodes (the CLI tuned it already; an application using this factory may not have).
  tuneGarbageCollector()
  const allocator = tuneAllocator()
  if (allocator.tuned) logger.debug('C allocator tuned to keep freed memory for reuse')
  else logger.info({ reason: allocator.reason }, 'C allocator left as it is; transfers cost more CPU')
  const capacity = config.capacity ?? Number.POSITIVE_INFINITY
  const store = await openStore({
    root: paths.store,
    capacity,
    scrubBytesPerSecond: config.scrubBytesPerSecond,
    logger: logger.child({ component: 'store' }),
  })
  // The handshake's hello is synchronous: serve it from figures refreshed in the background.
  const usage = { capacity: Math.min(capacity, UNLIMITED), used: (await store.stat()).bytes }
  const refresh = setInterval(() => {
    store.stat().then(
      (stat) => (usage.used = stat.bytes),
      () => {},
    )
  }, HELLO_USAGE_REFRESH_MS)
  refresh.unref()

  let host: Host | undefined
  // Blobs received and read for gets are written into the memory of ones the node is done with.
  const bodies = new BodyPool()
  try {
    host = await createHost({
      transport: tcpTransport(),
      staticKey: keys.node,
      networkKey: keys.network,
      listen: config.listen,
      hello: () => ({ version: p2pConstants.PROTOCOL_VERSION, addresses: host?.addresses ?? [], capacity: usage.capacity, used: usage.used }),
      logger: logger.child({ component: 'p2p' }),
      allocateBody: (length) => bodies.take(length),
    })
    const node = await CasNode.create({
      host,
      store,
      ownerKey: keys.owner,
      catalogPath: paths.catalog,
      bodies,
      bootstrap: config.bootstrap,
      replicas: config.replicas,
      ...(config.capacity === null ? {} : { capacity: config.capacity }),
      chunkSize: config.chunkSize,
      logger: logger.child({ component: 'node' }),
    })
    // The memory kept for transfers goes back to the system once they stop: the pools' spares and
    // the dead Buffers to the collector, then what malloc kept of them to the system.
    const stopReleasing = allocator.tuned
      ? releaseWhenQuiet(node.metrics, () => {
          node.dropSpares()
          collectGarbage({ freeBuffers: true })
          releaseFreeMemory()
        })
      : () => {}
    // A long transfer's garbage is collected as it piles up, not minutes later (see @cas/server).
    const stopWatching = watchOldSpace()
    return {
      node,
      close: async () => {
        stopWatching()
        stopReleasing()
        clearInterval(refresh)
        await store.close()
      },
    }
  } catch (err) {
    clearInterval(refresh)
    await host?.close().catch(() => {})
    await store.close().catch(() => {})
    throw err
  }
}
