import { z } from 'zod'
import { MANIFEST_VERSION, MAX_MANIFEST_BYTES, MAX_MANIFEST_ENTRIES } from './constants.js'
import { ServerError } from './errors.js'

/*
 * Manifests (DESIGN §2), UTF-8 JSON with keys in this order:
 *
 *   {"v":1,"kind":"file","size":N,"sha256":"<hex>","chunkSize":1048576,
 *    "chunks":[{"id":"<blob id>","key":"<hex chunk key>","size":N}, ...]}
 *
 * "file" entries point at data chunks; "tree" entries point at child manifests,
 * each entry's size being the plaintext bytes under that child. A manifest lists
 * at most 4096 entries. Only the root carries the whole file's `sha256`: a child
 * covers part of a file and is authenticated by its blob id in the parent.
 * Children are encrypted exactly like chunks (their JSON is the plaintext); the
 * root is encrypted with the file key and iv derived from the file's SHA-256.
 */

const hex64 = z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lowercase hex characters')
const byteCount = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER)

/** One manifest entry: a blob, the key that opens it and the plaintext bytes it stands for. */
export const manifestEntrySchema = z.object({ id: hex64, key: hex64, size: byteCount })

/** Wire shape of a manifest; semantic checks follow in {@link decodeManifest}. */
export const manifestSchema = z.object({
  v: z.literal(MANIFEST_VERSION),
  kind: z.enum(['file', 'tree']),
  size: byteCount,
  sha256: hex64.optional(),
  chunkSize: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
  chunks: z.array(manifestEntrySchema).max(MAX_MANIFEST_ENTRIES),
})

/** One manifest entry. */
export type ManifestEntry = z.infer<typeof manifestEntrySchema>
/** A decoded, validated manifest. */
export type Manifest = z.infer<typeof manifestSchema>

/** Serialises a manifest with the key order of DESIGN §2. */
export function encodeManifest(m: Manifest): Buffer {
  const ordered = {
    v: m.v,
    kind: m.kind,
    size: m.size,
    ...(m.sha256 === undefined ? {} : { sha256: m.sha256 }),
    chunkSize: m.chunkSize,
    chunks: m.chunks.map((c) => ({ id: c.id, key: c.key, size: c.size })),
  }
  return Buffer.from(JSON.stringify(ordered), 'utf8')
}

/**
 * Parses and validates a manifest. A root must carry the file's sha256; in a
 * "file" manifest every chunk but the last is exactly `chunkSize` bytes and no
 * chunk is empty; entry sizes add up to `size`.
 */
export function decodeManifest(bytes: Uint8Array, opts: { root: boolean }): Manifest {
  if (bytes.byteLength > MAX_MANIFEST_BYTES) {
    throw new ServerError('INVALID_MANIFEST', `manifest of ${bytes.byteLength} bytes exceeds ${MAX_MANIFEST_BYTES}`)
  }
  let json: unknown
  try {
    json = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'))
  } catch (err) {
    throw new ServerError('INVALID_MANIFEST', 'manifest is not valid JSON (wrong key?)', { cause: err })
  }
  const parsed = manifestSchema.safeParse(json)
  if (!parsed.success) {
    throw new ServerError('INVALID_MANIFEST', `invalid manifest: ${parsed.error.issues[0]?.message ?? 'schema mismatch'}`, {
      cause: parsed.error,
    })
  }
  const m = parsed.data
  if (opts.root && m.sha256 === undefined) throw new ServerError('INVALID_MANIFEST', 'root manifest lacks sha256')
  let total = 0
  m.chunks.forEach((c, i) => {
    total += c.size
    if (c.size === 0) throw new ServerError('INVALID_MANIFEST', `entry ${i} is empty`)
    if (m.kind === 'file' && (c.size > m.chunkSize || (i < m.chunks.length - 1 && c.size !== m.chunkSize))) {
      throw new ServerError('INVALID_MANIFEST', `chunk ${i} has size ${c.size} with chunkSize ${m.chunkSize}`)
    }
  })
  if (total !== m.size) throw new ServerError('INVALID_MANIFEST', `entries add up to ${total} bytes, manifest says ${m.size}`)
  if (m.kind === 'tree' && m.chunks.length === 0) throw new ServerError('INVALID_MANIFEST', 'tree manifest without children')
  return m
}

/** Seals a child manifest's JSON into a stored blob and returns its entry (size filled by the caller). */
export type SealChild = (json: Buffer) => Promise<{ id: string; key: string }>

/**
 * Builds a manifest tree from a stream of chunk entries with bounded memory:
 * each level keeps at most 4096 pending entries; when a level overflows, its
 * first 4096 entries become a child manifest sealed through `sealChild`, whose
 * entry moves one level up. A file of at most 4096 chunks gets a single
 * "file" root; beyond that the root is a "tree".
 */
export class ManifestBuilder {
  private readonly levels: ManifestEntry[][] = [[]]

  constructor(
    private readonly chunkSize: number,
    private readonly sealChild: SealChild,
    /** Entries per manifest; smaller values only exercise deep trees in tests. */
    private readonly maxEntries = MAX_MANIFEST_ENTRIES,
  ) {}

  /** Appends the entry of the next data chunk. */
  async add(entry: ManifestEntry): Promise<void> {
    await this.push(0, entry)
  }

  /** Closes the tree and returns the root manifest (not yet encrypted). */
  async finish(size: number, sha256: string): Promise<Manifest> {
    for (let level = 0; ; level++) {
      const entries = this.levels[level] ?? []
      if (level === this.levels.length - 1 && entries.length <= this.maxEntries) {
        return { v: MANIFEST_VERSION, kind: level === 0 ? 'file' : 'tree', size, sha256, chunkSize: this.chunkSize, chunks: entries }
      }
      // Not the top yet: what is left here becomes the last child of the level above.
      await this.flush(level, entries.length)
    }
  }

  private async push(level: number, entry: ManifestEntry): Promise<void> {
    const entries = (this.levels[level] ??= [])
    entries.push(entry)
    if (entries.length > this.maxEntries) await this.flush(level, this.maxEntries)
  }

  private async flush(level: number, count: number): Promise<void> {
    const entries = this.levels[level]!
    if (count === 0) return
    const chunks = entries.splice(0, count)
    const size = chunks.reduce((sum, c) => sum + c.size, 0)
    const child: Manifest = { v: MANIFEST_VERSION, kind: level === 0 ? 'file' : 'tree', size, chunkSize: this.chunkSize, chunks }
    const sealed = await this.sealChild(encodeManifest(child))
    this.levels[level + 1] ??= []
    await this.push(level + 1, { id: sealed.id, key: sealed.key, size })
  }
}

/** A data chunk of a file with its plaintext offset. */
export interface ChunkRef {
  entry: ManifestEntry
  /** Offset of the chunk's first plaintext byte in the file. */
  offset: number
  /** Position of the chunk in the file. */
  index: number
}

/** Loads, decrypts and validates a child manifest. */
export type LoadChild = (entry: ManifestEntry) => Promise<Manifest>

/**
 * Yields a file's data chunks in order, loading only the child manifests whose
 * byte span overlaps `[start, end]` (inclusive). Each child must agree with its
 * parent entry on size and chunk size, and nesting is bounded.
 */
export async function* walkChunks(
  root: Manifest,
  loadChild: LoadChild,
  range: { start: number; end: number } = { start: 0, end: root.size - 1 },
  maxDepth = 6,
): AsyncGenerator<ChunkRef> {
  yield* walk(root, 0, 0, 0)

  async function* walk(m: Manifest, base: number, firstIndex: number, depth: number): AsyncGenerator<ChunkRef> {
    if (depth > maxDepth) throw new ServerError('INVALID_MANIFEST', `manifest tree deeper than ${maxDepth}`)
    let offset = base
    let index = firstIndex
    for (const entry of m.chunks) {
      const end = offset + entry.size - 1
      const overlaps = end >= range.start && offset <= range.end
      if (m.kind === 'file') {
        if (overlaps) yield { entry, offset, index }
        index++
      } else {
        if (overlaps) {
          const child = await loadChild(entry)
          checkChild(m, entry, child)
          yield* walk(child, offset, index, depth + 1)
        }
        index += Math.ceil(entry.size / m.chunkSize)
      }
      offset += entry.size
      if (offset > range.end) return
    }
  }
}

/**
 * Yields every blob of a file below the root: child manifests (`manifest`) and
 * data chunks (`chunk`), parents before their children.
 */
export async function* walkBlobs(
  root: Manifest,
  loadChild: LoadChild,
  maxDepth = 6,
): AsyncGenerator<{ id: string; kind: 'manifest' | 'chunk'; size: number }> {
  yield* walk(root, 0)

  async function* walk(m: Manifest, depth: number): AsyncGenerator<{ id: string; kind: 'manifest' | 'chunk'; size: number }> {
    if (depth > maxDepth) throw new ServerError('INVALID_MANIFEST', `manifest tree deeper than ${maxDepth}`)
    for (const entry of m.chunks) {
      if (m.kind === 'file') {
        yield { id: entry.id, kind: 'chunk', size: entry.size }
      } else {
        yield { id: entry.id, kind: 'manifest', size: entry.size }
        const child = await loadChild(entry)
        checkChild(m, entry, child)
        yield* walk(child, depth + 1)
      }
    }
  }
}

function checkChild(parent: Manifest, entry: ManifestEntry, child: Manifest): void {
  if (child.size !== entry.size || child.chunkSize !== parent.chunkSize) {
    throw new ServerError('INVALID_MANIFEST', `child manifest ${entry.id} disagrees with its parent entry`)
  }
}
