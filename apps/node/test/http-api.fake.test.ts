import { createHash, randomBytes } from 'node:crypto'
import { request as httpRequest } from 'node:http'
import { connect } from 'node:net'
import { pino } from 'pino'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { buildHttpApi, type HttpApi } from '../src/http/app.js'
import { createLogger } from '../src/logger.js'
import { FakeNode } from './support/fake-node.js'

const TOKEN = 'a'.repeat(64)
const auth = { authorization: `Bearer ${TOKEN}` }

let node: FakeNode
let api: HttpApi
let base: string

async function start(options: { maxUploadBytes?: number; logLines?: string[] } = {}): Promise<void> {
  node = new FakeNode()
  const lines = options.logLines
  api = await buildHttpApi({
    node,
    token: TOKEN,
    logger: lines === undefined ? createLogger({ level: 'silent', pretty: false }) : pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) }),
    replicas: 3,
    maxUploadBytes: options.maxUploadBytes ?? Number.MAX_SAFE_INTEGER,
    processMetrics: false,
  })
  base = await api.app.listen({ host: '127.0.0.1', port: 0 })
}

async function upload(body: Buffer, name?: string): Promise<Response> {
  const query = name === undefined ? '' : `?name=${encodeURIComponent(name)}`
  return fetch(`${base}/v1/files${query}`, { method: 'POST', headers: auth, body })
}

/** Sends `text` as is on a new connection and resolves with all the server wrote back. */
async function rawRequest(text: string): Promise<string> {
  const { hostname, port } = new URL(base)
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.end(text))
    let answer = ''
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => (answer += chunk))
    socket.on('close', () => resolve(answer))
    socket.on('error', reject)
  })
}

/** The status and JSON body of a raw HTTP/1.1 response. */
function parseRaw(answer: string): { status: number; body: unknown } {
  const [head = '', body = ''] = answer.split('\r\n\r\n')
  return { status: Number(head.split(' ')[1]), body: JSON.parse(body) }
}

const apiError = (code: string): unknown => ({ error: { code, message: expect.any(String) } })

describe('HTTP API edge cases (in-memory node)', () => {
  beforeEach(async () => start())
  afterEach(async () => api.app.close())

  test('JSON-typed uploads are stored as raw bytes, not parsed', async () => {
    const body = Buffer.from('{"not": "parsed"}')
    const res = await fetch(`${base}/v1/files?name=x.json`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body })
    expect(res.status).toBe(201)
    const put = (await res.json()) as { address: string; sha256: string }
    expect(put.sha256).toBe(createHash('sha256').update(body).digest('hex'))
    const back = await fetch(`${base}/v1/files/x.json`, { headers: auth })
    expect(Buffer.from(await back.arrayBuffer())).toEqual(body)
  })

  test('an upload with no content type and an empty body stores an empty file', async () => {
    const res = await fetch(`${base}/v1/files?name=empty`, { method: 'POST', headers: auth })
    expect(res.status).toBe(201)
    expect(((await res.json()) as { size: number }).size).toBe(0)
    const head = await fetch(`${base}/v1/files/empty`, { method: 'HEAD', headers: auth })
    expect(head.headers.get('content-length')).toBe('0')
    const range = await fetch(`${base}/v1/files/empty`, { headers: { ...auth, range: 'bytes=0-' } })
    expect(range.status).toBe(416)
  })

  test('a full node answers 507 FULL', async () => {
    node.capacity = 1000
    const res = await upload(randomBytes(5000), 'big')
    expect(res.status).toBe(507)
    expect(await res.json()).toEqual({ error: { code: 'FULL', message: expect.any(String) } })
  })

  test('the token also works as ?token=, and a wrong one is refused', async () => {
    await upload(Buffer.from('hello'), 'hello.txt')
    const ok = await fetch(`${base}/v1/files/hello.txt?download=1&token=${TOKEN}`)
    expect(ok.status).toBe(200)
    expect(ok.headers.get('content-disposition')).toBe('attachment; filename="hello.txt"')
    const wrong = await fetch(`${base}/v1/files`, { headers: { authorization: 'Bearer nope' } })
    expect(wrong.status).toBe(401)
    expect(wrong.headers.get('www-authenticate')).toContain('Bearer')
    expect(((await wrong.json()) as { error: { code: string } }).error.code).toBe('UNAUTHORIZED')
    const metrics = await fetch(`${base}/metrics`)
    expect(metrics.status).toBe(401)
  })

  test('names that look like refs, or are only white space, are refused with 400', async () => {
    for (const name of ['f'.repeat(64), '   ', ' \t ']) {
      const res = await upload(Buffer.from('x'), name)
      expect(res.status).toBe(400)
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('INVALID_NAME')
    }
  })

  test('If-None-Match gives 304; If-Range with another ETag gives the full body', async () => {
    const body = randomBytes(3000)
    await upload(body, 'f')
    const etag = (await fetch(`${base}/v1/files/f`, { method: 'HEAD', headers: auth })).headers.get('etag')!
    expect((await fetch(`${base}/v1/files/f`, { headers: { ...auth, 'if-none-match': etag } })).status).toBe(304)
    const other = await fetch(`${base}/v1/files/f`, { headers: { ...auth, range: 'bytes=0-9', 'if-range': '"other"' } })
    expect(other.status).toBe(200)
    expect(Buffer.from(await other.arrayBuffer())).toEqual(body)
    const suffix = await fetch(`${base}/v1/files/f`, { headers: { ...auth, range: 'bytes=-10' } })
    expect(suffix.status).toBe(206)
    expect(suffix.headers.get('content-range')).toBe('bytes 2990-2999/3000')
    expect(Buffer.from(await suffix.arrayBuffer())).toEqual(body.subarray(2990))
  })

  test('a download that fails midway cuts the connection instead of ending short, and the log says why', async () => {
    await api.app.close()
    const logLines: string[] = []
    await start({ logLines })
    await upload(randomBytes(10_000), 'f')
    node.failAfter = 3000
    await expect(fetch(`${base}/v1/files/f`, { headers: auth }).then(async (res) => res.arrayBuffer())).rejects.toThrow()
    const logged = logLines.map((line) => JSON.parse(line) as { level: number; msg: string; code?: string; ref?: string })
    expect(logged).toContainEqual(expect.objectContaining({ level: 40, msg: 'download stopped before the end of the file', code: 'UNAVAILABLE', ref: 'f' }))
  })

  test('a client that goes away mid-upload aborts the put', async () => {
    await new Promise<void>((resolve) => {
      const req = httpRequest(`${base}/v1/files?name=gone`, { method: 'POST', headers: { ...auth, 'content-length': 1_000_000 } })
      req.on('error', () => resolve())
      req.write(randomBytes(10_000), () => setTimeout(() => req.destroy(), 50))
    })
    for (let i = 0; i < 100 && !(node.signals[0]?.aborted ?? false); i++) await new Promise((r) => setTimeout(r, 20))
    expect(node.signals[0]?.aborted).toBe(true)
    expect(node.files.size).toBe(0)
    expect(api.transfers.size).toBe(0)
  })

  test('metrics count uploads and report peers by state', async () => {
    await upload(randomBytes(1234), 'm')
    const text = await (await fetch(`${base}/metrics`, { headers: auth })).text()
    expect(text).toContain('cas_http_upload_bytes_total 1234')
    expect(text).toContain('cas_node_bytes_put_total 1234')
    expect(text).toContain('cas_peers{state="alive"} 1')
    expect(text).toContain('cas_node_repair_queue 0')
    expect(text).toMatch(/cas_http_request_duration_seconds_count\{method="POST",route="\/v1\/files",status="201"\} 1/)
  })
})

describe('requests the framework refuses, and methods a path does not serve', () => {
  beforeEach(async () => start())
  afterEach(async () => api.app.close())

  test('a URL the router cannot route answers in the JSON error shape', async () => {
    const badEscape = await fetch(`${base}/v1/files/%E0%A4%A`, { headers: auth })
    expect(badEscape.status).toBe(400)
    expect(badEscape.headers.get('content-type')).toContain('application/json')
    expect(await badEscape.json()).toEqual(apiError('BAD_REQUEST'))
    const tooLong = await fetch(`${base}/v1/files/${'a'.repeat(3000)}`, { headers: auth })
    expect(tooLong.status).toBe(414)
    expect(await tooLong.json()).toEqual(apiError('URI_TOO_LONG'))
    const badType = await fetch(`${base}/v1/files?name=t`, { method: 'POST', headers: { ...auth, 'content-type': ';;' }, body: 'x' })
    expect(badType.status).toBe(415)
    expect(await badType.json()).toEqual(apiError('UNSUPPORTED_MEDIA_TYPE'))
  })

  test("what Node's HTTP parser refuses answers in the JSON error shape too", async () => {
    const bigHeaders = parseRaw(await rawRequest(`GET /v1/status HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`))
    expect(bigHeaders).toEqual({ status: 431, body: apiError('HEADERS_TOO_LARGE') })
    const notHttp = parseRaw(await rawRequest('NOT HTTP\r\n\r\n'))
    expect(notHttp).toEqual({ status: 400, body: apiError('BAD_REQUEST') })
    const badLength = parseRaw(await rawRequest('POST /v1/files HTTP/1.1\r\nHost: x\r\nContent-Length: ten\r\n\r\n'))
    expect(badLength).toEqual({ status: 400, body: apiError('BAD_REQUEST') })
  })

  test('a known path with a wrong method answers 405 with Allow; an unknown path stays 404', async () => {
    const status = await fetch(`${base}/v1/status`, { method: 'DELETE', headers: auth })
    expect(status.status).toBe(405)
    expect(status.headers.get('allow')).toBe('GET, HEAD')
    expect(await status.json()).toEqual(apiError('METHOD_NOT_ALLOWED'))
    const files = await fetch(`${base}/v1/files`, { method: 'PUT', headers: auth, body: 'x' })
    expect(files.status).toBe(405)
    expect(files.headers.get('allow')).toBe('GET, HEAD, POST')
    const file = await fetch(`${base}/v1/files/some-name`, { method: 'POST', headers: auth })
    expect(file.status).toBe(405)
    expect(file.headers.get('allow')).toBe('DELETE, GET, HEAD')
    // The token is still asked for first: a wrong method tells a stranger nothing either.
    expect((await fetch(`${base}/v1/status`, { method: 'DELETE' })).status).toBe(401)
    const unknown = await fetch(`${base}/v1/nothing`, { method: 'DELETE', headers: auth })
    expect(unknown.status).toBe(404)
    expect(await unknown.json()).toEqual(apiError('NOT_FOUND'))
  })

  test('HEAD /v1/files answers as GET does, without the body', async () => {
    await upload(Buffer.from('hello'), 'hello.txt')
    const get = await fetch(`${base}/v1/files`, { headers: auth })
    const head = await fetch(`${base}/v1/files`, { method: 'HEAD', headers: auth })
    expect(head.status).toBe(200)
    expect(head.headers.get('content-type')).toBe(get.headers.get('content-type'))
    expect(head.headers.get('content-length')).toBe(String((await get.arrayBuffer()).byteLength))
    expect(await head.text()).toBe('')
  })

  test('an upload answers 201 with Location naming the new file', async () => {
    const res = await upload(Buffer.from('located'), 'here.txt')
    expect(res.status).toBe(201)
    const put = (await res.json()) as { address: string; name: string }
    expect(put.name).toBe('here.txt')
    expect(res.headers.get('location')).toBe(`/v1/files/${put.address}`)
    const back = await fetch(new URL(res.headers.get('location')!, base), { headers: auth })
    expect(await back.text()).toBe('located')
  })
})

describe('upload limit', () => {
  afterEach(async () => api.app.close())

  test('413 when Content-Length or the streamed body exceeds maxUploadSize', async () => {
    await start({ maxUploadBytes: 1000 })
    const declared = await upload(randomBytes(2000), 'x')
    expect(declared.status).toBe(413)
    expect(((await declared.json()) as { error: { code: string } }).error.code).toBe('PAYLOAD_TOO_LARGE')
    // Chunked, no Content-Length: the limit trips while streaming.
    const chunked = await fetch(`${base}/v1/files?name=y`, {
      method: 'POST',
      headers: auth,
      body: new Blob([randomBytes(2000)]).stream(),
      duplex: 'half',
    })
    expect(chunked.status).toBe(413)
    expect(node.files.size).toBe(0)
  })
})
