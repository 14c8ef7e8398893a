import { closeSync, openSync, readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { createLogger } from '../src/logger.js'

describe('the daemon logger', () => {
  let dir: string | undefined
  afterEach(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true })
    dir = undefined
  })

  /** What a logger made with `pretty` writes for one line. */
  async function logged(pretty: boolean): Promise<string> {
    dir = await mkdtemp(join(tmpdir(), 'cas-logger-'))
    const path = join(dir, 'log')
    const fd = openSync(path, 'w')
    try {
      createLogger({ level: 'info', pretty, fd }).info({ peer: 'abc' }, 'peer joined')
    } finally {
      closeSync(fd)
    }
    return readFileSync(path, 'utf8')
  }

  it('writes one JSON object per line for collectors', async () => {
    const line = JSON.parse((await logged(false)).trim()) as Record<string, unknown>
    expect(line).toMatchObject({ level: 30, msg: 'peer joined', peer: 'abc', pid: process.pid })
  })

  it('writes human-readable lines for a terminal', async () => {
    const text = await logged(true)
    expect(text).toContain('peer joined')
    expect(text).toContain('INFO')
    expect(() => JSON.parse(text.trim()) as unknown).toThrow()
  })
})
