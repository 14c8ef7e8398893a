import { mkdir, open } from 'node:fs/promises'
import { dirname } from 'node:path'

/**
 * Flushes a directory's entries to disk. A rename or create is only durable once the directory that
 * holds the new name is synced: without this a power loss can forget a blob whose bytes were synced.
 */
export async function syncDir(path: string): Promise<void> {
  const handle = await open(path, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

/**
 * Creates `dir` and any missing parents up to (not including) `base`, then syncs the parent of
 * every directory it created so the new entries survive a power loss.
 */
export async function ensureDir(dir: string, base: string): Promise<void> {
  const first = await mkdir(dir, { recursive: true })
  if (first === undefined) return
  // Sync from the deepest new directory's parent up to the parent of the first one created.
  let current = dir
  const stop = dirname(first)
  while (current !== stop && current.length > base.length) {
    current = dirname(current)
    await syncDir(current)
  }
}
