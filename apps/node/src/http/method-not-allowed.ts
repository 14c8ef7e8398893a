import type { FastifyInstance } from 'fastify'
import { errorBody } from './http-errors.js'

/**
 * Makes a known path asked with a method it does not serve answer 405 with `Allow` (RFC 9110
 * §15.5.6), instead of the 404 the router gives any method it has no route for: `DELETE /v1/status`
 * is a wrong method, not a missing page. Call it before the routes are registered, and the function
 * it returns once they all are; it then registers, for each path, a route of every other method.
 *
 * These are real routes, so a wrong method on the API still needs the token, like a right one.
 * Wildcard paths (the web UI's static files) are left out: an unknown file stays a 404.
 */
export function answerWrongMethods(app: FastifyInstance): () => void {
  const allowedByPath = new Map<string, Set<string>>()
  let collecting = true
  app.addHook('onRoute', (route) => {
    if (!collecting || route.url.includes('*')) return
    const allowed = allowedByPath.get(route.url) ?? new Set<string>()
    for (const method of [route.method].flat()) allowed.add(method)
    allowedByPath.set(route.url, allowed)
  })

  return () => {
    collecting = false // the 405 routes below are not methods a path serves
    for (const [url, allowed] of allowedByPath) {
      const allow = [...allowed].sort().join(', ')
      const others = app.supportedMethods.filter((method) => !allowed.has(method))
      if (others.length === 0) continue
      app.route({
        method: others,
        url,
        handler: async (request, reply) =>
          reply
            .code(405)
            .header('allow', allow)
            .type('application/json')
            .send(errorBody('METHOD_NOT_ALLOWED', `${request.method} is not allowed on ${url}; allowed: ${allow}`)),
      })
    }
  }
}
