import { opendir } from 'node:fs/promises'
import { join } from 'node:path'
import { isErrno } from './errors.js'
import { isBlobId } from './id.js'

const PAIR = /^[0-9a-f]{2}$/

async function* entries(dir: string, wantDirs: boolean): AsyncGenerator<string> {
  let handle
  try {
    handle = await opendir(dir)
  } catch (err) {
    // A fan-out directory removed while walking is simply empty.
    if (isErrno(err, 'ENOENT')) return
    throw err
  }
  // `for await` over a Dir reads a few entries at a time and closes it when done or abandoned.
  for await (const entry of handle) {
    if (wantDirs ? entry.isDirectory() : entry.isFile()) yield entry.name
  }
}

/**
 * Yields the id of every blob under `blobsDir` (`ab/cd/<id>`), one directory level at a time:
 * memory stays constant however many blobs there are. Order is the file system's.
 * Names that are not blob ids at their CAS path are skipped.
 */
export async function* walkBlobIds(blobsDir: string): AsyncGenerator<string> {
  for await (const first of entries(blobsDir, true)) {
    if (!PAIR.test(first)) continue
    const firstDir = join(blobsDir, first)
    for await (const second of entries(firstDir, true)) {
      if (!PAIR.test(second)) continue
      const prefix = first + second
      for await (const name of entries(join(firstDir, second), false)) {
        if (isBlobId(name) && name.startsWith(prefix)) yield name
      }
    }
  }
}
