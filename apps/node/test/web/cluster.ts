import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { assertBuilt, eventually, LongRunning, run } from '../support/processes.js'

/** One running `cas daemon` as the browser sees it. */
export interface ClusterNode {
  id: string
  root: string
  /** Base URL of the HTTP API and web UI. */
  url: string
  token: string
}

/** Several real daemons on 127.0.0.1 sharing one network key. */
export interface Cluster {
  nodes: ClusterNode[]
  close(): Promise<void>
}

async function describeNode(root: string): Promise<ClusterNode> {
  const url = (await readFile(join(root, 'api'), 'utf8')).trim().replace(/\/$/, '')
  const token = (await readFile(join(root, 'api.token'), 'utf8')).trim()
  const response = await fetch(`${url}/v1/status`, { headers: { authorization: `Bearer ${token}` } })
  const status = (await response.json()) as { id: string }
  return { id: status.id, root, url, token }
}

async function alivePeers(node: ClusterNode): Promise<string[]> {
  const response = await fetch(`${node.url}/v1/peers`, { headers: { authorization: `Bearer ${node.token}` } })
  const peers = (await response.json()) as { id: string; state: string }[]
  return peers.filter((p) => p.state === 'alive').map((p) => p.id)
}

/**
 * Starts `count` daemons of the built CLI (API and p2p on port 0), the later ones bootstrapping from
 * the first, and waits until every node sees all the others alive.
 */
export async function startCluster(count: number, daemonArgs: string[] = []): Promise<Cluster> {
  assertBuilt()
  const dir = await mkdtemp(join(tmpdir(), 'cas-web-'))
  const daemons: LongRunning[] = []
  const close = async (): Promise<void> => {
    await Promise.allSettled(daemons.map((d) => d.stop('SIGTERM')))
    await rm(dir, { recursive: true, force: true })
  }
  try {
    const key = await run(['network-key'])
    await writeFile(join(dir, 'network.key'), key.out)
    const nodes: ClusterNode[] = []
    for (let i = 0; i < count; i++) {
      const root = join(dir, `node${i + 1}`)
      const init = await run(['--root', root, 'init', '--network-key', join(dir, 'network.key')])
      if (init.code !== 0) throw new Error(`cas init failed: ${init.stderr}`)
      const bootstrap = nodes.length === 0 ? [] : ['--bootstrap', (await bootstrapAddresses(nodes[0]!)).join(',')]
      const args = ['--root', root, 'daemon', '--listen', '127.0.0.1:0', '--api', '127.0.0.1:0', ...bootstrap, ...daemonArgs]
      daemons.push(await LongRunning.start(args, (out) => out.includes('daemon is ready')))
      nodes.push(await describeNode(root))
    }
    for (const node of nodes) {
      await eventually(async () => ((await alivePeers(node)).length >= count - 1 ? true : undefined), `${node.id} to see its peers`)
    }
    return { nodes, close }
  } catch (err) {
    await close()
    throw err
  }
}

async function bootstrapAddresses(node: ClusterNode): Promise<string[]> {
  const response = await fetch(`${node.url}/v1/status`, { headers: { authorization: `Bearer ${node.token}` } })
  return ((await response.json()) as { addresses: string[] }).addresses
}
