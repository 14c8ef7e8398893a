import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { formatCapability, parseCapability, parseRef } from '../src/capability.js'

describe('capabilities and refs', () => {
  const address = 'ab'.repeat(32)
  const fileKey = randomBytes(32)

  it('round-trips a capability', () => {
    const text = formatCapability({ address, fileKey })
    expect(text).toBe(`cas1:${address}:${fileKey.toString('hex')}`)
    expect(parseCapability(text)).toEqual({ address, fileKey })
    expect(parseRef(text)).toEqual({ kind: 'capability', address, fileKey })
  })

  it('classifies addresses and names', () => {
    expect(parseRef(address.toUpperCase())).toEqual({ kind: 'address', address })
    expect(parseRef('holiday.jpg')).toEqual({ kind: 'name', name: 'holiday.jpg' })
    expect(parseRef('ab'.repeat(31))).toEqual({ kind: 'name', name: 'ab'.repeat(31) })
  })

  it('refuses malformed capabilities', () => {
    for (const bad of ['cas1:', `cas1:${address}`, `cas1:${address}:zz`, `cas2:${address}:${address}`, `cas1:${address}:${address}:x`]) {
      expect(() => parseCapability(bad)).toThrow(expect.objectContaining({ code: 'INVALID_REF' }))
    }
    expect(() => parseRef('')).toThrow(expect.objectContaining({ code: 'INVALID_REF' }))
  })
})
