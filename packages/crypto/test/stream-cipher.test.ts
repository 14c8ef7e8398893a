import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { CryptoError, createDecryptStream, createEncryptStream, generateKey } from '../src/index.js'

async function collect(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const parts: Buffer[] = []
  for await (const part of stream) parts.push(part as Buffer)
  return Buffer.concat(parts)
}

function pieces(data: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (data.byteLength + 1)))].sort((a, b) => a - b)
  const out: Buffer[] = []
  let last = 0
  for (const p of points) {
    out.push(data.subarray(last, p))
    last = p
  }
  out.push(data.subarray(last))
  return out.filter((b) => b.byteLength > 0)
}

describe('stream cipher', () => {
  test('round trip for any split of the input and of the ciphertext', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 100_000 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        async (raw, cutsIn, cutsOut) => {
          const key = generateKey()
          const plaintext = Buffer.from(raw)
          const ciphertext = await collect(Readable.from(pieces(plaintext, cutsIn)).pipe(createEncryptStream(key)))
          expect(ciphertext.byteLength).toBe(plaintext.byteLength + 16)
          const back = await collect(Readable.from(pieces(ciphertext, cutsOut)).pipe(createDecryptStream(key)))
          expect(back.equals(plaintext)).toBe(true)
        },
      ),
      { numRuns: 100 },
    )
  })

  test('two encryptions of the same data use different ivs', async () => {
    const key = generateKey()
    const data = Buffer.from('same input')
    const a = await collect(Readable.from([data]).pipe(createEncryptStream(key)))
    const b = await collect(Readable.from([data]).pipe(createEncryptStream(key)))
    expect(a.subarray(0, 16).equals(b.subarray(0, 16))).toBe(false)
  })

  test('a stream shorter than the iv is refused', async () => {
    const decrypt = createDecryptStream(generateKey())
    await expect(pipeline(Readable.from([Buffer.alloc(5)]), decrypt, async function* (source) {
      for await (const _ of source) yield _
    })).rejects.toBeInstanceOf(CryptoError)
  })

  test('the wrong key gives other bytes', async () => {
    const data = Buffer.alloc(4096, 1)
    const ciphertext = await collect(Readable.from([data]).pipe(createEncryptStream(generateKey())))
    const back = await collect(Readable.from([ciphertext]).pipe(createDecryptStream(generateKey())))
    expect(back.equals(data)).toBe(false)
  })
})
