import { randomBytes } from 'node:crypto'
import { constants } from 'node:fs'
import { open, readFile, rename, rm } from 'node:fs/promises'
import { CasError, errorCode } from './errors.js'
import type { RootPaths } from './root.js'

/** How to reach a running daemon: `<root>/api` and `<root>/api.token` (DESIGN §3, §6). */
export interface ApiEndpoint {
  /** Base URL, e.g. `http://127.0.0.1:7401`. */
  url: string
  token: string
}

/** Publishes the API endpoint: the token first (0600), then the URL, each atomically. */
export async function writeApiFiles(paths: RootPaths, endpoint: ApiEndpoint): Promise<void> {
  await writeAtomic(paths.apiToken, `${endpoint.token}\n`, 0o600)
  await writeAtomic(paths.api, `${endpoint.url}\n`, 0o644)
}

/** Removes the API files of a daemon that is stopping. */
export async function removeApiFiles(paths: RootPaths): Promise<void> {
  await rm(paths.api, { force: true })
  await rm(paths.apiToken, { force: true })
}

/** Reads the endpoint of the root's running daemon; a missing `api` file means none is running. */
export async function readApiFiles(paths: RootPaths): Promise<ApiEndpoint> {
  let url: string
  try {
    url = (await readFile(paths.api, 'utf8')).trim()
  } catch (err) {
    if (errorCode(err) === 'ENOENT') {
      throw new CasError('DAEMON_NOT_RUNNING', `no daemon is running for ${paths.root} (no ${paths.api}); start one with \`cas daemon\``, {
        cause: err,
      })
    }
    throw new CasError('DAEMON_NOT_RUNNING', `cannot read ${paths.api}: ${(err as Error).message}`, { cause: err })
  }
  let token: string
  try {
    token = (await readFile(paths.apiToken, 'utf8')).trim()
  } catch (err) {
    throw new CasError('UNAUTHORIZED', `cannot read the API token ${paths.apiToken}: ${(err as Error).message}`, { cause: err })
  }
  return { url, token }
}

async function writeAtomic(path: string, text: string, mode: number): Promise<void> {
  const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`
  const handle = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode)
  try {
    await handle.writeFile(text)
    await handle.sync()
  } finally {
    await handle.close()
  }
  await rename(temp, path)
}
