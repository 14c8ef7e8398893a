import type { JSX } from 'preact'
import { formatBytes, formatDuration, percent } from '../format'
import type { UploadItem, Uploads } from '../use-uploads'
import { Meter } from './bits'
import { Icon } from './icon'

function describe(item: UploadItem): string {
  switch (item.state) {
    case 'queued':
      return `Waiting · ${formatBytes(item.size)}`
    case 'sending': {
      const seconds = item.startedAt === undefined ? 0 : (Date.now() - item.startedAt) / 1000
      const share = `${Math.floor(percent(item.loaded, item.size))}% · ${formatBytes(item.loaded)} of ${formatBytes(item.size)}`
      if (seconds < 0.5 || item.loaded === 0) return share
      const rate = item.loaded / seconds
      return `${share} · ${formatBytes(rate)}/s · ${formatDuration((item.size - item.loaded) / rate)} left`
    }
    case 'storing':
      return 'Encrypting and replicating…'
    case 'done':
      return item.result?.warning ?? `${formatBytes(item.size)} · ${item.result?.replicas ?? 0} copies`
    case 'cancelled':
      return 'Cancelled'
    case 'error':
      return item.error ?? 'Failed'
  }
}

/** The floating list of uploads with their progress bars. */
export function UploadPanel({ uploads }: { uploads: Uploads }): JSX.Element | null {
  const { items } = uploads
  if (items.length === 0) return null
  const active = items.filter((item) => item.state === 'queued' || item.state === 'sending' || item.state === 'storing').length
  return (
    <aside class="upload-panel" aria-label="Uploads">
      <header>
        <strong>{active > 0 ? `Uploading ${active} file${active === 1 ? '' : 's'}` : 'Uploads finished'}</strong>
        {active < items.length && (
          <button type="button" class="link-button" onClick={uploads.clearFinished}>
            Clear
          </button>
        )}
      </header>
      <ul>
        {items.map((item) => {
          const tone = item.state === 'error' ? 'bad' : item.state === 'done' ? (item.result?.warning === undefined ? 'ok' : 'warn') : 'accent'
          const value = item.state === 'done' || item.state === 'storing' ? 100 : percent(item.loaded, item.size)
          return (
            <li key={item.id} class={`upload ${item.state}`} data-state={item.state}>
              <div class="upload-line">
                <Icon name={item.state === 'done' ? 'check' : item.state === 'error' ? 'alert' : 'file'} class={`upload-icon ${tone}`} />
                <span class="upload-name" title={item.name}>
                  {item.name}
                </span>
                {(item.state === 'queued' || item.state === 'sending' || item.state === 'storing') && (
                  <button type="button" class="icon-button small" aria-label={`Cancel upload of ${item.name}`} onClick={() => uploads.cancel(item.id)}>
                    <Icon name="close" size={16} />
                  </button>
                )}
              </div>
              {item.state !== 'cancelled' && <Meter value={value} tone={tone} label={`Upload of ${item.name}`} />}
              <div class={`upload-detail ${item.state === 'storing' ? 'pulse' : ''}`}>{describe(item)}</div>
            </li>
          )
        })}
      </ul>
    </aside>
  )
}
