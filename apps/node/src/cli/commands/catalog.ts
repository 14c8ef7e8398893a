import type { Command } from 'commander'
import { formatSize } from '../../size.js'
import { parseRef } from '../arguments.js'
import type { CommandContext } from '../context.js'
import { ago, shortId, table, usage } from '../format.js'

/** `cas ls`, `rm`, `share`, `peers`, `status`: short requests to the daemon. */
export function registerCatalogCommands(program: Command, ctx: CommandContext): void {
  program
    .command('ls')
    .description("list this node's files")
    .action(async (_options: unknown, command: Command) => {
      const files = await (await ctx.client(command)).list()
      if (ctx.json(command)) return ctx.printJson(files)
      if (files.length === 0) return ctx.print('no files yet; store one with `cas put FILE`')
      ctx.print(
        table(
          ['NAME', 'ADDRESS', 'SIZE', 'COPIES', 'CREATED'],
          files.map((f) => [f.name === null || f.name === '' ? '-' : f.name, f.address, formatSize(f.size), String(f.replicas), f.createdAt]),
        ),
      )
    })

  program
    .command('rm')
    .description('delete a file: unpin its blobs on every holder')
    .argument('<ref>', 'address or name', parseRef)
    .action(async (ref: string, _options: unknown, command: Command) => {
      await (await ctx.client(command)).remove(ref)
      if (ctx.json(command)) ctx.printJson({ removed: ref })
      else ctx.print(`removed ${ref}`)
    })

  program
    .command('share')
    .description('print the capability (cas1:…) that lets any node of the network fetch and decrypt a file')
    .argument('<ref>', 'address or name', parseRef)
    .action(async (ref: string, _options: unknown, command: Command) => {
      const capability = await (await ctx.client(command)).share(ref)
      if (ctx.json(command)) ctx.printJson({ capability })
      else ctx.print(capability)
    })

  program
    .command('peers')
    .description("show the node's view of the network")
    .action(async (_options: unknown, command: Command) => {
      const client = await ctx.client(command)
      const peers = await client.peers()
      if (ctx.json(command)) return ctx.printJson(peers)
      if (peers.length === 0) {
        const { bootstrap } = await client.status()
        if (bootstrap.length === 0) return ctx.print('no peers known; start the daemon with --bootstrap ADDR to join a network')
        // Started with --bootstrap, yet alone: say what its dials found.
        const lines = bootstrap.map((b) => `  ${b.address}: ${b.error ?? 'not reached yet'}`)
        return ctx.print(['no peers yet; the daemon keeps dialling its bootstrap peers:', ...lines].join('\n'))
      }
      ctx.print(
        table(
          ['ID', 'STATE', 'LAST SEEN', 'STORAGE', 'ADDRESSES'],
          peers.map((p) => [shortId(p.id), p.state, ago(p.lastSeen), usage(p.used, p.capacity), p.addresses.join(',')]),
        ),
      )
    })

  program
    .command('status')
    .description('show the node: id, addresses, peers, storage, replication')
    .action(async (_options: unknown, command: Command) => {
      const client = await ctx.client(command)
      const status = await client.status()
      if (ctx.json(command)) return ctx.printJson(status)
      ctx.print(
        table(
          ['node', status.id],
          [
            ['api', client.url],
            ['p2p', status.addresses.join(', ')],
            ['peers', String(status.peers)],
            ['blobs', String(status.blobs)],
            ['storage', usage(status.bytes, status.capacity)],
            ['replicas', `${status.replicas} per blob, ${status.underReplicated} under-replicated`],
            ['version', status.version],
          ],
        ),
      )
    })
}
