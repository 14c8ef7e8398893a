/** A `HOST:PORT` pair; IPv6 hosts are written in brackets (`[::1]:7400`). */
export interface HostPort {
  host: string
  port: number
}

/** Parses `HOST:PORT` (port 0 lets the system choose). Returns `undefined` when malformed. */
export function parseHostPort(text: string): HostPort | undefined {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s/]+)):(\d{1,5})$/.exec(text.trim())
  if (match === null) return undefined
  const port = Number(match[3])
  if (port > 65535) return undefined
  return { host: match[1] ?? match[2] ?? '', port }
}

/** Formats a host and port back to `HOST:PORT`. */
export function formatHostPort({ host, port }: HostPort): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`
}

/** Whether a host name or address only reaches this machine. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.')
}
