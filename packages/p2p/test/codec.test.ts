import { randomBytes } from 'node:crypto'
import { describe, expect, test } from 'vitest'
import { MAX_FRAME_PLAINTEXT, NOISE_TAG_LENGTH } from '../src/constants.js'
import { P2PError } from '../src/errors.js'
import { FrameDecoder, FrameEncoder } from '../src/frame-codec.js'
import { MessageDecoder, encodeMessage, type WireMessage } from '../src/message-codec.js'
import { CipherState } from '../src/noise/cipher-state.js'

const LIMITS = { maxHeaderBytes: 64 * 1024, maxBodyBytes: 4 * 1024 * 1024 }

function pair(): { encoder: FrameEncoder; decode: (wire: Buffer, chunkSize?: number) => Buffer } {
  const key = randomBytes(32)
  const encoder = new FrameEncoder(new CipherState('AESGCM', key))
  const out: Buffer[] = []
  const decoder = new FrameDecoder(new CipherState('AESGCM', key), (p) => out.push(Buffer.from(p)))
  return {
    encoder,
    decode: (wire, chunkSize = wire.length) => {
      for (let o = 0; o < wire.length; o += chunkSize) decoder.push(wire.subarray(o, o + chunkSize))
      return Buffer.concat(out.splice(0))
    },
  }
}

function codeOf(fn: () => void): string | undefined {
  try {
    fn()
  } catch (err) {
    return err instanceof P2PError ? err.code : `not a P2PError: ${String(err)}`
  }
  return undefined
}

describe('frame codec', () => {
  test('round-trips any stream, split into frames of at most 65535 bytes, fed in any chunking', () => {
    for (const size of [0, 1, 1999, MAX_FRAME_PLAINTEXT - 1, MAX_FRAME_PLAINTEXT, MAX_FRAME_PLAINTEXT + 1, 1024 * 1024 + 7]) {
      for (const chunkSize of [1, 3, 1000, 65536, Infinity]) {
        if (chunkSize < 1000 && size > 70_000) continue
        if (chunkSize === 1 && size > 2000) continue
        const { encoder, decode } = pair()
        const data = randomBytes(size)
        // Several pieces so frames straddle them.
        encoder.push(data.subarray(0, size >> 1))
        encoder.push(data.subarray(size >> 1))
        const chunks = encoder.flush()
        const wire = Buffer.concat(chunks)
        let offset = 0
        while (offset < wire.length) {
          const length = wire.readUInt16BE(offset)
          expect(length).toBeLessThanOrEqual(65535)
          expect(length).toBeGreaterThanOrEqual(NOISE_TAG_LENGTH)
          offset += 2 + length
        }
        expect(offset).toBe(wire.length)
        expect(decode(wire, chunkSize === Infinity ? wire.length : chunkSize).equals(data)).toBe(true)
      }
    }
  })

  test('onEncrypted runs once the flush has encrypted its piece, so the piece may then be overwritten', () => {
    const { encoder, decode } = pair()
    const first = randomBytes(200_000)
    const second = randomBytes(100)
    const expected = Buffer.concat([first, second])
    const calls: string[] = []
    encoder.push(first, () => {
      calls.push('first')
      first.fill(0) // the caller reuses the memory at once
    })
    encoder.push(second, () => calls.push('second'))
    expect(calls).toEqual([])
    const wire = Buffer.concat(encoder.flush())
    expect(calls).toEqual(['first', 'second'])
    expect(decode(wire).equals(expected)).toBe(true)
    encoder.flush()
    expect(calls).toHaveLength(2) // each only once
  })

  test('every frame uses a fresh nonce: equal plaintexts give different ciphertexts', () => {
    const { encoder } = pair()
    const data = Buffer.alloc(100, 1)
    encoder.push(data)
    const a = Buffer.concat(encoder.flush())
    encoder.push(data)
    const b = Buffer.concat(encoder.flush())
    expect(a.equals(b)).toBe(false)
  })

  test('a flipped bit anywhere fails authentication and releases no plaintext', () => {
    const data = randomBytes(3000)
    for (const at of [0, 1, 2, 100, 2999, 3000 + 2 + 15]) {
      const { encoder, decode } = pair()
      encoder.push(data)
      const wire = Buffer.concat(encoder.flush())
      wire[at]! ^= 0x04
      let released: Buffer | undefined
      const code = codeOf(() => (released = decode(wire, 64)))
      if (at < 2) {
        // A changed length either fails at once or leaves the decoder waiting; it never releases bytes.
        expect(code === undefined ? released!.length : 0).toBe(0)
      } else {
        expect(code).toBe('DECRYPT_FAILED')
        expect(released).toBeUndefined()
      }
    }
  })

  test('a replayed or reordered frame fails (nonces are sequential)', () => {
    const { encoder, decode } = pair()
    encoder.push(Buffer.from('first'))
    const first = Buffer.concat(encoder.flush())
    encoder.push(Buffer.from('second'))
    const second = Buffer.concat(encoder.flush())
    expect(codeOf(() => decode(second))).toBe('DECRYPT_FAILED')
    const again = pair()
    again.encoder.push(Buffer.from('x'))
    const f = Buffer.concat(again.encoder.flush())
    expect(again.decode(f).toString()).toBe('x')
    expect(codeOf(() => again.decode(f))).toBe('DECRYPT_FAILED')
    expect(first.length).toBeGreaterThan(0)
  })

  test('a frame shorter than its tag is a protocol error', () => {
    const { decode } = pair()
    expect(codeOf(() => decode(Buffer.from([0, 15, ...Buffer.alloc(15)])))).toBe('PROTOCOL')
  })
})

describe('message codec', () => {
  function decodeAll(wire: Buffer, chunkSize: number, limits = LIMITS): WireMessage[] {
    const out: WireMessage[] = []
    const decoder = new MessageDecoder(limits, (m) => out.push(m))
    for (let o = 0; o < wire.length; o += chunkSize) decoder.push(wire.subarray(o, o + chunkSize))
    return out
  }

  test('round-trips headers and raw bodies in any chunking', () => {
    const body = randomBytes(200_000)
    const messages = [
      encodeMessage({ t: 'put-blob', id: 1, blob: 'ab'.repeat(32) }, body, LIMITS),
      encodeMessage({ t: 'ping', id: 2 }, undefined, LIMITS),
      encodeMessage({ t: 'gossip', peers: [] }, Buffer.from('x'), LIMITS),
    ]
    const wire = Buffer.concat(messages.flatMap(([h, b]) => (b ? [h, b] : [h])))
    for (const chunkSize of [1, 7, 8, 9, 4096, wire.length]) {
      const out = decodeAll(wire, chunkSize)
      expect(out.map((m) => m.header)).toEqual([{ t: 'put-blob', id: 1, blob: 'ab'.repeat(32) }, { t: 'ping', id: 2 }, { t: 'gossip', peers: [] }])
      expect(out[0]!.body!.equals(body)).toBe(true)
      expect(out[1]!.body).toBeUndefined()
      expect(out[2]!.body!.toString()).toBe('x')
    }
  })

  test('a body spanning chunks is assembled in memory from the body allocator; headers and whole-chunk bodies are not', () => {
    const big = randomBytes(300_000)
    const small = randomBytes(100)
    const [head1, body1] = encodeMessage({ t: 'put-blob', id: 1 }, big, LIMITS)
    const [head2, body2] = encodeMessage({ t: 'gossip' }, small, LIMITS)
    const wire = Buffer.concat([head1, body1!, head2, body2!])
    const given: Buffer[] = []
    const asked: number[] = []
    const out: WireMessage[] = []
    const decoder = new MessageDecoder(LIMITS, (m) => out.push(m), (length) => {
      asked.push(length)
      const memory = Buffer.alloc(length)
      given.push(memory)
      return memory
    })
    // The big body spans chunks; the small message arrives in one piece with its body.
    decoder.push(wire.subarray(0, 100_000))
    decoder.push(wire.subarray(100_000))
    expect(asked).toEqual([300_000])
    expect(out[0]!.body).toBe(given[0])
    expect(out[0]!.body!.equals(big)).toBe(true)
    expect(out[1]!.body!.equals(small)).toBe(true)
  })

  test('an allocator that gives the wrong size is a programming error, caught before any byte is written', () => {
    const [head, body] = encodeMessage({ t: 'put-blob', id: 1 }, randomBytes(10_000), LIMITS)
    const decoder = new MessageDecoder(LIMITS, () => {}, (length) => Buffer.alloc(length - 1))
    expect(codeOf(() => decoder.push(Buffer.concat([head, body!]).subarray(0, 5_000)))).toBe('INVALID_ARGUMENT')
  })

  test('oversized lengths are refused from the 8-byte prefix alone, before any allocation', () => {
    const prefix = Buffer.alloc(8)
    prefix.writeUInt32BE(0xffff_ffff, 0)
    expect(codeOf(() => decodeAll(prefix, 8))).toBe('MESSAGE_TOO_LARGE')
    prefix.writeUInt32BE(10, 0)
    prefix.writeUInt32BE(LIMITS.maxBodyBytes + 1, 4)
    expect(codeOf(() => decodeAll(prefix, 8))).toBe('MESSAGE_TOO_LARGE')
    prefix.writeUInt32BE(0, 0)
    prefix.writeUInt32BE(0, 4)
    expect(codeOf(() => decodeAll(prefix, 8))).toBe('PROTOCOL')
  })

  test('the encoder refuses what the decoder would refuse', () => {
    expect(codeOf(() => encodeMessage({ t: 'x' }, Buffer.alloc(LIMITS.maxBodyBytes + 1), LIMITS))).toBe('MESSAGE_TOO_LARGE')
    expect(codeOf(() => encodeMessage({ t: 'x', pad: 'a'.repeat(LIMITS.maxHeaderBytes) }, undefined, LIMITS))).toBe('MESSAGE_TOO_LARGE')
  })

  test('headers must be JSON objects with a type', () => {
    for (const header of ['[1]', '"x"', '{}', '{"t":""}', '{"t":"x","id":-1}', '{"t":"x","id":1.5}', 'nope', '{"t":' + '"a"'.repeat(2) + '}']) {
      const bytes = Buffer.from(header)
      const prefix = Buffer.alloc(8)
      prefix.writeUInt32BE(bytes.length, 0)
      expect(codeOf(() => decodeAll(Buffer.concat([prefix, bytes]), 3)), header).toBe('PROTOCOL')
    }
  })
})
