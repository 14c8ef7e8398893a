import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { describe, expect, test } from 'vitest'
import { checkVectorFile, isWellFormedProtocolName, type NoiseVector } from './support/noise-vectors.js'

const FIXTURE = new URL('./fixtures/noise-cacophony-xx.json', import.meta.url)

function load(path: string | URL): { vectors: NoiseVector[] } {
  return JSON.parse(readFileSync(path, 'utf8')) as { vectors: NoiseVector[] }
}

describe('Noise test vectors (cacophony)', () => {
  test('every vector passes byte for byte', () => {
    const report = checkVectorFile(load(FIXTURE))
    expect(report.mismatches).toEqual([])
    expect(report.skipped).toEqual([])
    expect(report.checked).toBe(12)
  })

  const extra = process.env.NOISE_VECTORS
  test.runIf(extra !== undefined && extra !== '')(`vectors from NOISE_VECTORS (${extra ?? 'unset'})`, () => {
    // A relative path is taken from where the command was typed (pnpm's INIT_CWD, else the shell's PWD), not this package.
    const report = checkVectorFile(load(resolve(process.env.INIT_CWD ?? process.env.PWD ?? process.cwd(), extra!)))
    console.log(`NOISE_VECTORS: ${report.checked} vectors checked; ${report.skipped.length} of protocols not implemented here skipped`)
    expect(report.mismatches).toEqual([])
    expect(report.checked).toBeGreaterThan(0)
    // Out-of-scope protocols may be skipped; a name that is no Noise protocol at all is damage.
    expect(report.skipped.filter((name) => !isWellFormedProtocolName(name))).toEqual([])
  })

  test('protocol names: the fixture\'s are well formed, damaged ones are not', () => {
    for (const v of load(FIXTURE).vectors) expect(isWellFormedProtocolName(v.protocol_name), v.protocol_name).toBe(true)
    for (const name of ['Noise_IK_448_ChaChaPoly_BLAKE2s', 'Noise_XXfallback+psk0_25519_AESGCM_SHA256', 'Noise_NK1_25519_AESGCM_SHA512']) {
      expect(isWellFormedProtocolName(name), name).toBe(true)
    }
    for (const name of ['Noise_XX_25519_AESGCM_SHA257', 'Noise_XX_25519_AESGCN_SHA256', 'Noisf_XX_25519_AESGCM_SHA256', 'Noise_XX_25518_AESGCM_SHA256', 'Noise_XY_25519_AESGCM_SHA256']) {
      expect(isWellFormedProtocolName(name), name).toBe(false)
    }
  })

  test('a wrong byte anywhere in a vector is detected', () => {
    const doc = load(FIXTURE)
    const fields = ['ciphertext', 'payload'] as const
    // Flip one byte in each message of every vector (both fields), one at a time.
    let flips = 0
    for (let vi = 0; vi < doc.vectors.length; vi++) {
      for (let mi = 0; mi < doc.vectors[vi]!.messages.length; mi++) {
        for (const field of fields) {
          // Only the altered vector is checked: the others are known good and would just cost time.
          const copy = { vectors: [structuredClone(doc.vectors[vi]!)] }
          const message = copy.vectors[0]!.messages[mi]!
          const bytes = Buffer.from(message[field], 'hex')
          if (bytes.length === 0) continue
          const at = (vi * 7 + mi * 13) % bytes.length
          bytes[at]! ^= 0x01
          message[field] = bytes.toString('hex')
          expect(checkVectorFile(copy).mismatches.length, `${field} of vector ${vi} message ${mi}`).toBeGreaterThan(0)
          flips++
        }
      }
    }
    expect(flips).toBeGreaterThan(100)
  })

  test('a wrong handshake hash, prologue or key is detected', () => {
    for (const field of ['handshake_hash', 'init_prologue', 'resp_static', 'init_ephemeral'] as const) {
      const copy = structuredClone(load(FIXTURE))
      const v = copy.vectors[1]!
      const bytes = Buffer.from(v[field]!, 'hex')
      bytes[0]! ^= 0x80
      v[field] = bytes.toString('hex')
      expect(checkVectorFile(copy).mismatches.length, field).toBeGreaterThan(0)
    }
  })

  test('a psk vector with a different psk fails', () => {
    const copy = structuredClone(load(FIXTURE))
    const v = copy.vectors.find((x) => x.protocol_name === 'Noise_XXpsk3_25519_AESGCM_SHA256')!
    v.resp_psks = ['00'.repeat(32)]
    copy.vectors = [v]
    expect(checkVectorFile(copy).mismatches.length).toBeGreaterThan(0)
  })
})
