import { request as httpRequest, type IncomingMessage } from 'node:http'
import { pipeline, type Readable } from 'node:stream'
import { readApiFiles, type ApiEndpoint } from '../api-files.js'
import { CLIENT_TIMEOUT_MS } from '../constants.js'
import { CasError, errorCode } from '../errors.js'
import { ByteMeter } from '../http/byte-meter.js'
import type { CatalogEntry, NodeStatus, PeerInfo, PutResult } from '../node-like.js'
import type { RootPaths } from '../root.js'

/** `GET /v1/status`: the node's summary plus the app's fields. */
export interface StatusReply extends NodeStatus {
  replicas: number
  version: string
}

/** One entry of `GET /v1/files`: a catalog entry whose `name` is always present. */
export type ListedFile = Omit<CatalogEntry, 'name'> & { name: string | null }

/** A download under way. */
export interface Download {
  /** Bytes the body will have (Content-Length). */
  size: number
  /** Plaintext SHA-256 of the whole file (the ETag). */
  sha256: string
  /** The response body. */
  body: IncomingMessage
}

/**
 * The HTTP client the CLI uses to talk to its daemon (DESIGN §6), built on node:http so uploads
 * and downloads stream with backpressure and never sit in memory.
 */
export class ApiClient {
  readonly #endpoint: ApiEndpoint
  readonly #where: string

  /** @param where - names the daemon in error messages (its root) */
  constructor(endpoint: ApiEndpoint, where: string = endpoint.url) {
    this.#endpoint = endpoint
    this.#where = where
  }

  /** A client for the daemon running on a root (reads `<root>/api` and `<root>/api.token`). */
  static async forRoot(paths: RootPaths): Promise<ApiClient> {
    return new ApiClient(await readApiFiles(paths), paths.root)
  }

  get url(): string {
    return this.#endpoint.url
  }

  async status(): Promise<StatusReply> {
    return this.#json('GET', '/v1/status')
  }

  async peers(): Promise<PeerInfo[]> {
    return this.#json('GET', '/v1/peers')
  }

  /** `GET /v1/files`; `name` is null for a file put without one. */
  async list(): Promise<ListedFile[]> {
    return this.#json('GET', '/v1/files')
  }

  async share(ref: string): Promise<string> {
    const reply = await this.#json<{ capability: string }>('GET', `${filePath(ref)}/share`)
    return reply.capability
  }

  async remove(ref: string): Promise<void> {
    const response = await this.#send('DELETE', filePath(ref), { timeoutMs: CLIENT_TIMEOUT_MS })
    await expectOk(response, this.#where)
    response.resume()
  }

  /**
   * Streams `source` as a new file. `size` (when known) is sent as Content-Length so the daemon
   * can refuse an oversized upload at once; `onBytes` reports bytes handed to the socket.
   */
  async upload(source: Readable, options: { name?: string; size?: number; onBytes?: (bytes: number) => void } = {}): Promise<PutResult> {
    const query = options.name === undefined ? '' : `?name=${encodeURIComponent(options.name)}`
    const meter = new ByteMeter(Number.MAX_SAFE_INTEGER, options.onBytes)
    const headers: Record<string, string | number> = { 'content-type': 'application/octet-stream' }
    if (options.size !== undefined) headers['content-length'] = options.size
    try {
      const response = await this.#send('POST', `/v1/files${query}`, { headers, body: pipeline(source, meter, () => {}) })
      await expectOk(response, this.#where)
      return (await readJson(response)) as PutResult
    } finally {
      // The daemon answered (maybe early, with an error) or the connection failed: stop reading.
      source.destroy()
    }
  }

  /** Starts downloading a file; `range` asks for an inclusive byte range. */
  async download(ref: string, range?: { start: number; end?: number }): Promise<Download> {
    const headers: Record<string, string> = {}
    if (range !== undefined) headers.range = `bytes=${range.start}-${range.end ?? ''}`
    const response = await this.#send('GET', filePath(ref), { headers })
    await expectOk(response, this.#where)
    const etag = response.headers.etag ?? ''
    return { size: Number(response.headers['content-length'] ?? Number.NaN), sha256: etag.replace(/^W\//, '').replace(/"/g, ''), body: response }
  }

  async #json<T>(method: string, path: string): Promise<T> {
    const response = await this.#send(method, path, { timeoutMs: CLIENT_TIMEOUT_MS })
    await expectOk(response, this.#where)
    return (await readJson(response)) as T
  }

  #send(
    method: string,
    path: string,
    options: { headers?: Record<string, string | number>; body?: Readable; timeoutMs?: number } = {},
  ): Promise<IncomingMessage> {
    const url = new URL(path, this.#endpoint.url)
    return new Promise((resolve, reject) => {
      let answered = false
      // How far the request got when it failed: a refused connection means no daemon, a dropped one
      // a daemon that went away, and what became of an upload depends on whether all of it was sent.
      const progress = { connected: false, sent: false, upload: options.body !== undefined }
      const req = httpRequest(url, {
        method,
        headers: { ...options.headers, authorization: `Bearer ${this.#endpoint.token}` },
        ...(options.timeoutMs === undefined ? {} : { signal: AbortSignal.timeout(options.timeoutMs) }),
      })
      req.once('socket', (socket) => {
        // A kept-alive socket is connected already.
        if (socket.connecting) socket.once('connect', () => (progress.connected = true))
        else progress.connected = true
      })
      req.once('finish', () => (progress.sent = true))
      req.once('response', (response) => {
        answered = true
        resolve(response)
      })
      req.on('error', (err) => {
        if (answered) return
        reject(connectionError(err, this.#endpoint.url, this.#where, progress))
      })
      if (options.body === undefined) {
        req.end()
      } else {
        options.body.once('error', (err) => req.destroy(err))
        options.body.pipe(req)
      }
    })
  }
}

function filePath(ref: string): string {
  return `/v1/files/${encodeURIComponent(ref)}`
}

/** Codes of a connection the daemon's end closed: killed or crashed while the request was under way. */
const LOST_CONNECTION_CODES = new Set(['ECONNRESET', 'EPIPE'])

function connectionError(err: Error, url: string, where: string, progress: { connected: boolean; sent: boolean; upload: boolean }): CasError {
  const code = errorCode(err)
  if (progress.connected && code !== undefined && LOST_CONNECTION_CODES.has(code)) {
    const message = !progress.upload
      ? `the connection to the daemon at ${url} was lost before it answered (${code})`
      : progress.sent
        ? `the connection to the daemon at ${url} was lost before it confirmed the upload (${code}); \`cas ls\` shows whether the file was stored`
        : `the connection to the daemon at ${url} was lost during the upload (${code}); the file was not stored`
    return new CasError('UNAVAILABLE', message, { cause: err })
  }
  if (code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'EHOSTUNREACH' || code === 'ENOTFOUND') {
    return new CasError('DAEMON_NOT_RUNNING', `no daemon is answering at ${url} for ${where} (${code}); start one with \`cas daemon\``, {
      cause: err,
    })
  }
  if (err.name === 'TimeoutError' || err.name === 'AbortError') {
    return new CasError('UNAVAILABLE', `the daemon at ${url} did not answer in time`, { cause: err })
  }
  // A failed upload source (e.g. an unreadable file) surfaces here as the request's error.
  if (err instanceof CasError) return err
  return new CasError(code === 'ENOENT' || code === 'EISDIR' || code === 'EACCES' ? 'INPUT' : 'UNAVAILABLE', err.message, { cause: err })
}

async function readJson(response: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = []
  for await (const chunk of response) chunks.push(chunk as Buffer)
  const text = Buffer.concat(chunks).toString('utf8')
  try {
    return JSON.parse(text) as unknown
  } catch (err) {
    throw new CasError('INTERNAL', `the daemon sent a reply that is not JSON (HTTP ${response.statusCode})`, { cause: err })
  }
}

/** Throws the API's error (as a CasError with its code) unless the response is a success. */
async function expectOk(response: IncomingMessage, where: string): Promise<void> {
  const status = response.statusCode ?? 0
  if (status >= 200 && status < 300) return
  let code = `HTTP_${status}`
  let message = `HTTP ${status} ${response.statusMessage ?? ''}`.trim()
  try {
    const body = (await readJson(response)) as { error?: { code?: unknown; message?: unknown } }
    if (typeof body.error?.code === 'string') code = body.error.code
    if (typeof body.error?.message === 'string') message = body.error.message
  } catch {
    // not a JSON error: keep the status line
  }
  if (status === 401) {
    throw new CasError('UNAUTHORIZED', `the daemon for ${where} refused the API token (${message}); is api.token from the running daemon?`)
  }
  throw new CasError(code, message)
}
