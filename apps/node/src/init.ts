import { toHex } from '@cas/crypto'
import { mkdir, stat } from 'node:fs/promises'
import { initialConfig, writeConfig, type ConfigInput } from './config.js'
import { ensureKeys } from './keys.js'
import { rootPaths } from './root.js'

/** Result of {@link initRoot}. */
export interface InitResult {
  root: string
  /** The node id (hex X25519 public key). */
  id: string
  /** Files created by this call (empty when the root was already complete). */
  created: string[]
}

/**
 * Creates a node's root: keys and config (DESIGN §3). Idempotent: what exists is kept, what is
 * missing is created. `config` overrides the written defaults (for a new config only).
 */
export async function initRoot(root: string, options: { networkKey?: Buffer; config?: ConfigInput } = {}): Promise<InitResult> {
  const paths = rootPaths(root)
  await mkdir(paths.root, { recursive: true, mode: 0o700 })
  await mkdir(paths.keys, { recursive: true, mode: 0o700 })
  const { keys, created } = await ensureKeys(paths, options.networkKey)
  if (!(await exists(paths.config))) {
    await writeConfig(paths.config, initialConfig(options.config))
    created.push('config.json')
  }
  return { root: paths.root, id: toHex(keys.node.publicKey), created }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path)
    return true
  } catch {
    return false
  }
}
