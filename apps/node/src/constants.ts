/** Defaults and limits of the `cas` app, in one place. */

/** Root directory when neither `--root` nor `CAS_ROOT` is given (relative to the home directory). */
export const DEFAULT_ROOT_DIRNAME = '.cas'
/** Environment variable naming the root directory. */
export const ROOT_ENV = 'CAS_ROOT'

/** Peer-to-peer listen address of a new node. Loopback until told otherwise: the address is also what peers are told to dial, so it must be one they can reach (e.g. --listen 192.168.1.5:7400). */
export const DEFAULT_LISTEN = '127.0.0.1:7400'
/** HTTP API address of a new node: loopback only, so the API is never exposed by accident. */
export const DEFAULT_API = '127.0.0.1:7401'
/** Live copies kept of every blob. */
export const DEFAULT_REPLICAS = 3
/** Plaintext chunk size of new files (DESIGN §2). */
export const DEFAULT_CHUNK_SIZE = 1024 * 1024
/** Largest chunk size accepted in the config. */
export const MAX_CHUNK_SIZE = 64 * 1024 * 1024
/** Smallest chunk size accepted in the config. */
export const MIN_CHUNK_SIZE = 4 * 1024
/** Rate at which the background scrub re-hashes stored blobs. */
export const DEFAULT_SCRUB_BYTES_PER_SECOND = 8 * 1024 * 1024
/** Default log level of the daemon. */
export const DEFAULT_LOG_LEVEL = 'info'

/** Bytes of randomness in an API bearer token (hex-encoded in `api.token`). */
export const API_TOKEN_BYTES = 32
/** Longest file name accepted by `POST /v1/files?name=`, in UTF-8 bytes. */
export const MAX_NAME_BYTES = 1024
/** Longest `:ref` path parameter (names, addresses, capabilities). */
export const MAX_REF_LENGTH = 2048
/** Body limit of requests Fastify parses itself (uploads are streamed and never parsed). */
export const MAX_JSON_BODY_BYTES = 64 * 1024
/** Largest upload when the config sets none: effectively unlimited, uploads are streamed. */
export const DEFAULT_MAX_UPLOAD_BYTES = Number.MAX_SAFE_INTEGER
/** Bytes buffered on each side of the byte meter that sits in every upload and download. */
export const METER_HIGH_WATER_MARK = 1024 * 1024
/** A client that sends no bytes for this long is disconnected (slowloris protection). */
export const HTTP_IDLE_TIMEOUT_MS = 5 * 60 * 1000
/** Time to receive the request headers. */
export const HTTP_HEADERS_TIMEOUT_MS = 30_000
/** Largest number of simultaneous HTTP connections to the API. */
export const HTTP_MAX_CONNECTIONS = 256

/** On SIGINT/SIGTERM, in-flight transfers get this long to finish before they are aborted. */
export const SHUTDOWN_GRACE_MS = 10_000
/** The daemon waits this long for its node to stop before giving up. */
export const SHUTDOWN_HARD_LIMIT_MS = 30_000

/** Read size of `cas put FILE`: large reads mean fewer, larger writes to the API socket. */
export const READ_CHUNK_BYTES = 1024 * 1024
/** How long a CLI command waits for a daemon to answer a short request. */
export const CLIENT_TIMEOUT_MS = 30_000

/** Number of daemons started by `cas demo`. */
export const DEMO_NODES = 4
/** How long `cas demo` waits for its nodes to see each other before going on. */
export const DEMO_JOIN_TIMEOUT_MS = 20_000
/** Replication target of the demo network (each file on 3 of the 4 nodes). */
export const DEMO_REPLICAS = 3

/** Exit codes (DESIGN §6). */
export const EXIT_OK = 0
export const EXIT_FAILURE = 1
export const EXIT_USAGE = 2
/** Conventional exit code of a process stopped by Ctrl-C (128 + SIGINT). */
export const EXIT_INTERRUPTED = 130
