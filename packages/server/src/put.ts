import { createHash } from 'node:crypto'
import { deriveFileSecret, encryptChunk, sealChunk, type SealedChunk } from '@cas/crypto'
import { chunkStream } from './chunker.js'
import { IdBytes } from './id-bytes.js'
import { SEAL_AHEAD } from './constants.js'
import type { NodeContext } from './context.js'
import { throwIfAborted } from './errors.js'
import { encodeManifest, ManifestBuilder } from './manifest.js'
import { unpinEverywhere } from './deletes.js'
import { shortfallReason, storeAndReplicate } from './replicate.js'
import { TaskWindow } from './task-window.js'

/** Options of a put. */
export interface PutOptions {
  name?: string
  signal?: AbortSignal
  /** Called with the plaintext bytes consumed so far after each chunk. */
  onProgress?: (bytes: number) => void
}

/** Outcome of a put. */
export interface PutResult {
  address: string
  size: number
  /** Hex SHA-256 of the plaintext. */
  sha256: string
  name?: string
  /** Fewest distinct holders confirmed for any blob of the file. */
  replicas: number
  /** Set when some blob has fewer than the wanted holders; repair finishes later. */
  warning?: string
}

/**
 * Streams a file into the network (DESIGN §5): chunk → seal (convergent
 * AES-256-CTR) → store locally pinned by this node → send to the chunk's
 * holders, with at most `putWindow` chunks (default 8) in flight so memory stays
 * flat for any size; then the child manifests and the root, placed the same
 * way. Resolves once every blob has its holders' confirmations (or as many as
 * the live network allows).
 */
export async function putFile(ctx: NodeContext, source: AsyncIterable<Uint8Array>, opts: PutOptions = {}): Promise<PutResult> {
  const window = new TaskWindow(ctx.putWindow)
  const placed = new Set<string>()
  // This put's id in the catalog's notes of what it places (see Catalog.notePlacing).
  const put = ctx.catalog.takeSeq(ctx.clock.now())
  try {
    return await placeFile(ctx, source, opts, window, placed, put)
  } catch (err) {
    // Whatever was placed is pinned here and on holders, and no catalog entry will ever release it.
    await window.drain().catch(() => {})
    const ids = [...placed]
    releasePlacing(ctx, placed)
    // Not awaited (the caller learns of the failure now), but tracked: a put failing because the
    // node is stopping (its transfer aborted) is cleaned up before the catalog and store close.
    const cleaning = cleanUpFailedPut(ctx, put, ids).catch((cleanupError: unknown) =>
      ctx.logger.warn({ err: cleanupError }, 'could not unpin what a failed put had placed'),
    )
    ctx.cleanups.add(cleaning)
    void cleaning.finally(() => ctx.cleanups.delete(cleaning))
    throw err
  } finally {
    releasePlacing(ctx, placed)
  }
}

/**
 * Releases what puts cut short by a crash of this node had placed (their notes in the catalog
 * outlived them), as for a put that failed. Runs at start, before any put. Returns how many.
 */
export async function releaseUnfinishedPuts(ctx: NodeContext): Promise<number> {
  const unfinished = ctx.catalog.unfinishedPuts()
  for (const { put, blobs } of unfinished) {
    await cleanUpFailedPut(ctx, put, blobs)
    ctx.logger.info({ blobs: blobs.length }, 'released what a put cut short by a crash had placed')
  }
  return unfinished.length
}

function releasePlacing(ctx: NodeContext, placed: Set<string>): void {
  for (const id of placed) {
    const n = (ctx.placing.get(id) ?? 1) - 1
    if (n <= 0) ctx.placing.delete(id)
    else ctx.placing.set(id, n)
  }
  placed.clear()
}

/**
 * Unpins, here and on every peer, the blobs a failed put had placed that no file of this node and
 * no other put in progress uses; recorded like a delete, so peers away now are told later. The
 * put's notes of what it placed go with that record: until then a crash leaves them to
 * {@link releaseUnfinishedPuts}.
 */
async function cleanUpFailedPut(ctx: NodeContext, put: number, ids: string[]): Promise<void> {
  // The seq before the choice: a put that places one of these later pins it with a newer seq.
  const seq = await ctx.catalog.nextSeq(ctx.clock.now())
  const orphans = ids.filter((id) => !ctx.catalog.isReferenced(id) && !ctx.placing.has(id))
  await ctx.catalog.recordDelete(seq, orphans, put)
  if (orphans.length === 0) return
  await unpinEverywhere(ctx, seq, orphans)
  ctx.logger.info({ blobs: orphans.length }, 'unpinned what a failed put had placed')
}

async function placeFile(
  ctx: NodeContext,
  source: AsyncIterable<Uint8Array>,
  opts: PutOptions,
  window: TaskWindow,
  placed: Set<string>,
  put: number,
): Promise<PutResult> {
  const { signal } = opts
  const blobIds = new IdBytes()
  const short = new Map<string, number>()
  let minCopies = Number.POSITIVE_INFINITY

  const place = async (id: string, blob: Buffer): Promise<void> => {
    blobIds.push(id)
    let noted: Promise<void> | undefined
    if (!placed.has(id)) {
      placed.add(id)
      ctx.placing.set(id, (ctx.placing.get(id) ?? 0) + 1)
      noted = ctx.catalog.notePlacing(put, id)
      noted.catch(() => {}) // observed below, in the window
    }
    // A seq per blob, taken once the blob is registered as placing: a delete or clean-up that did not
    // see it registered took its seq before, so this pin outranks that unpin (and its tombstone).
    const pins = [{ owner: ctx.id, seq: ctx.catalog.takeSeq(ctx.clock.now()) }]
    await window.run(async () => {
      // On disk before the pin leaves: a crash from here on is undone at the next start. (The
      // commits of the blobs in flight together are one.)
      await noted
      const { copies, done } = await storeAndReplicate(ctx, id, blob, pins, signal)
      // Its memory goes to the next chunk's seal, unless a transfer might still be reading it.
      if (done) ctx.recycle(blob)
      minCopies = Math.min(minCopies, copies)
      if (copies < ctx.replicas) short.set(id, copies)
    })
  }

  const builder = new ManifestBuilder(ctx.chunkSize, async (json) => {
    const sealed = sealChunk(ctx.ownerKey, json)
    await place(sealed.id, sealed.blob)
    return { id: sealed.id, key: sealed.key.toString('hex') }
  })

  // Hashed where the chunks are sealed, each chunk just before its seal.
  const fileHash = ctx.fileHash()
  let size = 0
  let chunks = 0
  const placeSealed = async (sealed: SealedChunk): Promise<void> => {
    await place(sealed.id, sealed.blob)
    await builder.add({ id: sealed.id, key: sealed.key.toString('hex'), size: sealed.size })
    ctx.metrics.bytesPut += sealed.size
    opts.onProgress?.(size)
  }
  // Chunks are sealed off the event loop (see NodeContext.seal), a few ahead of the one being
  // placed so the crypto threads never wait for this loop; they are placed in file order.
  const sealing: Promise<SealedChunk>[] = []
  let digest: Buffer | undefined
  try {
    // Each chunk is consumed before the next is asked for (the seal copies it at once), so the
    // chunker may fill the same memory again.
    for await (const chunk of chunkStream(source, ctx.chunkSize, signal, { reuse: true })) {
      size += chunk.byteLength
      chunks++
      const sealed = ctx.seal(chunk, fileHash)
      sealed.catch(() => {}) // observed in its turn
      sealing.push(sealed)
      if (sealing.length >= SEAL_AHEAD) await placeSealed(await sealing.shift()!)
    }
    while (sealing.length > 0) await placeSealed(await sealing.shift()!)
    throwIfAborted(signal)
    digest = await fileHash.digest()
  } finally {
    // After a failure, seals still running finish unobserved (their blobs were never placed), and
    // the file hash is ended so its thread lets go of it.
    sealing.length = 0
    if (digest === undefined) fileHash.digest().catch(() => {})
  }

  const sha256 = digest.toString('hex')
  const root = await builder.finish(size, sha256)
  // The file key and iv come from the owner key and this file's digest: unique per plaintext, so CTR never reuses a counter block.
  const { key: fileKey, iv } = deriveFileSecret(ctx.ownerKey, digest)
  const rootBlob = encryptChunk(fileKey, iv, encodeManifest(root))
  const address = createHash('sha256').update(rootBlob).digest('hex')
  await place(address, rootBlob)
  await window.drain()

  await ctx.catalog.add(
    {
      address,
      fileKey: fileKey.toString('hex'),
      size,
      sha256,
      ...(opts.name !== undefined ? { name: opts.name } : {}),
      createdAt: new Date(ctx.clock.now()).toISOString(),
      chunks,
    },
    blobIds.toBuffer(),
    put,
  )
  for (const [id, copies] of short) ctx.shortBlobs.set(id, copies)

  const replicas = Number.isFinite(minCopies) ? minCopies : 0
  const result: PutResult = { address, size, sha256, replicas, ...(opts.name !== undefined ? { name: opts.name } : {}) }
  if (replicas < ctx.replicas) {
    const reason = shortfallReason(ctx)
    result.warning = `only ${replicas} of ${ctx.replicas} replicas confirmed for ${short.size} blob(s): ${reason}`
    ctx.logger.warn({ address, replicas, wanted: ctx.replicas, shortBlobs: short.size, reason }, 'put under-replicated')
  }
  return result
}
