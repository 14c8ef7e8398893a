import type { BlobPlacement, FileEntry, NodeStatus, PeerInfo, PutResult, RemoteFileInfo } from './types'

/** Error of a call to the daemon, with the API's stable `code` (or a local one: NETWORK, ABORTED, BAD_REPLY). */
export class ApiError extends Error {
  override readonly name = 'ApiError'
  constructor(
    readonly code: string,
    message: string,
    readonly status = 0,
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }

  /** True when the daemon refused the token. */
  get unauthorized(): boolean {
    return this.status === 401 || this.status === 403
  }
}

/** Progress of one upload. */
export interface UploadProgress {
  loaded: number
  total: number
}

/** A running upload: its result and a way to cancel it. */
export interface UploadHandle {
  done: Promise<PutResult>
  abort(): void
}

function fileUrl(ref: string): string {
  return `/v1/files/${encodeURIComponent(ref)}`
}

async function errorFrom(response: Response): Promise<ApiError> {
  let code = `HTTP_${response.status}`
  let message = response.statusText || `HTTP ${response.status}`
  try {
    const body = (await response.json()) as { error?: { code?: unknown; message?: unknown } }
    if (typeof body.error?.code === 'string') code = body.error.code
    if (typeof body.error?.message === 'string') message = body.error.message
  } catch {
    // not a JSON error body: keep the status line
  }
  return new ApiError(code, message, response.status)
}

function parseXhrError(xhr: XMLHttpRequest): ApiError {
  try {
    const body = JSON.parse(xhr.responseText) as { error?: { code?: string; message?: string } }
    if (body.error?.code !== undefined) {
      return new ApiError(body.error.code, body.error.message ?? body.error.code, xhr.status)
    }
  } catch {
    // fall through
  }
  return new ApiError(`HTTP_${xhr.status}`, xhr.statusText || `HTTP ${xhr.status}`, xhr.status)
}

/** The daemon's HTTP API as seen from the page; every call carries the bearer token. */
export class Api {
  constructor(
    readonly token: string,
    readonly base = '',
  ) {}

  private async call(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers)
    headers.set('Authorization', `Bearer ${this.token}`)
    let response: Response
    try {
      response = await fetch(this.base + path, { ...init, headers, cache: 'no-store' })
    } catch (err) {
      if (err instanceof DOMException && err.name === 'AbortError') throw new ApiError('ABORTED', 'Cancelled', 0, { cause: err })
      throw new ApiError('NETWORK', 'Cannot reach the node', 0, { cause: err })
    }
    if (!response.ok) throw await errorFrom(response)
    return response
  }

  private async json<T>(path: string, init?: RequestInit): Promise<T> {
    const response = await this.call(path, init)
    try {
      return (await response.json()) as T
    } catch (err) {
      throw new ApiError('BAD_REPLY', 'The node sent an unreadable reply', response.status, { cause: err })
    }
  }

  /** `GET /v1/status`. */
  status(signal?: AbortSignal): Promise<NodeStatus> {
    return this.json('/v1/status', { signal })
  }

  /** `GET /v1/files`. */
  async files(signal?: AbortSignal): Promise<FileEntry[]> {
    // A file put without a name (from stdin) has `name: null`; the pages show it as "unnamed".
    const entries = await this.json<(Omit<FileEntry, 'name'> & { name: string | null })[]>('/v1/files', { signal })
    return entries.map((entry) => ({ ...entry, name: entry.name ?? '' }))
  }

  /** `GET /v1/peers`. */
  peers(signal?: AbortSignal): Promise<PeerInfo[]> {
    return this.json('/v1/peers', { signal })
  }

  /** `GET /v1/files/:ref/placement`. */
  placement(ref: string, signal?: AbortSignal): Promise<BlobPlacement[]> {
    return this.json(`${fileUrl(ref)}/placement`, { signal })
  }

  /** `GET /v1/files/:ref/share` → the file's `cas1:` capability. */
  async share(ref: string): Promise<string> {
    const response = await this.call(`${fileUrl(ref)}/share`)
    const type = response.headers.get('content-type') ?? ''
    const capability = type.includes('json')
      ? ((await response.json()) as { capability?: unknown }).capability
      : (await response.text()).trim()
    if (typeof capability !== 'string' || capability === '') {
      throw new ApiError('BAD_REPLY', 'The node sent no capability', response.status)
    }
    return capability
  }

  /** `DELETE /v1/files/:ref`. */
  async remove(ref: string): Promise<void> {
    await this.call(fileUrl(ref), { method: 'DELETE' })
  }

  /** `HEAD /v1/files/:ref`: whether the network can serve the file, its size and plaintext SHA-256. */
  async head(ref: string, signal?: AbortSignal): Promise<RemoteFileInfo> {
    const response = await this.call(fileUrl(ref), { method: 'HEAD', signal })
    const size = Number(response.headers.get('content-length') ?? Number.NaN)
    const sha256 = (response.headers.get('etag') ?? '').replace(/^W\//, '').replace(/"/g, '')
    const name = filenameFrom(response.headers.get('content-disposition'))
    return { size, sha256, ...(name === undefined ? {} : { name }) }
  }

  /**
   * A plain link that downloads the file. The token rides in the query (the API accepts it there)
   * because a browser download cannot carry an Authorization header, and streaming a multi-GB file
   * through the page's memory instead is not an option. Without `attachment` the daemon sends no
   * Content-Disposition, so the link's own `download` name is the one the browser uses.
   */
  downloadUrl(ref: string, attachment = true): string {
    const query = new URLSearchParams(attachment ? { download: '1', token: this.token } : { token: this.token })
    return `${this.base}${fileUrl(ref)}?${query.toString()}`
  }

  /**
   * `POST /v1/files?name=` with the File itself as the raw body: the browser streams it from disk,
   * so any size works, and XMLHttpRequest reports upload progress (fetch cannot, yet).
   */
  upload(file: Blob, name: string, onProgress: (progress: UploadProgress) => void): UploadHandle {
    const xhr = new XMLHttpRequest()
    const done = new Promise<PutResult>((resolve, reject) => {
      xhr.open('POST', `${this.base}/v1/files?${new URLSearchParams({ name }).toString()}`)
      xhr.setRequestHeader('Authorization', `Bearer ${this.token}`)
      xhr.setRequestHeader('Content-Type', 'application/octet-stream')
      xhr.upload.onprogress = (event) => onProgress({ loaded: event.loaded, total: event.lengthComputable ? event.total : file.size })
      xhr.onload = () => {
        if (xhr.status < 200 || xhr.status >= 300) return reject(parseXhrError(xhr))
        try {
          resolve(JSON.parse(xhr.responseText) as PutResult)
        } catch (err) {
          reject(new ApiError('BAD_REPLY', 'The node sent an unreadable reply', xhr.status, { cause: err }))
        }
      }
      xhr.onerror = () => reject(new ApiError('NETWORK', 'The upload was interrupted', 0))
      xhr.onabort = () => reject(new ApiError('ABORTED', 'Cancelled', 0))
      xhr.send(file)
    })
    return { done, abort: () => xhr.abort() }
  }
}

/** A sentence for any thrown value. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message
  return typeof err === 'string' ? err : 'Unexpected error'
}

/** The filename of a Content-Disposition header, if any (RFC 6266: filename* wins). */
export function filenameFrom(header: string | null): string | undefined {
  if (header === null) return undefined
  const extended = /filename\*\s*=\s*UTF-8''([^;]+)/i.exec(header)
  if (extended?.[1] !== undefined) {
    try {
      return decodeURIComponent(extended[1])
    } catch {
      // malformed: try the plain form
    }
  }
  const plain = /filename\s*=\s*"((?:[^"\\]|\\.)*)"|filename\s*=\s*([^;]+)/i.exec(header)
  return plain?.[1]?.replace(/\\(.)/g, '$1') ?? plain?.[2]?.trim()
}
