/** @packageDocumentation @cas/p2p — transports, Noise handshake, encrypted framing, messages and RPC. See README.md. */
export { createHost, Host } from './host.js'
export type { HostOptions, ConnectOptions, IncomingRequest, IncomingMessage, RequestHandler, MessageHandler, HandlerOptions } from './host.js'
export type { PeerConnection, Reply, Response, RequestOptions } from './connection.js'
export type { BodyAllocator } from './message-codec.js'
export { P2PError, isP2PError } from './errors.js'
export type { P2PErrorCode } from './errors.js'
export type { Logger } from './logger.js'
export { silentLogger } from './logger.js'
export { DEFAULT_LIMITS, resolveLimits } from './limits.js'
export type { Limits } from './limits.js'
export * as constants from './constants.js'
export type { Transport, Listener, DialOptions } from './transports/transport.js'
export { parseAddress, formatAddress } from './transports/transport.js'
export { tcpTransport } from './transports/tcp.js'
export type { TcpTransportOptions } from './transports/tcp.js'
export { MemoryNetwork, memoryTransport } from './transports/memory.js'
export type { MemoryTransportOptions } from './transports/memory.js'
export {
  helloSchema,
  peerRecordSchema,
  errorReplySchema,
  requestTypes,
  messageTypes,
} from './messages.js'
export type { Hello, PeerRecord, RequestType, RequestHeader, ResponseHeader, MessageType, HeaderSchema } from './messages.js'
export { HandshakeState } from './noise/handshake-state.js'
export type { HandshakeOptions, HandshakeResult } from './noise/handshake-state.js'
export { CipherState } from './noise/cipher-state.js'
export { parseProtocolName } from './noise/protocol-name.js'
export type { NoiseProtocol, PatternName, CipherName, HashName } from './noise/protocol-name.js'
export { generateKeyPair as generateNoiseKeyPair, keyPairFromPrivate } from './noise/dh.js'
export type { KeyPair } from './noise/dh.js'
