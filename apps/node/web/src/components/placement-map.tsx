import type { JSX } from 'preact'
import { MAX_PLACEMENT_BLOBS } from '../constants'
import { percent, shortId } from '../format'
import type { BlobPlacement, PeerInfo, PeerState } from '../types'
import { Meter, NodeChip, useNodeColor } from './bits'

/**
 * Where a file's blobs live: one column per node, one row per blob, a filled cell where the node
 * holds the blob. Above it, how much of the file each node holds.
 */
export function PlacementMap(props: { blobs: BlobPlacement[]; address: string; selfId: string; peers: PeerInfo[]; target: number }): JSX.Element {
  const { blobs, address, selfId, peers, target } = props
  const state = new Map<string, PeerState>(peers.map((p) => [p.id, p.state]))
  state.set(selfId, 'alive')
  const held = new Map<string, number>()
  for (const blob of blobs) for (const holder of blob.holders) held.set(holder, (held.get(holder) ?? 0) + 1)
  // Nodes holding something first (most first), then the other live nodes, so empty columns show who could hold more.
  const nodes = [...new Set([...held.keys(), selfId, ...peers.filter((p) => p.state !== 'dead').map((p) => p.id)])].sort(
    (a, b) => (held.get(b) ?? 0) - (held.get(a) ?? 0) || a.localeCompare(b),
  )
  const colorOf = useNodeColor()
  const shown = blobs.slice(0, MAX_PLACEMENT_BLOBS)
  const short = blobs.filter((b) => b.live < target).length
  let chunk = 0

  return (
    <div class="placement">
      <ul class="holder-list">
        {nodes.map((id) => (
          <li key={id}>
            <NodeChip id={id} self={id === selfId} />
            <span class={`pill small ${state.get(id) === 'alive' ? 'ok' : state.get(id) === 'suspect' ? 'warn' : 'bad'}`}>{state.get(id) ?? 'unknown'}</span>
            <Meter value={percent(held.get(id) ?? 0, blobs.length)} tone="ok" label={`Share of blobs on ${id}`} />
            <span class="muted num">
              {held.get(id) ?? 0}/{blobs.length} blobs
            </span>
          </li>
        ))}
      </ul>
      <p class={short === 0 ? 'placement-summary ok' : 'placement-summary warn'}>
        {short === 0
          ? `All ${blobs.length} blobs have at least ${target} live copies.`
          : `${short} of ${blobs.length} blobs have fewer than ${target} live copies; repair will copy them to more nodes.`}
      </p>
      <div class="grid-wrap">
        <table class="placement-grid" aria-label="Blobs by node">
          <thead>
            <tr>
              <th>Blob</th>
              {nodes.map((id) => (
                <th key={id} title={id}>
                  <span class="node-dot" style={{ background: colorOf(id) }} />
                  <span class="mono col-id">{shortId(id, 4)}</span>
                </th>
              ))}
              <th class="num">Live</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((blob) => (
              <tr key={blob.blob}>
                <td class="mono blob-id" title={blob.blob}>
                  {blob.blob === address ? <span class="tag">manifest</span> : <span class="muted">#{++chunk}</span>} {shortId(blob.blob, 8)}
                </td>
                {nodes.map((id) => {
                  const has = blob.holders.includes(id)
                  return (
                    <td key={id} class="cell-wrap">
                      <span
                        class={has ? `cell held ${state.get(id) ?? 'dead'}` : 'cell'}
                        style={has && state.get(id) === 'alive' ? { background: colorOf(id) } : undefined}
                        title={has ? `${shortId(id)} holds ${shortId(blob.blob)}` : undefined}
                      />
                    </td>
                  )
                })}
                <td class={blob.live >= target ? 'num ok-text' : 'num warn-text'}>{blob.live}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {blobs.length > shown.length && <p class="table-note">First {shown.length} of {blobs.length} blobs shown; the totals above count them all.</p>}
      </div>
    </div>
  )
}
