import { execFileSync, spawn } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { beforeAll, describe, expect, test } from 'vitest'
import { listAll, names, reopen, sha256, tempDir } from './helpers.js'

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..')
const distEntry = join(packageDir, 'dist', 'index.js')
const child = join(packageDir, 'test', 'fixtures', 'put-child.mjs')

const BLOB_MIB = 64

/** The child imports the built package (Node 20 cannot import .ts): build unless dist is current. */
function ensureBuilt(): void {
  const newestSource = readdirSync(join(packageDir, 'src')).reduce(
    (newest, name) => Math.max(newest, statSync(join(packageDir, 'src', name)).mtimeMs),
    0,
  )
  if (existsSync(distEntry) && statSync(distEntry).mtimeMs >= newestSource) return
  const tsupPackage = createRequire(join(packageDir, 'package.json')).resolve('tsup/package.json')
  execFileSync(process.execPath, [join(dirname(tsupPackage), 'dist', 'cli-default.js')], { cwd: packageDir, stdio: 'ignore' })
}

interface ChildRun {
  id: string
  /** MiB the child had handed to the store when it was killed. */
  progress: number
  finished: boolean
}

/**
 * Runs a put of a generated blob in a child and SIGKILLs it `delayMs` after it has handed `killAt`
 * MiB to the store, or (killAt = 'done') as soon as the put has resolved, before the store closes.
 */
function putAndKill(root: string, seed: number, killAt: number | 'done', delayMs: number): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [child, root, String(BLOB_MIB), String(seed)], { stdio: ['ignore', 'pipe', 'pipe'] })
    const run: ChildRun = { id: '', progress: 0, finished: false }
    let pending = ''
    let stderr = ''
    let armed = false
    proc.stderr.on('data', (d: Buffer) => {
      stderr += d.toString()
    })
    proc.stdout.on('data', (d: Buffer) => {
      pending += d.toString()
      const lines = pending.split('\n')
      pending = lines.pop()!
      for (const line of lines) {
        const [word, value] = line.split(' ')
        if (word === 'id') run.id = value!
        if (word === 'progress') run.progress = Number(value)
        if (word === 'done') run.finished = true
      }
      if (!armed && (killAt === 'done' ? run.finished : run.progress >= killAt)) {
        armed = true
        setTimeout(() => proc.kill('SIGKILL'), delayMs)
      }
    })
    proc.on('error', reject)
    proc.on('exit', (code, signal) => {
      if (signal === 'SIGKILL' || code === 0) resolve(run)
      else reject(new Error(`child exited with ${code}: ${stderr}`))
    })
  })
}

describe('crash safety', () => {
  beforeAll(() => {
    ensureBuilt()
  }, 120_000)

  test('SIGKILL at any point of a large put leaves the whole verified blob or nothing, and start-up removes the temp file', async () => {
    const root = await tempDir()
    // Early, middle, as the last byte is handed over and at moments after it (hashing, fsync,
    // rename), and once the put has resolved but the store was not closed.
    const kills: { killAt: number | 'done'; delayMs: number }[] = [
      { killAt: 4, delayMs: 0 },
      { killAt: BLOB_MIB / 2, delayMs: 0 },
      { killAt: BLOB_MIB, delayMs: 0 },
      { killAt: BLOB_MIB, delayMs: 20 },
      { killAt: BLOB_MIB, delayMs: 80 },
      { killAt: BLOB_MIB, delayMs: 250 },
      { killAt: 'done', delayMs: 0 },
    ]
    const outcomes: string[] = []
    let expectedBlobs: string[] = []
    for (const [seed, { killAt, delayMs }] of kills.entries()) {
      const run = await putAndKill(root, seed + 1, killAt, delayMs)
      expect(run.id).toMatch(/^[0-9a-f]{64}$/)
      // The kill landed mid-put: the child had started writing and had not reported success.
      const midStream = killAt !== 'done' && killAt < BLOB_MIB
      if (midStream) {
        // Killed while streaming: the put had not resolved and its temp file was there.
        expect(run.progress).toBeGreaterThanOrEqual(killAt)
        expect(run.finished).toBe(false)
        expect(await names(join(root, 'tmp'))).toHaveLength(1)
      }

      const store = await reopen(root)
      expect(await names(join(root, 'tmp'))).toEqual([])
      if (await store.has(run.id)) {
        const bytes = await store.get(run.id)
        expect(bytes.length).toBe(BLOB_MIB * 1024 * 1024)
        expect(sha256(bytes)).toBe(run.id)
        expectedBlobs.push(run.id)
        outcomes.push('whole')
      } else {
        expect(run.finished).toBe(false)
        outcomes.push('absent')
      }
      expectedBlobs = expectedBlobs.sort()
      expect(await listAll(store)).toEqual(expectedBlobs)
      // Counters were recounted after the unclean shutdown.
      expect(await store.stat()).toMatchObject({ count: expectedBlobs.length, bytes: expectedBlobs.length * BLOB_MIB * 1024 * 1024 })
      await store.close()
    }
    expect(outcomes.slice(0, 2)).toEqual(['absent', 'absent'])
    expect(outcomes.at(-1)).toBe('whole')
  }, 120_000)
})
