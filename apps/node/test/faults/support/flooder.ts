import { randomBytes } from 'node:crypto'
import { connect } from 'node:net'
import { createHost, generateNoiseKeyPair, type Host } from '@cas/p2p'
import { sleep } from './cluster.js'
import { rogueTransport } from './rogue-peer.js'

/** One Noise-sized frame of garbage: the largest length the framing allows, then that many random bytes. */
function garbageFrame(): Buffer {
  const frame = randomBytes(2 + 65535)
  frame.writeUInt16BE(65535, 0)
  return frame
}

/** Outcome of a flood. */
export interface FloodReport {
  /** Connections the node closed on us (or refused). */
  closedByNode: number
  /** Connections refused at once (the node had banned us). */
  refused: number
  /** Garbage bytes written. */
  bytes: number
}

/** Whether a peer with the network key and a fresh id, from the rogues' address, is refused: the address is banned. */
export async function refusedFromRogueHost(networkKey: Buffer, addr: string): Promise<boolean> {
  const host = await createHost({
    transport: rogueTransport(),
    staticKey: generateNoiseKeyPair(),
    networkKey,
    listen: [],
    hello: () => ({ version: 1, addresses: [], capacity: 0, used: 0 }),
    limits: { dialAttempts: 1, handshakeTimeoutMs: 5_000, dialTimeoutMs: 5_000 },
  })
  try {
    await host.connect(addr)
    return false
  } catch {
    return true
  } finally {
    await host.close()
  }
}

/**
 * Opens `connections` raw TCP connections one after another and writes max-size garbage frames
 * instead of a handshake, until the node closes each (or `frames` were written).
 */
export async function floodBeforeHandshake(addr: string, connections: number, frames = 64): Promise<FloodReport> {
  const [host, port] = [addr.slice(0, addr.lastIndexOf(':')), Number(addr.slice(addr.lastIndexOf(':') + 1))]
  const report: FloodReport = { closedByNode: 0, refused: 0, bytes: 0 }
  for (let c = 0; c < connections; c++) {
    await new Promise<void>((resolve) => {
      const socket = connect({ host, port })
      let written = 0
      let opened = false
      const pump = (): void => {
        while (written < frames && !socket.destroyed) {
          written++
          report.bytes += 65537
          if (!socket.write(garbageFrame())) return void socket.once('drain', pump)
        }
      }
      socket.on('connect', () => {
        opened = true
        pump()
      })
      socket.on('error', () => {})
      socket.on('close', () => {
        if (!opened) report.refused++
        report.closedByNode++
        resolve()
      })
      setTimeout(() => socket.destroy(), 15_000).unref()
    })
  }
  return report
}

/**
 * Completes the handshake with the network key, then writes max-size garbage frames straight onto
 * the socket (they fail authentication); repeats for `rounds` connections or until refused.
 */
export async function floodAfterHandshake(networkKey: Buffer, addr: string, rounds: number, frames = 32): Promise<FloodReport & { banned: boolean }> {
  const transport = rogueTransport()
  const host = await createHost({
    transport,
    staticKey: generateNoiseKeyPair(),
    networkKey,
    listen: [],
    hello: () => ({ version: 1, addresses: [], capacity: 0, used: 0 }),
    limits: { dialAttempts: 1 },
  })
  const report = { closedByNode: 0, refused: 0, bytes: 0, banned: false }
  try {
    for (let r = 0; r < rounds; r++) {
      try {
        await host.connect(addr)
      } catch {
        report.refused++
        report.banned = true
        await sleep(200)
        continue
      }
      const socket = transport.sockets[transport.sockets.length - 1]!
      const closed = new Promise((resolve) => socket.once('close', resolve))
      for (let f = 0; f < frames && !socket.destroyed; f++) {
        report.bytes += 65537
        socket.write(garbageFrame())
      }
      await Promise.race([closed, sleep(10_000)])
      if (socket.destroyed) report.closedByNode++
      socket.destroy()
      await sleep(100)
    }
  } finally {
    await host.close()
  }
  return report
}

/** Outcome of an authenticated flood. */
export interface MessageFloodReport {
  sent: number
  /** Replies by error code (or "ok"). */
  answers: Record<string, number>
  bodyBytes: number
}

/**
 * An authenticated peer that sends valid messages of the largest size allowed, as fast as the
 * node takes them: put-blob requests whose 4 MiB bodies are garbage under random ids (each must
 * be hashed and refused), interleaved with one-way messages of an unknown type.
 */
export async function floodMessages(networkKey: Buffer, addr: string, durationMs: number, inFlight = 16): Promise<MessageFloodReport> {
  const host: Host = await createHost({
    transport: rogueTransport(),
    staticKey: generateNoiseKeyPair(),
    networkKey,
    listen: [],
    hello: () => ({ version: 1, addresses: [], capacity: 0, used: 0 }),
  })
  const report: MessageFloodReport = { sent: 0, answers: {}, bodyBytes: 0 }
  const body = randomBytes(host.limits.maxBodyBytes)
  const owner = randomBytes(32).toString('hex')
  const until = Date.now() + durationMs
  try {
    const conn = await host.connect(addr)
    const count = (code: string): void => {
      report.answers[code] = (report.answers[code] ?? 0) + 1
    }
    await Promise.all(
      Array.from({ length: inFlight }, async (_, worker) => {
        for (let i = 0; Date.now() < until; i++) {
          report.sent++
          report.bodyBytes += body.length
          try {
            if ((i + worker) % 4 === 0) {
              await host.send(conn.peerId, 'x-flood', {}, body)
              count('sent one-way')
            } else {
              await host.request(conn.peerId, 'put-blob', { blob: randomBytes(32).toString('hex'), pins: [{ owner, seq: 1 }] }, body, { timeoutMs: 30_000 })
              count('ok')
            }
          } catch (err) {
            const e = err as { code?: string; remoteCode?: string }
            count(e.remoteCode ?? e.code ?? 'error')
            if (e.code === 'CLOSED' || e.code === 'BANNED' || e.code === 'DIAL_FAILED') await sleep(200)
          }
        }
      }),
    )
  } finally {
    await host.close()
  }
  return report
}
