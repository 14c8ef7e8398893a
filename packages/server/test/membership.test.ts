import { describe, expect, it } from 'vitest'
import { ManualClock } from '../src/clock.js'
import { isFull, Membership, type PeerRecord } from '../src/membership.js'

const ids = Array.from({ length: 5 }, (_, i) => String(i + 1).repeat(64).slice(0, 64))
const timing = { suspectAfterMs: 1000, deadAfterMs: 3000, forgetAfterMs: 10_000 }

function member(id: string, clock: ManualClock): Membership {
  return new Membership({ self: () => ({ id, addresses: [`mem:${id.slice(0, 4)}`], capacity: 1e12, used: 0 }), clock, timing })
}

describe('Membership', () => {
  it('accepts only advancing heartbeats and walks alive → suspect → dead → forgotten', () => {
    const clock = new ManualClock()
    const m = member(ids[0]!, clock)
    const changes: string[] = []
    m.on('change', (c) => changes.push(`${c.id.slice(0, 1)}:${c.state}`))
    const rec: PeerRecord = { id: ids[1]!, addresses: ['a'], heartbeat: 10, capacity: 5e9, used: 1 }
    expect(m.merge([rec])).toBe(1)
    expect(m.merge([rec])).toBe(0)
    expect(m.merge([{ ...rec, heartbeat: 9 }])).toBe(0)
    clock.advance(1000)
    m.age()
    expect(m.get(ids[1]!)!.state).toBe('suspect')
    expect(m.merge([{ ...rec, heartbeat: 11 }])).toBe(1)
    expect(m.get(ids[1]!)!.state).toBe('alive')
    clock.advance(3000)
    m.age()
    expect(m.get(ids[1]!)!.state).toBe('dead')
    expect(m.livePeers()).toEqual([])
    expect(m.placementMembers().map((p) => p.id)).toEqual([ids[0]])
    clock.advance(10_000)
    m.age()
    expect(m.get(ids[1]!)).toBeUndefined()
    // Stale gossip cannot resurrect a forgotten peer; a restart (higher heartbeat) can.
    expect(m.merge([{ ...rec, heartbeat: 11 }])).toBe(0)
    expect(m.merge([{ ...rec, heartbeat: clock.now() }])).toBe(1)
    expect(changes).toEqual(['2:new', '2:suspect', '2:alive', '2:dead', '2:forgotten', '2:new'])
  })

  it('treats direct contact as proof of life', () => {
    const clock = new ManualClock()
    const m = member(ids[0]!, clock)
    m.observe({ id: ids[2]!, addresses: ['x'], capacity: 1, used: 0 })
    clock.advance(5000)
    m.age()
    expect(m.get(ids[2]!)!.state).toBe('dead')
    m.observe({ id: ids[2]! })
    expect(m.get(ids[2]!)!.state).toBe('alive')
    m.observe({ id: ids[0]! })
    expect(m.get(ids[0]!)).toBeUndefined()
  })

  it('ignores malformed and self records and flags full peers', () => {
    const clock = new ManualClock()
    const m = member(ids[0]!, clock)
    expect(m.merge([{ id: 'nope', addresses: [], heartbeat: 1, capacity: 0, used: 0 }])).toBe(0)
    expect(m.merge([{ id: ids[0]!, addresses: [], heartbeat: 1e15, capacity: 0, used: 0 }])).toBe(0)
    m.merge([{ id: ids[3]!, addresses: [], heartbeat: 1, capacity: 100, used: 90 }])
    expect(m.placementMembers().find((p) => p.id === ids[3])!.full).toBe(true)
  })

  it('a restarted node outranks its old records: heartbeats start at the clock', () => {
    const clock = new ManualClock()
    const before = member(ids[1]!, clock)
    for (let i = 0; i < 50; i++) before.tick()
    clock.advance(1000)
    const after = member(ids[1]!, clock)
    expect(after.selfRecord().heartbeat).toBeGreaterThan(before.selfRecord().heartbeat)
  })

  it('converges: 60 state machines gossiping through one bootstrap all know each other', () => {
    const clock = new ManualClock()
    let seed = 7
    const random = (): number => ((seed = (seed * 16807) % 2147483647) / 2147483647)
    const nodes = Array.from({ length: 60 }, (_, i) => {
      const id = i.toString(16).padStart(64, 'a')
      return new Membership({ self: () => ({ id, addresses: [], capacity: 1e12, used: 0 }), clock, random })
    })
    for (const n of nodes.slice(1)) nodes[0]!.observe({ id: n.id })
    for (const n of nodes.slice(1)) n.observe({ id: nodes[0]!.id })
    let rounds = 0
    while (!nodes.every((n) => n.livePeers().length === 59) && rounds < 10) {
      clock.advance(1000)
      rounds++
      const inbox = nodes.map(() => [] as PeerRecord[][])
      for (const n of nodes) {
        n.tick()
        for (const t of n.gossipTargets()) inbox[nodes.findIndex((x) => x.id === t.id)]!.push(n.records())
      }
      inbox.forEach((msgs, i) => msgs.forEach((r) => nodes[i]!.merge(r)))
    }
    expect(nodes.every((n) => n.livePeers().length === 59)).toBe(true)
    expect(rounds).toBeLessThanOrEqual(10)
  })
})

describe('isFull', () => {
  const MiB = 1024 * 1024
  it('leaves 64 MiB free on a large node and an eighth of a small one', () => {
    expect(isFull(10_000 * MiB, 10_000 * MiB - 65 * MiB)).toBe(false)
    expect(isFull(10_000 * MiB, 10_000 * MiB - 64 * MiB)).toBe(true)
    expect(isFull(Number.MAX_SAFE_INTEGER, 1e15)).toBe(false)
    // A 16 MiB node takes blobs until 2 MiB is left, instead of never.
    expect(isFull(16 * MiB, 13 * MiB)).toBe(false)
    expect(isFull(16 * MiB, 14 * MiB)).toBe(true)
    expect(isFull(0, 0)).toBe(true)
  })
})
