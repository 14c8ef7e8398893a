import { fork, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const CHILD = fileURLToPath(new URL('./support/one-arena-child.mjs', import.meta.url))
const onLinux = process.platform === 'linux'

interface Report {
  pid: number
  arenaMax: string | null
  reason: string
  argv: string[]
  input: string
  heaps: number
  ipc: boolean
}

/** Runs the child with `args` and `input` on its stdin; its report, pid and exit code. */
async function runChild(args: string[], input: string, env: NodeJS.ProcessEnv = {}): Promise<{ report: Report; pid: number; code: number | null }> {
  const child = spawn(process.execPath, [CHILD, ...args], { env: { ...withoutMalloc(process.env), ...env }, stdio: ['pipe', 'pipe', 'inherit'] })
  let out = ''
  child.stdout.setEncoding('utf8').on('data', (text: string) => (out += text))
  child.stdin.end(input)
  const code = await new Promise<number | null>((resolve, reject) => child.once('exit', resolve).once('error', reject))
  return { report: JSON.parse(out) as Report, pid: child.pid!, code }
}

/** The environment without malloc's settings, whatever the one running the tests has. */
function withoutMalloc(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const copy = { ...env }
  for (const name of Object.keys(copy)) if (name.startsWith('MALLOC_')) delete copy[name]
  delete copy.GLIBC_TUNABLES
  return copy
}

describe.runIf(onLinux)('execWithOneArena', () => {
  it('restarts the process in place with one malloc heap for all its threads', async () => {
    const { report, pid, code } = await runChild(['go', '7', 'an argument with spaces'], 'to stdin\n')
    // The same process (the pid its parent knows), its arguments, stdin, stdout and exit code intact.
    expect(report.pid).toBe(pid)
    expect(report.argv).toEqual(['go', '7', 'an argument with spaces'])
    expect(report.input).toBe('to stdin\n')
    expect(code).toBe(7)
    // Started over with the setting, after which the call leaves it be.
    expect(report.arenaMax).toBe('1')
    expect(report.reason).toContain('MALLOC_ARENA_MAX')
    expect(report.heaps).toBe(1)
  })

  it('is what keeps threads off heaps of their own', async () => {
    const { report } = await runChild(['stay'], '')
    expect(report.arenaMax).toBeNull()
    expect(report.heaps).toBeGreaterThan(1)
  })

  it("leaves the operator's malloc settings alone", async () => {
    for (const env of [{ MALLOC_ARENA_MAX: '4' }, { GLIBC_TUNABLES: 'glibc.malloc.trim_threshold=1048576' }]) {
      const { report, pid } = await runChild(['go'], '', env)
      expect(report.pid).toBe(pid)
      expect(report.arenaMax).toBe(env.MALLOC_ARENA_MAX ?? null)
      expect(report.reason).toContain(Object.keys(env)[0]!)
    }
  })

  it('leaves a process with an IPC channel from its parent as it is (its descriptor would not survive)', async () => {
    const child = fork(CHILD, ['go'], { env: withoutMalloc(process.env), stdio: ['pipe', 'inherit', 'inherit', 'ipc'] })
    child.stdin!.end()
    const report = await new Promise<Report>((resolve, reject) => child.once('message', (m) => resolve(m as Report)).once('error', reject))
    await new Promise((resolve) => child.once('exit', resolve))
    expect(report.ipc).toBe(true)
    expect(report.arenaMax).toBeNull()
    expect(report.reason).toContain('IPC channel')
  })
})
