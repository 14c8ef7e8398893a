import type { CipherState } from '../../src/noise/cipher-state.js'
import { keyPairFromPrivate } from '../../src/noise/dh.js'
import { HandshakeState } from '../../src/noise/handshake-state.js'
import { parseProtocolName } from '../../src/noise/protocol-name.js'

/** One vector in the cacophony JSON format. */
export interface NoiseVector {
  protocol_name: string
  init_prologue: string
  init_static?: string
  init_ephemeral: string
  init_psks?: string[]
  resp_prologue: string
  resp_static?: string
  resp_ephemeral?: string
  resp_psks?: string[]
  handshake_hash?: string
  messages: { payload: string; ciphertext: string }[]
}

/** What checking a vector file found. */
export interface VectorReport {
  checked: number
  skipped: string[]
  mismatches: string[]
}

const HANDSHAKE_MESSAGES = 3

function hex(s: string): Buffer {
  return Buffer.from(s, 'hex')
}

function isSupported(name: string): boolean {
  try {
    parseProtocolName(name)
    return true
  } catch {
    return false
  }
}

/** Checks one vector byte for byte; returns the mismatches (empty when it passes). */
export function checkVector(v: NoiseVector): string[] {
  const mismatches: string[] = []
  const where = (i: number, what: string): string => `${v.protocol_name} message ${i}: ${what}`
  try {
    const psk = (list?: string[]): Buffer | undefined => (list?.[0] === undefined ? undefined : hex(list[0]))
    const initiator = new HandshakeState({
      protocolName: v.protocol_name,
      initiator: true,
      prologue: hex(v.init_prologue),
      staticKeyPair: keyPairFromPrivate(hex(v.init_static ?? '')),
      ephemeralKeyPair: keyPairFromPrivate(hex(v.init_ephemeral)),
      psk: psk(v.init_psks),
    })
    const responder = new HandshakeState({
      protocolName: v.protocol_name,
      initiator: false,
      prologue: hex(v.resp_prologue),
      staticKeyPair: keyPairFromPrivate(hex(v.resp_static ?? '')),
      ephemeralKeyPair: keyPairFromPrivate(hex(v.resp_ephemeral ?? '')),
      psk: psk(v.resp_psks),
    })
    let initiatorCiphers: { send: CipherState; receive: CipherState } | undefined
    let responderCiphers: { send: CipherState; receive: CipherState } | undefined
    v.messages.forEach((m, i) => {
      const fromInitiator = i % 2 === 0
      const payload = hex(m.payload)
      const expected = hex(m.ciphertext)
      let written: Buffer
      let read: Buffer
      if (i < HANDSHAKE_MESSAGES) {
        const [writer, reader] = fromInitiator ? [initiator, responder] : [responder, initiator]
        written = writer.writeMessage(payload)
        // The reader consumes the published bytes, so a wrong byte in the file is caught from either side.
        read = reader.readMessage(expected)
        if (i === HANDSHAKE_MESSAGES - 1) {
          const ih = initiator.finish()
          const rh = responder.finish()
          if (v.handshake_hash !== undefined && !ih.handshakeHash.equals(hex(v.handshake_hash))) {
            mismatches.push(where(i, 'handshake hash (initiator)'))
          }
          if (!rh.handshakeHash.equals(ih.handshakeHash)) mismatches.push(where(i, 'handshake hash (responder)'))
          initiatorCiphers = ih
          responderCiphers = rh
        }
      } else {
        const [writer, reader] = fromInitiator ? [initiatorCiphers!, responderCiphers!] : [responderCiphers!, initiatorCiphers!]
        written = writer.send.encryptWithAd(Buffer.alloc(0), payload)
        read = reader.receive.decryptWithAd(Buffer.alloc(0), expected)
      }
      if (!written.equals(expected)) mismatches.push(where(i, 'ciphertext'))
      if (!read.equals(payload)) mismatches.push(where(i, 'decrypted payload'))
    })
  } catch (err) {
    mismatches.push(`${v.protocol_name}: ${err instanceof Error ? err.message : String(err)}`)
  }
  return mismatches
}

/**
 * Whether a name is a well-formed Noise protocol name (rev 34: pattern with its modifiers, DH,
 * cipher, hash), supported here or not. A vector file whose names are not is damaged, not merely
 * out of scope.
 */
export function isWellFormedProtocolName(name: string): boolean {
  return /^Noise_[NKXI1]{1,4}((psk\d)|fallback|hfs)?(\+((psk\d)|fallback|hfs))*_(25519|448)(\+\w+)?_(AESGCM|ChaChaPoly)_(SHA256|SHA512|BLAKE2b|BLAKE2s)$/.test(name)
}

/** Checks every supported vector of a cacophony-format document; unsupported protocols are listed as skipped. */
export function checkVectorFile(doc: unknown): VectorReport {
  const report: VectorReport = { checked: 0, skipped: [], mismatches: [] }
  const vectors = (doc as { vectors?: unknown }).vectors
  if (!Array.isArray(vectors)) {
    report.mismatches.push('document has no "vectors" array')
    return report
  }
  for (const v of vectors as NoiseVector[]) {
    if (typeof v?.protocol_name !== 'string' || !isSupported(v.protocol_name)) {
      report.skipped.push(String(v?.protocol_name))
      continue
    }
    report.checked++
    report.mismatches.push(...checkVector(v))
  }
  return report
}
