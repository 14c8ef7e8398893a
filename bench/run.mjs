// `pnpm bench`: runs every benchmark of the project in turn, each in its own
// process, and prints their tables (or, with --json, one JSON document).
// BENCH_BYTES sets the volume of the throughput runs (default 1 GiB);
// BENCH_ONLY=crypto,store picks some of them.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const json = process.argv.includes('--json')
const order = ['crypto', 'store', 'local', 'p2p', 'cluster', 'latency', 'membership', 'memory']
const only = process.env.BENCH_ONLY?.split(',').filter(Boolean)
const picked = order.filter((name) => existsSync(join(here, `${name}.mjs`)) && (!only || only.includes(name)))

const results = []
let failed = false
for (const name of picked) {
  if (!json) console.log(`\n# ${name}`)
  const run = spawnSync(process.execPath, [join(here, `${name}.mjs`), ...(json ? ['--json'] : [])], {
    stdio: json ? ['ignore', 'pipe', 'inherit'] : 'inherit',
    encoding: 'utf8',
    env: process.env,
  })
  if (run.status !== 0) {
    failed = true
    console.error(`bench ${name} failed with exit code ${run.status}`)
    continue
  }
  if (json) {
    const line = run.stdout.trim().split('\n').pop()
    results.push(JSON.parse(line))
  }
}
if (json) {
  console.log(JSON.stringify({ date: new Date().toISOString(), node: process.version, results }, null, 2))
}
process.exit(failed ? 1 : 0)
