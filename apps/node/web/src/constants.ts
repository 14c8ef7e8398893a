/** sessionStorage key under which the bearer token is kept for the tab's session. */
export const TOKEN_STORAGE_KEY = 'cas.token'

/** How often the visible page refreshes its data (ms). Polling pauses while the tab is hidden. */
export const FILES_REFRESH_MS = 10_000
export const NETWORK_REFRESH_MS = 4_000

/** Rows rendered at once in the files table; the rest are reached by searching. */
export const MAX_FILE_ROWS = 500

/** Blobs drawn individually in the placement picture; beyond this only per-node totals are shown. */
export const MAX_PLACEMENT_BLOBS = 120

/** How long a toast stays on screen (ms). */
export const TOAST_MS = 3_500

/** Replication target assumed when the daemon's status does not report one (DESIGN §5 default). */
export const DEFAULT_REPLICAS = 3
