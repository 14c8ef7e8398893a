import type { JSX } from 'preact'
import { useEffect, useState } from 'preact/hooks'
import { errorMessage, type Api } from '../api'
import { copyText } from '../clipboard'
import { formatBytes, isCapability } from '../format'
import type { FileEntry, RemoteFileInfo } from '../types'
import { Dialog } from './dialog'
import { Icon } from './icon'
import { useNotify } from './toasts'

/** Shows a file's capability, ready to copy. */
export function ShareDialog({ api, file, onClose }: { api: Api; file: FileEntry; onClose: () => void }): JSX.Element {
  const notify = useNotify()
  const [capability, setCapability] = useState<string | null>(null)
  const [error, setError] = useState<string | null>(null)
  useEffect(() => {
    api.share(file.address).then(setCapability, (err: unknown) => setError(errorMessage(err)))
  }, [api, file.address])
  const copy = async (): Promise<void> => {
    if (capability === null) return
    const ok = await copyText(capability)
    notify(ok ? 'Capability copied' : 'Copy failed: select the text and copy it', ok ? 'ok' : 'error')
  }
  return (
    <Dialog
      title="Share file"
      onClose={onClose}
      actions={
        <>
          <button type="button" onClick={onClose}>
            Done
          </button>
          <button type="button" class="primary" disabled={capability === null} onClick={() => void copy()}>
            <Icon name="copy" /> Copy capability
          </button>
        </>
      }
    >
      <p>
        Anyone on this network who has the capability of <strong class="break">{file.name}</strong> can fetch and decrypt it from
        any node. Share it only with people who may read the file.
      </p>
      {error !== null ? (
        <p class="form-error">{error}</p>
      ) : (
        <textarea
          class="capability mono"
          readOnly
          rows={3}
          aria-label="Capability"
          value={capability ?? 'Loading…'}
          onFocus={(event) => event.currentTarget.select()}
          data-autofocus
        />
      )}
    </Dialog>
  )
}

/**
 * Asks before deleting a file from the network. A file put under several names is deleted by the
 * name of its row: only that name goes while `otherNames` still name the same content.
 */
export function DeleteDialog({
  api,
  file,
  otherNames,
  onClose,
  onDeleted,
}: {
  api: Api
  file: FileEntry
  otherNames: string[]
  onClose: () => void
  onDeleted: () => void
}): JSX.Element {
  const notify = useNotify()
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | null>(null)
  const confirm = async (): Promise<void> => {
    setBusy(true)
    setError(null)
    try {
      await api.remove(file.name === '' ? file.address : file.name)
      notify(`Deleted ${file.name}`, 'ok')
      onDeleted()
      onClose()
    } catch (err) {
      setError(errorMessage(err))
      setBusy(false)
    }
  }
  return (
    <Dialog
      title="Delete file?"
      onClose={onClose}
      actions={
        <>
          <button type="button" onClick={onClose} disabled={busy}>
            Cancel
          </button>
          <button type="button" class="danger" onClick={() => void confirm()} disabled={busy}>
            <Icon name="trash" /> {busy ? 'Deleting…' : 'Delete'}
          </button>
        </>
      }
    >
      {otherNames.length > 0 ? (
        <p>
          The name <strong class="break">{file.name}</strong> goes. Its content ({formatBytes(file.size)}) stays stored under{' '}
          {otherNames.map((n, i) => (
            <span key={n}>
              {i > 0 && ', '}
              <strong class="break">{n}</strong>
            </span>
          ))}
          , and capabilities already shared keep working.
        </p>
      ) : (
        <p>
          <strong class="break">{file.name}</strong> ({formatBytes(file.size)}) will be unpinned on every node that holds it, and its blobs
          collected. Capabilities already shared stop working once they are gone. This cannot be undone.
        </p>
      )}
      {error !== null && <p class="form-error">{error}</p>}
    </Dialog>
  )
}

/** Looks up a `cas1:` capability on the network and offers the file for download. */
export function FetchDialog({ api, onClose }: { api: Api; onClose: () => void }): JSX.Element {
  const [text, setText] = useState('')
  const [filename, setFilename] = useState('')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | null>(null)
  const [found, setFound] = useState<{ capability: string; info: RemoteFileInfo } | null>(null)
  const lookUp = async (event: Event): Promise<void> => {
    event.preventDefault()
    const capability = text.trim()
    setFound(null)
    if (!isCapability(capability)) {
      setError('A capability looks like cas1:<64 hex digits>:<64 hex digits>.')
      return
    }
    setBusy(true)
    setError(null)
    try {
      const info = await api.head(capability)
      setFound({ capability, info })
      if (filename === '') setFilename(info.name ?? `${capability.slice(5, 17)}.bin`)
    } catch (err) {
      setError(errorMessage(err))
    }
    setBusy(false)
  }
  return (
    <Dialog title="Fetch by capability" onClose={onClose} wide>
      <form class="stack" onSubmit={(event) => void lookUp(event)}>
        <label class="field">
          <span>Capability</span>
          <div class="inline">
            <input
              class="mono"
              name="capability"
              placeholder="cas1:…"
              autoComplete="off"
              spellcheck={false}
              value={text}
              onInput={(event) => setText(event.currentTarget.value)}
            />
            <button type="submit" class="primary" disabled={busy || text.trim() === ''}>
              {busy ? 'Looking up…' : 'Look up'}
            </button>
          </div>
        </label>
        {error !== null && <p class="form-error">{error}</p>}
      </form>
      {found !== null && (
        <div class="found">
          <dl class="facts">
            <dt>Size</dt>
            <dd>{Number.isFinite(found.info.size) ? formatBytes(found.info.size) : 'unknown'}</dd>
            <dt>SHA-256</dt>
            <dd class="mono break">{found.info.sha256 || 'unknown'}</dd>
          </dl>
          <label class="field">
            <span>Save as</span>
            <div class="inline">
              <input name="filename" value={filename} onInput={(event) => setFilename(event.currentTarget.value)} />
              <a class="button primary" href={api.downloadUrl(found.capability, false)} download={filename || true}>
                <Icon name="download" /> Download
              </a>
            </div>
          </label>
        </div>
      )}
    </Dialog>
  )
}
