import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import fc from 'fast-check'
import { afterAll, describe, expect, test } from 'vitest'
import { CryptoError, CryptoPool, generateKey, sealChunk, sha256 } from '../src/index.js'

const run = promisify(execFile)
const pool = new CryptoPool({ threads: 2 })
afterAll(() => pool.close())

const expectSameSeal = (a: ReturnType<typeof sealChunk>, b: ReturnType<typeof sealChunk>): void => {
  expect(a.id).toBe(b.id)
  expect(a.size).toBe(b.size)
  expect(a.key.equals(b.key)).toBe(true)
  expect(a.blob.equals(b.blob)).toBe(true)
}

describe('CryptoPool', () => {
  test('seals exactly as sealChunk does', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 0, maxLength: 200_000 }), async (owner, plaintext) => {
        const sealed = await pool.seal(owner, plaintext)
        expect(Buffer.isBuffer(sealed.blob) && Buffer.isBuffer(sealed.key)).toBe(true)
        expectSameSeal(sealed, sealChunk(owner, plaintext))
      }),
      { numRuns: 100 },
    )
  })

  test('many chunks at once over two threads: each answer belongs to its own chunk', async () => {
    const owner = generateKey()
    // More seals than shared slots, and chunks larger than a slot: both ways of sending a chunk.
    const chunks = [...Array.from({ length: 64 }, (_, i) => randomBytes(1024 * (i + 1))), randomBytes(3 * 1024 * 1024 + 5)]
    const sealed = await Promise.all(chunks.map((c) => pool.seal(owner, c)))
    sealed.forEach((s, i) => expectSameSeal(s, sealChunk(owner, chunks[i]!)))
  })

  test('the caller keeps its plaintext: it is copied to the thread, not moved', async () => {
    const owner = generateKey()
    const plaintext = randomBytes(1024 * 1024)
    const copy = Buffer.from(plaintext)
    await pool.seal(owner, plaintext)
    expect(plaintext.byteLength).toBe(copy.byteLength)
    expect(plaintext.equals(copy)).toBe(true)
  })

  test('an incremental SHA-256 on a thread matches node:crypto over the same pieces', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.uint8Array({ minLength: 0, maxLength: 70_000 }), { maxLength: 12 }), async (pieces) => {
        const hash = pool.createSha256()
        for (const piece of pieces) hash.update(piece)
        expect((await hash.digest()).equals(sha256(Buffer.concat(pieces)))).toBe(true)
        await expect(hash.digest()).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
        expect(() => hash.update(Buffer.from('late'))).toThrow(CryptoError)
      }),
      { numRuns: 50 },
    )
  })

  test('hashes and seals interleaved on one thread keep each hash to its own pieces', async () => {
    const single = new CryptoPool()
    try {
      const owner = generateKey()
      const a = single.createSha256()
      const b = single.createSha256()
      const pieces = Array.from({ length: 8 }, (_, i) => randomBytes(100_000 + i))
      const seals = pieces.map((p, i) => {
        ;(i % 2 === 0 ? a : b).update(p)
        return single.seal(owner, p)
      })
      const [da, db] = await Promise.all([a.digest(), b.digest()])
      expect(da.equals(sha256(Buffer.concat(pieces.filter((_, i) => i % 2 === 0))))).toBe(true)
      expect(db.equals(sha256(Buffer.concat(pieces.filter((_, i) => i % 2 === 1))))).toBe(true)
      ;(await Promise.all(seals)).forEach((s, i) => expectSameSeal(s, sealChunk(owner, pieces[i]!)))
    } finally {
      await single.close()
    }
  })

  test('alsoHash takes only a live hash of the same pool', async () => {
    const owner = generateKey()
    const other = new CryptoPool()
    try {
      await expect(pool.seal(owner, Buffer.from('x'), { alsoHash: other.createSha256() })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
      const hash = pool.createSha256()
      await pool.seal(owner, Buffer.from('abc'), { alsoHash: hash })
      expect((await hash.digest()).equals(sha256(Buffer.from('abc')))).toBe(true)
      await expect(pool.seal(owner, Buffer.from('x'), { alsoHash: hash })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
    } finally {
      await other.close()
    }
  })

  test('a recycled blob is written over by a later seal of its size, which stays exact', async () => {
    const own = new CryptoPool()
    try {
      const owner = generateKey()
      const first = await own.seal(owner, randomBytes(100_000))
      const memory = first.blob.buffer
      own.recycle(first.blob)
      // Another size first: recycled memory only serves seals of its own size.
      const other = randomBytes(50_000)
      expectSameSeal(await own.seal(owner, other), sealChunk(owner, other))
      const next = randomBytes(100_000)
      const sealed = await own.seal(owner, next)
      expectSameSeal(sealed, sealChunk(owner, next))
      // The same memory came back (moved to the thread and back, so a new ArrayBuffer object over it
      // is not observable; its old object is detached, as after any move).
      expect(memory.byteLength).toBe(0)
      // Views of part of a memory, and memory given twice, are not taken.
      own.recycle(sealed.blob.subarray(1))
      own.recycle(sealed.blob)
      own.recycle(sealed.blob)
      const again = randomBytes(100_000)
      expectSameSeal(await own.seal(owner, again), sealChunk(owner, again))
      const third = randomBytes(100_000)
      expectSameSeal(await own.seal(owner, third), sealChunk(owner, third))
    } finally {
      await own.close()
    }
  })

  test('keeps recycled memory until told to let go of it', async () => {
    const own = new CryptoPool()
    try {
      const owner = generateKey()
      const first = await own.seal(owner, randomBytes(100_000))
      const second = await own.seal(owner, randomBytes(100_000))
      expect(own.spareBytes).toBe(0)
      own.recycle(first.blob)
      own.recycle(second.blob)
      expect(own.spareBytes).toBe(first.blob.byteLength + second.blob.byteLength)
      const memory = first.blob.buffer
      own.dropSpares()
      expect(own.spareBytes).toBe(0)
      // Later seals get new memory: the memory let go of is never moved to the thread again.
      const next = randomBytes(100_000)
      expectSameSeal(await own.seal(owner, next), sealChunk(owner, next))
      expect(memory.byteLength).toBe(first.blob.byteLength)
    } finally {
      await own.close()
    }
  })

  test('a bad owner key is refused with INVALID_KEY', async () => {
    await expect(pool.seal(Buffer.alloc(16), Buffer.from('x'))).rejects.toMatchObject({ code: 'INVALID_KEY' })
  })

  test('a thread count that is not a positive integer is refused', () => {
    for (const threads of [0, -1, 1.5]) expect(() => new CryptoPool({ threads })).toThrow(CryptoError)
  })

  test('close fails the work in flight and every later request with CLOSED', async () => {
    const own = new CryptoPool()
    const inFlight = own.seal(generateKey(), randomBytes(8 * 1024 * 1024))
    const hash = own.createSha256()
    hash.update(randomBytes(1024))
    const digest = hash.digest()
    await own.close()
    await expect(inFlight).rejects.toMatchObject({ code: 'CLOSED' })
    await expect(digest).rejects.toMatchObject({ code: 'CLOSED' })
    await expect(own.seal(generateKey(), Buffer.from('x'))).rejects.toMatchObject({ code: 'CLOSED' })
    expect(() => own.createSha256()).toThrow(CryptoError)
  })

  test('an idle pool does not keep the process alive', async () => {
    const index = new URL('../dist/index.js', import.meta.url).href
    const script = `const { CryptoPool, generateKey } = await import(${JSON.stringify(index)}); const s = new CryptoPool(); const r = await s.seal(generateKey(), Buffer.from('hello')); console.log(r.id)`
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { timeout: 20_000, cwd: fileURLToPath(new URL('.', import.meta.url)) })
    expect(stdout.trim()).toMatch(/^[0-9a-f]{64}$/)
  })
})
