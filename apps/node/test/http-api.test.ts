import { createHash, randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createCasNode } from '../src/cas-node.js'
import { startDaemon, type Daemon } from '../src/daemon.js'
import { initRoot } from '../src/init.js'
import { createLogger } from '../src/logger.js'

// Real requests against a real daemon (store, TCP host, server) in this process.

let dir: string
let daemon: Daemon
let base: string
let auth: Record<string, string>

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cas-http-'))
  const root = join(dir, 'node')
  await initRoot(root, { config: { listen: ['127.0.0.1:0'], api: '127.0.0.1:0', replicas: 1 } })
  daemon = await startDaemon({ root, createNode: createCasNode, logger: createLogger({ level: 'silent', pretty: false }), processMetrics: false })
  base = daemon.apiUrl
  auth = { authorization: `Bearer ${daemon.token}` }
  expect((await readFile(join(root, 'api'), 'utf8')).trim()).toBe(base)
})

afterAll(async () => {
  await daemon?.stop()
  await rm(dir, { recursive: true, force: true })
})

interface Put {
  address: string
  size: number
  sha256: string
  name: string
  replicas: number
}

async function upload(body: Uint8Array, name: string): Promise<Put> {
  const res = await fetch(`${base}/v1/files?name=${encodeURIComponent(name)}`, { method: 'POST', headers: auth, body })
  expect(res.status).toBe(201)
  return (await res.json()) as Put
}

describe('HTTP API on a real node', () => {
  // Not a multiple of the 1 MiB chunk size, so ranges cross chunk boundaries.
  const body = randomBytes(2 * 1024 * 1024 + 777)
  const sha256 = createHash('sha256').update(body).digest('hex')
  let put: Put

  test('POST /v1/files streams an upload → 201 with the documented fields', async () => {
    put = await upload(body, 'data bin.dat')
    expect(put).toMatchObject({ size: body.length, sha256, name: 'data bin.dat', replicas: 1 })
    expect(put.address).toMatch(/^[0-9a-f]{64}$/)
  })

  test('a streamed (chunked, no Content-Length) upload works too', async () => {
    const other = randomBytes(300_000)
    const res = await fetch(`${base}/v1/files?name=again`, {
      method: 'POST',
      headers: auth,
      body: new Blob([other]).stream(),
      duplex: 'half',
    })
    expect(res.status).toBe(201)
    expect(((await res.json()) as Put).sha256).toBe(createHash('sha256').update(other).digest('hex'))
  })

  test('an upload without a name answers and is listed with name null', async () => {
    const res = await fetch(`${base}/v1/files`, { method: 'POST', headers: auth, body: randomBytes(1000) })
    expect(res.status).toBe(201)
    const unnamed = (await res.json()) as Put
    expect(unnamed.name).toBeNull()
    const list = (await (await fetch(`${base}/v1/files`, { headers: auth })).json()) as Record<string, unknown>[]
    expect(list.find((entry) => entry.address === unnamed.address)).toMatchObject({ name: null, size: 1000 })
    expect((await fetch(`${base}/v1/files/${unnamed.address}`, { method: 'DELETE', headers: auth })).status).toBe(204)
  })

  test('GET by name, address and capability returns the bytes with ETag = sha256', async () => {
    const capability = ((await (await fetch(`${base}/v1/files/${put.address}/share`, { headers: auth })).json()) as { capability: string }).capability
    expect(capability).toMatch(new RegExp(`^cas1:${put.address}:[0-9a-f]{64}$`))
    for (const ref of ['data bin.dat', put.address, capability]) {
      const res = await fetch(`${base}/v1/files/${encodeURIComponent(ref)}`, { headers: auth })
      expect(res.status).toBe(200)
      expect(res.headers.get('etag')).toBe(`"${sha256}"`)
      expect(res.headers.get('content-length')).toBe(String(body.length))
      expect(res.headers.get('accept-ranges')).toBe('bytes')
      expect(Buffer.from(await res.arrayBuffer()).equals(body)).toBe(true)
    }
  })

  test('Range → 206 with Content-Range, across a chunk boundary; past the end → 416', async () => {
    const start = 1024 * 1024 - 100
    const end = 1024 * 1024 + 99
    const res = await fetch(`${base}/v1/files/${put.address}`, { headers: { ...auth, range: `bytes=${start}-${end}` } })
    expect(res.status).toBe(206)
    expect(res.headers.get('content-range')).toBe(`bytes ${start}-${end}/${body.length}`)
    expect(Buffer.from(await res.arrayBuffer()).equals(body.subarray(start, end + 1))).toBe(true)

    const tail = await fetch(`${base}/v1/files/${put.address}`, { headers: { ...auth, range: 'bytes=-777' } })
    expect(tail.status).toBe(206)
    expect(Buffer.from(await tail.arrayBuffer()).equals(body.subarray(body.length - 777))).toBe(true)

    const outside = await fetch(`${base}/v1/files/${put.address}`, { headers: { ...auth, range: `bytes=${body.length}-` } })
    expect(outside.status).toBe(416)
    expect(outside.headers.get('content-range')).toBe(`bytes */${body.length}`)
    expect(((await outside.json()) as { error: { code: string } }).error.code).toBe('RANGE_NOT_SATISFIABLE')
  })

  test('HEAD gives the headers and no body', async () => {
    const res = await fetch(`${base}/v1/files/${put.address}`, { method: 'HEAD', headers: auth })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-length')).toBe(String(body.length))
    expect(res.headers.get('etag')).toBe(`"${sha256}"`)
    expect(await res.text()).toBe('')
  })

  test('?download=1 with ?token= works as a plain link and names the file', async () => {
    const res = await fetch(`${base}/v1/files/${put.address}?download=1&token=${daemon.token}`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="data bin.dat"')
    await res.arrayBuffer()
  })

  test('GET /v1/files lists the catalog; status, peers and placement answer', async () => {
    const list = (await (await fetch(`${base}/v1/files`, { headers: auth })).json()) as Record<string, unknown>[]
    expect(list.map((entry) => entry.name).sort()).toEqual(['again', 'data bin.dat'])
    expect(Object.keys(list[0]!)).toEqual(expect.arrayContaining(['name', 'address', 'size', 'sha256', 'createdAt', 'replicas']))

    const status = (await (await fetch(`${base}/v1/status`, { headers: auth })).json()) as Record<string, unknown>
    expect(status).toMatchObject({ id: daemon.id, peers: 0, replicas: 1 })
    expect(status.blobs).toBeGreaterThanOrEqual(4)

    expect(await (await fetch(`${base}/v1/peers`, { headers: auth })).json()).toEqual([])
    const placement = (await (await fetch(`${base}/v1/files/${put.address}/placement`, { headers: auth })).json()) as { holders: string[] }[]
    expect(placement.length).toBeGreaterThanOrEqual(4)
    expect(placement[0]!.holders).toEqual([daemon.id])
  })

  test('/metrics is Prometheus text with bytes, blobs, peers and latency', async () => {
    const res = await fetch(`${base}/metrics`, { headers: auth })
    expect(res.headers.get('content-type')).toContain('text/plain')
    const text = await res.text()
    expect(text).toMatch(/^cas_node_bytes_put_total \d+/m)
    expect(text).toMatch(/^cas_blobs \d+/m)
    expect(text).toContain('cas_peers{state="alive"} 0')
    expect(text).toContain('cas_http_request_duration_seconds_bucket')
  })

  test('401 JSON without a token or with a wrong one', async () => {
    const attempts: Record<string, string>[] = [{}, { authorization: 'Bearer wrong' }, { authorization: `Basic ${daemon.token}` }]
    for (const headers of attempts) {
      const res = await fetch(`${base}/v1/files`, { headers })
      expect(res.status).toBe(401)
      expect(await res.json()).toEqual({ error: { code: 'UNAUTHORIZED', message: expect.any(String) } })
    }
    expect((await fetch(`${base}/v1/files?token=wrong`)).status).toBe(401)
  })

  test('percent-escaped paths that route to the API still need the token', async () => {
    // The router decodes escapes before matching: /%761/files is /v1/files.
    expect((await fetch(`${base}/%761/files`, { headers: auth })).status).toBe(200)
    for (const path of ['/%761/files', '/%761/status', '/%76%31/peers', '/%6detrics', '/v1/%66iles', '/v1/nothing']) {
      const res = await fetch(`${base}${path}`)
      expect(res.status, path).toBe(401)
    }
    const del = await fetch(`${base}/%761/files/${put.address}`, { method: 'DELETE' })
    expect(del.status).toBe(401)
    expect((await fetch(`${base}/v1/files/${put.address}`, { method: 'HEAD', headers: auth })).status).toBe(200)
  })

  test('404 JSON for an unknown file and an unknown route; 400 for a malformed capability', async () => {
    const unknown = await fetch(`${base}/v1/files/no-such-name`, { headers: auth })
    expect(unknown.status).toBe(404)
    expect(await unknown.json()).toEqual({ error: { code: 'NOT_FOUND', message: expect.any(String) } })
    const route = await fetch(`${base}/v1/nothing`, { headers: auth })
    expect(route.status).toBe(404)
    expect(((await route.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND')
    const bad = await fetch(`${base}/v1/files/cas1:zz`, { headers: auth })
    expect(bad.status).toBe(400)
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('INVALID_REF')
  })

  test('DELETE → 204, then the name is gone', async () => {
    const res = await fetch(`${base}/v1/files/again`, { method: 'DELETE', headers: auth })
    expect(res.status).toBe(204)
    expect((await fetch(`${base}/v1/files/again`, { headers: auth })).status).toBe(404)
  })

  test('the web UI is served at / without a token when built', async () => {
    const res = await fetch(`${base}/`)
    expect(res.status).toBe(200)
    // `pnpm test` builds first (turbo), so the UI is there: its page, not the plain fallback.
    const built = existsSync(new URL('../web/dist/index.html', import.meta.url))
    expect(res.headers.get('content-type')).toMatch(built ? /text\/html/ : /text\/plain/)
    if (built) expect(await res.text()).toContain('<script')
  })
})

describe('capacity', () => {
  test('a full store answers 507 FULL', async () => {
    const root = join(dir, 'small')
    await initRoot(root, { config: { listen: ['127.0.0.1:0'], api: '127.0.0.1:0', replicas: 1, capacity: '64KiB' } })
    const small = await startDaemon({ root, createNode: createCasNode, logger: createLogger({ level: 'silent', pretty: false }), processMetrics: false })
    try {
      const file = join(dir, 'big.bin')
      await writeFile(file, randomBytes(1024 * 1024))
      const res = await fetch(`${small.apiUrl}/v1/files?name=big`, { method: 'POST', headers: { authorization: `Bearer ${small.token}` }, body: await readFile(file) })
      expect(res.status).toBe(507)
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('FULL')
    } finally {
      await small.stop()
    }
  })
})
