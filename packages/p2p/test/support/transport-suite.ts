import { randomBytes } from 'node:crypto'
import type { Duplex } from 'node:stream'
import { afterEach, describe, expect, test } from 'vitest'
import type { Listener, Transport } from '../../src/transports/transport.js'

function collect(socket: Duplex, bytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let total = 0
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk)
      total += chunk.length
      if (total >= bytes) {
        socket.off('data', onData)
        resolve(Buffer.concat(chunks))
      }
    }
    socket.on('data', onData)
    socket.once('error', reject)
  })
}

function once(socket: Duplex, event: string): Promise<void> {
  return new Promise((resolve) => socket.once(event, () => resolve()))
}

/**
 * The behaviour every Transport must have. `make` returns a fresh transport (all from one network,
 * where that matters); `listenAddr` is an address with port 0.
 */
export function transportSuite(name: string, make: () => Transport, listenAddr: string, unusedAddr: string): void {
  describe(`transport behaviour: ${name}`, () => {
    const cleanup: (() => unknown)[] = []
    afterEach(async () => {
      for (const fn of cleanup.splice(0).reverse()) await fn()
    })

    async function listen(): Promise<{ listener: Listener; accepted: Promise<Duplex> }> {
      const listener = await make().listen(listenAddr)
      cleanup.push(() => listener.close())
      const accepted = new Promise<Duplex>((resolve) =>
        listener.onConnection((socket) => {
          cleanup.push(() => socket.destroy())
          resolve(socket)
        }),
      )
      return { listener, accepted }
    }

    async function dial(addr: string): Promise<Duplex> {
      const socket = await make().dial(addr)
      cleanup.push(() => socket.destroy())
      return socket
    }

    test('listen resolves port 0 to a real host:port address', async () => {
      const { listener } = await listen()
      expect(listener.addresses).toHaveLength(1)
      expect(listener.addresses[0]).toMatch(/^.+:[1-9]\d*$/)
    })

    test('two listeners get different addresses', async () => {
      const a = await listen()
      const b = await listen()
      expect(a.listener.addresses[0]).not.toBe(b.listener.addresses[0])
    })

    test('bytes flow both ways in order', async () => {
      const { listener, accepted } = await listen()
      const client = await dial(listener.addresses[0]!)
      const server = await accepted
      const up = randomBytes(100_000)
      const down = randomBytes(70_000)
      const gotUp = collect(server, up.length)
      const gotDown = collect(client, down.length)
      client.write(up.subarray(0, 1))
      client.write(up.subarray(1))
      server.write(down)
      expect((await gotUp).equals(up)).toBe(true)
      expect((await gotDown).equals(down)).toBe(true)
    })

    test('backpressure: write() returns false when the reader does not read, and drain follows reading', async () => {
      const { listener, accepted } = await listen()
      const client = await dial(listener.addresses[0]!)
      const server = await accepted
      server.pause()
      const chunk = Buffer.alloc(64 * 1024)
      let writes = 0
      // Bounded: a transport that never pushes back fails this test instead of looping forever.
      while (client.write(chunk) && writes < 4096) writes++
      expect(writes).toBeLessThan(4096)
      const drained = once(client, 'drain')
      server.resume()
      server.on('data', () => {})
      await drained
    })

    test('end() on one side ends the other', async () => {
      const { listener, accepted } = await listen()
      const client = await dial(listener.addresses[0]!)
      const server = await accepted
      const ended = once(server, 'end')
      server.resume()
      client.resume()
      const clientClosed = once(client, 'close')
      client.end()
      await ended
      await clientClosed
    })

    test('destroy() on one side closes the other', async () => {
      const { listener, accepted } = await listen()
      const client = await dial(listener.addresses[0]!)
      const server = await accepted
      server.on('error', () => {})
      const closed = once(server, 'close')
      server.resume()
      client.destroy()
      await closed
    })

    test('dialing an address nobody listens on rejects', async () => {
      await expect(make().dial(unusedAddr)).rejects.toThrow()
    })

    test('a closed listener accepts no more connections', async () => {
      const { listener } = await listen()
      const addr = listener.addresses[0]!
      await listener.close()
      await expect(make().dial(addr)).rejects.toThrow()
    })

    test('an aborted dial rejects', async () => {
      const { listener } = await listen()
      const controller = new AbortController()
      controller.abort()
      await expect(make().dial(listener.addresses[0]!, { signal: controller.signal })).rejects.toThrow()
    })

    test('malformed addresses are refused', async () => {
      await expect(make().listen('no-port')).rejects.toThrow()
      await expect(make().dial('host:99999')).rejects.toThrow()
    })
  })
}
