import { createDecipheriv } from 'node:crypto'
import { describe, expect, test } from 'vitest'
import { decryptChunk, encryptChunk, hmacSha256, publicKeyFromPrivate, x25519 } from '../src/index.js'

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex')

// NIST SP 800-38A, F.5.5 CTR-AES256.Encrypt and F.5.6 CTR-AES256.Decrypt.
const nist = {
  key: hex('603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4'),
  counter: hex('f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff'),
  plaintext: hex(`6bc1bee22e409f96e93d7e117393172a ae2d8a571e03ac9c9eb76fac45af8e51
                  30c81c46a35ce411e5fbc1191a0a52ef f69f2445df4f9b17ad2b417be66c3710`),
  ciphertext: hex(`601ec313775789a5b7a7f504bbf3d228 f443e3ca4d62b59aca84e990cacaf5c5
                   2b0930daa23de94ce87017ba2d84988d dfc9c58db67aada613c2dd08457941a6`),
}

describe('NIST SP 800-38A CTR-AES256', () => {
  test('F.5.5 encrypt', () => {
    const blob = encryptChunk(nist.key, nist.counter, nist.plaintext)
    expect(blob.subarray(0, 16)).toEqual(nist.counter)
    expect(blob.subarray(16).toString('hex')).toBe(nist.ciphertext.toString('hex'))
  })

  test('F.5.6 decrypt', () => {
    const plaintext = decryptChunk(nist.key, Buffer.concat([nist.counter, nist.ciphertext]))
    expect(plaintext.toString('hex')).toBe(nist.plaintext.toString('hex'))
  })

  test('sliced encryption matches one-shot OpenSSL across slice boundaries', () => {
    const data = Buffer.alloc(200_003, 7)
    const blob = encryptChunk(nist.key, nist.counter, data)
    const reference = createDecipheriv('aes-256-ctr', nist.key, nist.counter).update(blob.subarray(16))
    expect(reference.equals(data)).toBe(true)
  })
})

// RFC 4231 test cases 1–7 (HMAC-SHA256).
const rfc4231: { key: Buffer; data: Buffer; mac: string; truncate?: number }[] = [
  { key: Buffer.alloc(20, 0x0b), data: Buffer.from('Hi There'), mac: 'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7' },
  { key: Buffer.from('Jefe'), data: Buffer.from('what do ya want for nothing?'), mac: '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843' },
  { key: Buffer.alloc(20, 0xaa), data: Buffer.alloc(50, 0xdd), mac: '773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe' },
  {
    key: hex('0102030405060708090a0b0c0d0e0f10111213141516171819'),
    data: Buffer.alloc(50, 0xcd),
    mac: '82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b',
  },
  { key: Buffer.alloc(20, 0x0c), data: Buffer.from('Test With Truncation'), mac: 'a3b6167473100ee06e0c796c2955552b', truncate: 16 },
  {
    key: Buffer.alloc(131, 0xaa),
    data: Buffer.from('Test Using Larger Than Block-Size Key - Hash Key First'),
    mac: '60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54',
  },
  {
    key: Buffer.alloc(131, 0xaa),
    data: Buffer.from(
      'This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.',
    ),
    mac: '9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2',
  },
]

describe('RFC 4231 HMAC-SHA256', () => {
  test.each(rfc4231.map((c, i) => [i + 1, c] as const))('test case %i', (_n, c) => {
    const mac = hmacSha256(c.key, c.data).subarray(0, c.truncate ?? 32)
    expect(mac.toString('hex')).toBe(c.mac)
  })

  test('parts are concatenated before hashing', () => {
    const c = rfc4231[1]!
    const split = hmacSha256(c.key, c.data.subarray(0, 7), c.data.subarray(7).toString('latin1'))
    expect(split.toString('hex')).toBe(c.mac)
  })
})

// RFC 7748 §6.1 (X25519 Diffie-Hellman).
describe('RFC 7748 X25519', () => {
  const alice = hex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a')
  const bob = hex('5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb')
  const alicePub = '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a'
  const bobPub = 'de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f'
  const shared = '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742'

  test('public keys and shared secret', () => {
    expect(publicKeyFromPrivate(alice).toString('hex')).toBe(alicePub)
    expect(publicKeyFromPrivate(bob).toString('hex')).toBe(bobPub)
    expect(x25519(alice, hex(bobPub)).toString('hex')).toBe(shared)
    expect(x25519(bob, hex(alicePub)).toString('hex')).toBe(shared)
  })
})
