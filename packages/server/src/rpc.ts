import type { Pin } from './components.js'
import type { NodeContext } from './context.js'
import { ServerError } from './errors.js'
import { readLocalForPeer } from './fetcher.js'
import { isHex64 } from './ids.js'
import type { PeerRecord } from './membership.js'
import { markRecent } from './replicate.js'

/*
 * Handlers for the requests other nodes send (wire types of @cas/p2p; headers
 * arrive schema-checked, ids are re-checked here because they become paths).
 * Errors thrown here go back to the caller as error replies with their code.
 */

function blobId(value: unknown): string {
  if (typeof value !== 'string' || !isHex64(value)) throw new ServerError('INVALID_ARGUMENT', 'blob id must be 64 lowercase hex characters')
  return value
}

function blobIds(value: unknown): string[] {
  if (!Array.isArray(value)) throw new ServerError('INVALID_ARGUMENT', 'blobs must be an array')
  return value.map(blobId)
}

/** A sequence number of the authenticated sender's own pin or unpin: an owner's are timestamps, never 0. */
function ownSeq(value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new ServerError('INVALID_ARGUMENT', 'seq must be a positive integer')
  }
  return value
}

/**
 * The pins that come with a pushed blob. The sender's own pin keeps its sequence number. A pin in
 * another owner's name is relayed (repair passes the pins of what it pushes along) and cannot be
 * checked, so it is kept at sequence 0, below any the owner ever uses: it keeps the blob alive
 * until the owner unpins, but can neither outrank the owner's unpin nor bring back a blob the owner
 * deleted (any tombstone of the owner refuses it). Otherwise any node of the network could pin
 * blobs in the owner's name at a huge sequence number and make them undeletable.
 */
function pinList(value: unknown, sender: string): Pin[] {
  if (value === undefined) return []
  if (!Array.isArray(value)) throw new ServerError('INVALID_ARGUMENT', 'pins must be an array')
  return value.map((p: unknown) => {
    const { owner, seq } = (p ?? {}) as { owner?: unknown; seq?: unknown }
    if (typeof owner !== 'string' || !isHex64(owner) || typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) {
      throw new ServerError('INVALID_ARGUMENT', 'pin must be {owner: hex64, seq: int}')
    }
    return { owner, seq: owner === sender ? seq : 0 }
  })
}

/** Registers the node's request and message handlers on its host. */
export function registerHandlers(ctx: NodeContext): void {
  const { host, store, membership, metrics } = ctx

  host.handle('ping', () => Promise.resolve({ header: {} }))

  host.handle('put-blob', async ({ peer, header, body }) => {
    const id = blobId(header.blob)
    const pins = pinList(header.pins, peer)
    if (body === undefined) throw new ServerError('INVALID_ARGUMENT', 'put-blob without a body')
    // A blob nobody pins would be collected at once: refuse it rather than store garbage.
    if (pins.length === 0) throw new ServerError('FORBIDDEN', `blob ${id} comes without pins`)
    // The store re-hashes the bytes and refuses them (CORRUPT) unless they match the id.
    markRecent(ctx, id)
    // Every pin older than its owner's delete: deleted data coming back (a push that crossed the
    // delete), which the store does not keep.
    const { stored, pinned } = await store.put(id, body, { pins, requirePin: true })
    if (pinned?.every((ok) => !ok) === true && !(await store.isPinned(id))) {
      throw new ServerError('FORBIDDEN', `blob ${id} was deleted by its owner`)
    }
    metrics.blobsReceived++
    // Stored (or already there): the store holds no reference to the body any more.
    ctx.bodies.give(body)
    return { header: { stored } }
  })

  host.handle('get-blob', async ({ header }) => {
    const id = blobId(header.blob)
    const offset = typeof header.offset === 'number' ? header.offset : undefined
    const length = typeof header.length === 'number' ? header.length : undefined
    // Checked against its id before it leaves: a copy damaged on disk is never served (it is moved aside and healed).
    const bytes = await readLocalForPeer(ctx, id, true)
    if (bytes === undefined) throw new ServerError('NOT_FOUND', `blob ${id} is not here`)
    if (offset !== undefined && offset > bytes.byteLength) {
      ctx.bodies.give(bytes)
      throw new ServerError('INVALID_ARGUMENT', `offset ${offset} is past the end of blob ${id}`)
    }
    const body = offset === undefined ? bytes : bytes.subarray(offset, length === undefined ? undefined : offset + length)
    metrics.blobsServed++
    // Once encrypted into frames, its memory takes the next blob read or received here.
    return { header: {}, body, bodyEncrypted: () => ctx.bodies.give(bytes) }
  })

  host.handle('has', async ({ header }) => {
    const ids = blobIds(header.blobs)
    return { header: { have: await Promise.all(ids.map((id) => store.has(id))) } }
  })

  // The owner of a pin is always the authenticated peer: nobody can pin or unpin for another node.
  host.handle('pin', async ({ peer, header }) => {
    const ids = blobIds(header.blobs)
    const seq = ownSeq(header.seq)
    return { header: { ok: await Promise.all(ids.map((id) => store.pin(id, peer, seq))) } }
  })

  host.handle('unpin', async ({ peer, header }) => {
    const ids = blobIds(header.blobs)
    const seq = ownSeq(header.seq)
    const ok: boolean[] = []
    for (const id of ids) {
      ok.push(await store.unpin(id, peer, seq))
      // Collect at once: a blob nobody pins any more is garbage.
      if (!(await store.isPinned(id)) && !ctx.catalog.isReferenced(id)) await store.delete(id)
    }
    return { header: { ok } }
  })

  host.onMessage('gossip', ({ peer, header }) => {
    metrics.gossipReceived++
    membership.observe({ id: peer })
    const peers: unknown = header.peers
    if (Array.isArray(peers)) membership.merge(peers as PeerRecord[])
  })
}
