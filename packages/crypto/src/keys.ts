import { createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, randomBytes } from 'node:crypto'
import { KEY_LENGTH, X25519_KEY_LENGTH } from './constants.js'
import { CryptoError } from './errors.js'

/** An X25519 key pair as raw 32-byte keys; the public key is a node's identity. */
export interface KeyPair {
  publicKey: Buffer
  privateKey: Buffer
}

/** A fresh random 32-byte symmetric key (owner key, network key). */
export function generateKey(): Buffer {
  return randomBytes(KEY_LENGTH)
}

/** A fresh X25519 key pair. */
export function generateKeyPair(): KeyPair {
  const { privateKey } = generateKeyPairSync('x25519')
  const jwk = privateKey.export({ format: 'jwk' })
  return {
    privateKey: Buffer.from(jwk.d ?? '', 'base64url'),
    publicKey: Buffer.from(jwk.x ?? '', 'base64url'),
  }
}

/** The X25519 public key of a raw private key. */
export function publicKeyFromPrivate(privateKey: Uint8Array): Buffer {
  const jwk = createPublicKey(privateKeyObject(privateKey)).export({ format: 'jwk' })
  return Buffer.from(jwk.x ?? '', 'base64url')
}

/** The X25519 shared secret of our private key and their public key. */
export function x25519(privateKey: Uint8Array, publicKey: Uint8Array): Buffer {
  if (publicKey.byteLength !== X25519_KEY_LENGTH) {
    throw new CryptoError('INVALID_KEY', `X25519 public key must be ${X25519_KEY_LENGTH} bytes`)
  }
  const publicObject = createPublicKey({
    key: { kty: 'OKP', crv: 'X25519', x: Buffer.from(publicKey).toString('base64url') },
    format: 'jwk',
  })
  return diffieHellman({ privateKey: privateKeyObject(privateKey), publicKey: publicObject })
}

function privateKeyObject(privateKey: Uint8Array) {
  if (privateKey.byteLength !== X25519_KEY_LENGTH) {
    throw new CryptoError('INVALID_KEY', `X25519 private key must be ${X25519_KEY_LENGTH} bytes`)
  }
  // PKCS#8 wrapping of a raw X25519 private key (RFC 8410): fixed 16-byte prefix.
  const der = Buffer.concat([Buffer.from('302e020100300506032b656e04220420', 'hex'), privateKey])
  return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' })
}
