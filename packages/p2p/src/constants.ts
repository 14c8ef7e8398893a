/** Limits and defaults of @cas/p2p, in one place. Every length read off the wire is checked against these. */

/** Protocol version carried in the hello. */
export const PROTOCOL_VERSION = 1

/** The Noise protocol CAS speaks (DESIGN §4). */
export const CAS_NOISE_PROTOCOL = 'Noise_XXpsk3_25519_AESGCM_SHA256'

/** Prologue mixed into every CAS handshake: binds the session to this protocol family. */
export const CAS_PROLOGUE = 'cas/1'

/** Largest Noise message (handshake or transport), per the Noise spec. */
export const NOISE_MAX_MESSAGE = 65535

/** Authentication tag length of AES-GCM and ChaCha20-Poly1305. */
export const NOISE_TAG_LENGTH = 16

/** Largest plaintext carried by one transport frame: 65535 - 16. */
export const MAX_FRAME_PLAINTEXT = NOISE_MAX_MESSAGE - NOISE_TAG_LENGTH

/** Bytes before each Noise message on the wire (big-endian length). */
export const FRAME_LENGTH_BYTES = 2

/** Bytes before each message in the decrypted stream: u32 header length, u32 body length. */
export const MESSAGE_PREFIX_BYTES = 8

/** Default largest message body (blob bytes). */
export const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024

/** Default largest JSON header (a gossip message with 1024 peer records fits comfortably). */
export const DEFAULT_MAX_HEADER_BYTES = 1024 * 1024

/** Largest hello payload inside the handshake. */
export const MAX_HELLO_BYTES = 16 * 1024

/** Default time allowed for a full handshake, hello included. */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000

/** Default time allowed for one dial attempt (transport connect + handshake). */
export const DEFAULT_DIAL_TIMEOUT_MS = 10_000

/** Default dial attempts per connect() call; attempts are separated by jittered exponential backoff. */
export const DEFAULT_DIAL_ATTEMPTS = 3

/** First backoff delay between dial attempts; doubles per failure, with full jitter. */
export const DEFAULT_DIAL_BACKOFF_MS = 200

/** Upper bound of the dial backoff delay, also how long an unreachable address is skipped. */
export const DEFAULT_DIAL_BACKOFF_MAX_MS = 10_000

/** Default per-request timeout. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000

/** Requests this side may have in flight on one connection; more callers wait for a slot. */
export const DEFAULT_MAX_OUTGOING_REQUESTS = 64

/** Callers allowed to wait for an outgoing slot (or for drain) on one connection before getting BUSY. */
export const DEFAULT_MAX_QUEUED_CALLS = 1024

/**
 * Requests a peer may have in flight at this side on one connection; excess requests get BUSY.
 * Larger than the outgoing limit so that two well-behaved peers never see BUSY.
 */
export const DEFAULT_MAX_INCOMING_REQUESTS = 128

/** Body bytes held by in-flight incoming requests before the socket is paused. */
export const DEFAULT_MAX_INCOMING_BYTES = 64 * 1024 * 1024

/** Bytes queued in the socket before writers wait for 'drain'. */
export const DEFAULT_WRITE_HIGH_WATER = 1024 * 1024

/** A connection with no traffic for this long is closed gracefully. */
export const DEFAULT_IDLE_TIMEOUT_MS = 5 * 60_000

/** Time a graceful close waits for in-flight requests before the connection is destroyed. */
export const DEFAULT_CLOSE_TIMEOUT_MS = 10_000

/** Protocol offences tolerated from one peer or address within the window before it is banned. */
export const DEFAULT_MAX_OFFENCES = 3

/** Window over which offences are counted. */
export const OFFENCE_WINDOW_MS = 60_000

/** First ban of a repeat offender; doubles per ban, capped by DEFAULT_BAN_MAX_MS. */
export const DEFAULT_BAN_MS = 30_000

/** Longest ban. */
export const DEFAULT_BAN_MAX_MS = 60 * 60_000

/** Offenders and backoff entries remembered at most (oldest forgotten first). */
export const MAX_TRACKED_REMOTES = 10_000

/** Known addresses per peer kept in the address book. */
export const MAX_ADDRESSES_PER_PEER = 16

/** Peers kept in the address book. */
export const MAX_ADDRESS_BOOK_PEERS = 100_000

/** Longest error message sent in an error reply. */
export const MAX_ERROR_MESSAGE_LENGTH = 1024

/** Longest message type name. */
export const MAX_TYPE_LENGTH = 64

/** Inbound handshakes running at once; more inbound streams are dropped until some finish. */
export const MAX_PENDING_HANDSHAKES = 256

/** Plaintext queued for encryption past which the queue is flushed at once instead of at the end of the tick. */
export const FLUSH_NOW_BYTES = 256 * 1024

/** Accepted streams kept until a listener callback is registered. */
export const LISTENER_BACKLOG = 128

/** TCP socket write buffer before write() returns false: big enough for 1 MiB messages to flow without stalls. */
export const DEFAULT_TCP_HIGH_WATER = 1024 * 1024

/** Most items in one batched request or gossip message (blob ids, pins, peer records). */
export const MAX_BATCH = 1024

/** Bytes buffered during a handshake: a few frames; more before the handshake is done is hostile. */
export const MAX_HANDSHAKE_BUFFER = 4 * (NOISE_MAX_MESSAGE + FRAME_LENGTH_BYTES)
