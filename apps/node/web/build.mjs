// Bundles the web UI into dist/: index.html, app.js and app.css, no external assets.
// Called by apps/node's build script (`node web/build.mjs`) and by the browser tests.
import { build } from 'esbuild'
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))

/**
 * Builds the web UI.
 * @param {{ outdir?: string, minify?: boolean }} [options]
 * @returns {Promise<{ outdir: string, bytes: Record<string, number> }>}
 */
export async function buildWebUi(options = {}) {
  const outdir = options.outdir ?? join(here, 'dist')
  const minify = options.minify ?? true
  await rm(outdir, { recursive: true, force: true })
  await mkdir(outdir, { recursive: true })
  const result = await build({
    absWorkingDir: here,
    entryPoints: { app: join(here, 'src/main.tsx') },
    outdir,
    bundle: true,
    format: 'esm',
    target: ['chrome111', 'firefox115', 'safari16.4'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    minify,
    sourcemap: minify ? false : 'inline',
    legalComments: 'none',
    logLevel: 'silent',
    metafile: true,
    tsconfig: join(here, 'tsconfig.json'),
  })
  const html = await readFile(join(here, 'src/index.html'), 'utf8')
  await writeFile(join(outdir, 'index.html'), html)
  /** @type {Record<string, number>} */
  const bytes = { 'index.html': Buffer.byteLength(html) }
  for (const [file, info] of Object.entries(result.metafile.outputs)) {
    bytes[file.split('/').pop() ?? file] = info.bytes
  }
  return { outdir, bytes }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { outdir, bytes } = await buildWebUi()
  const total = Object.values(bytes).reduce((a, b) => a + b, 0)
  console.log(`web UI → ${outdir} (${Object.entries(bytes).map(([f, n]) => `${f} ${n} B`).join(', ')}; ${total} B)`)
}
