import type { JSX } from 'preact'
import { errorMessage, type Api } from '../api'
import { Card, Empty, Meter, NodeChip, NodeColorProvider, ReplicationBadge, StateBadge, usageTone } from '../components/bits'
import { Icon } from '../components/icon'
import { PlacementMap } from '../components/placement-map'
import { NETWORK_REFRESH_MS } from '../constants'
import { formatAgo, formatBytes, formatDate, percent } from '../format'
import { routeHref } from '../router'
import type { NodeStatus, PeerState } from '../types'
import { usePoll } from '../use-poll'

// Alive peers first: they are the ones holding data now.
const STATE_ORDER: Record<PeerState, number> = { alive: 0, suspect: 1, dead: 2 }

/** Whether a node offers a bounded capacity; unlimited comes as null, Infinity or MAX_SAFE_INTEGER. */
function hasLimit(capacity: number | null | undefined): capacity is number {
  return typeof capacity === 'number' && capacity > 0 && capacity < Number.MAX_SAFE_INTEGER
}

function capacityText(used: number, capacity: number | null | undefined): string {
  return hasLimit(capacity) ? `${formatBytes(used)} of ${formatBytes(capacity)}` : `${formatBytes(used)} · no limit`
}

/** The Network page: this node, its peers, replication health and where a file's blobs live. */
export function NetworkPage({ api, status, target, file }: { api: Api; status: NodeStatus | undefined; target: number; file: string | undefined }): JSX.Element {
  const peers = usePoll((signal) => api.peers(signal), NETWORK_REFRESH_MS, [api])
  const files = usePoll((signal) => api.files(signal), NETWORK_REFRESH_MS * 2, [api])
  const placement = usePoll((signal) => (file === undefined ? Promise.resolve(undefined) : api.placement(file, signal)), NETWORK_REFRESH_MS, [api, file])

  const list = peers.data ?? []
  const others = list.filter((p) => p.id !== status?.id).sort((a, b) => STATE_ORDER[a.state] - STATE_ORDER[b.state] || a.id.localeCompare(b.id))
  const alive = others.filter((p) => p.state === 'alive').length
  const suspect = others.filter((p) => p.state === 'suspect').length
  const dead = others.filter((p) => p.state === 'dead').length
  const under = (files.data ?? []).filter((f) => f.replicas < target)
  const selected = (files.data ?? []).find((f) => f.address === file)
  const underCount = files.data === undefined ? status?.underReplicated ?? 0 : under.length

  const colorIds = [status?.id ?? '', ...others.map((p) => p.id).sort()]

  return (
    <NodeColorProvider ids={colorIds}>
      <div class="page">
        <header class="page-head">
          <div>
            <h1>Network</h1>
            <p class="subtitle">{status === undefined ? 'Loading…' : `${alive + 1} live node${alive === 0 ? '' : 's'} · replication target ${target}`}</p>
          </div>
        </header>

        <div class="stats">
          <section class="stat">
            <h3>This node</h3>
            {status === undefined ? <div class="skeleton line" /> : <NodeChip id={status.id} />}
            <ul class="addresses">
              {(status?.addresses ?? []).map((a) => (
                <li key={a} class="mono">
                  {a}
                </li>
              ))}
            </ul>
          </section>
          <section class="stat">
            <h3>Peers</h3>
            <p class="stat-value">{alive}</p>
            <p class="stat-sub">
              alive{suspect > 0 && <span class="warn-text"> · {suspect} suspect</span>}
              {dead > 0 && <span class="bad-text"> · {dead} dead</span>}
            </p>
          </section>
          <section class="stat">
            <h3>Stored here</h3>
            <p class="stat-value">{formatBytes(status?.bytes ?? 0)}</p>
            {hasLimit(status?.capacity) && (
              <Meter value={percent(status?.bytes ?? 0, status?.capacity)} tone={usageTone(status?.bytes ?? 0, status?.capacity)} label="Disk use" />
            )}
            <p class="stat-sub">
              {status?.blobs ?? 0} blobs · {capacityText(status?.bytes ?? 0, status?.capacity)}
            </p>
          </section>
          <section class={`stat ${underCount > 0 ? 'warn' : 'ok'}`}>
            <h3>Replication</h3>
            <p class="stat-value">{underCount === 0 ? 'Healthy' : underCount}</p>
            <p class="stat-sub">{underCount === 0 ? `every file has ${target} live copies` : `file${underCount === 1 ? '' : 's'} under-replicated`}</p>
          </section>
        </div>

        <Card title="Peers" actions={<span class="hint">{others.length} known</span>}>
          {peers.error !== undefined && peers.data === undefined ? (
            <Empty icon={<Icon name="alert" size={28} />} title="Cannot load the peers">
              {errorMessage(peers.error)}
            </Empty>
          ) : peers.data === undefined ? (
            <div class="skeleton" aria-busy="true" />
          ) : others.length === 0 ? (
            <Empty icon={<Icon name="network" size={28} />} title="No peers yet">
              Start another node with <code>--bootstrap</code> pointing at one of this node's addresses.
            </Empty>
          ) : (
            <div class="table-wrap">
              <table class="table peers-table">
                <thead>
                  <tr>
                    <th>Node</th>
                    <th class="hide-sm">Addresses</th>
                    <th>State</th>
                    <th>Last seen</th>
                    <th class="storage-col">Storage</th>
                  </tr>
                </thead>
                <tbody>
                  {others.map((peer) => (
                    <tr key={peer.id} data-peer={peer.id}>
                      <td>
                        <NodeChip id={peer.id} />
                      </td>
                      <td class="hide-sm mono small-text">{peer.addresses.join(', ')}</td>
                      <td>
                        <StateBadge state={peer.state} />
                      </td>
                      <td class="muted" title={formatDate(peer.lastSeen)}>
                        {formatAgo(peer.lastSeen)}
                      </td>
                      <td class="storage-col">
                        {hasLimit(peer.capacity) && (
                          <Meter value={percent(peer.used, peer.capacity)} tone={usageTone(peer.used, peer.capacity)} label={`Disk use of ${peer.id}`} />
                        )}
                        <span class="small-text muted">{capacityText(peer.used, peer.capacity)}</span>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </Card>

        <Card title="Under-replicated files" actions={<span class="hint">fewer than {target} live copies</span>}>
          {files.data === undefined ? (
            <div class="skeleton" aria-busy="true" />
          ) : under.length === 0 ? (
            <p class="all-good">
              <Icon name="shield" /> Every file has at least {target} live copies.
            </p>
          ) : (
            <ul class="under-list">
              {under.map((f) => (
                <li key={f.address + f.name}>
                  <span class="file-name" title={f.name}>
                    {f.name}
                  </span>
                  <ReplicationBadge live={f.replicas} target={target} />
                  <a href={routeHref({ page: 'network', file: f.address })} class="link-button">
                    Placement
                  </a>
                </li>
              ))}
            </ul>
          )}
        </Card>

        <Card
          title="Placement"
          class="placement-card"
          actions={
            <select
              aria-label="File to show"
              value={file ?? ''}
              onChange={(event) => {
                const value = event.currentTarget.value
                window.location.hash = routeHref(value === '' ? { page: 'network' } : { page: 'network', file: value })
              }}
            >
              <option value="">Choose a file…</option>
              {(files.data ?? []).slice(0, 1000).map((f) => (
                <option key={f.address + f.name} value={f.address}>
                  {f.name === '' ? f.address.slice(0, 12) : f.name}
                </option>
              ))}
              {file !== undefined && selected === undefined && <option value={file}>{file.slice(0, 12)}…</option>}
            </select>
          }
        >
          {file === undefined ? (
            <Empty icon={<Icon name="placement" size={28} />} title="Where do a file's blobs live?">
              Choose a file to see which nodes hold each of its encrypted blobs.
            </Empty>
          ) : placement.error !== undefined && placement.data === undefined ? (
            <Empty icon={<Icon name="alert" size={28} />} title="Cannot load the placement">
              {errorMessage(placement.error)}
            </Empty>
          ) : placement.data === undefined || status === undefined ? (
            <div class="skeleton" aria-busy="true" />
          ) : (
            <PlacementMap blobs={placement.data} address={file} selfId={status.id} peers={list} target={target} />
          )}
        </Card>
      </div>
    </NodeColorProvider>
  )
}
