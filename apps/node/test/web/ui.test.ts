import { createHash, randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { CDPSession, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildWebUi } from '../../web/build.mjs'
import { SCREENSHOTS, hasChromium, launchBrowser, type Browser } from './browser'
import { startCluster, type Cluster, type ClusterNode } from './cluster'

const HOSTILE = '<img src=x onerror=alert(1)>.txt'
const sha = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex')

if (!hasChromium) console.warn('web UI browser tests skipped: /usr/bin/chromium is missing (apt-get install -y chromium)')

describe.skipIf(!hasChromium)('web UI in chromium', () => {
  let browser: Browser
  let cluster: Cluster
  let nodes: ClusterNode[]
  let one: Page
  let two: Page
  const dialogs: string[] = []
  const big = randomBytes(4 * 1024 * 1024 + 123)
  let address = ''

  beforeAll(async () => {
    // The daemons serve apps/node/web/dist: build it from the current sources first.
    await buildWebUi()
    cluster = await startCluster(2, ['--replicas', '2'])
    nodes = cluster.nodes
    browser = await launchBrowser()
    browser.context.on('page', (page) => page.on('dialog', (dialog) => void dialog.dismiss().then(() => dialogs.push(dialog.message()))))
    one = await browser.context.newPage()
    two = await browser.context.newPage()
    one.on('dialog', (dialog) => void dialog.dismiss().then(() => dialogs.push(dialog.message())))
  })

  afterAll(async () => {
    await browser?.close()
    await cluster?.close()
  })

  const node = (i: number): ClusterNode => nodes[i]!
  const shot = (page: Page, name: string): Promise<Buffer> => page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), animations: 'disabled' })
  const row = (page: Page, name: string) => page.locator('tr', { has: page.locator('.file-name', { hasText: name }) })

  it('takes the token from the URL, keeps it for the session and strips it from the address bar', async () => {
    await one.goto(`${node(0).url}/?token=${node(0).token}#/files`)
    await one.getByRole('heading', { name: 'Files' }).waitFor()
    expect(one.url()).not.toContain('token')
    expect(one.url()).toContain('#/files')
    await one.getByText('No files yet').waitFor()
    await shot(one, 'files-empty')
    await one.reload()
    await one.getByText('No files yet').waitFor()
  })

  it('asks for a token when opened without one and refuses a wrong one', async () => {
    const page = await browser.context.newPage()
    await page.goto(`${node(0).url}/`)
    await page.getByRole('heading', { name: 'Connect to your node' }).waitFor()
    await page.getByLabel('API token').fill('not-the-token')
    await page.getByRole('button', { name: 'Connect' }).click()
    await page.getByText('The node refused this token').waitFor()
    await shot(page, 'token')
    await page.getByLabel('API token').fill(node(0).token)
    await page.getByRole('button', { name: 'Connect' }).click()
    await page.getByRole('heading', { name: 'Files' }).waitFor()
    await page.close()
  })

  it('uploads a file from the picker with a progress bar', async () => {
    // Slow the upload down so the progress bar can be seen moving.
    const cdp: CDPSession = await browser.context.newCDPSession(one)
    await cdp.send('Network.enable')
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 1024 * 1024 })
    await one.locator('[data-testid=file-picker]').setInputFiles({ name: 'dataset.bin', mimeType: 'application/octet-stream', buffer: big })
    const bar = one.getByRole('progressbar', { name: 'Upload of dataset.bin' })
    await expect.poll(async () => Number(await bar.getAttribute('aria-valuenow')), { timeout: 20_000, interval: 50 }).toBeGreaterThan(0)
    const during = Number(await bar.getAttribute('aria-valuenow'))
    await shot(one, 'upload-progress')
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 })
    await cdp.detach()
    expect(during).toBeLessThan(100)
    await one.locator('.upload[data-state=done]').waitFor({ timeout: 30_000 })
    await row(one, 'dataset.bin').waitFor()
    address = (await row(one, 'dataset.bin').locator('.address').getAttribute('title'))!.split(' ')[0]!
    expect(address).toMatch(/^[0-9a-f]{64}$/)
  })

  it('uploads a dropped file and renders a hostile name as text', async () => {
    const transfer = await one.evaluateHandle(`(() => {
      const dt = new DataTransfer()
      dt.items.add(new File(['hello from a drop'], ${JSON.stringify(HOSTILE)}, { type: 'text/plain' }))
      return dt
    })()`)
    const target = one.locator('.page')
    await target.dispatchEvent('dragenter', { dataTransfer: transfer })
    await one.getByText('Drop to upload').waitFor()
    await target.dispatchEvent('dragover', { dataTransfer: transfer })
    await target.dispatchEvent('drop', { dataTransfer: transfer })
    await row(one, HOSTILE).waitFor()
    await expect.poll(() => one.getByText(HOSTILE, { exact: true }).count()).toBeGreaterThan(0)
    expect(await one.locator('img').count()).toBe(0)
    expect(dialogs).toEqual([])
    await one.getByRole('button', { name: 'Clear' }).click()
    await shot(one, 'files')
  })

  it('shares a file on node 1 and downloads it byte-identical from node 2 by capability', async () => {
    await row(one, 'dataset.bin').getByRole('button', { name: 'Share dataset.bin' }).click()
    const box = one.getByLabel('Capability')
    await expect.poll(() => box.inputValue()).toMatch(/^cas1:[0-9a-f]{64}:[0-9a-f]{64}$/)
    const capability = await box.inputValue()
    expect(capability.split(':')[1]).toBe(address)
    await shot(one, 'share')
    await browser.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: node(0).url })
    await one.getByRole('button', { name: 'Copy capability' }).click()
    await one.getByText('Capability copied').waitFor()
    expect(await one.evaluate('navigator.clipboard.readText()')).toBe(capability)
    await one.getByRole('button', { name: 'Done' }).click()

    await two.goto(`${node(1).url}/?token=${node(1).token}`)
    await two.getByRole('button', { name: 'Fetch by capability' }).click()
    await two.getByPlaceholder('cas1:…').fill(capability)
    await two.getByRole('button', { name: 'Look up' }).click()
    await two.getByText(sha(big)).waitFor()
    await shot(two, 'fetch')
    await two.getByLabel('Save as').fill('from-node-2.bin')
    const [download] = await Promise.all([two.waitForEvent('download'), two.getByRole('link', { name: 'Download' }).click()])
    expect(download.suggestedFilename()).toBe('from-node-2.bin')
    const bytes = await readFile((await download.path()))
    expect(bytes.length).toBe(big.length)
    expect(sha(bytes)).toBe(sha(big))
    await two.keyboard.press('Escape')
  })

  it('downloads a file from the list', async () => {
    const [download] = await Promise.all([one.waitForEvent('download'), row(one, HOSTILE).getByRole('link', { name: `Download ${HOSTILE}` }).click()])
    expect(download.suggestedFilename()).toBe(HOSTILE.replace(/[<>]/g, '_').replace(/^_/, '_'))
    expect((await readFile(await download.path())).toString()).toBe('hello from a drop')
  })

  it('lists the other nodes on the network page and shows where a file lives', async () => {
    await one.goto(`${node(0).url}/#/network`)
    await one.getByRole('heading', { name: 'Network' }).waitFor()
    await one.locator(`tr[data-peer="${node(1).id}"]`).waitFor()
    await expect.poll(() => one.locator('.peers-table tbody tr').count()).toBe(nodes.length - 1)
    await shot(one, 'network')
    await one.setViewportSize({ width: 1360, height: 1400 })
    await one.goto(`${node(0).url}/#/network/${address}`)
    await one.locator('.placement-grid tbody tr').first().waitFor()
    expect(await one.locator('.placement-grid tbody tr').count()).toBeGreaterThan(1)
    await one.locator('.placement-card').scrollIntoViewIfNeeded()
    await shot(one, 'placement')
    await one.setViewportSize({ width: 1360, height: 860 })
  })

  it('deletes one name of content stored under two, and keeps the content under the other', async () => {
    const auth = { authorization: `Bearer ${node(0).token}` }
    const put = await fetch(`${node(0).url}/v1/files?name=${encodeURIComponent('dataset copy.bin')}`, { method: 'POST', headers: auth, body: big })
    expect(((await put.json()) as { address: string }).address).toBe(address)
    await one.goto(`${node(0).url}/#/files`)
    await row(one, 'dataset copy.bin').getByRole('button', { name: 'Delete dataset copy.bin' }).click()
    const dialog = one.getByRole('dialog', { name: 'Delete file?' })
    await dialog.getByText('stays stored under').waitFor()
    expect(await dialog.textContent()).toContain('dataset.bin')
    await dialog.getByRole('button', { name: 'Delete' }).click()
    await expect.poll(() => row(one, 'dataset copy.bin').count()).toBe(0)
    expect(await row(one, 'dataset.bin').count()).toBe(1)
    const list = (await (await fetch(`${node(0).url}/v1/files`, { headers: auth })).json()) as { name: string; address: string }[]
    expect(list.filter((f) => f.address === address).map((f) => f.name)).toEqual(['dataset.bin'])
  })

  it('deletes a file after confirmation', async () => {
    await one.goto(`${node(0).url}/#/files`)
    await row(one, 'dataset.bin').getByRole('button', { name: 'Delete dataset.bin' }).click()
    const dialog = one.getByRole('dialog', { name: 'Delete file?' })
    await dialog.waitFor()
    await shot(one, 'delete')
    await dialog.getByRole('button', { name: 'Cancel' }).click()
    expect(await row(one, 'dataset.bin').count()).toBe(1)
    await row(one, 'dataset.bin').getByRole('button', { name: 'Delete dataset.bin' }).click()
    await dialog.getByRole('button', { name: 'Delete' }).click()
    await expect.poll(() => row(one, 'dataset.bin').count()).toBe(0)
    const response = await fetch(`${node(0).url}/v1/files`, { headers: { authorization: `Bearer ${node(0).token}` } })
    const list = (await response.json()) as { address: string }[]
    expect(list.map((f) => f.address)).not.toContain(address)
  })

  it('fits a phone screen', async () => {
    await one.setViewportSize({ width: 390, height: 844 })
    await one.goto(`${node(0).url}/#/files`)
    await row(one, HOSTILE).waitFor()
    await shot(one, 'files-mobile')
    await one.goto(`${node(0).url}/#/network`)
    await one.locator(`tr[data-peer="${node(1).id}"]`).waitFor()
    await shot(one, 'network-mobile')
    await one.setViewportSize({ width: 1360, height: 860 })
  })

  it('follows a dark system theme', async () => {
    await one.emulateMedia({ colorScheme: 'dark' })
    await one.goto(`${node(0).url}/#/files`)
    await row(one, HOSTILE).waitFor()
    expect(await one.evaluate('getComputedStyle(document.body).backgroundColor')).toBe('rgb(11, 16, 32)')
    await shot(one, 'files-dark')
    await one.emulateMedia({ colorScheme: 'light' })
  })
})
