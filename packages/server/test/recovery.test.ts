import { execFileSync } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { afterEach, describe, expect, it } from 'vitest'
import { FakeCluster } from './support/cluster.js'

/*
 * DESIGN §2 promises that a file can be recovered with `openssl enc -d
 * -aes-256-ctr`, SHA-256 and the capability alone. This reads blobs straight
 * from the store's files, decrypts them with the openssl CLI and parses the
 * manifest JSON by hand: no project code on the read path.
 */

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex')

describe('recovery without CAS code', () => {
  let cluster: FakeCluster
  let work: string
  afterEach(async () => {
    await cluster.close()
    await rm(work, { recursive: true, force: true })
  })

  it('rebuilds a put file with openssl, sha256 and the capability', async () => {
    cluster = new FakeCluster()
    work = await mkdtemp(join(tmpdir(), 'cas-recover-'))
    const chunkSize = 4096
    const a = await cluster.add({ chunkSize })
    const data = randomBytes(chunkSize * 5 + 77)
    const put = await a.node.put(Readable.from([data]), { name: 'x' })
    const capability = await a.node.share('x')

    const [, address, fileKey] = capability.split(':') as [string, string, string]
    const blobPath = (id: string): string => join(a.store.root, 'blobs', id.slice(0, 2), id.slice(2, 4), id)
    let n = 0
    const openBlob = async (id: string, keyHex: string): Promise<Buffer> => {
      const blob = await readFile(blobPath(id))
      expect(sha256(blob)).toBe(id) // the blob is what its name says
      const ctFile = join(work, `ct${n++}`)
      await writeFile(ctFile, blob.subarray(16))
      return execFileSync('openssl', ['enc', '-d', '-aes-256-ctr', '-K', keyHex, '-iv', blob.subarray(0, 16).toString('hex'), '-in', ctFile])
    }

    interface Doc {
      v: number
      kind: string
      size: number
      sha256?: string
      chunkSize: number
      chunks: { id: string; key: string; size: number }[]
    }
    const root = JSON.parse((await openBlob(address, fileKey)).toString('utf8')) as Doc
    expect(root).toMatchObject({ v: 1, kind: 'file', size: data.length, chunkSize })
    const parts: Buffer[] = []
    for (const c of root.chunks) {
      const plain = await openBlob(c.id, c.key)
      expect(plain.length).toBe(c.size)
      parts.push(plain)
    }
    const file = Buffer.concat(parts)
    expect(sha256(file)).toBe(root.sha256)
    expect(sha256(file)).toBe(put.sha256)
    expect(file.equals(data)).toBe(true)
  })
})
