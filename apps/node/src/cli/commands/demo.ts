import { InvalidArgumentError, type Command } from 'commander'
import { basename } from 'node:path'
import { LOG_LEVELS, type LogLevel } from '../../config.js'
import { DEMO_NODES } from '../../constants.js'
import type { Demo } from '../../demo.js'
import type { CommandContext } from '../context.js'
import { logLevel, stopOnSignal } from './daemon.js'

/** `cas demo`. */
export function registerDemoCommand(program: Command, ctx: CommandContext): void {
  program
    .command('demo')
    .description('run a local network of several nodes on 127.0.0.1, with its web UI, for a first look')
    .option('--nodes <n>', `number of nodes (2-16)`, nodeCount, DEMO_NODES)
    .option('--log-level <level>', `log level: ${LOG_LEVELS.join(', ')}`, logLevel, 'warn' as LogLevel)
    .action(async (options: { nodes: number; logLevel: LogLevel }, command: Command) => {
      // Loaded on demand, like the daemon.
      const { startDemo } = await import('../../demo.js')
      const { createLogger } = await import('../../logger.js')
      const logger = createLogger({ level: options.logLevel })
      ctx.note(`starting ${options.nodes} nodes…`)
      const demo = await startDemo({ createNode: ctx.createNode, logger, nodes: options.nodes, logLevel: options.logLevel })
      if (ctx.json(command)) printJson(ctx, demo)
      else printWalkthrough(ctx, demo)
      if (ctx.io.ownsProcess) {
        await stopOnSignal({ stop: () => demo.stop(), logger: { info: (msg) => ctx.note(msg) } }, ctx.io)
        ctx.note('demo stopped; its folder is removed')
      }
    })
}

function nodeCount(value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 2 || n > 16) throw new InvalidArgumentError('expected a number from 2 to 16')
  return n
}

function printJson(ctx: CommandContext, demo: Demo): void {
  ctx.printJson({
    dir: demo.dir,
    joined: demo.joined,
    nodes: demo.daemons.map((d) => ({ id: d.id, root: d.paths.root, api: d.apiUrl, web: `${d.apiUrl}/?token=${d.token}`, addresses: d.addresses })),
  })
}

function printWalkthrough(ctx: CommandContext, demo: Demo): void {
  const cas = casCommand(ctx.io.script)
  const root = (i: number): string => shellWord(demo.daemons[i - 1]?.paths.root ?? '')
  const last = demo.daemons.length
  ctx.print(`CAS demo: ${demo.daemons.length} nodes on 127.0.0.1, one network, files in ${demo.dir}`)
  ctx.print()
  demo.daemons.forEach((daemon, i) => {
    ctx.print(`  node ${i + 1}  ${daemon.apiUrl}/?token=${daemon.token}`)
    ctx.print(`          p2p ${daemon.addresses.join(', ')}  id ${daemon.id.slice(0, 16)}…`)
  })
  if (!demo.joined) ctx.note('warning: the nodes have not all seen each other yet; give them a few seconds')
  ctx.print()
  ctx.print('Open a node URL above in a browser (the web UI), or try the CLI in another terminal:')
  ctx.print()
  const steps: [string, string][] = [
    ['echo "hello, CAS" > hello.txt', ''],
    [`${cas} --root ${root(1)} put hello.txt`, 'store it on node 1; prints its address'],
    [`${cas} --root ${root(1)} ls`, "node 1's files"],
    [`${cas} --root ${root(1)} share hello.txt`, 'prints a cas1:… capability'],
    [`${cas} --root ${root(Math.min(3, last))} get CAPABILITY -o copy.txt`, 'fetch it on another node'],
    [`${cas} --root ${root(2)} peers`, 'the network as node 2 sees it'],
    [`${cas} --root ${root(last)} status`, ''],
  ]
  const width = Math.max(...steps.map(([command]) => command.length))
  for (const [command, comment] of steps) ctx.print(`  ${comment === '' ? command : `${command.padEnd(width)}  # ${comment}`}`)
  ctx.print()
  ctx.print('Press Ctrl-C to stop the demo; its folder is removed.')
}

/**
 * The command that runs this CLI again from any folder, for commands printed to be copied: `cas` when
 * it was started as the installed `cas`, else node and the script's path. From the repository
 * (`pnpm start`, `node apps/node/dist/cli.js`) `cas` is not on the PATH, and `pnpm cas` works only
 * in the repository's root folder.
 */
export function casCommand(script: string | undefined): string {
  if (script === undefined || basename(script) === 'cas') return 'cas'
  return `node ${shellWord(script)}`
}

/** Quotes a word for a POSIX shell when it needs it (a path with spaces). */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`
}
