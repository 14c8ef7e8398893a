import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { Placement, pickHolders, placeBlob, rankMembers, rendezvousWeight } from '../src/placement.js'

const id = (s: string | number): string => createHash('sha256').update(String(s)).digest('hex')

describe('rendezvous placement', () => {
  const nodes = Array.from({ length: 10 }, (_, i) => ({ id: id(`node${i}`) }))

  it('weights raw id bytes: SHA-256(node bytes || blob bytes)', () => {
    const expected = createHash('sha256').update(Buffer.from(nodes[0]!.id, 'hex')).update(Buffer.from(id('b'), 'hex')).digest()
    expect(rendezvousWeight(nodes[0]!.id, id('b')).equals(expected)).toBe(true)
  })

  it('picks the highest weights, independent of member order', () => {
    const blob = id('blob')
    const holders = placeBlob(blob, nodes, 3)
    const byWeight = [...nodes].sort((a, b) => Buffer.compare(rendezvousWeight(b.id, blob), rendezvousWeight(a.id, blob)))
    expect(holders).toEqual(byWeight.slice(0, 3).map((n) => n.id))
    expect(placeBlob(blob, [...nodes].reverse(), 3)).toEqual(holders)
    expect(new Placement(nodes).holders(blob, 3)).toEqual(holders)
  })

  it('skips full members and moves only the blobs of a departed node', () => {
    const blobs = Array.from({ length: 300 }, (_, i) => id(`b${i}`))
    const gone = nodes[3]!.id
    const rest = nodes.filter((n) => n.id !== gone)
    for (const b of blobs) {
      const before = placeBlob(b, nodes, 3)
      const after = placeBlob(b, rest, 3)
      if (!before.includes(gone)) expect(after).toEqual(before)
      else expect(after.slice(0, 2)).toEqual(before.filter((h) => h !== gone))
      expect(placeBlob(b, nodes.map((n) => ({ ...n, full: n.id === gone })), 3)).toEqual(after)
    }
  })

  it('returns every member when there are fewer than replicas', () => {
    expect(rankMembers(id('x'), nodes.slice(0, 2))).toHaveLength(2)
    expect(placeBlob(id('x'), nodes.slice(0, 2), 3)).toHaveLength(2)
  })

  it('keeps a full member that has a copy among the holders, and sends new copies past it', () => {
    for (let i = 0; i < 50; i++) {
      const blob = id(`f${i}`)
      const ranked = new Placement(nodes).ranked(blob).map((m) => m.id)
      const full = new Set([ranked[0]!, ranked[2]!])
      const view = new Placement(nodes.map((n) => ({ ...n, full: full.has(n.id) })))
      // Down to the third member with room: the two full ones ranked among them are worth asking.
      expect(view.candidates(blob, 3).map((m) => m.id)).toEqual(ranked.slice(0, 5))
      expect(view.targets(blob).slice(0, 3)).toEqual([ranked[1], ranked[3], ranked[4]])
      expect(view.holders(blob, 3)).toEqual([ranked[1], ranked[3], ranked[4]])
      expect(view.holders(blob, 3, (m) => m === ranked[0])).toEqual([ranked[0], ranked[1], ranked[3]])
      expect(view.holders(blob, 3, (m) => full.has(m))).toEqual(ranked.slice(0, 3))
      expect(pickHolders(view.candidates(blob, 3), 3, () => true)).toEqual(ranked.slice(0, 3))
    }
  })

  it('asks every member when too few have room', () => {
    const view = new Placement(nodes.map((n, i) => ({ ...n, full: i > 0 })))
    expect(view.size).toBe(10)
    expect(view.room).toBe(1)
    expect(view.candidates(id('y'), 3)).toHaveLength(10)
    expect(view.holders(id('y'), 3)).toEqual([nodes[0]!.id])
  })
})
