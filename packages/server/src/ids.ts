import { ServerError } from './errors.js'

const HEX64 = /^[0-9a-f]{64}$/

/** True for a lowercase 64-character hex string: a blob id, address or node id. */
export function isHex64(value: string): boolean {
  return HEX64.test(value)
}

/** Raw 32 bytes of a hex id; throws INVALID_ARGUMENT for anything else. */
export function idBytes(id: string): Buffer {
  if (!isHex64(id)) throw new ServerError('INVALID_ARGUMENT', `not a 64-character lowercase hex id: ${JSON.stringify(id.slice(0, 80))}`)
  return Buffer.from(id, 'hex')
}
