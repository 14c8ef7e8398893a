import { createCipheriv, createHash, createHmac } from 'node:crypto'
import { describe, expect, test } from 'vitest'
import { CryptoError, deriveChunkSecret, deriveFileSecret, sealChunk } from '../src/index.js'

const ownerKey = Buffer.from('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 'hex')

// An independent, literal transcription of DESIGN §2 to check the code against.
function designChunk(key: Buffer, plaintext: Buffer) {
  const h = createHash('sha256').update(plaintext).digest()
  const chunkKey = createHmac('sha256', key).update(Buffer.concat([Buffer.from('cas/v1/chunk-key', 'ascii'), h])).digest()
  const iv = createHmac('sha256', key).update(Buffer.concat([Buffer.from('cas/v1/chunk-iv', 'ascii'), h])).digest().subarray(0, 16)
  const cipher = createCipheriv('aes-256-ctr', chunkKey, iv)
  const blob = Buffer.concat([iv, cipher.update(plaintext), cipher.final()])
  return { chunkKey, iv, blob, id: createHash('sha256').update(blob).digest('hex') }
}

describe('derivation (DESIGN §2)', () => {
  test('chunk key, iv, blob and id follow the documented formula', () => {
    const plaintext = Buffer.from('the quick brown fox jumps over the lazy dog')
    const expected = designChunk(ownerKey, plaintext)
    const sealed = sealChunk(ownerKey, plaintext)
    expect(sealed.key.toString('hex')).toBe(expected.chunkKey.toString('hex'))
    expect(sealed.blob.toString('hex')).toBe(expected.blob.toString('hex'))
    expect(sealed.id).toBe(expected.id)
    expect(sealed.size).toBe(plaintext.byteLength)
  })

  test('file secret uses its own labels', () => {
    const digest = createHash('sha256').update('file').digest()
    const file = deriveFileSecret(ownerKey, digest)
    const chunk = deriveChunkSecret(ownerKey, digest)
    const fileKey = createHmac('sha256', ownerKey).update('cas/v1/file-key').update(digest).digest()
    const fileIv = createHmac('sha256', ownerKey).update('cas/v1/file-iv').update(digest).digest().subarray(0, 16)
    expect(file.key).toEqual(fileKey)
    expect(file.iv).toEqual(fileIv)
    expect(file.key.equals(chunk.key)).toBe(false)
    expect(file.iv.equals(chunk.iv)).toBe(false)
  })

  test('refuses short keys and digests with INVALID_KEY', () => {
    expect(() => deriveChunkSecret(Buffer.alloc(16), Buffer.alloc(32))).toThrow(CryptoError)
    try {
      deriveFileSecret(ownerKey, Buffer.alloc(31))
      expect.unreachable()
    } catch (error) {
      expect((error as CryptoError).code).toBe('INVALID_KEY')
    }
  })
})
