import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { until, type Cluster } from './cluster.js'

/** What one node's blob folder holds. */
export interface StoreAudit {
  /** Blobs whose bytes hash to their name. */
  good: Set<string>
  /** Blobs whose bytes do not: a node must never keep (or serve) one of these. */
  bad: string[]
  /** Files left in the store's tmp folder. */
  temp: string[]
}

async function list(dir: string): Promise<string[]> {
  try {
    return await readdir(dir)
  } catch {
    return []
  }
}

async function hashFile(path: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) hash.update(chunk as Buffer)
  return hash.digest('hex')
}

/** Re-hashes every blob under `<root>/blobs` (the files as they are on disk). */
export async function auditStore(root: string): Promise<StoreAudit> {
  const audit: StoreAudit = { good: new Set(), bad: [], temp: await list(join(root, 'tmp')) }
  const blobs = join(root, 'blobs')
  for (const a of await list(blobs)) {
    for (const b of await list(join(blobs, a))) {
      for (const id of await list(join(blobs, a, b))) {
        if ((await hashFile(join(blobs, a, b, id))) === id) audit.good.add(id)
        else audit.bad.push(id)
      }
    }
  }
  return audit
}

/** The on-disk path of a blob in a node's root. */
export function blobPath(root: string, id: string): string {
  return join(root, 'blobs', id.slice(0, 2), id.slice(2, 4), id)
}

/** Audits the stores of the given nodes; throws if any holds a corrupt blob. */
export async function auditNodes(cluster: Cluster, nodes: number[]): Promise<Map<number, StoreAudit>> {
  const out = new Map<number, StoreAudit>()
  for (const i of nodes) {
    const audit = await auditStore(cluster.node(i).root)
    if (audit.bad.length > 0) throw new Error(`node ${i} keeps ${audit.bad.length} corrupt blob(s): ${audit.bad.slice(0, 3).join(', ')}`)
    out.set(i, audit)
  }
  return out
}

/** Outcome of {@link waitFullyReplicated}. */
export interface Replication {
  blobs: number
  /** Time it took from the call. */
  ms: number
}

/**
 * Waits (bounded) until every blob of the file has `replicas` holders that confirm a copy (the
 * placement API of the owner node), every node in `nodes` reports nothing under-replicated, and,
 * checked on disk rather than taken from what nodes say, each blob's holders really keep a good
 * copy.
 */
export async function waitFullyReplicated(
  cluster: Cluster,
  owner: number,
  refs: string[],
  nodes: number[],
  replicas: number,
  timeoutMs = 180_000,
): Promise<Replication> {
  const byId = new Map(nodes.map((i) => [cluster.node(i).id, i]))
  let blobs = 0
  let last = ''
  const ms = await until(
    `full replication of ${refs.length} file(s)`,
    timeoutMs,
    async () => {
      blobs = 0
      const placements = []
      for (const ref of refs) placements.push(...(await cluster.placement(owner, ref)))
      blobs = placements.length
      const short = placements.filter((p) => p.live < replicas || p.holders.length < replicas)
      if (short.length > 0) {
        last = `${short.length} blob(s) below ${replicas} confirmed holders`
        return false
      }
      for (const i of nodes) {
        const status = await cluster.status(i)
        if (status.underReplicated !== 0) {
          last = `node ${i} reports ${status.underReplicated} under-replicated`
          return false
        }
      }
      const audits = await auditNodes(cluster, nodes)
      for (const p of placements) {
        for (const holder of p.holders) {
          const i = byId.get(holder)
          if (i === undefined) {
            last = `blob ${p.blob.slice(0, 12)} placed on ${holder.slice(0, 12)}, not one of the nodes checked`
            return false
          }
          if (!audits.get(i)!.good.has(p.blob)) {
            last = `node ${i} is a holder of ${p.blob.slice(0, 12)} but has no good copy on disk`
            return false
          }
        }
      }
      return true
    },
    2000,
  ).catch((err: unknown) => {
    throw new Error(`${String(err)} (last: ${last})`)
  })
  return { blobs, ms }
}
