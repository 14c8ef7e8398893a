import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import {
  CryptoError,
  generateKey,
  generateKeyPair,
  readKeyFile,
  readKeyPairFile,
  writeKeyFile,
  writeKeyPairFile,
} from '../src/index.js'

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cas-crypto-'))
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise
    return undefined
  } catch (error) {
    expect(error).toBeInstanceOf(CryptoError)
    return (error as CryptoError).code
  }
}

describe('key files', () => {
  test('written with mode 0600 as hex and read back', async () => {
    const key = generateKey()
    const path = join(dir, 'keys', 'owner.key')
    await writeKeyFile(path, key)
    expect((await stat(path)).mode & 0o777).toBe(0o600)
    expect((await readFile(path, 'utf8')).trim()).toBe(key.toString('hex'))
    expect(await readKeyFile(path)).toEqual(key)
  })

  test('raw 32-byte files are accepted too', async () => {
    const key = generateKey()
    const path = join(dir, 'raw.key')
    await writeFile(path, key, { mode: 0o600 })
    expect(await readKeyFile(path)).toEqual(key)
  })

  test('an existing key is never overwritten unless asked', async () => {
    const path = join(dir, 'k')
    const first = generateKey()
    await writeKeyFile(path, first)
    expect(await codeOf(writeKeyFile(path, generateKey()))).toBe('KEY_FILE_INVALID')
    expect(await readKeyFile(path)).toEqual(first)
    const second = generateKey()
    await writeKeyFile(path, second, { overwrite: true })
    expect(await readKeyFile(path)).toEqual(second)
  })

  test('missing, short and world-readable files give clear errors', async () => {
    expect(await codeOf(readKeyFile(join(dir, 'nope.key')))).toBe('KEY_FILE_MISSING')

    const short = join(dir, 'short.key')
    await writeFile(short, 'abcd\n', { mode: 0o600 })
    expect(await codeOf(readKeyFile(short))).toBe('KEY_FILE_INVALID')
    await expect(readKeyFile(short)).rejects.toThrow(/32-byte key/)

    const open = join(dir, 'open.key')
    await writeKeyFile(open, generateKey())
    await chmod(open, 0o644)
    expect(await codeOf(readKeyFile(open))).toBe('KEY_FILE_INSECURE')
    await expect(readKeyFile(open)).rejects.toThrow(/chmod 600/)
  })

  test('key pairs round trip and mismatched halves are refused', async () => {
    const pair = generateKeyPair()
    const path = join(dir, 'node.key')
    await writeKeyPairFile(path, pair)
    const back = await readKeyPairFile(path)
    expect(back.publicKey).toEqual(pair.publicKey)
    expect(back.privateKey).toEqual(pair.privateKey)

    const bad = join(dir, 'bad.key')
    await writeKeyFile(bad, Buffer.concat([pair.privateKey, generateKeyPair().publicKey]))
    expect(await codeOf(readKeyPairFile(bad))).toBe('KEY_FILE_INVALID')
  })
})
