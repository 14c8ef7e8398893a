import contentDisposition from 'content-disposition'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { pipeline } from 'node:stream'
import { MAX_NAME_BYTES } from '../constants.js'
import { CasError, errorCode } from '../errors.js'
import type { FileInfo, NodeLike } from '../node-like.js'
import { ByteMeter } from './byte-meter.js'
import { errorBody } from './http-errors.js'
import type { ApiMetrics } from './metrics.js'
import { parseRange } from './range.js'
import type { Transfers } from './transfers.js'

/** What the file routes need. */
export interface FileRoutesOptions {
  node: NodeLike
  metrics: ApiMetrics
  transfers: Transfers
  maxUploadBytes: number
}

type RefRequest = FastifyRequest<{ Params: { ref: string }; Querystring: Record<string, unknown> }>

/** `/v1/files` routes (DESIGN §6): streamed upload and download, Range, HEAD, ETag, list, delete, share, placement. */
export function registerFileRoutes(app: FastifyInstance, options: FileRoutesOptions): void {
  const { node, metrics, transfers, maxUploadBytes } = options

  app.post<{ Querystring: Record<string, unknown> }>('/v1/files', async (request, reply) => {
    const name = uploadName(request.query.name)
    const declared = Number(request.headers['content-length'])
    if (Number.isFinite(declared) && declared > maxUploadBytes) {
      throw new CasError('PAYLOAD_TOO_LARGE', `upload of ${declared} bytes exceeds the limit of ${maxUploadBytes} bytes`)
    }
    const transfer = transfers.begin()
    const meter = new ByteMeter(maxUploadBytes, (bytes) => metrics.uploaded(bytes))
    const raw = request.raw
    const abort = (reason: CasError): void => {
      transfer.abort(reason)
      meter.destroy(reason)
    }
    const clientGone = (): void => abort(new CasError('ABORTED', 'the client closed the upload'))
    raw.once('aborted', clientGone)
    raw.once('error', clientGone)
    transfer.signal.addEventListener('abort', () => meter.destroy(transfer.signal.reason as Error), { once: true })
    // pipe(), not pipeline(): if the node stops reading early (an error), the request must stay open
    // so the error response can still be sent; Node drains the rest of the body after it.
    raw.pipe(meter)
    try {
      const result = await node.put(meter, { ...(name === undefined ? {} : { name }), signal: transfer.signal })
      // `name` is always present (null for an unnamed upload): DESIGN §6 fields keep their names.
      return await reply
        .code(201)
        .header('location', `/v1/files/${result.address}`)
        .send({ name: null, ...result })
    } catch (err) {
      // Report why the upload stopped (limit, shutdown) rather than how the node noticed.
      throw meter.limitError ?? (transfer.signal.aborted ? (transfer.signal.reason as Error) : err)
    } finally {
      raw.off('aborted', clientGone)
      raw.off('error', clientGone)
      transfer.end()
    }
  })

  app.get('/v1/files', async () => (await node.list()).map((entry) => ({ name: null, ...entry })))

  // Its HEAD, below, answers from stat() alone instead of opening a download and dropping it.
  app.get('/v1/files/:ref', { exposeHeadRoute: false }, async (request: RefRequest, reply) => {
    const { ref } = request.params
    const info = await node.stat(ref)
    setFileHeaders(reply, info, request.query.download)
    if (notModified(request, info)) return reply.code(304).send()

    const wanted = rangeApplies(request, info) ? parseRange(request.headers.range, info.size) : { kind: 'full' as const }
    if (wanted.kind === 'unsatisfiable') {
      reply.header('content-range', `bytes */${info.size}`)
      return reply
        .code(416)
        .type('application/json')
        .send(errorBody('RANGE_NOT_SATISFIABLE', `range ${request.headers.range ?? ''} is outside the file's ${info.size} bytes`))
    }

    const transfer = transfers.begin()
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) transfer.abort(new CasError('ABORTED', 'the client closed the download'))
      transfer.end()
    })
    try {
      const range = wanted.kind === 'partial' ? wanted.range : undefined
      const { stream } = await node.get(ref, { ...(range === undefined ? {} : { range }), signal: transfer.signal })
      const meter = new ByteMeter(Number.MAX_SAFE_INTEGER, (bytes) => metrics.downloaded(bytes))
      // pipeline() so that a client going away (Fastify destroys the meter) also stops the node's stream.
      pipeline(stream, meter, (err) => {
        // The status line is long gone: the client sees the body end early, and this log says why.
        if (err && !transfer.signal.aborted) request.log.warn({ err, ref, code: errorCode(err) }, 'download stopped before the end of the file')
      })
      if (range === undefined) {
        reply.code(200).header('content-length', info.size)
      } else {
        reply
          .code(206)
          .header('content-range', `bytes ${range.start}-${range.end}/${info.size}`)
          .header('content-length', range.end - range.start + 1)
      }
      return await reply.send(meter)
    } catch (err) {
      transfer.end()
      throw err
    }
  })

  app.head('/v1/files/:ref', async (request: RefRequest, reply) => {
    const info = await node.stat(request.params.ref)
    setFileHeaders(reply, info, request.query.download)
    if (notModified(request, info)) return reply.code(304).send()
    const wanted = rangeApplies(request, info) ? parseRange(request.headers.range, info.size) : { kind: 'full' as const }
    if (wanted.kind === 'unsatisfiable') return reply.code(416).header('content-range', `bytes */${info.size}`).send()
    if (wanted.kind === 'partial') {
      const { start, end } = wanted.range
      return reply
        .code(206)
        .header('content-range', `bytes ${start}-${end}/${info.size}`)
        .header('content-length', end - start + 1)
        .send()
    }
    return reply.code(200).header('content-length', info.size).send()
  })

  app.delete('/v1/files/:ref', async (request: RefRequest, reply) => {
    await node.delete(request.params.ref)
    return reply.code(204).send()
  })

  app.get('/v1/files/:ref/share', async (request: RefRequest) => ({ capability: await node.share(request.params.ref) }))

  app.get('/v1/files/:ref/placement', async (request: RefRequest) => node.placement(request.params.ref))
}

/** Validates the `name` of an upload: optional, one value, printable, not mistakable for a ref. */
function uploadName(value: unknown): string | undefined {
  if (value === undefined || value === '') return undefined
  if (typeof value !== 'string') throw new CasError('INVALID_NAME', 'name: give one name')
  if (Buffer.byteLength(value) > MAX_NAME_BYTES) throw new CasError('INVALID_NAME', `name: longer than ${MAX_NAME_BYTES} bytes`)
  // A name nobody can tell from no name in a list, nor type back: refused, not trimmed.
  if (value.trim() === '') throw new CasError('INVALID_NAME', 'name: only white space; give a name, or none')
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value)) throw new CasError('INVALID_NAME', 'name: contains control characters')
  if (/^[0-9a-f]{64}$/i.test(value) || value.startsWith('cas1:')) {
    throw new CasError('INVALID_NAME', 'name: looks like an address or a capability; choose another name')
  }
  return value
}

function etag(info: FileInfo): string {
  return `"${info.sha256}"`
}

function setFileHeaders(reply: FastifyReply, info: FileInfo, download: unknown): void {
  reply
    .header('etag', etag(info))
    .header('accept-ranges', 'bytes')
    .header('cache-control', 'private, no-cache')
    .header('content-type', 'application/octet-stream')
    .header('x-cas-address', info.address)
  if (download !== undefined && download !== '0' && download !== 'false') {
    reply.header('content-disposition', contentDisposition(info.name ?? info.address))
  } else if (info.name !== undefined) {
    reply.header('content-disposition', contentDisposition(info.name, { type: 'inline' }))
  }
}

/** `If-None-Match` naming this file's ETag (or `*`): the client already has these bytes. */
function notModified(request: FastifyRequest, info: FileInfo): boolean {
  const header = request.headers['if-none-match']
  if (header === undefined) return false
  const tags = header.split(',').map((tag) => tag.trim().replace(/^W\//, ''))
  return tags.includes('*') || tags.includes(etag(info))
}

/** A Range is honoured unless `If-Range` names another version of the file. */
function rangeApplies(request: FastifyRequest, info: FileInfo): boolean {
  const ifRange = request.headers['if-range']
  return ifRange === undefined || String(ifRange).trim() === etag(info)
}
