import {
  KEY_LENGTH,
  generateKey,
  generateKeyPair,
  parseHexKey,
  readKeyFile,
  readKeyPairFile,
  toHex,
  writeKeyFile,
  writeKeyPairFile,
  type KeyPair,
} from '@cas/crypto'
import { readFile, stat } from 'node:fs/promises'
import { CasError, errorCode, errorMessage } from './errors.js'
import type { RootPaths } from './root.js'

/** The three keys of a node (DESIGN §3). */
export interface NodeKeys {
  /** X25519 static key pair: the node's identity. */
  node: KeyPair
  /** Encrypts this node's files. */
  owner: Buffer
  /** Shared by all nodes of one network; the Noise pre-shared key. */
  network: Buffer
}

/** A new network key as `cas network-key` prints it: 64 hex characters. */
export function newNetworkKeyHex(): string {
  return toHex(generateKey())
}

/**
 * Reads a network key handed to `cas init --network-key FILE`: 64 hex characters (what
 * `cas network-key` prints) or 32 raw bytes. Unlike the node's own key files, FILE may have
 * been created by a shell redirect with default permissions, so its mode is not checked.
 */
export async function readNetworkKeyInput(file: string): Promise<Buffer> {
  let bytes: Buffer
  try {
    bytes = await readFile(file)
  } catch (err) {
    const why = errorCode(err) === 'ENOENT' ? 'no such file' : errorMessage(err)
    throw new CasError('INPUT', `--network-key ${file}: ${why}`, { cause: err })
  }
  if (bytes.length === KEY_LENGTH) return bytes
  try {
    return parseHexKey(bytes.toString('latin1'), KEY_LENGTH)
  } catch (err) {
    throw new CasError('INPUT', `--network-key ${file}: not a network key (${errorMessage(err)}; create one with \`cas network-key\`)`, {
      cause: err,
    })
  }
}

/** What {@link ensureKeys} did. */
export interface EnsuredKeys {
  keys: NodeKeys
  /** Names of the key files it created. */
  created: string[]
}

/**
 * Creates whichever of the node's keys are missing; keeps existing ones (so `cas init` is
 * idempotent). A network key given for a root that already has a different one is an error:
 * a node belongs to one network.
 */
export async function ensureKeys(paths: RootPaths, networkKey?: Buffer): Promise<EnsuredKeys> {
  const created: string[] = []
  if (!(await exists(paths.nodeKey))) {
    await writeKeyPairFile(paths.nodeKey, generateKeyPair())
    created.push('node.key')
  }
  if (!(await exists(paths.ownerKey))) {
    await writeKeyFile(paths.ownerKey, generateKey())
    created.push('owner.key')
  }
  if (!(await exists(paths.networkKey))) {
    await writeKeyFile(paths.networkKey, networkKey ?? generateKey())
    created.push('network.key')
  } else if (networkKey !== undefined) {
    const current = await readKey(paths.networkKey)
    if (!current.equals(networkKey)) {
      throw new CasError(
        'KEYS',
        `${paths.root} already belongs to another network (${paths.networkKey} differs from the key given); use a new --root`,
      )
    }
  }
  return { keys: await loadKeys(paths), created }
}

/** Reads the node's keys; a missing or unsafe key file is a clear error. */
export async function loadKeys(paths: RootPaths): Promise<NodeKeys> {
  try {
    return {
      node: await readKeyPairFile(paths.nodeKey),
      owner: await readKeyFile(paths.ownerKey),
      network: await readKeyFile(paths.networkKey),
    }
  } catch (err) {
    if (errorCode(err) === 'KEY_FILE_MISSING') {
      throw new CasError('NOT_INITIALIZED', `${errorMessage(err)}; run \`cas init\` first`, { cause: err })
    }
    throw new CasError('KEYS', errorMessage(err), { cause: err })
  }
}

async function readKey(path: string): Promise<Buffer> {
  try {
    return await readKeyFile(path)
  } catch (err) {
    throw new CasError('KEYS', errorMessage(err), { cause: err })
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path)
    return true
  } catch {
    return false
  }
}
