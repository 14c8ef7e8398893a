import { P2PError } from '../errors.js'

/** Handshake patterns implemented here. */
export type PatternName = 'XX' | 'XXpsk3'
/** Noise cipher functions implemented here. */
export type CipherName = 'AESGCM' | 'ChaChaPoly'
/** Noise hash functions implemented here. */
export type HashName = 'SHA256' | 'SHA512' | 'BLAKE2b'

/** A parsed Noise protocol name such as `Noise_XXpsk3_25519_AESGCM_SHA256`. */
export interface NoiseProtocol {
  readonly name: string
  readonly pattern: PatternName
  readonly cipher: CipherName
  readonly hash: HashName
}

const PATTERNS = new Set<string>(['XX', 'XXpsk3'])
const CIPHERS = new Set<string>(['AESGCM', 'ChaChaPoly'])
const HASHES = new Set<string>(['SHA256', 'SHA512', 'BLAKE2b'])

/** Parses and checks a protocol name; throws P2PError NOISE for anything not implemented. */
export function parseProtocolName(name: string): NoiseProtocol {
  const parts = name.split('_')
  const [prefix, pattern, dh, cipher, hash] = parts
  if (
    parts.length !== 5 ||
    prefix !== 'Noise' ||
    pattern === undefined ||
    !PATTERNS.has(pattern) ||
    dh !== '25519' ||
    cipher === undefined ||
    !CIPHERS.has(cipher) ||
    hash === undefined ||
    !HASHES.has(hash)
  ) {
    throw new P2PError('NOISE', `unsupported Noise protocol: ${name}`)
  }
  return { name, pattern: pattern as PatternName, cipher: cipher as CipherName, hash: hash as HashName }
}
