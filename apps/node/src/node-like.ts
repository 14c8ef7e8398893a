import type { CasNode } from '@cas/server'

export type {
  BlobPlacement,
  ByteRange,
  CatalogEntry,
  FileInfo,
  GetOptions,
  NodeStatus,
  PeerInfo,
  PutOptions,
  PutResult,
} from '@cas/server'

/**
 * What the daemon needs of a CAS node: the file and network API of `@cas/server`'s `CasNode`.
 * The HTTP layer is written against this shape, so it can be exercised with a small in-process
 * stand-in as well as with the real node.
 */
export type NodeLike = Pick<
  CasNode,
  'id' | 'addresses' | 'put' | 'stat' | 'get' | 'delete' | 'list' | 'share' | 'peers' | 'status' | 'placement'
> & {
  /** Plain numeric counters (and the `repairQueue` gauge) the daemon exports to Prometheus. */
  readonly metrics: object
}
