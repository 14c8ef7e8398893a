import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { Placement, placeBlob, rankMembers, rendezvousWeight } from '../src/placement.js'

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
})
