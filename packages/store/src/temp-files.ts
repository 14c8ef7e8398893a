import { randomBytes } from 'node:crypto'
import { opendir, stat, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { isErrno } from './errors.js'

/**
 * Temp files are named `<pid>.<random>.tmp`: the pid tells start-up whether the writer may still be
 * running (another process sharing the root), the random part keeps concurrent writers apart.
 */
export function tempName(): string {
  return `${process.pid}.${randomBytes(8).toString('hex')}.tmp`
}

function writerPid(name: string): number | undefined {
  const match = /^(\d+)\.[0-9a-f]+\.tmp$/.exec(name)
  return match === null ? undefined : Number(match[1])
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return isErrno(err, 'EPERM')
  }
}

/** What start-up decides for one temp file. */
export interface TempCleanupOptions {
  /** Temp files of this process are in use by another open store on the same root: keep them. */
  keepOwn: boolean
  now: number
  staleAgeMs: number
}

/**
 * Removes temp files left by writers that are gone: a crashed process's partial blobs. A file is
 * kept only while its writer process still runs and it was touched within `staleAgeMs`.
 * Returns the names removed.
 */
export async function removeStaleTempFiles(tmpDir: string, options: TempCleanupOptions): Promise<string[]> {
  const removed: string[] = []
  const dir = await opendir(tmpDir)
  for await (const entry of dir) {
    if (!entry.isFile()) continue // the store only ever makes plain files here
    const path = join(tmpDir, entry.name)
    const pid = writerPid(entry.name)
    if (pid !== undefined && (pid === process.pid ? options.keepOwn : isRunning(pid))) {
      const info = await stat(path).catch(() => undefined)
      if (info === undefined || options.now - info.mtimeMs < options.staleAgeMs) continue
    }
    try {
      await unlink(path)
      removed.push(entry.name)
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) throw err
    }
  }
  return removed
}
