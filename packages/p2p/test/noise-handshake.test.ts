import { randomBytes } from 'node:crypto'
import { describe, expect, test } from 'vitest'
import { P2PError } from '../src/errors.js'
import { CipherState } from '../src/noise/cipher-state.js'
import { generateKeyPair } from '../src/noise/dh.js'
import { HandshakeState } from '../src/noise/handshake-state.js'
import { parseProtocolName } from '../src/noise/protocol-name.js'

const SUITES = ['AESGCM', 'ChaChaPoly'].flatMap((c) => ['SHA256', 'SHA512', 'BLAKE2b'].flatMap((h) => [`Noise_XX_25519_${c}_${h}`, `Noise_XXpsk3_25519_${c}_${h}`]))

function run(name: string, initiatorPsk?: Buffer, responderPsk?: Buffer, prologues: [string, string] = ['p', 'p']) {
  const is = generateKeyPair()
  const rs = generateKeyPair()
  const initiator = new HandshakeState({ protocolName: name, initiator: true, prologue: Buffer.from(prologues[0]), staticKeyPair: is, psk: initiatorPsk })
  const responder = new HandshakeState({ protocolName: name, initiator: false, prologue: Buffer.from(prologues[1]), staticKeyPair: rs, psk: responderPsk })
  expect(responder.readMessage(initiator.writeMessage(Buffer.from('one'))).toString()).toBe('one')
  expect(initiator.readMessage(responder.writeMessage(Buffer.from('two'))).toString()).toBe('two')
  expect(initiator.remoteStaticKey!.equals(rs.publicKey)).toBe(true)
  expect(responder.readMessage(initiator.writeMessage(Buffer.from('three'))).toString()).toBe('three')
  expect(responder.remoteStaticKey!.equals(is.publicKey)).toBe(true)
  return { initiator: initiator.finish(), responder: responder.finish() }
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (err) {
    return err instanceof P2PError ? err.code : 'not a P2PError'
  }
  return undefined
}

describe('Noise handshakes', () => {
  test.each(SUITES)('%s: both sides agree and transport messages flow both ways', (name) => {
    const psk = name.includes('psk') ? randomBytes(32) : undefined
    const { initiator, responder } = run(name, psk, psk)
    expect(initiator.handshakeHash.equals(responder.handshakeHash)).toBe(true)
    for (let i = 0; i < 3; i++) {
      const up = initiator.send.encryptWithAd(Buffer.alloc(0), Buffer.from(`up ${i}`))
      expect(responder.receive.decryptWithAd(Buffer.alloc(0), up).toString()).toBe(`up ${i}`)
      const down = responder.send.encryptWithAd(Buffer.alloc(0), Buffer.from(`down ${i}`))
      expect(initiator.receive.decryptWithAd(Buffer.alloc(0), down).toString()).toBe(`down ${i}`)
    }
  })

  test('XXpsk3 with a wrong psk fails at the third message', () => {
    expect(codeOf(() => run('Noise_XXpsk3_25519_AESGCM_SHA256', randomBytes(32), randomBytes(32)))).toBe('DECRYPT_FAILED')
  })

  test('different prologues fail', () => {
    expect(codeOf(() => run('Noise_XX_25519_AESGCM_SHA256', undefined, undefined, ['cas/1', 'cas/2']))).toBe('DECRYPT_FAILED')
  })

  test('psk patterns need a 32-byte psk; unknown protocols are refused', () => {
    expect(codeOf(() => new HandshakeState({ protocolName: 'Noise_XXpsk3_25519_AESGCM_SHA256', initiator: true, staticKeyPair: generateKeyPair() }))).toBe('INVALID_ARGUMENT')
    for (const name of ['Noise_NN_25519_AESGCM_SHA256', 'Noise_XX_448_AESGCM_SHA256', 'Noise_XX_25519_AESGCM_MD5', 'XX']) {
      expect(codeOf(() => parseProtocolName(name))).toBe('NOISE')
    }
  })

  test('messages out of turn are refused', () => {
    const hs = new HandshakeState({ protocolName: 'Noise_XX_25519_AESGCM_SHA256', initiator: false, staticKeyPair: generateKeyPair() })
    expect(codeOf(() => hs.writeMessage())).toBe('NOISE')
  })

  test('a failed handshake cannot be continued', () => {
    const responder = new HandshakeState({ protocolName: 'Noise_XX_25519_AESGCM_SHA256', initiator: false, staticKeyPair: generateKeyPair() })
    expect(codeOf(() => responder.readMessage(Buffer.alloc(5)))).toBe('HANDSHAKE_FAILED')
    expect(codeOf(() => responder.readMessage(Buffer.alloc(32)))).toBe('HANDSHAKE_FAILED')
  })

  test('nonces: AESGCM counts big-endian, ChaChaPoly little-endian, both from zero', () => {
    const key = randomBytes(32)
    for (const cipher of ['AESGCM', 'ChaChaPoly'] as const) {
      const a = new CipherState(cipher, key)
      const b = new CipherState(cipher, key)
      const first = a.encryptWithAd(Buffer.alloc(0), Buffer.from('x'))
      expect(a.nonce).toBe(1)
      expect(b.decryptWithAd(Buffer.alloc(0), first).toString()).toBe('x')
      // The same plaintext under the next nonce differs.
      expect(a.encryptWithAd(Buffer.alloc(0), Buffer.from('x')).equals(first)).toBe(false)
    }
  })
})
