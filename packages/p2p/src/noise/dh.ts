import { createPrivateKey, createPublicKey, diffieHellman, randomBytes, type KeyObject } from 'node:crypto'
import type { KeyPair } from '@cas/crypto'
import { P2PError } from '../errors.js'

/** A raw X25519 key pair (@cas/crypto's KeyPair). */
export type { KeyPair }

/** Length of X25519 keys and shared secrets (Noise DHLEN). */
export const DH_LENGTH = 32

// DER prefixes that wrap a raw 32-byte X25519 key as PKCS#8 / SPKI (RFC 8410).
const PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex')
const SPKI_PREFIX = Buffer.from('302a300506032b656e032100', 'hex')

function checkLength(key: Uint8Array, what: string): void {
  if (key.length !== DH_LENGTH) throw new P2PError('INVALID_ARGUMENT', `${what} must be ${DH_LENGTH} bytes`)
}

/** Wraps a raw private key for node:crypto. */
export function privateKeyObject(privateKey: Uint8Array): KeyObject {
  checkLength(privateKey, 'X25519 private key')
  return createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, privateKey]), format: 'der', type: 'pkcs8' })
}

/** Wraps a raw public key for node:crypto. */
export function publicKeyObject(publicKey: Uint8Array): KeyObject {
  checkLength(publicKey, 'X25519 public key')
  return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, publicKey]), format: 'der', type: 'spki' })
}

/** The key pair of a raw private key. */
export function keyPairFromPrivate(privateKey: Uint8Array): KeyPair {
  const publicKey = createPublicKey(privateKeyObject(privateKey)).export({ format: 'der', type: 'spki' }).subarray(SPKI_PREFIX.length)
  return { publicKey: Buffer.from(publicKey), privateKey: Buffer.from(privateKey) }
}

/** A fresh random key pair (Noise GENERATE_KEYPAIR; X25519 clamps the scalar itself). */
export function generateKeyPair(): KeyPair {
  return keyPairFromPrivate(randomBytes(DH_LENGTH))
}

/**
 * X25519(privateKey, publicKey). node:crypto refuses low-order public keys (all-zero output);
 * that surfaces as a handshake failure, which is what a peer sending one deserves.
 */
export function dh(privateKey: Uint8Array, publicKey: Uint8Array): Buffer {
  try {
    return diffieHellman({ privateKey: privateKeyObject(privateKey), publicKey: publicKeyObject(publicKey) })
  } catch (err) {
    throw new P2PError('HANDSHAKE_FAILED', 'X25519 failed', { cause: err })
  }
}
