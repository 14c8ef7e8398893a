import type { JSX } from 'preact'
import { useCallback, useEffect, useMemo, useState } from 'preact/hooks'
import { Api, ApiError } from './api'
import { NodeChip, NodeColorProvider } from './components/bits'
import { Icon } from './components/icon'
import { Logo, TokenGate } from './components/token-gate'
import { ToastProvider, useNotify } from './components/toasts'
import { UploadPanel } from './components/upload-panel'
import { DEFAULT_REPLICAS, NETWORK_REFRESH_MS } from './constants'
import { FilesPage } from './pages/files'
import { NetworkPage } from './pages/network'
import { routeHref, useRoute } from './router'
import { clearToken, loadToken, saveToken } from './token'
import { usePoll } from './use-poll'
import { useUploads, type UploadItem } from './use-uploads'

/** The whole UI: the token gate, or the shell with its sidebar and the current page. */
export function App(): JSX.Element {
  const [token, setToken] = useState<string | null>(() => loadToken())
  const [reason, setReason] = useState<string | null>(null)
  const signOut = useCallback((why: string | null) => {
    clearToken()
    setReason(why)
    setToken(null)
  }, [])
  return (
    <ToastProvider>
      {token === null ? (
        <TokenGate
          reason={reason}
          onToken={(t) => {
            saveToken(t)
            setReason(null)
            setToken(t)
          }}
        />
      ) : (
        <Shell token={token} onSignOut={signOut} />
      )}
    </ToastProvider>
  )
}

function Shell({ token, onSignOut }: { token: string; onSignOut: (why: string | null) => void }): JSX.Element {
  const api = useMemo(() => new Api(token), [token])
  const route = useRoute()
  const notify = useNotify()
  const status = usePoll((signal) => api.status(signal), NETWORK_REFRESH_MS, [api])
  const onSettled = useCallback(
    (item: UploadItem) => {
      if (item.state === 'done') notify(item.result?.warning ?? `Uploaded ${item.name}`, item.result?.warning === undefined ? 'ok' : 'info')
      if (item.state === 'error') notify(`Upload of ${item.name} failed: ${item.error ?? 'unknown error'}`, 'error')
    },
    [notify],
  )
  const uploads = useUploads(api, onSettled)

  useEffect(() => {
    if (status.error instanceof ApiError && status.error.unauthorized) onSignOut('The node refused this token. Paste the current one.')
  }, [status.error, onSignOut])

  // Leaving the page cancels uploads in flight: make the browser ask first.
  const busy = uploads.items.some((item) => item.state === 'queued' || item.state === 'sending' || item.state === 'storing')
  useEffect(() => {
    if (!busy) return
    const onLeave = (event: BeforeUnloadEvent): void => event.preventDefault()
    window.addEventListener('beforeunload', onLeave)
    return () => window.removeEventListener('beforeunload', onLeave)
  }, [busy])

  const target = status.data?.replicas ?? DEFAULT_REPLICAS
  const reachable = status.error === undefined && status.data !== undefined
  const under = status.data?.underReplicated ?? 0

  return (
    <NodeColorProvider ids={status.data === undefined ? [] : [status.data.id]}>
      <div class="shell">
        <aside class="sidebar">
          <div class="sidebar-inner">
            <a class="brand" href="#/files">
              <Logo />
              <span>CAS</span>
            </a>
            <nav class="nav" aria-label="Pages">
              <a href={routeHref({ page: 'files' })} class={route.page === 'files' ? 'active' : ''} aria-current={route.page === 'files' ? 'page' : undefined}>
                <Icon name="files" /> Files
              </a>
              <a href={routeHref({ page: 'network' })} class={route.page === 'network' ? 'active' : ''} aria-current={route.page === 'network' ? 'page' : undefined}>
                <Icon name="network" /> Network
                {under > 0 && (
                  <span class="badge warn" title={`${under} under-replicated`}>
                    {under}
                  </span>
                )}
              </a>
            </nav>
            <div class="sidebar-foot">
              <div class={`conn ${reachable ? 'ok' : status.loading ? '' : 'bad'}`}>
                <span class="conn-dot" />
                {reachable ? 'Connected' : status.loading ? 'Connecting…' : 'Node unreachable'}
              </div>
              {status.data !== undefined && <NodeChip id={status.data.id} />}
              {status.data?.version !== undefined && <span class="version">cas {status.data.version}</span>}
              <button type="button" class="link-button signout" title="Sign out" onClick={() => onSignOut(null)}>
                <Icon name="logout" size={16} /> <span class="label">Sign out</span>
              </button>
            </div>
          </div>
        </aside>
        <main class="main">
          {route.page === 'files' ? (
            <FilesPage api={api} target={target} uploads={uploads} />
          ) : (
            <NetworkPage api={api} status={status.data} target={target} file={route.file} />
          )}
        </main>
        <UploadPanel uploads={uploads} />
      </div>
    </NodeColorProvider>
  )
}
