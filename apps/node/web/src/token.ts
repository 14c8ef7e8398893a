import { TOKEN_STORAGE_KEY } from './constants'

// Storage can be unavailable (privacy modes); the token then lives in memory for this page only.
let memoryToken: string | null = null

function storage(): Storage | null {
  try {
    return window.sessionStorage
  } catch {
    return null
  }
}

/**
 * Takes the bearer token from `?token=` if present (keeping it for the tab's session and removing it
 * from the address bar, so it does not end up in bookmarks, history or screenshots), else returns the
 * token kept earlier in this session.
 */
export function loadToken(): string | null {
  const url = new URL(window.location.href)
  const fromUrl = url.searchParams.get('token')
  if (fromUrl !== null) {
    url.searchParams.delete('token')
    window.history.replaceState(window.history.state, '', url.pathname + url.search + url.hash)
    if (fromUrl.trim() !== '') saveToken(fromUrl.trim())
  }
  try {
    return storage()?.getItem(TOKEN_STORAGE_KEY) ?? memoryToken
  } catch {
    return memoryToken
  }
}

/** Keeps the token for this tab's session. */
export function saveToken(token: string): void {
  memoryToken = token
  try {
    storage()?.setItem(TOKEN_STORAGE_KEY, token)
  } catch {
    // memoryToken is enough for this page.
  }
}

/** Forgets the token. */
export function clearToken(): void {
  memoryToken = null
  try {
    storage()?.removeItem(TOKEN_STORAGE_KEY)
  } catch {
    // nothing kept
  }
}
