import type { Command } from 'commander'
import { initRoot } from '../../init.js'
import { newNetworkKeyHex, readNetworkKeyInput } from '../../keys.js'
import type { CommandContext } from '../context.js'

/** `cas init` and `cas network-key`. */
export function registerSetupCommands(program: Command, ctx: CommandContext): void {
  program
    .command('init')
    .description('create the node keys and config in the root directory (idempotent)')
    .option('--network-key <file>', 'join the network of this key (as printed by `cas network-key`); default: a new network')
    .action(async (options: { networkKey?: string }, command: Command) => {
      const paths = ctx.paths(command)
      const networkKey = options.networkKey === undefined ? undefined : await readNetworkKeyInput(options.networkKey)
      const result = await initRoot(paths.root, networkKey === undefined ? {} : { networkKey })
      if (ctx.json(command)) {
        ctx.printJson(result)
        return
      }
      if (result.created.length === 0) {
        ctx.print(`${result.root} is already initialized`)
      } else {
        ctx.print(`initialized ${result.root} (created ${result.created.join(', ')})`)
      }
      ctx.print(`node id ${result.id}`)
      if (result.created.includes('network.key') && networkKey === undefined) {
        ctx.print(`new network: to add nodes, copy ${paths.networkKey} and run \`cas init --network-key FILE\` with it`)
      }
    })

  program
    .command('network-key')
    .description('print a new network key (64 hex characters) for `cas init --network-key`')
    .action((_options: unknown, command: Command) => {
      const key = newNetworkKeyHex()
      if (ctx.json(command)) ctx.printJson({ networkKey: key })
      else ctx.print(key)
    })
}
