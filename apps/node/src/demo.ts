import { generateKey } from '@cas/crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import type { Logger } from 'pino'
import type { LogLevel } from './config.js'
import { DEMO_JOIN_TIMEOUT_MS, DEMO_NODES, DEMO_REPLICAS } from './constants.js'
import { startDaemon, type Daemon, type NodeFactory } from './daemon.js'
import { initRoot } from './init.js'

/** Options of {@link startDemo}. */
export interface DemoOptions {
  createNode: NodeFactory
  logger: Logger
  /** Number of nodes (default 4). */
  nodes?: number
  logLevel?: LogLevel
  /** Parent of the demo's temp folder (default: the system temp folder). */
  parent?: string
}

/** A running demo network. */
export interface Demo {
  /** The temp folder holding every node's root. */
  readonly dir: string
  readonly daemons: Daemon[]
  /** Whether every node saw all the others before the demo went on. */
  readonly joined: boolean
  /** Stops every node and removes the temp folder. Idempotent. */
  stop(): Promise<void>
}

const WELCOME = `Welcome to CAS!

This file was stored by the demo on node 1, cut into chunks, encrypted with node 1's owner key,
and copied to the peers that rendezvous hashing chose. Fetch it from another node with its
capability (cas share welcome.txt), or stop a node and watch the others repair the copies.
`

/**
 * Starts a local network for a first look (DESIGN §6 `cas demo`): `nodes` daemons on 127.0.0.1 in one
 * process, each with its own root in a temp folder, one network key, all bootstrapping from the first.
 * Stores a small welcome file so the web UI has something to show.
 */
export async function startDemo(options: DemoOptions): Promise<Demo> {
  const count = options.nodes ?? DEMO_NODES
  const dir = await mkdtemp(join(options.parent ?? tmpdir(), 'cas-demo-'))
  const daemons: Daemon[] = []
  let stopping: Promise<void> | undefined
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      await Promise.allSettled(daemons.map((daemon) => daemon.stop()))
      await rm(dir, { recursive: true, force: true })
    })()
    return stopping
  }

  try {
    const networkKey = generateKey()
    const config = { listen: ['127.0.0.1:0'], api: '127.0.0.1:0', replicas: Math.min(DEMO_REPLICAS, count), logLevel: options.logLevel ?? 'warn' }
    for (let i = 1; i <= count; i++) {
      const root = join(dir, `node${i}`)
      await initRoot(root, { networkKey, config })
      const bootstrap = daemons[0]?.addresses ?? []
      daemons.push(
        await startDaemon({
          root,
          createNode: options.createNode,
          overrides: { bootstrap },
          logger: options.logger.child({ node: i }),
          processMetrics: false,
        }),
      )
    }
    const joined = await waitForMembership(daemons, DEMO_JOIN_TIMEOUT_MS)
    const first = daemons[0]
    if (first !== undefined) await first.node.put(Readable.from([Buffer.from(WELCOME)]), { name: 'welcome.txt' })
    return { dir, daemons, joined, stop }
  } catch (err) {
    await stop()
    throw err
  }
}

/** Waits (bounded) until every node sees all the others alive. */
async function waitForMembership(daemons: Daemon[], timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const complete = daemons.every((daemon) => daemon.node.peers().filter((peer) => peer.state === 'alive').length >= daemons.length - 1)
    if (complete) return true
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  return false
}
