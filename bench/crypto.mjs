// Chunk encryption speed: sealChunk (hash + derive + encrypt + hash) against
// node:crypto's own SHA-256 and AES-256-CTR, and 64 KiB vs 1 MiB cipher updates.
// Usage: node bench/crypto.mjs [--json]   (BENCH_BYTES sets the volume, default 1 GiB)
import { randomBytes } from 'node:crypto'
import { sealChunk, generateKey } from '../packages/crypto/dist/index.js'
import { aesCtrRate, sha256Rate } from './lib/limits.mjs'
import { printTable } from './lib/format.mjs'

const MiB = 1024 * 1024
const total = Number(process.env.BENCH_BYTES ?? 1024 * MiB)

const sha = sha256Rate(total)
const ctr64k = aesCtrRate(total, 64 * 1024)
const ctr1m = aesCtrRate(total, MiB)

const owner = generateKey()
const chunk = randomBytes(MiB)
const start = process.hrtime.bigint()
for (let done = 0; done < total; done += MiB) {
  chunk[0] ^= 1 // a different chunk each time, as in a real file
  sealChunk(owner, chunk)
}
const seal = total / MiB / (Number(process.hrtime.bigint() - start) / 1e9)
const sealLimit = 1 / (2 / sha + 1 / ctr64k)

const rows = [
  { name: 'node:crypto SHA-256 (1 MiB updates)', value: sha, unit: 'MiB/s' },
  { name: 'node:crypto AES-256-CTR (64 KiB updates)', value: ctr64k, unit: 'MiB/s' },
  { name: 'node:crypto AES-256-CTR (1 MiB updates)', value: ctr1m, unit: 'MiB/s' },
  { name: 'sealChunk 1 MiB (hash, encrypt, hash)', value: seal, unit: 'MiB/s', limit: sealLimit, ratio: seal / sealLimit },
]
if (process.argv.includes('--json')) console.log(JSON.stringify({ bench: 'crypto', bytes: total, rows }))
else printTable(`crypto — ${total / MiB} MiB`, rows)
