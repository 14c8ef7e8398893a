import { CasError } from './errors.js'
import type { NodeFactory } from './daemon.js'

/**
 * Builds the real node: `@cas/server` over TCP with a disk store under the root.
 */
export const createCasNode: NodeFactory = () => {
  return Promise.reject(new CasError('UNAVAILABLE', 'the node implementation is not available in this build'))
}
