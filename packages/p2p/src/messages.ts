/**
 * Every wire schema of @cas/p2p (zod). A message is a JSON header `{ t: type, id?: requestId, ...fields }`
 * plus an optional raw body. Field schemas below describe the fields only; `t` and `id` belong to the
 * envelope and never reach handlers.
 */
import { z } from 'zod'
import { MAX_ADDRESSES_PER_PEER, MAX_BATCH, MAX_ERROR_MESSAGE_LENGTH, MAX_TYPE_LENGTH } from './constants.js'

const hex64 = z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lowercase hex characters')
const count = z.int().min(0)
const address = z.string().min(1).max(256)

/** Types the envelope reserves for replies and connection control. */
export const RESERVED_TYPES = new Set(['res', 'error', 'cancel', 'goaway', 'hello'])

/** Envelope common to every message. */
export const envelopeSchema = z.looseObject({
  t: z.string().min(1).max(MAX_TYPE_LENGTH),
  id: z.int().min(0).optional(),
})
/** Envelope of a decoded message. */
export type Envelope = z.infer<typeof envelopeSchema>

/** Hello: what each side says about itself during the handshake. */
export const helloSchema = z.object({
  version: z.int().min(1),
  addresses: z.array(address).max(MAX_ADDRESSES_PER_PEER),
  capacity: count,
  used: count,
})
/** A node's hello. */
export type Hello = z.infer<typeof helloSchema>

/** One membership record in gossip. */
export const peerRecordSchema = z.object({
  id: hex64,
  addresses: z.array(address).max(MAX_ADDRESSES_PER_PEER),
  heartbeat: count,
  capacity: count,
  used: count,
})
/** A membership record. */
export type PeerRecord = z.infer<typeof peerRecordSchema>

/** Error reply fields: a stable code and a human message. */
export const errorReplySchema = z.object({
  code: z.string().min(1).max(MAX_TYPE_LENGTH),
  message: z.string().max(MAX_ERROR_MESSAGE_LENGTH),
})

/** Cancels an in-flight request of the sender (one-way). */
export const cancelSchema = z.object({ id: z.int().min(0) })

const empty = z.object({})

/** Request and response field schemas of the CAS request types. */
export const requestTypes = {
  ping: { request: empty, response: empty },
  'put-blob': {
    request: z.object({ blob: hex64, pins: z.array(z.object({ owner: hex64, seq: count })).max(MAX_BATCH) }),
    response: z.object({ stored: z.boolean() }),
  },
  'get-blob': {
    request: z.object({ blob: hex64, offset: count.optional(), length: count.optional() }),
    response: empty,
  },
  has: {
    request: z.object({ blobs: z.array(hex64).max(MAX_BATCH) }),
    response: z.object({ have: z.array(z.boolean()).max(MAX_BATCH) }),
  },
  pin: {
    request: z.object({ blobs: z.array(hex64).max(MAX_BATCH), seq: count }),
    response: z.object({ ok: z.array(z.boolean()).max(MAX_BATCH) }),
  },
  unpin: {
    request: z.object({ blobs: z.array(hex64).max(MAX_BATCH), seq: count }),
    response: z.object({ ok: z.array(z.boolean()).max(MAX_BATCH) }),
  },
} as const

/** Field schemas of the CAS one-way message types. */
export const messageTypes = {
  gossip: z.object({ peers: z.array(peerRecordSchema).max(MAX_BATCH) }),
} as const

/** A CAS request type. */
export type RequestType = keyof typeof requestTypes
/** Request fields of a CAS request type. */
export type RequestHeader<T extends RequestType> = z.infer<(typeof requestTypes)[T]['request']>
/** Response fields of a CAS request type. */
export type ResponseHeader<T extends RequestType> = z.infer<(typeof requestTypes)[T]['response']>
/** A CAS one-way message type. */
export type MessageType = keyof typeof messageTypes

/** A schema that validates header fields and returns them (zod-compatible). */
export interface HeaderSchema {
  safeParse(value: unknown): { success: true; data: unknown } | { success: false; error: unknown }
}

/** Fields of a header without the envelope keys: what handlers and callers see. */
export function fieldsOf(header: Record<string, unknown>): Record<string, unknown> {
  const { t: _t, id: _id, ...fields } = header
  return fields
}
