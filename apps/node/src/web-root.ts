import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/**
 * The built web UI (`apps/node/web/dist/`), or `undefined` when it has not been built. This file
 * sits directly in `src/`, and the bundle directly in `dist/`, so the same relative path works
 * from sources and from the build.
 */
export function defaultWebRoot(): string | undefined {
  const dir = fileURLToPath(new URL('../web/dist/', import.meta.url))
  return existsSync(`${dir}index.html`) ? dir : undefined
}
