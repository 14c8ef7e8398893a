import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { promisify } from 'node:util'
import { afterEach, expect, test } from 'vitest'
import { casCommand } from '../src/cli/commands/demo.js'
import { assertBuilt, CLI, LongRunning } from './support/processes.js'

interface DemoInfo {
  dir: string
  joined: boolean
  nodes: { id: string; root: string; api: string; web: string; addresses: string[] }[]
}

function parseDemo(stdout: string): DemoInfo | undefined {
  try {
    return JSON.parse(stdout) as DemoInfo
  } catch {
    return undefined
  }
}

let demo: LongRunning | undefined
afterEach(async () => {
  await demo?.stop('SIGKILL')
})

test('cas demo starts 4 nodes that serve the API and web UI, and Ctrl-C stops it cleanly', async () => {
  assertBuilt()
  demo = await LongRunning.start(['demo', '--json'], (out) => parseDemo(out) !== undefined)
  const info = parseDemo(demo.stdout)!
  expect(info.nodes).toHaveLength(4)
  expect(info.joined).toBe(true)
  expect(existsSync(info.dir)).toBe(true)

  for (const node of info.nodes) {
    expect(node.api).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(node.addresses[0]).toMatch(/^127\.0\.0\.1:\d+$/)
    const web = await fetch(node.web)
    expect(web.status).toBe(200)
    const token = new URL(node.web).searchParams.get('token')!
    const status = (await (await fetch(`${node.api}/v1/status`, { headers: { authorization: `Bearer ${token}` } })).json()) as {
      id: string
      peers: number
    }
    expect(status).toMatchObject({ id: node.id, peers: 3 })
  }
  // The welcome file is on node 1, readable from node 4 by its capability.
  const first = info.nodes[0]!
  const firstToken = new URL(first.web).searchParams.get('token')!
  const files = (await (await fetch(`${first.api}/v1/files?token=${firstToken}`)).json()) as { name: string }[]
  expect(files.map((f) => f.name)).toEqual(['welcome.txt'])
  const { capability } = (await (await fetch(`${first.api}/v1/files/welcome.txt/share?token=${firstToken}`)).json()) as { capability: string }
  const last = info.nodes[3]!
  const text = await (await fetch(`${last.api}/v1/files/${capability}?token=${new URL(last.web).searchParams.get('token')!}`)).text()
  expect(text).toContain('Welcome to CAS')

  expect(await demo.stop('SIGINT')).toEqual({ code: 0, signal: null })
  expect(existsSync(info.dir)).toBe(false)
  expect(demo.stderr).toContain('demo stopped')
})

test('the commands cas demo prints run as printed, from any folder', async () => {
  assertBuilt()
  demo = await LongRunning.start(['demo', '--nodes', '2'], (out) => out.includes('Press Ctrl-C'))
  const status = demo.stdout
    .split('\n')
    .map((line) => line.trim())
    .find((line) => line.endsWith(' status'))
  // The built script, as `pnpm start` in the repository runs it: `cas` is not on the PATH there.
  expect(status?.startsWith(`node ${CLI} --root `)).toBe(true)
  const { stdout } = await promisify(execFile)('sh', ['-c', status!], { cwd: '/' })
  expect(stdout).toMatch(/^node\s+[0-9a-f]{64}$/m)
  expect(await demo.stop('SIGINT')).toEqual({ code: 0, signal: null })
})

test('the printed command is `cas` for the installed binary, else node and the script, quoted for a shell', () => {
  expect(casCommand('/usr/local/bin/cas')).toBe('cas')
  expect(casCommand(undefined)).toBe('cas')
  expect(casCommand('/src/cas/apps/node/dist/cli.js')).toBe('node /src/cas/apps/node/dist/cli.js')
  expect(casCommand("/home/Jo's files/cli.js")).toBe(`node '/home/Jo'\\''s files/cli.js'`)
})
