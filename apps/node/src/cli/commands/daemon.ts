import { InvalidArgumentError, type Command } from 'commander'
import { parseHostPort } from '../../address.js'
import { LOG_LEVELS, type ConfigOverrides, type LogLevel } from '../../config.js'
import type { Daemon } from '../../daemon.js'
import { parseSize } from '../../size.js'
import type { CommandContext } from '../context.js'
import type { CliIo } from '../io.js'

interface DaemonFlags {
  listen?: string[]
  api?: string
  bootstrap?: string[]
  replicas?: number
  capacity?: number
  logLevel?: LogLevel
}

/** `cas daemon`. */
export function registerDaemonCommand(program: Command, ctx: CommandContext): void {
  program
    .command('daemon')
    .description('run the node: join the network, store blobs, serve the HTTP API and web UI')
    .option('--listen <host:port,...>', 'peer-to-peer listen address(es), also told to peers (default 127.0.0.1:7400)', addressList)
    .option('--api <host:port>', 'HTTP API and web UI address (default 127.0.0.1:7401)', hostPort)
    .option('--bootstrap <addr,...>', 'peers to join the network through', list)
    .option('--replicas <n>', 'live copies kept of every blob', positiveInt)
    .option('--capacity <size>', 'disk space offered to the network, e.g. 10GB', size)
    .option('--log-level <level>', `log level: ${LOG_LEVELS.join(', ')}`, logLevel)
    .action(async (flags: DaemonFlags, command: Command) => {
      const overrides: ConfigOverrides = {
        listen: flags.listen,
        api: flags.api,
        bootstrap: flags.bootstrap,
        replicas: flags.replicas,
        capacity: flags.capacity,
        logLevel: flags.logLevel,
      }
      // Loaded on demand: commands that only talk to a daemon start faster without the server stack.
      const { startDaemon } = await import('../../daemon.js')
      const daemon = await startDaemon({ root: ctx.paths(command).root, createNode: ctx.createNode, overrides })
      printReady(ctx, daemon)
      if (ctx.io.ownsProcess) await stopOnSignal(daemon, ctx.io)
    })
}

function printReady(ctx: CommandContext, daemon: Daemon): void {
  const web = ctx.io.stdout.isTTY === true ? `${daemon.apiUrl}/?token=${daemon.token}` : `${daemon.apiUrl}/ (token in ${daemon.paths.apiToken})`
  ctx.print(`node id   ${daemon.id}`)
  ctx.print(`root      ${daemon.paths.root}`)
  for (const address of daemon.addresses) ctx.print(`p2p       ${address}`)
  ctx.print(`api       ${daemon.apiUrl}`)
  ctx.print(`web ui    ${web}`)
  ctx.print('daemon is ready')
}

/** Waits for SIGINT/SIGTERM, then stops the daemon gracefully; a second signal forces the exit. */
export function stopOnSignal(daemon: { stop(): Promise<void>; logger: { info(msg: string): void } }, io: CliIo): Promise<void> {
  return new Promise((resolve, reject) => {
    let stopping = false
    const onSignal = (signal: NodeJS.Signals): void => {
      if (stopping) {
        io.stderr.write('cas: second signal: exiting now\n')
        process.exit(1)
      }
      stopping = true
      daemon.logger.info(`received ${signal}: shutting down (send it again to force)`)
      daemon.stop().then(
        () => {
          process.off('SIGINT', onSignal)
          process.off('SIGTERM', onSignal)
          resolve()
        },
        reject,
      )
    }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
  })
}

function hostPort(value: string): string {
  if (parseHostPort(value) === undefined) throw new InvalidArgumentError('expected HOST:PORT, e.g. 127.0.0.1:7401')
  return value
}

function list(value: string): string[] {
  return value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '')
}

function addressList(value: string): string[] {
  const addresses = list(value)
  if (addresses.length === 0) throw new InvalidArgumentError('expected HOST:PORT[,HOST:PORT…]')
  return addresses.map(hostPort)
}

function positiveInt(value: string): number {
  const n = Number(value)
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number ≥ 1')
  return n
}

function size(value: string): number {
  const bytes = parseSize(value)
  if (bytes === undefined) throw new InvalidArgumentError('expected a size such as 10GB, 512MiB or a number of bytes')
  return bytes
}

/** Parses a `--log-level` value; Commander turns the error into a usage error (exit 2). */
export function logLevel(value: string): LogLevel {
  if (!(LOG_LEVELS as readonly string[]).includes(value)) throw new InvalidArgumentError(`expected one of ${LOG_LEVELS.join(', ')}`)
  return value as LogLevel
}
