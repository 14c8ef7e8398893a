import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium, type BrowserContext } from 'playwright-core'

/** Debian's chromium; CI installs it (`apt-get install chromium`). */
export const CHROMIUM = '/usr/bin/chromium'

/** Whether the browser tests can run here. */
export const hasChromium = existsSync(CHROMIUM)

/** Where the tests save a screenshot of each page (git-ignored). */
export const SCREENSHOTS = fileURLToPath(new URL('./screenshots/', import.meta.url))

/** A headless chromium with a fresh profile, removed on close. */
export interface Browser {
  context: BrowserContext
  close(): Promise<void>
}

/** Starts chromium headless with a fresh user-data-dir and nothing that talks to the internet. */
export async function launchBrowser(): Promise<Browser> {
  const profile = await mkdtemp(join(tmpdir(), 'cas-web-chromium-'))
  await mkdir(SCREENSHOTS, { recursive: true })
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-quic',
      '--no-first-run',
      '--disable-component-update',
      '--disable-sync',
    ],
    acceptDownloads: true,
    viewport: { width: 1360, height: 860 },
    colorScheme: 'light',
  })
  return {
    context,
    async close() {
      await context.close()
      await rm(profile, { recursive: true, force: true })
    },
  }
}
