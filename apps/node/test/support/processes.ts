import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/** The built CLI; the e2e suites run the real binary, as users do. */
export const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url))

/** Fails clearly when the CLI has not been built (the test task depends on the build). */
export function assertBuilt(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`pnpm turbo run build --filter @cas/node...\` first`)
}

/** Environment of spawned commands: no CAS_ROOT from the outside, no colours. */
function childEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', ...extra }
  delete env.CAS_ROOT
  delete env.npm_lifecycle_event
  return env
}

/** Result of one finished `cas` command. */
export interface Run {
  code: number | null
  stdout: Buffer
  stderr: string
  /** stdout as text. */
  out: string
}

const RUN_TIMEOUT_MS = 60_000

/** Runs `cas <args>` to completion (bounded), feeding `input` on stdin. */
export function run(args: string[], options: { input?: Buffer; env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: childEnv(options.env), stdio: ['pipe', 'pipe', 'pipe'] })
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk))
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk))
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`cas ${args.join(' ')} did not finish in ${RUN_TIMEOUT_MS} ms`))
    }, RUN_TIMEOUT_MS)
    child.once('error', reject)
    child.once('close', (code) => {
      clearTimeout(timer)
      const stdout = Buffer.concat(out)
      resolve({ code, stdout, out: stdout.toString(), stderr: Buffer.concat(err).toString() })
    })
    child.stdin.end(options.input ?? Buffer.alloc(0))
  })
}

/** A long-running `cas` process (daemon, demo) with its output so far. */
export class LongRunning {
  stdout = ''
  stderr = ''
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>

  private constructor(readonly child: ChildProcess) {
    child.stdout?.on('data', (chunk: Buffer) => (this.stdout += chunk.toString()))
    child.stderr?.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()))
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })))
  }

  /** Starts `cas <args>` and waits (bounded) until `ready(stdout)` holds. */
  static async start(args: string[], ready: (stdout: string) => boolean, timeoutMs = 60_000): Promise<LongRunning> {
    const child = spawn(process.execPath, [CLI, ...args], { env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] })
    const proc = new LongRunning(child)
    const deadline = Date.now() + timeoutMs
    let exited = false
    void proc.exited.then(() => (exited = true))
    while (!ready(proc.stdout)) {
      if (exited) throw new Error(`cas ${args.join(' ')} exited early:\n${proc.stderr}`)
      if (Date.now() > deadline) {
        child.kill('SIGKILL')
        throw new Error(`cas ${args.join(' ')} not ready in ${timeoutMs} ms:\n${proc.stdout}\n${proc.stderr}`)
      }
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    return proc
  }

  /** Sends a signal and waits (bounded) for the exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 30_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.child.exitCode !== null) return this.exited
    this.child.kill(signal)
    let timer: NodeJS.Timeout | undefined
    const result = await Promise.race([
      this.exited,
      new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), timeoutMs)
      }),
    ])
    clearTimeout(timer)
    if (result === undefined) {
      this.child.kill('SIGKILL')
      throw new Error(`process did not exit within ${timeoutMs} ms of ${signal}:\n${this.stderr}`)
    }
    return result
  }
}

/** Polls `check` (bounded) until it returns a value other than undefined. */
export async function eventually<T>(check: () => Promise<T | undefined>, what: string, attempts = 100, intervalMs = 200): Promise<T> {
  for (let i = 0; i < attempts; i++) {
    const value = await check()
    if (value !== undefined) return value
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
  throw new Error(`timed out waiting for ${what}`)
}
