import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import fc from 'fast-check'
import { afterAll, describe, expect, test } from 'vitest'
import { ChunkSealer, CryptoError, generateKey, sealChunk } from '../src/index.js'

const run = promisify(execFile)
const sealer = new ChunkSealer({ threads: 2 })
afterAll(() => sealer.close())

const expectSameSeal = (a: ReturnType<typeof sealChunk>, b: ReturnType<typeof sealChunk>): void => {
  expect(a.id).toBe(b.id)
  expect(a.size).toBe(b.size)
  expect(a.key.equals(b.key)).toBe(true)
  expect(a.blob.equals(b.blob)).toBe(true)
}

describe('ChunkSealer', () => {
  test('seals exactly as sealChunk does', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 0, maxLength: 200_000 }), async (owner, plaintext) => {
        const sealed = await sealer.seal(owner, plaintext)
        expect(Buffer.isBuffer(sealed.blob) && Buffer.isBuffer(sealed.key)).toBe(true)
        expectSameSeal(sealed, sealChunk(owner, plaintext))
      }),
      { numRuns: 100 },
    )
  })

  test('many chunks at once over two threads: each answer belongs to its own chunk', async () => {
    const owner = generateKey()
    const chunks = Array.from({ length: 64 }, (_, i) => randomBytes(1024 * (i + 1)))
    const sealed = await Promise.all(chunks.map((c) => sealer.seal(owner, c)))
    sealed.forEach((s, i) => expectSameSeal(s, sealChunk(owner, chunks[i]!)))
  })

  test('the caller keeps its plaintext: it is copied to the thread, not moved', async () => {
    const owner = generateKey()
    const plaintext = randomBytes(1024 * 1024)
    const copy = Buffer.from(plaintext)
    await sealer.seal(owner, plaintext)
    expect(plaintext.byteLength).toBe(copy.byteLength)
    expect(plaintext.equals(copy)).toBe(true)
  })

  test('a bad owner key is refused with INVALID_KEY', async () => {
    await expect(sealer.seal(Buffer.alloc(16), Buffer.from('x'))).rejects.toMatchObject({ code: 'INVALID_KEY' })
  })

  test('a thread count that is not a positive integer is refused', () => {
    for (const threads of [0, -1, 1.5]) expect(() => new ChunkSealer({ threads })).toThrow(CryptoError)
  })

  test('close fails the seals in flight and every later one with CLOSED', async () => {
    const own = new ChunkSealer()
    const inFlight = own.seal(generateKey(), randomBytes(8 * 1024 * 1024))
    await own.close()
    await expect(inFlight).rejects.toMatchObject({ code: 'CLOSED' })
    await expect(own.seal(generateKey(), Buffer.from('x'))).rejects.toMatchObject({ code: 'CLOSED' })
  })

  test('an idle sealer does not keep the process alive', async () => {
    const index = new URL('../dist/index.js', import.meta.url).href
    const script = `const { ChunkSealer, generateKey } = await import(${JSON.stringify(index)}); const s = new ChunkSealer(); const r = await s.seal(generateKey(), Buffer.from('hello')); console.log(r.id)`
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { timeout: 20_000, cwd: fileURLToPath(new URL('.', import.meta.url)) })
    expect(stdout.trim()).toMatch(/^[0-9a-f]{64}$/)
  })
})
