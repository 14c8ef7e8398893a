import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { DEFAULT_ROOT_DIRNAME, ROOT_ENV } from './constants.js'

/**
 * The node's root directory (DESIGN §6): `--root DIR`, else `CAS_ROOT`, else `~/.cas`.
 * Relative paths are resolved against the working directory.
 */
export function resolveRoot(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (flag !== undefined && flag !== '') return resolve(flag)
  const fromEnv = env[ROOT_ENV]
  if (fromEnv !== undefined && fromEnv !== '') return resolve(fromEnv)
  return join(homedir(), DEFAULT_ROOT_DIRNAME)
}

/** Where everything lives under a root (DESIGN §3). */
export interface RootPaths {
  root: string
  config: string
  keys: string
  nodeKey: string
  ownerKey: string
  networkKey: string
  /** The store's own root: it keeps `blobs/`, `tmp/` and `meta/` under it. */
  store: string
  catalog: string
  api: string
  apiToken: string
  lock: string
}

/** The paths of a root directory. */
export function rootPaths(root: string): RootPaths {
  const keys = join(root, 'keys')
  return {
    root,
    config: join(root, 'config.json'),
    keys,
    nodeKey: join(keys, 'node.key'),
    ownerKey: join(keys, 'owner.key'),
    networkKey: join(keys, 'network.key'),
    store: root,
    catalog: join(root, 'catalog'),
    api: join(root, 'api'),
    apiToken: join(root, 'api.token'),
    lock: join(root, 'daemon.lock'),
  }
}
