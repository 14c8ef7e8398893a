/**
 * Property tests: random and mutated bytes into every decoder. A decoder may only ever throw
 * P2PError (never anything else, never crash), and never hold more than its bounds allow.
 * Runs scale with FUZZ_SCALE; the last test checks the total.
 */
import { randomBytes } from 'node:crypto'
import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { NOISE_MAX_MESSAGE } from '../src/constants.js'
import { P2PError } from '../src/errors.js'
import { FrameDecoder, FrameEncoder } from '../src/frame-codec.js'
import { decodeHello } from '../src/handshake.js'
import { MessageDecoder, encodeMessage, parseHeader } from '../src/message-codec.js'
import { cancelSchema, errorReplySchema, helloSchema, messageTypes, requestTypes } from '../src/messages.js'
import { CipherState } from '../src/noise/cipher-state.js'
import { generateKeyPair } from '../src/noise/dh.js'
import { HandshakeState } from '../src/noise/handshake-state.js'
import { fuzzCounter, runs } from './support/fuzz.js'

const LIMITS = { maxHeaderBytes: 4096, maxBodyBytes: 64 * 1024 }
const KEY = randomBytes(32)

/** Runs fn; anything thrown must be a P2PError. */
function onlyP2PErrors(fn: () => void): void {
  fuzzCounter.inputs++
  try {
    fn()
  } catch (err) {
    if (!(err instanceof P2PError)) throw err
  }
}

/** Cuts bytes into chunks at the given points. */
function chunked(bytes: Uint8Array, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b)
  const out: Buffer[] = []
  let last = 0
  for (const p of [...points, bytes.length]) {
    if (p > last) out.push(Buffer.from(bytes.subarray(last, p)))
    last = p
  }
  return out
}

const bytes = (maxLength: number) => fc.uint8Array({ maxLength })
const cuts = fc.array(fc.nat(), { maxLength: 6 })

/** A mutation of a valid byte string: flips, truncation, insertion, or a spliced random run. */
const mutation = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), data: bytes(16) }),
  fc.record({ kind: fc.constant('overwrite' as const), at: fc.nat(), data: bytes(16) }),
)

function mutate(input: Buffer, m: { kind: string; at: number; bit?: number; data?: Uint8Array }): Buffer {
  const out = Buffer.from(input)
  if (out.length === 0) return out
  const at = m.at % out.length
  if (m.kind === 'flip') out[at]! ^= 1 << m.bit!
  else if (m.kind === 'truncate') return out.subarray(0, at)
  else if (m.kind === 'insert') return Buffer.concat([out.subarray(0, at), m.data!, out.subarray(at)])
  else Buffer.from(m.data!).copy(out, at)
  return out
}

describe('fuzz: frame decoder', () => {
  test('random bytes: only P2PErrors, at most one frame held', () => {
    fc.assert(
      fc.property(bytes(300), cuts, (input, at) => {
        const decoder = new FrameDecoder(new CipherState('AESGCM', KEY), () => {})
        onlyP2PErrors(() => {
          for (const chunk of chunked(input, at)) {
            decoder.push(chunk)
            expect(decoder.heldBytes).toBeLessThanOrEqual(NOISE_MAX_MESSAGE)
          }
        })
      }),
      { numRuns: runs(25_000) },
    )
  })

  test('mutated valid streams never release forged plaintext', () => {
    const plaintext = randomBytes(600)
    // Three frames, encrypted once: every run mutates a copy.
    const encoder = new FrameEncoder(new CipherState('AESGCM', KEY))
    const frames: Buffer[] = []
    for (let i = 0; i < 3; i++) {
      encoder.push(plaintext.subarray(i * 200, (i + 1) * 200))
      frames.push(...encoder.flush())
    }
    const valid = Buffer.concat(frames)
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 3 }), cuts, (mutations, at) => {
        let wire: Buffer = valid
        for (const m of mutations) wire = mutate(wire, m)
        const released: Buffer[] = []
        const decoder = new FrameDecoder(new CipherState('AESGCM', KEY), (p) => released.push(Buffer.from(p)))
        onlyP2PErrors(() => {
          for (const chunk of chunked(wire, at)) decoder.push(chunk)
        })
        // Whatever got through authentication is exactly a prefix of what was sent.
        const out = Buffer.concat(released)
        expect(out.equals(plaintext.subarray(0, out.length))).toBe(true)
      }),
      { numRuns: runs(15_000) },
    )
  })
})

describe('fuzz: message decoder', () => {
  test('random bytes: only P2PErrors, never more buffered than one bounded message', () => {
    fc.assert(
      fc.property(bytes(400), cuts, (input, at) => {
        const decoder = new MessageDecoder(LIMITS, () => {})
        onlyP2PErrors(() => {
          for (const chunk of chunked(input, at)) {
            decoder.push(chunk)
            expect(decoder.bufferedBytes).toBeLessThanOrEqual(8 + Math.max(LIMITS.maxHeaderBytes, LIMITS.maxBodyBytes))
          }
        })
      }),
      { numRuns: runs(30_000) },
    )
  })

  test('random length prefixes are bounded before allocation', () => {
    fc.assert(
      fc.property(fc.nat({ max: 0xffff_ffff }), fc.nat({ max: 0xffff_ffff }), (h, b) => {
        const prefix = Buffer.alloc(8)
        prefix.writeUInt32BE(h, 0)
        prefix.writeUInt32BE(b, 4)
        const decoder = new MessageDecoder(LIMITS, () => {})
        let code: string | undefined
        onlyP2PErrors(() => {
          try {
            decoder.push(prefix)
          } catch (err) {
            code = (err as P2PError).code
            throw err
          }
        })
        const ok = h > 0 && h <= LIMITS.maxHeaderBytes && b <= LIMITS.maxBodyBytes
        expect(code === undefined).toBe(ok)
      }),
      { numRuns: runs(10_000) },
    )
  })

  test('mutated valid messages: only P2PErrors; decoded headers always pass the envelope check', () => {
    const [head, body] = encodeMessage({ t: 'put-blob', id: 7, blob: 'ab'.repeat(32), pins: [] }, randomBytes(300), LIMITS)
    const valid = Buffer.concat([head, body!, ...encodeMessage({ t: 'ping', id: 8 }, undefined, LIMITS).filter((x): x is Buffer => x !== undefined)])
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 3 }), cuts, (mutations, at) => {
        let wire: Buffer = valid
        for (const m of mutations) wire = mutate(wire, m)
        const decoder = new MessageDecoder(LIMITS, (msg) => {
          expect(typeof msg.header.t).toBe('string')
          expect(msg.body === undefined || msg.body.length <= LIMITS.maxBodyBytes).toBe(true)
        })
        onlyP2PErrors(() => {
          for (const chunk of chunked(wire, at)) decoder.push(chunk)
        })
      }),
      { numRuns: runs(10_000) },
    )
  })
})

describe('fuzz: headers, schemas and hello', () => {
  const schemas = [
    ...Object.values(requestTypes).flatMap((s) => [s.request, s.response]),
    ...Object.values(messageTypes),
    errorReplySchema,
    cancelSchema,
    helloSchema,
  ]

  test('any JSON value: the header parser and every schema answer without throwing', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (value) => {
        const text = Buffer.from(JSON.stringify(value) ?? 'null')
        onlyP2PErrors(() => parseHeader(text))
        for (const schema of schemas) schema.safeParse(value)
      }),
      { numRuns: runs(8_000) },
    )
  })

  test('arbitrary strings as hello payloads: only P2PErrors', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 200 }), fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? '')), (text) => {
        onlyP2PErrors(() => decodeHello(Buffer.from(text)))
      }),
      { numRuns: runs(6_000) },
    )
  })
})

describe('fuzz: handshake messages', () => {
  const staticKey = generateKeyPair()
  const psk = randomBytes(32)
  const state = (initiator: boolean): HandshakeState =>
    new HandshakeState({ protocolName: 'Noise_XXpsk3_25519_AESGCM_SHA256', initiator, prologue: Buffer.from('cas/1'), staticKeyPair: staticKey, psk })

  test('random first messages at a responder', () => {
    fc.assert(
      fc.property(bytes(200), (input) => onlyP2PErrors(() => state(false).readMessage(input))),
      { numRuns: runs(6_000) },
    )
  })

  test('random second messages at an initiator', () => {
    fc.assert(
      fc.property(bytes(200), (input) => {
        const initiator = state(true)
        initiator.writeMessage()
        onlyP2PErrors(() => initiator.readMessage(input))
      }),
      { numRuns: runs(1_000) },
    )
  })

  test('mutated third messages at a responder never complete the handshake', () => {
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 2 }), (mutations) => {
        const initiator = state(true)
        const responder = state(false)
        responder.readMessage(initiator.writeMessage())
        initiator.readMessage(responder.writeMessage())
        const third = initiator.writeMessage(Buffer.from('{"version":1}'))
        let wire: Buffer = third
        for (const m of mutations) wire = mutate(wire, m)
        if (wire.equals(third)) return
        let completed = false
        onlyP2PErrors(() => {
          responder.readMessage(wire)
          completed = true
        })
        expect(completed).toBe(false)
      }),
      { numRuns: runs(150) },
    )
  })
})

test('at least 100,000 inputs were fed to the decoders', () => {
  console.log(`fuzz inputs: ${fuzzCounter.inputs}`)
  const scale = Number(process.env.FUZZ_SCALE ?? '1')
  expect(fuzzCounter.inputs).toBeGreaterThanOrEqual(100_000 * Math.min(1, scale))
})
