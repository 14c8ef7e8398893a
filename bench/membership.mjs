#!/usr/bin/env node
// Gossip membership of a 100-node network in one process: real @cas/server nodes with real Noise
// handshakes on the in-memory transport, on one simulated clock (gossip every simulated second,
// 3 peers per round). Measured in gossip rounds, i.e. simulated seconds:
//   - cold start: every node joins through node 1; rounds until every node knows every other alive;
//   - a newcomer: one more node joins a settled network; rounds until all know it alive;
//   - a death: one node stops; rounds until all others mark it dead.
// Beside the bounds of the protocol: an epidemic with fanout f reaches N nodes in about
// log(N)/log(1+f) rounds, and nobody may call a node dead before `deadAfterMs` of silence.
//
//   pnpm build && node bench/membership.mjs [--json]
//   env: BENCH_MEMBERSHIP_NODES (default 100)
import { createHash } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { printTable } from './lib/format.mjs'
import { benchBase } from './lib/work-dir.mjs'

const dist = (pkg) => new URL(`../packages/${pkg}/dist/index.js`, import.meta.url).href
const { createNode, ManualClock, DEFAULT_TIMING } = await import(dist('server'))
const { MemoryNetwork, memoryTransport } = await import(dist('p2p'))
const { publicKeyFromPrivate } = await import(dist('crypto'))

const N = Number(process.env.BENCH_MEMBERSHIP_NODES ?? 100)
const MAX_ROUNDS = 120
const json = process.argv.includes('--json')
const seeded = (label) => createHash('sha256').update(label).digest()

/** The smallest blob store a node can run on: membership never stores anything here. */
class NullStore {
  put = async () => ({ stored: false, size: 0 })
  get = async () => Promise.reject(Object.assign(new Error('not found'), { code: 'NOT_FOUND' }))
  has = async () => false
  delete = async () => false
  async *list() {}
  stat = async () => ({ count: 0, bytes: 0, capacity: Number.POSITIVE_INFINITY })
  pin = async () => true
  unpin = async () => true
  pins = async () => []
  isPinned = async () => false
}

const net = new MemoryNetwork()
const clock = new ManualClock()
const nodes = []
const dir = await mkdtemp(join(benchBase(), 'cas-bench-membership-'))
const cpuStart = process.cpuUsage()
const wallStart = process.hrtime.bigint()

/** Lets in-flight messages land: waits (bounded) until the gossip counters stop moving. */
async function settle() {
  let last = -1
  for (let i = 0; i < 400; i++) {
    await new Promise((resolve) => setImmediate(resolve))
    await new Promise((resolve) => setTimeout(resolve, 2))
    const now = nodes.reduce((s, n) => s + n.metrics.gossipReceived + n.metrics.gossipSent, 0)
    if (now === last) return
    last = now
  }
}

/** Advances the simulated clock a round at a time until `done()` holds; returns the rounds taken. */
async function roundsUntil(done) {
  let rounds = 0
  await settle()
  while (!done()) {
    if (rounds >= MAX_ROUNDS) throw new Error(`not converged after ${MAX_ROUNDS} rounds`)
    clock.advance(DEFAULT_TIMING.gossipIntervalMs)
    rounds++
    await settle()
  }
  return rounds
}

async function addNode(i) {
  const privateKey = seeded(`bench-node-${i}`)
  const node = await createNode({
    transport: memoryTransport(net),
    store: new NullStore(),
    staticKey: { privateKey, publicKey: publicKeyFromPrivate(privateKey) },
    ownerKey: seeded(`bench-owner-${i}`),
    networkKey: seeded('bench-network'),
    listen: ['sim:0'],
    bootstrap: nodes[0] ? nodes[0].addresses : [],
    catalogPath: join(dir, `catalog-${i}`),
    clock,
  })
  await node.start()
  nodes.push(node)
  return node
}

const alive = (n) => n.peers().filter((p) => p.state === 'alive').length
let results
try {
  for (let i = 0; i < N; i++) await addNode(i)
  const cold = await roundsUntil(() => nodes.every((n) => alive(n) === N - 1))

  const newcomer = await addNode(N)
  const others = nodes.filter((n) => n !== newcomer)
  const joinRounds = await roundsUntil(() => others.every((n) => n.peers().some((p) => p.id === newcomer.id && p.state === 'alive')))

  const victim = nodes[N >> 1]
  await victim.stop()
  const rest = nodes.filter((n) => n !== victim)
  const deathRounds = await roundsUntil(() => rest.every((n) => n.peers().find((p) => p.id === victim.id)?.state === 'dead'))
  results = { cold, joinRounds, deathRounds }
} finally {
  for (const n of nodes) await n.stop().catch(() => {})
  await rm(dir, { recursive: true, force: true })
}
const wall = Number(process.hrtime.bigint() - wallStart) / 1e9
const cpu = process.cpuUsage(cpuStart)
const gossipsPerRound = DEFAULT_TIMING.gossipFanout
const interval = DEFAULT_TIMING.gossipIntervalMs / 1000
const spread = Math.log(N) / Math.log(1 + gossipsPerRound)
const deadFloor = DEFAULT_TIMING.deadAfterMs / 1000
const rows = [
  { name: `membership: ${N} nodes cold start, all know all`, value: results.cold * interval, unit: 's', limit: spread * interval, ratio: spread / results.cold, note: `${results.cold} rounds; bound log(N)/log(1+${gossipsPerRound})` },
  { name: `membership: a newcomer known to all ${N}`, value: results.joinRounds * interval, unit: 's', limit: spread * interval, ratio: spread / results.joinRounds, note: `${results.joinRounds} rounds` },
  { name: `membership: a stopped node marked dead by all`, value: results.deathRounds * interval, unit: 's', limit: deadFloor, ratio: deadFloor / results.deathRounds / interval, note: `${results.deathRounds} rounds; floor deadAfterMs` },
  { name: 'membership: simulation cost', value: wall, unit: 's wall', note: `${((cpu.user + cpu.system) / 1e6).toFixed(1)} s CPU for ${N + 1} nodes` },
]
if (json) console.log(JSON.stringify({ bench: 'membership', nodes: N, ...results, gossipIntervalMs: DEFAULT_TIMING.gossipIntervalMs, fanout: gossipsPerRound, wallSeconds: wall, rows }))
else printTable(`membership — ${N} nodes on the in-memory transport, simulated clock (gossip every ${interval} s)`, rows)
