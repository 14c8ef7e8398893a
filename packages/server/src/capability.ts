import { CAPABILITY_PREFIX } from './constants.js'
import { ServerError } from './errors.js'
import { isHex64 } from './ids.js'

/** Everything needed to fetch and decrypt one file from any node of its network. */
export interface Capability {
  /** The root blob's id. */
  address: string
  /** The 32-byte key of the root manifest. */
  fileKey: Buffer
}

/** Formats `cas1:<address>:<hex fileKey>`. */
export function formatCapability(cap: Capability): string {
  if (!isHex64(cap.address) || cap.fileKey.byteLength !== 32) {
    throw new ServerError('INVALID_ARGUMENT', 'capability needs a 64-hex address and a 32-byte key')
  }
  return `${CAPABILITY_PREFIX}:${cap.address}:${cap.fileKey.toString('hex')}`
}

/** Parses a capability string; throws INVALID_REF unless it is exactly `cas1:<64 hex>:<64 hex>`. */
export function parseCapability(text: string): Capability {
  const parts = text.trim().split(':')
  const [prefix, address, key] = parts
  if (parts.length !== 3 || prefix !== CAPABILITY_PREFIX || address === undefined || key === undefined) {
    throw new ServerError('INVALID_REF', `not a ${CAPABILITY_PREFIX} capability`)
  }
  const addr = address.toLowerCase()
  const hexKey = key.toLowerCase()
  if (!isHex64(addr) || !isHex64(hexKey)) throw new ServerError('INVALID_REF', 'capability address and key must be 64 hex characters')
  return { address: addr, fileKey: Buffer.from(hexKey, 'hex') }
}

/** What a user-supplied reference names. */
export type ParsedRef =
  | { kind: 'capability'; address: string; fileKey: Buffer }
  | { kind: 'address'; address: string }
  | { kind: 'name'; name: string }

/**
 * Classifies a reference: a capability (`cas1:…`), an address (64 hex
 * characters, any case) or else a catalog name.
 */
export function parseRef(ref: string): ParsedRef {
  if (typeof ref !== 'string' || ref.length === 0) throw new ServerError('INVALID_REF', 'empty reference')
  if (ref.startsWith(`${CAPABILITY_PREFIX}:`)) return { kind: 'capability', ...parseCapability(ref) }
  const lower = ref.toLowerCase()
  if (isHex64(lower)) return { kind: 'address', address: lower }
  return { kind: 'name', name: ref }
}
