import { randomBytes } from 'node:crypto'
import { constants } from 'node:fs'
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises'
import { dirname } from 'node:path'
import { KEY_LENGTH, X25519_KEY_LENGTH } from './constants.js'
import { CryptoError } from './errors.js'
import { parseHexKey, toHex } from './hex.js'
import { publicKeyFromPrivate, type KeyPair } from './keys.js'

/** Options of {@link writeKeyFile}. */
export interface WriteKeyOptions {
  /** Replace an existing file; by default an existing key is never overwritten. */
  overwrite?: boolean
}

/**
 * Writes a key as hex text with mode 0600, atomically: a temp file in the same
 * folder is written, fsynced and renamed, so a crash never leaves half a key.
 */
export async function writeKeyFile(path: string, key: Uint8Array, options: WriteKeyOptions = {}): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 })
  if (!options.overwrite && (await exists(path))) {
    throw new CryptoError('KEY_FILE_INVALID', `key file ${path} already exists; refusing to overwrite it`)
  }
  const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`
  const handle = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600)
  try {
    await handle.writeFile(`${toHex(key)}\n`)
    await handle.sync()
  } catch (error) {
    await handle.close()
    await rm(temp, { force: true })
    throw error
  }
  await handle.close()
  await rename(temp, path)
}

/**
 * Reads a key file written by {@link writeKeyFile} (hex text) or holding the raw
 * bytes. Refuses, with a clear message, a missing file, a key of the wrong
 * length and a file that other users can read (mode bits beyond 0600).
 */
export async function readKeyFile(path: string, length = KEY_LENGTH): Promise<Buffer> {
  let mode: number
  try {
    mode = (await stat(path)).mode
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new CryptoError('KEY_FILE_MISSING', `key file ${path} does not exist`, { cause: error })
    }
    throw new CryptoError('KEY_FILE_INVALID', `key file ${path} cannot be read`, { cause: error })
  }
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    throw new CryptoError(
      'KEY_FILE_INSECURE',
      `key file ${path} is readable by other users (mode ${(mode & 0o777).toString(8)}); run: chmod 600 ${path}`,
    )
  }
  const bytes = await readFile(path)
  if (bytes.byteLength === length) return bytes
  try {
    return parseHexKey(bytes.toString('latin1'), length)
  } catch (error) {
    throw new CryptoError(
      'KEY_FILE_INVALID',
      `key file ${path} must hold a ${length}-byte key (${length * 2} hex characters); it holds ${bytes.byteLength} bytes that are not one`,
      { cause: error },
    )
  }
}

/** Writes an X25519 key pair (private key then public key, as hex) with mode 0600. */
export async function writeKeyPairFile(path: string, pair: KeyPair, options: WriteKeyOptions = {}): Promise<void> {
  await writeKeyFile(path, Buffer.concat([pair.privateKey, pair.publicKey]), options)
}

/** Reads a key pair written by {@link writeKeyPairFile} and checks the halves belong together. */
export async function readKeyPairFile(path: string): Promise<KeyPair> {
  const bytes = await readKeyFile(path, X25519_KEY_LENGTH * 2)
  const privateKey = bytes.subarray(0, X25519_KEY_LENGTH)
  const publicKey = bytes.subarray(X25519_KEY_LENGTH)
  if (!publicKeyFromPrivate(privateKey).equals(publicKey)) {
    throw new CryptoError('KEY_FILE_INVALID', `key file ${path} holds a public key that does not match its private key`)
  }
  return { privateKey: Buffer.from(privateKey), publicKey: Buffer.from(publicKey) }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path)
    return true
  } catch {
    return false
  }
}
