import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import { createHash, randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { extname, join } from 'node:path'

/**
 * A small in-memory stand-in for the daemon's HTTP API (DESIGN §6 and the web additions), serving the
 * built UI at `/`. Several fake nodes share one network, so a capability made on one resolves on another.
 */

interface StoredFile {
  address: string
  sha256: string
  size: number
  key: string
  bytes: Buffer
  createdAt: string
  blobs: string[]
}

/** What the fake nodes of one test share: the files by address and every node's id. */
export class FakeNetwork {
  readonly files = new Map<string, StoredFile>()
  readonly nodes: FakeApiNode[] = []
}

/** A running fake node. */
export interface FakeApiNode {
  id: string
  url: string
  token: string
  catalog: Map<string, string>
  close(): Promise<void>
}

const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css' }
const hex = (bytes: Buffer | string): string => createHash('sha256').update(bytes).digest('hex')

/** Starts one fake node on 127.0.0.1:0 serving `webRoot`. */
export async function startFakeNode(network: FakeNetwork, webRoot: string): Promise<FakeApiNode> {
  const id = randomBytes(32).toString('hex')
  const token = randomBytes(16).toString('hex')
  const catalog = new Map<string, string>() // name → address
  const app: FastifyInstance = Fastify({ logger: false, exposeHeadRoutes: false, routerOptions: { maxParamLength: 512 } })
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 256 * 1024 * 1024 }, (_request, body, done) => done(null, body))

  const fail = (reply: FastifyReply, status: number, code: string, message: string): FastifyReply =>
    reply.code(status).send({ error: { code, message } })

  app.addHook('onRequest', async (request, reply) => {
    if (!request.url.startsWith('/v1')) return
    const query = request.query as Record<string, string | undefined>
    const presented = request.headers.authorization?.replace(/^Bearer /, '') ?? query.token
    if (presented !== token) return fail(reply, 401, 'UNAUTHORIZED', 'missing or wrong API token')
  })

  const resolve = (ref: string): StoredFile | undefined => {
    const cap = /^cas1:([0-9a-f]{64}):([0-9a-f]{64})$/.exec(ref)
    if (cap !== null) {
      const file = network.files.get(cap[1] ?? '')
      return file?.key === cap[2] ? file : undefined
    }
    const address = catalog.get(ref) ?? ([...catalog.values()].includes(ref) ? ref : undefined)
    return address === undefined ? undefined : network.files.get(address)
  }
  const nameOf = (address: string): string | undefined => [...catalog].find(([, a]) => a === address)?.[0]
  const target = 3
  const live = (): number => Math.min(target, network.nodes.length)
  type Ref = FastifyRequest<{ Params: { ref: string }; Querystring: Record<string, string | undefined> }>

  app.post<{ Querystring: { name?: string } }>('/v1/files', async (request, reply) => {
    const bytes = request.body as Buffer
    const sha256 = hex(bytes)
    const key = hex(`key:${sha256}`)
    const address = hex(`root:${sha256}`)
    const blobs = [address, ...Array.from({ length: Math.max(1, Math.ceil(bytes.length / 65_536)) }, (_, i) => hex(`${sha256}:${i}`))]
    network.files.set(address, { address, sha256, size: bytes.length, key, bytes, createdAt: new Date().toISOString(), blobs })
    const name = request.query.name ?? address
    catalog.set(name, address)
    return reply.code(201).send({ address, size: bytes.length, sha256, name, replicas: live() })
  })
  app.get('/v1/files', () =>
    [...catalog].flatMap(([name, address]) => {
      const f = network.files.get(address)
      return f === undefined ? [] : [{ name, address, size: f.size, sha256: f.sha256, createdAt: f.createdAt, replicas: live() }]
    }),
  )
  const sendFile = (request: Ref, reply: FastifyReply, head: boolean): FastifyReply => {
    const file = resolve(request.params.ref)
    if (file === undefined) return fail(reply, 404, 'NOT_FOUND', `no file ${request.params.ref}`)
    const name = nameOf(file.address)
    reply.header('etag', `"${file.sha256}"`).header('content-type', 'application/octet-stream').header('content-length', file.size)
    if (request.query.download !== undefined) reply.header('content-disposition', `attachment; filename="${encodeURIComponent(name ?? file.address)}"`)
    return reply.send(head ? undefined : file.bytes)
  }
  app.get('/v1/files/:ref', (request: Ref, reply) => sendFile(request, reply, false))
  app.head('/v1/files/:ref', (request: Ref, reply) => sendFile(request, reply, true))
  app.delete('/v1/files/:ref', async (request: Ref, reply) => {
    const file = resolve(request.params.ref)
    if (file === undefined) return fail(reply, 404, 'NOT_FOUND', 'no such file')
    for (const [name, address] of catalog) if (address === file.address) catalog.delete(name)
    return reply.code(204).send()
  })
  app.get('/v1/files/:ref/share', async (request: Ref, reply) => {
    const file = resolve(request.params.ref)
    return file === undefined ? fail(reply, 404, 'NOT_FOUND', 'no such file') : { capability: `cas1:${file.address}:${file.key}` }
  })
  app.get('/v1/files/:ref/placement', async (request: Ref, reply) => {
    const file = resolve(request.params.ref)
    if (file === undefined) return fail(reply, 404, 'NOT_FOUND', 'no such file')
    const holders = network.nodes.map((n) => n.id)
    return file.blobs.map((blob) => ({ blob, holders, live: holders.length }))
  })
  app.get('/v1/peers', () =>
    network.nodes
      .filter((n) => n.id !== id)
      .map((n) => ({ id: n.id, addresses: [n.url.replace('http://', 'tcp://')], state: 'alive', lastSeen: new Date().toISOString(), capacity: 10 * 2 ** 30, used: 3 * 2 ** 30 })),
  )
  app.get('/v1/status', () => {
    const mine = [...new Set(catalog.values())].flatMap((a) => network.files.get(a) ?? [])
    return {
      id,
      addresses: ['127.0.0.1:4001'],
      peers: network.nodes.length - 1,
      blobs: mine.reduce((n, f) => n + f.blobs.length, 0),
      bytes: mine.reduce((n, f) => n + f.size, 0),
      capacity: null,
      underReplicated: live() < target ? mine.length : 0,
      replicas: target,
    }
  })
  app.get('/*', async (request, reply) => {
    const path = request.url.split('?')[0] ?? '/'
    const file = path === '/' ? 'index.html' : path.slice(1)
    if (!/^[\w.-]+$/.test(file)) return fail(reply, 404, 'NOT_FOUND', 'no such asset')
    try {
      return reply.type(TYPES[extname(file)] ?? 'application/octet-stream').send(await readFile(join(webRoot, file)))
    } catch {
      return fail(reply, 404, 'NOT_FOUND', 'no such asset')
    }
  })

  const url = await app.listen({ host: '127.0.0.1', port: 0 })
  const node: FakeApiNode = { id, url, token, catalog, close: () => app.close() }
  network.nodes.push(node)
  return node
}

/** Two or more fake nodes on one fake network, shaped like the real cluster of `cluster.ts`. */
export async function startFakeCluster(count: number, webRoot: string): Promise<{ nodes: (FakeApiNode & { root: string })[]; close(): Promise<void> }> {
  const network = new FakeNetwork()
  const nodes: (FakeApiNode & { root: string })[] = []
  for (let i = 0; i < count; i++) nodes.push({ ...(await startFakeNode(network, webRoot)), root: '' })
  return { nodes, close: async () => void (await Promise.all(nodes.map((n) => n.close()))) }
}
