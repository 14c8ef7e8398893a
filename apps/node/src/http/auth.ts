import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { API_TOKEN_BYTES } from '../constants.js'

/** A new random API bearer token (hex). */
export function generateToken(): string {
  return randomBytes(API_TOKEN_BYTES).toString('hex')
}

/**
 * Checks presented tokens against the daemon's in constant time. Both sides are hashed first so
 * the comparison takes the same time whatever the presented token's length.
 */
export class TokenCheck {
  readonly #expected: Buffer

  constructor(token: string) {
    this.#expected = digest(token)
  }

  /** Whether `presented` is the token. */
  matches(presented: string | undefined): boolean {
    if (presented === undefined) return false
    return timingSafeEqual(digest(presented), this.#expected)
  }
}

/**
 * The token a request presents: `Authorization: Bearer <token>`, else the `token` query parameter
 * (so a browser download can be a plain link).
 */
export function presentedToken(authorization: string | undefined, query: unknown): string | undefined {
  if (authorization !== undefined) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization)
    return match?.[1]
  }
  if (typeof query === 'object' && query !== null) {
    const token = (query as Record<string, unknown>).token
    if (typeof token === 'string') return token
  }
  return undefined
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest()
}
