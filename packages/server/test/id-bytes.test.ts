import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { IdBytes } from '../src/id-bytes.js'

const idOf = (i: number): string => createHash('sha256').update(String(i)).digest('hex')

describe('IdBytes', () => {
  it('gives back every id in order as 32 raw bytes each, across page boundaries', () => {
    for (const count of [0, 1, 2047, 2048, 2049, 5000]) {
      const ids = new IdBytes()
      const hex = Array.from({ length: count }, (_, i) => idOf(i))
      for (const id of hex) ids.push(id)
      const bytes = ids.toBuffer()
      expect(bytes.byteLength).toBe(32 * count)
      expect(bytes.toString('hex')).toBe(hex.join(''))
    }
  })
})
