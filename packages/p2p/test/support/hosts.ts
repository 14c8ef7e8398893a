import { randomBytes } from 'node:crypto'
import { createHost, type Host, type HostOptions } from '../../src/host.js'
import type { Limits } from '../../src/limits.js'
import type { Logger } from '../../src/logger.js'
import { generateKeyPair } from '../../src/noise/dh.js'
import type { Transport } from '../../src/transports/transport.js'

/** One network key per test run. */
export const NETWORK_KEY = randomBytes(32)

/** A logger that records entries, for asserting on logged reasons. */
export function recordingLogger(): Logger & { entries: { level: string; obj: object; msg?: string }[] } {
  const entries: { level: string; obj: object; msg?: string }[] = []
  const make = (): Logger => ({
    debug: (obj, msg) => entries.push({ level: 'debug', obj, msg }),
    info: (obj, msg) => entries.push({ level: 'info', obj, msg }),
    warn: (obj, msg) => entries.push({ level: 'warn', obj, msg }),
    error: (obj, msg) => entries.push({ level: 'error', obj, msg }),
    child: () => make(),
  })
  return Object.assign(make(), { entries })
}

/** Starts a host on the transport; tears down via the returned list. */
export async function startHost(
  transport: Transport,
  listenAddr: string,
  options: { networkKey?: Buffer; limits?: Partial<Limits>; logger?: Logger; listen?: string[] } & Partial<Pick<HostOptions, 'staticKey' | 'banLoopback' | 'allocateBody'>> = {},
): Promise<Host> {
  const staticKey = options.staticKey ?? generateKeyPair()
  const host: Host = await createHost({
    transport,
    staticKey,
    networkKey: options.networkKey ?? NETWORK_KEY,
    listen: options.listen ?? [listenAddr],
    hello: () => ({ version: 1, addresses: host.addresses, capacity: 1000, used: 0 }),
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.limits ? { limits: options.limits } : {}),
    ...(options.banLoopback !== undefined ? { banLoopback: options.banLoopback } : {}),
    ...(options.allocateBody ? { allocateBody: options.allocateBody } : {}),
  })
  return host
}
