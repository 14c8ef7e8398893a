import { InvalidArgumentError } from 'commander'

/**
 * Parses a REF argument (address, name or capability). A blank one is a usage error here: sent to the
 * daemon it would be a request for no file, and the reply would not say what was wrong.
 */
export function parseRef(value: string): string {
  if (value.trim() === '') throw new InvalidArgumentError('a ref cannot be empty: give an address, a name or a cas1: capability')
  return value
}

/**
 * Parses `--name`. A blank name is refused rather than trimmed: no ref could name the file again
 * (a blank ref is refused), and a name is stored as given. The daemon checks the rest (length,
 * control characters, names that look like an address).
 */
export function parseName(value: string): string {
  if (value.trim() === '') throw new InvalidArgumentError('a name cannot be empty or only spaces')
  return value
}
