import { randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'
import { afterEach, expect, it } from 'vitest'
import type { Logger } from '../src/index.js'
import { FakeCluster, eventually, type TestNode } from './support/cluster.js'

const CHUNK = 64 * 1024
let cluster: FakeCluster | undefined

afterEach(async () => {
  await cluster?.close()
})

/** A logger that keeps each line's level and message. */
function recordingLogger(lines: { level: string; msg: string }[]): Logger {
  const at =
    (level: string) =>
    (obj: object | string, msg?: string): void =>
      void lines.push({ level, msg: typeof obj === 'string' ? obj : (msg ?? '') })
  const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: () => logger }
  return logger
}

it('logs at info who joins, who dies and the repair passes that move copies, and not the passes that find nothing to do', async () => {
  cluster = new FakeCluster()
  const lines: { level: string; msg: string }[] = []
  // Every node logs into the same list: which survivor pushes a copy depends on the ranking.
  const logger = recordingLogger(lines)
  for (let i = 0; i < 4; i++) await cluster.add({ chunkSize: CHUNK, logger })
  const [a] = cluster.nodes as [TestNode]
  expect(await eventually(() => cluster!.nodes.every((t) => t.node.peers().filter((p) => p.state === 'alive').length === 3))).toBe(true)
  const info = (msg: string): number => lines.filter((l) => l.level === 'info' && l.msg === msg).length
  // Each node learns of the three others once.
  expect(info('peer joined')).toBe(12)

  await a.node.put(Readable.from([randomBytes(CHUNK * 8)]))
  for (const t of cluster.nodes) await t.node.repair()
  expect(info('repair pass moved copies')).toBe(0)
  // Past the grace period of the blobs just put: the pass the death starts repairs them at once.
  await new Promise((r) => setTimeout(r, 400))
  await cluster.nodes[1]!.node.stop()
  expect(await eventually(() => info('peer declared dead; repair will restore its copies elsewhere') === 3)).toBe(true)
  expect(await eventually(() => info('repair pass moved copies') > 0)).toBe(true)
})
