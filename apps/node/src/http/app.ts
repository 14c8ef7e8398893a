import fastifyStatic from '@fastify/static'
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import { HTTP_HEADERS_TIMEOUT_MS, HTTP_IDLE_TIMEOUT_MS, HTTP_MAX_CONNECTIONS, MAX_JSON_BODY_BYTES, MAX_REF_LENGTH } from '../constants.js'
import type { NodeLike } from '../node-like.js'
import { VERSION } from '../version.js'
import { TokenCheck, presentedToken } from './auth.js'
import { registerFileRoutes } from './files.js'
import { answerFrameworkError, clientErrorHandler } from './framework-errors.js'
import { errorBody, toHttpError } from './http-errors.js'
import { answerWrongMethods } from './method-not-allowed.js'
import { createMetrics, type ApiMetrics } from './metrics.js'
import { Transfers } from './transfers.js'

/** Options of {@link buildHttpApi}. */
export interface HttpApiOptions {
  node: NodeLike
  /** Bearer token every `/v1` and `/metrics` request must present. */
  token: string
  logger: Logger
  /** Replication target, reported by `/v1/status`. */
  replicas: number
  /** Largest upload accepted (413 beyond). */
  maxUploadBytes: number
  /** Folder of the built web UI, served at `/`; none when undefined. */
  webRoot?: string | undefined
  /** Register Node.js process metrics (off when several daemons share a process). */
  processMetrics?: boolean
}

/** The HTTP API and what the daemon needs to shut it down gracefully. */
export interface HttpApi {
  app: FastifyInstance
  transfers: Transfers
  metrics: ApiMetrics
}

/** Routes anyone may read: the web UI's static files and the plain page shown when it is not built. */
const PUBLIC_ROUTES = new Set(['/', '/*'])

/**
 * Whether a request needs the bearer token. Decided on the route the router matched, never on the
 * raw URL alone: the router decodes percent-escapes, so `/%761/files` reaches `/v1/files`. Any
 * route but the static files is protected, and so is any URL that names the API, matched or not.
 */
function isProtected(routeUrl: string | undefined, url: string): boolean {
  if (routeUrl === undefined || !PUBLIC_ROUTES.has(routeUrl)) return true
  const path = decodeURIComponentSafe(url.split('?')[0] ?? '')
  return path === '/v1' || path.startsWith('/v1/') || path.startsWith('/metrics')
}

function decodeURIComponentSafe(path: string): string {
  try {
    return decodeURIComponent(path)
  } catch {
    return path
  }
}

/**
 * Builds the daemon's HTTP API (DESIGN §6) on Fastify. Uploads and downloads are streams end to end:
 * no body is ever buffered, whatever its size.
 */
export async function buildHttpApi(options: HttpApiOptions): Promise<HttpApi> {
  const { node } = options
  // Typed as Fastify's logger interface so the instance keeps Fastify's default generics.
  const loggerInstance: FastifyBaseLogger = options.logger
  const app = Fastify({
    loggerInstance,
    // Requests are logged by our onResponse hook, without the query string (it may hold the token).
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: MAX_JSON_BODY_BYTES,
    routerOptions: { maxParamLength: MAX_REF_LENGTH },
    connectionTimeout: HTTP_IDLE_TIMEOUT_MS,
    // A 5 GiB transfer takes as long as it takes; idle connections are cut by connectionTimeout.
    requestTimeout: 0,
    // HEAD of every GET route, as HTTP asks; a route with a cheaper HEAD of its own opts out.
    exposeHeadRoutes: true,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    frameworkErrors: answerFrameworkError,
    clientErrorHandler: clientErrorHandler(loggerInstance),
  })
  app.server.headersTimeout = HTTP_HEADERS_TIMEOUT_MS
  app.server.maxConnections = HTTP_MAX_CONNECTIONS

  const tokens = new TokenCheck(options.token)
  const transfers = new Transfers()
  const metrics = createMetrics(node, { defaultMetrics: options.processMetrics ?? true })

  // Uploads are raw bytes of any type: never let Fastify read them into memory.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', (_request, _payload, done) => done(null))

  app.addHook('onRequest', async (request, reply) => {
    if (!isProtected(request.routeOptions.url, request.url)) return
    if (!tokens.matches(presentedToken(request.headers.authorization, request.query))) {
      reply.header('www-authenticate', 'Bearer realm="cas"')
      return reply.code(401).send(errorBody('UNAUTHORIZED', 'missing or wrong API token (see <root>/api.token)'))
    }
  })

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched'
    metrics.observeRequest(request.method, route, reply.statusCode, reply.elapsedTime / 1000)
    request.log.debug({ method: request.method, route, status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request')
  })

  app.setErrorHandler(async (err, request, reply) => {
    const { status, code, message } = toHttpError(err)
    if (status >= 500 && status !== 503 && status !== 507) request.log.error({ err, route: request.routeOptions.url }, message)
    else request.log.debug({ code, route: request.routeOptions.url }, message)
    if (reply.raw.headersSent) {
      // The body was already under way: the only honest signal left is a cut connection.
      reply.raw.destroy(err instanceof Error ? err : undefined)
      return
    }
    // 499 is not an HTTP status; nobody is listening any more anyway.
    return reply
      .code(status === 499 ? 400 : status)
      .type('application/json')
      .send(errorBody(code, message))
  })

  app.setNotFoundHandler(async (request, reply) =>
    reply.code(404).type('application/json').send(errorBody('NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0] ?? ''}`)),
  )

  const registerWrongMethods = answerWrongMethods(app)
  registerFileRoutes(app, { node, metrics, transfers, maxUploadBytes: options.maxUploadBytes })

  app.get('/v1/peers', () => Promise.resolve(node.peers()))
  app.get('/v1/status', async () => ({ ...(await node.status()), replicas: options.replicas, version: VERSION }))
  app.get('/metrics', async (_request, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()))

  if (options.webRoot !== undefined) {
    await app.register(fastifyStatic, { root: options.webRoot, prefix: '/', index: 'index.html', cacheControl: true, maxAge: 0 })
  } else {
    app.get('/', async (_request, reply) =>
      reply.type('text/plain').send(`cas ${VERSION}: the HTTP API is under /v1 (the web UI is not built: pnpm --filter @cas/node build)\n`),
    )
  }
  registerWrongMethods()
  return { app, transfers, metrics }
}
