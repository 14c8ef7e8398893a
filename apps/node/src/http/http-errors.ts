import { CasError, errorCode, errorMessage } from '../errors.js'

/** An error as the API sends it: status, stable code and a one-line message. */
export interface HttpError {
  status: number
  code: string
  message: string
}

// Codes of @cas/server, @cas/store and @cas/p2p errors, and ours, mapped to HTTP statuses.
const STATUS_BY_CODE: Record<string, number> = {
  BAD_REQUEST: 400,
  INVALID_REF: 400,
  INVALID_ID: 400,
  INVALID_NAME: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  PAYLOAD_TOO_LARGE: 413,
  RANGE_NOT_SATISFIABLE: 416,
  ABORTED: 499,
  CORRUPT: 502,
  REMOTE: 502,
  UNAVAILABLE: 503,
  CLOSED: 503,
  BUSY: 503,
  TIMEOUT: 504,
  FULL: 507,
}

// Statuses of Fastify's own errors (malformed requests and the like), mapped to our codes.
const CODE_BY_STATUS: Record<number, string> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  408: 'TIMEOUT',
  413: 'PAYLOAD_TOO_LARGE',
  414: 'URI_TOO_LONG',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  416: 'RANGE_NOT_SATISFIABLE',
  431: 'HEADERS_TOO_LARGE',
  503: 'UNAVAILABLE',
}

/** Turns anything thrown while serving a request into the API's error shape. */
export function toHttpError(err: unknown): HttpError {
  const code = errorCode(err)
  if (code !== undefined && STATUS_BY_CODE[code] !== undefined) {
    return { status: STATUS_BY_CODE[code], code, message: oneLine(errorMessage(err)) }
  }
  // Fastify's errors carry a statusCode and an FST_* code.
  const statusCode = (err as { statusCode?: unknown } | null)?.statusCode
  if (!(err instanceof CasError) && typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
    return { status: statusCode, code: codeOfStatus(statusCode), message: oneLine(errorMessage(err)) }
  }
  return { status: 500, code: 'INTERNAL', message: oneLine(errorMessage(err)) }
}

/** The API's code for a 4xx status that Fastify or Node's HTTP parser chose. */
export function codeOfStatus(status: number): string {
  return CODE_BY_STATUS[status] ?? 'BAD_REQUEST'
}

/** The body of an error response. */
export function errorBody(code: string, message: string): { error: { code: string; message: string } } {
  return { error: { code, message } }
}

function oneLine(text: string): string {
  return text.split('\n')[0] ?? ''
}
