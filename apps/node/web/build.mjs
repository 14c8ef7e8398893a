// Bundles the web UI into dist/: index.html, app.js and app.css, no external assets.
// Called by apps/node's build script (`node web/build.mjs`) and by the browser tests.
import { build } from 'esbuild'
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
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
    write: false,
    tsconfig: join(here, 'tsconfig.json'),
  })
  const files = [
    { path: join(outdir, 'index.html'), contents: await readFile(join(here, 'src/index.html')) },
    ...result.outputFiles.map((file) => ({ path: file.path, contents: file.contents })),
  ]
  /** @type {Record<string, number>} */
  const bytes = {}
  for (const file of files) {
    // Write then rename: a daemon serving this folder never sees a missing or half-written file.
    const temp = `${file.path}.${process.pid}.tmp`
    await writeFile(temp, file.contents)
    await rename(temp, file.path)
    bytes[basename(file.path)] = file.contents.byteLength
  }
  return { outdir, bytes }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { outdir, bytes } = await buildWebUi()
  const total = Object.values(bytes).reduce((a, b) => a + b, 0)
  console.log(`web UI → ${outdir} (${Object.entries(bytes).map(([f, n]) => `${f} ${n} B`).join(', ')}; ${total} B)`)
}
