import { constants } from 'node:fs'
import { open, readFile, rm } from 'node:fs/promises'
import { CasError, errorCode } from './errors.js'

/**
 * Takes `<root>/daemon.lock` so that only one daemon runs on a root. The file holds the owner's
 * pid; a lock whose process is gone (a crash, a kill -9) is taken over.
 * @returns a function that releases the lock
 */
export async function acquireRootLock(path: string, root: string): Promise<() => Promise<void>> {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644)
      await handle.writeFile(`${process.pid}\n`)
      await handle.close()
      return async () => {
        await rm(path, { force: true })
      }
    } catch (err) {
      if (errorCode(err) !== 'EEXIST') throw new CasError('INTERNAL', `cannot create ${path}: ${(err as Error).message}`, { cause: err })
    }
    const pid = Number((await readFile(path, 'utf8').catch(() => '')).trim())
    if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) {
      throw new CasError('ALREADY_RUNNING', `a daemon is already running for ${root} (pid ${pid})`)
    }
    await rm(path, { force: true })
  }
  throw new CasError('ALREADY_RUNNING', `cannot take ${path}: another daemon keeps starting on ${root}`)
}

function isAlive(pid: number): boolean {
  if (pid === process.pid) return true
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return errorCode(err) === 'EPERM'
  }
}
