import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { decryptChunk, deriveChunkSecret, encryptChunk, generateKey, sealChunk, sha256 } from '../src/index.js'

const key32 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((a) => Buffer.from(a))
const bytes = fc.uint8Array({ minLength: 0, maxLength: 200_000 }).map((a) => Buffer.from(a))

describe('chunk cipher properties', () => {
  test('round trip: decrypt(encrypt(p)) = p', () => {
    fc.assert(
      fc.property(key32, bytes, (owner, plaintext) => {
        const sealed = sealChunk(owner, plaintext)
        expect(decryptChunk(sealed.key, sealed.blob).equals(plaintext)).toBe(true)
      }),
      { numRuns: 200 },
    )
  })

  test('a wrong key never yields the plaintext', () => {
    fc.assert(
      fc.property(key32, key32, fc.uint8Array({ minLength: 16, maxLength: 4096 }), (owner, other, raw) => {
        fc.pre(!owner.equals(other))
        const plaintext = Buffer.from(raw)
        const sealed = sealChunk(owner, plaintext)
        const wrongKey = deriveChunkSecret(other, sha256(plaintext)).key
        expect(decryptChunk(wrongKey, sealed.blob).equals(plaintext)).toBe(false)
      }),
      { numRuns: 300 },
    )
  })

  test('convergent: same owner key and plaintext give the same blob', () => {
    fc.assert(
      fc.property(key32, bytes, (owner, plaintext) => {
        const a = sealChunk(owner, plaintext)
        const b = sealChunk(Buffer.from(owner), Buffer.from(plaintext))
        expect(a.id).toBe(b.id)
        expect(a.blob.equals(b.blob)).toBe(true)
      }),
      { numRuns: 100 },
    )
  })

  test('distinct chunks get distinct keys, ivs and ids; other owners get other blobs', () => {
    fc.assert(
      fc.property(key32, key32, bytes, bytes, (owner, other, p, q) => {
        fc.pre(!p.equals(q) && !owner.equals(other))
        const a = deriveChunkSecret(owner, sha256(p))
        const b = deriveChunkSecret(owner, sha256(q))
        expect(a.key.equals(b.key)).toBe(false)
        expect(a.iv.equals(b.iv)).toBe(false)
        expect(sealChunk(owner, p).id).not.toBe(sealChunk(owner, q).id)
        expect(sealChunk(owner, p).id).not.toBe(sealChunk(other, p).id)
      }),
      { numRuns: 200 },
    )
  })

  test('ciphertext does not contain the plaintext in the clear', () => {
    const plaintext = Buffer.alloc(64 * 1024, 'secret contract text ')
    const sealed = sealChunk(generateKey(), plaintext)
    expect(sealed.blob.includes(Buffer.from('secret contract text'))).toBe(false)
  })

  test('encryptChunk with an explicit iv puts the iv first', () => {
    const key = generateKey()
    const iv = Buffer.alloc(16, 9)
    const blob = encryptChunk(key, iv, Buffer.from('abc'))
    expect(blob.subarray(0, 16)).toEqual(iv)
    expect(blob.byteLength).toBe(19)
  })
})
