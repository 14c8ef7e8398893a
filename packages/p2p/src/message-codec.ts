import { MESSAGE_PREFIX_BYTES } from './constants.js'
import { P2PError } from './errors.js'
import { envelopeSchema, type Envelope } from './messages.js'

/** A decoded message: the envelope-checked header and the raw body (absent when empty). */
export interface WireMessage {
  header: Envelope
  body: Buffer | undefined
}

/** Bounds of the message codec. */
export interface MessageLimits {
  maxHeaderBytes: number
  maxBodyBytes: number
}

/**
 * Encodes one message as `u32 headerLength | u32 bodyLength | header JSON | body`. Returns the prefix
 * and header in one buffer and the body untouched, so a 1 MiB body is never copied here.
 */
export function encodeMessage(header: Envelope, body: Buffer | undefined, limits: MessageLimits): [Buffer, Buffer | undefined] {
  const json = JSON.stringify(header)
  const headerLength = Buffer.byteLength(json)
  if (headerLength > limits.maxHeaderBytes) throw new P2PError('MESSAGE_TOO_LARGE', `header of ${headerLength} bytes exceeds ${limits.maxHeaderBytes}`)
  const bodyLength = body?.length ?? 0
  if (bodyLength > limits.maxBodyBytes) throw new P2PError('MESSAGE_TOO_LARGE', `body of ${bodyLength} bytes exceeds ${limits.maxBodyBytes}`)
  const head = Buffer.allocUnsafe(MESSAGE_PREFIX_BYTES + headerLength)
  head.writeUInt32BE(headerLength, 0)
  head.writeUInt32BE(bodyLength, 4)
  head.write(json, MESSAGE_PREFIX_BYTES, 'utf8')
  return [head, bodyLength === 0 ? undefined : body]
}

/** Parses and envelope-checks a header; throws P2PError PROTOCOL. */
export function parseHeader(bytes: Buffer): Envelope {
  let value: unknown
  try {
    value = JSON.parse(bytes.toString('utf8'))
  } catch (err) {
    throw new P2PError('PROTOCOL', 'header is not JSON', { cause: err })
  }
  const parsed = envelopeSchema.safeParse(value)
  if (!parsed.success) throw new P2PError('PROTOCOL', 'header has no valid type or id', { cause: parsed.error })
  return parsed.data
}

/**
 * Memory for a message body of `length` bytes, which the decoder fills and hands to the receiver,
 * who owns it from then on. Lets a receiver reuse the memory of bodies it is done with.
 */
export type BodyAllocator = (length: number) => Buffer

const enum State {
  Prefix,
  Header,
  Body,
}

/**
 * Splits the decrypted byte stream into messages. Both lengths are checked against the limits before
 * any allocation; at most one message is buffered. Throws P2PError PROTOCOL / MESSAGE_TOO_LARGE, after
 * which the decoder must not be used again.
 */
export class MessageDecoder {
  readonly #limits: MessageLimits
  readonly #onMessage: (message: WireMessage) => void
  readonly #allocateBody: BodyAllocator
  #state = State.Prefix
  readonly #prefix = Buffer.alloc(MESSAGE_PREFIX_BYTES)
  #prefixFilled = 0
  #headerLength = 0
  #bodyLength = 0
  #part: Buffer | undefined
  #partFilled = 0
  #header: Envelope | undefined

  constructor(limits: MessageLimits, onMessage: (message: WireMessage) => void, allocateBody: BodyAllocator = (length) => Buffer.allocUnsafe(length)) {
    this.#limits = limits
    this.#onMessage = onMessage
    this.#allocateBody = allocateBody
  }

  /** Bytes held for the message being assembled. */
  get bufferedBytes(): number {
    return this.#prefixFilled + (this.#part?.length ?? 0)
  }

  push(chunk: Buffer): void {
    let offset = 0
    while (offset < chunk.length) {
      if (this.#state === State.Prefix) {
        const n = Math.min(MESSAGE_PREFIX_BYTES - this.#prefixFilled, chunk.length - offset)
        chunk.copy(this.#prefix, this.#prefixFilled, offset, offset + n)
        this.#prefixFilled += n
        offset += n
        if (this.#prefixFilled === MESSAGE_PREFIX_BYTES) this.#startMessage()
      } else {
        const length = this.#state === State.Header ? this.#headerLength : this.#bodyLength
        const available = chunk.length - offset
        let piece: Buffer | undefined
        if (this.#part === undefined && available >= length) {
          // The whole part is in this chunk: use it in place.
          piece = chunk.subarray(offset, offset + length)
          offset += length
        } else {
          this.#part ??= this.#state === State.Header ? Buffer.allocUnsafe(length) : this.#bodyMemory(length)
          const n = Math.min(length - this.#partFilled, available)
          chunk.copy(this.#part, this.#partFilled, offset, offset + n)
          this.#partFilled += n
          offset += n
          if (this.#partFilled === length) piece = this.#part
        }
        if (piece !== undefined) {
          this.#part = undefined
          this.#partFilled = 0
          this.#finishPart(piece)
        }
      }
    }
  }

  #bodyMemory(length: number): Buffer {
    const memory = this.#allocateBody(length)
    if (memory.byteLength !== length) throw new P2PError('INVALID_ARGUMENT', `the body allocator gave ${memory.byteLength} bytes for a body of ${length}`)
    return memory
  }

  #startMessage(): void {
    this.#prefixFilled = 0
    this.#headerLength = this.#prefix.readUInt32BE(0)
    this.#bodyLength = this.#prefix.readUInt32BE(4)
    if (this.#headerLength === 0) throw new P2PError('PROTOCOL', 'message without header')
    if (this.#headerLength > this.#limits.maxHeaderBytes) {
      throw new P2PError('MESSAGE_TOO_LARGE', `header of ${this.#headerLength} bytes exceeds ${this.#limits.maxHeaderBytes}`)
    }
    if (this.#bodyLength > this.#limits.maxBodyBytes) {
      throw new P2PError('MESSAGE_TOO_LARGE', `body of ${this.#bodyLength} bytes exceeds ${this.#limits.maxBodyBytes}`)
    }
    this.#state = State.Header
  }

  #finishPart(piece: Buffer): void {
    if (this.#state === State.Header) {
      this.#header = parseHeader(piece)
      if (this.#bodyLength > 0) {
        this.#state = State.Body
        return
      }
      this.#emit(undefined)
    } else {
      this.#emit(piece)
    }
  }

  #emit(body: Buffer | undefined): void {
    const header = this.#header!
    this.#header = undefined
    this.#state = State.Prefix
    this.#onMessage({ header, body })
  }
}
