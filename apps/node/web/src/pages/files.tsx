import type { JSX } from 'preact'
import { useEffect, useMemo, useRef, useState } from 'preact/hooks'
import { errorMessage, type Api } from '../api'
import { copyText } from '../clipboard'
import { Card, Empty, ReplicationBadge } from '../components/bits'
import { DeleteDialog, FetchDialog, ShareDialog } from '../components/file-dialogs'
import { Icon } from '../components/icon'
import { useNotify } from '../components/toasts'
import { FILES_REFRESH_MS, MAX_FILE_ROWS } from '../constants'
import { formatAgo, formatBytes, formatDate } from '../format'
import { routeHref } from '../router'
import type { FileEntry } from '../types'
import type { Uploads } from '../use-uploads'
import { usePoll } from '../use-poll'

type SortKey = 'name' | 'size' | 'createdAt' | 'replicas'
type Open = { kind: 'share' | 'delete'; file: FileEntry } | { kind: 'fetch' } | null

function compare(a: FileEntry, b: FileEntry, key: SortKey): number {
  if (key === 'name') return a.name.localeCompare(b.name)
  if (key === 'createdAt') return Date.parse(a.createdAt) - Date.parse(b.createdAt)
  return a[key] - b[key]
}

/** The Files page: the node's catalog, uploads, downloads, sharing and deletion. */
export function FilesPage({ api, target, uploads }: { api: Api; target: number; uploads: Uploads }): JSX.Element {
  const notify = useNotify()
  const files = usePoll((signal) => api.files(signal), FILES_REFRESH_MS, [api])
  const [query, setQuery] = useState('')
  const [sort, setSort] = useState<{ key: SortKey; desc: boolean }>({ key: 'createdAt', desc: true })
  const [open, setOpen] = useState<Open>(null)
  const [dragging, setDragging] = useState(false)
  const dragDepth = useRef(0)
  const picker = useRef<HTMLInputElement>(null)

  const { refresh } = files
  useEffect(() => {
    if (uploads.completed > 0) refresh()
  }, [uploads.completed, refresh])

  const all = files.data ?? []
  const rows = useMemo(() => {
    const q = query.trim().toLowerCase()
    const matched = q === '' ? all : all.filter((f) => f.name.toLowerCase().includes(q) || f.address.startsWith(q))
    const sorted = [...matched].sort((a, b) => compare(a, b, sort.key) * (sort.desc ? -1 : 1))
    return { shown: sorted.slice(0, MAX_FILE_ROWS), matched: matched.length }
  }, [all, query, sort])
  const totalBytes = all.reduce((sum, f) => sum + f.size, 0)

  const hasFiles = (event: DragEvent): boolean => event.dataTransfer?.types.includes('Files') ?? false
  const onDragEnter = (event: DragEvent): void => {
    if (!hasFiles(event)) return
    event.preventDefault()
    dragDepth.current++
    setDragging(true)
  }
  const onDragLeave = (event: DragEvent): void => {
    if (!hasFiles(event)) return
    dragDepth.current = Math.max(0, dragDepth.current - 1)
    if (dragDepth.current === 0) setDragging(false)
  }
  const onDragOver = (event: DragEvent): void => {
    if (!hasFiles(event)) return
    event.preventDefault()
    if (event.dataTransfer !== null) event.dataTransfer.dropEffect = 'copy'
  }
  const onDrop = (event: DragEvent): void => {
    if (!hasFiles(event)) return
    event.preventDefault()
    dragDepth.current = 0
    setDragging(false)
    const transfer = event.dataTransfer
    if (transfer === null) return
    // A dropped folder arrives as an unreadable File; only plain files are uploaded.
    const files: File[] = []
    let folders = 0
    for (const item of Array.from(transfer.items)) {
      if (item.kind !== 'file') continue
      if (item.webkitGetAsEntry()?.isDirectory === true) {
        folders++
        continue
      }
      const file = item.getAsFile()
      if (file !== null) files.push(file)
    }
    if (folders > 0) notify(`Folders cannot be uploaded: drop the files inside them`, 'error')
    if (files.length > 0) uploads.add(files)
  }
  const onPick = (event: Event): void => {
    const input = event.currentTarget as HTMLInputElement
    if (input.files !== null && input.files.length > 0) uploads.add(input.files)
    input.value = ''
  }
  const copyAddress = async (address: string): Promise<void> => {
    const ok = await copyText(address)
    notify(ok ? 'Address copied' : 'Copy failed', ok ? 'ok' : 'error')
  }

  const header = (key: SortKey, label: string | JSX.Element, cls = ''): JSX.Element => {
    const active = sort.key === key
    return (
      <th class={cls} aria-sort={active ? (sort.desc ? 'descending' : 'ascending') : 'none'}>
        <button type="button" class={active ? 'sort active' : 'sort'} onClick={() => setSort({ key, desc: active ? !sort.desc : key !== 'name' })}>
          {label}
          <span class="sort-mark">{active ? (sort.desc ? '↓' : '↑') : ''}</span>
        </button>
      </th>
    )
  }

  return (
    <div class="page" onDragEnter={onDragEnter} onDragLeave={onDragLeave} onDragOver={onDragOver} onDrop={onDrop}>
      <header class="page-head">
        <div>
          <h1>Files</h1>
          <p class="subtitle">
            {files.data === undefined ? 'Loading…' : `${all.length} file${all.length === 1 ? '' : 's'} · ${formatBytes(totalBytes)}`}
          </p>
        </div>
        <div class="page-actions">
          <button type="button" onClick={() => setOpen({ kind: 'fetch' })}>
            <Icon name="key" /> Fetch by capability
          </button>
          <button type="button" class="primary" onClick={() => picker.current?.click()}>
            <Icon name="upload" /> Upload files
          </button>
          <input ref={picker} type="file" multiple hidden onChange={onPick} data-testid="file-picker" />
        </div>
      </header>

      <Card
        title={
          <label class="search">
            <Icon name="search" />
            <input type="search" placeholder="Search by name or address" aria-label="Search files" value={query} onInput={(e) => setQuery(e.currentTarget.value)} />
          </label>
        }
        actions={
          <span class="hint">
            <Icon name="upload" size={16} /> Drop files anywhere to upload
          </span>
        }
      >
        {files.error !== undefined && files.data === undefined ? (
          <Empty icon={<Icon name="alert" size={28} />} title="Cannot load the files">
            {errorMessage(files.error)}
          </Empty>
        ) : files.data === undefined ? (
          <div class="skeleton" aria-busy="true" />
        ) : all.length === 0 ? (
          <button type="button" class="dropzone" onClick={() => picker.current?.click()}>
            <Icon name="upload" size={32} />
            <span class="empty-title">No files yet</span>
            <span class="empty-text">Drop files here or click to choose. They are chunked, encrypted and spread over the network.</span>
          </button>
        ) : (
          <div class="table-wrap">
            <table class="table files-table">
              <thead>
                <tr>
                  {header('name', 'Name')}
                  {header('size', 'Size', 'num hide-sm')}
                  <th class="hide-sm">Address</th>
                  {header(
                    'replicas',
                    <>
                      <span class="hide-sm">Replication</span>
                      <span class="show-sm">Copies</span>
                    </>,
                  )}
                  {header('createdAt', 'Added', 'hide-sm')}
                  <th class="actions-col">
                    <span class="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {rows.shown.map((file) => (
                  <tr key={file.address + file.name} data-name={file.name}>
                    <td>
                      <div class="name-cell">
                        <Icon name="file" class="muted-icon" />
                        <div class="name-lines">
                          <span class="file-name" title={file.name}>
                            {file.name === '' ? <em>unnamed</em> : file.name}
                          </span>
                          <span class="show-sm small-text muted">
                            {formatBytes(file.size)} · {formatAgo(file.createdAt)}
                          </span>
                        </div>
                      </div>
                    </td>
                    <td class="num hide-sm">{formatBytes(file.size)}</td>
                    <td class="hide-sm">
                      <button type="button" class="address" title={`${file.address} — click to copy`} onClick={() => void copyAddress(file.address)}>
                        <span class="mono">
                          {file.address.slice(0, 8)}…{file.address.slice(-6)}
                        </span>
                        <Icon name="copy" size={14} />
                      </button>
                    </td>
                    <td>
                      <ReplicationBadge live={file.replicas} target={target} />
                    </td>
                    <td class="hide-sm muted" title={formatDate(file.createdAt)}>
                      {formatAgo(file.createdAt)}
                    </td>
                    <td class="row-actions">
                      <a class="icon-button" href={api.downloadUrl(file.address)} download={file.name || true} title="Download" aria-label={`Download ${file.name}`}>
                        <Icon name="download" />
                      </a>
                      <button type="button" class="icon-button" title="Share" aria-label={`Share ${file.name}`} onClick={() => setOpen({ kind: 'share', file })}>
                        <Icon name="share" />
                      </button>
                      <a class="icon-button hide-sm" href={routeHref({ page: 'network', file: file.address })} title="Where its blobs live" aria-label={`Placement of ${file.name}`}>
                        <Icon name="placement" />
                      </a>
                      <button type="button" class="icon-button danger-hover" title="Delete" aria-label={`Delete ${file.name}`} onClick={() => setOpen({ kind: 'delete', file })}>
                        <Icon name="trash" />
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            {rows.matched === 0 && <Empty title="No file matches your search" />}
            {rows.matched > rows.shown.length && (
              <p class="table-note">
                Showing {rows.shown.length} of {rows.matched} files. Refine the search to see the others.
              </p>
            )}
          </div>
        )}
      </Card>

      {dragging && (
        <div class="drop-overlay" aria-hidden="true">
          <div>
            <Icon name="upload" size={40} />
            <p>Drop to upload</p>
          </div>
        </div>
      )}
      {open?.kind === 'share' && <ShareDialog api={api} file={open.file} onClose={() => setOpen(null)} />}
      {open?.kind === 'delete' && (
        <DeleteDialog
          api={api}
          file={open.file}
          otherNames={all.filter((f) => f.address === open.file.address && f.name !== open.file.name && f.name !== '').map((f) => f.name)}
          onClose={() => setOpen(null)}
          onDeleted={refresh}
        />
      )}
      {open?.kind === 'fetch' && <FetchDialog api={api} onClose={() => setOpen(null)} />}
    </div>
  )
}
