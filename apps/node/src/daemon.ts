import type { Logger } from 'pino'
import { formatHostPort, isLoopback, parseHostPort } from './address.js'
import { removeApiFiles, writeApiFiles } from './api-files.js'
import { applyOverrides, loadConfig, type Config, type ConfigOverrides } from './config.js'
import { DEFAULT_MAX_UPLOAD_BYTES, SHUTDOWN_GRACE_MS, SHUTDOWN_HARD_LIMIT_MS } from './constants.js'
import { CasError, errorMessage } from './errors.js'
import { generateToken } from './http/auth.js'
import { buildHttpApi, type HttpApi } from './http/app.js'
import { loadKeys, type NodeKeys } from './keys.js'
import { acquireRootLock } from './lock.js'
import { createLogger } from './logger.js'
import type { NodeLike } from './node-like.js'
import { rootPaths, type RootPaths } from './root.js'
import { defaultWebRoot } from './web-root.js'

/** A node the daemon can start and stop. */
export interface RunnableNode extends NodeLike {
  start(): Promise<void>
  stop(): Promise<void>
}

/** What a {@link NodeFactory} gets to build a node. */
export interface NodeContext {
  paths: RootPaths
  config: Config
  keys: NodeKeys
  logger: Logger
}

/** A built node and how to release what it holds once it has stopped (e.g. its store). */
export interface BuiltNode {
  node: RunnableNode
  close(): Promise<void>
}

/** Builds the node a daemon serves; the default builds `@cas/server`'s node on TCP and a disk store. */
export type NodeFactory = (context: NodeContext) => Promise<BuiltNode>

/** Options of {@link startDaemon}. */
export interface DaemonOptions {
  root: string
  createNode: NodeFactory
  /** Command-line settings; they override the config file. */
  overrides?: ConfigOverrides
  /** Defaults to a logger at the config's level. */
  logger?: Logger
  /** Folder of the built web UI; `null` serves none. Defaults to `apps/node/web/dist` when built. */
  webRoot?: string | null
  /** Export Node.js process metrics (one daemon per process). Default true. */
  processMetrics?: boolean
  /** How long in-flight transfers may run on after stop() before they are aborted. */
  shutdownGraceMs?: number
}

/** A running daemon. */
export interface Daemon {
  readonly id: string
  readonly paths: RootPaths
  readonly config: Config
  /** Peer-to-peer addresses the node listens on. */
  readonly addresses: string[]
  /** Base URL of the HTTP API and web UI. */
  readonly apiUrl: string
  readonly token: string
  readonly node: RunnableNode
  readonly logger: Logger
  /**
   * Stops gracefully: the API stops accepting, in-flight transfers get {@link SHUTDOWN_GRACE_MS}
   * to finish and are then aborted, the node stops, the store closes, `<root>/api` goes away.
   * Idempotent.
   */
  stop(): Promise<void>
}

/**
 * Starts a daemon on a root: reads config and keys, takes the root's lock, starts the node,
 * serves the HTTP API, and publishes `<root>/api` + `<root>/api.token`.
 */
export async function startDaemon(options: DaemonOptions): Promise<Daemon> {
  const paths = rootPaths(options.root)
  const config = applyOverrides(await loadConfig(paths.config), options.overrides ?? {})
  const keys = await loadKeys(paths)
  const logger = options.logger ?? createLogger({ level: config.logLevel })
  const apiAddress = parseHostPort(config.api)
  if (apiAddress === undefined) throw new CasError('CONFIG_INVALID', `api: expected HOST:PORT, got ${config.api}`)

  const releaseLock = await acquireRootLock(paths.lock, paths.root)
  const cleanups: (() => Promise<void>)[] = [releaseLock]
  const cleanup = async (): Promise<void> => {
    for (const step of cleanups.reverse()) await step().catch((err: unknown) => logger.warn({ err }, 'cleanup step failed'))
  }

  let built: BuiltNode
  let api: HttpApi
  let apiUrl: string
  const token = generateToken()
  try {
    built = await options.createNode({ paths, config, keys, logger })
    cleanups.push(() => built.close())
    await built.node.start()
    cleanups.push(() => built.node.stop())

    const webRoot = options.webRoot === null ? undefined : (options.webRoot ?? defaultWebRoot())
    api = await buildHttpApi({
      node: built.node,
      token,
      logger: logger.child({ component: 'http' }),
      replicas: config.replicas,
      maxUploadBytes: config.maxUploadSize ?? DEFAULT_MAX_UPLOAD_BYTES,
      webRoot,
      processMetrics: options.processMetrics ?? true,
    })
    await api.app.listen({ host: apiAddress.host, port: apiAddress.port })
    cleanups.push(() => api.app.close())
    const bound = api.app.server.address()
    const port = typeof bound === 'object' && bound !== null ? bound.port : apiAddress.port
    // The CLI runs on this machine: a wildcard bind is reached through loopback.
    const host = apiAddress.host === '0.0.0.0' ? '127.0.0.1' : apiAddress.host === '::' ? '::1' : apiAddress.host
    apiUrl = `http://${formatHostPort({ host, port })}`
    if (!isLoopback(apiAddress.host)) {
      logger.warn({ api: config.api }, 'the HTTP API listens beyond this machine; anyone who can reach it needs only the token')
    }
    await writeApiFiles(paths, { url: apiUrl, token })
    cleanups.push(() => removeApiFiles(paths))
  } catch (err) {
    await cleanup()
    throw err
  }

  const node = built.node
  let stopping: Promise<void> | undefined
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      // New clients find no daemon from here on.
      await removeApiFiles(paths).catch(() => {})
      const closing = api.app.close()
      if (!(await api.transfers.drain(options.shutdownGraceMs ?? SHUTDOWN_GRACE_MS))) {
        logger.warn({ transfers: api.transfers.size }, 'aborting transfers still running after the grace period')
        api.transfers.abortAll()
      }
      if (!(await settlesWithin(closing, 2_000))) api.app.server.closeAllConnections()
      await closing.catch((err: unknown) => logger.warn({ err }, 'closing the HTTP API failed'))
      if (!(await settlesWithin(node.stop(), SHUTDOWN_HARD_LIMIT_MS))) logger.error('the node did not stop in time')
      await built.close().catch((err: unknown) => logger.error({ err }, `closing the node's storage failed: ${errorMessage(err)}`))
      await releaseLock()
      logger.info('stopped')
    })()
    return stopping
  }

  logger.info({ id: node.id, addresses: node.addresses, api: apiUrl }, 'daemon ready')
  return { id: node.id, paths, config, addresses: node.addresses, apiUrl, token, node, logger, stop }
}

/** Whether a promise settles (either way) within `ms`. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const settled = await Promise.race([
    promise.then(
      () => true,
      () => true,
    ),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), ms)
    }),
  ])
  clearTimeout(timer)
  return settled
}
