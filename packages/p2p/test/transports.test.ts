import { MemoryNetwork, memoryTransport } from '../src/transports/memory.js'
import { tcpTransport } from '../src/transports/tcp.js'
import { transportSuite } from './support/transport-suite.js'

transportSuite('tcp', () => tcpTransport(), '127.0.0.1:0', '127.0.0.1:1')

const network = new MemoryNetwork()
transportSuite('memory', () => memoryTransport(network), 'mem:0', 'nowhere:1')
