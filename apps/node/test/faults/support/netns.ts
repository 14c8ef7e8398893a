import { execFile } from 'node:child_process'
import { promisify } from 'node:util'

const run = promisify(execFile)

async function ip(...args: string[]): Promise<void> {
  await run('ip', args)
}

/**
 * A small Linux network made of namespaces: node i lives in its own namespace with one veth
 * interface (10.213.0.i/24) whose other end sits on a bridge in the root namespace. A cut moves
 * the veth ends of one group to a second bridge: the two groups then cannot exchange a single
 * packet (nothing is refused, packets simply go nowhere, as on a real broken link), while
 * each group still works inside. Healing moves them back. Needs root (CAP_NET_ADMIN).
 */
export class Netns {
  readonly #prefix: string
  #created = false

  constructor(readonly size: number) {
    // Interface names are limited to 15 bytes: a short per-run prefix keeps parallel runs apart.
    this.#prefix = `cf${(process.pid % 10_000).toString(36)}`
  }

  /** Why namespaces cannot be used here, or undefined when they can. */
  static async unavailable(): Promise<string | undefined> {
    if (process.platform !== 'linux') return `network namespaces need Linux (this is ${process.platform})`
    const probe = `cfprobe${process.pid % 10_000}`
    try {
      await ip('netns', 'add', probe)
    } catch (err) {
      return `\`ip netns add\` is not permitted here (${String((err as { stderr?: string }).stderr ?? err).trim()}); run as root with CAP_NET_ADMIN`
    }
    try {
      await ip('link', 'add', `${probe}b`, 'type', 'bridge')
      await ip('link', 'del', `${probe}b`)
    } catch (err) {
      return `bridges cannot be created here (${String((err as { stderr?: string }).stderr ?? err).trim()})`
    } finally {
      await ip('netns', 'del', probe).catch(() => {})
    }
    return undefined
  }

  name(i: number): string {
    return `${this.#prefix}n${i}`
  }

  address(i: number): string {
    return `10.213.0.${i}`
  }

  #bridge(side: 0 | 1): string {
    return `${this.#prefix}b${side}`
  }

  #veth(i: number): string {
    return `${this.#prefix}v${i}`
  }

  async create(): Promise<void> {
    this.#created = true
    for (const side of [0, 1] as const) {
      await ip('link', 'add', this.#bridge(side), 'type', 'bridge')
      await ip('link', 'set', this.#bridge(side), 'up')
    }
    for (let i = 1; i <= this.size; i++) {
      const ns = this.name(i)
      await ip('netns', 'add', ns)
      await ip('link', 'add', this.#veth(i), 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns)
      await ip('link', 'set', this.#veth(i), 'master', this.#bridge(0), 'up')
      await ip('-n', ns, 'addr', 'add', `${this.address(i)}/24`, 'dev', 'eth0')
      await ip('-n', ns, 'link', 'set', 'eth0', 'up')
      await ip('-n', ns, 'link', 'set', 'lo', 'up')
    }
  }

  /** Cuts `group` off from the other nodes. */
  async cut(group: number[]): Promise<void> {
    for (const i of group) await ip('link', 'set', this.#veth(i), 'master', this.#bridge(1))
  }

  /** Joins every node on one bridge again. */
  async heal(): Promise<void> {
    for (let i = 1; i <= this.size; i++) await ip('link', 'set', this.#veth(i), 'master', this.#bridge(0))
  }

  /** Removes the namespaces (their veth pairs go with them) and the bridges. */
  async destroy(): Promise<void> {
    if (!this.#created) return
    for (let i = 1; i <= this.size; i++) await ip('netns', 'del', this.name(i)).catch(() => {})
    for (const side of [0, 1] as const) await ip('link', 'del', this.#bridge(side)).catch(() => {})
  }
}
