#!/usr/bin/env bash
# Packs every publishable package, installs the tarballs with npm into an empty
# project outside the workspace and imports each one there: proof that the
# published exports map, built code and types stand on their own.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

work=$(mktemp -d "${TMPDIR:-/tmp}/cas-packs.XXXXXX")
trap 'rm -rf "$work"' EXIT

packages=(packages/crypto packages/store packages/p2p packages/server apps/node)
for dir in "${packages[@]}"; do
  (cd "$dir" && pnpm pack --pack-destination "$work" >/dev/null)
done
ls "$work"/*.tgz

for tarball in "$work"/*.tgz; do
  listing=$(tar -tzf "$tarball")
  for required in package/package.json package/README.md package/dist/index.js package/dist/index.d.ts; do
    grep -qx "$required" <<<"$listing" || { echo "$tarball lacks $required" >&2; exit 1; }
  done
  if grep -q '^package/src/' <<<"$listing"; then echo "$tarball ships its sources" >&2; exit 1; fi
done

consumer="$work/consumer"
mkdir -p "$consumer"
cd "$consumer"
npm init -y >/dev/null
# The declarations speak of Buffer and node:stream, as any Node library's do, so
# a TypeScript consumer brings the Node types of its runtime; nothing else.
npm install --no-audit --no-fund --loglevel=error "$work"/*.tgz @types/node@20 >/dev/null

cat > check.mjs <<'JS'
const names = ['@cas/crypto', '@cas/store', '@cas/p2p', '@cas/server', '@cas/node']
for (const name of names) {
  const mod = await import(name)
  const exports = Object.keys(mod)
  if (exports.length === 0) throw new Error(`${name} exports nothing`)
  console.log(`${name}: ${exports.length} exports`)
}
// A subpath export: loads alone, before anything else.
const { tuneGarbageCollector } = await import('@cas/server/gc-tuning')
tuneGarbageCollector()
const { CryptoPool, sealChunk, decryptChunk, generateKey } = await import('@cas/crypto')
const owner = generateKey()
const sealed = sealChunk(owner, Buffer.from('packed'))
if (decryptChunk(sealed.key, sealed.blob).toString() !== 'packed') throw new Error('crypto round trip failed')
// The crypto thread's script ships in the tarball and loads from the installed package.
const pool = new CryptoPool()
if ((await pool.seal(owner, Buffer.from('packed'))).id !== sealed.id) throw new Error('CryptoPool sealed differently')
await pool.close()
JS
node check.mjs

cat > tsconfig.json <<'JSON'
{ "compilerOptions": { "module": "NodeNext", "moduleResolution": "NodeNext", "strict": true, "noEmit": true, "skipLibCheck": false, "types": ["node"] }, "files": ["types.ts"] }
JSON
cat > types.ts <<'TS'
import type { SealedChunk } from '@cas/crypto'
import type { BlobStore } from '@cas/store'
import type { Transport } from '@cas/p2p'
import type { CasNode } from '@cas/server'
export type Checked = [SealedChunk['id'], BlobStore, Transport, CasNode]
TS
"$repo/node_modules/.bin/tsc" -p tsconfig.json
echo "the published type declarations resolve"
echo "packed packages install and import outside the workspace"
