import { STATUS_CODES, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { FastifyBaseLogger, FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { MAX_REF_LENGTH } from '../constants.js'
import { codeOfStatus, errorBody, toHttpError } from './http-errors.js'

// Errors raised before any route of ours runs get the API's error shape too: a client reads one
// `{"error": {code, message}}` whatever refused its request.

/** Our words for the router's errors, whose own messages repeat the whole URL, however long. */
const ROUTER_MESSAGES: Record<string, string> = {
  FST_ERR_BAD_URL: 'the URL path has a malformed percent-escape',
  FST_ERR_MAX_PARAM_LENGTH: `a segment of the URL path is longer than ${MAX_REF_LENGTH} characters`,
}

/**
 * Fastify's `frameworkErrors`: the router could not route the URL (malformed percent-encoding, a
 * parameter longer than the limit). No route matched, so the answer says nothing a token protects.
 */
export function answerFrameworkError(err: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const { status, code, message } = toHttpError(err)
  const said = ROUTER_MESSAGES[err.code] ?? message
  request.log.debug({ code, fastifyCode: err.code }, said)
  void reply.code(status).type('application/json').send(errorBody(code, said))
}

/** What the API answers to Node's HTTP parser errors, by the code the `clientError` event gives. */
const PARSER_ERRORS: Record<string, { status: number; message: string }> = {
  HPE_HEADER_OVERFLOW: { status: 431, message: 'the request headers are too large' },
  ERR_HTTP_REQUEST_TIMEOUT: { status: 408, message: 'the request headers did not arrive in time' },
}

/**
 * Fastify's `clientErrorHandler`: Node's HTTP parser refused the bytes (headers too large, not
 * HTTP at all, a malformed Content-Length). There is no request or reply object at this level, so
 * the response is written to the socket by hand, and the connection is closed: the parser cannot
 * find where the next request would start.
 */
export function clientErrorHandler(logger: FastifyBaseLogger): (err: NodeJS.ErrnoException, socket: Socket) => void {
  return (err, socket) => {
    // A reset connection has nobody left to answer.
    if (err.code === 'ECONNRESET' || socket.destroyed) return
    const { status, message } = PARSER_ERRORS[err.code ?? ''] ?? { status: 400, message: `malformed HTTP request (${err.message})` }
    const code = codeOfStatus(status)
    logger.debug({ err, code }, message)
    // As Node does: a response already under way on this socket must not get a second status line.
    const inFlight = (socket as Socket & { _httpMessage?: ServerResponse })._httpMessage
    if (socket.writable && inFlight?.headersSent !== true) {
      const body = JSON.stringify(errorBody(code, message))
      socket.write(
        `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n` +
          `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      )
    }
    socket.destroy(err)
  }
}
